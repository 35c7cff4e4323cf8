"""Where templates, static files and migrations are, in a checkout or a wheel."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _first_existing(name: str) -> Path:
    # A wheel carries templates/ and static/ inside the package (pyproject's
    # force-include); a checkout or editable install keeps them at the top level.
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


TEMPLATES_DIR = _first_existing("templates")
STATIC_DIR = _first_existing("static")
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
