"""What every view that changes one invoice starts from: the invoice, read for
writing, and the version its form says the user saw."""

from __future__ import annotations

from flask import abort

from .. import lifecycle
from ..models import Invoice


def invoice_or_404(number: str) -> Invoice:
    """The invoice, read inside a write transaction; 404 when there is none."""
    invoice = lifecycle.load_for_write(number)
    if invoice is None:
        abort(404, f"There is no invoice {number}.")
    return invoice


def form_version(form) -> int:
    """The invoice version the form carries (the one the user saw); 400 if none."""
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        abort(400, "The form is missing the invoice version; reload and try again.")
