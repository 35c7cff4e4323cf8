"""The overview, its API and exports see only the user's tenant and clients.

Two tenants (test_tenant_scoping's Acme and Globex) both owe money in USD;
a second Acme client is hidden from a user limited to the first, as the
portal's `clients` claim does (User.allowed_clients).
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from pypdf import PdfReader

from tests.conftest import TODAY
from tests.test_tenant_scoping import (  # noqa: F401  (fixture)
    build,
    make_user,
    sign_in,
    tenants,
    text_of,
)

MINE = ("Acme Client", "billing@acme-client.example")
HIDDEN = ("Acme Hidden", "hidden@acme-client.example")
THEIRS = ("Globex Secret", "secret@globex.example")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def owed(tenants):  # noqa: F811
    acme, globex = tenants
    late = {"issue_date": date(2025, 3, 1), "due_date": date(2025, 6, 1)}
    build(acme, *MINE, number="INV-1", payable=Decimal("11.00"), **late)
    build(acme, *HIDDEN, number="INV-H", payable=Decimal("22.00"), **late)
    build(globex, *THEIRS, number="INV-1", payable=Decimal("999.00"), **late)
    return acme, globex


def usd(client, **args) -> dict:
    body = client.get("/api/receivables", query_string=args).get_json()
    return {c["currency"]: c for c in body["currencies"]}.get("USD")


def test_a_tenant_sees_only_its_own_receivables(client, owed):
    acme, _ = owed
    sign_in(client, make_user(acme))
    figures = usd(client)
    assert figures["outstanding"] == "33.00"
    assert figures["buckets"]["31_60"] == {"amount": "33.00", "count": 2}
    for url in (
        "/billing/overview",
        "/billing/overview/export.xlsx",
        "/billing/overview/export.pdf",
    ):
        shown = text_of(client.get(url))
        assert "Globex" not in shown and "999" not in shown, url
        assert "Acme Hidden" in shown, url


def test_a_user_limited_to_some_clients_sees_only_theirs(client, owed):
    acme, _ = owed
    user = make_user(acme, role="staff", allowed_clients=[MINE[1]])
    sign_in(client, user, role="staff")
    assert usd(client)["outstanding"] == "11.00"
    page = client.get("/billing/overview").get_data(as_text=True)
    assert "Acme Client" in page and "Acme Hidden" not in page
    # The figures' links list the same: the hidden client's invoice is not there.
    listed = client.get("/billing/invoices", query_string={"aging": "overdue"})
    assert "INV-1" in listed.get_data(as_text=True)
    assert "INV-H" not in listed.get_data(as_text=True)
    hidden = client.get("/billing/invoices", query_string={"client": HIDDEN[1]})
    assert "INV-H" not in hidden.get_data(as_text=True)
    pdf = client.get("/billing/overview/export.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "$11.00" in text and "$33.00" not in text and "Hidden" not in text
