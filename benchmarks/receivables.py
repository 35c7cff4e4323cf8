"""Time the receivables overview against the bare SQL of the same buckets.

    .venv/bin/python benchmarks/receivables.py --database sqlite:////tmp/copy.sqlite3
    .venv/bin/python benchmarks/receivables.py \\
        --database postgresql://postgres@127.0.0.1:5432/im_overview

The database must hold benchmarks/seed.py's demo invoices (it is reused, never
reseeded here; without --database, the SQLite file seed.py makes for
--invoices, seeded when missing). Its schema is brought to the newest
migration first (0009 adds the overview's indexes; nothing else changes).

For each request, after a warm-up, the median and p95 of the server time
(in-process through the WSGI app: session, parsing, queries, JSON or template)
and, for the aging figures, the floor: the bare SQL of the same buckets (the
statements aging() runs, confined to the tenant, with literal values, straight
through the driver), and the ratio app/floor. Targets (issue 12): as of today
150 ms median, as of a past day 1 s.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from invoice_list import _signed_in_client, _timed  # noqa: E402
from seed import default_url, ensure_seeded, make_app  # noqa: E402


def _bare_aging(app, day):
    """The buckets of aging(day) as bare SQL through the driver (no ORM, no Flask)."""
    from sqlalchemy import func, select

    from invoice_app import tenancy
    from invoice_app.extensions import db
    from invoice_app.models import DEFAULT_TENANT_SLUG, Invoice
    from invoice_app.receivables import _branches, balance_on, bucket_of, owes_on

    with app.app_context(), tenancy.use(tenancy.tenant_scope(DEFAULT_TENANT_SLUG)):
        bucket, balance = bucket_of(day), balance_on(day)
        statements = []
        for branch in _branches(day):
            stmt = tenancy.confine(
                select(Invoice.currency, bucket, func.count(), func.sum(balance))
                .where(*branch, owes_on(day))
                .group_by(Invoice.currency, bucket)
            )
            compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
            statements.append(str(compiled))
        connection = db.engine.raw_connection()
        if db.engine.dialect.name == "postgresql":
            # As aging() runs them (receivables._without_jit).
            connection.cursor().execute("SET jit = off")

    def run() -> None:
        cursor = connection.cursor()
        for sql in statements:
            cursor.execute(sql)
            cursor.fetchall()
        cursor.close()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: seed.py's file)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    url = args.database or default_url(args.invoices)
    if not args.database:
        ensure_seeded(url, args.invoices)
    app = make_app(url)
    from flask_migrate import upgrade

    from invoice_app.clock import today

    with app.app_context():
        upgrade()
        day = today()
    client = _signed_in_client(app)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{url}; today {day}; load average {load}")
    cases = [
        ("API, as of today", "/api/receivables", day, {}),
        ("API, 30 days ago", "/api/receivables", day - timedelta(days=30), None),
        ("API, 180 days ago", "/api/receivables", day - timedelta(days=180), None),
        ("API, 365 days ago", "/api/receivables", day - timedelta(days=365), None),
        ("page, as of today", "/billing/overview", day, {}),
        ("page, 180 days ago", "/billing/overview", day - timedelta(days=180), None),
        ("chart fragment, today", "/billing/overview/chart", day, {}),
    ]
    print(f"{'request':<26}{'median ms':>11}{'p95 ms':>9}{'SQL ms':>9}{'app/SQL':>9}")
    for name, path, as_of, query in cases:
        query = {"as_of": as_of.isoformat()} if query is None else query
        headers = {"HX-Request": "true"} if "fragment" in name else {}

        def get(path=path, query=query, headers=headers):
            response = client.get(path, query_string=query, headers=headers)
            assert response.status_code == 200, response.status_code

        median, p95 = _timed(get, args.runs, args.warmup)
        line = f"{name:<26}{median:>11.1f}{p95:>9.1f}"
        if path == "/api/receivables":
            floor, _ = _timed(_bare_aging(app, as_of), args.runs, args.warmup)
            line += f"{floor:>9.1f}{median / floor:>9.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
