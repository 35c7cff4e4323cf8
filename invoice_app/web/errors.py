"""Error pages that fit the portal shell, and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def handle_http_error(error: HTTPException):
    """JSON for the API, plain text for htmx, a page in the portal shell otherwise."""
    if request.blueprint == "api" or request.path.startswith("/api/"):
        return jsonify(error=error.description), error.code
    if request.headers.get("HX-Request") and not request.headers.get(
        "HX-History-Restore-Request"
    ):
        # htmx shows this text above the table (app.js) and keeps the table.
        headers = {"Content-Type": "text/plain; charset=utf-8", "Vary": "HX-Request"}
        return error.description, error.code, headers
    return render_template("errors/error.html", error=error), error.code


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
