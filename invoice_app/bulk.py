"""Bulk lifecycle actions: each invoice changes on its own, and the result says
which changed and why the others could not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from . import lifecycle
from .extensions import db
from .filters import InvoiceFilters
from .lifecycle import InvalidChange, LifecycleError
from .models import Invoice
from .queries import invoice_query


@dataclass
class BulkResult:
    action: str
    succeeded: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        done = f"{len(self.succeeded)} of {len(self.succeeded) + len(self.failed)}"
        return f"{self.action.capitalize()}: {done} invoices changed."


def matching_numbers(filters: InvoiceFilters, today: date, limit: int) -> list[str]:
    """Numbers of every invoice the filters match, in the table's order."""
    stmt = invoice_query(filters, today).with_only_columns(Invoice.number).limit(limit)
    return list(db.session.scalars(stmt))


def apply(
    action: str,
    numbers: list[str],
    actor: str,
    today: date,
    reason: str = "",
    versions: Mapping[str, int] | None = None,
) -> BulkResult:
    """Issue or cancel each invoice in turn; a refusal does not stop the others.

    versions holds the version the user saw of each ticked invoice: one changed
    since is refused, as a single action would be. Invoices without one (all
    that match the filters, which nobody saw one by one) change as they are now.
    """
    versions = versions or {}
    result = BulkResult("issue" if action == "issue" else "cancel")
    for number in dict.fromkeys(numbers):  # once each, in the order given
        invoice = lifecycle.load_for_write(number)
        try:
            if invoice is None:
                raise LifecycleError(f"There is no invoice {number}.")
            version = versions.get(number, invoice.version)
            if action == "issue":
                lifecycle.issue(invoice, version, actor, today)
            else:
                lifecycle.cancel(invoice, version, actor, reason, today)
        except LifecycleError as error:
            db.session.rollback()
            result.failed.append((number, error.message))
        except InvalidChange as error:
            db.session.rollback()
            result.failed.append((number, " ".join(error.errors.values())))
        else:
            result.succeeded.append(number)
    return result
