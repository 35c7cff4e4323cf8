"""Settings, read from the environment once when the app is created."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the app refuses to start."""


def _secret_key(instance_path: Path, development: bool) -> str:
    """SECRET_KEY from the environment; development keeps a generated one on disk."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not development:
        raise ConfigError(
            "SECRET_KEY is not set. Set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    # A key kept under instance/ survives restarts, so a developer stays logged in.
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_path / 'invoices.sqlite3'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"TIMEZONE={name!r} is not a known time zone") from exc
    return name


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _frame_ancestors(raw: str) -> list[str]:
    """Origins allowed to frame the app (CSP frame-ancestors); 'self' by default."""
    origins = raw.split() or ["'self'"]
    for origin in origins:
        if origin in {"'self'", "'none'"}:
            continue
        if not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
            raise ConfigError(
                f"FRAME_ANCESTORS entry {origin!r} must be an origin like "
                "https://portal.example.com, or 'self'"
            )
    return origins


def load_config(instance_path: Path) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = os.environ.get("APP_ENV", "development").lower()
    development = env in {"development", "dev", "test"}
    instance_path.mkdir(parents=True, exist_ok=True)
    frame_ancestors = _frame_ancestors(os.environ.get("FRAME_ANCESTORS", ""))
    # Framed by another site, the session cookie must be sent cross-site: that
    # takes SameSite=None, which browsers accept only with Secure; Partitioned
    # (CHIPS) keeps it working where third-party cookies are blocked.
    cross_site = any(o not in {"'self'", "'none'"} for o in frame_ancestors)
    return {
        "APP_ENV": env,
        "SECRET_KEY": _secret_key(instance_path, development),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "TIMEZONE": _timezone(os.environ.get("TIMEZONE", "UTC")),
        "LOCALE": os.environ.get("LOCALE", "en_US"),
        "PER_PAGE_DEFAULT": 25,
        "PER_PAGE_MAX": 200,
        # Most invoices one bulk action (or "all that match") may change at once.
        "BULK_MAX": _int("BULK_MAX", 5000),
        # Printed on invoice documents (exports/settings.py checks the logo path).
        "ISSUER_NAME": os.environ.get("ISSUER_NAME", "Cloud Management Portal"),
        # Lines split by newlines, or by a literal \n in an env file.
        "ISSUER_ADDRESS": os.environ.get("ISSUER_ADDRESS", ""),
        "ISSUER_TAX_ID": os.environ.get("ISSUER_TAX_ID", ""),
        "ISSUER_LOGO": os.environ.get("ISSUER_LOGO", ""),  # relative to static/
        # Longer PDF lists are refused (XLSX is suggested); renders are bounded.
        "PDF_MAX_ROWS": _int("PDF_MAX_ROWS", 2000),
        "PDF_RENDER_TIMEOUT": _int("PDF_RENDER_TIMEOUT", 30),
        # A zip of invoice PDFs renders each one (about 0.1 s): keep it bounded.
        "ZIP_MAX_INVOICES": _int("ZIP_MAX_INVOICES", 500),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "None" if cross_site else "Lax",
        "SESSION_COOKIE_SECURE": cross_site or not development,
        "SESSION_COOKIE_PARTITIONED": cross_site,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "None" if cross_site else "Lax",
        "REMEMBER_COOKIE_SECURE": cross_site or not development,
        "WTF_CSRF_TIME_LIMIT": None,
        "FRAME_ANCESTORS": frame_ancestors,
        "EMBED_MODE": _flag("EMBED_MODE"),
        # How many proxies in front of the app set X-Forwarded-*; 0 trusts none.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # memory:// counts per worker; use redis://… when several hosts serve.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
    }
