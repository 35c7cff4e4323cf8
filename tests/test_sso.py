"""Single sign-on by a portal's signed token, through HTTP as a browser does it.

Keys are made here (cryptography), tokens signed with PyJWT (or by hand, for
the tokens PyJWT refuses to make). Every refused token must answer 401 with its
reason, sign nobody in and write nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import types
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from sqlalchemy import func, select

from invoice_app.config import ConfigError
from invoice_app.extensions import db
from invoice_app.models import AuditEvent, Invoice, Tenant, UsedToken, User
from tests.conftest import PASSWORDS, csrf_token

SECRET = "portal-shared-secret-of-forty-bytes-xxxx"
ISSUER = "https://portal.example.test"
DROP = object()  # a claim to leave out


# --- keys and tokens ----------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )


def claims(**overrides) -> dict:
    """A valid payload as the portal would send it; DROP leaves a claim out."""
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": "invoice-manager",
        "sub": "portal-user-1",
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "email": "ada@portal.example",
        "tenant": "default",
        "role": "admin",
        "name": "Ada Lovelace",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not DROP}


def hs_token(key: str = SECRET, **overrides) -> str:
    return jwt.encode(claims(**overrides), key, algorithm="HS256")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made_token(header: dict, payload: dict, hmac_key: bytes | None) -> str:
    """A token PyJWT will not make: unsigned, or HMAC'd with a public key."""
    signing_input = (
        f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    )
    if hmac_key is None:
        return signing_input + "."
    mac = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


# --- apps ---------------------------------------------------------------------


@pytest.fixture
def sso_factory(app_factory, monkeypatch):
    """Apps configured from the environment, as in production."""

    def make(**env):
        for name in ("SSO_SECRET", "SSO_PUBLIC_KEY", "SSO_JWKS_URL", "SSO_ISSUER"):
            monkeypatch.delenv(name, raising=False)
        for name, value in {"SSO_ISSUER": ISSUER, **env}.items():
            monkeypatch.setenv(name, value)
        return app_factory()

    return make


@pytest.fixture
def hs_app(sso_factory):
    app = sso_factory(SSO_SECRET=SECRET)
    with app.app_context():
        yield app


@pytest.fixture
def portal(hs_app):
    """A browser inside the portal, talking to an app with SSO_SECRET set."""
    return hs_app.test_client()


def signed_in(client) -> bool:
    """True when the invoice list shows; False when it sends the browser away."""
    response = client.get("/billing/invoices")
    assert response.status_code in (200, 302, 401)
    return response.status_code == 200


def count(model) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(model))


def assert_refused(response, reason: str) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 401, page
    assert reason in page
    assert 'name="password"' not in page  # no login form, in a frame or not


# --- refusals -----------------------------------------------------------------

REFUSED = [
    (
        "expired",
        lambda: hs_token(iat=int(time.time()) - 200, exp=int(time.time()) - 60),
        "The sign-in token has expired.",
    ),
    (
        "issued in the future",
        lambda: hs_token(iat=int(time.time()) + 120, exp=int(time.time()) + 240),
        "not valid yet",
    ),
    (
        "not before in the future",
        lambda: hs_token(nbf=int(time.time()) + 120),
        "not valid yet",
    ),
    ("wrong issuer", lambda: hs_token(iss="https://evil.example"), "wrong issuer"),
    ("wrong audience", lambda: hs_token(aud="another-app"), "wrong audience"),
    (
        "bad signature",
        lambda: hs_token(key="another-secret-of-at-least-thirty-two-bytes"),
        "signature is not right",
    ),
    (
        "alg none",
        lambda: hand_made_token({"alg": "none", "typ": "JWT"}, claims(), None),
        "signed in a way this app does not accept",
    ),
    ("role outside the set", lambda: hs_token(role="owner"), "“admin” or “staff”"),
    (
        "lifetime too long",
        lambda: hs_token(exp=int(time.time()) + 301),
        "lives too long",
    ),
    ("not a token", lambda: "not-a-token", "not valid"),
    ("no token", lambda: "", "No sign-in token was sent."),
    ("email not an address", lambda: hs_token(email="ada"), "not an e-mail"),
    ("sub not text", lambda: hs_token(sub=42), "not valid"),
    ("theme unknown", lambda: hs_token(theme="pink"), "“light” or “dark”"),
    ("tenant not a slug", lambda: hs_token(tenant="Acme Corp"), "must be a slug"),
    (
        "clients not a list",
        lambda: hs_token(clients="billing@acme.example"),
        "must be a list of client e-mails",
    ),
]


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_refused_token_signs_nobody_in_and_writes_nothing(portal, make_token, reason):
    response = portal.get("/sso", query_string={"token": make_token()})
    assert_refused(response, reason)
    assert not signed_in(portal)
    assert count(User) == 0 and count(UsedToken) == 0


