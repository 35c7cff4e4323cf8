"""Versioned changes through the API: If-Match, the lifecycle's refusals, what is saved.

PATCH a draft, issue, record a payment, cancel, as the billing engine would:
a write token, JSON bodies, the version from GET's ETag in If-Match.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from invoice_app.extensions import db
from invoice_app.models import AuditEvent, Invoice, Role, Tenant
from tests.conftest import TODAY
from tests.test_api_create import token_for
from tests.test_tenant_scoping import build


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def engine(app, client, runner):
    """Sends JSON with a billing admin's write token; returns the response."""
    token = token_for(runner, "engine@example.test", Role.ADMIN.value, "write")

    def send(method: str, path: str, body=None, version=None, **headers):
        headers["Authorization"] = f"Bearer {token}"
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        if body is not None:
            headers["Content-Type"] = "application/json"
        return client.open(
            path,
            method=method,
            data=None if body is None else json.dumps(body),
            headers=headers,
        )

    send.token = token
    return send


@pytest.fixture
def due(make_invoice):
    return make_invoice(number="INV-DUE", due_date=TODAY.date().replace(month=8))


@pytest.fixture
def draft(make_invoice):
    return make_invoice(
        number="INV-DRAFT",
        status="DRAFT",
        issue_date=None,
        due_date=TODAY.date().replace(month=8),
    )


def saved(number: str) -> Invoice:
    db.session.expire_all()
    return db.session.scalar(select(Invoice).where(Invoice.number == number))


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("POST", "/issue", None),
        ("POST", "/payments", {"amount": "5.00", "received_on": "2025-07-10"}),
        ("POST", "/cancel", {"reason": "Duplicate"}),
        ("PATCH", "", {"notes": "x"}),
    ],
)
def test_a_change_without_if_match_is_428_and_a_stale_one_412(
    engine, draft, due, method, action, body
):
    invoice = draft if action in ("/issue", "") else due
    path = f"/api/invoices/{invoice.number}{action}"
    response = engine(method, path, body)
    assert response.status_code == 428
    assert "If-Match" in response.get_json()["error"]
    stale = engine(method, path, body, version=invoice.version + 1)
    assert stale.status_code == 412
    assert "has changed since" in stale.get_json()["error"]
    assert saved(invoice.number).version == invoice.version


def test_issue_answers_the_invoice_with_its_new_etag(engine, draft):
    response = engine("POST", "/api/invoices/INV-DRAFT/issue", version=1)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["issue_date"], body["version"]) == (
        "DUE",
        "2025-07-15",
        2,
    )
    assert response.headers["ETag"] == '"2"'
    again = engine("POST", "/api/invoices/INV-DRAFT/issue", version=2)
    assert again.status_code == 409
    assert "cannot be issued" in again.get_json()["error"]


def test_payments_lower_the_balance_and_the_last_makes_it_paid(engine, due):
    first = engine(
        "POST",
        "/api/invoices/INV-DUE/payments",
        {"amount": "5.00", "received_on": "2025-07-10", "reference": "Wire 1"},
        version=1,
    )
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["balance_due"], first.get_json()["status"]) == (
        "10.00",
        "DUE",
    )
    too_much = engine(
        "POST",
        "/api/invoices/INV-DUE/payments",
        {"amount": "11.00", "received_on": "2025-07-11"},
        version=2,
    )
    assert too_much.status_code == 422
    assert saved("INV-DUE").amount_paid == Decimal("5.00")
    last = engine(
        "POST",
        "/api/invoices/INV-DUE/payments",
        {"amount": "10.00", "received_on": "2025-07-11"},
        version=2,
    )
    assert last.get_json()["status"] == "PAID"
    assert [p["reference"] for p in last.get_json()["payments"]] == ["Wire 1", ""]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "abc", "received_on": "2025-07-10"}, "amount"),
        ({"amount": "5.00"}, "received_on"),
        ({"amount": "5.001", "received_on": "2025-07-10"}, "amount"),
        ({"amount": "5.00", "received_on": "2025-07-10", "tip": 1}, "tip"),
    ],
)
def test_a_bad_payment_is_422_naming_the_field(engine, due, body, field):
    response = engine("POST", "/api/invoices/INV-DUE/payments", body, version=1)
    assert response.status_code == 422, response.get_json()
    assert field in {e["field"] for e in response.get_json()["errors"]}
    assert saved("INV-DUE").version == 1


def test_cancel_records_the_reason_and_a_cancelled_one_stays_so(engine, due):
    response = engine(
        "POST", "/api/invoices/INV-DUE/cancel", {"reason": "Issued twice"}, version=1
    )
    assert response.status_code == 200
    assert response.get_json()["cancel_reason"] == "Issued twice"
    again = engine(
        "POST", "/api/invoices/INV-DUE/cancel", {"reason": "Again"}, version=2
    )
    assert again.status_code == 409
    empty = engine("POST", "/api/invoices/INV-DUE/cancel", {"reason": ""}, version=2)
    assert empty.status_code == 422


def test_patch_changes_the_given_fields_and_recomputes_amounts(engine, draft):
    response = engine(
        "PATCH",
        "/api/invoices/INV-DRAFT",
        {
            "notes": "Revised",
            "lines": [
                {"description": "GPU hours", "quantity": "3", "unit_price": "2.5"}
            ],
        },
        version=1,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["notes"] == "Revised"
    assert [line["description"] for line in body["lines"]] == ["GPU hours"]
    assert (body["usage_cost"], body["payable"], body["version"]) == ("7.50", "7.50", 2)
    # What was not given kept its value.
    assert (body["client_email"], body["due_date"]) == (
        draft.client.email,
        "2025-08-15",
    )
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "edit")
    ).one()
    assert event.changes["notes"] == [None, "Revised"]


def test_patch_of_an_issued_invoice_is_409(engine, due):
    response = engine("PATCH", "/api/invoices/INV-DUE", {"notes": "x"}, version=1)
    assert response.status_code == 409
    assert saved("INV-DUE").notes == ""


def test_patch_refuses_bad_values_by_field(engine, draft):
    response = engine(
        "PATCH", "/api/invoices/INV-DRAFT", {"currency": "ZZZ"}, version=1
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "currency"


def test_another_tenants_invoice_is_404_for_every_change(engine, app):
    other = Tenant(slug="other", name="Other")
    db.session.add(other)
    db.session.commit()
    build(other, "Them", "them@other.example", number="INV-THEIRS")
    for method, action, body in (
        ("POST", "/issue", None),
        ("POST", "/payments", {"amount": "1.00", "received_on": "2025-07-10"}),
        ("POST", "/cancel", {"reason": "x"}),
        ("PATCH", "", {"notes": "x"}),
    ):
        response = engine(method, f"/api/invoices/INV-THEIRS{action}", body, version=1)
        assert response.status_code == 404, (method, action)
    assert saved("INV-THEIRS").version == 1


def test_a_read_token_changes_nothing(app, client, runner, due):
    token = token_for(runner, "reader@example.test", Role.ADMIN.value, "read")
    response = client.post(
        "/api/invoices/INV-DUE/cancel",
        data=json.dumps({"reason": "x"}),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "If-Match": '"1"',
        },
    )
    assert response.status_code == 403
    assert saved("INV-DUE").status == "DUE"
