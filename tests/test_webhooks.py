"""Webhooks as a portal receives them: a receiver on loopback, checked with the
`standardwebhooks` package (the Standard Webhooks reference), not with our code.

Endpoints are made through the API; changes through the API too; deliveries
are attempted by webhooks.delivery as the worker runs it.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from invoice_app import audit
from invoice_app.extensions import db
from invoice_app.models import Role, Tenant, WebhookDelivery, WebhookEvent
from invoice_app.webhooks import delivery, events
from tests.conftest import TODAY
from tests.test_api_create import token_for
from tests.test_tenant_scoping import build


@pytest.fixture
def app(app_factory):
    app = app_factory(WEBHOOK_ALLOW_PRIVATE=True)
    with app.app_context():
        yield app


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def receiver():
    """A portal's endpoint on 127.0.0.1: records each request, answers in turn
    the statuses queued in .answers (200 when none is left)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            server.received.append((dict(self.headers), body))
            status = server.answers.pop(0) if server.answers else 200
            self.send_response(status)
            if status in (301, 302):
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.received, server.answers = [], []
    server.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def portal_api(app, client, runner):
    token = token_for(runner, "engine@example.test", Role.ADMIN.value, "write")

    def send(method, path, body=None, headers=None):
        headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return client.open(
            path,
            method=method,
            data=None if body is None else json.dumps(body),
            headers=headers,
        )

    return send


