"""What a portal's token lets its user see: the token's tenant, and its `clients`.

Through HTTP as the frame does it: the portal's token signs the user in at
/sso, then the user reads and changes invoices. The data are test_tenant_scoping's
two tenants (Acme, Globex); Globex has a second client the limited user must
not see.
"""

from __future__ import annotations

import io
import zipfile

import pytest
import time_machine
from sqlalchemy import select

from invoice_app.extensions import db
from invoice_app.models import Invoice, Tenant, User
from tests.conftest import TODAY, csrf_token
from tests.test_sso import hs_app, hs_token, portal, sso_factory  # noqa: F401
from tests.test_tenant_scoping import build, snapshot, text_of

OTHER = ("Globex Other", "other@globex.example")


@pytest.fixture
def world(hs_app):  # noqa: F811
    acme = Tenant(slug="acme", name="Acme")
    db.session.add(acme)
    db.session.commit()
    build(acme, "Acme Client", "billing@acme-client.example", number="INV-1")
    # Globex comes into being by its first token: its invoices come after.
    return acme


def sign_in(portal, **claims):  # noqa: F811
    response = portal.get(
        "/sso", query_string={"token": hs_token(**claims), "next": "/billing/invoices"}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def globex_invoices() -> Tenant:
    globex = db.session.scalar(select(Tenant).where(Tenant.slug == "globex"))
    build(globex, "Globex Secret", "secret@globex.example", number="INV-1")
    build(globex, "Globex Secret", "secret@globex.example", number="INV-G-2")
    build(globex, *OTHER, number="INV-G-OTHER", notes="other-only")
    build(globex, *OTHER, number="INV-G-OTHER-DRAFT", status="DRAFT", issue_date=None)
    return globex


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_a_token_of_a_new_tenant_creates_it_and_sees_only_its_invoices(
    portal,  # noqa: F811
    world,
):
    sign_in(portal, tenant="globex", tenant_name="Globex Corporation")
    globex = globex_invoices()
    assert globex.name == "Globex Corporation"
    html = portal.get("/billing/invoices").get_data(as_text=True)
    assert "Globex Secret" in html and "INV-G-OTHER" in html
    assert "Acme Client" not in html
    api = portal.get("/api/invoices").get_json()
    assert api["total"] == 4


def test_switching_the_portal_user_switches_the_tenant(portal, world):  # noqa: F811
    sign_in(portal, tenant="globex", sub="grace", email="grace@globex.example")
    globex_invoices()
    assert "Globex Secret" in portal.get("/billing/invoices").get_data(as_text=True)
    sign_in(portal, tenant="acme", sub="ada", email="ada@acme.example")
    html = portal.get("/billing/invoices").get_data(as_text=True)
    assert "Acme Client" in html and "Globex" not in html
    assert portal.get("/billing/invoices/INV-G-2").status_code == 404


@pytest.fixture
def limited(portal, world):  # noqa: F811
    """Signed in as Globex staff limited to the client secret@globex.example."""
    sign_in(portal, tenant="globex", clients=["Secret@Globex.example"])
    globex_invoices()
    return portal


def test_a_clients_claim_narrows_the_list_counts_api_and_exports(limited):
    html = limited.get("/billing/invoices").get_data(as_text=True)
    assert "INV-G-2" in html and "INV-G-OTHER" not in html
    assert "All Status (2)" in html and "DRAFT (0)" in html
    assert limited.get("/api/invoices").get_json()["total"] == 2
    for q in ("other", "INV-G"):
        found = limited.get("/api/invoices", query_string={"q": q}).get_json()
        assert "INV-G-OTHER" not in str(found), q
    for path in ("/billing/invoices/export.xlsx", "/billing/invoices/export.pdf"):
        shown = text_of(limited.get(path))
        assert "INV-G-2" in shown and "Globex Other" not in shown, path
    options = limited.get("/billing/clients/options", query_string={"q": "glo"})
    shown = options.get_data(as_text=True)
    assert "secret@globex.example" in shown and "other@globex.example" not in shown


def test_a_clients_claim_hides_other_clients_invoices_on_every_route(app, limited):
    for rule in app.url_map.iter_rules():
        if "number" not in rule.arguments or "GET" not in rule.methods:
            continue
        path = rule.build({"number": "INV-G-OTHER"})[1]
        assert limited.get(path).status_code == 404, path


def test_a_clients_claim_limits_bulk_all_that_match_and_the_zip(limited):
    page = limited.get("/billing/invoices").get_data(as_text=True)
    response = limited.post(
        "/billing/invoices/bulk/invoices.zip",
        data={"csrf_token": csrf_token(page), "all_matching": "1"},
    )
    assert sorted(zipfile.ZipFile(io.BytesIO(response.data)).namelist()) == [
        "invoice-INV-1.pdf",
        "invoice-INV-G-2.pdf",
    ]


def test_an_admin_limited_to_clients_cannot_bill_another_client(portal, world):  # noqa: F811
    sign_in(portal, tenant="globex", role="admin", clients=["secret@globex.example"])
    globex = globex_invoices()
    before = snapshot()
    page = portal.get("/billing/invoices/new").get_data(as_text=True)
    fields = {
        "csrf_token": csrf_token(page),
        "client_email": "other@globex.example",
        "client_name": "Globex Other",
        "billing_period": "2025-06",
        "currency": "USD",
        "due_date": "2025-08-01",
        "lines-0-description": "Compute",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "1",
    }
    response = portal.post("/billing/invoices/new", data=fields)
    assert response.status_code == 403
    assert "may not work with this client" in response.get_data(as_text=True)
    assert snapshot() == before
    # Bulk "all that match" touches the allowed client's invoices only.
    portal.post(
        "/billing/invoices/bulk",
        data={
            "csrf_token": csrf_token(page),
            "action": "cancel",
            "reason": "Year end",
            "all_matching": "1",
        },
    )
    db.session.commit()
    statuses = dict(
        db.session.execute(
            select(Invoice.number, Invoice.status).where(Invoice.tenant_id == globex.id)
        ).all()
    )
    assert statuses == {
        "INV-1": "CANCEL",
        "INV-G-2": "CANCEL",
        "INV-G-OTHER": "DUE",
        "INV-G-OTHER-DRAFT": "DRAFT",
    }
    # For its own client the admin still works as before.
    fields["client_email"] = "secret@globex.example"
    assert portal.post("/billing/invoices/new", data=fields).status_code == 302


def test_the_next_sign_in_without_clients_sees_every_client_again(portal, world):  # noqa: F811
    sign_in(portal, tenant="globex", clients=["secret@globex.example"])
    globex_invoices()
    assert portal.get("/api/invoices").get_json()["total"] == 2
    sign_in(portal, tenant="globex")
    assert portal.get("/api/invoices").get_json()["total"] == 4
    user = db.session.scalar(select(User).where(User.sso_sub == "portal-user-1"))
    assert user.allowed_clients is None
