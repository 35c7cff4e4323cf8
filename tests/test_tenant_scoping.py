"""Tenant isolation through HTTP: users see and change their own tenant's invoices.

Two tenants share an invoice number (INV-1), as they may. Globex's invoices
carry marks (client name, e-mail, notes, numbers) that must never reach a user of
Acme: not in a page, a fragment, the JSON API, an export, a zip, a datalist.
Every route of url_map that takes an invoice number is tried with Globex's
numbers and must answer 404, exactly as for a number that does not exist, and
change nothing; so is every route that takes a saved view, with Globex's view.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from invoice_app.extensions import db
from invoice_app.models import (
    AuditEvent,
    Client,
    Invoice,
    InvoiceLine,
    SavedView,
    Tenant,
    User,
)
from tests.conftest import PASSWORDS, TODAY, csrf_token
from tests.test_saved_views import assert_hidden_everywhere

# What of Globex's must never show to Acme's users.
GLOBEX_MARKS = ("Globex Secret", "secret@globex.example", "globex-only", "INV-G-")


def build(tenant: Tenant, client_name: str, email: str, **values) -> Invoice:
    client = db.session.scalar(
        select(Client).where(Client.email == email, Client.tenant_id == tenant.id)
    )
    client = client or Client(tenant=tenant, name=client_name, email=email)
    fields = {
        "billing_period": date(2025, 5, 1),
        "currency": "USD",
        "usage_cost": Decimal("15.00"),
        "payable": Decimal("15.00"),
        "issue_date": date(2025, 6, 1),
        "due_date": date(2025, 7, 30),
        "status": "DUE",
        "notes": "",
        **values,
    }
    invoice = Invoice(client=client, **fields)
    invoice.lines = [
        InvoiceLine(
            position=0,
            description="Compute",
            quantity=Decimal(10),
            unit_price=Decimal("1.5"),
            amount=Decimal("15.00"),
        )
    ]
    db.session.add(invoice)
    db.session.commit()
    return invoice


@pytest.fixture
def tenants(app):
    acme = Tenant(slug="acme", name="Acme")
    globex = Tenant(slug="globex", name="Globex")
    db.session.add_all([acme, globex])
    db.session.commit()
    return acme, globex


@pytest.fixture
def world(tenants):
    """Acme: INV-1 (DUE), INV-A-DRAFT. Globex: INV-1 and INV-G-* of every kind."""
    acme, globex = tenants
    mine = ("Acme Client", "billing@acme-client.example")
    theirs = ("Globex Secret", "secret@globex.example")
    build(acme, *mine, number="INV-1", notes="acme-note")
    build(acme, *mine, number="INV-A-DRAFT", status="DRAFT", issue_date=None)
    build(globex, *theirs, number="INV-1", notes="globex-only", payable=Decimal(999))
    for number, status in (
        ("INV-G-DUE", "DUE"),
        ("INV-G-DRAFT", "DRAFT"),
        ("INV-G-PAID", "PAID"),
    ):
        build(
            globex,
            *theirs,
            number=number,
            status=status,
            notes="globex-only",
            issue_date=None if status == "DRAFT" else date(2025, 6, 1),
            paid_date=date(2025, 6, 5) if status == "PAID" else None,
            amount_paid=Decimal("15.00") if status == "PAID" else Decimal(0),
        )
    return acme, globex


def make_user(tenant: Tenant, role: str = "admin", **fields) -> User:
    user = User(
        email=f"{role}@{tenant.slug}.example", role=role, tenant=tenant, **fields
    )
    user.set_password(PASSWORDS[role])
    db.session.add(user)
    db.session.commit()
    return user


def sign_in(client, user: User, role: str = "admin") -> None:
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORDS[role],
            "csrf_token": csrf_token(page),
        },
    )
    assert response.status_code == 302


@pytest.fixture
def acme_admin(client, world):
    acme, _ = world
    sign_in(client, make_user(acme))
    return client


def snapshot() -> dict:
    """Every invoice of every tenant: (tenant, number) -> (status, version)."""
    db.session.commit()
    rows = db.session.execute(
        select(Tenant.slug, Invoice.number, Invoice.status, Invoice.version).join(
            Tenant, Invoice.tenant_id == Tenant.id
        )
    )
    return {(slug, number): (status, v) for slug, number, status, v in rows}


def text_of(response) -> str:
    """What a user would read in the response, whatever its format."""
    if response.mimetype == "application/pdf":
        reader = PdfReader(io.BytesIO(response.data))
        return " ".join(page.extract_text() for page in reader.pages)
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(response.data))
        return " ".join(
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    if response.mimetype == "application/zip":
        archive = zipfile.ZipFile(io.BytesIO(response.data))
        return " ".join(archive.namelist())
    return response.get_data(as_text=True)


def assert_nothing_of_globex(response, where: str) -> None:
    shown = text_of(response)
    for mark in GLOBEX_MARKS:
        assert mark not in shown, f"{where} shows {mark!r}"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


# --- what a user sees ----------------------------------------------------------


def test_the_list_counts_and_totals_are_the_tenants_own(acme_admin):
    html = acme_admin.get("/billing/invoices").get_data(as_text=True)
    assert "Acme Client" in html and "INV-A-DRAFT" in html
    assert_nothing_of_globex(acme_admin.get("/billing/invoices"), "the list")
    fragment = acme_admin.get(
        "/billing/invoices?status=ALL", headers={"HX-Request": "true"}
    )
    assert_nothing_of_globex(fragment, "the fragment")
    # Globex's INV-1 (999.00) is not in the totals: Acme's two invoices only.
    api = acme_admin.get("/api/invoices").get_json()
    assert sorted(i["number"] for i in api["items"]) == ["INV-1", "INV-A-DRAFT"]
    assert "999" not in json.dumps(api)


def test_a_search_finds_nothing_of_another_tenant(acme_admin):
    # (Not a mark itself: the page shows the search it was asked.)
    for q in ("globex", "Secret", "INV-G", "globex-on", "INV-1"):
        for path in ("/billing/invoices", "/billing/invoice-summary", "/api/invoices"):
            response = acme_admin.get(path, query_string={"q": q})
            assert response.status_code == 200, (path, q)
            assert_nothing_of_globex(response, f"{path}?q={q}")
    api = acme_admin.get("/api/invoices", query_string={"q": "INV-1"}).get_json()
    assert [i["client_name"] for i in api["items"]] == ["Acme Client"]


def test_status_counts_come_from_the_tenants_own_tally(acme_admin):
    def total(**query) -> int:
        return acme_admin.get("/api/invoices", query_string=query).get_json()["total"]

    assert (total(), total(status="DRAFT"), total(status="PAID")) == (2, 1, 0)
    html = acme_admin.get("/billing/invoices").get_data(as_text=True)
    assert "PAID (0)" in html and "All Status (2)" in html and "DUE (1)" in html


def test_the_same_number_in_two_tenants_is_two_invoices(acme_admin, world):
    html = acme_admin.get("/billing/invoices/INV-1").get_data(as_text=True)
    assert "Acme Client" in html and "acme-note" in html
    assert "Globex Secret" not in html and "999" not in html


def test_exports_hold_the_tenants_invoices_only(acme_admin):
    for path in ("/billing/invoices/export.xlsx", "/billing/invoices/export.pdf"):
        response = acme_admin.get(path)
        assert response.status_code == 200, path
        assert "INV-A-DRAFT" in text_of(response), path
        assert_nothing_of_globex(response, path)


def test_every_get_route_shows_nothing_of_another_tenant(app, acme_admin):
    """Walks url_map: routes without an invoice number, with filters that would
    match Globex's invoices if anything leaked."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        if rule.endpoint in ("auth.sso", "auth.sso_session_ended"):
            continue  # single sign-on is off here: 404
        path = rule.build({})[1]
        for query in ({}, {"q": "globex"}, {"q": "INV-"}):
            response = acme_admin.get(path, query_string=query)
            assert response.status_code < 500, path
            assert_nothing_of_globex(response, f"{rule.endpoint} {query}")


