"""Benchmark background XLSX exports against the streamed export, run by hand.

    .venv/bin/python benchmarks/exports_background.py                 # 100k, 200k
    .venv/bin/python benchmarks/exports_background.py --invoices 100000 1000000
    DATABASE_URL=postgresql://... .venv/bin/python benchmarks/exports_background.py

For each size N: seeds N demo invoices (benchmarks/exports.py's seeder, into a
fresh SQLite file or DATABASE_URL, whose tables are dropped first), then in the
same run
- the streamed export (GET /billing/invoices/export.xlsx through the Flask
  view, in a child process: exports.py's measurement), and
- the background export of the same list: a real `flask jobs worker` process
  (one thread) started afresh, warmed up by one export that matches nothing
  (as the streamed case is), then the job queued through queue_export() as the
  view does; seconds from the job's started_at to its finished_at, rows per
  second, and the worker's peak RSS (VmHWM, reset after the warm-up) and its
  growth over the warmed-up worker.
The two growths staying alike from N to 10 N is the proof that the worker's
memory does not grow with the rows.

With --rounds R the two are measured R times each, alternately (streamed,
background, streamed, …), so a change of the machine's load falls on both;
the figure is the median of the R rounds' ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.exports import EMAIL, make_app, run_child, seed, table  # noqa: E402


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def checkpoint() -> None:
    """Fold SQLite's write-ahead log into the database after seeding.

    A seed leaves hundreds of MB of WAL behind; the first process to open the
    file later would recover it while holding the lock, past the busy timeout
    of the next writer.
    """

    from invoice_app.extensions import db

    app = make_app()
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.engine.dispose()


def measure_background() -> dict:
    """One background export of every invoice by a fresh worker process."""
    from sqlalchemy import select

    from invoice_app import tenancy
    from invoice_app.export_jobs.queueing import queue_export
    from invoice_app.extensions import db
    from invoice_app.filters import InvoiceFilters
    from invoice_app.models import ExportJob, User

    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"]
        + ["--workers", "1"],
        cwd=ROOT,
        env=os.environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        app = make_app()
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == EMAIL))
            scope = tenancy.scope_for(user)

            def export(filters: InvoiceFilters) -> ExportJob:
                job_id = queue_export(user, scope, filters, "xlsx").id
                while True:
                    db.session.rollback()
                    job = db.session.get(ExportJob, job_id)
                    if job.status not in ("queued", "running"):
                        assert job.status == "done", (job.status, job.error)
                        return job
                    time.sleep(0.05)

            # Warm up (imports, first queries), as the streamed case does.
            export(InvoiceFilters(q="[no-such-invoice]"))
            idle_kb = _status_kb(worker.pid, "VmRSS")
            # Peak RSS afresh from here (Linux 4.0+; the same user or root).
            Path(f"/proc/{worker.pid}/clear_refs").write_text("5")
            job = export(InvoiceFilters())
            peak_kb = _status_kb(worker.pid, "VmHWM")
            return {
                "rows": job.rows_done,
                "seconds": (job.finished_at - job.started_at).total_seconds(),
                "bytes": job.size_bytes,
                "peak_mb": peak_kb / 1024,
                "growth_mb": (peak_kb - idle_kb) / 1024,
            }
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, nargs="+", default=[100_000, 200_000])
    parser.add_argument("--rounds", type=int, default=1, help="alternate R times")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="invoice-bench-bg-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    # The worker process and this one share the queue and the export folder.
    os.environ["JOBS_SQLITE_PATH"] = str(workdir / "jobs.sqlite3")
    os.environ["EXPORT_DIR"] = str(workdir / "exports")
    os.environ["JOBS_QUEUE"] = f"bench-{workdir.name}"
    os.environ.setdefault("SECRET_KEY", "benchmark")
    os.environ.setdefault("APP_ENV", "test")
    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")

    table("XLSX", "rows", "seconds", "rows/s", "peak MB", "growth MB")
    for count in args.invoices:
        seed(count)
        checkpoint()
        ratios = []
        for round_ in range(1, args.rounds + 1):
            streamed = run_child("xlsx", "")
            background = measure_background()
            for label, r in (("streamed", streamed), ("background", background)):
                table(
                    f"{label} {count:,} #{round_}",
                    f"{r['rows']:,}",
                    f"{r['seconds']:.2f}",
                    f"{r['rows'] / r['seconds']:,.0f}",
                    f"{r['peak_mb']:.0f}",
                    f"{r['growth_mb']:.1f}",
                )
            ratios.append(
                (background["rows"] / background["seconds"])
                / (streamed["rows"] / streamed["seconds"])
            )
        print(
            f"background / streamed rows per second at {count:,}: "
            f"median {statistics.median(ratios):.2f} of "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + "; load average "
            + " ".join(f"{x:.1f}" for x in os.getloadavg())
        )
        for leftover in (workdir / "exports").glob("*.xlsx"):
            leftover.unlink()


if __name__ == "__main__":
    main()
