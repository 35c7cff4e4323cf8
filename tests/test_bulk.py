"""Bulk issue and cancel: each invoice on its own, with a report of what failed."""

import re
from datetime import date
from decimal import Decimal

import pytest

from invoice_app.extensions import db
from invoice_app.models import ExportJob, Invoice
from tests.conftest import csrf_token

# Every test here runs on 2025-07-15 (tests/conftest.py: frozen_day).
pytestmark = pytest.mark.usefixtures("frozen_day")


@pytest.fixture
def invoices(make_invoice):
    made = {}
    for number, status in [
        ("D1", "DRAFT"),
        ("D2", "DRAFT"),
        ("U1", "DUE"),
        ("P1", "PAID"),
    ]:
        made[number] = make_invoice(
            number=number,
            status=status,
            issue_date=None if status == "DRAFT" else date(2025, 7, 1),
            due_date=date(2025, 7, 31),
        )
    return made


def statuses():
    db.session.commit()
    return dict(db.session.execute(db.select(Invoice.number, Invoice.status)).all())


def post_bulk(client, htmx=False, **data):
    page = client.get("/billing/invoices").get_data(as_text=True)
    fields = {"csrf_token": csrf_token(page), **data}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/billing/invoices/bulk", data=fields, headers=headers)


def test_bulk_issue_reports_each_that_could_not_change(client, auth, invoices):
    auth.login("admin")
    response = post_bulk(
        client, htmx=True, action="issue", numbers=["D1", "D2", "U1", "P1", "NOPE"]
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Issue: 2 of 5 invoices changed." in html
    assert (
        '<span class="strong">U1</span>: Invoice U1 is DUE: it cannot be issued' in html
    )
    assert "P1</span>: Invoice P1 is PAID" in html
    assert "NOPE</span>: There is no invoice NOPE." in html
    assert 'id="invoice-results"' in html  # the table is refreshed too
    assert statuses() == {"D1": "DUE", "D2": "DUE", "U1": "DUE", "P1": "PAID"}


def test_bulk_cancel_all_that_match_the_filters(client, auth, invoices):
    auth.login("admin")
    response = post_bulk(
        client, action="cancel", all_matching="1", status="DRAFT", reason="Duplicates"
    )
    assert response.status_code == 302
    assert response.location == "/billing/invoices?status=DRAFT"
    assert statuses() == {"D1": "CANCEL", "D2": "CANCEL", "U1": "DUE", "P1": "PAID"}
    page = client.get(response.location).get_data(as_text=True)
    assert "Cancel: 2 of 2 invoices changed." in page


def seen_on_page(html: str) -> dict[str, str]:
    """The seen-<number> versions the page would send with the bulk form."""
    return dict(re.findall(r'name="(seen-[^"]+)" value="(\d+)" form="bulk-form"', html))


def changed_by_someone_else(number: str) -> None:
    invoice = db.session.scalar(db.select(Invoice).where(Invoice.number == number))
    invoice.notes = "edited in another tab"
    invoice.version += 1
    db.session.commit()


def test_ticked_rows_change_only_as_the_user_saw_them(client, auth, invoices):
    """A ticked draft edited by someone else since the page loaded is not issued."""
    auth.login("admin")
    page = client.get("/billing/invoices").get_data(as_text=True)
    seen = seen_on_page(page)
    assert seen["seen-D1"] == str(invoices["D1"].version)
    d2_seen = int(seen["seen-D2"])
    changed_by_someone_else("D2")

    response = client.post(
        "/billing/invoices/bulk",
        data={"csrf_token": csrf_token(page), "action": "issue", **seen}
        | {"numbers": ["D1", "D2"]},
        headers={"HX-Request": "true"},
    )

    html = response.get_data(as_text=True)
    assert "Issue: 1 of 2 invoices changed." in html
    assert (
        "D2</span>: Invoice D2 was changed by someone else since you opened it. "
        "Reload to see the change, then try again." in html
    )
    assert statuses() == {"D1": "DUE", "D2": "DRAFT", "U1": "DUE", "P1": "PAID"}
    # The refreshed table shows the new version, so ticking D2 again works.
    assert seen_on_page(html)["seen-D2"] == str(d2_seen + 1)


def test_all_that_match_change_as_they_are_now(client, auth, invoices):
    """Nobody saw each of "all that match", so no version is held against them."""
    auth.login("admin")
    page = client.get("/billing/invoices").get_data(as_text=True)
    seen = seen_on_page(page)
    changed_by_someone_else("D2")
    response = client.post(
        "/billing/invoices/bulk",
        data={
            "csrf_token": csrf_token(page),
            "action": "issue",
            "all_matching": "1",
            "status": "DRAFT",
            **seen,
        },
    )
    assert response.status_code == 302
    assert statuses() == {"D1": "DUE", "D2": "DUE", "U1": "DUE", "P1": "PAID"}


def test_bulk_cancel_needs_one_reason(client, auth, invoices):
    auth.login("admin")
    response = post_bulk(client, htmx=True, action="cancel", numbers=["D1"])
    assert response.status_code == 422
    assert "Give one reason" in response.get_data(as_text=True)
    assert statuses()["D1"] == "DRAFT"


def test_bulk_needs_a_selection_and_has_a_ceiling(app, client, auth, invoices):
    auth.login("admin")
    response = post_bulk(client, action="issue")
    assert response.status_code == 422
    app.config["BULK_MAX"] = 1
    response = post_bulk(client, action="issue", all_matching="1")
    assert response.status_code == 422
    assert "more than 1 invoices at once" in response.get_data(as_text=True)
    assert statuses()["D1"] == "DRAFT"


def test_staff_cannot_bulk_change(client, auth, invoices):
    auth.login("staff")
    response = post_bulk(client, action="issue", numbers=["D1"])
    assert response.status_code == 403
    assert statuses()["D1"] == "DRAFT"


def post_download(client, path, **data):
    page = client.get("/billing/invoices").get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(page), **data})


