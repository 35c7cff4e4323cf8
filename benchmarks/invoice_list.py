"""Time the invoice table (htmx fragment) and the JSON API at growing sizes.

    .venv/bin/python benchmarks/invoice_list.py                      # SQLite
    .venv/bin/python benchmarks/invoice_list.py --sizes 10000,100000
    .venv/bin/python benchmarks/invoice_list.py \\
        --database postgresql://postgres@127.0.0.1/bench_scale_{size}

For each size, a database holding exactly that many demo invoices is reused, or
else dropped, migrated and seeded (benchmarks/seed.py). `{size}` in --database
is replaced by the size; without it one database is reseeded per size. Then, for
each request below, after a warm-up, the median and p95 of the server time
(in-process, through the WSGI app: session, parsing, page, counts, totals,
template or JSON; for a search the fragment holds the rows and "summary"
times the second fragment, /billing/invoice-summary, with the status counts
and totals) next to the floor: the bare SQL that fetches the same page of
rows (the app's own statement, the one page_of() runs: for a search the walk
when it fills the page, else page_query(); straight through the driver), and
the ratio app/floor. "naive" is the plain ORDER BY … LIMIT … OFFSET over
invoice_query() through the driver, for comparison; "count" the bare count of
the invoices the list matches (one count(*), no groups, no totals, no rows), the
baseline of broad searches, with the ratio app/count. --only broad,search runs
the requests whose names hold one of those words. Absolute times on a shared
machine are noisy; ratios less so. Last, how each median grows with the size.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import default_url, ensure_seeded, make_app  # noqa: E402

EMAIL = "bench@example.test"


def requests(today: date) -> dict[str, dict]:
    """The measured lists: the issue's targets, and a broad search for honesty."""
    return {
        "first page, no filter": {},
        "status OVER_DUE": {"status": "OVER_DUE"},
        "status PAID": {"status": "PAID"},
        "due date: last 30 days": {
            "date_field": "due",
            "date_from": (today - timedelta(days=29)).isoformat(),
            "date_to": today.isoformat(),
        },
        "search: a client (3+ chars)": {"q": "quokka pty #17"},
        "search: an invoice number": {"q": "-004242"},
        "search: 1 in 24 invoices": {"q": "müller"},
        "search: 2 characters": {"q": "ök"},
        "page 2,000": {"page": "2000"},
        # Broad searches (issue 14): as many matches as the table makes.
        "broad: half a client name": {"q": "Blue Harbor L"},
        "broad: a client e-mail": {"q": "billing+tanaka"},
        "broad: e-mail domain (all)": {"q": "@example.com"},
        "broad: number prefix (month)": {"q": "INV-202507"},
        # The same month, not at the start of the number: search_text's part.
        "broad: number inside (month)": {"q": "202507"},
        "broad: a word in notes": {"q": "quarterly"},
        "broad: 3 characters": {"q": "ora"},
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _timed(call, runs: int, warmup: int) -> tuple[float, float]:
    """Median and p95 in ms; slow calls get fewer runs (at least 5, about 3 s)."""
    for _ in range(max(1, warmup)):
        started = time.perf_counter()
        call()
        once = time.perf_counter() - started
    runs = max(5, min(runs, int(3 / max(once, 1e-6))))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), _percentile(times, 0.95)


def _signed_in_client(app):
    from invoice_app.extensions import db
    from invoice_app.models import Role, User

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == EMAIL))
        if user is None:
            # No password can match "!": the session below signs the user in.
            user = User(email=EMAIL, role=Role.STAFF.value, password_hash="!")  # noqa: S106
            db.session.add(user)
            db.session.commit()
        user_id = str(user.id)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    return client


