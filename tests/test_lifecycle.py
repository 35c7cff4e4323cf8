"""The invoice lifecycle over HTTP: roles, transitions, payments, conflicts, audit."""

import re
from datetime import date
from decimal import Decimal

import pytest

from invoice_app.extensions import db
from invoice_app.models import AuditEvent, Invoice, Payment
from tests.conftest import Auth, csrf_token

# Every test here runs on 2025-07-15 (tests/conftest.py: frozen_day).
pytestmark = pytest.mark.usefixtures("frozen_day")


def token(client) -> str:
    return csrf_token(client.get("/billing/invoices").get_data(as_text=True))


def act(client, invoice, action, **data):
    """POST a lifecycle action as the browser's form would (CSRF and version)."""
    fields = {"csrf_token": token(client), "version": invoice.version, **data}
    return client.post(f"/billing/invoices/{invoice.number}/{action}", data=fields)


def reload(invoice) -> Invoice:
    """The invoice as the database has it now (the test's snapshot ends here)."""
    db.session.commit()
    return db.session.get(Invoice, invoice.id)


ACTIONS = {
    "issue": {},
    "pay": {"amount": "5.00", "received_on": "2025-07-10"},
    "cancel": {"reason": "Duplicate"},
    "delete": {},
}
# stored status -> actions the lifecycle allows from it
ALLOWED = {
    "DRAFT": {"issue", "cancel", "delete"},
    "DUE": {"pay", "cancel"},
    "OVER_DUE": {"pay", "cancel"},
    "PAID": set(),
    "CANCEL": set(),
}


def make_in_status(make_invoice, status):
    values = {"status": status, "due_date": date(2025, 7, 31)}
    if status == "DRAFT":
        values["issue_date"] = None
    if status == "PAID":
        values["paid_date"] = date(2025, 7, 1)
    return make_invoice(**values)


@pytest.mark.parametrize("status", ALLOWED)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_transition_allowed_or_refused(admin, make_invoice, status, action):
    invoice = make_in_status(make_invoice, status)
    before = (invoice.status, invoice.version)
    response = act(admin, invoice, action, **ACTIONS[action])
    if action in ALLOWED[status]:
        assert response.status_code == 302, response.get_data(as_text=True)
        if action != "delete":
            assert reload(invoice).version == before[1] + 1
        return
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert f"Invoice {invoice.number} is {status}: it cannot be" in text
    after = reload(invoice)
    assert (after.status, after.version) == before


def test_a_refusal_names_the_status_people_see(admin, make_invoice):
    # Stored DUE, due before today (2025-07-15): the list shows it OVER_DUE, and so
    # does the refusal, from the same SQL expression.
    late = make_invoice(status="DUE", due_date=date(2025, 7, 1))
    response = act(admin, late, "delete")
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert f"Invoice {late.number} is OVER_DUE: it cannot be deleted" in text


def test_issue_sets_issue_date_and_due_date_from_terms(admin, make_invoice):
    draft = make_invoice(
        status="DRAFT", issue_date=None, due_date=None, payment_terms_days=30
    )
    assert act(admin, draft, "issue").status_code == 302
    issued = reload(draft)
    assert issued.status == "DUE"
    assert issued.issue_date == date(2025, 7, 15)
    assert issued.due_date == date(2025, 8, 14)