NUMBER_ROUTE_FIELDS = {
    # The API's changes (JSON bodies: tests/test_api_actions.py tries them).
    "api.issue": {},
    "api.record_payment": {},
    "api.cancel": {},
    "billing.cancel": {"version": "1", "reason": "Duplicate"},
    "billing.pay": {"version": "1", "amount": "1.00", "received_on": "2025-06-05"},
    "billing.issue": {"version": "1"},
    "billing.delete": {"version": "1"},
    "billing.edit_draft": {
        "version": "1",
        "client_email": "billing@acme-client.example",
        "client_name": "Acme Client",
        "billing_period": "2025-06",
        "currency": "USD",
        "due_date": "2025-08-01",
        "lines-0-description": "Compute",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "1",
    },
}


def number_rules(app):
    rules = [r for r in app.url_map.iter_rules() if "number" in r.arguments]
    # A route taking a number but missing here fails, so none is left untried.
    assert {r.endpoint for r in rules if "POST" in r.methods} == set(
        NUMBER_ROUTE_FIELDS
    )
    return rules


@pytest.mark.parametrize("number", ["INV-G-DUE", "INV-G-DRAFT", "INV-G-PAID"])
def test_every_route_with_another_tenants_invoice_answers_404(app, acme_admin, number):
    """Walks url_map: each route that takes a number, with Globex's numbers."""
    before = snapshot()
    for rule in number_rules(app):
        path = rule.build({"number": number})[1]
        missing_path = rule.build({"number": "INV-NONE"})[1]

        def as_if_missing(response, missing, path=path, number=number) -> None:
            """The answer is exactly the one for a number that does not exist."""
            assert response.status_code == 404, path
            shown = response.get_data(as_text=True).replace(number, "INV-NONE")
            assert shown == missing.get_data(as_text=True), path
            assert response.mimetype == missing.mimetype, path

        if "GET" in rule.methods:
            as_if_missing(acme_admin.get(path), acme_admin.get(missing_path))
        if "POST" in rule.methods:
            page = acme_admin.get("/billing/invoices").get_data(as_text=True)
            fields = {"csrf_token": csrf_token(page)}
            fields |= NUMBER_ROUTE_FIELDS[rule.endpoint]
            for headers in ({}, {"HX-Request": "true"}):
                as_if_missing(
                    acme_admin.post(path, data=fields, headers=headers),
                    acme_admin.post(missing_path, data=fields, headers=headers),
                )
    assert snapshot() == before


