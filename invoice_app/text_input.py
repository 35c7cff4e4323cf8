"""What a typed or pasted text value may hold: the checks every text field shares.

Browsers send what people type as UTF-8, normalised to NFC or not depending on
the keyboard and where it was pasted from. Control characters never come from
typing into a one-line field, and PostgreSQL refuses NUL in text outright;
Werkzeug turns bytes that are not UTF-8 into U+FFFD. So every text field first
normalises to NFC (stored text and quick-search needles then compare alike)
and refuses those characters with a message next to the field.
"""

from __future__ import annotations

import re
import unicodedata

from wtforms.validators import StopValidation

REPLACEMENT_CHARACTER = "\ufffd"
# C0 and C1 controls (and DEL); a multi-line field keeps tab and line breaks.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# How much of a refused value a message repeats.
SHOWN_MAX = 40


def nfc(value):
    """WTForms filter: text in Unicode normalisation form C; other values unchanged."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    return value


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why text cannot be taken as typed text (a phrase), or None when it can."""
    control = (_CONTROL_MULTILINE if multiline else _CONTROL).search(text)
    if control:
        code = f"U+{ord(control.group()):04X}"
        return f"contains a control character ({code}); type or paste plain text"
    if REPLACEMENT_CHARACTER in text or _SURROGATE.search(text):
        return "contains bytes that are not UTF-8 text (shown as \ufffd); retype it"
    return None


def shown(text: str) -> str:
    """A refused value as a message repeats it: quoted, escaped and cut short."""
    if len(text) > SHOWN_MAX:
        return repr(text[:SHOWN_MAX]) + "…"
    return repr(text)


class PlainText:
    """Validator: the field holds typed text (see text_problem); stops the chain."""

    def __init__(self, *, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, form, field):
        data = field.data if isinstance(field.data, str) else ""
        problem = text_problem(data, multiline=self.multiline)
        if problem:
            raise StopValidation(f"{field.label.text} {problem}.")
