"""GET/POST/DELETE /api/webhook-endpoints: where the tenant's portal hears of changes.

Billing admins only. A new endpoint's URL must be one a webhook may go to
(webhooks/urls.py: https, public addresses); its signing secret is answered
once, at creation, and never again.
"""

from __future__ import annotations

from flask import abort, url_for
from sqlalchemy import select

from .. import tenancy
from ..auth.roles import admin_required
from ..extensions import db
from ..models import WebhookEndpoint
from ..webhooks import endpoints, urls
from . import bodies, bp, schemas
from .contract import declare
from .views import json_answer

NOT_SAVED = "The webhook endpoint was not saved"


def _out(endpoint: WebhookEndpoint, model=schemas.WebhookEndpoint, **extra):
    return model(
        id=endpoint.id,
        url=endpoint.url,
        event_types=endpoint.event_types,
        description=endpoint.description,
        created_at=endpoint.created_at,
        **extra,
    )


@bp.get("/webhook-endpoints")
@declare(ok=schemas.WebhookEndpointList, errors=(403,), tags=("webhooks",))
@admin_required
def webhook_endpoints():
    """The tenant's webhook endpoints (without their secrets)."""
    found = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return json_answer(schemas.WebhookEndpointList(items=[_out(e) for e in found]))


@bp.post("/webhook-endpoints")
@declare(
    ok=schemas.NewWebhookEndpointAnswer,
    ok_status=201,
    json=schemas.NewWebhookEndpoint,
    errors=(403, 413, 415, 422),
    tags=("webhooks",),
)
@admin_required
def create_webhook_endpoint():
    """Add an endpoint; the answer holds its signing secret, shown only this once."""
    new = bodies.model_of(schemas.NewWebhookEndpoint, bodies.raw_body(), NOT_SAVED)
    try:
        endpoint = endpoints.add(
            tenancy.current().tenant_id, new.url, new.event_types, new.description
        )
    except urls.UnsafeUrl as unsafe:
        raise bodies.InvalidBody({"url": [str(unsafe)]}, NOT_SAVED) from None
    answer = json_answer(
        _out(endpoint, schemas.NewWebhookEndpointAnswer, secret=endpoint.secret), 201
    )
    answer.headers["Location"] = url_for("api.webhook_endpoints") + f"/{endpoint.id}"
    return answer


@bp.delete("/webhook-endpoints/<int:endpoint_id>")
@declare(ok=None, ok_status=204, errors=(403, 404), tags=("webhooks",))
@admin_required
def delete_webhook_endpoint(endpoint_id: int):
    """Remove an endpoint; nothing more is sent to it."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404, f"There is no webhook endpoint {endpoint_id}.")
    db.session.delete(endpoint)
    db.session.commit()
    return "", 204