def _bare(app, args: dict, kind: str):
    """SQL alone, through the driver: the app's page, the naive OFFSET, or a count.

    "count" is the plain count of the invoices the list matches (no status
    groups, no totals): the baseline a broad search is held against.
    """
    from sqlalchemy import func, select
    from werkzeug.datastructures import MultiDict

    from invoice_app import tenancy
    from invoice_app.clock import today
    from invoice_app.extensions import db
    from invoice_app.filters import parse_filters
    from invoice_app.models import DEFAULT_TENANT_SLUG, Invoice
    from invoice_app.queries import (
        _scanning,
        _where,
        invoice_query,
        page_budget,
        page_query,
        walked_page_query,
    )

    with app.app_context(), tenancy.use(tenancy.tenant_scope(DEFAULT_TENANT_SLUG)):
        filters = parse_filters(MultiDict(args))
        if kind == "naive":
            stmt = invoice_query(filters, today()).limit(filters.per_page)
            stmt = stmt.offset((filters.page - 1) * filters.per_page)
        elif kind == "count":
            stmt = select(func.count(Invoice.id)).where(*_where(filters, today()))
        else:
            stmt = page_query(filters, today())
            if filters.q:
                # What page_of() runs: the walk, when it fills the page.
                walk = walked_page_query(filters, today(), page_budget(filters))
                if len(db.session.execute(walk).all()) == filters.per_page:
                    stmt = walk
        # Confined to the tenant as the app's requests are (tenancy.py).
        stmt = tenancy.confine(_scanning(filters, stmt))
        # Literal values; with psycopg a % shows doubled, which LIKE reads the same.
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        connection = db.engine.raw_connection()

    def run() -> None:
        cursor = connection.cursor()
        cursor.execute(sql)
        cursor.fetchall()
        cursor.close()

    return run


def measure(
    url: str, runs: int, warmup: int, only: list[str]
) -> dict[str, dict[str, float]]:
    from invoice_app.clock import today

    app = make_app(url)
    # One JSON line per request would drown the table (and migrating, as the
    # seeding does, re-enables loggers: so here, after it).
    logging.getLogger("invoice_app.request").disabled = True
    client = _signed_in_client(app)
    with app.app_context():
        day = today()
    results = {}
    print(
        f"{'request':30} {'':8} {'median':>7} {'p95':>7} {'floor':>7}"
        f" {'p95':>7} {'app/floor':>9} {'naive':>8} {'count':>7} {'app/count':>9}"
        "   (ms)"
    )
    for name, args in requests(day).items():
        if only and not any(word in name for word in only):
            continue
        floor, floor_p95 = _timed(_bare(app, args, "page"), runs, warmup)
        naive, _ = _timed(_bare(app, args, "naive"), runs, 1)
        counted, _ = _timed(_bare(app, args, "count"), runs, 1)
        htmx = {"HX-Request": "true"}
        kinds = [("fragment", "/billing/invoices", htmx)]
        if args.get("q"):
            # A search's fragment has its rows only; this second request its counts.
            kinds.append(("summary", "/billing/invoice-summary", htmx))
        kinds.append(("API", "/api/invoices", {}))
        for kind, path, headers in kinds:

            def get(path=path, headers=headers, args=args):
                response = client.get(path, query_string=args, headers=headers)
                assert response.status_code == 200, response.status_code

            median, p95 = _timed(get, runs, warmup)
            results[f"{name} ({kind})"] = {"median": median, "p95": p95}
            print(
                f"{name:30} {kind:8} {median:7.1f} {p95:7.1f} {floor:7.1f}"
                f" {floor_p95:7.1f} {median / floor:9.1f} {naive:8.1f}"
                f" {counted:7.1f} {median / counted:9.2f}",
                flush=True,
            )
        results[f"{name} (floor)"] = {"median": floor, "p95": floor_p95}
        results[f"{name} (count)"] = {"median": counted, "p95": counted}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--database", help="SQLAlchemy URL; {size} is replaced")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--reseed", action="store_true", help="even if sizes match")
    parser.add_argument(
        "--only", default="", help="comma-separated words: requests named with one"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    growth = {}
    for size in sizes:
        url = (args.database or default_url(size)).replace("{size}", str(size))
        print(f"\n== {size:,} invoices, {url}; load average", end=" ")
        print(" ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
        ensure_seeded(url, size, reseed=args.reseed)
        only = [word for word in args.only.split(",") if word]
        growth[size] = measure(url, args.runs, args.warmup, only)
    if len(sizes) > 1:
        print("\nmedian ms by size")
        print(f"{'request':40}" + "".join(f"{s:>12,}" for s in sizes))
        for name in growth[sizes[0]]:
            cells = "".join(f"{growth[s][name]['median']:12.1f}" for s in sizes)
            print(f"{name:40}{cells}")


if __name__ == "__main__":
    main()