@pytest.mark.parametrize(
    "claim", ["iss", "aud", "sub", "exp", "iat", "jti", "email", "tenant", "role"]
)
def test_token_missing_a_required_claim_is_refused(portal, claim):
    response = portal.post("/sso", data={"token": hs_token(**{claim: DROP})})
    assert_refused(response, f"missing the claim “{claim}”")
    assert not signed_in(portal)
    assert count(User) == 0


def test_refusal_is_one_log_line_with_the_reason_code(portal, caplog):
    portal.get("/sso", query_string={"token": hs_token(aud="another-app")})
    lines = [r for r in caplog.records if r.name == "invoice_app.sso"]
    assert len(lines) == 1
    logged = json.loads(lines[0].getMessage())
    assert logged["event"] == "sso_refused" and logged["code"] == "wrong_audience"
    assert "token" not in logged


def test_token_works_once(portal, hs_app):
    token = hs_token()
    assert portal.get("/sso", query_string={"token": token}).status_code == 303
    other_browser = hs_app.test_client()
    response = other_browser.get("/sso", query_string={"token": token})
    assert_refused(response, "has been used already")
    assert not signed_in(other_browser)


def test_token_used_on_one_app_instance_is_refused_by_another(sso_factory):
    """Two workers (or hosts) share the database, and so the used tokens."""
    first = sso_factory(SSO_SECRET=SECRET).test_client()
    second = sso_factory(SSO_SECRET=SECRET).test_client()
    token = hs_token()
    assert first.post("/sso", data={"token": token}).status_code == 303
    assert_refused(second.post("/sso", data={"token": token}), "used already")
    assert not signed_in(second)
    assert signed_in(first)


