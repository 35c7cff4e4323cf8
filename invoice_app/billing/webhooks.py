"""Billing › Webhooks: endpoints, each secret shown once, and the delivery log."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import select

from .. import tenancy
from ..auth.roles import admin_required
from ..extensions import db
from ..models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from ..webhooks import delivery as deliveries
from ..webhooks import endpoints, urls
from . import bp
from .forms import VersionForm, WebhookEndpointForm

LOG_SIZE = 50


def _page(form: WebhookEndpointForm, new_endpoint=None, status: int = 200):
    log = db.session.scalars(
        select(WebhookDelivery)
        .join(WebhookEvent, WebhookDelivery.event_id == WebhookEvent.id)
        .join(WebhookEndpoint, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .order_by(WebhookEvent.created_at.desc(), WebhookDelivery.id.desc())
        .limit(LOG_SIZE)
    ).all()
    return (
        render_template(
            "billing/webhooks.html",
            form=form,
            endpoints=db.session.scalars(
                select(WebhookEndpoint).order_by(WebhookEndpoint.id)
            ).all(),
            log=log,
            new_endpoint=new_endpoint,
            # Row buttons post nothing but the CSRF token.
            button_form=VersionForm(),
        ),
        status,
    )


@bp.get("/webhooks")
@admin_required
def webhooks():
    return _page(WebhookEndpointForm())


@bp.post("/webhooks")
@admin_required
def add_webhook():
    """Add an endpoint; its secret is shown on the answer, this once."""
    form = WebhookEndpointForm()
    if form.validate_on_submit():
        try:
            endpoint = endpoints.add(
                tenancy.current().tenant_id,
                form.url.data,
                form.event_types.data,
                form.description.data or "",
            )
        except urls.UnsafeUrl as unsafe:
            form.url.errors.append(str(unsafe))
        else:
            return _page(WebhookEndpointForm(formdata=None), new_endpoint=endpoint)
    return _page(form, status=400)


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404, f"There is no webhook endpoint {endpoint_id}.")
    return endpoint


@bp.post("/webhooks/<int:endpoint_id>/test")
@admin_required
def test_webhook(endpoint_id: int):
    """Queue a test event to one endpoint; the log shows how it went."""
    endpoint = _endpoint_or_404(endpoint_id)
    endpoints.send_test(endpoint)
    flash(f"A test event is on its way to {endpoint.url}.")
    return redirect(url_for("billing.webhooks"))


@bp.post("/webhooks/<int:endpoint_id>/delete")
@admin_required
def delete_webhook(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    db.session.delete(endpoint)
    db.session.commit()
    flash(f"Webhook endpoint {endpoint.url} removed; nothing more is sent to it.")
    return redirect(url_for("billing.webhooks"))


@bp.post("/webhooks/deliveries/<int:delivery_id>/redeliver")
@admin_required
def redeliver_webhook(delivery_id: int):
    """Send a delivery again, with the same webhook-id, whatever became of it."""
    found = db.session.get(WebhookDelivery, delivery_id)
    # A delivery is the tenant's through its endpoint (confined by tenancy).
    if found is None or _owned(found) is None:
        abort(404, f"There is no webhook delivery {delivery_id}.")
    deliveries.redeliver(found)
    flash(f"Delivery of {found.event.type} to {found.endpoint.url} queued again.")
    return redirect(url_for("billing.webhooks"))


def _owned(found: WebhookDelivery) -> WebhookEndpoint | None:
    return db.session.get(WebhookEndpoint, found.endpoint_id)
