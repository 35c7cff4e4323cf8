"""POST /api/invoices as the billing engine calls it: write tokens, idempotency, errors.

Tokens come from the CLI (`users token EMAIL --scope write`), requests go
through HTTP; the concurrency test sends two requests with one key to a live
threaded server at once.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
import requests
import time_machine
from sqlalchemy import func, select

from invoice_app.extensions import db
from invoice_app.models import AuditEvent, IdempotencyKey, Invoice, Role, User
from tests.browser.conftest import serving
from tests.conftest import PASSWORDS, TODAY

BODY = {
    "client_name": "Müller GmbH",
    "client_email": "billing@mueller.example",
    "billing_period": "2025-06",
    "currency": "EUR",
    "due_date": "2025-08-01",
    "notes": "PO 4711",
    "lines": [
        {
            "description": "Compute (vCPU-hours)",
            "quantity": "1000",
            "unit_price": "0.1",
        },
        {"description": "Storage", "quantity": "3", "unit_price": "0.335"},
    ],
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def token_for(runner, email: str, role: str, scope: str) -> str:
    if db.session.scalar(select(User).where(User.email == email)) is None:
        user = User(email=email, role=role)
        user.set_password(PASSWORDS[role])
        db.session.add(user)
        db.session.commit()
    result = runner.invoke(args=["users", "token", email, "--scope", scope])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


@pytest.fixture
def writer(app, client, runner):
    token = token_for(runner, "engine@example.test", Role.ADMIN.value, "write")

    def post(body=BODY, key=None, **headers):
        if key:
            headers["Idempotency-Key"] = key
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
        return client.post(
            "/api/invoices",
            data=data,
            headers={"Authorization": f"Bearer {token}", **headers},
        )

    post.token = token
    return post


def invoices() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Invoice))


def test_create_computes_amounts_and_answers_201_with_location(writer):
    response = writer()
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["number"] == "INV-202506-000001"
    assert response.headers["Location"] == "/api/invoices/INV-202506-000001"
    # 1000 × 0.1 + 3 × 0.335 (1.005, half-up to 1.01): as the draft form does.
    assert [line["amount"] for line in body["lines"]] == ["100.00", "1.01"]
    assert (body["usage_cost"], body["payable"], body["status"]) == (
        "101.01",
        "101.01",
        "DRAFT",
    )
    assert response.headers["ETag"] == '"1"'
    event = db.session.scalar(select(AuditEvent))
    assert (event.action, event.actor) == ("create", "engine@example.test")


def test_create_due_issues_at_once_and_takes_a_given_number(writer):
    response = writer({**BODY, "status": "DUE", "number": "ENGINE-77"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["number"], body["status"], body["issue_date"]) == (
        "ENGINE-77",
        "DUE",
        "2025-07-15",
    )
    again = writer({**BODY, "number": "ENGINE-77"})
    assert again.status_code == 409
    assert again.get_json() == {
        "error": "Invoice ENGINE-77 exists already.",
        "errors": [],
    }
    assert invoices() == 1


def test_a_repeat_with_the_same_key_answers_the_first_answer_again(writer):
    first = writer(key="run-2025-06-mueller")
    again = writer(key="run-2025-06-mueller")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert invoices() == 1
    # Without a key, each request is a new invoice.
    assert writer().status_code == 201 and invoices() == 2


def test_the_same_key_with_another_body_is_422(writer):
    writer(key="k-1")
    response = writer({**BODY, "notes": "changed"}, key="k-1")
    assert response.status_code == 422
    assert "used with another request" in response.get_json()["error"]
    assert invoices() == 1


def test_a_refusal_is_remembered_too(writer):
    bad = {**BODY, "currency": "XXY"}
    first = writer(bad, key="k-bad")
    again = writer(bad, key="k-bad")
    assert first.status_code == again.status_code == 422
    assert again.get_data() == first.get_data()
    assert invoices() == 0


def test_a_repeat_while_the_first_is_running_is_409(writer, app):
    user = db.session.scalar(select(User).where(User.email == "engine@example.test"))
    # The first request's row, as it stands while its work runs.
    from invoice_app.api.idempotency import _request_hash

    with app.test_request_context("/api/invoices", method="POST"):
        fingerprint = _request_hash(json.dumps(BODY).encode())
    db.session.add(
        IdempotencyKey(user_id=user.id, key="k-run", request_hash=fingerprint)
    )
    db.session.commit()
    response = writer(key="k-run")
    assert response.status_code == 409
    assert "still being processed" in response.get_json()["error"]
    assert invoices() == 0


def test_keys_are_kept_24_hours(writer):
    writer(key="k-old")
    with time_machine.travel("2025-07-16 09:00:01+00:00", tick=False):
        response = writer(key="k-old")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert invoices() == 2


def test_two_requests_at_once_with_one_key_make_one_invoice(app, writer):
    with serving(app) as base_url:
        barrier = threading.Barrier(2)
        answers = []

        def send():
            barrier.wait()
            answers.append(
                requests.post(
                    f"{base_url}/api/invoices",
                    data=json.dumps(BODY),
                    headers={
                        "Authorization": f"Bearer {writer.token}",
                        "Content-Type": "application/json",
                        "Idempotency-Key": "k-race",
                    },
                    timeout=30,
                )
            )

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    codes = sorted(a.status_code for a in answers)
    # Either the second waited for nothing (409) or came after the first (replay).
    assert codes in ([201, 201], [201, 409]), [a.text for a in answers]
    assert invoices() == 1


@pytest.mark.parametrize(
    ("data", "headers", "status", "message"),
    [
        ("{not json", {}, 400, "not valid JSON"),
        (json.dumps(BODY), {"Content-Type": "text/plain"}, 415, "as JSON"),
        ("x" * 1_100_000, {}, 413, "larger than"),
        (json.dumps([1, 2]), {}, 422, "not right"),
    ],
    ids=["broken JSON", "wrong content type", "oversized", "not an object"],
)
def test_a_body_that_cannot_be_read_is_refused_in_the_one_shape(
    writer, data, headers, status, message
):
    response = writer(data, **headers)
    assert response.status_code == status
    body = response.get_json()
    assert message in body["error"] and isinstance(body["errors"], list)
    assert invoices() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"currency": "XXY"}, "currency", "not an ISO 4217 currency code"),
        ({"due_date": "2025-07-01"}, "due_date", "before today"),
        ({"lines": []}, "lines", "at least 1 item"),
        (
            {"lines": [{"description": "x", "quantity": "-1", "unit_price": "1"}]},
            "lines.0.quantity",
            "above zero",
        ),
        (
            {
                "lines": [
                    {
                        "description": "x",
                        "quantity": "999999999999",
                        "unit_price": "999999999",
                    }
                ]
            },
            "lines.0.unit_price",
            "more than the largest amount",
        ),
        ({"number": "INV/1"}, "number", "may hold only letters"),
        (
            {"client_email": "new@client.example", "client_name": ""},
            "client_email",
            "enter a client name",
        ),
        ({"status": "PAID"}, "status", "Input should be"),
    ],
)
def test_bad_values_are_422_naming_the_field(writer, change, field, message):
    response = writer({**BODY, **change})
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    assert invoices() == 0


def test_a_read_token_cannot_write(app, client, runner):
    token = token_for(runner, "reader@example.test", Role.ADMIN.value, "read")
    response = client.post(
        "/api/invoices",
        data=json.dumps(BODY),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 403
    assert "may only read" in response.get_json()["error"]
    assert invoices() == 0


def test_staff_get_no_write_token_and_cannot_create(app, client, runner):
    email = "staff@example.test"
    token = token_for(runner, email, Role.STAFF.value, "read")
    result = runner.invoke(args=["users", "token", email, "--scope", "write"])
    assert result.exit_code == 2
    assert "only a billing admin's token can write" in result.output
    # A staff token made write by hand is still refused: writing needs an admin.
    user = db.session.scalar(select(User).where(User.email == email))
    user.api_token_scope = "write"
    db.session.commit()
    response = client.post(
        "/api/invoices",
        data=json.dumps(BODY),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 403
    assert invoices() == 0


def test_a_created_invoice_is_the_tokens_tenants(app, writer, runner):
    from invoice_app.models import Tenant
    from tests.test_tenant_scoping import make_user

    other = Tenant(slug="other", name="Other")
    db.session.add(other)
    db.session.commit()
    make_user(other, "admin")
    other_token = (
        runner.invoke(
            args=["users", "token", "admin@other.example", "--scope", "write"]
        )
        .output.strip()
        .splitlines()[-1]
    )
    writer()
    app.test_client().post(
        "/api/invoices",
        data=json.dumps(BODY),
        headers={
            "Authorization": f"Bearer {other_token}",
            "Content-Type": "application/json",
        },
    )
    db.session.commit()
    rows = db.session.execute(
        select(Tenant.slug, Invoice.number, Invoice.payable).join(
            Tenant, Invoice.tenant_id == Tenant.id
        )
    ).all()
    # Each tenant numbers its own invoices: both are the month's first.
    assert sorted(rows) == [
        ("default", "INV-202506-000001", Decimal("101.01")),
        ("other", "INV-202506-000001", Decimal("101.01")),
    ]
