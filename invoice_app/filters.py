"""The one place that reads invoice filter parameters from a request.

The page, its htmx fragment, the JSON API and the exports all call parse_filters();
nothing else looks at request.args for filters.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from wtforms import Form, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional, ValidationError

from .columns import COLUMNS, NO_COLUMNS
from .models import Status
from .receivables import AGING_CHOICES
from .text_input import PlainText, nfc, shown

STATUS_CHOICES = ["ALL"] + [s.value for s in Status]
DATE_FIELDS = {"period": "Billing period", "due": "Due date", "issued": "Issue date"}
SORT_KEYS = (
    "number",
    "client",
    "period",
    "usage_cost",
    "payable",
    "issue_date",
    "due_date",
    "status",
)
DEFAULT_SORT = "-period"
PER_PAGE_CHOICES = (10, 25, 50, 100, 200)
SEARCH_MAX = 200
EMAIL_MAX = 254
# Far past any real list (200 rows a page), and (PAGE_MAX - 1) × PER_PAGE_MAX
# stays a small OFFSET on both databases.
PAGE_MAX = 10_000_000
_MONTH = re.compile(r"^[0-9]{4}-[0-9]{2}$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# ?view=all names the whole list; ?view=<id> a saved view (ids fit in 18 digits).
VIEW_ALL = "all"
_VIEW_ID = re.compile(r"^[0-9]{1,18}$")


@dataclass(frozen=True)
class InvoiceFilters:
    """A validated, immutable view of what the user asked to see."""

    status: str = "ALL"
    date_field: str = "period"
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    # Receivable today in one aging bucket (receivables.AGING_CHOICES), or all.
    aging: str = ""
    # One client's e-mail (exact, case-insensitive), or every client.
    client: str = ""
    # One currency (ISO code), or every currency: an overview figure is one's.
    currency: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = 25
    # Optional columns (columns.py keys) in display order; () asks for none;
    # None: not given, so the signed-in user's saved choice (columns.shown_columns).
    columns: tuple[str, ...] | None = None
    # The saved view the list was opened with (?view=<id>), or None. Its stored
    # parameters are view_args; the fields above are the view with whatever the
    # request changed applied (see to_args).
    view: int | None = None
    view_args: tuple[tuple[str, str], ...] = ()
    # ?view=all: the whole list asked for by name, so a user's default view
    # does not take over when every other parameter is back at its default.
    view_all: bool = False

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.status != "ALL"
            or self.date_from
            or self.date_to
            or self.q
            or self.aging
            or self.client
            or self.currency
        )

    @property
    def needs_rows(self) -> bool:
        """Filters the invoice tally cannot answer (it knows no clients or ages)."""
        return bool(self.aging or self.client)

    @property
    def aging_label(self) -> str:
        return AGING_CHOICES.get(self.aging, "")

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def sort_descending(self) -> bool:
        return self.sort.startswith("-")

    def with_(self, **changes) -> InvoiceFilters:
        """A copy with some fields changed (page resets unless given)."""
        changes.setdefault("page", 1)
        return replace(self, **changes)

    def to_args(self) -> dict[str, str]:
        """Canonical query parameters, omitting defaults, for links and exports.

        In a saved view: `view` and only what differs from the view (a value the
        view sets and these filters clear is given as empty), so a view's address
        stays short and a change made inside it is kept.
        """
        plain = self._plain_args()
        if self.view is None:
            return {"view": VIEW_ALL, **plain} if self.view_all else plain
        saved = dict(self.view_args)
        args = {"view": str(self.view)}
        for key in [*saved, *(k for k in plain if k not in saved)]:
            if plain.get(key, "") != saved.get(key, ""):
                args[key] = plain.get(key, "")
        return args

    def expanded(self) -> InvoiceFilters:
        """The same filters with no view: for work that runs without the user
        (a background export) and for saving as a new view."""
        return replace(self, view=None, view_args=(), view_all=False)

    def saved_args(self) -> dict[str, str]:
        """What a view saved from these filters stores: all of them but the page."""
        return self.expanded().with_(page=1).to_args()

    def _plain_args(self) -> dict[str, str]:
        defaults = InvoiceFilters()
        args: dict[str, str] = {}
        for key, value in asdict(self).items():
            if key in _VIEW_FIELDS or value == getattr(defaults, key):
                continue
            if key == "date_field" and not (self.date_from or self.date_to):
                continue
            if key == "columns":
                args[key] = ",".join(value) or NO_COLUMNS
                continue
            args[key] = value.isoformat() if isinstance(value, date) else str(value)
        return args


_VIEW_FIELDS = ("view", "view_args", "view_all")


DEFAULT_PER_PAGE = InvoiceFilters.per_page


class InvalidFilters(BadRequest):
    """Raised for a bad filter parameter; carries the form to show messages."""

    def __init__(self, form: InvoiceFilterForm):
        self.form = form
        self.errors = {name: list(errs) for name, errs in form.errors.items()}
        detail = "; ".join(
            f"{name}: {' '.join(errs)}" for name, errs in self.errors.items()
        )
        super().__init__(f"Invalid filter parameters — {detail}")


def _parse_date(text: str, *, month_end: bool, allow_month: bool) -> date:
    if allow_month and _MONTH.match(text):
        year, month = map(int, text.split("-"))
        if not 1 <= month <= 12:
            raise ValueError
        day = calendar.monthrange(year, month)[1] if month_end else 1
        return date(year, month, day)
    if not _DAY.match(text):
        raise ValueError
    return date.fromisoformat(text)


def _capped(limit: int):
    """Validator: bring a huge whole number within ±limit before NumberRange.

    NumberRange compares through float(), which overflows (a 500) on an
    integer of some 310 digits or more; past limit the value means the same.
    """

    def cap(form, field):
        if field.data is not None and abs(field.data) > limit:
            field.data = limit if field.data > 0 else -limit

    return cap


class InvoiceFilterForm(Form):
    """Validates the invoice list's query string (GET, so no CSRF)."""

    status = SelectField("Status", choices=STATUS_CHOICES, default="ALL")
    date_field = SelectField("Date", choices=list(DATE_FIELDS), default="period")
    date_from = StringField("From", validators=[PlainText()])
    date_to = StringField("To", validators=[PlainText()])
    q = StringField("Search", filters=[nfc], validators=[PlainText()])
    aging = SelectField(
        "Aging",
        choices=["", *AGING_CHOICES],
        default="",
    )
    client = StringField("Client e-mail", filters=[nfc], validators=[PlainText()])
    currency = StringField("Currency", validators=[PlainText()])
    columns = StringField(
        "Optional columns: keys in display order, comma-separated, or none",
        validators=[PlainText()],
    )
    view = StringField("Saved view", validators=[PlainText()])
    sort = SelectField(
        "Sort",
        choices=[*SORT_KEYS, *(f"-{k}" for k in SORT_KEYS)],
        default=DEFAULT_SORT,
    )
    page = IntegerField(
        "Page",
        default=1,
        validators=[
            Optional(),
            _capped(PAGE_MAX + 1),
            NumberRange(
                min=1,
                max=PAGE_MAX,
                message=f"Page must be between 1 and {PAGE_MAX:,}.",
            ),
        ],
    )
    per_page = IntegerField(
        "Rows per page",
        default=DEFAULT_PER_PAGE,
        validators=[
            Optional(),
            _capped(PAGE_MAX),
            NumberRange(min=1, message="Rows per page must be 1 or more."),
        ],
    )

    def _date(self, field, *, month_end: bool) -> date | None:
        text = (field.data or "").strip()
        if not text:
            return None
        allow_month = self.date_field.data == "period"
        try:
            return _parse_date(text, month_end=month_end, allow_month=allow_month)
        except ValueError:
            shape = "YYYY-MM-DD or YYYY-MM" if allow_month else "YYYY-MM-DD"
            raise ValidationError(
                f"{shown(text)} is not a valid date ({shape}, years 1 to 9999)."
            ) from None

    def validate_date_from(self, field):
        self.parsed_from = self._date(field, month_end=False)

    def validate_date_to(self, field):
        self.parsed_to = self._date(field, month_end=True)
        start = getattr(self, "parsed_from", None)
        if start and self.parsed_to and start > self.parsed_to:
            raise ValidationError("'To' must not be before 'From'.")

    def validate_q(self, field):
        if len(field.data or "") > SEARCH_MAX:
            raise ValidationError(f"Search is limited to {SEARCH_MAX} characters.")

    def validate_currency(self, field):
        if field.data and not _CURRENCY.match(field.data):
            raise ValidationError(
                f"{shown(field.data)} is not a currency code (three letters)."
            )

    def validate_view(self, field):
        if field.data and _view_choice(field.data) is None:
            raise ValidationError(
                f"{shown(field.data)} is not a saved view (its number, or {VIEW_ALL})."
            )

    def validate_client(self, field):
        if len(field.data or "") > EMAIL_MAX:
            raise ValidationError(f"An e-mail is at most {EMAIL_MAX} characters.")

    def validate_columns(self, field):
        self.parsed_columns = _parse_columns(field.data)


