"""The invoice list's optional columns: one registry for the table, XLSX and PDF.

The list always shows the user guide's five columns (invoice and client, usage
cost and period, payable and due date, status, actions). Beside them a user may
show any of the optional columns below, in an order of their own; the choice is
kept on their account (User.list_columns) and travels as the list parameter
`columns` (filters.py), so a link, a saved view or an export can name it too.

Each column reads its value from a flat row with the attributes of
queries.export_rows() (number, client_email, currency, payable, amount_paid,
notes, effective_status, ...); table_fields() gives an invoice_query() row
that shape, so the table, the XLSX and the PDF compute every value alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .models import Status

if TYPE_CHECKING:
    from .filters import InvoiceFilters
    from .models import User

# The value of `columns` that asks for no optional column at all (an empty
# value means "not given": the user's saved choice).
NO_COLUMNS = "none"
OPEN_STATUSES = (Status.DUE.value, Status.OVER_DUE.value)


@dataclass(frozen=True)
class Column:
    """One optional column: how it is named, computed, sorted and typed."""

    key: str
    label: str
    # date | period | money | integer | text: the cell type in XLSX, the
    # filter in the table and the PDF, and whether the cell is right-aligned.
    kind: str
    value: Callable[[Any, date], object]
    # Width in the XLSX sheet, in characters.
    width: float
    # The list's sort key (filters.SORT_KEYS) when it can be sorted by.
    sort: str | None = None
    # False when the exports have it among their fixed columns anyway.
    in_exports: bool = True

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "integer")


def balance_due(row, day: date) -> Decimal:
    """What is still to be paid: nothing on drafts, paid or cancelled invoices."""
    if row.effective_status not in OPEN_STATUSES:
        return Decimal(0)
    return row.payable - (row.amount_paid or Decimal(0))


def days_overdue(row, day: date) -> int | None:
    """Whole days past the due date of an overdue invoice; None otherwise."""
    if row.effective_status != Status.OVER_DUE or row.due_date is None:
        return None
    return (day - row.due_date).days


COLUMNS: dict[str, Column] = {
    column.key: column
    for column in (
        Column(
            "issue_date",
            "Issue date",
            "date",
            lambda row, day: row.issue_date,
            12,
            sort="issue_date",
        ),
        Column("balance_due", "Balance due", "money", balance_due, 16),
        Column("days_overdue", "Days overdue", "integer", days_overdue, 12),
        Column("currency", "Currency", "text", lambda row, day: row.currency, 9),
        Column(
            "client_email",
            "Client e-mail",
            "text",
            lambda row, day: row.client_email,
            32,
        ),
        Column("notes", "Notes", "text", lambda row, day: row.notes, 40),
        # The table stacks the period under the usage cost; shown, it gets a
        # column of its own. The exports always have it in a column of its own.
        Column(
            "billing_period",
            "Billing period",
            "period",
            lambda row, day: row.billing_period,
            13,
            sort="period",
            in_exports=False,
        ),
    )
}
COLUMN_KEYS = tuple(COLUMNS)


def shown_columns(filters: InvoiceFilters, user: User | None) -> tuple[str, ...]:
    """The optional columns to show: asked for, else the user's choice, else none."""
    if filters.columns is not None:
        return filters.columns
    saved = getattr(user, "list_columns", None) or ()
    # A key dropped from the registry since it was saved is skipped, not an error.
    return tuple(key for key in saved if key in COLUMNS)


def with_shown_columns(filters: InvoiceFilters, user: User | None) -> InvoiceFilters:
    """filters naming their columns outright, for exports made away from the user."""
    return filters.with_(columns=shown_columns(filters, user), page=filters.page)


def export_columns(keys: tuple[str, ...]) -> list[Column]:
    """The columns an export adds after its fixed ones, in the chosen order."""
    return [COLUMNS[key] for key in keys if COLUMNS[key].in_exports]


def chooser_order(shown: tuple[str, ...]) -> list[str]:
    """Every key in the chooser's order: the shown ones first, in their order."""
    return [*shown, *(key for key in COLUMN_KEYS if key not in shown)]


def moved(shown: tuple[str, ...], key: str, step: int) -> tuple[str, ...]:
    """shown with key moved one place up (step -1) or down (+1), if it can be."""
    if key not in shown:
        return shown
    order = list(shown)
    at = order.index(key)
    to = at + step
    if not 0 <= to < len(order):
        return shown
    order[at], order[to] = order[to], order[at]
    return tuple(order)


class TableFields:
    """An invoice_query() row read like an export_rows() row (by attribute)."""

    __slots__ = ("_row",)

    def __init__(self, row):
        self._row = row

    def __getattr__(self, name: str):
        row = self._row
        if name == "effective_status":
            return row.effective_status
        if name == "client_email":
            return row.Client.email
        if name == "client_name":
            return row.Client.name
        return getattr(row.Invoice, name)


def cell_value(key: str, row, day: date) -> object:
    """The value of column key for an invoice_query() row (table and PDF)."""
    return COLUMNS[key].value(TableFields(row), day)
