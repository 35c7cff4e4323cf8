"""Production behaviour: security headers, cookies, embedding, health, rate limits."""

import logging

import pytest

from invoice_app import create_app
from invoice_app.config import ConfigError

RESPONSES = {
    "page": ("/billing/invoices", {}),
    "fragment": ("/billing/invoices", {"HX-Request": "true"}),
    "api": ("/api/invoices", {}),
    "detail 404": ("/billing/invoices/NOPE", {}),
    "static": ("/static/css/app.css", {}),
    "health": ("/healthz", {}),
}


@pytest.mark.parametrize("kind", RESPONSES)
def test_security_headers_on_every_kind_of_response(client, auth, kind):
    auth.login("staff")
    path, headers = RESPONSES[kind]
    response = client.get(path, headers=headers)
    response.close()
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "X-Frame-Options" not in response.headers
    assert "Strict-Transport-Security" not in response.headers


def test_anonymous_and_error_responses_carry_headers_too(client):
    for response in (client.get("/login"), client.get("/api/invoices")):
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_invoice_data_is_not_cached(client, auth):
    auth.login("staff")
    assert client.get("/billing/invoices").headers["Cache-Control"] == "no-store"
    assert client.get("/api/invoices").headers["Cache-Control"] == "no-store"


def test_hsts_only_over_https(client):
    response = client.get("/login", base_url="https://billing.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_trusted_proxy_headers_are_honoured(app_factory, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    app = app_factory()
    response = app.test_client().get(
        "/billing/invoices",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/portal"},
    )
    assert response.location.startswith("/portal/login?next=/portal/billing/invoices")
    assert "Strict-Transport-Security" in response.headers


def test_untrusted_forwarded_headers_are_ignored(client):
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_session_cookie_is_httponly_and_lax_by_default(client, auth):
    response = auth.login("staff")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure_and_secret_key_is_required(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_other_frame_ancestors_make_the_cookie_cross_site(app_factory, monkeypatch):
    monkeypatch.setenv(
        "FRAME_ANCESTORS", "https://portal.example.com https://admin.example.com"
    )
    app = app_factory()
    client = app.test_client()
    response = client.get("/login")
    assert response.headers["Content-Security-Policy"].endswith(
        "frame-ancestors https://portal.example.com https://admin.example.com"
    )
    cookie = response.headers["Set-Cookie"]
    for part in ("SameSite=None", "Secure", "Partitioned", "HttpOnly"):
        assert part in cookie


@pytest.mark.parametrize("value", ["portal.example.com", "https://x.example/path", "*"])
def test_bad_frame_ancestors_are_refused_at_start(monkeypatch, value):
    monkeypatch.setenv("FRAME_ANCESTORS", value)
    with pytest.raises(ConfigError, match="FRAME_ANCESTORS"):
        create_app()


def test_embed_mode_drops_the_shell_and_keeps_itself(client, auth, make_invoice):
    make_invoice(number="INV-E1")
    auth.login("staff")
    html = client.get("/billing/invoices?embed=1").get_data(as_text=True)
    assert 'class="topbar"' not in html and 'class="sidenav"' not in html
    assert 'id="invoice-filters"' in html
    assert '<input type="hidden" name="embed" value="1">' in html
    assert 'href="/billing/invoices/INV-E1?embed=1"' in html
    assert "js/embed.js" in html
    assert 'data-parent-origins="http://localhost"' in html
    fragment = client.get(
        "/billing/invoices?embed=1&status=DUE", headers={"HX-Request": "true"}
    )
    assert fragment.headers["HX-Push-Url"] == "/billing/invoices?status=DUE&embed=1"
    detail = client.get("/billing/invoices/INV-E1?embed=1").get_data(as_text=True)
    assert 'class="topbar"' not in detail
    assert 'href="/billing/invoices?embed=1"' in detail


def test_embed_mode_for_the_whole_app(app_factory, monkeypatch, make_invoice):
    monkeypatch.setenv("EMBED_MODE", "1")
    app = app_factory()
    with app.app_context():
        from tests.conftest import Auth

        client = app.test_client()
        Auth(client).login("staff")
        html = client.get("/billing/invoices").get_data(as_text=True)
    assert 'class="topbar"' not in html
    assert "embed=1" not in html


def test_login_redirect_keeps_embed_mode(client):
    response = client.get("/billing/invoices?embed=1")
    assert "embed%3D1" in response.location and "embed=1" in response.location


def test_healthz_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_checks_database_and_migrations(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json == {"status": "ok"}


def test_readyz_fails_when_the_database_is_unreachable(app_factory):
    app = app_factory(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"


def test_readyz_fails_when_migrations_are_not_applied(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.db'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["migrations"]["current"] == []


def test_login_is_rate_limited_with_a_clear_message(app_factory, monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "3 per minute")
    client = app_factory(RATELIMIT_ENABLED=True).test_client()
    statuses = [
        client.post("/login", data={"email": "a@b.c", "password": "x"}).status_code
        for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    response = client.post("/login", data={"email": "a@b.c", "password": "x"})
    assert "Too many sign-in attempts" in response.get_data(as_text=True)
    assert client.get("/login").status_code == 200


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_requests_are_logged_without_secrets(client, auth):
    import json

    capture = _Capture()
    logger = logging.getLogger("invoice_app.request")
    logger.addHandler(capture)
    try:
        user = auth.user("staff")
        auth.login("staff")
        client.get("/api/invoices?q=secret-search", headers={"Authorization": "x"})
    finally:
        logger.removeHandler(capture)
    entries = [json.loads(line) for line in capture.lines]
    last = entries[-1]
    assert last["method"] == "GET" and last["path"] == "/api/invoices"
    assert last["status"] == 200 and last["user_id"] == str(user.id)
    assert isinstance(last["duration_ms"], float)
    text = "\n".join(capture.lines)
    assert "staff-password" not in text and "secret-search" not in text


def test_htmx_errors_are_plain_messages_for_the_alert(client, auth):
    auth.login("staff")
    response = client.get("/billing/invoices/NOPE", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "There is no invoice NOPE."
    response = client.get("/billing/invoices/new", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response.get_data(as_text=True) == "Only a billing admin may do this."


def test_unexpected_errors_are_a_500_page_in_the_shell(app_factory):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    def boom():
        raise RuntimeError("secret detail")

    app.add_url_rule("/boom", "boom", boom)
    client = app.test_client()
    response = client.get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "500 · Internal Server Error" in html and 'class="skip-link"' in html
    assert "secret detail" not in html
    response = client.get("/boom", headers={"HX-Request": "true"})
    assert response.status_code == 500 and response.mimetype == "text/plain"
    assert "secret detail" not in response.get_data(as_text=True)
