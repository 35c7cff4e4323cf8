"""Invoices as the API's models (schemas.py): amounts as decimal strings, ISO dates."""

from __future__ import annotations

from decimal import Decimal

from ..models import AuditEvent, Invoice
from ..money import to_places
from ..web.formatting import plain
from . import schemas


def _money(amount: Decimal | None, currency: str) -> str:
    return str(to_places(amount or Decimal(0), currency))


def _item_fields(invoice: Invoice, client, status: str) -> dict:
    return {
        "number": invoice.number,
        "client_name": client.name,
        "client_email": client.email,
        "billing_period": invoice.billing_period.strftime("%Y-%m"),
        "currency": invoice.currency,
        "usage_cost": _money(invoice.usage_cost, invoice.currency),
        "payable": _money(invoice.payable, invoice.currency),
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "paid_date": invoice.paid_date,
        "status": status,
    }


def invoice_item(row) -> schemas.InvoiceItem:
    """An invoice_query() row as the list shows it."""
    return schemas.InvoiceItem(
        **_item_fields(row.Invoice, row.Client, row.effective_status)
    )


def invoice_detail(row) -> schemas.InvoiceDetail:
    """An invoice_row() with its lines and payments."""
    invoice, currency = row.Invoice, row.Invoice.currency
    return schemas.InvoiceDetail(
        **_item_fields(invoice, row.Client, row.effective_status),
        notes=invoice.notes,
        adjustment=_money(invoice.adjustment, currency),
        adjustment_reason=invoice.adjustment_reason,
        amount_paid=_money(invoice.amount_paid, currency),
        balance_due=_money(invoice.balance_due, currency),
        payment_terms_days=invoice.payment_terms_days,
        cancel_reason=invoice.cancel_reason,
        version=invoice.version,
        lines=[
            schemas.InvoiceLine(
                description=line.description,
                quantity=plain(line.quantity),
                unit_price=plain(line.unit_price),
                amount=_money(line.amount, currency),
            )
            for line in invoice.lines
        ],
        payments=[
            schemas.Payment(
                amount=_money(payment.amount, currency),
                received_on=payment.received_on,
                reference=payment.reference,
            )
            for payment in invoice.payments
        ],
    )


def event(item: AuditEvent) -> schemas.Event:
    return schemas.Event(
        action=item.action,
        actor=item.actor,
        changes=item.changes or {},
        note=item.note,
        created_at=item.created_at,
        sso_sub=item.sso_sub,
    )
