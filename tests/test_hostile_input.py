"""Hostile input answers 4xx with a message, never 500 (issue 14, part 2).

The issue's examples first, then each class they stand for: numbers past what
a column or an OFFSET holds, text with NUL, control characters or bytes that
are not UTF-8, Unicode as people paste it, dates outside years 1 to 9999.
tests/test_hostile_property.py sends generated values to every route.
"""

import re
from datetime import date
from decimal import Decimal
from html import unescape as html_unescape

import pytest

from invoice_app import drafts, lifecycle
from invoice_app.extensions import db
from invoice_app.lifecycle import InvalidChange
from invoice_app.models import AuditEvent, Invoice
from tests.conftest import csrf_token

LIST_ROUTES = ["/billing/invoices", "/api/invoices"]
HTMX = {"HX-Request": "true"}


def error_for(html: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">([^<]*)<', html)
    assert match, f"no message next to {field_id}"
    return html_unescape(match.group(1))


def assert_filter_refused(admin, query: str | bytes, field: str, message: str):
    """The page, the fragment and the API refuse the query, naming the field."""
    page = admin.get("/billing/invoices", query_string=query)
    assert page.status_code == 400
    assert message in error_for(page.get_data(as_text=True), field)
    fragment = admin.get("/billing/invoices", query_string=query, headers=HTMX)
    assert fragment.status_code == 400
    assert fragment.headers["HX-Reswap"] == "none"
    assert message in error_for(fragment.get_data(as_text=True), field)
    api = admin.get("/api/invoices", query_string=query)
    assert api.status_code == 400
    assert message in " ".join(
        e["message"] for e in api.json["errors"] if e["field"] == field
    )


# The issue's three examples.


def test_a_page_number_of_twenty_digits_is_refused(admin, make_invoice):
    make_invoice()
    assert_filter_refused(
        admin, "page=" + "9" * 20, "page", "Page must be between 1 and 10,000,000."
    )


def test_a_search_with_a_nul_byte_is_refused(admin, make_invoice):
    make_invoice(notes="a b")
    assert_filter_refused(
        admin, "q=a%00b", "q", "Search contains a control character (U+0000)"
    )
    export = admin.get("/billing/invoices/export.xlsx?q=a%00b")
    assert export.status_code == 400
    assert "Search contains a control character" in export.get_data(as_text=True)


def draft_data(client, **overrides):
    page = client.get("/billing/invoices/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "client_email": "ops@newco.example",
        "client_name": "NewCo Ltd",
        "billing_period": "2025-06",
        "currency": "EUR",
        "due_date": "",
        "payment_terms_days": "30",
        "notes": "",
        "adjustment": "0",
        "adjustment_reason": "",
        "lines-0-description": "Compute",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "1",
    }
    data.update(overrides)
    return data


def invoice_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Invoice))


def test_a_line_of_ten_trillion_at_ten_trillion_is_refused(admin):
    data = draft_data(
        admin,
        **{
            "lines-0-quantity": "10000000000000",
            "lines-0-unit_price": "10000000000000",
        },
    )
    response = admin.post("/billing/invoices/new", data=data)
    assert response.status_code == 400
    message = error_for(response.get_data(as_text=True), "lines-0-unit_price")
    assert message.startswith("10000000000000 is larger than 999999999999.999999")
    assert invoice_count() == 0


# Computed amounts against the storage limits.


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"lines-0-quantity": "10000000000000", "lines-0-unit_price": "1000"},
            "lines-0-unit_price",
            "The line amount (quantity × unit price) would be "
            "10,000,000,000,000,000.00, more than the largest amount "
            "(99,999,999,999,999.99).",
        ),
        (
            {
                "lines-0-quantity": "60000000000000",
                "lines-1-description": "Storage",
                "lines-1-quantity": "60000000000000",
                "lines-1-unit_price": "1",
            },
            "lines-1-unit_price",
            "The lines add up to 120,000,000,000,000.00",
        ),
        (
            {
                "lines-0-quantity": "90000000000000",
                "adjustment": "90000000000000",
                "adjustment_reason": "Surcharge",
            },
            "adjustment",
            "The payable amount (usage cost + adjustment) would be "
            "180,000,000,000,000.00",
        ),
        (
            {"lines-0-quantity": "1" + "0" * 30},
            "lines-0-quantity",
            "1000000000000000000000000000000 is larger than 99999999999999.99",
        ),
        ({"adjustment": "-" + "9" * 300}, "adjustment", "-9999999999999999999…"),
    ],
)
def test_amounts_that_would_not_fit_get_a_message_and_nothing_is_written(
    admin, overrides, field, message
):
    response = admin.post("/billing/invoices/new", data=draft_data(admin, **overrides))
    assert response.status_code == 400
    assert message in error_for(response.get_data(as_text=True), field)
    assert invoice_count() == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == 0


