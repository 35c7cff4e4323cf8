"""HTTP plumbing shared by every blueprint: headers, embedding, errors, logs, health.

What kind of request this is gets decided here, once, for every module that
answers differently to htmx, to API clients and to a browser's page load.
"""

from __future__ import annotations

from flask import request


def is_fragment_request() -> bool:
    """An htmx request that wants a fragment (a history restore wants the page)."""
    return bool(
        request.headers.get("HX-Request")
        and not request.headers.get("HX-History-Restore-Request")
    )


def is_api_request() -> bool:
    """A request to the JSON API, including one for an address it does not have."""
    # request.blueprint is None when no route matched (a 404), so the path counts.
    return request.blueprint == "api" or request.path.startswith("/api/")
