"""Response headers that keep browsers strict: CSP, framing, sniffing, referrers."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix


def content_security_policy(frame_ancestors: list[str]) -> str:
    """No inline or eval'd script anywhere; framing only by the allowed origins."""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": " ".join(frame_ancestors),
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _set_headers(response: Response) -> Response:
    config = current_app.config
    headers = response.headers
    headers.setdefault("Content-Security-Policy", config["CSP"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    # No X-Frame-Options: it cannot name other origins, and where both are sent
    # browsers use CSP frame-ancestors anyway.
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype in {"text/html", "application/json"}:
        # Invoice data must not linger in shared caches or the back-forward cache
        # of a shared workstation after sign-out.
        headers.setdefault("Cache-Control", "no-store")
    return response


def register(app: Flask) -> None:
    """Install the header hook and, when configured, trust the proxies in front."""
    app.config["CSP"] = content_security_policy(app.config["FRAME_ANCESTORS"])
    app.after_request(_set_headers)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=proxies,
            x_proto=proxies,
            x_host=proxies,
            x_prefix=proxies,
        )
