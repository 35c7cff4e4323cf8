"""Settings are checked once, at start-up: a wrong one stops the app, named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from invoice_app import create_app
from invoice_app.config import ConfigError
from tests.conftest import Auth
from tests.gunicorn_server import free_port

ROOT = Path(__file__).resolve().parents[1]

BAD_VALUES = [
    ("PDF_MAX_ROWS", "0"),
    ("PDF_MAX_ROWS", "-5"),
    ("PDF_MAX_ROWS", "many"),
    ("PDF_MAX_ROWS", "2.5"),
    ("PDF_PART_PAGES", "0"),
    ("PDF_PART_PAGES", "twenty"),
    ("PDF_RENDER_TIMEOUT", "0"),
    ("PDF_RENDER_TIMEOUT", "-1"),
    ("PDF_RENDER_TIMEOUT", "soon"),
    ("PDF_RENDER_TIMEOUT", "inf"),
    ("PDF_RENDER_TIMEOUT", "nan"),
    ("BULK_MAX", "0"),
    ("BULK_MAX", "lots"),
    ("ZIP_MAX_INVOICES", "0"),
    ("ZIP_MAX_INVOICES", "1e3"),
    ("TRUSTED_PROXIES", "-1"),
    ("TRUSTED_PROXIES", "one"),
    ("LOGIN_RATE_LIMIT", "ten a minute"),
    ("LOGIN_RATE_LIMIT", "0 per minute"),
    ("RATELIMIT_STORAGE_URI", "localhost:6379"),
    ("RATELIMIT_STORAGE_URI", "nosuch://x"),
    ("LOCALE", "xx_YY"),
    ("LOCALE", "en-US"),
    ("TIMEZONE", "Mars/Olympus"),
    ("TIMEZONE", "../etc"),
    ("EMBED_MODE", "maybe"),
    ("FRAME_ANCESTORS", "portal.example.com"),
    ("FRAME_ANCESTORS", "*"),
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_bad_environment_value_stops_start_up(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        create_app()
    message = str(refused.value)
    assert message.startswith(name) and repr(value) in message
    assert "allowed" in message


TEST_CONFIG_BAD_VALUES = [
    ("PDF_MAX_ROWS", 0),
    ("PDF_MAX_ROWS", True),
    ("PDF_MAX_ROWS", 2.0),
    ("PDF_RENDER_TIMEOUT", 0),
    ("PDF_RENDER_TIMEOUT", None),
    ("PER_PAGE_MAX", 0),
    ("BULK_MAX", -1),
    ("ZIP_MAX_INVOICES", 0),
    ("TRUSTED_PROXIES", -1),
    ("LOCALE", "klingon"),
    ("TIMEZONE", 5),
    ("LOGIN_RATE_LIMIT", "often"),
    ("PASSWORD_HASH_METHOD", "md5"),
    ("FRAME_ANCESTORS", ["https://portal.example.com/path"]),
]


@pytest.mark.parametrize(("name", "value"), TEST_CONFIG_BAD_VALUES)
def test_a_test_config_is_checked_the_same_way(name, value):
    with pytest.raises(ConfigError, match=f"^{name}"):
        create_app({name: value})


def test_good_values_are_typed_once(monkeypatch):
    monkeypatch.setenv("PDF_MAX_ROWS", " 50 ")
    monkeypatch.setenv("PDF_RENDER_TIMEOUT", "2.5")
    monkeypatch.setenv("EMBED_MODE", "yes")
    monkeypatch.setenv("LOCALE", "de_DE")
    monkeypatch.setenv("TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("BULK_MAX", "")  # blank: the default
    config = create_app({"ZIP_MAX_INVOICES": 7}).config
    assert config["PDF_MAX_ROWS"] == 50
    assert config["PDF_RENDER_TIMEOUT"] == 2.5
    assert config["EMBED_MODE"] is True
    assert (config["LOCALE"], config["TIMEZONE"]) == ("de_DE", "Europe/Berlin")
    assert config["BULK_MAX"] == 5000
    assert config["ZIP_MAX_INVOICES"] == 7


def test_a_bad_database_url_is_named_without_its_password(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://me:s3cret@host:port/db")
    with pytest.raises(ConfigError, match="^DATABASE_URL") as refused:
        create_app()
    assert "s3cret" not in str(refused.value)


def test_list_page_works_with_the_smallest_pdf_limit(app_factory):
    """PDF_MAX_ROWS=1 is the least allowed, and the list page still renders."""
    app = app_factory(PDF_MAX_ROWS=1)
    with app.app_context():
        client = app.test_client()
        Auth(client).login("staff")
        page = client.get("/billing/invoices")
    assert page.status_code == 200
    assert "Invoices" in page.get_data(as_text=True)


def test_gunicorn_stops_with_the_message_instead_of_rebooting_workers():
    env = {
        **os.environ,
        "PDF_MAX_ROWS": "0",
        "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
        "GUNICORN_WORKERS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode != 0
    assert "Reason: Worker failed to boot." in result.stderr
    assert result.stderr.count("Invoice Manager cannot start: PDF_MAX_ROWS=") == 1
    assert "Traceback" not in result.stderr


def test_flask_command_shows_the_message_not_a_traceback():
    env = {**os.environ, "PDF_MAX_ROWS": "0", "FLASK_APP": "wsgi"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert (
        "Invoice Manager cannot start: PDF_MAX_ROWS='0' is not allowed: "
        "a whole number, 1 or more" in result.stderr
    )
