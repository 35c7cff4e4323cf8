"""Which changes make which webhook events, written to an outbox with the change.

audit.record() is called by every change to an invoice, in the change's own
transaction; it calls record() here, which writes the event (type, the invoice
as the API shows it, a `msg_…` id) and one delivery per endpoint of the
tenant that asked for that type. A rolled-back change takes its events with
it; a committed one has them saved before anything is sent (delivery.py).
"""

from __future__ import annotations

import json
import secrets
from datetime import date
from types import SimpleNamespace

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import today
from ..database import begin_write
from ..extensions import db
from ..models import (
    Invoice,
    OverdueNotice,
    Status,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    utcnow,
)

EVENT_TYPES = (
    "invoice.created",
    "invoice.updated",
    "invoice.issued",
    "invoice.payment_recorded",
    "invoice.paid",
    "invoice.cancelled",
    "invoice.overdue",
)
# The audit trail's actions and the events they make.
BY_ACTION = {
    "create": "invoice.created",
    "import": "invoice.created",
    "edit": "invoice.updated",
    "import-update": "invoice.updated",
    "issue": "invoice.issued",
    "payment": "invoice.payment_recorded",
    "cancel": "invoice.cancelled",
    "settle": "invoice.paid",
}


def types_for(action: str, changes: dict) -> list[str]:
    """The events one audited change makes (a payment that clears: two)."""
    types = [BY_ACTION[action]] if action in BY_ACTION else []
    became = (changes.get("status") or [None, None])[1]
    if became == Status.PAID and "invoice.paid" not in types:
        types.append("invoice.paid")
    return types


def record(invoice_id: int | None, action: str, changes: dict) -> None:
    """Write the events of one change (none for a deleted draft) to the outbox."""
    types = types_for(action, changes)
    if invoice_id is None or not types:
        return
    invoice = db.session.get(Invoice, invoice_id)
    for event_type in types:
        emit(invoice, event_type)


def emit(invoice: Invoice, event_type: str) -> WebhookEvent:
    """One event about invoice, with a delivery to each endpoint that wants it."""
    from ..api.serializers import invoice_detail
    from ..queries import effective_status

    db.session.flush()
    status = db.session.scalar(
        select(effective_status(today())).where(Invoice.id == invoice.id)
    )
    row = SimpleNamespace(
        Invoice=invoice, Client=invoice.client, effective_status=status
    )
    now = utcnow()
    event = WebhookEvent(
        id=f"msg_{secrets.token_urlsafe(18)}",
        tenant_id=invoice.tenant_id,
        type=event_type,
        invoice_number=invoice.number,
        payload=json.dumps(
            {
                "type": event_type,
                "timestamp": now.isoformat(),
                "data": invoice_detail(row).model_dump(mode="json"),
            },
            separators=(",", ":"),
        ),
    )
    db.session.add(event)
    endpoints = db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == invoice.tenant_id)
    )
    for endpoint in endpoints:
        if event_type in endpoint.event_types:
            db.session.add(
                WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
            )
            db.session.info[DELIVERIES_WAITING] = True
    return event


# Set on the session when a transaction adds deliveries: once it commits, a
# worker is asked to send them (a rolled-back one asks nothing).
DELIVERIES_WAITING = "webhook_deliveries_waiting"


@event.listens_for(Session, "after_commit")
def _ask_a_worker(session: Session) -> None:
    if session.info.pop(DELIVERIES_WAITING, False):
        from ..jobs import enqueue

        enqueue("deliver_webhooks")


@event.listens_for(Session, "after_rollback")
def _nothing_to_send(session: Session) -> None:
    session.info.pop(DELIVERIES_WAITING, None)


def scan_overdue(day: date) -> list[str]:
    """Send invoice.overdue once for each invoice first found past due on day.

    OVER_DUE stays computed at query time (queries.effective_status); this only
    remembers, in overdue_notice, which invoices were announced, so a second
    scan (or a second worker's) announces none of them again: its notice row's
    primary key refuses it, and that scan's batch is rolled back.
    """
    begin_write()
    past_due = db.session.scalars(
        select(Invoice)
        .where(
            Invoice.status.in_([Status.DUE.value, Status.OVER_DUE.value]),
            Invoice.due_date < day,
            ~select(OverdueNotice.invoice_id)
            .where(OverdueNotice.invoice_id == Invoice.id)
            .exists(),
        )
        .order_by(Invoice.id)
    ).all()
    numbers = []
    for invoice in past_due:
        db.session.add(OverdueNotice(invoice_id=invoice.id))
        emit(invoice, "invoice.overdue")
        numbers.append(invoice.number)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return []  # another scan announced them at the same moment
    return numbers