def test_two_workers_racing_with_one_token_let_one_through(sso_factory):
    clients = [sso_factory(SSO_SECRET=SECRET).test_client() for _ in range(2)]
    token = hs_token()
    barrier = threading.Barrier(2)
    statuses = []

    def sign_in(browser):
        barrier.wait()
        statuses.append(browser.post("/sso", data={"token": token}).status_code)

    threads = [threading.Thread(target=sign_in, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303, 401]
    with clients[0].application.app_context():
        assert count(User) == 1 and count(UsedToken) == 1


def test_head_request_does_not_use_the_token(portal):
    token = hs_token()
    assert portal.head("/sso", query_string={"token": token}).status_code == 200
    assert count(UsedToken) == 0
    assert portal.get("/sso", query_string={"token": token}).status_code == 303


def test_used_tokens_are_cleared_once_expired(portal):
    with time_machine.travel(datetime.now(UTC) - timedelta(hours=1), tick=False):
        portal.get("/sso", query_string={"token": hs_token(jti="old-token")})
    assert db.session.get(UsedToken, "old-token") is not None
    portal.get("/sso", query_string={"token": hs_token(jti="new-token")})
    db.session.commit()
    assert db.session.get(UsedToken, "old-token") is None
    assert db.session.get(UsedToken, "new-token") is not None


def test_a_refused_token_leaves_an_existing_session_as_it_was(portal):
    assert portal.get("/sso", query_string={"token": hs_token()}).status_code == 303
    portal.get("/sso", query_string={"token": hs_token(aud="another-app")})
    assert signed_in(portal)


# --- signing in ---------------------------------------------------------------


def test_valid_token_signs_in_and_goes_to_next(portal, make_invoice):
    make_invoice(number="INV-SSO-1")
    token = hs_token(locale="de_DE", theme="dark", tenant_name="Default portal")
    response = portal.get(
        "/sso",
        query_string={"token": token, "next": "/billing/invoices?q=inv-sso"},
    )
    assert response.status_code == 303
    # The token leaves the address bar at once.
    assert response.location == "/billing/invoices?q=inv-sso"
    page = portal.get(response.location).get_data(as_text=True)
    assert "INV-SSO-1" in page and "ada@portal.example" in page
    user = db.session.scalar(select(User))
    assert (user.email, user.name, user.role) == (
        "ada@portal.example",
        "Ada Lovelace",
        "admin",
    )
    assert user.sso_sub == "portal-user-1" and user.password_hash is None
    assert user.tenant.slug == "default" and user.tenant.name == "Default portal"
    assert user.allowed_clients is None


@pytest.mark.parametrize(
    ("token_claims", "theme_field", "theme", "amount"),
    [
        # The claims decide: dark colours, German money ("de-DE" as BCP 47 too).
        ({"locale": "de-DE", "theme": "dark"}, "light", "dark", "1.234,50\xa0€"),
        # No theme claim: the portal page's wish (host.js's `theme`) is used.
        ({}, "dark", "dark", "€1,234.50"),
        # Anything else is ignored: an unknown locale keeps the default one.
        ({"locale": "xx-Nowhere"}, "pink", None, "€1,234.50"),
    ],
)
def test_theme_and_locale_shape_the_pages(
    portal, make_invoice, token_claims, theme_field, theme, amount
):
    make_invoice(number="INV-SSO-L", currency="EUR", payable=Decimal("1234.50"))
    response = portal.post(
        "/sso",
        data={"token": hs_token(**token_claims), "theme": theme_field},
    )
    assert response.status_code == 303
    page = portal.get("/billing/invoices?embed=1").get_data(as_text=True)
    if theme:
        assert f'<html lang="en" data-theme="{theme}">' in page
    else:
        assert '<html lang="en">' in page
    assert amount in page


def test_post_with_form_fields_needs_no_csrf_token(portal):
    response = portal.post(
        "/sso",
        data={"token": hs_token(), "next": "/billing/invoices?date_field=due"},
    )
    assert response.status_code == 303
    assert response.location == "/billing/invoices?date_field=due"
    assert signed_in(portal)


def test_without_next_goes_to_the_invoice_list(portal):
    response = portal.get("/sso", query_string={"token": hs_token()})
    assert response.location == "/billing/invoices"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_unsafe_next_falls_back_to_the_list(portal, target):
    response = portal.get("/sso", query_string={"token": hs_token(), "next": target})
    assert response.status_code == 303
    assert response.location == "/billing/invoices"


def test_embedded_sign_in_stays_embedded(portal):
    response = portal.get("/sso", query_string={"token": hs_token(), "embed": "1"})
    assert response.location == "/billing/invoices?embed=1"


def test_next_sign_in_updates_name_and_role(portal, hs_app):
    portal.get("/sso", query_string={"token": hs_token()})
    again = hs_app.test_client()
    token = hs_token(role="staff", name="Ada King", email="Ada.King@Portal.example")
    assert again.get("/sso", query_string={"token": token}).status_code == 303
    db.session.commit()
    users = db.session.scalars(select(User)).all()
    assert len(users) == 1
    assert (users[0].name, users[0].role, users[0].email) == (
        "Ada King",
        "staff",
        "ada.king@portal.example",
    )
    # The role is enforced from the new sign-in on.
    page = again.get("/billing/invoices").get_data(as_text=True)
    assert "(staff)" in page


def test_sign_in_replaces_whoever_was_signed_in(portal, hs_app):
    portal.get("/sso", query_string={"token": hs_token()})
    token = hs_token(sub="portal-user-2", email="bob@portal.example", role="staff")
    portal.get("/sso", query_string={"token": token})
    assert "bob@portal.example" in portal.get("/billing/invoices").get_data(
        as_text=True
    )


def test_token_for_the_email_of_a_password_user_is_refused(portal, hs_app):
    """Linking by e-mail would let the portal take over a local account."""
    local = User(email="ada@portal.example", role="staff")
    local.set_password(PASSWORDS["staff"])
    db.session.add(local)
    db.session.commit()
    response = portal.get("/sso", query_string={"token": hs_token()})
    assert_refused(response, "Another account here already uses ada@portal.example")
    assert not signed_in(portal)
    db.session.commit()
    assert db.session.get(User, local.id).sso_sub is None
    assert count(UsedToken) == 0


def test_user_of_single_sign_on_cannot_use_the_login_form(portal, hs_app):
    portal.get("/sso", query_string={"token": hs_token()})
    browser = hs_app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    response = browser.post(
        "/login",
        data={
            "email": "ada@portal.example",
            "password": "anything-at-all",
            "csrf_token": csrf_token(page),
        },
    )
    assert response.status_code == 400
    assert "This account signs in through the portal" in response.get_data(as_text=True)
    assert not signed_in(browser)


def test_sso_is_off_without_a_key(client):
    assert client.get("/sso", query_string={"token": hs_token()}).status_code == 404
    assert client.post("/sso", data={"token": hs_token()}).status_code == 404
    assert client.get("/sso/ended").status_code == 404


# --- audit ----------------------------------------------------------------------


def test_audit_records_the_sso_users_sub_and_jti(portal, make_invoice):
    invoice = make_invoice()
    portal.get("/sso", query_string={"token": hs_token(jti="token-of-ada")})
    page = portal.get(f"/billing/invoices/{invoice.number}").get_data(as_text=True)
    response = portal.post(
        f"/billing/invoices/{invoice.number}/cancel",
        data={
            "csrf_token": csrf_token(page),
            "version": invoice.version,
            "reason": "Duplicate",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cancel"))
    assert event.actor == "ada@portal.example"
    assert (event.sso_sub, event.sso_jti) == ("portal-user-1", "token-of-ada")
    assert db.session.get(Invoice, invoice.id).status == "CANCEL"


def test_audit_of_a_password_user_has_no_sso_ids(admin, make_invoice):
    invoice = make_invoice()
    page = admin.get(f"/billing/invoices/{invoice.number}").get_data(as_text=True)
    admin.post(
        f"/billing/invoices/{invoice.number}/cancel",
        data={"csrf_token": csrf_token(page), "version": 1, "reason": "Duplicate"},
    )
    db.session.commit()
    event = db.session.scalar(select(AuditEvent))
    assert (event.sso_sub, event.sso_jti) == (None, None)


# --- idle expiry ----------------------------------------------------------------


def test_sso_session_ends_after_the_idle_time(sso_factory):
    app = sso_factory(SSO_SECRET=SECRET, SSO_SESSION_MINUTES="30")
    browser = app.test_client()
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        browser.get("/sso", query_string={"token": hs_token()})
        clock.move_to(start + timedelta(minutes=29))
        assert signed_in(browser)  # use keeps the session alive
        clock.move_to(start + timedelta(minutes=58))
        assert signed_in(browser)
        clock.move_to(start + timedelta(minutes=89))
        response = browser.get("/billing/invoices?status=DUE&embed=1")
        page = response.get_data(as_text=True)
        assert response.status_code == 401
        assert "Your session has ended" in page and 'name="password"' not in page
        # The frame tells the host where to re-enter (js/embed.js).
        assert 'data-host-message="session-ended"' in page
        assert 'data-path="/billing/invoices?status=DUE&amp;embed=1"' in page
        assert "js/embed.js" in page
        # It stays ended (no login form) until a new token signs the user in.
        again = browser.get("/billing/invoices/export.xlsx")
        assert again.status_code == 401 and 'name="password"' not in again.text
        fragment = browser.get(
            "/billing/invoices?status=PAID", headers={"HX-Request": "true"}
        )
        assert fragment.status_code == 401
        ended = fragment.headers["HX-Redirect"]
        assert ended.startswith("/sso/ended?next=")
        ended_page = browser.get(ended)
        assert ended_page.status_code == 401
        assert 'data-path="/billing/invoices?status=PAID"' in ended_page.text
        assert (
            browser.get("/sso", query_string={"token": hs_token()}).status_code == 303
        )
        assert signed_in(browser)


def test_session_ended_page_has_no_inline_script(sso_factory):
    app = sso_factory(SSO_SECRET=SECRET, SSO_SESSION_MINUTES="1")
    browser = app.test_client()
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as c:
        browser.get("/sso", query_string={"token": hs_token()})
        c.shift(timedelta(minutes=2))
        response = browser.get("/billing/invoices")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    page = response.text
    assert page.count("<script") == page.count("<script src=")


def test_password_sign_in_after_an_ended_sso_session_is_not_idled_out(portal):
    staff = User(email="staff@example.test", role="staff")
    staff.set_password(PASSWORDS["staff"])
    db.session.add(staff)
    db.session.commit()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        portal.get("/sso", query_string={"token": hs_token()})
        clock.move_to(start + timedelta(hours=2))
        assert portal.get("/billing/invoices").status_code == 401  # ended
        # The login form is still there for whoever opens it on purpose.
        page = portal.get("/login").get_data(as_text=True)
        response = portal.post(
            "/login",
            data={
                "email": "staff@example.test",
                "password": PASSWORDS["staff"],
                "csrf_token": csrf_token(page),
            },
        )
        assert response.status_code == 302
        clock.move_to(start + timedelta(hours=5))
        page = portal.get("/billing/invoices").get_data(as_text=True)
        assert "staff@example.test" in page


# --- public keys: RS256 and ES256 -----------------------------------------------


def test_rs256_token_signs_in_with_the_public_key(sso_factory, rsa_key):
    app = sso_factory(SSO_PUBLIC_KEY=public_pem(rsa_key))
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    browser = app.test_client()
    assert browser.get("/sso", query_string={"token": token}).status_code == 303
    assert signed_in(browser)


def test_public_key_with_escaped_newlines_as_env_files_hold_it(sso_factory, rsa_key):
    app = sso_factory(SSO_PUBLIC_KEY=public_pem(rsa_key).replace("\n", "\\n"))
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert (
        app.test_client().get("/sso", query_string={"token": token}).status_code == 303
    )


def test_es256_token_signs_in_with_the_public_key(sso_factory, ec_key):
    app = sso_factory(SSO_PUBLIC_KEY=public_pem(ec_key))
    token = jwt.encode(claims(), ec_key, algorithm="ES256")
    assert (
        app.test_client().get("/sso", query_string={"token": token}).status_code == 303
    )


def test_algorithm_confusion_token_is_refused(sso_factory, rsa_key):
    """HS256 "signed" with the RSA public key, which anyone can read."""
    pem = public_pem(rsa_key)
    app = sso_factory(SSO_PUBLIC_KEY=pem)
    browser = app.test_client()
    token = hand_made_token({"alg": "HS256", "typ": "JWT"}, claims(), pem.encode())
    response = browser.get("/sso", query_string={"token": token})
    with app.app_context():
        assert_refused(response, "signed in a way this app does not accept")
        assert not signed_in(browser)
        assert count(User) == 0


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "HS256", "none"])
def test_only_the_configured_family_is_accepted(
    sso_factory, rsa_key, ec_key, algorithm
):
    app = sso_factory(SSO_PUBLIC_KEY=public_pem(ec_key))
    keys = {"RS256": rsa_key, "ES256": ec.generate_private_key(ec.SECP256R1())}
    if algorithm in keys:
        token = jwt.encode(claims(), keys[algorithm], algorithm=algorithm)
    elif algorithm == "HS256":
        token = hand_made_token({"alg": "HS256"}, claims(), public_pem(ec_key).encode())
    else:
        token = hand_made_token({"alg": "none"}, claims(), None)
    response = app.test_client().get("/sso", query_string={"token": token})
    assert response.status_code == 401
    expected = "signature is not right" if algorithm == "ES256" else "does not accept"
    assert expected in response.text


# --- keys from a JWKS URL -------------------------------------------------------


class KeySet:
    """A portal's JWKS endpoint on a loopback port, counting its fetches."""

    def __init__(self):
        self.keys: list[dict] = []
        self.body: bytes | None = None  # served instead of the keys when set
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.fetches += 1
                body = owner.body or json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, key, kid: str) -> None:
        jwk = json.loads(
            jwt.algorithms.get_default_algorithms()[
                "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
            ].to_jwk(key.public_key())
        )
        self.keys.append({**jwk, "kid": kid, "use": "sig"})

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def key_set():
    keys = KeySet()
    yield keys
    keys.close()


