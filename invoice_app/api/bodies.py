"""Reading a JSON request body, in three steps that each refuse in the one shape.

1. The request: 415 without JSON, 413 past API_BODY_MAX, 400 when it does not
   parse.
2. The operation's model (schemas.py): 422 for unknown fields and wrong types.
3. The screen's own form for the same change (billing/forms.py), so a change
   through the API is checked by exactly the rules of the screen: 422.

Each 422 names its fields as the body does: `currency`, `lines.0.quantity`.
"""

from __future__ import annotations

import json
from typing import TypeVar

from flask import current_app, request
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import (
    BadRequest,
    RequestEntityTooLarge,
    UnprocessableEntity,
    UnsupportedMediaType,
)

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F")


class InvalidBody(UnprocessableEntity):
    """422 naming each field that is wrong (web/errors.field_errors reads .errors)."""

    def __init__(self, errors: dict[str | None, list[str]], what: str):
        self.errors = errors
        super().__init__(f"{what}: some fields are not right.")


def raw_body() -> bytes:
    """The request's JSON body, as bytes (for hashing too)."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Send the body as JSON (Content-Type: application/json)."
        )
    limit = current_app.config["API_BODY_MAX"]
    too_large = RequestEntityTooLarge(f"The body is larger than {limit:,} bytes.")
    if (request.content_length or 0) > limit:
        raise too_large
    body = request.get_data(cache=True)
    if len(body) > limit:
        raise too_large
    return body


def model_of(model: type[M], body: bytes, what: str) -> M:
    """body parsed as JSON into model, or 400/422."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest(f"The body is not valid JSON: {error}.") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors: dict[str | None, list[str]] = {}
        for problem in error.errors(include_url=False):
            field = ".".join(str(part) for part in problem["loc"]) or None
            errors.setdefault(field, []).append(problem["msg"])
        raise InvalidBody(errors, what) from None


def form_data(model: BaseModel, *, exclude=(), lists=(), only=None) -> MultiDict:
    """A model's values as the screen's form posts them (`lines-0-quantity`);
    only: just these fields (those a PATCH gave)."""
    data = MultiDict()
    values = model.model_dump(include=only, exclude=set(exclude) | set(lists))
    for key, value in values.items():
        data[key] = "" if value is None else str(value)
    for name in lists:
        for i, item in enumerate(getattr(model, name)):
            for key, value in item.model_dump().items():
                data[f"{name}-{i}-{key}"] = "" if value is None else str(value)
    return data


def checked(form: F, what: str, extra: dict | None = None) -> F:
    """form validated, or InvalidBody naming each field as the body does.

    Messages are read off the fields themselves: a form may add one to a line
    after its own errors were gathered (totals that do not fit).
    """
    errors: dict[str | None, list[str]] = dict(extra or {})
    if not form.validate():
        for field in form:
            entries = getattr(field, "entries", None)
            if entries is None:
                if field.errors and field.name != "csrf_token":
                    errors[field.name] = list(field.errors)
                continue
            for i, entry in enumerate(entries):
                for sub in entry.form:
                    if sub.errors:
                        errors[f"{field.name}.{i}.{sub.short_name}"] = list(sub.errors)
            whole = [e for e in field.errors if isinstance(e, str)]
            if whole and not any(str(n).startswith(f"{field.name}.") for n in errors):
                errors[field.name] = whole
    if errors:
        raise InvalidBody(errors, what)
    return form