def test_the_largest_amounts_that_fit_are_saved_exactly(admin):
    data = draft_data(
        admin,
        **{"lines-0-quantity": "99999999999999.99", "lines-0-unit_price": "1"},
    )
    assert admin.post("/billing/invoices/new", data=data).status_code == 302
    invoice = db.session.scalar(db.select(Invoice))
    assert invoice.payable == Decimal("99999999999999.99")


def test_drafts_refuse_totals_that_would_not_fit_before_writing(app):
    line = drafts.LineInput("Compute", Decimal("90000000000000"), Decimal("1"))
    data = drafts.DraftInput(
        client_name="NewCo",
        client_email="ops@newco.example",
        billing_period=date(2025, 6, 1),
        currency="EUR",
        due_date=None,
        payment_terms_days=30,
        notes="",
        adjustment=Decimal(0),
        adjustment_reason="",
        lines=(line, line),
    )
    with pytest.raises(InvalidChange) as refused:
        lifecycle.create(data, "admin@example.test")
    assert (
        "The lines add up to 180,000,000,000,000.00"
        in refused.value.errors["usage_cost"]
    )
    db.session.rollback()
    assert invoice_count() == 0


def test_the_live_totals_of_huge_lines_do_not_fail(admin):
    data = draft_data(
        admin,
        **{"lines-0-quantity": "99999999999999", "lines-0-unit_price": "99999999999"},
    )
    response = admin.post("/billing/invoices/draft/totals", data=data)
    assert response.status_code == 200


def test_a_payment_larger_than_any_amount_is_refused(admin, make_invoice):
    invoice = make_invoice()
    page = admin.get(f"/billing/invoices/{invoice.number}").get_data(as_text=True)
    response = admin.post(
        f"/billing/invoices/{invoice.number}/pay",
        data={
            "csrf_token": csrf_token(page),
            "version": str(invoice.version),
            "amount": "9" * 30,
            "received_on": "2025-06-05",
        },
    )
    assert response.status_code == 422
    assert "is larger than 99999999999999.99" in response.get_data(as_text=True)
    assert invoice.payments == []


@pytest.mark.parametrize("version", ["9" * 20, "-1", "0", "1.5", "x", "9" * 5000])
def test_a_hostile_version_is_refused(admin, make_invoice, version):
    invoice = make_invoice(status="DRAFT", issue_date=None)
    page = admin.get(f"/billing/invoices/{invoice.number}").get_data(as_text=True)
    response = admin.post(
        f"/billing/invoices/{invoice.number}/issue",
        data={"csrf_token": csrf_token(page), "version": version},
    )
    assert response.status_code == 422
    assert "invoice version is not valid" in response.get_data(as_text=True)
    db.session.refresh(invoice)
    assert invoice.status == "DRAFT"


# Text: control characters, bytes that are not UTF-8, very long values.


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("q=ab%01cd", "q", "Search contains a control character (U+0001)"),
        ("q=ab%C2%85cd", "q", "Search contains a control character (U+0085)"),
        ("q=%EF%BF%BD", "q", "Search contains bytes that are not UTF-8 text"),
        ("q=" + "x" * 100_000, "q", "Search is limited to 200 characters."),
        ("date_from=2025-01%00", "date_from", "From contains a control character"),
        ("date_to=%FF", "date_to", "'%FF' is not a valid date"),
    ],
)
def test_text_that_is_not_typed_text_is_refused(admin, query, field, message):
    assert_filter_refused(admin, query, field, message)


@pytest.mark.parametrize("query", ["q=ab%FFcd", "q=ab%ED%A0%80cd"])
def test_bytes_that_are_not_utf8_are_searched_for_literally(admin, make_invoice, query):
    # Werkzeug keeps an undecodable byte percent-encoded: the needle is "%FF",
    # plain text, found where it was written.
    make_invoice(notes="ab%FFcd and ab%ED%A0%80cd")
    make_invoice(notes="abcd")
    for url in LIST_ROUTES:
        assert admin.get(url, query_string=query).status_code == 200
    assert admin.get("/api/invoices", query_string=query).json["total"] == 1