@pytest.fixture
def monotonic(monkeypatch):
    """PyJWKClient's refresh cooldown runs on time.monotonic; move it by hand."""
    clock = types.SimpleNamespace(now=time.monotonic())
    fake_time = types.SimpleNamespace(monotonic=lambda: clock.now)
    monkeypatch.setattr(jwt.jwks_client, "time", fake_time)
    return clock


def test_jwks_keys_by_kid_cached_and_refreshed_once_on_unknown_kid(
    sso_factory, key_set, rsa_key, ec_key, monotonic
):
    key_set.publish(rsa_key, "rsa-1")
    app = sso_factory(SSO_JWKS_URL=key_set.url)

    def sign_in(key, kid, algorithm):
        token = jwt.encode(claims(), key, algorithm=algorithm, headers={"kid": kid})
        return app.test_client().get("/sso", query_string={"token": token})

    assert sign_in(rsa_key, "rsa-1", "RS256").status_code == 303
    assert sign_in(rsa_key, "rsa-1", "RS256").status_code == 303
    assert key_set.fetches == 1  # cached

    # The portal adds a key; a token naming it fetches the set again, once.
    key_set.publish(ec_key, "ec-1")
    monotonic.now += 31
    assert sign_in(ec_key, "ec-1", "ES256").status_code == 303
    assert key_set.fetches == 2

    # A made-up kid refreshes at most once per cooldown, however often it comes.
    monotonic.now += 31
    for _ in range(3):
        response = sign_in(ec_key, "made-up", "ES256")
        assert_refused(response, "signed with a key the portal does not publish")
    assert key_set.fetches == 3


