"""DUE past its due date reads as OVER_DUE everywhere, from the day after it is due."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine


@pytest.fixture
def due_on_15th(make_invoice):
    return make_invoice(number="INV-15", status="DUE", due_date=date(2025, 7, 15))


def api_status(client):
    items = client.get("/api/invoices").json["items"]
    return {item["number"]: item["status"] for item in items}


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2025, 7, 15, 0, 0, tzinfo=UTC), "DUE"),
        (datetime(2025, 7, 15, 23, 59, tzinfo=UTC), "DUE"),
        (datetime(2025, 7, 16, 0, 0, tzinfo=UTC), "OVER_DUE"),
    ],
)
def test_due_date_day_itself_is_not_overdue(
    client, auth, due_on_15th, moment, expected
):
    with time_machine.travel(moment, tick=False):
        auth.login()
        assert api_status(client) == {"INV-15": expected}


def test_today_follows_the_configured_timezone(app_factory, make_invoice):
    kiritimati = app_factory(TIMEZONE="Pacific/Kiritimati")  # UTC+14
    with kiritimati.app_context():
        make_invoice(number="INV-15", status="DUE", due_date=date(2025, 7, 15))
        from tests.conftest import Auth

        client = kiritimati.test_client()
        # 11:00 UTC on the 15th is already the 16th in Kiritimati.
        with time_machine.travel(datetime(2025, 7, 15, 11, 0, tzinfo=UTC), tick=False):
            Auth(client).login()
            assert api_status(client) == {"INV-15": "OVER_DUE"}
            assert client.get("/api/invoices?status=OVER_DUE").json["total"] == 1
            assert client.get("/api/invoices?status=DUE").json["total"] == 0


def test_overdue_shows_in_table_counts_and_filters(
    client, auth, due_on_15th, make_invoice
):
    make_invoice(number="INV-31", status="DUE", due_date=date(2025, 7, 31))
    with time_machine.travel(datetime(2025, 7, 20, tzinfo=UTC), tick=False):
        auth.login()
        html = client.get("/billing/invoices").get_data(as_text=True)
        overdue_only = client.get("/billing/invoices?status=OVER_DUE").get_data(
            as_text=True
        )
    assert re.search(r'<option value="OVER_DUE"\s*>OVER_DUE \(1\)', html)
    assert re.search(r'<option value="DUE"\s*>DUE \(1\)', html)
    assert 'class="badge badge-over_due">OVER_DUE<' in html
    assert "INV-15" in overdue_only and "INV-31" not in overdue_only
