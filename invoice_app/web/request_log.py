"""One structured log line per request: method, path, status, duration, user."""

from __future__ import annotations

import json
import logging
import time

from flask import Flask, Response, g, request
from flask_login import current_user

logger = logging.getLogger("invoice_app.request")


def _start() -> None:
    g.request_started = time.perf_counter()


def _log(response: Response) -> Response:
    started = g.get("request_started")
    user_id = current_user.get_id() if current_user else None
    # The path only: query strings and headers (tokens, cookies) stay out of logs.
    logger.info(
        json.dumps(
            {
                "event": "request",
                "method": request.method,
                "path": request.script_root + request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)
                if started
                else None,
                "user_id": user_id,
                "remote_addr": request.remote_addr,
            }
        )
    )
    return response


def register(app: Flask) -> None:
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    app.before_request(_start)
    app.after_request(_log)
