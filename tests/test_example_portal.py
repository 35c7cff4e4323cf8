"""The example portal (examples/portal) through HTTP: its sign-in and /token.

The tokens it makes are checked with PyJWT against the contract of
docs/embedding.md, and by the Invoice Manager's own verifier.
"""

from __future__ import annotations

import re
import uuid

import jwt
import pytest

from examples.portal.app import create_portal
from examples.portal.users import DEMO_PASSWORDS
from invoice_app.auth.sso import verify_token

SECRET = "portal-and-app-shared-secret-forty-bytes"
ISSUER = "http://localhost:5001"
APP_URL = "http://127.0.0.1:5000"


@pytest.fixture
def portal():
    app = create_portal(
        {
            "PORTAL_SECRET_KEY": "portal-test-secret-key",
            "SSO_SECRET": SECRET,
            "SSO_ISSUER": ISSUER,
            "INVOICE_MANAGER_URL": APP_URL + "/",
        }
    )
    return app.test_client()


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(portal, email: str, next_path: str | None = None):
    page = portal.get("/sign-in").text
    query = {"next": next_path} if next_path else {}
    return portal.post(
        "/sign-in",
        query_string=query,
        data={
            "email": email,
            "password": DEMO_PASSWORDS[email],
            "csrf_token": csrf_of(page),
        },
    )


def fresh_token(portal) -> dict:
    page = portal.get("/billing").text
    response = portal.post("/token", headers={"X-CSRFToken": csrf_of(page)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()["token"]


def decoded(token: str) -> dict:
    return jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience="invoice-manager",
        issuer=ISSUER,
    )


def test_the_token_carries_every_required_claim_for_a_minute(portal):
    assert sign_in(portal, "ada@acme.example").location == "/billing"
    claims = decoded(fresh_token(portal))
    assert claims["exp"] - claims["iat"] == 60
    uuid.UUID(claims["jti"])
    assert {k: claims[k] for k in ("sub", "email", "tenant", "role")} == {
        "sub": "acme-user-1",
        "email": "ada@acme.example",
        "tenant": "acme",
        "role": "admin",
    }
    assert "clients" not in claims
    # Each token is new: a renewal never re-sends a used one.
    assert decoded(fresh_token(portal))["jti"] != claims["jti"]


def test_optional_claims_follow_the_user(portal):
    sign_in(portal, "linus@acme.example")
    assert decoded(fresh_token(portal))["clients"] == [
        "billing+acmeanalytics0@acme.example.com",
        "billing+blueharborlogistics1@acme.example.com",
    ]
    sign_in(portal, "grace@globex.example")
    claims = decoded(fresh_token(portal))
    assert (claims["tenant"], claims["locale"], claims["theme"]) == (
        "globex",
        "de_DE",
        "dark",
    )


def test_the_app_accepts_the_portals_tokens(portal, app_factory, monkeypatch):
    monkeypatch.setenv("SSO_SECRET", SECRET)
    monkeypatch.setenv("SSO_ISSUER", ISSUER)
    app = app_factory()
    sign_in(portal, "grace@globex.example")
    token = fresh_token(portal)
    with app.test_request_context():
        claims = verify_token(token)
    assert (claims.email, claims.tenant, claims.role) == (
        "grace@globex.example",
        "globex",
        "staff",
    )


def test_token_needs_a_signed_in_user_and_the_csrf_token(portal):
    page = portal.get("/sign-in").text
    assert portal.post(
        "/token", headers={"X-CSRFToken": csrf_of(page)}
    ).status_code == (401)
    sign_in(portal, "ada@acme.example")
    assert portal.post("/token").status_code == 400  # no CSRF token
    assert portal.get("/token").status_code == 405
    page = portal.get("/billing").text
    cross_site = portal.post(
        "/token", headers={"X-CSRFToken": csrf_of(page), "Sec-Fetch-Site": "cross-site"}
    )
    assert cross_site.status_code == 403


def test_sign_in_refuses_a_wrong_password_and_foreign_redirects(portal):
    page = portal.get("/sign-in").text
    wrong = portal.post(
        "/sign-in",
        data={
            "email": "ada@acme.example",
            "password": "nope",
            "csrf_token": csrf_of(page),
        },
    )
    assert wrong.status_code == 400 and "E-mail or password is not right" in wrong.text
    assert portal.get("/billing").location.startswith("/sign-in")
    for target in ("//evil.example/", "/\\evil.example", "https://evil.example/"):
        assert sign_in(portal, "ada@acme.example", target).location == "/billing"
    deep = "/billing?billing=%2Fbilling%2Finvoices%3Fstatus%3DPAID"
    assert sign_in(portal, "ada@acme.example", deep).location == deep


def test_the_billing_page_loads_host_js_from_the_app_only(portal):
    sign_in(portal, "ada@acme.example")
    response = portal.get("/billing")
    assert f'<script src="{APP_URL}/static/embed/host.js"' in response.text
    assert f'data-url="{APP_URL}"' in response.text
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        f"script-src 'self' {APP_URL}",
        f"frame-src {APP_URL}",
        f"form-action 'self' {APP_URL}",
        "frame-ancestors 'none'",
    ):
        assert directive in csp, csp


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"PORTAL_SECRET_KEY": ""}, "PORTAL_SECRET_KEY"),
        ({"SSO_SECRET": "short"}, "SSO_SECRET"),
    ],
)
def test_the_portal_will_not_start_without_its_secrets(config, message):
    settings = {"PORTAL_SECRET_KEY": "k", "SSO_SECRET": SECRET, **config}
    with pytest.raises(RuntimeError, match=message):
        create_portal(settings)
