"""The audit trail: one AuditEvent per change, written in the change's transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from .auth.sso_session import identity as sso_identity
from .extensions import db
from .models import AuditEvent
from .webhooks import events as webhook_events


def _plain(value) -> str | None:
    """A value as the trail stores it; empty text counts as no value."""
    if value is None or value == "":
        return None
    if isinstance(value, date | Decimal):
        return str(value)
    return str(value)


def diff(before: dict, after: dict) -> dict[str, list]:
    """{field: [before, after]} for the fields whose value changed."""
    return {
        key: [_plain(before.get(key)), _plain(after.get(key))]
        for key in sorted(set(before) | set(after))
        if _plain(before.get(key)) != _plain(after.get(key))
    }


def record(
    invoice_id: int | None,
    number: str,
    actor: str,
    action: str,
    changes: dict,
    note: str = "",
    *,
    tenant_id: int,
) -> AuditEvent:
    """Add an audit entry to the current session (committed with the change)."""
    # A user signed in through the portal: its `sub` and the token's `jti`.
    sub, jti = sso_identity() or (None, None)
    event = AuditEvent(
        tenant_id=tenant_id,
        invoice_id=invoice_id,
        invoice_number=number,
        actor=actor,
        action=action,
        changes=changes,
        note=note,
        sso_sub=sub,
        sso_jti=jti,
    )
    db.session.add(event)
    # The portal hears of it through webhooks: same transaction (an outbox).
    webhook_events.record(invoice_id, action, changes)
    return event


def timeline(number: str) -> list[AuditEvent]:
    """The invoice's audit trail, newest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.invoice_number == number)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        )
    )
