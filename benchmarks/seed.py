"""Seed a fresh database with N demo invoices, timed; shared by the other scripts.

    .venv/bin/python benchmarks/seed.py --invoices 1000000
    .venv/bin/python benchmarks/seed.py --invoices 1000000 \\
        --database postgresql://postgres@127.0.0.1/bench_scale

The database's tables are dropped first (never point it at data you keep), then
migrated and filled through invoice_app.demo.load, the code behind
`flask demo seed`: N invoices in the default tenant, whose user the benchmarks
sign in as, and a quarter as many in a neighbouring tenant, so every figure is
measured with tenant scoping doing its work (the neighbour's rows share every
index and must be skipped). Prints wall time and the CPU time of this process and, on
PostgreSQL, of the server process that did the work.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("APP_ENV", "test")


def default_url(invoices: int) -> str:
    """A SQLite file per size in the temp directory, so later runs can reuse it."""
    return (
        f"sqlite:///{Path(tempfile.gettempdir()) / f'invoice-bench-{invoices}.sqlite3'}"
    )


def make_app(url: str):
    """The app on url, read the way the app reads DATABASE_URL (driver and all)."""
    from invoice_app import create_app

    os.environ["DATABASE_URL"] = url
    return create_app({"TESTING": True})


# The other tenant of a benchmark database, with a quarter as many invoices.
NEIGHBOUR = "neighbour"


def invoice_count(url: str) -> int:
    """How many invoices the default tenant holds (0 when it has no schema)."""
    from sqlalchemy import func, inspect, select

    from invoice_app.extensions import db
    from invoice_app.models import DEFAULT_TENANT_SLUG, Invoice, Tenant

    with make_app(url).app_context():
        tables = inspect(db.engine)
        if "invoice_tally" not in tables.get_table_names():
            return 0
        if "tenant_id" not in {c["name"] for c in tables.get_columns("invoice")}:
            return 0  # from before tenants: seed afresh
        return db.session.scalar(
            select(func.count())
            .select_from(Invoice)
            .join(Tenant, Invoice.tenant_id == Tenant.id)
            .where(Tenant.slug == DEFAULT_TENANT_SLUG)
        )


def _drop_everything(url: str) -> None:
    from invoice_app.database import drop_everything
    from invoice_app.extensions import db

    with make_app(url).app_context():
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()
            path = db.engine.url.database
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
            return
        drop_everything()
        db.engine.dispose()


def _server_cpu_seconds(connection) -> float | None:
    """CPU seconds of this session's PostgreSQL backend (same machine only)."""
    from sqlalchemy import text

    pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed_fresh(url: str, invoices: int, today: date | None = None) -> dict:
    """Drop, migrate and seed; returns wall and CPU seconds."""
    from flask_migrate import upgrade

    from invoice_app import tenancy
    from invoice_app.demo.load import seed_demo
    from invoice_app.extensions import db

    _drop_everything(url)
    app = make_app(url)
    with app.app_context():
        upgrade()
        # The neighbour first, into empty tables: both loads then take the
        # bulk path (indexes rebuilt once on PostgreSQL).
        neighbours = invoices // 4
        with tenancy.use(tenancy.tenant_scope(NEIGHBOUR, create=True)):
            seed_demo(neighbours, today or date.today(), seed=7)
        db.session.commit()
        print(f"  {neighbours:>9,} invoices of tenant {NEIGHBOUR!r}", flush=True)
        server_before = None
        if db.engine.dialect.name == "postgresql":
            server_before = _server_cpu_seconds(db.session.connection())
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()

        def progress(added: int) -> None:
            if added % 100_000 == 0:
                elapsed = time.perf_counter() - started
                print(f"  {added:>9,} invoices  {elapsed:6.1f} s", flush=True)

        added = seed_demo(invoices, today or date.today(), progress=progress)
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        result = {
            "invoices": added,
            "wall": wall,
            "python_cpu": (cpu_after.ru_utime - cpu_before.ru_utime)
            + (cpu_after.ru_stime - cpu_before.ru_stime),
        }
        if server_before is not None:
            server_after = _server_cpu_seconds(db.session.connection())
            if server_after is not None:
                result["server_cpu"] = server_after - server_before
    return result


def ensure_seeded(url: str, invoices: int, reseed: bool = False) -> None:
    """Seed unless the database already holds exactly that many invoices."""
    if not reseed and invoice_count(url) == invoices:
        print(f"reusing {invoices:,} invoices in {url}")
        return
    print(f"seeding {invoices:,} invoices into {url}")
    report(seed_fresh(url, invoices))


def report(result: dict) -> None:
    line = (
        f"seeded {result['invoices']:,} invoices in {result['wall']:.1f} s wall"
        f" (Python CPU {result['python_cpu']:.1f} s"
    )
    if "server_cpu" in result:
        line += f", PostgreSQL backend CPU {result['server_cpu']:.1f} s"
    print(line + ")", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a SQLite file)")
    args = parser.parse_args()
    url = args.database or default_url(args.invoices)
    print(f"seeding {args.invoices:,} invoices into {url}; load average", end=" ")
    print(" ".join(f"{x:.1f}" for x in os.getloadavg()))
    report(seed_fresh(url, args.invoices))


if __name__ == "__main__":
    main()
