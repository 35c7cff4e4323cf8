"""Adding and testing webhook endpoints: one way for the API and the Webhooks page."""

from __future__ import annotations

import json
import secrets

from ..extensions import db
from ..models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from . import signing, urls
from .events import DELIVERIES_WAITING

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
    now = utcnow()
    event = WebhookEvent(
        id=f"msg_{secrets.token_urlsafe(18)}",
        tenant_id=endpoint.tenant_id,
        type=TEST_EVENT,
        invoice_number="",
        payload=json.dumps(
            {
                "type": TEST_EVENT,
                "timestamp": now.isoformat(),
                "data": {"message": "A test event from the Invoice Manager."},
            },
            separators=(",", ":"),
        ),
    )
    delivery = WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
    db.session.add_all([event, delivery])
    db.session.info[DELIVERIES_WAITING] = True
    db.session.commit()
    return delivery
