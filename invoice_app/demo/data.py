"""Realistic demo data: clients, two years of monthly invoices, every status.

Pure data: nothing here touches the database (load.py writes it).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from itertools import permutations
from typing import NamedTuple

from ..models import Status

DEMO_ADMIN = ("admin@example.com", "demo-admin-password")
DEMO_STAFF = ("staff@example.com", "demo-staff-password")

_COMPANIES = [
    "Acme Analytics",
    "Blue Harbor Logistics",
    "Müller Maschinenbau GmbH",
    "Société Générale des Nuages",
    "Nordlicht Medien AG",
    "Öresund Data AB",
    "Café Olé Holdings",
    "Зелёный Парк ООО",
    "株式会社さくらクラウド",
    "Tanaka Robotics",
    "Pixel & Pine Studio",
    "Rio Verde Agro",
    "Kilimanjaro Fintech",
    "Żabka Systems",
    "Árvíztűrő Informatika Kft",
    "Harbour Bridge Health",
    "Maple Leaf Media",
    "Delhi Digital Pvt Ltd",
    "Fjord Energy AS",
    "Atlas Freight 100% Green",
    "Sunrise_Labs",
    "O'Brien & Sons",
    "Quantum Quokka Pty",
    "Lumière Cinéma",
]
_CURRENCIES = ["USD", "USD", "USD", "EUR", "EUR", "GBP", "JPY", "INR"]
_SERVICES = [
    ("Compute instances (vCPU-hours)", Decimal("0.0416")),
    ("Block storage (GB-months)", Decimal("0.10")),
    ("Object storage (GB-months)", Decimal("0.023")),
    ("Network egress (GB)", Decimal("0.09")),
    ("Managed PostgreSQL (instance-hours)", Decimal("0.171")),
    ("Load balancer (hours)", Decimal("0.0225")),
    ("Kubernetes control plane (hours)", Decimal("0.10")),
    ("Support plan — Business", Decimal("100")),
]
# Rough rates so amounts in JPY or INR look like amounts in those currencies.
_RATES = {
    "USD": 1,
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "JPY": 150,
    "INR": 83,
}


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _slug(name: str, index: int, domain: str) -> str:
    ascii_name = "".join(c for c in name.lower() if c.isascii() and c.isalnum())
    return f"billing+{ascii_name or 'client'}{index}@{domain}"


def client_count(invoices: int) -> int:
    """How many clients share `invoices` demo invoices (about 10 each, ≤ 100,000)."""
    return max(12, min(invoices // 8, 100_000))


def demo_clients(count: int, domain: str = "example.com") -> Iterator[tuple[str, str]]:
    """(name, email) pairs; names repeat the pool with a branch suffix."""
    for i in range(count):
        base = _COMPANIES[i % len(_COMPANIES)]
        name = base if i < len(_COMPANIES) else f"{base} #{i // len(_COMPANIES) + 1}"
        yield name, _slug(base, i, domain)


class DemoLine(NamedTuple):
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class DemoInvoice(NamedTuple):
    number: str
    client: int  # index into demo_clients(client_count(count))
    billing_period: date
    currency: str
    usage_cost: Decimal
    status: str
    issue_date: date | None
    due_date: date
    paid_date: date | None
    notes: str
    lines: list[DemoLine]


_NOTES = [
    "",
    "",
    "Reserved-instance discount applied",
    "PO 4711",
    "Quarterly commitment",
]
# Every ordered pick of k services, so a line set is one random index.
_PICKS = {k: list(permutations(range(len(_SERVICES)), k)) for k in range(1, 5)}
# Invoices per random stream; a block can be generated alone (in another process).
BLOCK = 10_000


def _status(roll: float, months_ago: int) -> str:
    if months_ago <= 0:
        return Status.DRAFT
    if months_ago == 1:
        return Status.DRAFT if roll < 0.15 else Status.DUE
    if months_ago <= 3:
        if roll < 0.45:
            return Status.PAID
        return Status.DUE if roll < 0.92 else Status.CANCEL
    if roll < 0.06:
        return Status.CANCEL
    return Status.PAID if roll < 0.95 else Status.DUE


class _Prices:
    """Unit prices and rounding per currency, worked out once, not per line."""

    def __init__(self):
        self.unit = {}
        self.quantum = {}
        for currency, rate in _RATES.items():
            self.quantum[currency] = Decimal(1).scaleb(0 if currency == "JPY" else -2)
            self.unit[currency] = [
                (usd * Decimal(rate)).quantize(Decimal("0.000001"))
                for _, usd in _SERVICES
            ]


def demo_block(
    block: int, count: int, today: date, seed: int = 2025
) -> list[DemoInvoice]:
    """Invoices block*BLOCK … up to count, spread over the 24 months up to today."""
    rng = random.Random(f"{seed}:{block}")
    random_ = rng.random
    clients = client_count(count)
    first = _month_add(today.replace(day=1), -23)
    periods = [_month_add(first, m) for m in range(24)]
    prices = _Prices()
    invoices = []
    for i in range(block * BLOCK, min(count, (block + 1) * BLOCK)):
        month = int(random_() * 24)
        period = periods[month]
        currency = _CURRENCIES[int(random_() * len(_CURRENCIES))]
        units, quantum = prices.unit[currency], prices.quantum[currency]
        picks = _PICKS[1 + int(random_() * 4)]
        lines = []
        for service in picks[int(random_() * len(picks))]:
            description, usd_price = _SERVICES[service]
            qty = Decimal(1 + int(random_() * 2000) if usd_price < 50 else 1)
            unit = units[service]
            lines.append(
                DemoLine(description, qty, unit, (qty * unit).quantize(quantum))
            )
        status = _status(random_(), months_ago=23 - month)
        issued = None if status == Status.DRAFT else _month_add(period, 1)
        due = _month_add(period, 1) + timedelta(days=(14, 30, 45)[int(random_() * 3)])
        paid = None
        if status == Status.PAID:
            paid = min(today, issued + timedelta(days=1 + int(random_() * 40)))
        invoices.append(
            DemoInvoice(
                number=f"INV-{period:%Y%m}-{i + 1:06d}",
                client=i % clients,
                billing_period=period,
                currency=currency,
                usage_cost=sum(line.amount for line in lines),
                status=str(status),
                issue_date=issued,
                due_date=due,
                paid_date=paid,
                notes=_NOTES[int(random_() * len(_NOTES))],
                lines=lines,
            )
        )
    return invoices


def demo_invoices(count: int, today: date, seed: int = 2025) -> Iterator[DemoInvoice]:
    """`count` invoices over the 24 months up to today: 1–4 lines, every status."""
    for block in range(-(-count // BLOCK)):
        yield from demo_block(block, count, today, seed)
