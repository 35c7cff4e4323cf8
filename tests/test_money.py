"""Amounts are Decimal end to end and stored exactly on both databases."""

from datetime import date
from decimal import Decimal

import pytest

from invoice_app.extensions import db
from invoice_app.models import Invoice
from invoice_app.money import format_money, parse_amount, to_places


@pytest.mark.parametrize(
    "amount",
    ["99999999999999.99", "-99999999999999.99", "0.125", "0.0001", "12.3456", "0"],
)
def test_amounts_round_trip_exactly(app, make_invoice, amount):
    invoice = make_invoice(usage_cost=Decimal(amount), payable=Decimal(amount))
    db.session.expire_all()
    stored = db.session.get(Invoice, invoice.id)
    assert stored.payable == Decimal(amount)
    assert isinstance(stored.payable, Decimal)


def test_totals_are_exact_sums(app, make_invoice):
    for _ in range(3):
        make_invoice(payable=Decimal("0.1"), usage_cost=Decimal("0.1"))
    from invoice_app.filters import InvoiceFilters
    from invoice_app.queries import totals

    (usd,) = totals(InvoiceFilters(), date(2025, 1, 1))
    assert usd.payable == Decimal("0.3")


def test_more_places_than_storage_is_refused_not_rounded(app, make_invoice):
    with pytest.raises(Exception, match="decimal places"):
        make_invoice(payable=Decimal("1.00001"))
    db.session.rollback()


@pytest.mark.parametrize(
    "text",
    [
        "12.345",
        "NaN",
        "Infinity",
        "sNaN",
        "1e3",
        "1,000.00",
        "0x10",
        "",
        "-",
        ".",
        "١٢",
    ],
)
def test_parse_amount_refuses_non_plain_numbers(text):
    with pytest.raises(ValueError):
        parse_amount(text, "USD")


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [("12.50", "USD", "12.50"), ("-3", "EUR", "-3"), ("1000", "JPY", "1000")],
)
def test_parse_amount_accepts_plain_numbers(text, currency, expected):
    assert parse_amount(text, currency) == Decimal(expected)


def test_jpy_has_no_minor_unit():
    with pytest.raises(ValueError, match="JPY"):
        parse_amount("10.5", "JPY")
    assert format_money(Decimal("1234"), "JPY") == "¥1,234"
    assert str(to_places(Decimal("12.5"), "USD")) == "12.50"
    assert format_money(Decimal("1234.5"), "EUR", "de_DE") == "1.234,50\xa0€"
