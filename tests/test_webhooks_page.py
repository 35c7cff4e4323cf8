"""Billing › Webhooks through HTTP, as a billing admin uses it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from invoice_app.extensions import db
from invoice_app.models import Tenant, WebhookDelivery, WebhookEndpoint
from tests.conftest import csrf_token
from tests.test_webhooks import receiver  # noqa: F401


@pytest.fixture
def app(app_factory):
    app = app_factory(WEBHOOK_ALLOW_PRIVATE=True)
    with app.app_context():
        yield app


def add(admin, url, events=("invoice.paid",)):
    page = admin.get("/billing/webhooks").get_data(as_text=True)
    return admin.post(
        "/billing/webhooks",
        data={"csrf_token": csrf_token(page), "url": url, "event_types": list(events)},
    )


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(admin, receiver):  # noqa: F811
    response = add(admin, receiver.url, ["invoice.paid", "invoice.overdue"])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    (secret,) = re.findall(r"whsec_[A-Za-z0-9+/=]+", html)
    assert "shown only this once" in html
    again = admin.get("/billing/webhooks").get_data(as_text=True)
    assert secret not in again and receiver.url in again
    assert "invoice.overdue, invoice.paid" in again


def test_a_bad_url_is_refused_next_to_its_field(app_factory, auth):
    strict = app_factory()
    with strict.app_context():
        client = strict.test_client()
        from tests.conftest import Auth

        Auth(client).login("admin")
        response = add(client, "https://127.0.0.1/hooks")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "private, loopback or link-local" in html
        assert db.session.scalar(select(WebhookEndpoint)) is None
        none_chosen = add(client, "https://hooks.example.com/x", events=())
        assert "Choose at least one event." in none_chosen.get_data(as_text=True)


def test_send_a_test_event_then_redeliver_it(admin, receiver):  # noqa: F811
    from invoice_app.webhooks import delivery

    add(admin, receiver.url)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    page = admin.get("/billing/webhooks").get_data(as_text=True)
    response = admin.post(
        f"/billing/webhooks/{endpoint.id}/test", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    assert delivery.deliver_due() == 1
    log = admin.get("/billing/webhooks").get_data(as_text=True)
    assert "webhook.test" in log and "succeeded" in log
    sent = db.session.scalar(select(WebhookDelivery))
    admin.post(
        f"/billing/webhooks/deliveries/{sent.id}/redeliver",
        data={"csrf_token": csrf_token(log)},
    )
    assert delivery.deliver_due() == 1
    first, second = receiver.received
    assert first[0]["webhook-id"] == second[0]["webhook-id"]


def test_staff_cannot_open_the_page(client, auth):
    auth.login("staff")
    assert client.get("/billing/webhooks").status_code == 403


def test_another_tenants_endpoint_and_deliveries_answer_404(admin, app):
    other = Tenant(slug="other", name="Other")
    db.session.add(other)
    db.session.commit()
    from invoice_app.webhooks import endpoints

    theirs = endpoints.add(
        other.id, "https://hooks.other.example/x", ["invoice.paid"], ""
    )
    delivery = endpoints.send_test(theirs)
    page = admin.get("/billing/webhooks").get_data(as_text=True)
    assert "hooks.other.example" not in page
    token = {"csrf_token": csrf_token(page)}
    for path in (
        f"/billing/webhooks/{theirs.id}/test",
        f"/billing/webhooks/{theirs.id}/delete",
        f"/billing/webhooks/deliveries/{delivery.id}/redeliver",
    ):
        assert admin.post(path, data=token).status_code == 404, path
    assert db.session.get(WebhookEndpoint, theirs.id) is not None
