"""Draft invoices through the form: create, validate, edit, delete, live totals."""

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from invoice_app import drafts
from invoice_app.extensions import db
from invoice_app.models import AuditEvent, Client, Invoice
from tests.conftest import csrf_token

# Every test here runs on 2025-07-15 (tests/conftest.py: frozen_day).
pytestmark = pytest.mark.usefixtures("frozen_day")


def draft_data(client, **overrides):
    page = client.get("/billing/invoices/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "client_email": "ops@newco.example",
        "client_name": "NewCo Ltd",
        "billing_period": "2025-06",
        "currency": "EUR",
        "due_date": "2025-08-14",
        "payment_terms_days": "",
        "notes": "First invoice",
        "adjustment": "-10.00",
        "adjustment_reason": "Welcome credit",
        "lines-0-description": "Compute (vCPU-hours)",
        "lines-0-quantity": "100",
        "lines-0-unit_price": "0.0416",
        "lines-1-description": "Egress (GB)",
        "lines-1-quantity": "12.5",
        "lines-1-unit_price": "0.09",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def error_for(html: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">([^<]*)<', html)
    assert match, f"no message next to {field_id}"
    return match.group(1)


def test_create_draft_computes_amounts_on_the_server(admin):
    response = admin.post("/billing/invoices/new", data=draft_data(admin))
    assert response.status_code == 302
    invoice = db.session.scalar(db.select(Invoice))
    assert response.location == f"/billing/invoices/{invoice.number}"
    assert invoice.number == "INV-202506-000001"
    assert invoice.status == "DRAFT" and invoice.issue_date is None
    # 100 × 0.0416 = 4.16; 12.5 × 0.09 = 1.125 → 1.13 (half up); -10 adjustment
    assert [line.amount for line in invoice.lines] == [Decimal("4.16"), Decimal("1.13")]
    assert invoice.usage_cost == Decimal("5.29")
    assert invoice.payable == Decimal("-4.71")
    assert invoice.client.name == "NewCo Ltd"
    html = admin.get(response.location).get_data(as_text=True)
    assert "Draft INV-202506-000001 created." in html
    assert "Welcome credit" in html
    (event,) = db.session.scalars(db.select(AuditEvent)).all()
    assert event.action == "create" and event.changes["payable"] == [None, "-4.71"]


def test_existing_client_is_picked_by_email(admin, make_invoice):
    make_invoice(client_name="Acme Analytics", client_email="acme@example.test")
    data = draft_data(admin, client_email="ACME@example.test", client_name="")
    assert admin.post("/billing/invoices/new", data=data).status_code == 302
    assert db.session.scalar(db.select(db.func.count()).select_from(Client)) == 1


@pytest.mark.parametrize(
    "amount", ["12.345", "NaN", "Infinity", "sNaN", "1e3", "1,000.00", "0x10", "-"]
)
def test_bad_amounts_get_a_message_next_to_the_field(admin, amount):
    data = draft_data(admin, **{"lines-0-unit_price": "1.5", "adjustment": amount})
    data["lines-1-quantity"] = amount if amount != "12.345" else "12.34567"
    response = admin.post("/billing/invoices/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error_for(html, "adjustment")
    assert error_for(html, "lines-1-quantity")
    assert "The draft was not saved" in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Invoice)) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"due_date": "2024-02-30"}, "due_date", "Not a valid date"),
        ({"due_date": "2025-07-01"}, "due_date", "before today"),
        (
            {"due_date": "", "payment_terms_days": ""},
            "payment_terms_days",
            "due date or",
        ),
        ({"payment_terms_days": "400"}, "payment_terms_days", "0 to 365"),
        ({"billing_period": "2025-13"}, "billing_period", "month like 2025-05"),
        ({"currency": "EURO"}, "currency", "not an ISO 4217"),
        ({"client_email": "not-an-email"}, "client_email", "e-mail address"),
        ({"client_name": ""}, "client_email", "enter a client name"),
        ({"adjustment_reason": ""}, "adjustment_reason", "Say why"),
        ({"lines-0-description": ""}, "lines-0-description", "Describe the line"),
        ({"lines-0-quantity": "0"}, "lines-0-quantity", "above zero"),
        ({"lines-0-unit_price": "-1"}, "lines-0-unit_price", "cannot be negative"),
        ({"currency": "JPY", "adjustment": "-10.50"}, "adjustment", "JPY allows"),
    ],
)
def test_draft_validation_messages(admin, overrides, field, message):
    response = admin.post("/billing/invoices/new", data=draft_data(admin, **overrides))
    assert response.status_code == 400
    assert message in error_for(response.get_data(as_text=True), field)


def test_edit_draft_keeps_the_version_and_audits_the_change(admin):
    admin.post("/billing/invoices/new", data=draft_data(admin))
    invoice = db.session.scalar(db.select(Invoice))
    form = admin.get(f"/billing/invoices/{invoice.number}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    assert 'value="2025-06"' in form and 'value="0.0416"' in form
    data = draft_data(admin, version="1", notes="Updated", adjustment="0")
    data.pop("lines-1-description")
    data.pop("lines-1-quantity")
    data.pop("lines-1-unit_price")
    response = admin.post(f"/billing/invoices/{invoice.number}/edit", data=data)
    assert response.status_code == 302
    db.session.commit()
    invoice = db.session.get(Invoice, invoice.id)
    assert (invoice.version, invoice.notes, invoice.payable) == (
        2,
        "Updated",
        Decimal("4.16"),
    )
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "edit")
    ).one()
    assert event.changes["notes"] == ["First invoice", "Updated"]
    assert event.changes["payable"] == ["-4.71", "4.16"]
    # The same form sent again carries the old version: a conflict, nothing lost.
    stale = admin.post(f"/billing/invoices/{invoice.number}/edit", data=data)
    assert stale.status_code == 409
    assert "changed by someone else" in stale.get_data(as_text=True)


