"""Error pages that fit the portal shell, and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def _handle(error: HTTPException):
    if request.blueprint == "api" or request.path.startswith("/api/"):
        return jsonify(error=error.description), error.code
    return render_template("errors/error.html", error=error), error.code


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle)
