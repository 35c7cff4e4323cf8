"""Export settings: the issuer printed on invoices and the PDF limits.

The values come from config.py (environment variables of the same names); this
module checks and shapes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app

DEFAULT_PDF_MAX_ROWS = 2000
DEFAULT_PDF_RENDER_TIMEOUT = 30.0


@dataclass(frozen=True)
class Issuer:
    """Who sends the invoices: printed at the top of every invoice document."""

    name: str
    address: str
    tax_id: str
    # Absolute path of the logo inside the static folder, or None.
    logo: Path | None


def _setting(name: str, default: str = "") -> str:
    value = current_app.config.get(name)
    return default if value is None or value == "" else str(value)


def _positive(name: str, default: float, kind: type) -> float | int:
    text = _setting(name, str(default)).strip()
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number") from None
    if value <= 0:
        raise ValueError(f"{name} must be more than 0, not {text}")
    return value


def _logo(relative: str) -> Path | None:
    """The logo's path if it is a file inside the static folder; else None."""
    if not relative.strip():
        return None
    static = Path(current_app.static_folder).resolve()
    path = (static / relative.strip().lstrip("/")).resolve()
    if not path.is_relative_to(static) or not path.is_file():
        current_app.logger.warning(
            "ISSUER_LOGO=%r is not a file inside %s; invoices go without a logo",
            relative,
            static,
        )
        return None
    return path


def issuer() -> Issuer:
    """Who the invoices are from (ISSUER_NAME, _ADDRESS, _TAX_ID, _LOGO)."""
    return Issuer(
        name=_setting("ISSUER_NAME", "Cloud Management Portal"),
        # Lines end at newlines, or at a backslash-n written in an env file.
        address=_setting("ISSUER_ADDRESS").replace("\\n", "\n"),
        tax_id=_setting("ISSUER_TAX_ID"),
        logo=_logo(_setting("ISSUER_LOGO")),
    )


def pdf_max_rows() -> int:
    """The longest list a PDF export makes (PDF_MAX_ROWS, default 2,000)."""
    return int(_positive("PDF_MAX_ROWS", DEFAULT_PDF_MAX_ROWS, int))


def pdf_render_timeout() -> float:
    """Seconds one PDF render may take (PDF_RENDER_TIMEOUT, default 30)."""
    return float(_positive("PDF_RENDER_TIMEOUT", DEFAULT_PDF_RENDER_TIMEOUT, float))
