"""Benchmark the exports: XLSX of N invoices against a bare openpyxl floor, PDFs.

    .venv/bin/python benchmarks/exports.py                  # 100,000 invoices
    .venv/bin/python benchmarks/exports.py --invoices 20000
    DATABASE_URL=postgresql://... .venv/bin/python benchmarks/exports.py

Seeds N demo invoices into a fresh SQLite file (or DATABASE_URL, whose tables are
emptied first), then measures each case in a process of its own, so that peak
memory (ru_maxrss) belongs to that case alone:

- XLSX of every invoice and of a tenth of them, through the Flask view (query,
  rows, workbook, zip stream): seconds, rows per second, time to first byte, peak
  RSS and its growth over the process before the request; and of every invoice
  with the six optional columns an export can add (its ratio to the plain one);
- two floors, the same rows already in memory with no database or Flask: bare
  write-only openpyxl (one plain value per cell), and the export's own writer;
  and the export's ratio to each;
- PDF lists of 100, 1,000 and 2,000 rows, and one invoice PDF: seconds, memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# A throwaway user in a throwaway database; the children inherit the password.
PASSWORD = os.environ.setdefault("BENCHMARK_PASSWORD", secrets.token_urlsafe(16))
EMAIL = "bench@example.test"
PDF_SIZES = (100, 1000, 2000)
EVERY_COLUMN = "issue_date,balance_due,days_overdue,currency,client_email,notes"


def _tag(size: int) -> str:
    # Brackets keep [pdf100] from matching inside [pdf1000].
    return f"[pdf{size}]"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Start peak RSS afresh (Linux 4.0+), so earlier work does not count."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def peak_mb() -> float:
    """Peak RSS since reset_peak() (VmHWM), or over the process's life."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_app():
    os.environ.setdefault("SECRET_KEY", "benchmark")
    os.environ.setdefault("APP_ENV", "test")
    from invoice_app import create_app

    return create_app(
        {
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


# Seeding ---------------------------------------------------------------------


def seed(count: int) -> None:
    """Empty the database, bulk-insert count demo invoices, tag the PDF subsets."""
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
        # Searchable tags pick the PDF lists' rows and a tenth of all for XLSX.
        # search_text is updated like any write, so the database's search index
        # (triggers) follows.
        subsets = [
            (_tag(n), f"id IN (SELECT id FROM invoice ORDER BY id LIMIT {n})")
            for n in PDF_SIZES
        ]
        subsets.append(("[tenth]", "id % 10 = 0"))
        for tag, where in subsets:
            db.session.execute(
                text(
                    "UPDATE invoice SET notes = notes || :tag, "
                    f"search_text = search_text || :tag WHERE {where}"
                ),
                {"tag": f" {tag}"},
            )
        db.session.commit()
        print(f"seeded {count:,} invoices in {time.perf_counter() - started:.1f} s")


# Measurements (each in its own process) ---------------------------------------


def _client(app):
    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def measure_xlsx(query: str) -> dict:
    import openpyxl

    app = make_app()
    with app.app_context(), tempfile.TemporaryFile() as out:
        client = _client(app)
        # Warm up (imports, first query) so growth is what the rows cost.
        client.get("/billing/invoices/export.xlsx?q=[no-such-invoice]").close()
        reset_peak()
        base = rss_mb()
        started = time.perf_counter()
        response = client.get(f"/billing/invoices/export.xlsx?{query}", buffered=False)
        first = None
        for chunk in response.response:
            if first is None:
                first = time.perf_counter() - started
            out.write(chunk)
        response.close()
        seconds = time.perf_counter() - started
        peak = peak_mb()
        # Counted after the clock stops: the file has as many rows as this says.
        out.seek(0)
        sheet = openpyxl.load_workbook(out, read_only=True)["Invoices"]
        rows = sum(1 for _ in sheet.iter_rows(min_row=2, max_col=1))
        size = out.tell()
    return {
        "rows": rows,
        "seconds": seconds,
        "first_byte": first,
        "bytes": size,
        "peak_mb": peak,
        "growth_mb": peak - base,
    }


def measure_floor(writer: str) -> dict:
    """Every invoice, already in memory, written without database or Flask.

    writer "openpyxl": bare write-only openpyxl, one plain value per cell (the
    floor issue 6 names); "export": the export's own writer (stream_invoices_xlsx
    with its styles, quote prefixes and totals), so export / this floor is what
    the database, the ORM-free query and Flask add.
    """
    from datetime import UTC, datetime

    from openpyxl import Workbook

    from invoice_app.clock import today
    from invoice_app.exports.summary import ExportContext
    from invoice_app.exports.xlsx import stream_invoices_xlsx
    from invoice_app.extensions import db
    from invoice_app.filters import InvoiceFilters
    from invoice_app.queries import export_rows, invoice_query

    app = make_app()
    with app.app_context():
        stmt = export_rows(invoice_query(InvoiceFilters(), today()))
        rows = db.session.execute(stmt).all()
        db.session.remove()

    def write_openpyxl(out) -> None:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Invoices")
        for row in rows:
            sheet.append(tuple(row))
        book.save(out)

    def write_export(out) -> None:
        context = ExportContext(InvoiceFilters(), datetime.now(UTC), EMAIL)
        for chunk in stream_invoices_xlsx(rows, context):
            out.write(chunk)

    write = {"openpyxl": write_openpyxl, "export": write_export}[writer]
    with tempfile.TemporaryFile() as out:  # warm up: imports, first workbook
        saved, rows = rows, rows[:10]
        write(out)
        rows = saved
    reset_peak()
    base = rss_mb()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        write(out)
    seconds = time.perf_counter() - started
    return {
        "rows": len(rows),
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "growth_mb": max(0.0, peak_mb() - base),
    }


def measure_pdf(path: str) -> dict:
    import io

    from pypdf import PdfReader

    app = make_app()
    with app.app_context():
        client = _client(app)
        # Warm up: a worker has imported xhtml2pdf and parsed the fonts already.
        client.get("/billing/invoices/export.pdf?q=[no-such-invoice]")
        reset_peak()
        base = rss_mb()
        started = time.perf_counter()
        cpu = time.process_time()
        response = client.get(path)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        pages = len(PdfReader(io.BytesIO(response.get_data())).pages)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "pages": pages,
        "peak_mb": peak_mb(),
        "growth_mb": peak_mb() - base,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:
        kind, target = args.measure
        measure = {"xlsx": measure_xlsx, "floor": measure_floor, "pdf": measure_pdf}
        print(json.dumps(measure[kind](target)))
        return

    workdir = tempfile.mkdtemp(prefix="invoice-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")
    seed(args.invoices)

    table("XLSX", "rows", "seconds", "rows/s", "1st byte s", "peak MB", "growth MB")
    xlsx = {}
    for label, query in (
        ("every invoice", "columns=none"),
        ("a tenth of them", "q=[tenth]&columns=none"),
        # The six optional columns a file can add (columns.py), text included.
        ("every invoice, +6 cols", f"columns={EVERY_COLUMN}"),
    ):
        r = xlsx[label] = run_child("xlsx", query)
        rate = r["rows"] / r["seconds"]
        table(
            label,
            f"{r['rows']:,}",
            f"{r['seconds']:.2f}",
            f"{rate:,.0f}",
            f"{r['first_byte']:.2f}",
            f"{r['peak_mb']:.0f}",
            f"{r['growth_mb']:.1f}",
        )
    floors = {}
    for label, writer in (
        ("floor: bare openpyxl", "openpyxl"),
        ("floor: export writer", "export"),
    ):
        r = floors[writer] = run_child("floor", writer)
        table(
            label,
            f"{r['rows']:,}",
            f"{r['seconds']:.2f}",
            f"{r['rows'] / r['seconds']:,.0f}",
            "",
            f"{r['peak_mb']:.0f}",
            f"{r['growth_mb']:.1f}",
        )
    export = xlsx["every invoice"]["seconds"]
    print(
        f"export / bare openpyxl floor: {export / floors['openpyxl']['seconds']:.2f}"
        f"; export / its own writer on rows in memory: "
        f"{export / floors['export']['seconds']:.2f}"
        f"; with the optional columns / without: "
        f"{xlsx['every invoice, +6 cols']['seconds'] / export:.2f}"
    )

    table("PDF", "seconds", "cpu s", "pages", "peak MB", "growth MB")
    cases = [
        (f"list of {n:,} rows", f"/billing/invoices/export.pdf?q={_tag(n)}")
        for n in PDF_SIZES
    ]
    cases.append(("one invoice", f"/billing/invoices/{_invoice_with_lines()}.pdf"))
    for label, path in cases:
        r = run_child("pdf", path)
        table(
            label,
            f"{r['seconds']:.2f}",
            f"{r['cpu_seconds']:.2f}",
            str(r["pages"]),
            f"{r['peak_mb']:.0f}",
            f"{r['growth_mb']:.1f}",
        )


def table(label: str, *cells: str) -> None:
    """One line of a results table: a label, then right-aligned cells."""
    print(f"{label:<22}" + "".join(f"{cell:>12}" for cell in cells))


def _invoice_with_lines() -> str:
    from sqlalchemy import select

    from invoice_app.extensions import db
    from invoice_app.models import Invoice, InvoiceLine

    with make_app().app_context():
        return db.session.scalar(select(Invoice.number).join(InvoiceLine).limit(1))


if __name__ == "__main__":
    main()