@pytest.fixture
def endpoint(portal_api, receiver):
    response = portal_api(
        "POST",
        "/api/webhook-endpoints",
        {"url": receiver.url, "event_types": ["invoice.issued", "invoice.paid"]},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def draft(make_invoice):
    return make_invoice(
        number="INV-HOOK", status="DRAFT", issue_date=None,
        due_date=TODAY.date() + timedelta(days=30),
    )  # fmt: skip


def verified(endpoint, received) -> dict:
    """The payload, after the reference library checked its signature."""
    headers, body = received
    lower = {k.lower(): v for k, v in headers.items()}
    return Webhook(endpoint["secret"]).verify(body, lower)


def test_a_new_endpoint_answers_its_secret_once(portal_api, endpoint):
    assert endpoint["secret"].startswith("whsec_")
    listed = portal_api("GET", "/api/webhook-endpoints").get_json()["items"]
    assert [e["url"] for e in listed] == [endpoint["url"]]
    assert "secret" not in listed[0]


def test_an_issued_invoice_is_delivered_signed(portal_api, endpoint, receiver, draft):
    response = portal_api(
        "POST", "/api/invoices/INV-HOOK/issue", headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert receiver.received == []  # nothing is sent inside the request
    assert delivery.deliver_due() == 1
    (received,) = receiver.received
    payload = verified(endpoint, received)
    assert payload["type"] == "invoice.issued"
    assert payload["data"]["number"] == "INV-HOOK"
    assert payload["data"]["status"] == "DUE"
    assert received[0]["webhook-id"].startswith("msg_")
    db.session.commit()
    (sent,) = db.session.scalars(select(WebhookDelivery)).all()
    assert (sent.state, sent.attempts, sent.last_status) == ("succeeded", 1, 200)


def test_a_failed_delivery_is_retried_with_the_same_id(
    portal_api, endpoint, receiver, draft, frozen
):
    receiver.answers = [500, 302]
    portal_api("POST", "/api/invoices/INV-HOOK/issue", headers={"If-Match": '"1"'})
    assert delivery.deliver_due() == 1
    db.session.commit()
    pending = db.session.scalars(select(WebhookDelivery)).one()
    assert (pending.state, pending.attempts, pending.last_error) == (
        "pending",
        1,
        "answered 500",
    )
    # Within 10 seconds, the first retry; a redirect is not followed.
    frozen.shift(timedelta(seconds=6))
    assert delivery.deliver_due() == 1
    frozen.shift(timedelta(minutes=6))
    assert delivery.deliver_due() == 1
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert len(receiver.received) == 3 and len(ids) == 1
    db.session.expire_all()
    done = db.session.scalars(select(WebhookDelivery)).one()
    assert (done.state, done.attempts) == ("succeeded", 3)


def test_a_delivery_gives_up_after_about_three_days(
    portal_api, endpoint, receiver, draft, frozen
):
    receiver.answers = [503] * 20
    portal_api("POST", "/api/invoices/INV-HOOK/issue", headers={"If-Match": '"1"'})
    tries = 0
    while delivery.deliver_due():
        tries += 1
        db.session.expire_all()
        waiting = db.session.scalars(select(WebhookDelivery)).one()
        if waiting.state == "pending":
            # Not due a moment before its time; due at it.
            frozen.move_to(waiting.next_attempt_at - timedelta(seconds=1))
            assert delivery.due() == []
            frozen.move_to(waiting.next_attempt_at)
    gave_up = db.session.scalars(select(WebhookDelivery)).one()
    assert (gave_up.state, gave_up.attempts) == (
        "failed",
        len(delivery.RETRY_AFTER) + 1,
    )
    assert tries == gave_up.attempts == len(receiver.received)
    span = sum(delivery.RETRY_AFTER, timedelta())
    assert timedelta(days=2.5) < span < timedelta(days=3.5)
    assert delivery.RETRY_AFTER[0] <= timedelta(seconds=10)


def test_a_rolled_back_change_sends_nothing(app, endpoint, receiver, draft):
    audit.record(
        draft.id, draft.number, "someone", "issue", {"status": ["DRAFT", "DUE"]},
        tenant_id=draft.tenant_id,
    )  # fmt: skip
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    assert delivery.deliver_due() == 0 and receiver.received == []


def test_a_payment_that_clears_sends_payment_recorded_and_paid(
    portal_api, endpoint, receiver, make_invoice
):
    make_invoice(number="INV-PAY", due_date=TODAY.date() + timedelta(days=10))
    portal_api(
        "POST",
        "/api/invoices/INV-PAY/payments",
        {"amount": "15.00", "received_on": "2025-07-14"},
        headers={"If-Match": '"1"'},
    )
    db.session.commit()
    # The endpoint asked for invoice.paid (and issued), not payment_recorded:
    # an event nobody asked for is not even written.
    types = db.session.scalars(select(WebhookEvent.type))
    assert list(types) == ["invoice.paid"]
    assert delivery.deliver_due() == 1
    assert verified(endpoint, receiver.received[0])["type"] == "invoice.paid"
    # Asked for, both come: two events of one change.
    portal_api(
        "POST",
        "/api/webhook-endpoints",
        {"url": receiver.url, "event_types": ["invoice.payment_recorded"]},
    )
    make_invoice(number="INV-PAY-2", due_date=TODAY.date() + timedelta(days=10))
    portal_api(
        "POST",
        "/api/invoices/INV-PAY-2/payments",
        {"amount": "15.00", "received_on": "2025-07-14"},
        headers={"If-Match": '"1"'},
    )
    db.session.commit()
    types = db.session.scalars(
        select(WebhookEvent.type).where(WebhookEvent.invoice_number == "INV-PAY-2")
    )
    assert sorted(types) == ["invoice.paid", "invoice.payment_recorded"]
    assert delivery.deliver_due() == 2


def test_overdue_is_sent_once_across_two_scans(app, portal_api, receiver, make_invoice):
    portal_api(
        "POST",
        "/api/webhook-endpoints",
        {"url": receiver.url, "event_types": ["invoice.overdue"]},
    )
    make_invoice(number="INV-LATE", due_date=TODAY.date() - timedelta(days=3))
    make_invoice(number="INV-ONTIME", due_date=TODAY.date() + timedelta(days=3))
    events.SCAN_BATCH, batch = 1, events.SCAN_BATCH  # batches of one: two of them
    make_invoice(number="INV-LATER", due_date=TODAY.date() - timedelta(days=1))
    try:
        assert events.scan_overdue(TODAY.date()) == ["INV-LATE", "INV-LATER"]
    finally:
        events.SCAN_BATCH = batch
    assert events.scan_overdue(TODAY.date()) == []
    assert delivery.deliver_due() == 2
    assert delivery.deliver_due() == 0
    late = [json.loads(body)["data"] for _, body in receiver.received]
    assert {d["number"] for d in late} == {"INV-LATE", "INV-LATER"}
    assert {d["status"] for d in late} == {"OVER_DUE"}


def test_no_scan_without_an_endpoint_that_wants_overdue(app, make_invoice):
    make_invoice(number="INV-LATE", due_date=TODAY.date() - timedelta(days=3))
    assert events.scan_overdue(TODAY.date()) == []
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/x", "must start with https://"),
        ("https://127.0.0.1/x", "private, loopback or link-local"),
        ("https://[::1]/x", "private, loopback or link-local"),
        ("https://169.254.169.254/latest/meta-data", "private, loopback or link-local"),
        ("https://10.1.2.3/x", "private, loopback or link-local"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("ftp://hooks.example.com/x", "must start with https://"),
    ],
)
def test_endpoints_on_private_addresses_are_refused(app_factory, runner, url, message):
    strict = app_factory()  # WEBHOOK_ALLOW_PRIVATE off, as in production
    with strict.app_context():
        token = token_for(
            strict.test_cli_runner(), "admin@strict.example", Role.ADMIN.value, "write"
        )
        response = strict.test_client().post(
            "/api/webhook-endpoints",
            data=json.dumps({"url": url, "event_types": ["invoice.paid"]}),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            },
        )
    assert response.status_code == 422
    (error,) = response.get_json()["errors"]
    assert error["field"] == "url" and message in error["message"]


