"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import sys

from invoice_app import create_app
from invoice_app.config import ConfigError

# gunicorn's arbiter reads this exit code of a worker as "failed to boot" and
# stops, where any other would have it start workers again and again.
WORKER_BOOT_ERROR = 3

try:
    app = create_app()
except ConfigError as exc:
    # One line naming the setting, not a traceback through the app factory.
    print(f"Invoice Manager cannot start: {exc}", file=sys.stderr)
    raise SystemExit(WORKER_BOOT_ERROR) from None