def test_staff_exports_just_the_selection(client, auth, invoices):
    import io

    from openpyxl import load_workbook

    auth.login("staff")
    response = post_download(
        client,
        "/billing/invoices/bulk/export.xlsx",
        numbers=["U1", "D2"],
        sort="number",
    )
    assert response.status_code == 200
    assert "selection.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "D2",
        "U1",
    ]


def test_selected_pdfs_come_as_one_zip(client, auth, invoices):
    import io
    import zipfile

    auth.login("staff")
    response = post_download(
        client, "/billing/invoices/bulk/invoices.zip", all_matching="1", status="DRAFT"
    )
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert sorted(names) == ["invoice-D1.pdf", "invoice-D2.pdf"]
    for name in names:
        assert zipfile.ZipFile(io.BytesIO(response.data)).read(name)[:5] == b"%PDF-"


def test_a_zip_past_its_ceiling_goes_to_the_background(app, client, auth, invoices):
    app.config["ZIP_MAX_INVOICES"] = 1
    auth.login("staff")
    response = post_download(
        client, "/billing/invoices/bulk/invoices.zip", numbers=["D1", "D2"]
    )
    # Queued with exactly the ticked numbers (tests/test_export_jobs.py runs it).
    assert response.status_code == 303
    assert "/billing/exports#export-" in response.headers["Location"]
    queued = db.session.scalars(db.select(ExportJob)).one()
    assert (queued.format, sorted(queued.numbers)) == ("zip", ["D1", "D2"])


def test_bulk_download_needs_csrf(client, auth, invoices):
    auth.login("staff")
    response = client.post(
        "/billing/invoices/bulk/invoices.zip", data={"numbers": "D1"}
    )
    assert response.status_code == 400


def test_bulk_issue_of_a_draft_with_nothing_to_pay_makes_it_paid(
    client, auth, invoices
):
    invoices["D2"].payable = Decimal("0.00")
    invoices["D2"].adjustment = -invoices["D2"].usage_cost
    db.session.commit()
    auth.login("admin")
    response = post_bulk(client, action="issue", numbers=["D1", "D2"])
    assert response.status_code == 302
    assert statuses() == {"D1": "DUE", "D2": "PAID", "U1": "DUE", "P1": "PAID"}
    paid = db.session.get(Invoice, invoices["D2"].id)
    assert paid.paid_date == paid.issue_date == date(2025, 7, 15)
