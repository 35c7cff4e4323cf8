"""Single sign-on by a portal's signed token: GET or POST /sso, and its refusals."""

from __future__ import annotations

import json
import logging

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_user

from ..extensions import csrf, limiter
from ..web import is_fragment_request
from . import bp, sso_session
from .redirects import safe_next
from .sso import TokenRefused, sso_enabled, verify_token
from .sso_sign_in import sign_in_user

logger = logging.getLogger("invoice_app.sso")


@bp.route("/sso", methods=["GET", "POST"])
# The portal's page posts here, so the form cannot carry this app's CSRF token.
# The token is the proof instead: signed by the portal, short-lived, single use
# (docs/embedding.md, "Why /sso has no CSRF token").
@csrf.exempt
# Only refused tokens count: a guessed or replayed token costs a signature check
# and a log line each, and a flood of them from one address is stopped; the
# sign-ins of a whole office behind one address are never counted.
@limiter.limit(
    lambda: current_app.config["SSO_REFUSAL_RATE_LIMIT"],
    deduct_when=lambda response: response.status_code == 401,
    error_message="Too many refused sign-ins from your address. "
    "Wait a minute, then open the Invoice Manager from the portal again.",
)
def sso():
    """Sign in with the portal's token, then answer 303 to `next`."""
    if not sso_enabled():
        abort(404)
    if request.method == "HEAD":
        # A link checker's HEAD must not use up the token.
        return "", 200
    fields = request.form if request.method == "POST" else request.args
    try:
        claims = verify_token(fields.get("token", "").strip())
        user = sign_in_user(claims)
    except TokenRefused as refused:
        _log_refusal(refused)
        return render_template("auth/sso_refused.html", reason=refused.reason), 401
    # A fresh session: nothing of whoever used this browser before is kept.
    session.clear()
    login_user(user)
    sso_session.start(user, claims, host_theme=fields.get("theme", ""))
    return redirect(safe_next(fields.get("next")), code=303)


@bp.get("/sso/ended")
def sso_session_ended():
    """The page htmx requests are sent to when the SSO session has ended."""
    if not sso_enabled():
        abort(404)
    return session_ended_response(safe_next(request.args.get("next")))


def session_ended_response(path: str):
    """401: the session ended; a framing portal is told `path` to re-enter at."""
    if is_fragment_request():
        # htmx would swap the page into the table; the whole frame goes there.
        target = url_for("auth.sso_session_ended", next=path)
        return "", 401, {"HX-Redirect": target}
    page = render_template(
        "auth/sso_refused.html",
        reason="Your session has ended because it was not used for a while.",
        session_ended_path=path,
    )
    return page, 401


def _log_refusal(refused: TokenRefused) -> None:
    # The reason code only: the token, and claims nobody has verified, stay out.
    logger.warning(
        json.dumps(
            {
                "event": "sso_refused",
                "code": refused.code,
                "method": request.method,
                "remote_addr": request.remote_addr,
            }
        )
    )
