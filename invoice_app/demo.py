"""Realistic demo data: clients, two years of monthly invoices, every status."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from .extensions import db
from .models import Client, Invoice, InvoiceLine, Role, Status, User

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


def _slug(name: str, index: int) -> str:
    ascii_name = "".join(c for c in name.lower() if c.isascii() and c.isalnum())
    return f"billing+{ascii_name or 'client'}{index}@example.com"


def demo_clients(count: int) -> Iterator[tuple[str, str]]:
    """(name, email) pairs; names repeat the pool with a branch suffix."""
    for i in range(count):
        base = _COMPANIES[i % len(_COMPANIES)]
        name = base if i < len(_COMPANIES) else f"{base} #{i // len(_COMPANIES) + 1}"
        yield name, _slug(base, i)


def _lines(rng: random.Random, currency: str) -> list[tuple[str, Decimal, Decimal]]:
    places = 0 if currency == "JPY" else 2
    quantum = Decimal(1).scaleb(-places)
    picked = rng.sample(_SERVICES, rng.randint(1, 4))
    lines = []
    for description, usd_price in picked:
        qty = Decimal(rng.randint(1, 2000)) if usd_price < 50 else Decimal(1)
        unit = (usd_price * Decimal(_RATES[currency])).quantize(Decimal("0.000001"))
        lines.append((description, qty, unit, (qty * unit).quantize(quantum)))
    return lines


def _status(rng: random.Random, period: date, today: date) -> str:
    months_ago = (today.year - period.year) * 12 + today.month - period.month
    if months_ago <= 0:
        return Status.DRAFT
    roll = rng.random()
    if months_ago == 1:
        return Status.DRAFT if roll < 0.15 else Status.DUE
    if months_ago <= 3:
        if roll < 0.45:
            return Status.PAID
        return Status.DUE if roll < 0.92 else Status.CANCEL
    if roll < 0.06:
        return Status.CANCEL
    return Status.PAID if roll < 0.95 else Status.DUE


def demo_invoices(count: int, today: date, seed: int = 2025) -> Iterator[dict]:
    """Invoice dicts (with 'lines') spread over the 24 months up to this one."""
    rng = random.Random(seed)
    clients = list(demo_clients(max(12, min(count // 8, 100_000))))
    first = _month_add(today.replace(day=1), -23)
    for i in range(count):
        name, email = clients[i % len(clients)]
        period = _month_add(first, rng.randint(0, 23))
        currency = rng.choice(_CURRENCIES)
        lines = _lines(rng, currency)
        usage = sum((amount for *_, amount in lines), Decimal(0))
        status = _status(rng, period, today)
        issued = None if status == Status.DRAFT else _month_add(period, 1)
        due = _month_add(period, 1) + timedelta(days=rng.choice([14, 30, 45]))
        paid = None
        if status == Status.PAID:
            paid = min(today, issued + timedelta(days=rng.randint(1, 40)))
        yield {
            "number": f"INV-{period:%Y%m}-{i + 1:06d}",
            "client_name": name,
            "client_email": email,
            "billing_period": period,
            "currency": currency,
            "usage_cost": usage,
            "payable": usage,
            "issue_date": issued,
            "due_date": due,
            "status": str(status),
            "paid_date": paid,
            "notes": rng.choice(
                [
                    "",
                    "",
                    "Reserved-instance discount applied",
                    "PO 4711",
                    "Quarterly commitment",
                ]
            ),
            "lines": lines,
        }


def seed_invoices(count: int, today: date, seed: int = 2025) -> int:
    """Insert demo invoices (skipping numbers that exist); returns how many."""
    clients = {c.email: c for c in db.session.scalars(select(Client))}
    existing = set(db.session.scalars(select(Invoice.number)))
    added = 0
    for data in demo_invoices(count, today, seed):
        if data["number"] in existing:
            continue
        client = clients.get(data["client_email"])
        if client is None:
            client = Client(name=data["client_name"], email=data["client_email"])
            clients[client.email] = client
            db.session.add(client)
        lines = data.pop("lines")
        for key in ("client_name", "client_email"):
            data.pop(key)
        invoice = Invoice(client=client, **data)
        invoice.lines = [
            InvoiceLine(position=n, description=d, quantity=q, unit_price=u, amount=a)
            for n, (d, q, u, a) in enumerate(lines)
        ]
        db.session.add(invoice)
        added += 1
        if added % 2000 == 0:
            db.session.flush()
    db.session.commit()
    return added


def ensure_user(email: str, password: str, role: Role) -> bool:
    """Create the user if missing; True when created."""
    if db.session.scalar(select(User).where(User.email == email)):
        return False
    user = User(email=email, role=role.value)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return True


def invoice_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Invoice))
