"""The API's request and response models: what it answers is what these say.

Every JSON answer of /api is one of these models, serialised by pydantic (the
views build model instances, never dicts), and the OpenAPI document
(/api/openapi.json, contract.py) is generated from the same models, so the two
cannot drift. Amounts are decimal strings with the currency's places, never
floats; dates are ISO 8601.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange

from ..filters import InvoiceFilterForm
from ..models import Status

# An amount as the invoice shows it: "140.00", "-5.00", "5000" (JPY).
Money = Annotated[
    str,
    Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", examples=["140.00"]),
]
# A quantity or unit price, to its stored places: "1000", "0.000012".
Number = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", examples=["1.5"])]
StatusName = Literal[tuple(s.value for s in Status)]  # type: ignore[valid-type]


class _Model(BaseModel):
    # Answers are built by the app: an unknown key there is a bug, not data.
    model_config = ConfigDict(extra="forbid")


class InvoiceItem(_Model):
    """An invoice as the list shows it."""

    number: str = Field(examples=["INV-202505-000042"])
    client_name: str
    client_email: str
    billing_period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2025-05"])
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])
    usage_cost: Money
    payable: Money
    issue_date: date | None
    due_date: date | None
    paid_date: date | None
    status: StatusName = Field(
        description="The effective status: DUE past its due date reads OVER_DUE."
    )


class InvoiceList(_Model):
    """One page of the invoices matching the filters."""

    items: list[InvoiceItem]
    total: int = Field(ge=0, description="How many invoices match, on every page.")
    page: int = Field(ge=1)
    per_page: int = Field(ge=1)


class InvoiceLine(_Model):
    description: str
    quantity: Number
    unit_price: Number
    amount: Money


class Payment(_Model):
    amount: Money
    received_on: date
    reference: str


class InvoiceDetail(InvoiceItem):
    """One invoice with its lines, payments and what is still due."""

    notes: str
    adjustment: Money
    adjustment_reason: str
    amount_paid: Money
    balance_due: Money = Field(description="Nothing on drafts, paid or cancelled.")
    payment_terms_days: int | None
    cancel_reason: str
    version: int = Field(
        ge=1, description="Bumped by every change; also the ETag of this answer."
    )
    lines: list[InvoiceLine]
    payments: list[Payment]


class Event(_Model):
    """One change in an invoice's audit trail."""

    action: str = Field(examples=["issue"])
    actor: str
    changes: dict[str, list[str | None]] = Field(
        description="Each changed field: [before, after], as text."
    )
    note: str
    created_at: datetime
    sso_sub: str | None = Field(
        description="The portal's id for the user, for changes made through it."
    )


class EventList(_Model):
    """An invoice's audit trail, newest first."""

    items: list[Event]


class FieldError(_Model):
    field: str | None = Field(description="The parameter or field; null: the whole.")
    message: str


class Error(_Model):
    """Every error of the API has this shape, whatever the status."""

    error: str
    errors: list[FieldError] = Field(default_factory=list)


def _query_model() -> type[BaseModel]:
    """The list's query parameters, read off the one filter parser's form.

    Documentation only: the filters are parsed and checked by
    filters.parse_filters(), as for the page and the exports; a filter added
    there appears here with its choices.
    """
    fields = {}
    for field in InvoiceFilterForm():
        bounds = {}
        if isinstance(field, SelectField):
            choices = tuple(c if isinstance(c, str) else c[0] for c in field.choices)
            kind = Literal[choices]  # type: ignore[valid-type]
        elif isinstance(field, IntegerField):
            kind = int
            for rule in field.validators:
                if isinstance(rule, NumberRange):
                    bounds = {"ge": rule.min, "le": rule.max}
        else:
            kind = str
        default = field.default if field.default is not None else ""
        fields[field.name] = (
            kind,
            Field(default, description=field.label.text, **bounds),
        )
    return create_model("InvoiceQuery", **fields)


InvoiceQuery = _query_model()


class NewLine(_Model):
    description: str = Field(max_length=500, examples=["Compute (vCPU-hours)"])
    quantity: Number
    unit_price: Number


