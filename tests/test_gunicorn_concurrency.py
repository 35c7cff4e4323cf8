"""Two gunicorn workers on one SQLite file, many admins paying the same invoices at
once: every accepted payment is kept, conflicts are 409s, nothing is locked out."""

import re
import threading
import urllib.parse
from datetime import date
from decimal import Decimal

import pytest
from flask_migrate import upgrade

from invoice_app import create_app
from invoice_app.extensions import db
from invoice_app.models import AuditEvent, Client, Invoice, Payment, Role, User
from tests.conftest import csrf_token
from tests.gunicorn_server import Browserless, GunicornServer

THREADS = 8
PAYMENTS_PER_THREAD = 12
INVOICES = 3


@pytest.fixture
def sqlite_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'concurrent.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        admin = User(email="admin@example.test", role=Role.ADMIN.value)
        admin.set_password("admin-password-1")
        client = Client(name="Busy Co", email="busy@example.test")
        db.session.add(admin)
        for n in range(INVOICES):
            db.session.add(
                Invoice(
                    number=f"INV-C{n}",
                    client=client,
                    billing_period=date(2025, 5, 1),
                    currency="USD",
                    usage_cost=Decimal("1000.00"),
                    payable=Decimal("1000.00"),
                    issue_date=date(2025, 6, 1),
                    due_date=date(2099, 1, 1),
                    status="DUE",
                )
            )
        db.session.commit()
        yield app, url
        db.session.remove()
        db.engine.dispose()


def login(server) -> Browserless:
    http = Browserless(server.base)
    page = http.request("/login")[2].decode()
    form = {
        "email": "admin@example.test",
        "password": "admin-password-1",
        "csrf_token": csrf_token(page),
    }
    status, _, _ = http.request("/login", data=urllib.parse.urlencode(form).encode())
    assert status == 302
    return http


def pay_once(http, number: str) -> int:
    """Open the invoice, then record 1.00 with the version it showed."""
    page = http.request(f"/billing/invoices/{number}")[2].decode()
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    form = {
        "csrf_token": csrf_token(page),
        "version": version,
        "amount": "1.00",
        "received_on": "2025-07-01",
    }
    status, _, _ = http.request(
        f"/billing/invoices/{number}/pay", data=urllib.parse.urlencode(form).encode()
    )
    return status


def test_two_workers_keep_every_accepted_payment(sqlite_app):
    app, url = sqlite_app
    outcomes: list[tuple[str, int]] = []
    lock = threading.Lock()

    with GunicornServer(url, workers=2, LOGIN_RATE_LIMIT="1000 per minute") as server:
        sessions = [login(server) for _ in range(THREADS)]

        def work(http, offset):
            for i in range(PAYMENTS_PER_THREAD):
                number = f"INV-C{(offset + i) % INVOICES}"
                status = pay_once(http, number)
                with lock:
                    outcomes.append((number, status))

        threads = [
            threading.Thread(target=work, args=(http, n))
            for n, http in enumerate(sessions)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    statuses = [status for _, status in outcomes]
    assert len(statuses) == THREADS * PAYMENTS_PER_THREAD
    assert set(statuses) <= {302, 409}, statuses
    accepted = {f"INV-C{n}": 0 for n in range(INVOICES)}
    for number, status in outcomes:
        accepted[number] += status == 302
    assert sum(accepted.values()) > 0
    total = sum(accepted.values())
    # Shown with -s: how the attempts split between accepted and conflicts.
    print(f"accepted {total}, conflicts (409) {len(statuses) - total}")
    with app.app_context():
        for number, count in accepted.items():
            invoice = db.session.scalar(
                db.select(Invoice).where(Invoice.number == number)
            )
            assert invoice.amount_paid == Decimal(count), number
            assert invoice.version == 1 + count
        for model in (Payment, AuditEvent):
            rows = db.session.scalar(db.select(db.func.count()).select_from(model))
            assert rows == total, model.__name__
