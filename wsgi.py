"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from invoice_app import create_app
from invoice_app.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # One line naming the setting, not a traceback through the app factory.
    raise SystemExit(f"Invoice Manager cannot start: {exc}") from None
