"""Exact money: Decimal in Python, scaled integers in the database, Babel for display.

SQLite's NUMERIC is a float underneath (0.125 reads back as 0.12), so amounts are
stored as integers of a fixed scale on every database and converted at the edge.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from babel.core import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies
from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator

from .text_input import SHOWN_MAX, shown

# 10**4 covers every ISO 4217 minor unit (at most 4 places, CLF/UYW) and keeps
# 99,999,999,999,999.99 well inside a signed 64-bit integer.
AMOUNT_SCALE = 4
AMOUNT_MAX = Decimal("99999999999999.99")
# Quantities share the amounts' scale, so their limit too.
QUANTITY_MAX = AMOUNT_MAX
# Unit prices are stored in millionths: 10**12 of them is what a BIGINT holds.
UNIT_PRICE_MAX = Decimal("999999999999.999999")
_KNOWN_CURRENCIES = frozenset(list_currencies())


class ScaledDecimal(TypeDecorator):
    """A Decimal stored as an integer count of 10**-scale units."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = AMOUNT_SCALE):
        super().__init__()
        self.scale = scale
        self._factor = Decimal(10) ** scale

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        scaled = value * self._factor
        if scaled != scaled.to_integral_value():
            # Never round silently: validation must have caught this earlier.
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(int(value)) / self._factor

    @property
    def python_type(self):
        return Decimal


def is_currency(code: str) -> bool:
    """True for an ISO 4217 code Babel knows."""
    return code in _KNOWN_CURRENCIES


def currency_places(code: str) -> int:
    """Digits after the decimal point for a currency (JPY 0, USD 2, KWD 3)."""
    return get_currency_precision(code)


def parse_amount(
    text: str, currency: str | None = None, maximum: Decimal = AMOUNT_MAX
) -> Decimal:
    """Parse a plain decimal amount such as ``-12.50``; raise ValueError otherwise.

    Accepts digits with an optional sign and point only: ``1e3``, ``1,000.00``,
    ``0x10``, ``NaN`` and ``Infinity`` are refused, as are more decimal places than
    the currency has and values beyond maximum (what the column can store).
    """
    text = (text or "").strip()
    body = text[1:] if text[:1] in "+-" else text
    whole, _, frac = body.partition(".")
    if not body or not (whole or frac) or not (whole + frac).isdigit():
        raise ValueError(f"{shown(text)} is not a number like 1234.50")
    if not whole.isascii() or not frac.isascii():
        raise ValueError(f"{shown(text)} is not a number like 1234.50")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - guarded above
        raise ValueError(f"{shown(text)} is not a number") from exc
    if abs(value) > maximum:
        raise ValueError(f"{shown_number(text)} is larger than {maximum}")
    if currency is not None:
        places = currency_places(currency)
        if -value.as_tuple().exponent > places:
            raise ValueError(
                f"{shown_number(text)} has more decimal places than {currency} "
                f"allows ({places})"
            )
    return value


def shown_number(text: str) -> str:
    """A refused number as a message repeats it, its middle cut when it is long."""
    return text if len(text) <= SHOWN_MAX else f"{text[:20]}…{text[-8:]}"


def line_amount(
    quantity: Decimal, unit_price: Decimal, currency: str, rounding=ROUND_HALF_UP
) -> Decimal:
    """quantity × unit price, rounded (half-up) to the currency's places."""
    # The exact product first: 18 digits times 18 can outgrow the default 28.
    with localcontext(prec=60):
        quantum = Decimal(1).scaleb(-currency_places(currency))
        return (quantity * unit_price).quantize(quantum, rounding=rounding)


def format_money(amount: Decimal | None, currency: str, locale: str = "en_US") -> str:
    """Format an amount for display in its currency and the configured locale."""
    if amount is None:
        return ""
    return format_currency(amount, currency, locale=Locale.parse(locale))


def to_places(amount: Decimal, currency: str) -> Decimal:
    """Show an amount with its currency's places (12.5 USD -> 12.50) losing nothing."""
    quantum = Decimal(1).scaleb(-currency_places(currency))
    rounded = amount.quantize(quantum)
    return rounded if rounded == amount else amount
