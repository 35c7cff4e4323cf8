"""WTForms for changing invoices: drafts, payments, cancellation, bulk actions."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.utils import unset_value
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..columns import COLUMN_KEYS, moved
from ..drafts import DraftInput, LineInput, compute_totals, totals_problems
from ..money import (
    QUANTITY_MAX,
    UNIT_PRICE_MAX,
    is_currency,
    parse_amount,
    shown_number,
)
from ..saved_views import NAME_MAX
from ..text_input import PlainText, nfc
from ..webhooks.events import EVENT_TYPES

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
# Invoice.version is an INTEGER column.
VERSION_MAX = 2**31 - 1
COMMON_CURRENCIES = ("USD", "EUR", "GBP", "JPY", "INR", "AUD", "CAD", "CHF", "SGD")


def _decimal(text: str, *, places: int, maximum: Decimal) -> Decimal:
    """parse_amount, with a cap on decimal places for non-money numbers."""
    value = parse_amount(text, maximum=maximum)
    if -value.as_tuple().exponent > places:
        raise ValueError(f"{shown_number(text)} has more than {places} decimal places")
    return value


def _version_number(form, field):
    """The hidden version is a whole number an INTEGER column holds."""
    text = (field.data or "").strip()
    digits = text.isascii() and text.isdigit() and len(text) <= 10
    if not (digits and 1 <= int(text) <= VERSION_MAX):
        raise ValidationError(
            "The form's invoice version is not valid; reload the page and try again."
        )


class LineForm(Form):
    """One line item (a sub-form: the draft form carries the CSRF token)."""

    description = StringField(
        "Description",
        filters=[nfc],
        validators=[DataRequired("Describe the line."), PlainText(), Length(max=500)],
    )
    quantity = StringField("Quantity", validators=[DataRequired("Enter a quantity.")])
    unit_price = StringField(
        "Unit price", validators=[DataRequired("Enter a unit price.")]
    )

    def validate_quantity(self, field):
        try:
            value = _decimal(field.data, places=4, maximum=QUANTITY_MAX)
        except ValueError as exc:
            raise ValidationError(f"{exc}. Use a plain number like 12.5.") from None
        if value <= 0:
            raise ValidationError("The quantity must be above zero.")
        field.parsed = value

    def validate_unit_price(self, field):
        try:
            value = _decimal(field.data, places=6, maximum=UNIT_PRICE_MAX)
        except ValueError as exc:
            raise ValidationError(f"{exc}. Use a plain number like 0.0416.") from None
        if value < 0:
            raise ValidationError("Unit prices cannot be negative; use an adjustment.")
        field.parsed = value


class LineList(FieldList):
    """A FieldList that counts the entries posted, past max_entries too.

    WTForms drops entries beyond max_entries without a word; the draft form
    refuses them instead, so no line a user typed is lost silently.
    """

    def process(self, formdata, data=unset_value, extra_filters=None):
        prefix = re.escape(self.name) + r"-(\d+)-"
        indices = {m.group(1) for key in formdata or () if (m := re.match(prefix, key))}
        self.posted_entries = len(indices)
        self.limit_message = ""
        super().process(formdata, data, extra_filters)


class DraftForm(FlaskForm):
    """A draft invoice: client, period, currency, terms, lines, adjustment."""

    version = HiddenField(validators=[Optional(), _version_number])
    client_email = StringField(
        "Client e-mail",
        filters=[nfc],
        validators=[
            DataRequired("Pick or enter the client's e-mail."),
            PlainText(),
            Length(max=254),
        ],
    )
    client_name = StringField(
        "Client name", filters=[nfc], validators=[PlainText(), Length(max=200)]
    )
    billing_period = StringField(
        "Billing period",
        validators=[DataRequired("Choose the billed month."), PlainText()],
    )
    currency = StringField(
        "Currency", validators=[DataRequired("Choose a currency."), PlainText()]
    )
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
    notes = TextAreaField(
        "Notes",
        filters=[nfc],
        validators=[PlainText(multiline=True), Length(max=2000)],
    )
    adjustment = StringField("Adjustment", default="0")
    adjustment_reason = StringField(
        "Reason for the adjustment",
        filters=[nfc],
        validators=[PlainText(), Length(max=200)],
    )
    lines = LineList(FormField(LineForm), min_entries=1, max_entries=200)

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
        try:
            field.parsed = date(int(match.group(1)), int(match.group(2)), 1)
        except (AttributeError, ValueError):
            raise ValidationError("Use a month like 2025-05.") from None

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

    def validate_lines(self, field):
        """At most max_entries lines; their amounts and totals fit their columns."""
        if field.posted_entries > field.max_entries:
            # Shown beside the Add line button (the lines' own place for it).
            field.limit_message = (
                f"At most {field.max_entries} lines on one invoice; "
                f"{field.posted_entries} were sent. Remove some, or split the invoice."
            )
            raise ValidationError(field.limit_message)
        lines = [line.form for line in field]
        numbers = [f for ln in lines for f in (ln.quantity, ln.unit_price)]
        parsed = all(hasattr(f, "parsed") for f in [self.adjustment, *numbers])
        if self.currency.errors or not parsed:
            return  # the fields' own messages come first
        totals = compute_totals(
            [LineInput("", ln.quantity.parsed, ln.unit_price.parsed) for ln in lines],
            self.currency.data,
            self.adjustment.parsed,
        )
        problems = totals_problems(totals)
        for key, message in problems.items():
            if key == "payable":
                self.adjustment.errors.append(message)
            elif key == "usage_cost":
                lines[-1].unit_price.errors.append(message)
            else:
                lines[int(key.removeprefix("lines-"))].unit_price.errors.append(message)
        if problems:
            raise ValidationError(" ".join(problems.values()))

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
    version = HiddenField(validators=[DataRequired(), _version_number])
    amount = StringField(
        "Amount", validators=[DataRequired("Enter the amount."), PlainText()]
    )
    received_on = DateField(
        "Received on",
        format="%Y-%m-%d",
        # InputRequired, so a date that does not parse says so (not "missing").
        validators=[InputRequired("Enter the date the money arrived.")],
        render_kw={"type": "date"},
    )
    reference = StringField(
        "Reference", filters=[nfc], validators=[PlainText(), Length(max=200)]
    )


class CancelForm(FlaskForm):
    version = HiddenField(validators=[DataRequired(), _version_number])
    reason = StringField(
        "Reason",
        filters=[nfc],
        validators=[
            DataRequired("Say why the invoice is cancelled."),
            PlainText(),
            Length(max=500),
        ],
    )


class VersionForm(FlaskForm):
    """Issue and delete carry only the version the user saw."""

    version = HiddenField(validators=[DataRequired(), _version_number])


class ValuesField(Field):
    """Every value sent under the field's name (checkboxes sharing one name)."""

    def process_formdata(self, valuelist):
        self.data = list(dict.fromkeys(valuelist))  # once each, in the order sent