def test_jwks_key_used_with_another_algorithm_is_refused(sso_factory, key_set, rsa_key):
    key_set.publish(rsa_key, "rsa-1")
    app = sso_factory(SSO_JWKS_URL=key_set.url)
    pem = public_pem(rsa_key).encode()
    token = hand_made_token({"alg": "HS256", "kid": "rsa-1"}, claims(), pem)
    response = app.test_client().get("/sso", query_string={"token": token})
    assert_refused(response, "signed in a way this app does not accept")


def test_jwks_symmetric_key_is_refused(sso_factory, key_set):
    """A shared secret published in a key set is no proof of anything."""
    secret = b"published-secret-of-thirty-two-bytes!!"
    key_set.keys.append({"kty": "oct", "k": b64(secret), "kid": "oct-1"})
    app = sso_factory(SSO_JWKS_URL=key_set.url)
    token = jwt.encode(claims(), secret, algorithm="HS256", headers={"kid": "oct-1"})
    response = app.test_client().get("/sso", query_string={"token": token})
    assert_refused(response, "key is of a kind this app does not accept")


@pytest.mark.parametrize(
    "body", [b"<html>down for maintenance</html>", b"[]", b'{"keys": []}']
)
def test_jwks_answering_nonsense_is_a_401_not_a_500(
    sso_factory, key_set, rsa_key, body
):
    key_set.body = body
    app = sso_factory(SSO_JWKS_URL=key_set.url)
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
    response = app.test_client().get("/sso", query_string={"token": token})
    assert_refused(response, "Could not fetch the portal&#39;s keys")