def test_only_drafts_can_be_edited_or_deleted(admin, make_invoice):
    issued = make_invoice(status="DUE")
    assert admin.get(f"/billing/invoices/{issued.number}/edit").status_code == 409
    response = admin.post(
        f"/billing/invoices/{issued.number}/edit",
        data=draft_data(admin, version=str(issued.version)),
    )
    assert response.status_code == 409
    response = admin.post(
        f"/billing/invoices/{issued.number}/delete",
        data={"csrf_token": draft_data(admin)["csrf_token"], "version": issued.version},
    )  # fmt: skip
    assert response.status_code == 409
    assert "it cannot be deleted" in response.get_data(as_text=True)


def test_delete_draft_keeps_its_audit_trail(admin):
    admin.post("/billing/invoices/new", data=draft_data(admin))
    invoice = db.session.scalar(db.select(Invoice))
    number = invoice.number
    response = admin.post(
        f"/billing/invoices/{number}/delete",
        data={"csrf_token": draft_data(admin)["csrf_token"], "version": "1"},
    )
    assert response.location == "/billing/invoices"
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count()).select_from(Invoice)) == 0
    actions = db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.invoice_number == number)
    ).all()
    assert sorted(actions) == ["create", "delete"]


def test_lines_are_added_and_removed_in_place(admin):
    data = draft_data(admin)
    html = admin.post(
        "/billing/invoices/draft/lines", data={**data, "add_line": "1"}
    ).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="draft-lines"')
    assert 'name="lines-2-description"' in html
    html = admin.post(
        "/billing/invoices/draft/lines", data={**data, "remove_line": "0"}
    ).get_data(as_text=True)
    assert 'name="lines-1-description"' not in html
    assert 'value="Egress (GB)"' in html and "Compute" not in html


def with_lines(data: dict, count: int) -> dict:
    """The form data with count lines of 0.01 each."""
    for i in range(count):
        data[f"lines-{i}-description"] = f"Line {i}"
        data[f"lines-{i}-quantity"] = "1"
        data[f"lines-{i}-unit_price"] = "0.01"
    return data


def test_add_line_at_the_limit_says_so_next_to_the_lines(admin):
    data = with_lines(draft_data(admin), 200)
    response = admin.post(
        "/billing/invoices/draft/lines",
        data={**data, "add_line": "1"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="draft-lines"')
    assert 'name="lines-199-description"' in html
    assert 'name="lines-200-description"' not in html
    assert re.search(r'id="draft-lines-error"[^>]*>At most 200 lines', html)
    # The totals still show all 200 lines (200 × 0.01 EUR).
    assert "€2.00" in html


def test_live_totals_are_computed_on_the_server(admin):
    html = admin.post(
        "/billing/invoices/draft/totals", data=draft_data(admin)
    ).get_data(as_text=True)
    assert "€5.29" in html and "-€10.00" in html and "-€4.71" in html
    html = admin.post(
        "/billing/invoices/draft/totals",
        data=draft_data(admin, **{"lines-0-quantity": "abc"}),
    ).get_data(as_text=True)
    assert "€1.13" in html


def test_draft_numbers_ignore_numbers_not_in_the_apps_pattern(admin, make_invoice):
    # Imported numbers of other shapes share the month's prefix; the sequence is
    # the highest of the app's own INV-YYYYMM-<digits> numbers.
    for odd in ("INV-202506-A1", "INV-202506-ZZZ", "INV-202506-0041", "INV-202506-7-B"):
        make_invoice(number=odd, billing_period=date(2025, 6, 1))
    make_invoice(number="INV-202507-000900", billing_period=date(2025, 7, 1))
    numbers = []
    for _ in range(3):
        response = admin.post("/billing/invoices/new", data=draft_data(admin))
        assert response.status_code == 302, response.get_data(as_text=True)
        numbers.append(response.location.rsplit("/", 1)[1])
    assert numbers == ["INV-202506-000042", "INV-202506-000043", "INV-202506-000044"]
    stored = db.session.scalars(
        db.select(Invoice.number).where(Invoice.status == "DRAFT")
    ).all()
    assert sorted(stored) == numbers


def test_a_number_that_cannot_be_allocated_is_a_409_not_a_500(
    admin, make_invoice, monkeypatch
):
    make_invoice(number="INV-202506-000001", billing_period=date(2025, 6, 1))
    # Another writer keeps taking the number this one computes.
    monkeypatch.setattr(drafts, "_next_number", lambda period: "INV-202506-000001")
    response = admin.post("/billing/invoices/new", data=draft_data(admin))
    assert response.status_code == 409
    assert "could not be given a number" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Invoice)) == 1


def test_more_lines_than_the_limit_are_refused_not_dropped(admin):
    """WTForms would keep the first 200 and drop the rest without a word."""
    data = with_lines(draft_data(admin), 201)
    response = admin.post("/billing/invoices/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(
        r'id="draft-lines-error"[^>]*>At most 200 lines on one invoice; 201 were sent',
        html,
    )
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0
