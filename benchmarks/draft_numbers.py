"""The next draft number of a full month, against the REGEXP form it replaced.

    .venv/bin/python benchmarks/draft_numbers.py                  # seed.py's SQLite
    .venv/bin/python benchmarks/draft_numbers.py \\
        --database postgresql://postgres@127.0.0.1/bench_scale_1000000

Reads a database seeded by seed.py (never writes to it; migrate it to head
first for PostgreSQL's ix_invoice_number_pattern). The month with the most
invoices of the measured tenant is numbered: drafts._next_number() as the app
runs it, and in the same run the statement it replaced (a LIKE and a REGEXP,
which on SQLite calls back into Python for every row of the tenant's numbers
that start like the prefix). Both must give the same number. Prints the median
ms of each and their ratio; the machine is noisy, the ratio is the figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("APP_ENV", "test")


def _median_ms(call, runs: int) -> tuple[float, str]:
    result, times = None, []
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    from seed import default_url, make_app
    from sqlalchemy import BigInteger, cast, func, select

    from invoice_app import drafts, tenancy
    from invoice_app.extensions import db
    from invoice_app.models import DEFAULT_TENANT_SLUG, Invoice

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=default_url(1_000_000))
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    app = make_app(args.database)
    with app.app_context(), tenancy.use(tenancy.tenant_scope(DEFAULT_TENANT_SLUG)):
        period, invoices = db.session.execute(
            select(Invoice.billing_period, func.count())
            .group_by(Invoice.billing_period)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        prefix = f"INV-{period:%Y%m}-"
        sequence = func.substr(Invoice.number, len(prefix) + 1)
        replaced = select(func.max(cast(sequence, BigInteger))).where(
            Invoice.number.like(f"{prefix}%"),
            Invoice.number.regexp_match(f"^{prefix}[0-9]{{1,18}}$"),
        )

        def before() -> str:
            return f"{prefix}{(db.session.scalar(replaced) or 0) + 1:06d}"

        def now() -> str:
            return drafts._next_number(period)

        print(
            f"{args.database}: {invoices:,} invoices in {period:%Y-%m}; "
            "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
        )
        old_ms, old_number = _median_ms(before, args.runs)
        new_ms, new_number = _median_ms(now, args.runs)
        assert old_number == new_number, (old_number, new_number)
        print(f"next number {new_number}")
        print(f"{'REGEXP (before)':24}{old_ms:10.1f} ms")
        print(f"{'_next_number (now)':24}{new_ms:10.1f} ms")
        print(f"{'now / before':24}{new_ms / old_ms:10.2f}")


if __name__ == "__main__":
    main()
