"""Property: no generated value, in any parameter of any route, answers 5xx.

Walks app.url_map: every GET route gets generated values for the filter
parameters (and the ones it reads of its own) and for its route variables;
every POST route gets generated values for every field of its form, with a
valid CSRF token so the values reach the form. An HTML 4xx must say what was
wrong; a JSON one must carry an "error". Runs on SQLite and on PostgreSQL
(DATABASE_URL), whose refusals differ: NUL in text, integers out of range.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from invoice_app import create_app
from tests.conftest import csrf_token

# Reproducible in CI (derandomize, no example database) and quick: the suite
# runs twice. Fixtures are built once per test, and their data is meant to be
# shared by the examples (they only add to it), hence the health check.
HOSTILE = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    # No explain phase: it reruns every failing example many times over.
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x01\x1b[31m",
    "\r\nSet-Cookie: x=1",
    "\t",
    "\x85",
    "\ufffd",
    "\ufeff",
    "\u200f\u202e",
    "%",
    "%FF",
    "_",
    "/",
    "//evil.example",
    "\\",
    "'; DROP TABLE invoice; --",
    '"',
    "<script>alert(1)</script>",
    "e\u0301",
    "\ufb01",
    "\u0130",
    "\u00df",
    "\U0001f469\u200d\U0001f4bb",
    "\u00a0",
    "9" * 20,
    "9" * 400,
    "9" * 5000,
    "x" * 5000,
    "-1",
    "0",
    "1e5",
    "NaN",
    "Infinity",
    "0x10",
    "1_000",
    "\uff12",
    "-99999999999999.99",
    "99999999999999.99",
    "100000000000000",
    "10000000000000",
    "999999999999.999999",
    "0.0000001",
    "2147483648",
    "9223372036854775808",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "99999-01-01",
    "2025-02-30",
    "2025-13",
    "0000-05",
    "9999-12",
    "2025-05",
    "2025-07-15",
]
# Characters that have broken parsers, SQL and templates, mixed into text.
NASTY = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ufffd", "\ud7ff", "\U0010ffff"]
NASTY += ["%", "%FF", "%00", "_", "/", "\\", "'", '"', "<", "&", "\n", "\u0301"]
VALUES = st.one_of(
    st.sampled_from(SPECIAL),
    st.tuples(st.text(max_size=4), st.sampled_from(NASTY), st.text(max_size=4)).map(
        "".join
    ),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,10})?", fullmatch=True),
    st.dates().map(str),
    # Bytes, percent-encoded by urlencode: %FF and friends.
    st.binary(max_size=8),
)


NUMBERS = st.one_of(
    st.sampled_from(["9" * 20, "9" * 400, "-1", "0", "1e5", "NaN", "0x10", "1_0"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2).map(str),
    st.integers(min_value=2**63 - 2, max_value=2**63 + 2).map(str),
    st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,10})?", fullmatch=True),
)
DATES = st.one_of(
    st.sampled_from(["0000-01-01", "0000-05", "99999-01-01", "2025-02-30", "2025-13"]),
    st.dates().map(str),
    st.from_regex(r"[0-9]{1,6}-[0-9]{1,2}(-[0-9]{1,2})?", fullmatch=True),
)
TEXTS = st.tuples(st.text(max_size=4), st.sampled_from(NASTY), st.text(max_size=4)).map(
    "".join
)


def hostile_for(valid: tuple[str, ...]) -> st.SearchStrategy:
    """Generated values, most of them of the kind the field's valid values are."""
    given_values = [v for v in valid if v]
    if given_values and all(
        re.fullmatch(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?", v) for v in given_values
    ):
        kind = DATES
    elif given_values and all(re.fullmatch(r"-?[0-9.]+", v) for v in given_values):
        kind = NUMBERS
    else:
        kind = TEXTS
    return st.one_of(kind, VALUES)


def value_or(*valid: str) -> tuple[str, ...]:
    """The valid values of a field: all fields but one or two get one of them."""
    return valid


FILTERS = {
    "status": value_or("", "ALL", "DUE", "OVER_DUE", "paid"),
    "date_field": value_or("", "period", "due"),
    "date_from": value_or("", "2025-01"),
    "date_to": value_or("", "2025-12"),
    "q": value_or("", "acme", "a"),
    "sort": value_or("", "number", "-payable", "status"),
    "page": value_or("", "1", "2"),
    "per_page": value_or("", "10", "200"),
    "columns": value_or("", "currency,notes", "none"),
    "embed": value_or("", "1"),
    "view": value_or("", "all"),
}
# Parameters some routes read besides the filters.
ROUTE_PARAMS = {
    "auth.login": {"next": value_or("/billing/invoices", "/billing/invoices?q=a")},
    "billing.client_options": {"client_email": value_or("acme", "ops@")},
    "auth.sso": {
        "token": value_or("eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "not-a-token"),
        "next": value_or("/billing/invoices", "//evil.example"),
    },
}


def pairs(fields: dict, extra_names=()) -> st.SearchStrategy[list[tuple]]:
    """Every field with a valid value, then one or two of them (or of extra_names,
    fields the form does not expect) with a generated value instead.

    One hostile value among valid ones reaches past the form's other checks,
    into the query, the totals and the templates.
    """
    names = sorted(fields)
    if not names:
        return st.just([])
    valid = st.tuples(*(st.sampled_from(fields[n]) for n in names))
    kinds = {n: hostile_for(fields.get(n, ("1",))) for n in [*names, *extra_names]}
    hostile = st.lists(
        st.sampled_from(sorted(kinds)).flatmap(
            lambda n: kinds[n].map(lambda value: (n, value))
        ),
        min_size=1,
        max_size=2,
        unique_by=lambda pair: pair[0],
    )

    def merge(drawn):
        values, overrides = drawn
        replaced = dict(overrides)
        kept = [(n, v) for n, v in zip(names, values, strict=True) if n not in replaced]
        return kept + overrides

    return st.tuples(valid, hostile).map(merge)


APP = create_app({"TESTING": True})
GET_RULES = sorted(
    (r for r in APP.url_map.iter_rules() if "GET" in r.methods),
    key=lambda r: r.rule,
)
POST_RULES = sorted(
    (r for r in APP.url_map.iter_rules() if "POST" in r.methods),
    key=lambda r: r.rule,
)


@pytest.fixture
def app(monkeypatch, app_factory):
    """The test app with single sign-on on, so /sso verifies what it is sent."""
    monkeypatch.setenv("SSO_SECRET", "hostile-property-sso-secret-of-32-bytes+")
    monkeypatch.setenv("SSO_ISSUER", "https://portal.example.test")
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def world(make_invoice):
    """A draft, a due, a paid and a cancelled invoice to aim the values at."""
    made = [
        make_invoice(status="DRAFT", issue_date=None),
        make_invoice(),
        make_invoice(status="PAID", paid_date=date(2025, 6, 10)),
        make_invoice(status="CANCEL", cancel_reason="Duplicate"),
    ]
    return [invoice.number for invoice in made]


def route_url(rule, number: str | bytes) -> str:
    values = {}
    for name in rule.arguments:
        values[name] = "app.css" if name == "filename" else number
    url = rule.rule
    for name, value in values.items():
        url = re.sub(rf"<(?:\w+:)?{name}>", quote(value, safe=""), url)
    return url


def number_strategy(world_numbers):
    return st.one_of(st.sampled_from(world_numbers), VALUES.filter(bool))


def assert_answered(response, *, html_message: bool = True) -> None:
    """Never 5xx; a 4xx says what was wrong."""
    status = response.status_code
    # Read every body, streamed ones too: that is where an export fails.
    raw = response.get_data()
    response.close()
    if status < 400:
        return
    body = raw.decode()
    assert status < 500, body[:2000]
    if status in (400, 409, 422):
        if response.mimetype == "application/json":
            assert response.json["error"]
        elif response.mimetype == "text/html" and html_message:
            assert "field-error" in body or 'class="error-page"' in body, body[:2000]
        else:
            assert body.strip()


# What every GET route is sent: the filters and what some routes read besides.
GET_PARAMS = {**FILTERS, **{k: v for p in ROUTE_PARAMS.values() for k, v in p.items()}}
# None: an invoice that exists (the world's first), else a generated value.
NUMBERS_IN_ADDRESS = st.one_of(st.none(), VALUES.filter(bool))


@pytest.mark.parametrize("rule", GET_RULES, ids=lambda r: r.endpoint)
@HOSTILE
@given(number=NUMBERS_IN_ADDRESS, query=pairs(GET_PARAMS), htmx=st.booleans())
@example(number=None, query=[("page", "9" * 20)], htmx=False)
@example(number=None, query=[("page", "9" * 20)], htmx=True)
@example(number=None, query=[("q", "a\x00b")], htmx=False)
@example(number=None, query=[("q", "a\x00b")], htmx=True)
def test_get_routes_answer_generated_parameters_without_5xx(
    admin, world, rule, number, query, htmx
):
    url = route_url(rule, world[0] if number is None else number)
    headers = {"HX-Request": "true"} if htmx else {}
    response = admin.get(url, query_string=urlencode(query), headers=headers)
    assert_answered(response)


def line_fields(indices) -> dict:
    fields = {}
    for i in indices:
        fields[f"lines-{i}-description"] = value_or("Compute")
        fields[f"lines-{i}-quantity"] = value_or("1", "12.5")
        fields[f"lines-{i}-unit_price"] = value_or("0.0416", "1")
    return fields


DRAFT = {
    "version": value_or("1"),
    "client_email": value_or("acmeanalytics@example.test", "new@client.example"),
    "client_name": value_or("NewCo"),
    "billing_period": value_or("2025-06"),
    "currency": value_or("USD", "JPY", "usd"),
    "due_date": value_or("2025-08-01", ""),
    "payment_terms_days": value_or("30", ""),
    "notes": value_or("Thanks"),
    "adjustment": value_or("0", "-5.00"),
    "adjustment_reason": value_or("Credit"),
    "add_line": value_or("1"),
    "remove_line": value_or("0", "1"),
    **line_fields(["0", "1"]),
}
DRAFT_EXTRA = [*line_fields(["2", "199", "200", "99999999999999999999"])]
ROW = {"answer": value_or("row", "panel"), **FILTERS}
# Every POST route's form fields; a route missing here fails the test below.
FORMS = {
    "auth.login": {
        "email": value_or("admin@example.test"),
        "password": value_or("admin-password-1"),
        "remember": value_or("y"),
    },
    "auth.logout": {},
    # JSON only: a form body is refused (415); JSON bodies: test_api_contract.py.
    "api.create_invoice": {},
    "api.issue": {},
    "api.record_payment": {},
    "api.cancel": {},
    "api.create_webhook_endpoint": {},
    "billing.add_webhook": {
        "url": value_or("https://hooks.example.com/x", "http://127.0.0.1/x"),
        "event_types": value_or("invoice.paid", "invoice.nope"),
        "description": value_or("Portal"),
    },
    "billing.test_webhook": {},
    "billing.delete_webhook": {},
    "billing.redeliver_webhook": {},
    "auth.sso": ROUTE_PARAMS["auth.sso"],
    "billing.new_draft": DRAFT,
    "billing.edit_draft": DRAFT,
    "billing.draft_lines": DRAFT,
    "billing.draft_totals": DRAFT,
    "billing.issue": {"version": value_or("1"), **ROW},
    "billing.delete": {"version": value_or("1"), **ROW},
    "billing.cancel": {
        "version": value_or("1"),
        "reason": value_or("Duplicate"),
        **ROW,
    },
    "billing.pay": {
        "version": value_or("1"),
        "amount": value_or("15.00", "1"),
        "received_on": value_or("2025-06-05"),
        "reference": value_or("Wire 42"),
        **ROW,
    },
}
BULK = {
    "action": value_or("issue", "cancel"),
    "reason": value_or("Duplicate"),
    "all_matching": value_or("1"),
    **FILTERS,
}
# Background exports: a format and the list's filters; cancel takes nothing.
FORMS["billing.queue_background_export"] = {"format": value_or("xlsx"), **FILTERS}
FORMS["api.create_export"] = {"format": value_or("xlsx", "zip"), **FILTERS}
FORMS["billing.cancel_export"] = {}
# The column chooser: ticked columns, a move button, and the list's filters.
FORMS["billing.choose_columns"] = {
    "show": value_or("currency", "notes", "issue_date"),
    "move": value_or("", "up:notes", "down:currency"),
    **FILTERS,
}
# Saved views: a name, for whom, and the list's query string as the table has it.
FORMS["billing.save_view"] = {
    "name": value_or("Overdue", "Acme — due"),
    "shared": value_or("y", ""),
    "list": value_or("status=DUE", "view=1&q=acme", "q=%00"),
}
FORMS["billing.rename_view"] = {"name": value_or("Renamed")}
FORMS["billing.delete_view"] = {}
FORMS["billing.make_default_view"] = {}
FORMS["billing.clear_default_view"] = {}
for _endpoint in (
    "billing.bulk_action",
    "billing.bulk_export_xlsx",
    "billing.bulk_invoice_pdfs",
):
    FORMS[_endpoint] = BULK


def test_every_post_route_has_its_form_fields_listed():
    assert {r.endpoint for r in POST_RULES} == set(FORMS)


DRAFT_RULES = [r for r in POST_RULES if FORMS[r.endpoint] is DRAFT]
# The issue's example: every other field valid, a line of 10**13 × 10**13.
HUGE_LINE = [
    (name, values[0])
    for name, values in DRAFT.items()
    if name not in ("lines-0-quantity", "lines-0-unit_price")
] + [("lines-0-quantity", "1" + "0" * 13), ("lines-0-unit_price", "1" + "0" * 13)]


@pytest.mark.parametrize("rule", DRAFT_RULES, ids=lambda r: r.endpoint)
@HOSTILE
@given(body=pairs(DRAFT, DRAFT_EXTRA), htmx=st.booleans())
@example(body=HUGE_LINE, htmx=False)
def test_draft_forms_answer_generated_fields_without_5xx(
    admin, world, rule, body, htmx
):
    token = csrf_token(admin.get("/billing/invoices").get_data(as_text=True))
    response = admin.post(
        route_url(rule, world[0]),
        data=urlencode([("csrf_token", token), *body]),
        content_type="application/x-www-form-urlencoded",
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert_answered(response)


@pytest.mark.parametrize(
    "rule", [r for r in POST_RULES if r not in DRAFT_RULES], ids=lambda r: r.endpoint
)
@HOSTILE
@given(data=st.data())
def test_post_forms_answer_generated_fields_without_5xx(app, admin, world, rule, data):
    fields = dict(FORMS[rule.endpoint])
    if rule.endpoint.startswith("billing.bulk"):
        # Ticked rows carry the version each showed, as seen-<number>.
        fields.update({f"seen-{n}": value_or("1", "2") for n in world})
        fields["numbers"] = tuple(world)
    body = data.draw(pairs(fields), label="fields")
    url = route_url(rule, data.draw(number_strategy(world), label="number"))
    htmx = data.draw(st.booleans(), label="htmx")
    headers = {"HX-Request": "true"} if htmx else {}
    client = admin
    if rule.endpoint.startswith("auth."):
        # Signing in or out must not change the admin client's session.
        client = app.test_client()
        if rule.endpoint == "auth.logout":
            client.post(
                "/login",
                data={
                    "email": "admin@example.test",
                    "password": "admin-password-1",
                    "csrf_token": csrf_token(client.get("/login").get_data(True)),
                },
            )
    page = client.get(
        "/login" if rule.endpoint in ("auth.login", "auth.sso") else "/billing/invoices"
    )
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        url,
        data=urlencode([("csrf_token", token), *body]),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )
    assert_answered(response)
