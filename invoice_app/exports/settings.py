"""Export settings: the issuer printed on invoices and the PDF limits.

The values come from config.py (environment variables of the same names),
checked there at start-up; this module shapes them for the renderers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app


@dataclass(frozen=True)
class Issuer:
    """Who sends the invoices: printed at the top of every invoice document."""

    name: str
    address: str
    tax_id: str
    # Absolute path of the logo inside the static folder, or None.
    logo: Path | None


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
    config = current_app.config
    return Issuer(
        name=config["ISSUER_NAME"],
        # Lines end at newlines, or at a backslash-n written in an env file.
        address=config["ISSUER_ADDRESS"].replace("\\n", "\n"),
        tax_id=config["ISSUER_TAX_ID"],
        logo=_logo(config["ISSUER_LOGO"]),
    )


def pdf_max_rows() -> int:
    """The longest list a PDF export makes (PDF_MAX_ROWS, default 2,000)."""
    return current_app.config["PDF_MAX_ROWS"]


def pdf_render_timeout() -> float:
    """Seconds one PDF render may take (PDF_RENDER_TIMEOUT, default 30)."""
    return current_app.config["PDF_RENDER_TIMEOUT"]


def pdf_part_pages() -> int:
    """Pages per part of a background list PDF (PDF_PART_PAGES, default 20)."""
    return current_app.config["PDF_PART_PAGES"]