def test_jwks_unreachable_is_a_401_saying_so(sso_factory, key_set, rsa_key):
    url = key_set.url
    key_set.close()
    app = sso_factory(SSO_JWKS_URL=url)
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
    browser = app.test_client()
    response = browser.get("/sso", query_string={"token": token})
    with app.app_context():
        assert_refused(response, "Could not fetch the portal&#39;s keys")
        assert not signed_in(browser)
    key_set.close = lambda: None


def test_jwks_token_without_kid_is_refused(sso_factory, key_set, rsa_key):
    key_set.publish(rsa_key, "rsa-1")
    app = sso_factory(SSO_JWKS_URL=key_set.url)
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    response = app.test_client().get("/sso", query_string={"token": token})
    assert_refused(response, "does not name its signing key")


# --- settings checked at start-up -----------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SSO_SECRET": "too-short"}, "at least 32 bytes"),
        ({"SSO_SECRET": SECRET, "SECRET_KEY": SECRET}, "same as SECRET_KEY"),
        ({"SSO_SECRET": SECRET, "SSO_JWKS_URL": "https://p.example/jwks"}, "only one"),
        ({"SSO_SECRET": SECRET, "SSO_ISSUER": ""}, "SSO_ISSUER is not set"),
        ({"SSO_SECRET": SECRET, "SSO_SESSION_MINUTES": "0"}, "1 or more"),
        ({"SSO_SECRET": SECRET, "SSO_SESSION_MINUTES": "an hour"}, "whole number"),
        ({"SSO_PUBLIC_KEY": "not a key"}, "not a PEM public key"),
        ({"SSO_JWKS_URL": "http://portal.example/jwks"}, "must be an https:// URL"),
        ({"SSO_JWKS_URL": "file:///etc/passwd"}, "must be an https:// URL"),
    ],
)
def test_wrong_settings_stop_the_start(sso_factory, env, message):
    with pytest.raises(ConfigError, match=message):
        sso_factory(**env)


