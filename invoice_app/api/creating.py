"""POST /api/invoices: the billing engine creates an invoice, once per Idempotency-Key.

The body is read in three steps, each refusing in the one error shape: the
request itself (415 without JSON, 413 past API_BODY_MAX, 400 for JSON that
does not parse), the NewInvoice model (422: unknown fields, wrong types), then
the draft form's own rules (422: unknown currency, a due date in the past,
amounts past what can be stored), so an invoice made here is checked exactly
as one made on the screen. lifecycle.create() and issue() then write it, as
for the screen.
"""

from __future__ import annotations

import json

from flask import current_app, request, url_for
from flask_login import current_user
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import (
    BadRequest,
    RequestEntityTooLarge,
    UnprocessableEntity,
    UnsupportedMediaType,
)

from .. import lifecycle
from ..auth.roles import admin_required
from ..billing.forms import DraftForm
from ..clock import today
from ..drafts import known_client_name
from ..invoice_numbers import invoice_number_problem
from ..queries import invoice_row
from . import bp, idempotency, schemas, serializers
from .contract import declare
from .views import json_answer


class InvalidBody(UnprocessableEntity):
    """422 naming each field that is wrong (web/errors.field_errors reads .errors)."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("The invoice was not created: some fields are not right.")


def _body() -> bytes:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Send the invoice as JSON (Content-Type: application/json)."
        )
    limit = current_app.config["API_BODY_MAX"]
    if (request.content_length or 0) > limit:
        raise RequestEntityTooLarge(f"The body is larger than {limit:,} bytes.")
    body = request.get_data(cache=True)
    if len(body) > limit:
        raise RequestEntityTooLarge(f"The body is larger than {limit:,} bytes.")
    return body


def _new_invoice(body: bytes) -> schemas.NewInvoice:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest(f"The body is not valid JSON: {error}.") from None
    try:
        return schemas.NewInvoice.model_validate(data)
    except ValidationError as error:
        errors: dict[str, list[str]] = {}
        for problem in error.errors(include_url=False):
            field = ".".join(str(part) for part in problem["loc"]) or None
            errors.setdefault(field, []).append(problem["msg"])
        raise InvalidBody(errors) from None


def _form_data(new: schemas.NewInvoice) -> MultiDict:
    fields = new.model_dump(exclude={"lines", "number", "status"})
    data = MultiDict(
        {key: "" if value is None else str(value) for key, value in fields.items()}
    )
    for i, line in enumerate(new.lines):
        for name, value in line.model_dump().items():
            data[f"lines-{i}-{name}"] = value
    return data


def _checked(new: schemas.NewInvoice) -> DraftForm:
    form = DraftForm(
        formdata=_form_data(new),
        meta={"csrf": False},
        today=today(),
        known_client=known_client_name,
    )
    errors: dict[str, list[str]] = {}
    if not form.validate():
        # Read off the fields themselves: the form adds some messages to a line
        # after its own errors were gathered (totals that do not fit).
        for field in form:
            if field.name != "lines":
                if field.errors:
                    errors[field.name] = list(field.errors)
                continue
            for i, entry in enumerate(field.entries):
                for sub in entry.form:
                    if sub.errors:
                        errors[f"lines.{i}.{sub.short_name}"] = list(sub.errors)
            whole = [e for e in field.errors if isinstance(e, str)]
            if whole and not any(name.startswith("lines.") for name in errors):
                errors["lines"] = whole
    if new.number and (problem := invoice_number_problem(new.number)):
        errors["number"] = [problem]
    if errors:
        raise InvalidBody(errors)
    return form


def _create(body: bytes):
    new = _new_invoice(body)
    form = _checked(new)
    actor = current_user.email
    invoice = lifecycle.create(form.to_input(), actor, number=new.number)
    if new.status == "DUE":
        invoice = lifecycle.issue(invoice, invoice.version, actor, today())
    row = invoice_row(invoice.number, today())
    response = json_answer(serializers.invoice_detail(row), 201)
    response.headers["Location"] = url_for("api.invoice", number=invoice.number)
    response.set_etag(str(invoice.version))
    return response


@bp.post("/invoices")
@declare(
    ok=schemas.InvoiceDetail,
    ok_status=201,
    json=schemas.NewInvoice,
    errors=(403, 409, 413, 415, 422),
)
@admin_required
def create_invoice():
    """Create an invoice (DRAFT, or DUE to issue it at once).

    Send `Idempotency-Key` to make a retry safe: a repeat with the same key
    and body answers the first answer again and creates nothing; the same key
    with another body is 422; a repeat while the first is running is 409.
    Keys are kept 24 hours. Needs a billing admin's `write` token.
    """
    body = _body()
    return idempotency.once(current_user.id, body, lambda: _create(body))
