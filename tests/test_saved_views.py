"""Saved views through HTTP, as billing users save, open, share and manage them."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from invoice_app.extensions import db
from invoice_app.models import ExportJob, SavedView, SavedViewDefault
from tests.conftest import csrf_token
from tests.export_job_helpers import make_user, sign_in


@pytest.fixture
def invoices(make_invoice):
    """Six invoices: three DUE, two PAID (one of them Globe's), one DRAFT."""
    for number, status, client in [
        ("INV-V01", "DUE", "Acme Analytics"),
        ("INV-V02", "DUE", "Acme Analytics"),
        ("INV-V03", "DUE", "Globe Media"),
        ("INV-V04", "PAID", "Acme Analytics"),
        ("INV-V05", "PAID", "Globe Media"),
        ("INV-V06", "DRAFT", "Globe Media"),
    ]:
        make_invoice(
            number=number,
            status=status,
            client_name=client,
            issue_date=None if status == "DRAFT" else date(2025, 6, 1),
            paid_date=date(2025, 6, 20) if status == "PAID" else None,
            due_date=date(2030, 1, 1),  # DUE stays DUE whatever today is
            payable=Decimal("10.00"),
        )


def numbers(html: str) -> list[str]:
    """The invoice numbers of the table's rows, in order."""
    return re.findall(r'<tr id="invoice-\d+"[^>]*>.*?>(INV-[A-Z0-9-]+)<', html, re.S)


def rows_of(client, query: dict | str) -> list[str]:
    query = query if isinstance(query, str) else urlencode(query)
    response = client.get(f"/billing/invoices?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return numbers(response.get_data(as_text=True))


def save(client, name: str, query: dict, *, shared=False, htmx=False, status=303):
    """Press "Save view" on the list under query; the view's id (or the response)."""
    page = client.get("/billing/invoices", query_string=query).get_data(as_text=True)
    listed = re.search(r'name="list" value="([^"]*)" form="save-view"', page)
    assert listed, "the table carries the list's parameters for Save view"
    data = {"csrf_token": csrf_token(page), "name": name, "list": unescape(listed[1])}
    if shared:
        data["shared"] = "y"
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post("/billing/views", data=data, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if status != 303:
        return response
    match = re.search(r"view=(\d+)$", response.location)
    assert match, response.location
    return int(match[1])


def unescape(text: str) -> str:
    return text.replace("&amp;", "&").replace("&#34;", '"').replace("&#39;", "'")


def post(client, path: str, htmx=False, **fields):
    page = client.get("/billing/invoices").get_data(as_text=True)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        path, data={"csrf_token": csrf_token(page), **fields}, headers=headers
    )


@pytest.fixture
def staff(app):
    return make_user("staff@example.test", "staff")


@pytest.fixture
def other_staff(app):
    return make_user("other@example.test", "staff")


def test_a_saved_view_opens_with_the_rows_of_its_filters(admin, invoices):
    query = {"status": "DUE", "sort": "number"}
    view_id = save(admin, "Due by number", query)
    page = admin.get(f"/billing/invoices?view={view_id}").get_data(as_text=True)
    assert numbers(page) == rows_of(admin, query) == ["INV-V01", "INV-V02", "INV-V03"]
    # Its tab is there and marked as the one shown.
    tab = re.search(rf'<a href="/billing/invoices\?view={view_id}"[^>]*>', page)
    assert tab and 'aria-current="page"' in tab[0]
    assert "Due by number" in page
    stored = db.session.get(SavedView, view_id)
    assert stored.args == {"status": "DUE", "sort": "number"}
    assert (stored.shared, stored.name) == (False, "Due by number")


def test_parameters_given_override_the_views_own(admin, invoices):
    view_id = save(admin, "Acme due", {"status": "DUE", "q": "Acme", "sort": "number"})
    assert rows_of(admin, f"view={view_id}") == ["INV-V01", "INV-V02"]
    # Another status, inside the view: the view's search and sort stay.
    assert rows_of(admin, f"view={view_id}&status=PAID") == ["INV-V04"]
    # A search box emptied is no search at all, not the view's search.
    assert rows_of(admin, f"view={view_id}&q=") == ["INV-V01", "INV-V02", "INV-V03"]
    assert rows_of(admin, f"view={view_id}&sort=-number") == ["INV-V02", "INV-V01"]


def test_links_inside_a_view_keep_it_and_only_what_differs(admin, invoices):
    view_id = save(admin, "Due", {"status": "DUE", "sort": "number"})
    response = admin.get(
        f"/billing/invoices?view={view_id}&sort=-number",
        headers={"HX-Request": "true"},
    )
    assert response.headers["HX-Push-Url"] == (
        f"/billing/invoices?view={view_id}&sort=-number"
    )
    html = response.get_data(as_text=True)
    # Sorting by number again goes back to the view as saved: its address alone.
    assert f'href="/billing/invoices?view={view_id}"' in html
    # Clearing the view's status inside it says so, with an empty value.
    response = admin.get(
        f"/billing/invoices?view={view_id}&status=ALL", headers={"HX-Request": "true"}
    )
    assert (
        response.headers["HX-Push-Url"] == f"/billing/invoices?view={view_id}&status="
    )
    assert rows_of(admin, f"view={view_id}&status=") == [
        "INV-V01", "INV-V02", "INV-V03", "INV-V04", "INV-V05", "INV-V06",
    ]  # fmt: skip


def test_switching_view_sends_the_filter_form_and_tabs_along(admin, invoices):
    view_id = save(admin, "Paid", {"status": "PAID"})
    response = admin.get(
        f"/billing/invoices?view={view_id}",
        headers={"HX-Request": "true", "HX-Current-URL": "/billing/invoices?view=all"},
    )
    html = response.get_data(as_text=True)
    assert re.search(r'<form id="invoice-filters"[^>]*hx-swap-oob="true"', html, re.S)
    assert (
        '<nav id="view-tabs" class="view-tabs" aria-label="Saved views" hx-swap-oob'
        in (html)
    )
    assert f'name="view" value="{view_id}"' in html
    # The same view again (a filter change inside it): the form is left alone.
    again = admin.get(
        f"/billing/invoices?view={view_id}&q=INV",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": f"/billing/invoices?view={view_id}",
        },
    ).get_data(as_text=True)
    assert 'id="invoice-filters"' not in again and 'id="view-tabs"' not in again


def test_save_through_htmx_opens_the_new_view(admin, invoices):
    response = save(admin, "Drafts", {"status": "DRAFT"}, htmx=True, status=200)
    view = db.session.scalar(select(SavedView))
    location = json.loads(response.headers["HX-Location"])
    assert location == {
        "path": f"/billing/invoices?view={view.id}",
        "target": "#invoice-results",
        "swap": "outerHTML",
    }


def test_tab_counts_come_in_one_request(admin, invoices):
    due = save(admin, "Due", {"status": "DUE"})
    acme = save(admin, "Acme", {"q": "Acme"})
    page = admin.get("/billing/invoices").get_data(as_text=True)
    assert 'hx-get="/billing/views/counts" hx-trigger="load"' in page
    html = admin.get("/billing/views/counts", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    counts = dict(
        re.findall(r'id="view-count-(\w+)" hx-swap-oob="innerHTML">([\d,]+)', html)
    )
    assert counts == {"all": "6", str(due): "3", str(acme): "3"}


def test_staff_save_personal_views_but_cannot_share(client, staff, invoices):
    sign_in(client, staff)
    page = client.get("/billing/invoices").get_data(as_text=True)
    assert "Share with the team" not in page
    save(client, "Mine", {"status": "PAID"})
    response = save(client, "Ours", {"status": "DUE"}, shared=True, status=403)
    assert "Only a billing admin may share" in response.get_data(as_text=True)
    assert db.session.scalars(select(SavedView.name)).all() == ["Mine"]


def test_a_shared_view_is_the_teams_and_only_admins_change_it(
    app, admin, staff, invoices
):
    view_id = save(admin, "Team due", {"status": "DUE"}, shared=True)
    staff_client = app.test_client()
    sign_in(staff_client, staff)
    page = staff_client.get("/billing/invoices").get_data(as_text=True)
    assert "Team due" in page and "Shared" in page
    assert rows_of(staff_client, f"view={view_id}") == rows_of(admin, {"status": "DUE"})
    for path, fields in [
        (f"/billing/views/{view_id}/rename", {"name": "Mine now"}),
        (f"/billing/views/{view_id}/delete", {}),
    ]:
        assert post(staff_client, path, **fields).status_code == 403, path
    assert staff_client.get(f"/billing/views/{view_id}/delete").status_code == 403
    # Staff may still make it their default.
    assert post(staff_client, f"/billing/views/{view_id}/default").status_code == 303
    assert rows_of(staff_client, "") == rows_of(admin, {"status": "DUE"})
    assert db.session.get(SavedView, view_id).name == "Team due"


def view_rules(app):
    rules = [r for r in app.url_map.iter_rules() if "view_id" in r.arguments]
    assert {r.endpoint for r in rules} >= {
        "billing.rename_view",
        "billing.delete_view",
        "billing.confirm_delete_view",
        "billing.make_default_view",
    }
    for rule in rules:
        assert isinstance(rule._converters["view_id"], IntegerConverter)
    return rules


def assert_hidden_everywhere(app, client, view_id: int) -> None:
    """Every route and parameter answers for view_id exactly as for no such view."""
    missing = view_id + 1000

    def same(response, nothing, where):
        assert response.status_code == 404, where
        shown = re.sub(
            rf"saved view {view_id}\b",
            f"saved view {missing}",
            response.get_data(as_text=True),
        )
        assert without_token(shown) == without_token(nothing.get_data(True)), where
        assert response.mimetype == nothing.mimetype, where

    for rule in view_rules(app):
        (method,) = rule.methods & {"GET", "POST"}
        for headers in ({}, {"HX-Request": "true"}):
            answers = []
            for vid in (view_id, missing):
                path = rule.build({"view_id": vid})[1]
                if method == "GET":
                    answers.append(client.get(path, headers=headers))
                else:
                    answers.append(
                        post(client, path, name="Taken", **headers_kw(headers))
                    )
            same(*answers, (rule.endpoint, headers))
    for path in (
        "/billing/invoices",
        "/billing/invoice-summary",
        "/billing/invoices/export.xlsx",
        "/billing/invoices/export.pdf",
        "/api/invoices",
    ):
        same(
            client.get(f"{path}?view={view_id}"),
            client.get(f"{path}?view={missing}"),
            path,
        )


def without_token(html: str) -> str:
    """The page with its CSRF token left out: the token is signed with the second."""
    return re.sub(r'("X-CSRFToken": "|name="csrf_token" value=")[^"]+', r"\1", html)


def headers_kw(headers: dict) -> dict:
    return {"htmx": bool(headers)}


def test_another_users_personal_view_is_404_everywhere(
    app, client, staff, other_staff, invoices
):
    sign_in(client, other_staff)
    theirs = save(client, "Theirs", {"status": "PAID"})
    mine = app.test_client()
    sign_in(mine, staff)
    assert "Theirs" not in mine.get("/billing/invoices").get_data(as_text=True)
    assert "Theirs" not in mine.get("/billing/views").get_data(as_text=True)
    assert_hidden_everywhere(app, mine, theirs)
    # The queued export route too: the list's parameters are the form's.
    page = mine.get("/billing/invoices").get_data(as_text=True)
    response = mine.post(
        "/billing/exports",
        data={"csrf_token": csrf_token(page), "format": "xlsx", "view": str(theirs)},
    )
    assert response.status_code == 404
    assert db.session.get(SavedView, theirs).name == "Theirs"
    assert db.session.scalar(select(func.count()).select_from(ExportJob)) == 0


def test_a_bad_view_parameter_is_a_clear_400(admin, invoices):
    for value in ("abc", "0", "-1", "1.5", "9" * 30):
        response = admin.get("/billing/invoices", query_string={"view": value})
        assert response.status_code == 400, value
        assert "is not a saved view (its number, or all)" in response.get_data(
            as_text=True
        )
    api = admin.get("/api/invoices?view=abc")
    assert api.status_code == 400
    assert api.json["errors"][0]["field"] == "view"


def test_the_export_follows_the_view(admin, invoices):
    view_id = save(admin, "Paid by number", {"status": "PAID", "sort": "number"})
    page = admin.get(f"/billing/invoices?view={view_id}").get_data(as_text=True)
    assert f'href="/billing/invoices/export.xlsx?view={view_id}"' in page
    response = admin.get(f"/billing/invoices/export.xlsx?view={view_id}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()))["Invoices"]
    listed = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert listed == ["INV-V04", "INV-V05"]


def test_the_api_follows_the_view(admin, invoices):
    view_id = save(admin, "Globe", {"q": "Globe", "sort": "-number"})
    data = admin.get(f"/api/invoices?view={view_id}").json
    assert [item["number"] for item in data["items"]] == [
        "INV-V06",
        "INV-V05",
        "INV-V03",
    ]
    assert data["total"] == 3
    overridden = admin.get(f"/api/invoices?view={view_id}&status=PAID").json
    assert [item["number"] for item in overridden["items"]] == ["INV-V05"]


def test_a_background_export_stores_the_view_expanded(admin, invoices):
    # The worker has no user to look a view up as, and the file is what was
    # asked for even if the view changes before it runs.
    view_id = save(admin, "Paid", {"status": "PAID", "sort": "number"})
    page = admin.get(f"/billing/invoices?view={view_id}").get_data(as_text=True)
    response = admin.post(
        "/billing/exports",
        data={"csrf_token": csrf_token(page), "format": "xlsx", "view": str(view_id)},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    job = db.session.scalar(select(ExportJob))
    # The columns too: the user's own choice (none here) as of queueing.
    assert job.filters == {"status": "PAID", "sort": "number", "columns": "none"}


def test_the_default_view_opens_the_bare_list(admin, invoices):
    view_id = save(admin, "Paid", {"status": "PAID"})
    everything = rows_of(admin, "")
    assert post(admin, f"/billing/views/{view_id}/default").status_code == 303
    page = admin.get("/billing/invoices").get_data(as_text=True)
    assert set(numbers(page)) == {"INV-V04", "INV-V05"}
    # "All invoices" still reaches the whole list, and its links stay there.
    assert 'href="/billing/invoices?view=all"' in page
    assert set(rows_of(admin, "view=all")) == set(everything)
    fragment = admin.get(
        "/billing/invoices?view=all&sort=number", headers={"HX-Request": "true"}
    )
    assert 'href="/billing/invoices?view=all"' in fragment.get_data(as_text=True)
    assert post(admin, "/billing/views/default/clear").status_code == 303
    assert set(rows_of(admin, "")) == set(everything)


def test_a_name_clash_says_so(admin, invoices):
    save(admin, "Overdue", {"status": "OVER_DUE"})
    response = save(admin, "  overdue ", {"status": "DUE"}, status=400)
    text = response.get_data(as_text=True)
    assert "You already have a view named “overdue”; choose another name." in text
    # Through htmx: the tabs again, the form open with the message by the field.
    response = save(admin, "OVERDUE", {"status": "DUE"}, htmx=True, status=400)
    text = response.get_data(as_text=True)
    assert '<details class="view-save" open>' in text
    assert 'id="view-name-error">You already have a view named “OVERDUE”' in text
    other = save(admin, "Due", {"status": "DUE"})
    response = post(admin, f"/billing/views/{other}/rename", name="OverDue")
    assert response.status_code == 400
    assert "You already have a view named “OverDue”" in response.get_data(as_text=True)
    assert db.session.get(SavedView, other).name == "Due"
    # A shared view of the same name is the team's: no clash with a personal one.
    save(admin, "Overdue", {"status": "OVER_DUE"}, shared=True)
    response = save(admin, "overdue", {"status": "DUE"}, shared=True, status=400)
    assert "The team already has a shared view named" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Name the view."), ("x" * 61, "A name is at most 60 characters."),
     ("a\x00b", "contains a control character")],
)  # fmt: skip
def test_a_bad_name_is_refused_with_a_message(admin, invoices, name, message):
    response = save(admin, name, {"status": "DUE"}, status=400)
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SavedView)) == 0


