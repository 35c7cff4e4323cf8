"""Invoice rows as plain data, for the API (and anything else that wants JSON)."""

from __future__ import annotations

from datetime import date

from ..money import to_places


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def invoice_json(row) -> dict:
    """An invoice_query() row as JSON: amounts as decimal strings, ISO dates."""
    invoice, client = row.Invoice, row.Client
    return {
        "number": invoice.number,
        "client_name": client.name,
        "client_email": client.email,
        "billing_period": invoice.billing_period.strftime("%Y-%m"),
        "currency": invoice.currency,
        "usage_cost": str(to_places(invoice.usage_cost, invoice.currency)),
        "payable": str(to_places(invoice.payable, invoice.currency)),
        "issue_date": _iso(invoice.issue_date),
        "due_date": _iso(invoice.due_date),
        "paid_date": _iso(invoice.paid_date),
        "status": row.effective_status,
    }
