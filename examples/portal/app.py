"""The example portal: its own sign-in, a token endpoint, a page with the frame.

Run it beside the Invoice Manager with `make portal`. Settings come from the
environment (or create_portal's config, in tests):

    PORTAL_SECRET_KEY    signs the portal's own session cookie
    SSO_SECRET           shared with the Invoice Manager (its SSO_SECRET)
    SSO_ISSUER           this portal's name in tokens (the app's SSO_ISSUER)
    SSO_AUDIENCE         default invoice-manager
    INVOICE_MANAGER_URL  the Invoice Manager's origin, default http://127.0.0.1:5000
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import wraps

from flask import (
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFProtect

from .tokens import invoice_manager_token
from .users import DEMO_PASSWORDS, DEMO_USERS, authenticate

SETTINGS = {
    "PORTAL_SECRET_KEY": "",
    "SSO_SECRET": "",
    "SSO_ISSUER": "http://localhost:5001",
    "SSO_AUDIENCE": "invoice-manager",
    "INVOICE_MANAGER_URL": "http://127.0.0.1:5000",
}


def create_portal(config: Mapping | None = None) -> Flask:
    """The portal app, configured from the environment, then from config."""
    app = Flask(__name__)
    for name, default in SETTINGS.items():
        app.config[name] = os.environ.get(name, default)
    app.config.update(config or {})
    if not app.config["PORTAL_SECRET_KEY"]:
        raise RuntimeError("Set PORTAL_SECRET_KEY (a long random value).")
    if len(app.config["SSO_SECRET"].encode()) < 32:
        raise RuntimeError("Set SSO_SECRET, at least 32 bytes, as in the app.")
    app.config["INVOICE_MANAGER_URL"] = app.config["INVOICE_MANAGER_URL"].rstrip("/")
    app.config.update(
        SECRET_KEY=app.config["PORTAL_SECRET_KEY"],
        # Its own cookie name: "session" is the Invoice Manager's, and both may
        # run on one host name in development.
        SESSION_COOKIE_NAME="portal_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        # The billing page may stay open for hours and still renew the frame's
        # session: the CSRF token lives as long as the portal's session.
        WTF_CSRF_TIME_LIMIT=None,
    )
    # Every POST (sign-in, sign-out, /token) needs the portal's CSRF token.
    CSRFProtect(app)
    app.before_request(_load_user)
    app.after_request(_security_headers)
    _routes(app)
    return app


def _load_user() -> None:
    g.user = DEMO_USERS.get(session.get("email", ""))


def _security_headers(response):
    # The portal's page may load host.js from the Invoice Manager, frame it and
    # post the sign-in form to it; nothing else from anywhere else.
    app_origin = _app_url()
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {app_origin}; "
        f"frame-src {app_origin}; form-action 'self' {app_origin}; "
        "connect-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _app_url() -> str:
    return current_app.config["INVOICE_MANAGER_URL"]


def _safe_next(target: str | None) -> str:
    # A deep link (/billing?billing=...) survives the portal's sign-in; only
    # paths of this portal are followed (no open redirect).
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("billing")


def signed_in(view):
    """The view needs a signed-in portal user."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.user is None:
            if request.method == "POST":
                abort(401)
            return redirect(url_for("sign_in", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper


def _routes(app: Flask) -> None:
    @app.get("/")
    def home():
        """The portal's start page: the billing page, once signed in."""
        return redirect(url_for("billing" if g.user else "sign_in"))

    @app.route("/sign-in", methods=["GET", "POST"])
    def sign_in():
        """The portal's own sign-in (the Invoice Manager never sees a password)."""
        error = ""
        if request.method == "POST":
            user = authenticate(
                request.form.get("email", ""), request.form.get("password", "")
            )
            if user is not None:
                session.clear()  # nothing of the previous user is kept
                session["email"] = user.email
                return redirect(_safe_next(request.args.get("next")))
            error = "E-mail or password is not right."
        page = render_template(
            "sign_in.html",
            error=error,
            demo_users=DEMO_USERS.values(),
            passwords=DEMO_PASSWORDS,
        )
        return page, 400 if error else 200

    @app.post("/sign-out")
    def sign_out():
        """Sign out of the portal (the frame's session goes with the frame)."""
        session.clear()
        return redirect(url_for("sign_in"))

    @app.get("/billing")
    @signed_in
    def billing():
        """The page with the Invoice Manager; ?billing=<path> is where it opens."""
        return render_template("billing.html", app_url=_app_url())

    @app.post("/token")
    @signed_in
    def token():
        """A fresh sign-in token for the signed-in user (host.js's getToken)."""
        # CSRFProtect has checked the X-CSRFToken header, which only this
        # portal's own pages can read; Sec-Fetch-Site says the same.
        if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
            abort(403)
        response = jsonify(token=invoice_manager_token(g.user, app.config))
        response.headers["Cache-Control"] = "no-store"
        return response
