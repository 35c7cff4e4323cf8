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


def _listeners(tenant_id: int, event_type: str) -> list[WebhookEndpoint]:
    """The tenant's endpoints that want event_type, read once per transaction.

    Most changes have nobody listening (an import of a hundred thousand
    invoices, a tenant without endpoints): they then cost one query, not an
    event each.
    """
    known = db.session.info.setdefault(ENDPOINTS_READ, {})
    if tenant_id not in known:
        known[tenant_id] = db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id)
        ).all()
    return [e for e in known[tenant_id] if event_type in e.event_types]


def emit(invoice: Invoice, event_type: str) -> WebhookEvent | None:
    """One event about invoice, with a delivery to each endpoint that wants it;
    None when no endpoint of the tenant wants this type (nothing to send)."""
    from ..api.serializers import invoice_detail
    from ..queries import effective_status

    listeners = _listeners(invoice.tenant_id, event_type)
    if not listeners:
        return None
    db.session.flush()
    status = db.session.scalar(
        select(effective_status(today())).where(Invoice.id == invoice.id)
    )
    row = SimpleNamespace(
        Invoice=invoice, Client=invoice.client, effective_status=status
    )
    event = new_event(
        invoice.tenant_id,
        event_type,
        invoice_detail(row).model_dump(mode="json"),
        invoice.number,
    )
    deliver_to(event, listeners)
    return event


def new_event(
    tenant_id: int, event_type: str, data: dict, invoice_number: str = ""
) -> WebhookEvent:
    """An event as every delivery of it sends it: a `msg_…` id, the body fixed."""
    return WebhookEvent(
        id=f"msg_{secrets.token_urlsafe(18)}",
        tenant_id=tenant_id,
        type=event_type,
        invoice_number=invoice_number,
        payload=json.dumps(
            {"type": event_type, "timestamp": utcnow().isoformat(), "data": data},
            separators=(",", ":"),
        ),
    )


def deliver_to(event: WebhookEvent, endpoints) -> list[WebhookDelivery]:
    """Add event and a delivery of it to each endpoint, due now; once the
    transaction commits, a worker is asked to send them."""
    db.session.add(event)
    now = utcnow()
    deliveries = [
        WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
        for endpoint in endpoints
    ]
    db.session.add_all(deliveries)
    db.session.info[DELIVERIES_WAITING] = True
    return deliveries


# The endpoints read in this transaction (by tenant), forgotten when it ends:
# an endpoint added meanwhile is seen by the next one.
ENDPOINTS_READ = "webhook_endpoints_read"
# Set on the session when a transaction adds deliveries: once it commits, a
# worker is asked to send them (a rolled-back one asks nothing).
DELIVERIES_WAITING = "webhook_deliveries_waiting"


@event.listens_for(Session, "after_commit")
def _ask_a_worker(session: Session) -> None:
    session.info.pop(ENDPOINTS_READ, None)
    if session.info.pop(DELIVERIES_WAITING, False):
        from ..jobs import enqueue

        enqueue("deliver_webhooks")


@event.listens_for(Session, "after_rollback")
def _nothing_to_send(session: Session) -> None:
    session.info.pop(DELIVERIES_WAITING, None)
    session.info.pop(ENDPOINTS_READ, None)


SCAN_BATCH = 200


def scan_overdue(day: date) -> list[str]:
    """Send invoice.overdue once for each invoice first found past due on day.

    OVER_DUE stays computed at query time (queries.effective_status); this only
    remembers, in overdue_notice, which invoices were announced, so a second
    scan (or a second worker's) announces none of them again: its notice row's
    primary key refuses it, and that batch is rolled back. Only tenants with an
    endpoint that wants invoice.overdue are scanned, in batches of SCAN_BATCH
    committed one by one, so the write lock is never held for long.
    """
    tenants = [
        e.tenant_id
        for e in db.session.scalars(select(WebhookEndpoint))
        if "invoice.overdue" in e.event_types
    ]
    announced: list[str] = []
    while tenants:
        begin_write()
        batch = db.session.scalars(
            select(Invoice)
            .where(
                Invoice.tenant_id.in_(set(tenants)),
                Invoice.status.in_([Status.DUE.value, Status.OVER_DUE.value]),
                Invoice.due_date < day,
                ~select(OverdueNotice.invoice_id)
                .where(OverdueNotice.invoice_id == Invoice.id)
                .exists(),
            )
            .order_by(Invoice.id)
            .limit(SCAN_BATCH)
        ).all()
        if not batch:
            db.session.rollback()
            break
        for invoice in batch:
            db.session.add(OverdueNotice(invoice_id=invoice.id))
            emit(invoice, "invoice.overdue")
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            break  # another scan announced them at the same moment
        announced += [invoice.number for invoice in batch]
    return announced