class SeenVersionsField(Field):
    """<name>-<number>=<version> pairs: the version each ticked row showed."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        # One input per ticked row, named after its number: not a fixed field name.
        self.process_errors = []
        self.data = {}
        prefix = f"{self.name}-"
        for key in formdata or ():
            if key.startswith(prefix):
                try:
                    self.data[key.removeprefix(prefix)] = int(formdata.get(key))
                except (TypeError, ValueError):
                    continue  # a version that is not a number was never shown


class SelectionForm(Form):
    """The invoices a bulk request names: ticked rows, or all that match the filters.

    A plain Form over request.form: the filters come in the same form (read by
    parse_filters), and the app-wide CSRF check has run before any view.
    """

    all_matching = HiddenField()
    numbers = ValuesField()
    seen = SeenVersionsField()

    @property
    def all_that_match(self) -> bool:
        """True for "all N that match the filters" rather than ticked rows."""
        return self.all_matching.data == "1"

    def seen_versions(self) -> dict[str, int]:
        """The version each ticked row showed (none for "all that match")."""
        if self.all_that_match:
            return {}
        seen = self.seen.data
        return {number: seen[number] for number in self.numbers.data if number in seen}


class BulkActionForm(SelectionForm):
    """Issue or cancel the selection; cancelling takes one reason for them all."""

    action = StringField(
        validators=[AnyOf(("issue", "cancel"), message="Choose Issue or Cancel.")]
    )
    reason = StringField(filters=[lambda value: (value or "").strip()])

    def validate_reason(self, field):
        if self.action.data == "cancel" and not field.data:
            raise ValidationError(
                "Give one reason for cancelling the selected invoices."
            )


class WebhookEndpointForm(FlaskForm):
    """A new webhook endpoint: where, which events, and a note for whom it is."""

    url = StringField(
        "Endpoint URL",
        validators=[DataRequired("Enter the URL."), PlainText(), Length(max=2000)],
        render_kw={"type": "url", "placeholder": "https://portal.example.com/hooks"},
    )
    event_types = SelectMultipleField(
        "Events",
        choices=list(EVENT_TYPES),
        validators=[DataRequired("Choose at least one event.")],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    description = StringField(
        "Description",
        filters=[nfc],
        validators=[PlainText(), Length(max=200)],
    )


class ColumnChoiceForm(Form):
    """The column chooser: the ticked optional columns, maybe one of them moved.

    A plain Form over request.form, like SelectionForm: the list's filters come
    in the same form, and the app-wide CSRF check has run before any view.
    """

    # Ticked boxes arrive in the chooser's order, the shown columns first.
    show = SelectMultipleField(choices=list(COLUMN_KEYS))
    # "up:<key>" or "down:<key>": the move button pressed, if any.
    move = StringField(validators=[Optional(), PlainText()])

    def validate_move(self, field):
        direction, _, key = (field.data or "").partition(":")
        if direction not in MOVES or key not in COLUMN_KEYS:
            raise ValidationError(
                "A move is up:<column> or down:<column>, for a column of the list."
            )

    def chosen(self) -> tuple[str, ...]:
        """The columns to show, in order, with the move applied."""
        shown = tuple(dict.fromkeys(self.show.data or ()))
        if self.move.data:
            direction, _, key = self.move.data.partition(":")
            shown = moved(shown, key, MOVES[direction])
        return shown


MOVES = {"up": -1, "down": 1}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ViewNameForm(FlaskForm):
    """A saved view's name (renaming)."""

    name = StringField(
        "Name",
        filters=[nfc, _strip],
        validators=[
            DataRequired("Name the view."),
            PlainText(),
            Length(max=NAME_MAX, message=f"A name is at most {NAME_MAX} characters."),
        ],
    )


class SaveViewForm(ViewNameForm):
    """Save the list as a view: its name, for whom, and the list's parameters."""

    shared = BooleanField("Share with the team")
    # The list's query string as its links carry it (InvoiceFilters.to_args),
    # kept in step with the table: it lives in the table fragment.
    list = HiddenField()
