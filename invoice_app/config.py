"""Settings, read from the environment once when the app is created, and checked.

Every setting the app reads is in SETTINGS: its environment variable, its
default and the check that turns the text (or a test's value) into the value
the app uses. A wrong value stops create_app() with a ConfigError that names the
variable, the value and what is allowed; nothing is read from the environment
later, so no request can be the first to find a setting wrong.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from limits import parse_many
from limits.storage import SCHEMES as RATELIMIT_SCHEMES
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEVELOPMENT_ENVS = {"development", "dev", "test"}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"", "0", "false", "no", "off"}


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the app refuses to start."""


def _refuse(name: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{name}={value!r} is not allowed: {allowed}")


def _whole(minimum: int) -> Callable[[str, Any], int]:
    """A check for whole numbers of at least minimum."""
    allowed = f"a whole number, {minimum} or more"

    def check(name: str, value: Any) -> int:
        number = value
        if isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                raise _refuse(name, value, allowed) from None
        if isinstance(number, bool) or not isinstance(number, int) or number < minimum:
            raise _refuse(name, value, allowed)
        return number

    return check


def _seconds(name: str, value: Any) -> float:
    allowed = "a number of seconds greater than 0"
    try:
        seconds = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise _refuse(name, value, allowed) from None
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise _refuse(name, value, allowed)
    return seconds


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise _refuse(name, value, "1, true, yes, on (or 0, false, no, off)")


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _refuse(name, value, "text")
    return value


def _timezone(name: str, value: Any) -> str:
    try:
        ZoneInfo(_text(name, value).strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise _refuse(
            name, value, "a time zone name like UTC or Europe/Berlin"
        ) from None
    return value.strip()


def _locale(name: str, value: Any) -> str:
    try:
        Locale.parse(_text(name, value).strip())
    except (UnknownLocaleError, ValueError):
        raise _refuse(
            name, value, "a locale Babel knows, like en_US or de_DE"
        ) from None
    return value.strip()


def _rate_limit(name: str, value: Any) -> str:
    allowed = "limits like '10 per minute' or '5/minute;100/day', each 1 or more"
    try:
        items = parse_many(_text(name, value))
    except ValueError:
        raise _refuse(name, value, allowed) from None
    if not items or any(item.amount < 1 for item in items):
        raise _refuse(name, value, allowed)
    return value


def _ratelimit_storage(name: str, value: Any) -> str:
    scheme = _text(name, value).partition("://")[0]
    if "://" not in value or scheme not in RATELIMIT_SCHEMES:
        raise _refuse(name, value, "memory:// or a storage URI like redis://host:6379")
    return value


def _frame_ancestors(name: str, value: Any) -> list[str]:
    """Origins allowed to frame the app (CSP frame-ancestors); 'self' by default."""
    origins = value.split() if isinstance(value, str) else list(value)
    for origin in origins:
        if origin in {"'self'", "'none'"}:
            continue
        if (
            not isinstance(origin, str)
            or not origin.startswith(("https://", "http://"))
            or origin.count("/") != 2
        ):
            raise ConfigError(
                f"{name} entry {origin!r} is not allowed: it must be an origin "
                "like https://portal.example.com, or 'self'"
            )
    return origins or ["'self'"]


def _password_hash_method(name: str, value: Any) -> str:
    if _text(name, value).split(":")[0] not in {"scrypt", "pbkdf2"}:
        raise _refuse(name, value, "scrypt or pbkdf2[:hash[:iterations]]")
    return value


def _redis_url(name: str, value: Any) -> str:
    url = _text(name, value).strip()
    if url and urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise _refuse(name, "(not shown)", "redis://host:6379/0, rediss:// or unix://")
    return url


def _path(name: str, value: Any) -> str:
    """A file or folder path; empty for the default under instance/."""
    path = str(value).strip() if isinstance(value, str | Path) else None
    if path is None or "\0" in path:
        raise _refuse(name, value, "a path like /var/lib/invoices/exports")
    return path


@dataclass(frozen=True)
class Setting:
    """One setting: its default (as environment text) and its check."""

    default: str
    check: Callable[[str, Any], Any]
    # False: fixed by the code; only a test config may change it (still checked).
    from_env: bool = True


SETTINGS: dict[str, Setting] = {
    "TIMEZONE": Setting("UTC", _timezone),
    "LOCALE": Setting("en_US", _locale),
    # The most rows one page (screen or API) shows.
    "PER_PAGE_MAX": Setting("200", _whole(1), from_env=False),
    # The largest body POST /api/invoices reads (bytes): 200 lines fit many times.
    "API_BODY_MAX": Setting("1048576", _whole(1024)),
    # Webhooks to private and loopback addresses, and over http (development
    # and tests only: webhooks/urls.py says why not otherwise).
    "WEBHOOK_ALLOW_PRIVATE": Setting("", _flag),
    # Most invoices one bulk action (or "all that match") may change at once.
    "BULK_MAX": Setting("5000", _whole(1)),
    # Printed on invoice documents (exports/settings.py checks the logo path).
    "ISSUER_NAME": Setting("Cloud Management Portal", _text),
    # Lines split by newlines, or by a literal \n in an env file.
    "ISSUER_ADDRESS": Setting("", _text),
    "ISSUER_TAX_ID": Setting("", _text),
    "ISSUER_LOGO": Setting("", _text),  # relative to static/
    # Longer PDF lists are made in the background; renders are bounded.
    "PDF_MAX_ROWS": Setting("2000", _whole(1)),
    "PDF_RENDER_TIMEOUT": Setting("30", _seconds),
    # Pages per part of a background list PDF (exports/pdf_parts.py): the
    # worker's memory is about one part's; each part is one render.
    "PDF_PART_PAGES": Setting("20", _whole(1)),
    # A zip of invoice PDFs renders each one (about 0.1 s): keep it bounded.
    "ZIP_MAX_INVOICES": Setting("500", _whole(1)),
    "FRAME_ANCESTORS": Setting("", _frame_ancestors),
    "EMBED_MODE": Setting("", _flag),
    # How many proxies in front of the app set X-Forwarded-*; 0 trusts none.
    "TRUSTED_PROXIES": Setting("0", _whole(0)),
    "LOGIN_RATE_LIMIT": Setting("10 per minute", _rate_limit),
    # Refused single sign-on tokens per address (accepted ones are not counted).
    "SSO_REFUSAL_RATE_LIMIT": Setting("20 per minute", _rate_limit),
    # memory:// counts per worker; use redis://… when several hosts serve.
    "RATELIMIT_STORAGE_URI": Setting("memory://", _ratelimit_storage),
    # scrypt in use; the test suite picks a cheaper method to stay fast.
    "PASSWORD_HASH_METHOD": Setting("scrypt", _password_hash_method, from_env=False),
    # The job worker's queue (jobs/): Redis when set (several workers, several
    # hosts), else a SQLite file (default instance/jobs.sqlite3).
    "REDIS_URL": Setting("", _redis_url),
    "JOBS_SQLITE_PATH": Setting("", _path),
    # Several apps sharing one Redis keep their queues apart by name.
    "JOBS_QUEUE": Setting("invoice-manager", _text),
    # Tasks run at once in the caller (unit tests); never in production.
    "JOBS_IMMEDIATE": Setting("0", _flag, from_env=False),
    # Background exports (export_jobs/): a longer list's XLSX button queues one.
    "EXPORT_SYNC_MAX_ROWS": Setting("20000", _whole(1)),
    # Files of background exports (default instance/exports); a volume shared
    # by every host that runs a worker or serves downloads.
    "EXPORT_DIR": Setting("", _path),
    "EXPORT_RETENTION_HOURS": Setting("24", _whole(1)),
    # A running export whose worker has not written a sign of life for this
    # long is taken for dead (the worker killed): retried once, then failed.
    "EXPORT_STALE_SECONDS": Setting("120", _seconds),
}


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
            url = "postgresql+psycopg://" + url[len(prefix) :]
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        # Not echoed: the URL may hold a password.
        raise ConfigError(
            "DATABASE_URL is not a database URL: use "
            "postgresql://user:password@host:5432/name or sqlite:///path"
        ) from None
    return url


def _setting_value(name: str, setting: Setting, overrides: Mapping) -> Any:
    if name in overrides:
        return setting.check(name, overrides[name])
    raw = os.environ.get(name, "").strip() if setting.from_env else ""
    return setting.check(name, raw or setting.default)


def load_config(instance_path: Path, overrides: Mapping | None = None) -> dict:
    """The Flask config: the environment, then overrides (tests), all checked."""
    overrides = dict(overrides or {})
    env = str(overrides.get("APP_ENV", os.environ.get("APP_ENV", "development")))
    env = env.strip().lower()
    development = env in DEVELOPMENT_ENVS
    instance_path.mkdir(parents=True, exist_ok=True)
    values = {
        name: _setting_value(name, setting, overrides)
        for name, setting in SETTINGS.items()
    }
    # Framed by another site, the session cookie must be sent cross-site: that
    # takes SameSite=None, which browsers accept only with Secure; Partitioned
    # (CHIPS) keeps it working where third-party cookies are blocked.
    cross_site = any(o not in {"'self'", "'none'"} for o in values["FRAME_ANCESTORS"])
    config = {
        "APP_ENV": env,
        "SECRET_KEY": overrides.get("SECRET_KEY")
        or _secret_key(instance_path, development),
        "SQLALCHEMY_DATABASE_URI": overrides.get("SQLALCHEMY_DATABASE_URI")
        or _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "None" if cross_site else "Lax",
        "SESSION_COOKIE_SECURE": cross_site or not development,
        "SESSION_COOKIE_PARTITIONED": cross_site,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "None" if cross_site else "Lax",
        "REMEMBER_COOKIE_SECURE": cross_site or not development,
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_HEADERS_ENABLED": True,
    }
    # Other keys (TESTING, RATELIMIT_ENABLED, ...) belong to Flask and extensions.
    config.update({k: v for k, v in overrides.items() if k not in SETTINGS})
    config["APP_ENV"] = env
    config.update(values)
    instance = Path(instance_path)
    config["JOBS_SQLITE_PATH"] = Path(
        values["JOBS_SQLITE_PATH"] or instance / "jobs.sqlite3"
    )
    config["EXPORT_DIR"] = Path(values["EXPORT_DIR"] or instance / "exports")
    # Single sign-on's settings are checked together (block below).
    config.update(sso_settings(overrides, development, config["SECRET_KEY"]))
    return config


# --- Single sign-on (auth/sso.py) ---------------------------------------------
# Off unless exactly one key source is set; then every SSO_* setting is checked
# here, so a wrong key fails the start-up instead of every sign-in.

SSO_KEY_SOURCES = ("SSO_SECRET", "SSO_PUBLIC_KEY", "SSO_JWKS_URL")
SSO_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _sso_raw(name: str, overrides: Mapping) -> str:
    """A test's value, else the environment's; text either way."""
    value = overrides[name] if name in overrides else os.environ.get(name, "")
    return _text(name, value).strip()


def sso_settings(overrides: Mapping, development: bool, secret_key: str) -> dict:
    """SSO_* settings, checked; SSO_ALGORITHMS is empty when SSO is off."""
    values = {name: _sso_raw(name, overrides) for name in SSO_KEY_SOURCES}
    given = [name for name, value in values.items() if value]
    if len(given) > 1:
        raise ConfigError(
            f"Set only one of {', '.join(SSO_KEY_SOURCES)} (found {', '.join(given)})"
        )
    minutes = _sso_raw("SSO_SESSION_MINUTES", overrides) or "60"
    settings = {
        **values,
        "SSO_ALGORITHMS": [],
        "SSO_ISSUER": _sso_raw("SSO_ISSUER", overrides),
        "SSO_AUDIENCE": _sso_raw("SSO_AUDIENCE", overrides) or "invoice-manager",
        "SSO_SESSION_MINUTES": _whole(1)("SSO_SESSION_MINUTES", minutes),
    }
    if not given:
        return settings
    if not settings["SSO_ISSUER"]:
        raise ConfigError(
            "SSO_ISSUER is not set: name the portal that signs the tokens "
            "(the tokens' `iss`)"
        )
    if values["SSO_SECRET"]:
        if len(values["SSO_SECRET"].encode()) < 32:
            raise ConfigError("SSO_SECRET must be at least 32 bytes long")
        # The portal knows SSO_SECRET; with SECRET_KEY it could forge sessions.
        if values["SSO_SECRET"] == secret_key.strip():
            raise ConfigError("SSO_SECRET must not be the same as SECRET_KEY")
        settings["SSO_ALGORITHMS"] = ["HS256"]
    elif values["SSO_PUBLIC_KEY"]:
        # Env files often hold a PEM on one line with literal \n.
        settings["SSO_PUBLIC_KEY"] = values["SSO_PUBLIC_KEY"].replace("\\n", "\n")
        settings["SSO_ALGORITHMS"] = [
            _sso_public_key_algorithm(settings["SSO_PUBLIC_KEY"])
        ]
    else:
        _sso_jwks_url(values["SSO_JWKS_URL"], development)
        # Each key in the set narrows this to its own type (auth/sso.py).
        settings["SSO_ALGORITHMS"] = ["RS256", "ES256"]
    return settings


def _sso_public_key_algorithm(pem: str) -> str:
    """RS256 for an RSA key (2048 bits or more), ES256 for a P-256 key."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(
            "SSO_PUBLIC_KEY is not a PEM public key (-----BEGIN PUBLIC KEY----- ...)"
        ) from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ConfigError("SSO_PUBLIC_KEY: an RSA key needs at least 2048 bits")
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return "ES256"
    raise ConfigError("SSO_PUBLIC_KEY must be an RSA key or an EC key on P-256")


def _sso_jwks_url(url: str, development: bool) -> None:
    parts = urlsplit(url)
    loopback = development and parts.hostname in SSO_LOOPBACK_HOSTS
    if not parts.hostname or not (
        parts.scheme == "https" or (parts.scheme == "http" and loopback)
    ):
        raise ConfigError(
            f"SSO_JWKS_URL={url!r} must be an https:// URL "
            "(http:// only to localhost, in development)"
        )
