"""What an export says about itself: filters, time, user, totals, file name."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from ..filters import DATE_FIELDS, InvoiceFilters

SORT_LABELS = {
    "number": "Invoice number",
    "client": "Client name",
    "period": "Billing period",
    "usage_cost": "Usage cost",
    "payable": "Payable",
    "issue_date": "Issue date",
    "due_date": "Due date",
    "status": "Status",
}


@dataclass(frozen=True)
class ExportContext:
    """Everything an export shows besides the rows; built by the view."""

    filters: InvoiceFilters
    generated_at: datetime
    generated_by: str
    # A selection (ticked rows): just these invoices, in the filters' sort;
    # None: every invoice the filters match.
    numbers: tuple[str, ...] | None = None

    @property
    def filter_lines(self) -> list[tuple[str, str]]:
        return describe_filters(self.filters)

    @property
    def columns(self) -> tuple[str, ...]:
        """The optional columns of the file; the view resolves them into filters."""
        return self.filters.columns or ()


@dataclass
class StatusTotal:
    count: int = 0
    usage_cost: Decimal = Decimal(0)
    payable: Decimal = Decimal(0)


@dataclass
class RunningTotals:
    """Counts and sums per (status, currency), added up from the exported rows.

    Summed from the very rows written, so the totals in a file always agree
    with its rows, whatever changed in the database meanwhile.
    """

    by_status: dict[tuple[str, str], StatusTotal] = field(
        default_factory=lambda: defaultdict(StatusTotal)
    )

    def add(self, status: str, currency: str, usage: Decimal, payable: Decimal):
        total = self.by_status[(status, currency)]
        total.count += 1
        total.usage_cost += usage
        total.payable += payable

    @property
    def count(self) -> int:
        return sum(t.count for t in self.by_status.values())

    def per_status(self) -> list[tuple[str, str, StatusTotal]]:
        """(status, currency, total) in status then currency order."""
        return [(s, c, t) for (s, c), t in sorted(self.by_status.items())]

    def per_currency(self) -> list[tuple[str, StatusTotal]]:
        """(currency, total) over every status, in currency order."""
        merged: dict[str, StatusTotal] = defaultdict(StatusTotal)
        for (_, currency), total in self.by_status.items():
            into = merged[currency]
            into.count += total.count
            into.usage_cost += total.usage_cost
            into.payable += total.payable
        return sorted(merged.items())


def describe_filters(filters: InvoiceFilters) -> list[tuple[str, str]]:
    """The filters as (label, value) lines a person can read in a file."""
    lines = [("Status", "All" if filters.status == "ALL" else filters.status)]
    if filters.date_from or filters.date_to:
        start = filters.date_from.isoformat() if filters.date_from else "any"
        end = filters.date_to.isoformat() if filters.date_to else "any"
        lines.append((DATE_FIELDS[filters.date_field], f"{start} to {end}"))
    if filters.q:
        lines.append(("Search", filters.q))
    if filters.aging:
        lines.append(("Owed today", filters.aging_label))
    if filters.currency:
        lines.append(("Currency", filters.currency))
    if filters.client:
        lines.append(("Client e-mail", filters.client))
    direction = "descending" if filters.sort_descending else "ascending"
    lines.append(("Sorted by", f"{SORT_LABELS[filters.sort_key]}, {direction}"))
    return lines


def _slug(text: str, limit: int) -> str:
    ascii_text = text.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:limit].strip("-")


def export_filename(filters: InvoiceFilters, day: date, extension: str) -> str:
    """invoices-2025-07-15[-due-period-2025-05-01-2025-06-30-acme].xlsx"""
    parts = [f"invoices-{day.isoformat()}"]
    if filters.status != "ALL":
        parts.append(_slug(filters.status, 10))
    if filters.date_from or filters.date_to:
        parts.append(filters.date_field)
        parts += [d.isoformat() for d in (filters.date_from, filters.date_to) if d]
    if filters.q:
        parts.append(_slug(filters.q, 24))
    parts += [_slug(filters.aging, 12), _slug(filters.currency, 3)]
    return "-".join(p for p in parts if p) + f".{extension}"


def invoice_pdf_name(number: str) -> str:
    """invoice-INV-2025_07.pdf: one invoice's PDF, its number made file-name safe."""
    return "invoice-" + re.sub(r"[^A-Za-z0-9._-]+", "_", number) + ".pdf"
