"""The invoice lifecycle: which transitions are allowed and the functions that apply
them. Every change is a conditional UPDATE on (id, version, status): when it
matches no row, someone else changed the invoice first, or the transition is not
allowed, and nothing is written. Each change writes its audit entry in the same
transaction.

    (new) --create--> DRAFT --issue--> DUE --(due date passes)--> OVER_DUE
    DRAFT --issue, payable 0 or less (nothing to pay)--> PAID
    DUE/OVER_DUE --payment (balance reaches 0)--> PAID
    DRAFT/DUE/OVER_DUE --cancel (reason)--> CANCEL
    DRAFT --edit--> DRAFT, DRAFT --delete--> (gone; its audit trail stays)
    PAID and CANCEL are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from . import audit, drafts
from .database import begin_write
from .extensions import db
from .models import Invoice, Payment, Status
from .money import to_places
from .queries import effective_status

ALLOWED_FROM: dict[str, frozenset[str]] = {
    "issue": frozenset({Status.DRAFT}),
    "pay": frozenset({Status.DUE, Status.OVER_DUE}),
    "cancel": frozenset({Status.DRAFT, Status.DUE, Status.OVER_DUE}),
    "edit": frozenset({Status.DRAFT}),
    "delete": frozenset({Status.DRAFT}),
}
_VERBS = {
    "issue": "issued",
    "pay": "paid",
    "cancel": "cancelled",
    "edit": "edited",
    "delete": "deleted",
}
_HINTS = {
    Status.PAID: "PAID is final",
    Status.CANCEL: "CANCEL is final",
    Status.DRAFT: "issue it first",
    Status.DUE: "only drafts can change",
    Status.OVER_DUE: "only drafts can change",
}


class LifecycleError(Exception):
    """A change that was refused; the message says why (HTTP 409)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TransitionRefused(LifecycleError):
    """The invoice's status does not allow this action."""


class Conflict(LifecycleError):
    """Someone else changed the invoice since it was loaded."""


class InvalidChange(ValueError):
    """Bad input for a change, by field (HTTP 400)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def allowed_actions(invoice: Invoice) -> set[str]:
    """Actions the invoice's status allows (roles are checked elsewhere)."""
    return {a for a, statuses in ALLOWED_FROM.items() if invoice.status in statuses}


def check_allowed(invoice: Invoice, action: str, today: date) -> None:
    """Raise TransitionRefused, saying why, unless the status allows the action."""
    if invoice.status not in ALLOWED_FROM[action]:
        raise _refusal(invoice, action, today)


def _refusal(invoice: Invoice, action: str, today: date) -> TransitionRefused:
    # The status people see (OVER_DUE for a DUE past its date), as every list
    # computes it: from the database, with the one SQL expression.
    status = db.session.scalar(
        select(effective_status(today)).where(Invoice.id == invoice.id)
    )
    return TransitionRefused(
        f"Invoice {invoice.number} is {status}: it cannot be {_VERBS[action]} "
        f"({_HINTS.get(invoice.status, 'not allowed')})."
    )


def _snapshot(invoice: Invoice) -> dict:
    return {
        "status": invoice.status,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "paid_date": invoice.paid_date,
        "amount_paid": to_places(invoice.amount_paid, invoice.currency),
        "cancel_reason": invoice.cancel_reason or None,
    }