def _parse_columns(text: str | None) -> tuple[str, ...] | None:
    """`columns`: keys separated by commas, in display order; "none": no column."""
    if not text:
        return None
    if text == NO_COLUMNS:
        return ()
    keys = tuple(key.strip() for key in text.split(","))
    unknown = [key for key in keys if key not in COLUMNS]
    if unknown:
        known = ", ".join(COLUMNS)
        raise ValidationError(
            f"{shown(unknown[0])} is not a column (one of {known}, or {NO_COLUMNS})."
        )
    if len(set(keys)) != len(keys):
        twice = next(key for key in keys if keys.count(key) > 1)
        raise ValidationError(f"The column {twice} is named twice.")
    return keys


def _normalise(args: MultiDict) -> MultiDict:
    """Treat empty values as absent and statuses case-insensitively."""
    clean = MultiDict()
    for key, value in args.items(multi=True):
        value = value.strip()
        if not value:
            continue
        if key == "status":
            value = value.upper()
        elif key == "aging":
            value = value.lower()
        elif key == "currency":
            value = value.upper()
        elif key in ("columns", "view"):
            value = value.lower()
        clean.add(key, value)
    return clean


def _view_choice(text: str) -> int | str | None:
    """A view parameter as an id, VIEW_ALL, or None when it is neither."""
    text = text.strip().lower()
    if text == VIEW_ALL:
        return VIEW_ALL
    if _VIEW_ID.match(text) and int(text) > 0:
        return int(text)
    return None


