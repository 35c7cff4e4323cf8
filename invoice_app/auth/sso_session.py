"""Sessions begun by single sign-on: who signed in with which token, idle expiry.

The session cookie (signed) holds the token's `sub` and `jti` and when the
session was last used, so every worker and host agrees without a server-side
store. An SSO session unused for SSO_SESSION_MINUTES ends; the next page says
so (and tells a framing portal) instead of showing a login form, since these
users have no password here.

The token's `theme` and `locale` claims live here too: `theme` becomes the
pages' data-theme, `locale` the language of their money and dates.
"""

from __future__ import annotations

import time

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, g, has_app_context, session
from flask_login import logout_user

from ..models import User
from .sso import THEMES, SsoClaims

SESSION_KEY = "sso"
# Set when an SSO session ended, until the next sign-in: the login form is
# no way back for a user without a password.
ENDED_KEY = "sso_ended"


def start(user: User, claims: SsoClaims, host_theme: str = "") -> None:
    """Remember, in the fresh session, that this user came in with this token.

    host_theme is the portal page's wish (host.js's `theme`), used only when the
    token has no `theme` claim: it is not signed, but it only picks colours.
    """
    session.pop(ENDED_KEY, None)
    session[SESSION_KEY] = {
        "uid": str(user.id),
        "sub": claims.sub,
        "jti": claims.jti,
        "seen": int(time.time()),
        "locale": _known_locale(claims.locale),
        "theme": claims.theme or (host_theme if host_theme in THEMES else ""),
    }


def _known_locale(tag: str) -> str:
    """The claim as a locale Babel can format with ("de-DE" -> "de_DE"), else ""."""
    if not tag:
        return ""
    try:
        return str(Locale.parse(tag.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        # An unknown locale is no reason to refuse a sign-in: the default stays.
        return ""


def forget() -> None:
    """The user signed in another way or signed out: no SSO session any more."""
    session.pop(SESSION_KEY, None)
    session.pop(ENDED_KEY, None)


def ended() -> bool:
    """True when this browser's SSO session ended for want of use."""
    return bool(session.get(ENDED_KEY))


def identity() -> tuple[str, str] | None:
    """(sub, jti) of the SSO session this request belongs to, if any."""
    return g.get("sso_identity") if has_app_context() else None


def _check_session() -> None:
    info = session.get(SESSION_KEY)
    if not info:
        return
    if info.get("uid") != session.get("_user_id"):
        # Signed in with a password (or out) since: the SSO session is over.
        session.pop(SESSION_KEY, None)
        return
    now = int(time.time())
    if now - info["seen"] > current_app.config["SSO_SESSION_MINUTES"] * 60:
        logout_user()
        session.pop(SESSION_KEY, None)
        session[ENDED_KEY] = True
        return
    session[SESSION_KEY] = {**info, "seen": now}
    g.sso_identity = (info["sub"], info["jti"])
    # web/formatting.py formats money and dates in g.locale when it is set.
    # Checked again: a session begun by an older version kept the raw claim.
    g.locale = _known_locale(info.get("locale") or "") or None


def _theme_context() -> dict:
    info = session.get(SESSION_KEY) if g.get("sso_identity") else None
    return {"theme": (info or {}).get("theme", "")}


def register(app: Flask) -> None:
    """Check every request's SSO session before its view runs."""
    app.before_request(_check_session)
    app.context_processor(_theme_context)
