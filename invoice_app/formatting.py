"""Jinja filters that format invoice values for people."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from flask import Flask, current_app

from .money import format_money


def money(amount: Decimal | None, currency: str) -> str:
    """12345.5, 'EUR' -> '€12,345.50' in the configured locale."""
    return format_money(amount, currency, current_app.config["LOCALE"])


def period(value: date | None) -> str:
    """A billing period as people say it: 'May 2025'."""
    if value is None:
        return ""
    return format_date(value, "MMMM yyyy", locale=current_app.config["LOCALE"])


def day(value: date | None) -> str:
    """A date in the locale's medium form: 'May 31, 2025'."""
    if value is None:
        return ""
    return format_date(value, "medium", locale=current_app.config["LOCALE"])


def register(app: Flask) -> None:
    app.add_template_filter(money)
    app.add_template_filter(period)
    app.add_template_filter(day)