def _guarded_update(
    invoice: Invoice, action: str, version: int, today: date, **values
) -> None:
    """UPDATE … WHERE id, version and status still match; else explain and stop."""
    check_allowed(invoice, action, today)
    result = db.session.execute(
        update(Invoice)
        .where(
            Invoice.id == invoice.id,
            Invoice.version == version,
            Invoice.status.in_(ALLOWED_FROM[action]),
        )
        .values(version=Invoice.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        db.session.refresh(invoice)
        return
    db.session.rollback()
    current = db.session.get(Invoice, invoice.id, populate_existing=True)
    if current is None:
        raise Conflict(f"Invoice {invoice.number} was deleted by someone else.")
    check_allowed(current, action, today)
    raise Conflict(
        f"Invoice {invoice.number} was changed by someone else since you opened it. "
        "Reload to see the change, then try again."
    )


def load_for_write(number: str) -> Invoice | None:
    """The invoice, read inside a write transaction (lock taken up front)."""
    begin_write()
    return db.session.scalar(select(Invoice).where(Invoice.number == number))


def nothing_to_pay(invoice: Invoice) -> bool:
    """A zero invoice or a credit note: no payment will ever settle it."""
    return invoice.payable <= 0


def issue(invoice: Invoice, version: int, actor: str, today: date) -> Invoice:
    """DRAFT → DUE: issue date today; due date from the terms if it has none.

    With nothing to pay (payable 0 or less) the invoice is settled as it is
    issued: PAID, paid today, nothing received; else it would stay DUE, then
    OVER_DUE, for ever, since no payment above zero can clear it.
    """
    due = invoice.due_date
    if due is None and invoice.payment_terms_days is not None:
        due = today + timedelta(days=invoice.payment_terms_days)
    if invoice.status in ALLOWED_FROM["issue"]:
        if due is None:
            raise TransitionRefused(
                f"Invoice {invoice.number} has neither a due date nor payment "
                "terms: edit the draft first."
            )
        if due < today:
            raise TransitionRefused(
                f"Invoice {invoice.number} would be due {due}, before its issue "
                f"date {today}: change the due date first."
            )
    before = _snapshot(invoice)
    values = {"status": Status.DUE.value}
    note = ""
    if nothing_to_pay(invoice):
        values = {"status": Status.PAID.value, "paid_date": today}
        note = (
            f"Payable {to_places(invoice.payable, invoice.currency)} "
            f"{invoice.currency}: nothing to pay, PAID at issue."
        )
    _guarded_update(
        invoice, "issue", version, today, issue_date=today, due_date=due, **values
    )
    audit.record(
        invoice.id,
        invoice.number,
        actor,
        "issue",
        audit.diff(before, _snapshot(invoice)),
        note=note,
        tenant_id=invoice.tenant_id,
    )
    db.session.commit()
    return invoice


@dataclass(frozen=True)
class PaymentInput:
    amount: Decimal
    received_on: date
    reference: str = ""


def record_payment(
    invoice: Invoice, version: int, actor: str, payment: PaymentInput, today: date
) -> Invoice:
    """Money received: lowers the balance; the payment that clears it makes it PAID."""
    check_allowed(invoice, "pay", today)
    balance = invoice.balance_due
    errors = {}
    if payment.amount <= 0:
        errors["amount"] = "Enter an amount above zero."
    elif payment.amount > balance:
        errors["amount"] = (
            f"That is more than the balance due "
            f"({to_places(balance, invoice.currency)} {invoice.currency}); "
            "overpayments are not accepted."
        )
    if payment.received_on > today:
        errors["received_on"] = "The payment date cannot be in the future."
    elif invoice.issue_date and payment.received_on < invoice.issue_date:
        errors["received_on"] = "The payment date is before the invoice was issued."
    if len(payment.reference) > 200:
        errors["reference"] = "Keep the reference under 200 characters."
    if errors:
        raise InvalidChange(errors)
    before = _snapshot(invoice)
    paid = invoice.amount_paid + payment.amount
    values = {"amount_paid": paid}
    if paid == invoice.payable:
        values.update(status=Status.PAID.value, paid_date=payment.received_on)
    _guarded_update(invoice, "pay", version, today, **values)
    db.session.add(
        Payment(
            invoice=invoice,
            amount=payment.amount,
            received_on=payment.received_on,
            reference=payment.reference,
        )
    )
    audit.record(
        invoice.id, invoice.number, actor, "payment",
        audit.diff(before, _snapshot(invoice)),
        tenant_id=invoice.tenant_id,
        note=f"{payment.amount} {invoice.currency} received {payment.received_on}"
        + (f", ref. {payment.reference}" if payment.reference else ""),
    )  # fmt: skip
    db.session.commit()
    return invoice


def cancel(invoice: Invoice, version: int, actor: str, reason: str, today: date):
    """DRAFT/DUE/OVER_DUE → CANCEL, with the reason recorded."""
    reason = (reason or "").strip()
    check_allowed(invoice, "cancel", today)
    if not reason:
        raise InvalidChange({"reason": "Say why the invoice is cancelled."})
    if len(reason) > 500:
        raise InvalidChange({"reason": "Keep the reason under 500 characters."})
    before = _snapshot(invoice)
    _guarded_update(
        invoice,
        "cancel",
        version,
        today,
        status=Status.CANCEL.value,
        cancel_reason=reason,
    )
    audit.record(
        invoice.id, invoice.number, actor, "cancel",
        audit.diff(before, _snapshot(invoice)), note=reason,
        tenant_id=invoice.tenant_id,
    )  # fmt: skip
    db.session.commit()
    return invoice


def _check_amounts(data: drafts.DraftInput) -> None:
    """Amounts no column could store: refused (422) before anything is written."""
    totals = drafts.compute_totals(data.lines, data.currency, data.adjustment)
    if problems := drafts.totals_problems(totals):
        raise InvalidChange(problems)


def create(data: drafts.DraftInput, actor: str) -> Invoice:
    """A new DRAFT with the next number for its billing period."""
    _check_amounts(data)
    for _attempt in range(3):
        begin_write()
        invoice = drafts.new_draft(data)
        db.session.add(invoice)
        try:
            db.session.flush()
        except IntegrityError:
            # Another admin took the same number at the same moment; take the next.
            db.session.rollback()
            continue
        audit.record(
            invoice.id, invoice.number, actor, "create",
            audit.diff({}, drafts.draft_fields(invoice)),
            tenant_id=invoice.tenant_id,
        )  # fmt: skip
        db.session.commit()
        return invoice
    raise LifecycleError(
        "The draft could not be given a number: other drafts for "
        f"{data.billing_period:%Y-%m} were being created at the same moment. "
        "Nothing was saved; try again."
    )


def edit(
    invoice: Invoice, version: int, actor: str, data: drafts.DraftInput, today: date
) -> Invoice:
    """DRAFT → DRAFT with the form's fields, lines and amounts."""
    before = drafts.draft_fields(invoice)
    _check_amounts(data)
    # Claim the row first (version and status checked), then write the fields.
    _guarded_update(invoice, "edit", version, today)
    drafts.fill_draft(invoice, data)
    db.session.flush()
    audit.record(
        invoice.id, invoice.number, actor, "edit",
        audit.diff(before, drafts.draft_fields(invoice)),
        tenant_id=invoice.tenant_id,
    )  # fmt: skip
    db.session.commit()
    return invoice


def delete(invoice: Invoice, version: int, actor: str, today: date) -> None:
    """Delete a DRAFT; its audit trail stays, by number."""
    before = drafts.draft_fields(invoice)
    _guarded_update(invoice, "delete", version, today)
    audit.record(
        None, invoice.number, actor, "delete", audit.diff(before, {}),
        tenant_id=invoice.tenant_id,
    )  # fmt: skip
    db.session.delete(invoice)
    db.session.commit()


def mark_overdue(today: date, actor: str = "system (mark-overdue)") -> list[str]:
    """Persist OVER_DUE for DUE invoices past their due date; returns their numbers."""
    begin_write()
    rows = db.session.execute(
        select(Invoice.id, Invoice.number, Invoice.due_date, Invoice.tenant_id).where(
            Invoice.status == Status.DUE.value, Invoice.due_date < today
        )
    ).all()
    changed = []
    for invoice_id, number, due, tenant_id in rows:
        result = db.session.execute(
            update(Invoice)
            .where(Invoice.id == invoice_id, Invoice.status == Status.DUE.value)
            .values(status=Status.OVER_DUE.value, version=Invoice.version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            changed.append(number)
            audit.record(
                invoice_id, number, actor, "mark-overdue",
                {"status": [Status.DUE.value, Status.OVER_DUE.value]},
                note=f"due {due}", tenant_id=tenant_id,
            )  # fmt: skip
    db.session.commit()
    return changed
