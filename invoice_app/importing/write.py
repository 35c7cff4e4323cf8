"""Writing: checked invoices into the database in one transaction, audited."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..database import begin_write
from ..extensions import db
from ..models import Client, Invoice, InvoiceLine, Status
from .rules import CheckedInvoice, in_chunks

_BATCH = 5000  # invoices per flush: bounds the unit of work on very large files


@dataclass(frozen=True)
class ImportResult:
    """How many invoices an import created and how many it replaced."""

    created: int
    updated: int


def existing_clients(invoices: list[CheckedInvoice]) -> dict[str, Client]:
    """Clients the file names, by lower-case e-mail."""
    emails = sorted({i.client_email for i in invoices if i.client_email})
    found: dict[str, Client] = {}
    for chunk in in_chunks(emails):
        for client in db.session.scalars(
            select(Client).where(func.lower(Client.email).in_(chunk))
        ):
            found.setdefault(client.email.lower(), client)
    return found


def write_invoices(invoices: list[CheckedInvoice], *, update: bool) -> ImportResult:
    """Write checked invoices in one transaction; nothing stays on failure."""
    # The checks have run already, outside the write lock, so checking a big file
    # holds up no other writer. The lock is taken here (SQLite: BEGIN IMMEDIATE,
    # which ends the checks' read transaction) so the clients and invoices read
    # below stay as read until the commit and no lock upgrade fails half-way. A
    # number another writer added since the checks is refused by the unique
    # constraint: import_bytes reports the IntegrityError, and nothing is written.
    begin_write()
    clients = existing_clients(invoices)
    existing = _invoices_to_replace(invoices) if update else {}
    created = updated = 0
    written: list[tuple[Invoice, str, dict]] = []
    with db.session.no_autoflush:
        for count, data in enumerate(invoices, start=1):
            client = _client_for(data, clients)
            invoice = existing.get(data.number)
            if invoice is None:
                invoice = Invoice(number=data.number)
                db.session.add(invoice)
                created += 1
                written.append((invoice, "import", {}))
            else:
                updated += 1
                # A replaced invoice is a new version: open edit forms go stale.
                invoice.version = (invoice.version or 1) + 1
                written.append((invoice, "import-update", _audited(invoice)))
            _copy(data, invoice, client)
            if count % _BATCH == 0:
                db.session.flush()
    db.session.flush()
    for invoice, action, before in written:
        audit.record(
            invoice.id, invoice.number, IMPORT_ACTOR, action,
            audit.diff(before, _audited(invoice)), tenant_id=invoice.tenant_id,
        )  # fmt: skip
    db.session.commit()
    return ImportResult(created=created, updated=updated)


IMPORT_ACTOR = "cli (invoices import)"


def _invoices_to_replace(invoices: list[CheckedInvoice]) -> dict[str, Invoice]:
    """The stored invoices an --update import replaces, lines loaded, by number."""
    numbers = [i.number for i in invoices if i.number]
    existing: dict[str, Invoice] = {}
    for chunk in in_chunks(numbers):
        for invoice in db.session.scalars(
            select(Invoice)
            .where(Invoice.number.in_(chunk))
            .options(selectinload(Invoice.lines))
        ):
            existing[invoice.number] = invoice
    return existing


def _client_for(data: CheckedInvoice, clients: dict[str, Client]) -> Client:
    """The file's client by e-mail, taking the file's name, or a new one."""
    client = clients.get(data.client_email)
    if client is None:
        client = Client(name=data.client_name, email=data.client_email)
        clients[data.client_email] = client
        db.session.add(client)
    elif client.name != data.client_name:
        client.name = data.client_name
    return client


def _copy(data: CheckedInvoice, invoice: Invoice, client: Client) -> None:
    """The file's values onto a new or replaced invoice, lines included."""
    invoice.client = client
    invoice.billing_period = data.billing_period
    invoice.currency = data.currency
    invoice.usage_cost = data.usage_cost
    invoice.payable = data.payable
    invoice.issue_date = data.issue_date
    invoice.due_date = data.due_date
    invoice.status = data.status
    invoice.paid_date = data.paid_date
    invoice.notes = data.notes
    # The file gives usage and payable; the difference is the adjustment.
    invoice.adjustment = data.payable - data.usage_cost
    # What was paid on a replaced DUE invoice stays paid (its payment rows
    # stay too); a PAID one is settled in full, and a credit needs nothing.
    paid_before = invoice.amount_paid or Decimal(0)
    invoice.amount_paid = (
        max(data.payable, Decimal(0)) if data.status == Status.PAID else paid_before
    )
    invoice.lines = [
        InvoiceLine(
            position=position,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
        )
        for position, line in enumerate(data.lines)
    ]


def _audited(invoice: Invoice) -> dict:
    """The imported fields, as the audit trail shows them."""
    return {
        "status": invoice.status,
        "payable": invoice.payable,
        "usage_cost": invoice.usage_cost,
        "due_date": invoice.due_date,
        "issue_date": invoice.issue_date,
        "paid_date": invoice.paid_date,
        "client": invoice.client.email if invoice.client else None,
    }
