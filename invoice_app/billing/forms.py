"""WTForms for changing invoices: drafts, payments, cancellation, bulk actions."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..drafts import DraftInput, LineInput
from ..money import is_currency, parse_amount

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
COMMON_CURRENCIES = ("USD", "EUR", "GBP", "JPY", "INR", "AUD", "CAD", "CHF", "SGD")


def _decimal(text: str, *, places: int, currency: str | None = None) -> Decimal:
    """parse_amount, with a cap on decimal places for non-money numbers."""
    value = parse_amount(text, currency)
    if -value.as_tuple().exponent > places:
        raise ValueError(f"{text} has more than {places} decimal places")
    return value


class LineForm(Form):
    """One line item (a sub-form: the draft form carries the CSRF token)."""

    description = StringField(
        "Description",
        validators=[DataRequired("Describe the line."), Length(max=500)],
    )
    quantity = StringField("Quantity", validators=[DataRequired("Enter a quantity.")])
    unit_price = StringField(
        "Unit price", validators=[DataRequired("Enter a unit price.")]
    )

    def validate_quantity(self, field):
        try:
            value = _decimal(field.data, places=4)
        except ValueError as exc:
            raise ValidationError(f"{exc}. Use a plain number like 12.5.") from None
        if value <= 0:
            raise ValidationError("The quantity must be above zero.")
        field.parsed = value

    def validate_unit_price(self, field):
        try:
            value = _decimal(field.data, places=6)
        except ValueError as exc:
            raise ValidationError(f"{exc}. Use a plain number like 0.0416.") from None
        if value < 0:
            raise ValidationError("Unit prices cannot be negative; use an adjustment.")
        field.parsed = value


class DraftForm(FlaskForm):
    """A draft invoice: client, period, currency, terms, lines, adjustment."""

    version = HiddenField()
    client_email = StringField(
        "Client e-mail",
        validators=[
            DataRequired("Pick or enter the client's e-mail."),
            Length(max=254),
        ],
    )
    client_name = StringField("Client name", validators=[Length(max=200)])
    billing_period = StringField(
        "Billing period", validators=[DataRequired("Choose the billed month.")]
    )
    currency = StringField("Currency", validators=[DataRequired("Choose a currency.")])
    due_date = DateField(
        "Due date",
        validators=[Optional()],
        format="%Y-%m-%d",
        render_kw={"type": "date"},
    )
    payment_terms_days = IntegerField(
        "Payment terms (days)",
        validators=[Optional(), NumberRange(0, 365, "Use 0 to 365 days.")],
    )
    notes = TextAreaField("Notes", validators=[Length(max=2000)])
    adjustment = StringField("Adjustment", default="0")
    adjustment_reason = StringField(
        "Reason for the adjustment", validators=[Length(max=200)]
    )
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=200)

    def __init__(self, *args, today: date, known_client=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        # Callable: e-mail -> existing client name or None.
        self.known_client = known_client or (lambda email: None)

    def validate_client_email(self, field):
        email = (field.data or "").strip().lower()
        local, _, domain = email.partition("@")
        if not local or "." not in domain or " " in email:
            raise ValidationError("Enter an e-mail address like billing@client.com.")
        if (
            self.known_client(email) is None
            and not (self.client_name.data or "").strip()
        ):
            raise ValidationError(
                "No client has this e-mail yet: enter a client name to create one."
            )

    def validate_billing_period(self, field):
        match = _MONTH.match((field.data or "").strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValidationError("Use a month like 2025-05.")
        field.parsed = date(int(match.group(1)), int(match.group(2)), 1)

    def validate_currency(self, field):
        code = (field.data or "").strip().upper()
        if not is_currency(code):
            raise ValidationError(f"{field.data!r} is not an ISO 4217 currency code.")
        field.data = code

    def validate_due_date(self, field):
        if field.data is None and field.raw_data and field.raw_data[0]:
            raise ValidationError("Not a valid date.")
        if field.data and field.data < self.today:
            raise ValidationError(
                f"The due date is before today ({self.today}), the earliest issue date."
            )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Checked here: Optional() ends each field's own chain when it is empty.
        if (
            self.payment_terms_days.data is None
            and not self.payment_terms_days.errors
            and self.due_date.data is None
            and not self.due_date.errors
        ):
            self.payment_terms_days.errors = ["Give a due date or payment terms."]
            valid = False
        return valid

    def validate_adjustment(self, field):
        currency = (self.currency.data or "").strip().upper()
        try:
            value = parse_amount(
                field.data or "0", currency if is_currency(currency) else None
            )
        except ValueError as exc:
            raise ValidationError(f"{exc}. Use a plain number like -25.00.") from None
        field.parsed = value

    def validate_adjustment_reason(self, field):
        parsed = getattr(self.adjustment, "parsed", Decimal(0))
        if parsed and not (field.data or "").strip():
            raise ValidationError("Say why (credit, discount, surcharge…).")

    def to_input(self) -> DraftInput:
        """The validated values, as the drafts module takes them."""
        return DraftInput(
            client_name=(self.client_name.data or "").strip(),
            client_email=self.client_email.data.strip().lower(),
            billing_period=self.billing_period.parsed,
            currency=self.currency.data,
            due_date=self.due_date.data,
            payment_terms_days=self.payment_terms_days.data,
            notes=(self.notes.data or "").strip(),
            adjustment=self.adjustment.parsed,
            adjustment_reason=(self.adjustment_reason.data or "").strip(),
            lines=tuple(
                # line.form: FormField has a `description` attribute of its own.
                LineInput(
                    line.form.description.data.strip(),
                    line.form.quantity.parsed,
                    line.form.unit_price.parsed,
                )
                for line in self.lines
            ),
        )


class PaymentForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    amount = StringField("Amount", validators=[DataRequired("Enter the amount.")])
    received_on = DateField(
        "Received on",
        format="%Y-%m-%d",
        # InputRequired, so a date that does not parse says so (not "missing").
        validators=[InputRequired("Enter the date the money arrived.")],
        render_kw={"type": "date"},
    )
    reference = StringField("Reference", validators=[Length(max=200)])


class CancelForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    reason = StringField(
        "Reason",
        validators=[DataRequired("Say why the invoice is cancelled."), Length(max=500)],
    )


class VersionForm(FlaskForm):
    """Issue and delete carry only the version the user saw."""

    version = HiddenField(validators=[DataRequired()])