def test_another_tenants_saved_view_is_404_on_every_route(app, acme_admin, world):
    """Walks url_map's view routes, and ?view= on the list, exports and API: a
    Globex view, even shared with its whole tenant, is as missing as no view."""
    _, globex = world
    owner = make_user(globex)
    view = SavedView(
        tenant_id=globex.id, owner_id=owner.id, name="Globex shared",
        name_key="globex shared", shared=True, audience="team",
        args={"q": "globex"},
    )  # fmt: skip
    db.session.add(view)
    db.session.commit()
    for path in ("/billing/invoices", "/billing/views", "/billing/views/counts"):
        assert "Globex shared" not in text_of(acme_admin.get(path)), path
    before = snapshot()
    assert_hidden_everywhere(app, acme_admin, view.id)
    assert snapshot() == before
    db.session.expire_all()
    assert db.session.get(SavedView, view.id).name == "Globex shared"


def test_the_audit_timeline_is_the_tenants_own(acme_admin, world):
    acme, globex = world
    # Globex's trail of its INV-1 must not appear on Acme's INV-1.
    db.session.add(
        AuditEvent(
            tenant_id=globex.id,
            invoice_number="INV-1",
            actor="someone@globex.example",
            action="issue",
            changes={},
            note="globex-only",
        )
    )
    db.session.commit()
    html = acme_admin.get("/billing/invoices/INV-1").get_data(as_text=True)
    assert "someone@globex.example" not in html and "globex-only" not in html


# --- what a user changes -------------------------------------------------------


def post_form(client, path: str, **fields):
    page = client.get("/billing/invoices").get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(page), **fields})


