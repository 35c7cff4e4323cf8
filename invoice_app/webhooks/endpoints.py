"""Adding and testing webhook endpoints: one way for the API and the Webhooks page."""

from __future__ import annotations

from ..extensions import db
from ..models import WebhookDelivery, WebhookEndpoint
from . import signing, urls
from .events import deliver_to, new_event

TEST_EVENT = "webhook.test"


def add(tenant_id: int, url: str, event_types, description: str) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (urls.UnsafeUrl when url may not be one)."""
    endpoint = WebhookEndpoint(
        tenant_id=tenant_id,
        url=urls.check(url.strip()),
        description=description.strip(),
        event_types=sorted(set(event_types)),
        secret=signing.new_secret(),
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def send_test(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `webhook.test` event to this endpoint alone, signed like any other."""
    event = new_event(
        endpoint.tenant_id,
        TEST_EVENT,
        {"message": "A test event from the Invoice Manager."},
    )
    (delivery,) = deliver_to(event, [endpoint])
    db.session.commit()
    return delivery
