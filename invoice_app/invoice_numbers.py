"""What an invoice number may look like.

A number is part of its invoice's web addresses (/billing/invoices/<number>,
…/<number>.pdf, …/<number>/edit), so it may not hold a slash or a space, may not
be a word those addresses already use for something else, and may not end in
".pdf" (its page's address would be the download's). Numbers the app makes
(INV-202505-0001) always pass; imports are checked with this.
"""

from __future__ import annotations

import re

# Letters, digits and . _ - ; starting with a letter or digit.
_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Path segments right under /billing/invoices/ that are not invoice numbers
# (tests/test_import.py checks this against the app's routes).
RESERVED = frozenset({"new", "export", "bulk", "draft"})


def invoice_number_problem(number: str) -> str | None:
    """Why number cannot be an invoice number, or None if it can."""
    if not _NUMBER.fullmatch(number):
        return (
            f"{number!r} may hold only letters, digits, '.', '_' and '-', "
            "starting with a letter or digit (it is part of the invoice's address)"
        )
    if number.lower() in RESERVED or number.lower().endswith(".pdf"):
        return f"{number!r} is kept for the app's own addresses; use another number"
    return None