def _with_view(args: MultiDict) -> tuple[MultiDict, int | None, dict[str, str]]:
    """args laid over the stored parameters of the saved view they name.

    A parameter the request gives, even empty, replaces the view's: an emptied
    search box means no search, not the view's. A view the user may not see is
    404 (saved_views.stored_args), like an id that does not exist.
    """
    choice = _view_choice(args.get("view", ""))
    if not isinstance(choice, int):
        return args, None, {}
    # Imported here: saved_views reads the database and the signed-in user,
    # which the parser needs only for this one parameter.
    from .saved_views import stored_args

    stored = stored_args(choice)
    merged = MultiDict(stored)
    for key in args:
        merged.setlist(key, args.getlist(key))
    return merged, choice, stored


def parse_filters(args: MultiDict, per_page_max: int = 200) -> InvoiceFilters:
    """Validate query parameters into InvoiceFilters, or raise InvalidFilters (400).

    `view=<id>` opens a saved view: its parameters, with the request's own over
    them (see _with_view).
    """
    merged, view_id, stored = _with_view(args)
    form = InvoiceFilterForm(formdata=_normalise(merged))
    if not form.validate():
        raise InvalidFilters(form)
    return InvoiceFilters(
        status=form.status.data,
        date_field=form.date_field.data,
        date_from=getattr(form, "parsed_from", None),
        date_to=getattr(form, "parsed_to", None),
        q=(form.q.data or "").strip(),
        aging=form.aging.data or "",
        client=(form.client.data or "").strip(),
        currency=form.currency.data or "",
        sort=form.sort.data,
        page=form.page.data or 1,
        per_page=min(form.per_page.data or DEFAULT_PER_PAGE, per_page_max),
        columns=getattr(form, "parsed_columns", None),
        view=view_id,
        view_args=tuple(stored.items()),
        view_all=view_id is None and form.view.data == VIEW_ALL,
    )


def filter_form(filters: InvoiceFilters) -> InvoiceFilterForm:
    """A form showing the given filters, for rendering the controls."""
    return InvoiceFilterForm(formdata=MultiDict(filters.expanded().to_args()))


def date_presets(today: date) -> dict[str, tuple[date, date]]:
    """Named date ranges offered next to the date filter."""
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarter_end_month = quarter_start.month + 2
    quarter_end = date(
        today.year,
        quarter_end_month,
        calendar.monthrange(today.year, quarter_end_month)[1],
    )
    return {
        "This month": (
            month_start,
            month_start.replace(day=calendar.monthrange(today.year, today.month)[1]),
        ),
        "Last month": (last_month_end.replace(day=1), last_month_end),
        "Last 30 days": (today - timedelta(days=29), today),
        "This quarter": (quarter_start, quarter_end),
        "This year": (date(today.year, 1, 1), date(today.year, 12, 31)),
    }


class InvalidAsOf(BadRequest):
    """Raised for a bad "as of" date of the receivables overview (400)."""

    def __init__(self, message: str):
        self.errors = {"as_of": [message]}
        super().__init__(f"Invalid as_of — {message}")


def parse_as_of(args: MultiDict, today: date) -> date:
    """The overview's "as of" day (YYYY-MM-DD, default today), or InvalidAsOf."""
    text = (args.get("as_of") or "").strip()
    if not text:
        return today
    try:
        return _parse_date(text, month_end=False, allow_month=False)
    except ValueError:
        raise InvalidAsOf(
            f"{shown(text)} is not a valid date (YYYY-MM-DD, years 1 to 9999)."
        ) from None
