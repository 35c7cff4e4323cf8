"""Fixtures shared by every test: the app on SQLite or PostgreSQL, clients, data.

Set DATABASE_URL to run the suite on PostgreSQL (CI does both); otherwise each
session gets a fresh SQLite file.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count

import pytest
import time_machine
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("APP_ENV", "test")

from invoice_app import create_app  # noqa: E402
from invoice_app.database import drop_everything  # noqa: E402
from invoice_app.extensions import db  # noqa: E402
from invoice_app.models import Client, Invoice, InvoiceLine, Role, User  # noqa: E402

PASSWORDS = {"admin": "admin-password-1", "staff": "staff-password-1"}
# The day lifecycle tests run on (frozen_day), so dates in them are exact.
TODAY = datetime(2025, 7, 15, 9, 0, tzinfo=UTC)


class FreshContextClient(FlaskClient):
    """A test client whose every request gets its own app context.

    Tests run inside an app context (for the database); without this, requests
    would share its `g`, where Flask-Login caches the signed-in user, and one
    client's login would leak into another's requests.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        # Each request is a boundary for the test's own session too: on SQLite a
        # read transaction keeps its snapshot, and would not see the request's
        # writes.
        if has_app_context():
            db.session.commit()
        return response


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The database under test, migrated from empty once per session."""
    if not os.environ.get("DATABASE_URL"):
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    app = create_app()
    with app.app_context():
        # Start from nothing, so the migrations themselves are under test.
        drop_everything()
        upgrade()
        db.engine.dispose()
    return app.config["SQLALCHEMY_DATABASE_URI"]


@pytest.fixture
def app_factory(database_url, tmp_path):
    """Build apps on the test database with extra config; tables emptied after."""
    apps = []

    def make(**config):
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": database_url,
                # The job queue and export files of this test alone, not the
                # checkout's instance folder (tests that run a worker pass
                # their own, shared with it).
                "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite3"),
                "EXPORT_DIR": str(tmp_path / "exports"),
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                # Tests sign in many times within a (frozen) minute; the rate
                # limit has its own test, which turns it back on.
                "RATELIMIT_ENABLED": False,
                **config,
            }
        )
        app.test_client_class = FreshContextClient
        apps.append(app)
        return app

    yield make
    main = [a for a in apps if a.config["SQLALCHEMY_DATABASE_URI"] == database_url]
    if main:
        with main[0].app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    """The CSRF token a rendered page carries."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Auth:
    """Signs a test client in as a user with a role, through the real form."""

    def __init__(self, client):
        self.client = client

    def user(self, role: str = "admin", email: str | None = None) -> User:
        email = email or f"{role}@example.test"
        user = db.session.scalar(db.select(User).where(User.email == email))
        if user is None:
            user = User(email=email, role=Role(role).value)
            user.set_password(PASSWORDS[role])
            db.session.add(user)
            db.session.commit()
        return user

    def login(self, role: str = "admin"):
        user = self.user(role)
        page = self.client.get("/login").get_data(as_text=True)
        return self.client.post(
            "/login",
            data={
                "email": user.email,
                "password": PASSWORDS[role],
                "csrf_token": csrf_token(page),
            },
        )


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def admin(client, auth):
    """The test client, signed in as a billing admin."""
    auth.login("admin")
    return client


@pytest.fixture
def frozen_day():
    """Freeze the clock at TODAY (sign in after this, or the session looks future)."""
    with time_machine.travel(TODAY, tick=False):
        yield


_numbers = count(1)


@pytest.fixture
def make_invoice(app):
    """Build and save an invoice; any field can be overridden."""

    def make(**overrides) -> Invoice:
        client_name = overrides.pop("client_name", "Acme Analytics")
        client_email = overrides.pop("client_email", None) or (
            re.sub(r"\W+", "", client_name.lower()) + "@example.test"
        )
        lines = overrides.pop("lines", [("Compute", "10", "1.5", "15.00")])
        client = db.session.scalar(
            db.select(Client).where(Client.email == client_email)
        )
        if client is None:
            client = Client(name=client_name, email=client_email)
        values = {
            "number": f"INV-T-{next(_numbers):05d}",
            "billing_period": date(2025, 5, 1),
            "currency": "USD",
            "usage_cost": Decimal("15.00"),
            "payable": Decimal("15.00"),
            "issue_date": date(2025, 6, 1),
            "due_date": date(2025, 6, 30),
            "status": "DUE",
            "notes": "",
        }
        values.update(overrides)
        invoice = Invoice(client=client, **values)
        invoice.lines = [
            InvoiceLine(
                position=i,
                description=d,
                quantity=Decimal(q),
                unit_price=Decimal(u),
                amount=Decimal(a),
            )
            for i, (d, q, u, a) in enumerate(lines)
        ]
        db.session.add(invoice)
        db.session.commit()
        return invoice

    return make


@pytest.fixture
def search(client, auth):
    """Quick search through the API, as staff: the matching numbers, sorted."""
    auth.login("staff")

    def get(q: str) -> list[str]:
        response = client.get("/api/invoices", query_string={"q": q, "per_page": 200})
        assert response.status_code == 200, response.json
        return sorted(item["number"] for item in response.json["items"])

    return get