def test_partial_payments_then_paid(admin, make_invoice):
    invoice = make_invoice(payable=Decimal("100.00"), usage_cost=Decimal("100.00"))
    response = act(admin, invoice, "pay", amount="30.00", received_on="2025-07-10")
    assert response.status_code == 302
    invoice = reload(invoice)
    assert (invoice.status, invoice.balance_due) == ("DUE", Decimal("70.00"))
    html = admin.get(f"/billing/invoices/{invoice.number}").get_data(as_text=True)
    assert "$70.00" in html and "Payment recorded; 70.00 USD still due." in html
    response = act(
        admin, invoice, "pay", amount="70.00", received_on="2025-07-12", reference="W1"
    )
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_date) == ("PAID", date(2025, 7, 12))
    assert invoice.balance_due == 0
    assert [p.amount for p in db.session.scalars(db.select(Payment))] == [
        Decimal("30.00"),
        Decimal("70.00"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "100.01"}, "more than the balance due"),
        ({"amount": "0"}, "above zero"),
        ({"amount": "12.345"}, "more decimal places than USD allows"),
        ({"amount": "1e3"}, "is not a number"),
        ({"amount": "NaN"}, "is not a number"),
        ({"received_on": "2025-07-16"}, "cannot be in the future"),
        ({"received_on": "2025-02-30"}, "Not a valid date value"),
    ],
)
def test_bad_payments_are_refused_with_a_reason(admin, make_invoice, data, message):
    invoice = make_invoice(payable=Decimal("100.00"))
    fields = {"amount": "10.00", "received_on": "2025-07-10", **data}
    response = act(admin, invoice, "pay", **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert reload(invoice).amount_paid == 0


def test_cancel_needs_a_reason(admin, make_invoice):
    invoice = make_invoice()
    response = act(admin, invoice, "cancel", reason="  ")
    assert response.status_code == 422
    assert "Say why the invoice is cancelled." in response.get_data(as_text=True)
    assert reload(invoice).status == "DUE"


def test_overdue_invoice_can_be_paid_and_shows_days_overdue(admin, make_invoice):
    invoice = make_invoice(due_date=date(2025, 7, 5))
    page = admin.get("/billing/invoices").get_data(as_text=True)
    assert "10 days overdue" in page
    assert act(admin, invoice, "pay", amount="15.00", received_on="2025-07-15")
    assert reload(invoice).status == "PAID"


STATE_CHANGES = [
    ("post", "/billing/invoices/{n}/issue"),
    ("post", "/billing/invoices/{n}/pay"),
    ("post", "/billing/invoices/{n}/cancel"),
    ("post", "/billing/invoices/{n}/delete"),
    ("post", "/billing/invoices/{n}/edit"),
    ("get", "/billing/invoices/{n}/edit"),
    ("get", "/billing/invoices/new"),
    ("post", "/billing/invoices/new"),
    ("post", "/billing/invoices/draft/lines"),
    ("post", "/billing/invoices/draft/totals"),
    ("get", "/billing/clients/options"),
]


@pytest.mark.parametrize(("method", "path"), STATE_CHANGES)
def test_staff_may_not_change_anything(client, auth, make_invoice, method, path):
    invoice = make_in_status(make_invoice, "DRAFT")
    auth.login("staff")
    data = {"csrf_token": token(client), "version": invoice.version, "reason": "x"}
    url = path.format(n=invoice.number)
    response = client.get(url) if method == "get" else client.post(url, data=data)
    assert response.status_code == 403
    assert "Only a billing admin may do this." in response.get_data(as_text=True)
    assert reload(invoice).version == invoice.version


def test_staff_sees_no_actions_admin_does(client, auth, make_invoice):
    make_in_status(make_invoice, "DRAFT")
    auth.login("staff")
    staff_page = client.get("/billing/invoices").get_data(as_text=True)
    assert "Issue</button>" not in staff_page and "New draft" not in staff_page
    admin_client = client.application.test_client()
    Auth(admin_client).login("admin")
    admin_page = admin_client.get("/billing/invoices").get_data(as_text=True)
    assert "Issue</button>" in admin_page and "New draft" in admin_page


def test_state_changes_need_a_csrf_token(admin, make_invoice):
    invoice = make_invoice()
    response = admin.post(
        f"/billing/invoices/{invoice.number}/cancel",
        data={"version": invoice.version, "reason": "x"},
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    response = admin.post(
        f"/billing/invoices/{invoice.number}/cancel",
        data={"version": invoice.version, "reason": "x", "csrf_token": "forged"},
    )
    assert response.status_code == 400
    assert reload(invoice).status == "DUE"


def test_csrf_token_in_the_htmx_header_is_accepted(admin, make_invoice):
    invoice = make_invoice()
    response = admin.post(
        f"/billing/invoices/{invoice.number}/cancel",
        data={"version": invoice.version, "reason": "Wrong client"},
        headers={"X-CSRFToken": token(admin), "HX-Request": "true"},
    )
    assert response.status_code == 200
    assert reload(invoice).status == "CANCEL"


def test_two_admins_on_one_invoice_second_gets_a_conflict(client, auth, make_invoice):
    invoice = make_invoice(payable=Decimal("100.00"))
    seen_version = invoice.version
    first = client
    auth.login("admin")
    second = client.application.test_client()
    Auth(second).login("admin")
    # Both opened the invoice at the same version; the first records a payment.
    response = act(first, invoice, "pay", amount="100.00", received_on="2025-07-10")
    assert response.status_code == 302
    stale = Invoice(id=invoice.id, number=invoice.number, version=seen_version)
    response = act(second, stale, "cancel", reason="Mistake")
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "is PAID: it cannot be cancelled" in text
    invoice = reload(invoice)
    assert invoice.status == "PAID" and invoice.cancel_reason == ""


def test_stale_version_is_a_conflict_even_when_the_status_allows(
    client, auth, make_invoice
):
    invoice = make_invoice(payable=Decimal("100.00"))
    auth.login("admin")
    stale = Invoice(id=invoice.id, number=invoice.number, version=invoice.version)
    assert act(client, invoice, "pay", amount="10.00", received_on="2025-07-10")
    response = act(client, stale, "pay", amount="10.00", received_on="2025-07-10")
    assert response.status_code == 409
    assert "changed by someone else" in response.get_data(as_text=True)
    assert reload(invoice).amount_paid == Decimal("10.00")


def test_htmx_row_action_swaps_the_row_and_the_counts(admin, make_invoice):
    draft = make_in_status(make_invoice, "DRAFT")
    make_in_status(make_invoice, "DUE")
    response = admin.post(
        f"/billing/invoices/{draft.number}/issue",
        data={"version": draft.version, "answer": "row", "status": "ALL"},
        headers={"X-CSRFToken": token(admin), "HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="invoice-{draft.id}">')
    assert 'class="badge badge-due">DUE<' in html
    assert re.search(r'<option value="DUE"\s*>DUE \(2\)', html)
    assert re.search(r'<option value="DRAFT"\s*>DRAFT \(0\)', html)
    assert f"Invoice {draft.number} issued; due 2025-07-31." in html


@pytest.mark.parametrize("action", ["issue", "pay", "cancel"])
def test_row_action_with_invalid_filters_changes_nothing_and_says_why(
    admin, make_invoice, action
):
    # The screen can hold From after To; the row's form includes those filters.
    invoice = make_in_status(make_invoice, "DRAFT" if action == "issue" else "DUE")
    before = (invoice.status, invoice.version, invoice.amount_paid)
    response = admin.post(
        f"/billing/invoices/{invoice.number}/{action}",
        data={
            "version": invoice.version,
            "answer": "row",
            "status": "ALL",
            "date_from": "2025-06-30",
            "date_to": "2025-06-01",
            **ACTIONS[action],
        },
        headers={"X-CSRFToken": token(admin), "HX-Request": "true"},
    )
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "nothing was changed" in text
    assert "date_to" in text or "To" in text
    after = reload(invoice)
    assert (after.status, after.version, after.amount_paid) == before
    assert (
        db.session.scalar(
            db.select(db.func.count(AuditEvent.id)).where(
                AuditEvent.invoice_number == invoice.number
            )
        )
        == 0
    )


@pytest.mark.parametrize("payable", ["0.00", "-25.00"])
def test_issuing_a_draft_with_nothing_to_pay_makes_it_paid(
    admin, make_invoice, payable
):
    # A zero invoice or a credit note: nobody will ever pay it, so it must not sit
    # DUE and then OVER_DUE for ever.
    draft = make_in_status(make_invoice, "DRAFT")
    draft.payable = Decimal(payable)
    draft.adjustment = Decimal(payable) - draft.usage_cost
    db.session.commit()
    response = act(admin, draft, "issue")
    assert response.status_code == 302
    html = admin.get(response.location).get_data(as_text=True)
    assert f"Invoice {draft.number} issued with nothing to pay: it is PAID." in html
    after = reload(draft)
    assert after.status == "PAID"
    assert after.issue_date == after.paid_date == date(2025, 7, 15)
    assert after.amount_paid == 0 and after.balance_due == 0
    assert after.payments == []
    (event,) = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.invoice_number == draft.number)
    ).all()
    assert event.action == "issue"
    assert event.changes["status"] == ["DRAFT", "PAID"]
    assert event.changes["paid_date"] == [None, "2025-07-15"]
    assert "nothing to pay" in event.note
    # Final, like any PAID invoice.
    assert (
        act(admin, after, "pay", amount="1.00", received_on="2025-07-15").status_code
        == 409
    )


def test_htmx_conflict_is_a_plain_message(admin, make_invoice):
    invoice = make_in_status(make_invoice, "PAID")
    response = admin.post(
        f"/billing/invoices/{invoice.number}/cancel",
        data={"version": invoice.version, "reason": "x"},
        headers={"X-CSRFToken": token(admin), "HX-Request": "true"},
    )
    assert response.status_code == 409
    assert response.mimetype == "text/plain"
    assert "PAID is final" in response.get_data(as_text=True)


def test_every_change_is_audited_with_before_and_after(admin, make_invoice):
    invoice = make_in_status(make_invoice, "DRAFT")
    act(admin, invoice, "issue")
    invoice = reload(invoice)
    act(admin, invoice, "pay", amount="5.00", received_on="2025-07-15")
    invoice = reload(invoice)
    assert act(admin, invoice, "cancel", reason="Client closed").status_code == 302
    db.session.commit()  # end the test's read snapshot
    events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor) for e in events] == [
        ("issue", "admin@example.test"),
        ("payment", "admin@example.test"),
        ("cancel", "admin@example.test"),
    ]
    assert events[0].changes["status"] == ["DRAFT", "DUE"]
    assert events[0].changes["issue_date"] == [None, "2025-07-15"]
    assert events[1].changes["amount_paid"] == ["0.00", "5.00"]
    assert events[2].changes["status"] == ["DUE", "CANCEL"]
    assert events[2].note == "Client closed"
    html = admin.get(f"/billing/invoices/{invoice.number}").get_data(as_text=True)
    timeline = html[html.index('id="timeline-heading"') :]
    order = [
        timeline.index(f"<strong>{a}</strong>") for a in ("Cancel", "Payment", "Issue")
    ]
    assert order == sorted(order)
    assert "DRAFT → DUE" in timeline


def test_mark_overdue_cli_is_idempotent_and_audited(app, make_invoice):
    late = make_invoice(due_date=date(2025, 7, 1))
    make_invoice(due_date=date(2025, 7, 15))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["invoices", "mark-overdue"])
    assert result.exit_code == 0, result.output
    assert "Marked 1 invoice OVER_DUE" in result.output
    assert reload(late).status == "OVER_DUE"
    again = runner.invoke(args=["invoices", "mark-overdue"])
    assert "Marked 0 invoices OVER_DUE" in again.output
    db.session.commit()
    (event,) = db.session.scalars(db.select(AuditEvent)).all()
    assert (event.action, event.invoice_id) == ("mark-overdue", late.id)