@pytest.mark.parametrize("url", [*LIST_ROUTES, "/billing/invoices/export.xlsx"])
def test_raw_bytes_that_are_not_utf8_in_the_query_are_refused(admin, url):
    # What a client that skips percent-encoding sends; WSGI hands the query
    # over as latin-1 text, one character per byte.
    response = admin.get(url, environ_overrides={"QUERY_STRING": "q=caf\xe9"})
    assert response.status_code == 400
    assert "The address's parameters are not UTF-8 text" in html_unescape(
        response.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lines-0-description", "GPU\x00", "Description contains a control"),
        ("client_name", "NewCo\x1b[31m", "Client name contains a control"),
        ("client_email", "ops@newco.example\x00", "Client e-mail contains a control"),
        ("adjustment_reason", "\ufffd", "not UTF-8 text"),
        ("notes", "one\x00two", "Notes contains a control character (U+0000)"),
        ("billing_period", "0000-05", "Use a month like 2025-05."),
        ("billing_period", "２０２５-０６", "Use a month like 2025-05."),
    ],
)
def test_draft_text_fields_refuse_control_characters(admin, field, value, message):
    response = admin.post(
        "/billing/invoices/new", data=draft_data(admin, **{field: value})
    )
    assert response.status_code == 400
    assert message in error_for(response.get_data(as_text=True), field)
    assert invoice_count() == 0


def test_notes_keep_their_line_breaks_and_text_is_stored_as_nfc(admin):
    data = draft_data(
        admin,
        notes="Line one\r\n\tLine two",
        client_name="Cafe\u0301 Ltd",
        **{"lines-0-description": "Re\u0301seau"},
    )
    assert admin.post("/billing/invoices/new", data=data).status_code == 302
    invoice = db.session.scalar(db.select(Invoice))
    assert invoice.notes == "Line one\r\n\tLine two"
    assert invoice.client.name == "Caf\u00e9 Ltd"
    assert invoice.lines[0].description == "R\u00e9seau"


@pytest.mark.parametrize("typed", ["caf\u00e9", "cafe\u0301", "CAFE\u0301"])
def test_search_matches_however_the_accent_was_typed(admin, make_invoice, typed):
    make_invoice(client_name="Caf\u00e9 Central", notes="")
    body = admin.get("/api/invoices", query_string={"q": typed}).json
    assert body["total"] == 1


@pytest.mark.parametrize(
    "typed", ["👩‍💻 team", "\u200fעברית", "\u00a0ops\u00a0", "ﬁle", "İstanbul"]
)
def test_pasted_unicode_searches_without_error(admin, make_invoice, typed):
    make_invoice()
    for url in LIST_ROUTES:
        assert admin.get(url, query_string={"q": typed}).status_code == 200


def test_a_long_refused_value_is_not_repeated_in_full(admin):
    response = admin.get("/api/invoices", query_string={"date_from": "9" * 10_000})
    assert response.status_code == 400
    assert len(response.get_data()) < 1000


# Dates: years 1 to 9999 only, real days only.


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=0000-01-01", "date_from"),
        ("date_from=99999-01-01", "date_from"),
        ("date_to=2025-02-30", "date_to"),
        ("date_from=0000-01", "date_from"),
        ("date_field=due&date_from=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95-01-01", None),
    ],
)
def test_impossible_dates_are_refused(admin, query, field):
    field = field or "date_from"
    assert_filter_refused(admin, query, field, "is not a valid date")


@pytest.mark.parametrize(
    "query",
    [
        "date_from=0001-01&date_to=9999-12",
        "date_field=due&date_from=0001-01-01&date_to=9999-12-31",
        "date_field=issued&date_to=9999-12-31",
    ],
)
def test_the_extreme_dates_that_exist_are_listed(admin, make_invoice, query):
    make_invoice()
    for url in LIST_ROUTES:
        assert admin.get(url, query_string=query).status_code == 200
    assert admin.get("/api/invoices", query_string=query).json["total"] == 1


# What no form reads: the invoice number in the address.


@pytest.mark.parametrize("number", ["INV%00", "%01", "%FF%FE"])
def test_control_characters_in_the_address_are_refused(admin, number):
    for url in (f"/billing/invoices/{number}", f"/billing/invoices/{number}.pdf"):
        response = admin.get(url)
        assert response.status_code == 400
        assert "The number in the address contains" in response.get_data(as_text=True)


def test_raw_bytes_that_are_not_utf8_in_a_form_body_are_refused(admin, make_invoice):
    invoice = make_invoice()
    response = admin.post(
        f"/billing/invoices/{invoice.number}/cancel",
        data=b"reason=caf\xe9",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "The form's parameters are not UTF-8 text" in html_unescape(
        response.get_data(as_text=True)
    )
    db.session.refresh(invoice)
    assert invoice.status == "DUE"