class NewInvoice(_Model):
    """An invoice from the billing engine: the fields of the JSON import.

    The server computes every amount from the lines, as the draft form does
    (quantity × unit price rounded half-up to the currency's places).
    """

    number: str | None = Field(
        None, max_length=64, description="Given by the server when left out."
    )
    client_name: str = Field(
        "", max_length=200, description="Needed when the client is new."
    )
    client_email: str = Field(max_length=254)
    billing_period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2025-05"])
    currency: str = Field(pattern=r"^[A-Za-z]{3}$", examples=["EUR"])
    status: Literal["DRAFT", "DUE"] = Field(
        "DRAFT", description="DUE issues it at once (issue date today)."
    )
    due_date: date | None = None
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    notes: str = Field("", max_length=2000)
    adjustment: Money = "0"
    adjustment_reason: str = Field("", max_length=200)
    lines: list[NewLine] = Field(min_length=1, max_length=200)


class DraftChanges(_Model):
    """A draft's fields to change; those left out keep their values.

    `lines`, when given, replaces every line.
    """

    client_name: str | None = Field(None, max_length=200)
    client_email: str | None = Field(None, max_length=254)
    billing_period: str | None = Field(None, pattern=r"^[0-9]{4}-[0-9]{2}$")
    currency: str | None = Field(None, pattern=r"^[A-Za-z]{3}$")
    due_date: date | None = None
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    notes: str | None = Field(None, max_length=2000)
    adjustment: Money | None = None
    adjustment_reason: str | None = Field(None, max_length=200)
    lines: list[NewLine] | None = Field(None, min_length=1, max_length=200)


class NewPayment(_Model):
    amount: Money
    received_on: date
    reference: str = Field("", max_length=200)


class Cancellation(_Model):
    reason: str = Field(min_length=1, max_length=500)


class Empty(_Model):
    """No fields: the action needs none."""


EventType = Literal[
    "invoice.created",
    "invoice.updated",
    "invoice.issued",
    "invoice.payment_recorded",
    "invoice.paid",
    "invoice.cancelled",
    "invoice.overdue",
]


class NewWebhookEndpoint(_Model):
    url: str = Field(
        max_length=2000,
        description="https, on a public address (no private or loopback hosts).",
        examples=["https://portal.example.com/hooks/invoices"],
    )
    event_types: list[EventType] = Field(min_length=1)
    description: str = Field("", max_length=200)


class WebhookEndpoint(NewWebhookEndpoint):
    id: int
    created_at: datetime


class NewWebhookEndpointAnswer(WebhookEndpoint):
    secret: str = Field(
        description="Verifies webhook-signature (Standard Webhooks); shown only now."
    )


class WebhookEndpointList(_Model):
    items: list[WebhookEndpoint]


class Bucket(_Model):
    amount: Money
    count: int = Field(ge=0)


class CurrencyReceivables(_Model):
    """What was owed in one currency on the day (never summed across currencies)."""

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    outstanding: Money
    outstanding_count: int = Field(ge=0)
    overdue: Money
    overdue_count: int = Field(ge=0)
    buckets: dict[Literal["not_due", "1_30", "31_60", "61_90", "over_90"], Bucket] = (
        Field(description="Days past due; the five add up to the outstanding total.")
    )


class Receivables(_Model):
    as_of: date
    currencies: list[CurrencyReceivables]


class ReceivablesQuery(BaseModel):
    as_of: date | None = Field(None, description="The day (default: today).")


class ExportStatus(_Model):
    """A background export: poll it until it is done, then download."""

    id: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    rows_done: int = Field(ge=0)
    rows_total: int | None = Field(None, ge=0)
    download_url: str | None = Field(description="Set once the file is ready.")
    error: str | None = Field(description="Why it failed, in plain words.")
    expires_at: datetime | None


class NewExport(BaseModel):
    """The file's format and the list's filter parameters (as for the list)."""

    format: Literal["xlsx", "pdf", "zip"] = "xlsx"
