"""Sign-in is required everywhere but /login; sign-in and sign-out behave safely."""

import pytest
from werkzeug.routing import IntegerConverter

from invoice_app.extensions import db
from invoice_app.models import Role, User
from tests.conftest import PASSWORDS, csrf_token

# Sign-in (password or single sign-on), static files and the load balancer's
# health checks are public.
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "auth.sso",
    "auth.sso_session_ended",
    "health.healthz",
    "health.readyz",
    "api.openapi",
    "api.docs",
}


def route_args(rule, number: str) -> dict:
    """Values for a rule's arguments: the invoice number, or 1 for an id."""
    return {
        name: 1 if isinstance(rule._converters[name], IntegerConverter) else number
        for name in rule.arguments
    }


def get_routes(app):
    """Every GET route of the app, with placeholder values for its arguments."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        yield rule.build(route_args(rule, "INV-1"))[1]


def test_every_page_redirects_to_login(app, client):
    routes = list(get_routes(app))
    assert "/billing/invoices" in routes and "/billing/invoices/INV-1" in routes
    for path in routes:
        if path.startswith("/api/") or path == "/":
            continue
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/login?next="), path


def test_root_leads_to_the_invoices(client):
    assert client.get("/").location == "/billing/invoices"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}],
)
def test_api_without_valid_credentials_is_401_json(client, headers):
    response = client.get("/api/invoices", headers=headers)
    assert response.status_code == 401
    assert response.json == {
        "error": "Authentication required: sign in or send a token.",
        "errors": [],
    }


def test_htmx_request_without_session_is_sent_to_login(client):
    response = client.get("/billing/invoices", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_login_then_back_to_where_the_user_was(client, auth):
    auth.user("staff")
    page = client.get("/login?next=/billing/invoices%3Fstatus%3DDUE")
    response = client.post(
        "/login?next=/billing/invoices%3Fstatus%3DDUE",
        data={
            "email": "STAFF@example.test",
            "password": PASSWORDS["staff"],
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert response.location == "/billing/invoices?status=DUE"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil"]
)
def test_login_never_redirects_off_site(client, auth, target):
    auth.user("staff")
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        f"/login?next={target}",
        data={
            "email": "staff@example.test",
            "password": PASSWORDS["staff"],
            "csrf_token": csrf_token(page),
        },
    )
    assert response.location == "/billing/invoices"


def test_wrong_password_is_refused_with_a_message(client, auth):
    auth.user("staff")
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "email": "staff@example.test",
            "password": "wrong",
            "csrf_token": csrf_token(page),
        },
    )
    assert response.status_code == 400
    assert "E-mail or password is not right." in response.get_data(as_text=True)
    assert client.get("/billing/invoices").status_code == 302


def test_login_without_csrf_token_is_refused(client, auth):
    auth.user("staff")
    response = client.post(
        "/login", data={"email": "staff@example.test", "password": PASSWORDS["staff"]}
    )
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert client.get("/billing/invoices").status_code == 302


def test_passwords_are_stored_hashed(app, auth):
    user = auth.user("staff")
    assert PASSWORDS["staff"] not in user.password_hash
    assert user.check_password(PASSWORDS["staff"])


def test_logout_needs_post_with_csrf(client, auth):
    auth.login("staff")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    html = client.get("/billing/invoices").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token(html)})
    assert response.location == "/login"
    assert client.get("/billing/invoices").status_code == 302


def test_wrong_password_with_csrf_turned_off_is_still_a_message(app_factory):
    """With CSRF turned off (WTF_CSRF_ENABLED=False) a wrong password is no 500."""
    app = app_factory(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        user = User(email="staff@example.test", role=Role.STAFF.value)
        user.set_password(PASSWORDS["staff"])
        db.session.add(user)
        db.session.commit()
    data = {"email": "staff@example.test", "password": "wrong"}
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert "E-mail or password is not right." in response.get_data(as_text=True)
    data["password"] = PASSWORDS["staff"]
    assert client.post("/login", data=data).status_code == 302


# The host portal posts a signed, single-use token instead of this app's CSRF
# token (docs/embedding.md says why that is safe enough).
CSRF_EXEMPT_ENDPOINTS = {"auth.sso"}
CHANGING_METHODS = {"POST", "PATCH", "DELETE"}


def test_every_changing_route_refuses_a_request_without_csrf_token(
    app, admin, make_invoice
):
    """Walks url_map, so a new changing route is covered without a list."""
    invoice = make_invoice()
    number, version = invoice.number, invoice.version
    changing = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.methods & CHANGING_METHODS
        and rule.endpoint not in CSRF_EXEMPT_ENDPOINTS
    ]
    assert changing
    for rule in changing:
        url = rule.build(route_args(rule, number))[1]
        # The login form is for someone not signed in yet (it sends others on).
        client = app.test_client() if rule.endpoint == "auth.login" else admin
        (method,) = rule.methods & CHANGING_METHODS
        response = client.open(
            url, method=method, data={"version": version, "reason": "x"}
        )
        assert response.status_code == 400, rule.endpoint
        assert "CSRF" in response.get_data(as_text=True), rule.endpoint
    db.session.expire_all()
    assert db.session.get(type(invoice), invoice.id).version == version


# What billing staff may do besides reading: sign in and out, and download what
# they can see (a selection's XLSX, its PDFs). Every other POST changes invoices.
STAFF_POST_ENDPOINTS = {
    "auth.login",
    "auth.logout",
    "auth.sso",
    "billing.bulk_export_xlsx",
    "billing.bulk_invoice_pdfs",
    # Background exports: queued and cancelled by whoever may export.
    "billing.queue_background_export",
    "billing.cancel_export",
    "api.create_export",
    # The columns a user's own list shows: their choice, not the invoices'.
    "billing.choose_columns",
    # Saved views: anyone saves their own, renames and deletes them, chooses a
    # default; sharing and changing the team's views is refused to staff
    # (tests/test_saved_views.py).
    "billing.save_view",
    "billing.rename_view",
    "billing.delete_view",
    "billing.make_default_view",
    "billing.clear_default_view",
}
# Pages that exist only to change invoices (the draft form).
ADMIN_GET_ENDPOINTS = {"billing.new_draft", "billing.edit_draft"}


def test_every_changing_route_refuses_staff(app, client, auth, make_invoice):
    """Walks url_map, so a new changing route is covered without a list: staff
    with a valid CSRF token get 403 and nothing changes."""
    draft = make_invoice(status="DRAFT", issue_date=None)
    due = make_invoice()
    before = {i.number: (i.status, i.version) for i in (draft, due)}
    auth.login("staff")
    token = csrf_token(client.get("/billing/invoices").get_data(as_text=True))
    changing = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.methods & CHANGING_METHODS and rule.endpoint not in STAFF_POST_ENDPOINTS
    ]
    assert len(changing) >= 9
    for rule in changing:
        for number in (draft.number, due.number):
            url = rule.build(route_args(rule, number))[1]
            fields = {
                "csrf_token": token, "version": "1", "reason": "x",
                "amount": "1.00", "received_on": "2025-06-05", "action": "cancel",
                "numbers": [draft.number, due.number], "all_matching": "1",
            }  # fmt: skip
            (method,) = rule.methods & CHANGING_METHODS
            for headers in ({}, {"HX-Request": "true"}):
                response = client.open(url, method=method, data=fields, headers=headers)
                assert response.status_code == 403, (rule.endpoint, headers)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ADMIN_GET_ENDPOINTS:
            url = rule.build(route_args(rule, draft.number))[1]
            assert client.get(url).status_code == 403, rule.endpoint
    db.session.expire_all()
    after = {
        i.number: (i.status, i.version)
        for i in db.session.scalars(db.select(type(draft)))
    }
    assert after == before
