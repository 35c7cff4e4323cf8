"""What day it is for the billing team, in the configured TIMEZONE."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def today() -> date:
    """Today's date in the app's TIMEZONE (default UTC)."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()
