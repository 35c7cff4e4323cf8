"""Benchmark the list PDF: made at once (the view) and in parts (the worker).

    .venv/bin/python benchmarks/list_pdf.py                    # 100,000 invoices
    .venv/bin/python benchmarks/list_pdf.py --invoices 20000 --sync 1000 5000
    DATABASE_URL=postgresql://... .venv/bin/python benchmarks/list_pdf.py

Seeds N demo invoices into a fresh SQLite file (or DATABASE_URL, emptied first)
and tags subsets of the sizes measured; then each case runs in a process of its
own, so that its peak memory (VmHWM, reset after a warm-up) is its own:

- GET /billing/invoices/export.pdf (one document) of 1,000, 2,000 and 5,000
  rows (PDF_MAX_ROWS raised for it): seconds, CPU seconds, rows per second, the
  per-row CPU time of each size against the first one's (1.00 is linear), peak
  RSS;
- the background export's task (running.run_export, the worker's own code, in
  parts of PDF_PART_PAGES=20) for 2,000, 20,000 rows and every invoice: the
  same, and pages, file size, and the growth of peak RSS over the warmed-up
  process.

Two cores are shared with other work on the benchmark machine: the load average
is printed beside each figure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from exports import EMAIL, PASSWORD, peak_mb, reset_peak, rss_mb  # noqa: E402

SYNC_SIZES = (1000, 2000, 5000)
BACKGROUND_SIZES = (2000, 20000)


def _tag(size: int) -> str:
    return f"[rows{size}]"


def make_app(**config):
    os.environ.setdefault("SECRET_KEY", "benchmark")
    os.environ.setdefault("APP_ENV", "test")
    from invoice_app import create_app

    return create_app(
        {
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # Room for the largest synchronous case; renders never time out.
            "PDF_MAX_ROWS": max(SYNC_SIZES),
            "PDF_RENDER_TIMEOUT": 3600,
            **config,
        }
    )


def seed(count: int, sizes: list[int]) -> None:
    """Empty the database, bulk-insert count demo invoices, tag the subsets."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from invoice_app.database import drop_everything
    from invoice_app.demo.load import seed_demo
    from invoice_app.extensions import db
    from invoice_app.models import Role, User

    app = make_app()
    with app.app_context():
        drop_everything()
        upgrade()
        user = User(email=EMAIL, role=Role.STAFF.value)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        started = time.perf_counter()
        seed_demo(count, date.today())
        for size in sizes:
            db.session.execute(
                text(
                    "UPDATE invoice SET notes = notes || :tag, "
                    "search_text = search_text || :tag "
                    f"WHERE id IN (SELECT id FROM invoice ORDER BY id LIMIT {size})"
                ),
                {"tag": f" {_tag(size)}"},
            )
        db.session.commit()
        print(f"seeded {count:,} invoices in {time.perf_counter() - started:.1f} s")


def measure_sync(size: str) -> dict:
    """GET /billing/invoices/export.pdf of the subset of size rows."""
    from pypdf import PdfReader

    app = make_app()
    with app.app_context():
        client = app.test_client()
        client.post("/login", data={"email": EMAIL, "password": PASSWORD})
        # Warm up: a worker has imported the renderer and read the fonts already.
        warm = client.get("/billing/invoices/export.pdf?q=[no-such-invoice]")
        assert warm.status_code == 200, warm.status_code
        reset_peak()
        base = rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/billing/invoices/export.pdf?q={_tag(int(size))}")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = peak_mb()  # before the response is read back for its pages
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        pages = len(PdfReader(io.BytesIO(response.get_data())).pages)
    return {
        "rows": int(size),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "pages": pages,
        "peak_mb": peak,
        "growth_mb": peak - base,
    }


def measure_background(size: str, warm: str = "0") -> dict:
    """The worker's task for a PDF export of size rows (0: every invoice), after
    one of warm rows: so the peak's growth is what more rows cost, not what the
    first render loads once (the CJK font alone is tens of MB)."""
    import secrets

    from pypdf import PdfReader

    from invoice_app.export_jobs.running import run_export
    from invoice_app.extensions import db
    from invoice_app.models import ExportJob, User

    folder = tempfile.mkdtemp(prefix="list-pdf-bench-")
    app = make_app(EXPORT_DIR=folder)
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == EMAIL))

        def run(query: str) -> ExportJob:
            job = ExportJob(
                id=secrets.token_urlsafe(16),
                user_id=user.id,
                tenant_id=user.tenant_id,
                client_ids=None,
                filters={"q": query} if query else {},
                format="pdf",
                status="queued",
                rows_done=0,
                error="",
                attempts=0,
            )
            db.session.add(job)
            db.session.commit()
            run_export(job.id)
            db.session.expire_all()
            return db.session.get(ExportJob, job.id)

        run(_tag(int(warm)) if int(warm) else "[no-such-invoice]")  # warm up
        reset_peak()
        base = rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        job = run(_tag(int(size)) if int(size) else "")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        # The worker's peak, taken before the file is read back to count its
        # pages (which holds the whole file in memory).
        peak = peak_mb()
        assert job.status == "done", job.error
        path = Path(folder) / job.file_path
        pages = len(PdfReader(path).pages)
        return {
            "rows": job.rows_done,
            "seconds": seconds,
            "cpu_seconds": cpu,
            "pages": pages,
            "bytes": path.stat().st_size,
            "peak_mb": peak,
            "growth_mb": peak - base,
        }


def run_child(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", *args],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    if result.returncode:
        sys.exit(f"measuring {args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(label: str, *cells: str) -> None:
    print(f"{label:<24}" + "".join(f"{cell:>11}" for cell in cells), flush=True)


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--sync", type=int, nargs="*", default=list(SYNC_SIZES))
    parser.add_argument(
        "--background", type=int, nargs="*", default=list(BACKGROUND_SIZES)
    )
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, *values = args.measure
        measure = {"sync": measure_sync, "background": measure_background}[kind]
        print(json.dumps(measure(*values)))
        return

    workdir = tempfile.mkdtemp(prefix="list-pdf-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}, load {load()}")
    seed(args.invoices, sorted({*args.sync, *args.background}))

    header = ("rows", "seconds", "cpu s", "rows/s", "per-row x", "peak MB", "load")
    table("at once (one document)", *header)
    first = None
    for size in args.sync:
        r = run_child("sync", str(size))
        per_row = r["cpu_seconds"] / r["rows"]
        first = first or per_row
        table(
            f"list of {size:,}",
            f"{r['rows']:,}",
            f"{r['seconds']:.2f}",
            f"{r['cpu_seconds']:.2f}",
            f"{r['rows'] / r['seconds']:,.0f}",
            f"{per_row / first:.2f}",
            f"{r['peak_mb']:.0f}",
            load(),
        )
    table("background (in parts)", *header)
    print(f"{'':<24}{'pages':>11}{'MB file':>11}{'growth MB':>11}")
    first = None
    warm = str(min(args.background, default=0))
    for size in [*args.background, 0]:
        r = run_child("background", str(size), warm)
        per_row = r["cpu_seconds"] / r["rows"]
        first = first or per_row
        table(
            f"list of {r['rows']:,}",
            f"{r['rows']:,}",
            f"{r['seconds']:.2f}",
            f"{r['cpu_seconds']:.2f}",
            f"{r['rows'] / r['seconds']:,.0f}",
            f"{per_row / first:.2f}",
            f"{r['peak_mb']:.0f}",
            load(),
        )
        print(
            f"{'':<24}{r['pages']:>11,}{r['bytes'] / 1e6:>11.1f}"
            f"{r['growth_mb']:>11.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