def test_bulk_all_that_match_changes_the_tenants_invoices_only(acme_admin):
    before = snapshot()
    response = post_form(
        acme_admin,
        "/billing/invoices/bulk",
        action="cancel",
        reason="Year end",
        all_matching="1",
        status="ALL",
    )
    assert response.status_code in (200, 302)
    after = snapshot()
    assert after[("acme", "INV-1")][0] == "CANCEL"
    assert {k: v for k, v in after.items() if k[0] == "globex"} == {
        k: v for k, v in before.items() if k[0] == "globex"
    }


def test_bulk_with_another_tenants_numbers_reports_them_missing(acme_admin):
    before = snapshot()
    response = acme_admin.post(
        "/billing/invoices/bulk",
        data={
            "csrf_token": csrf_token(
                acme_admin.get("/billing/invoices").get_data(as_text=True)
            ),
            "action": "issue",
            "numbers": ["INV-G-DRAFT"],
        },
        headers={"HX-Request": "true"},
    )
    assert "There is no invoice INV-G-DRAFT." in response.get_data(as_text=True)
    assert snapshot() == before


def test_the_zip_and_the_selection_export_hold_the_tenants_invoices_only(
    acme_admin,
):
    response = post_form(
        acme_admin, "/billing/invoices/bulk/invoices.zip", all_matching="1"
    )
    assert sorted(zipfile.ZipFile(io.BytesIO(response.data)).namelist()) == [
        "invoice-INV-1.pdf",
        "invoice-INV-A-DRAFT.pdf",
    ]
    pdf = zipfile.ZipFile(io.BytesIO(response.data)).read("invoice-INV-1.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Acme Client" in text and "Globex Secret" not in text
    response = post_form(
        acme_admin,
        "/billing/invoices/bulk/export.xlsx",
        numbers=["INV-1", "INV-G-DUE", "INV-G-PAID"],
    )
    assert response.status_code == 200
    assert_nothing_of_globex(response, "the selection export")
    assert "INV-1" in text_of(response)


def test_a_draft_for_an_email_another_tenant_uses_makes_the_tenants_own_client(
    acme_admin, world
):
    acme, globex = world
    options = acme_admin.get("/billing/clients/options", query_string={"q": "sec"})
    assert_nothing_of_globex(options, "the client datalist")
    page = acme_admin.get("/billing/invoices/new").get_data(as_text=True)
    response = acme_admin.post(
        "/billing/invoices/new",
        data={
            "csrf_token": csrf_token(page),
            "client_email": "secret@globex.example",
            "client_name": "Acme's own Secret",
            "billing_period": "2025-06",
            "currency": "USD",
            "due_date": "2025-08-01",
            "lines-0-description": "Compute",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.commit()
    clients = db.session.execute(
        select(Client.tenant_id, Client.name).where(
            Client.email == "secret@globex.example"
        )
    ).all()
    assert sorted(clients) == sorted(
        [(globex.id, "Globex Secret"), (acme.id, "Acme's own Secret")]
    )


def test_a_new_draft_numbers_within_the_tenant(acme_admin, world):
    """Numbering counts the tenant's own invoices of the period."""
    acme, globex = world
    # Globex has INV-202506-000007 already; Acme has no invoice of 2025-06.
    build(
        globex, "Globex Secret", "secret@globex.example",
        number="INV-202506-000007", status="DRAFT", issue_date=None,
        billing_period=date(2025, 6, 1),
    )  # fmt: skip
    page = acme_admin.get("/billing/invoices/new").get_data(as_text=True)
    response = acme_admin.post(
        "/billing/invoices/new",
        data={
            "csrf_token": csrf_token(page),
            "client_email": "billing@acme-client.example",
            "client_name": "Acme Client",
            "billing_period": "2025-06",
            "currency": "USD",
            "due_date": "2025-08-01",
            "lines-0-description": "Compute",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.commit()
    new = db.session.scalar(
        select(Invoice).where(
            Invoice.tenant_id == acme.id, Invoice.billing_period == date(2025, 6, 1)
        )
    )
    assert new.client.tenant_id == acme.id
    assert new.number == "INV-202506-000001"
    assert response.location.endswith(f"/billing/invoices/{new.number}")
