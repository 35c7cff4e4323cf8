"""Embed mode: the Invoice Manager without the portal shell, for a portal's iframe.

Asked for with ?embed=1 (kept on every link the app builds) or EMBED_MODE=1.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request


def embedded() -> bool:
    """True when this response should leave out the portal shell."""
    return current_app.config["EMBED_MODE"] or request.args.get("embed") == "1"


def _keep_embed_in_urls(endpoint: str, values: dict) -> None:
    # Every url_for() of an embedded page carries embed=1, so links, redirects,
    # htmx requests and pushed URLs stay in embed mode.
    if endpoint != "static" and g.get("embed") and not current_app.config["EMBED_MODE"]:
        values.setdefault("embed", "1")


def parent_origins() -> list[str]:
    """Origins the page may tell its height to (the allowed frame ancestors)."""
    origins = []
    for origin in current_app.config["FRAME_ANCESTORS"]:
        if origin == "'self'":
            origins.append(request.host_url.rstrip("/"))
        elif origin != "'none'":
            origins.append(origin)
    return origins


def register(app: Flask) -> None:
    @app.before_request
    def _mark_embed() -> None:
        g.embed = embedded()

    app.url_defaults(_keep_embed_in_urls)

    @app.context_processor
    def _embed_context() -> dict:
        return {"embed": g.get("embed", False), "parent_origins": parent_origins}