def test_another_tenants_endpoints_are_neither_listed_nor_sent_to(
    portal_api, endpoint, receiver, app
):
    other = Tenant(slug="other", name="Other")
    db.session.add(other)
    db.session.commit()
    invoice = build(other, "Them", "them@other.example", number="INV-THEIRS")
    events.emit(invoice, "invoice.paid")
    db.session.commit()
    assert delivery.deliver_due() == 0  # our endpoint hears nothing of theirs
    assert portal_api("DELETE", "/api/webhook-endpoints/999").status_code == 404
    assert (
        portal_api("DELETE", f"/api/webhook-endpoints/{endpoint['id']}").status_code
        == 204
    )
    assert portal_api("GET", "/api/webhook-endpoints").get_json()["items"] == []


# --- through a real worker process ---------------------------------------------


def test_a_worker_delivers_as_soon_as_the_change_commits_and_retries_on_time(
    app_factory, database_url, tmp_path, receiver
):
    """`flask jobs worker` as deployed: the commit queues the delivery, a 500 is
    retried, with the same webhook-id, by a task scheduled for 5 s later."""
    from tests.jobs_worker import WorkerProcess, queue_settings, wait_for

    settings = {**queue_settings(tmp_path), "WEBHOOK_ALLOW_PRIVATE": True}
    app = app_factory(**settings)
    client = app.test_client()
    receiver.answers = [500]
    with app.app_context():
        token = token_for(
            app.test_cli_runner(), "engine@example.test", Role.ADMIN.value, "write"
        )
        auth = {"Authorization": f"Bearer {token}"}
        made = client.post(
            "/api/webhook-endpoints",
            json={"url": receiver.url, "event_types": ["invoice.created"]},
            headers=auth,
        ).get_json()
        with WorkerProcess(database_url, {**settings, "WEBHOOK_ALLOW_PRIVATE": "1"}):
            body = {
                "client_name": "Müller GmbH",
                "client_email": "billing@mueller.example",
                "billing_period": "2025-07",
                "currency": "EUR",
                "payment_terms_days": 30,
                "lines": [
                    {"description": "Compute", "quantity": "1", "unit_price": "9"}
                ],
            }
            assert (
                client.post("/api/invoices", json=body, headers=auth).status_code == 201
            )
            wait_for(lambda: len(receiver.received) >= 2, timeout=40)
    first, second = receiver.received[:2]
    assert first[0]["webhook-id"] == second[0]["webhook-id"]
    # (Signed with the worker's real clock; this test's is frozen in 2025, so
    # the signatures are checked in the tests above.)
    assert json.loads(second[1])["type"] == "invoice.created"
    assert made["secret"].startswith("whsec_")


def test_a_name_that_resolves_to_a_private_address_at_delivery_is_not_connected_to(
    app_factory, monkeypatch
):
    """DNS rebinding: public when the URL is checked, loopback a moment later.

    The listener stands for an internal service on 127.0.0.1; it must never see
    a connection, and the delivery records why it was not sent.
    """
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    real_getaddrinfo = socket.getaddrinfo
    answers = []

    def rebinding(host, *args, **kwargs):
        if host != "hooks.rebind.example":
            return real_getaddrinfo(host, *args, **kwargs)
        # Public for the checks (when saved, before sending), then loopback.
        address = "93.184.216.34" if len(answers) < 2 else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    strict = app_factory()  # WEBHOOK_ALLOW_PRIVATE off, as in production
    with strict.app_context():
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        token = token_for(
            strict.test_cli_runner(), "admin@strict.example", Role.ADMIN.value, "write"
        )
        response = strict.test_client().post(
            "/api/webhook-endpoints",
            data=json.dumps(
                {
                    "url": f"https://hooks.rebind.example:{port}/x",
                    "event_types": ["invoice.paid"],
                }
            ),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 201, response.get_json()
        from invoice_app.models import WebhookEndpoint
        from invoice_app.webhooks import endpoints

        endpoints.send_test(db.session.get(WebhookEndpoint, response.get_json()["id"]))
        delivery.deliver_due()
        with pytest.raises(TimeoutError):
            listener.accept()
        listener.close()
        (attempted,) = db.session.scalars(select(WebhookDelivery)).all()
        assert attempted.attempts == 1 and attempted.state == "pending"
        assert "127.0.0.1" in attempted.last_error
        assert "public addresses only" in attempted.last_error
        assert answers == ["93.184.216.34", "93.184.216.34", "127.0.0.1"]
