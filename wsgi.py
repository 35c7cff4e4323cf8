"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from invoice_app import create_app

app = create_app()
