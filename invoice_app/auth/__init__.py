"""Sign-in for billing staff (sessions) and API clients (bearer tokens)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401  (routes register on import)
