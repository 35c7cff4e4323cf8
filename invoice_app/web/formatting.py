"""Jinja filters that format invoice values for people."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import Flask, current_app, g

from ..money import format_money, to_places

if TYPE_CHECKING:
    from ..columns import Column


def _locale() -> str:
    # A single sign-on user's `locale` claim (auth/sso_session.py sets g.locale),
    # else the configured LOCALE.
    return g.get("locale") or current_app.config["LOCALE"]


def money(amount: Decimal | None, currency: str) -> str:
    """12345.5, 'EUR' -> '€12,345.50' in the configured locale."""
    return format_money(amount, currency, _locale())


def period(value: date | None) -> str:
    """A billing period as people say it: 'May 2025'."""
    if value is None:
        return ""
    return format_date(value, "MMMM yyyy", locale=_locale())


def day(value: date | None) -> str:
    """A date in the locale's medium form: 'May 31, 2025'."""
    if value is None:
        return ""
    return format_date(value, "medium", locale=_locale())


def column_text(column: Column, value: object, currency: str) -> str:
    """An optional column's value (columns.py) as the table and the PDF list read
    it; the XLSX types the same values as cells (exports/xlsx.py)."""
    if value is None or value == "":
        return ""
    if column.kind == "date":
        return day(value)
    if column.kind == "period":
        return period(value)
    if column.kind == "money":
        return money(value, currency)
    if column.kind == "integer":
        return f"{value:,}"
    return str(value)


def amount_text(amount: Decimal | None, currency: str) -> str:
    """A plain amount for an input field: 12.50, 1200 (JPY)."""
    return "" if amount is None else str(to_places(amount, currency))


def when(value: datetime | None) -> str:
    """A moment in the configured TIMEZONE: 'Jul 15, 2025, 2:05 PM'."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return format_datetime(value.astimezone(zone), "medium", locale=_locale())


def plain(value: Decimal | None) -> str:
    """A quantity or unit price without exponent or trailing zeros: 10, 0.000012."""
    return "" if value is None else f"{value.normalize():f}"


def file_size(size: int | None) -> str:
    """A file's size for people: '812 bytes', '45.3 kB', '12.8 MB' (powers of 1000)."""
    if size is None:
        return ""
    if size < 1000:
        return f"{size} bytes"
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000
        if size < 1000 or unit == "TB":
            break
    return f"{size:.1f} {unit}"


def register(app: Flask) -> None:
    app.add_template_filter(file_size)
    app.add_template_filter(plain)
    app.add_template_filter(amount_text)
    app.add_template_filter(when)
    app.add_template_filter(money)
    app.add_template_filter(period)
    app.add_template_filter(day)
    app.add_template_global(column_text)