def test_rename_through_htmx_answers_the_manager(admin, invoices):
    view_id = save(admin, "Due", {"status": "DUE"})
    response = post(admin, f"/billing/views/{view_id}/rename", htmx=True, name="Open")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith('<section id="views-manager"')
    assert "Renamed the view to “Open”." in html
    assert db.session.get(SavedView, view_id).name == "Open"


def test_delete_asks_first_then_clears_the_default(app, admin, staff, invoices):
    view_id = save(admin, "Team paid", {"status": "PAID"}, shared=True)
    staff_client = app.test_client()
    sign_in(staff_client, staff)
    post(staff_client, f"/billing/views/{view_id}/default")
    assert set(rows_of(staff_client, "")) == {"INV-V04", "INV-V05"}
    confirm = admin.get(f"/billing/views/{view_id}/delete")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "Delete the view “Team paid”?" in text and "everyone in the team" in text
    response = post(admin, f"/billing/views/{view_id}/delete")
    assert response.status_code == 303
    assert db.session.get(SavedView, view_id) is None
    assert db.session.scalar(select(func.count()).select_from(SavedViewDefault)) == 0
    # Staff's Invoices opens on the whole list again.
    assert len(rows_of(staff_client, "")) == 6
    assert admin.get(f"/billing/invoices?view={view_id}").status_code == 404


def test_saving_a_list_with_bad_filters_says_so(admin, invoices):
    page = admin.get("/billing/invoices").get_data(as_text=True)
    response = admin.post(
        "/billing/views",
        data={"csrf_token": csrf_token(page), "name": "Odd", "list": "status=NOPE"},
    )
    assert response.status_code == 400
    assert "Fix the filters, then save again." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SavedView)) == 0
