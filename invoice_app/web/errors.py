"""Error responses for the whole app: pages in the portal shell, text for htmx,
JSON for the API; refused lifecycle changes answer 409 or 422 the same way."""

from __future__ import annotations

from flask import Flask, jsonify, render_template
from werkzeug.exceptions import Conflict, HTTPException, UnprocessableEntity

from ..extensions import db
from ..lifecycle import InvalidChange, LifecycleError
from ..tenancy import OutOfScope
from . import is_api_request, is_fragment_request


def handle_http_error(error: HTTPException):
    """JSON for the API, plain text for htmx, a page in the portal shell otherwise."""
    if is_api_request():
        return jsonify(error=error.description), error.code
    if is_fragment_request():
        # htmx shows this text above the table (app.js) and keeps the table.
        headers = {"Content-Type": "text/plain; charset=utf-8", "Vary": "HX-Request"}
        return error.description, error.code, headers
    return render_template("errors/error.html", error=error), error.code


def lifecycle_refused(error: LifecycleError):
    """A refused transition or a conflict: 409 and why; nothing changed."""
    db.session.rollback()
    return handle_http_error(Conflict(error.message))


def invalid_change(error: InvalidChange):
    """Input the lifecycle refused (over-payment, future date, …): 422 and why."""
    db.session.rollback()
    return handle_http_error(UnprocessableEntity(" ".join(error.errors.values())))


def out_of_scope(error: OutOfScope):
    """A write outside the user's tenant or clients, refused at flush: 403."""
    db.session.rollback()
    return handle_http_error(error)


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OutOfScope, out_of_scope)
    app.register_error_handler(LifecycleError, lifecycle_refused)
    app.register_error_handler(InvalidChange, invalid_change)
