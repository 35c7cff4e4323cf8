"""Typed cells: text, dates, months, e-mails, amounts read from a record's cells,
one problem per bad cell."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from ..invoice_numbers import invoice_number_problem
from ..models import Status
from ..money import is_currency, parse_amount
from .read import Record

_STATUSES = tuple(s.value for s in Status)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


class Cells:
    """Reads typed values from a record's cells, one problem per bad cell."""

    def __init__(self, record: Record):
        self.record = record

    def fail(self, column: str, message: str) -> None:
        self.record.fail(column, message)

    def text(
        self, column: str, *, required: bool = True, max_length: int | None = None
    ) -> str | None:
        """The cell's text; "" when empty and optional, None when it is wrong."""
        if column in self.record.failed:
            return None
        value = self.record.cells.get(column, "")
        if not value:
            if required:
                self.fail(column, "a value is required")
                return None
            return ""
        if "\x00" in value:
            self.fail(column, "contains a NUL character")
            return None
        if _SURROGATE.search(value):
            # Only a JSON \u escape can make one; no database can store it.
            self.fail(
                column,
                f"{value!r} holds half of a UTF-16 surrogate pair, which is not "
                "a character",
            )
            return None
        if max_length is not None and len(value) > max_length:
            self.fail(column, f"is longer than {max_length} characters")
            return None
        return value

    def invoice_number(self, column: str) -> str | None:
        value = self.text(column, max_length=64)
        if not value:
            return None
        if problem := invoice_number_problem(value):
            self.fail(column, problem)
            return None
        return value

    def date(self, column: str, *, required: bool = True) -> date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.fail(column, f"{value!r} is not a valid date (YYYY-MM-DD)")
            return None

    def month(self, column: str) -> date | None:
        value = self.text(column)
        if not value:
            return None
        match = _MONTH.fullmatch(value)
        try:
            if not match:
                raise ValueError(value)
            return date(int(match[1]), int(match[2]), 1)
        except ValueError:
            self.fail(column, f"{value!r} is not a valid month (YYYY-MM)")
            return None

    def email(self, column: str) -> str | None:
        value = self.text(column, max_length=254)
        if not value:
            return None
        if not _EMAIL.fullmatch(value):
            self.fail(column, f"{value!r} is not an e-mail address")
            return None
        return value.lower()

    def currency(self, column: str) -> str | None:
        value = self.text(column)
        if not value:
            return None
        if not is_currency(value):
            self.fail(
                column, f"{value!r} is not an ISO 4217 currency code (upper-case, USD)"
            )
            return None
        return value

    def status(self, column: str) -> str | None:
        value = self.text(column)
        if not value:
            return None
        if value not in _STATUSES:
            self.fail(column, f"{value!r} is not a status ({', '.join(_STATUSES)})")
            return None
        return value

    def amount(self, column: str, currency: str | None) -> Decimal | None:
        """A money amount, with at most the currency's places when it is known."""
        value = self.text(column)
        if not value:
            return None
        try:
            return parse_amount(value, currency)
        except ValueError as exc:
            self.fail(column, str(exc))
            return None

    def decimal(
        self, column: str, places: int, maximum: Decimal | None = None
    ) -> Decimal | None:
        """A plain decimal number with at most `places` decimal places."""
        value = self.text(column)
        if not value:
            return None
        try:
            number = parse_amount(value)
        except ValueError as exc:
            self.fail(column, str(exc))
            return None
        if number.scaleb(places) != number.scaleb(places).to_integral_value():
            self.fail(column, f"{value} has more than {places} decimal places")
            return None
        if maximum is not None and abs(number) > maximum:
            self.fail(column, f"{value} is larger than {maximum}")
            return None
        return number
