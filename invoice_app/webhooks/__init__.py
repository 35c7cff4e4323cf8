"""Webhooks: the portal hears about its invoices' changes, as Standard Webhooks says.

- events.py: which changes make which events, written to an outbox in the
  change's own transaction;
- signing.py: secrets and the webhook-signature header;
- urls.py: which endpoint addresses may be called (no server-side request
  forgery);
- delivery.py: sending, retrying with backoff, giving up.
"""