def test_a_test_config_is_checked_like_the_environment(app_factory):
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        app_factory(SSO_SECRET="short", SSO_ISSUER=ISSUER)
    app = app_factory(SSO_SECRET=SECRET, SSO_ISSUER=ISSUER)
    assert app.config["SSO_ALGORITHMS"] == ["HS256"]
    browser = app.test_client()
    assert browser.get("/sso", query_string={"token": hs_token()}).status_code == 303


def test_weak_or_unknown_public_keys_stop_the_start(sso_factory):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    with pytest.raises(ConfigError, match="at least 2048 bits"):
        sso_factory(SSO_PUBLIC_KEY=public_pem(small))
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(ConfigError, match="P-256"):
        sso_factory(SSO_PUBLIC_KEY=public_pem(p384))
    with pytest.raises(ConfigError, match="RSA key or an EC key"):
        sso_factory(SSO_PUBLIC_KEY=public_pem(ed25519.Ed25519PrivateKey.generate()))


def test_plain_http_jwks_is_refused_in_production_even_on_localhost(
    sso_factory, monkeypatch
):
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="https://"):
        sso_factory(SSO_JWKS_URL="http://127.0.0.1:9/jwks")


def test_default_tenant_exists_for_users_made_without_one(app):
    user = User(email="plain@example.test", role="staff")
    user.set_password(PASSWORDS["staff"])
    db.session.add(user)
    db.session.commit()
    assert user.tenant.slug == "default"
    assert count(Tenant) == 1


def test_refused_tokens_are_rate_limited_and_accepted_ones_are_not_counted(
    app_factory, monkeypatch
):
    for name in ("SSO_PUBLIC_KEY", "SSO_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSO_SECRET", SECRET)
    monkeypatch.setenv("SSO_ISSUER", ISSUER)
    monkeypatch.setenv("SSO_REFUSAL_RATE_LIMIT", "3 per minute")
    app = app_factory(RATELIMIT_ENABLED=True)
    office = app.test_client()
    # Sign-ins that succeed, however many, use up nothing.
    for n in range(5):
        token = hs_token(sub=f"user-{n}", email=f"user{n}@example.com")
        assert office.get("/sso", query_string={"token": token}).status_code == 303
    forged = [
        office.get(
            "/sso",
            query_string={
                "token": hs_token("a-key-that-is-not-the-portal-s-shared-secret")
            },
        ).status_code
        for _ in range(4)
    ]
    assert forged == [401, 401, 401, 429]
    response = office.get("/sso", query_string={"token": hs_token()})
    assert response.status_code == 429
    assert "Too many refused sign-ins" in response.get_data(as_text=True)
