"""The second line against hostile input, behind the forms' own field checks.

Forms and the filter parser refuse bad values next to their fields. What no
form reads still reaches the database: route variables (the invoice number in
the address) are checked here before the view runs, and a value the database
itself refuses (PostgreSQL's NUL in text, a number out of a column's range) is
a 400 that says so, not a 500.

Percent-encoded bytes that are not UTF-8 (%FF) reach the forms as that literal
text (Werkzeug keeps them encoded). Raw bytes that are not UTF-8, which no
browser sends, make Werkzeug's decoding of the query or the form fail: that is
a 400 here, before any other hook reads request.args.
"""

from __future__ import annotations

from flask import Flask, request
from sqlalchemy.exc import DataError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest

from ..extensions import db
from ..text_input import text_problem
from .errors import handle_http_error

_NOT_UTF8 = (
    "The {where}'s parameters are not UTF-8 text; send them percent-encoded, "
    "as browsers do."
)


def check_parameters_decode() -> None:
    """Refuse a query string or form body whose raw bytes are not UTF-8."""
    try:
        request.args  # noqa: B018 - parsed here, so the failure is ours to answer
    except UnicodeDecodeError:
        # So the error page, which may look at the parameters, can render.
        request.__dict__["args"] = ImmutableMultiDict()
        raise BadRequest(_NOT_UTF8.format(where="address")) from None
    if request.mimetype == "application/x-www-form-urlencoded":
        # Werkzeug would parse such a body as an empty form, silently.
        try:
            request.get_data(cache=True).decode()
        except UnicodeDecodeError:
            raise BadRequest(_NOT_UTF8.format(where="form")) from None


def check_route_values() -> None:
    """Refuse control characters and undecodable bytes in the URL's variables."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and (problem := text_problem(value)):
            raise BadRequest(f"The {name} in the address {problem}.")


def refused_by_database(error: DataError):
    """A value the database would not take: 400 with what to do; nothing written."""
    db.session.rollback()
    return handle_http_error(
        BadRequest(
            "A value in the request is out of range or holds a character the "
            "database cannot store; check what was entered and try again."
        )
    )


def register(app: Flask) -> None:
    """Call early: these hooks must run before any other reads the parameters."""
    app.before_request(check_parameters_decode)
    app.before_request(check_route_values)
    app.register_error_handler(DataError, refused_by_database)
