"""Time the list page with saved-view tabs, ?view= expansion, and the tab counts.

    .venv/bin/python benchmarks/saved_views.py                    # SQLite, 100,000
    .venv/bin/python benchmarks/saved_views.py --invoices 20000
    .venv/bin/python benchmarks/saved_views.py \\
        --database postgresql://postgres@127.0.0.1/bench_views

A database of N demo invoices is reused or seeded (benchmarks/seed.py). The
bench user then has no saved views, then --views of them (statuses, a date
range, searches). Each line is the median and p95 of the server time in ms
(in-process, through the WSGI app), measured in the same run as its baseline:

- the full list page with the user's tabs against the same page with no saved
  views (what the tabs cost the page: the counts are not in it);
- a view's fragment (?view=<id>) against the fragment of the same filters
  given as parameters (what expanding the view costs);
- the one counts request for every tab against the sum of the tabs' own
  fragments, each opened as a view (what a user clicking through them pays).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from invoice_list import EMAIL, _signed_in_client, _timed  # noqa: E402
from seed import default_url, ensure_seeded, make_app  # noqa: E402

VIEWS = [
    {"status": "OVER_DUE"},
    {"status": "PAID", "sort": "-payable"},
    {"status": "DUE", "date_field": "due", "date_from": "2025-01-01"},
    {"status": "DRAFT"},
    {"q": "müller"},
    {"q": "quokka pty #17"},
    {"status": "CANCEL"},
    {"sort": "number", "per_page": "50"},
    {"date_field": "issued", "date_from": "2025-01-01", "date_to": "2025-06-30"},
    {"status": "OVER_DUE", "sort": "due_date"},
]


def _set_views(app, count: int) -> list[int]:
    """The bench user's saved views: none, or the first count of VIEWS."""
    from sqlalchemy import delete, select

    from invoice_app import tenancy
    from invoice_app.extensions import db
    from invoice_app.models import SavedView, SavedViewDefault, User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        db.session.execute(
            delete(SavedViewDefault).where(SavedViewDefault.user_id == user.id)
        )
        db.session.execute(delete(SavedView).where(SavedView.owner_id == user.id))
        ids = []
        with tenancy.use(tenancy.Scope(user.tenant_id)):
            for i, args in enumerate((VIEWS * 10)[:count]):
                view = SavedView(
                    tenant_id=user.tenant_id, owner_id=user.id, name=f"View {i}",
                    name_key=f"view {i}", shared=False, audience=f"user:{user.id}",
                    args=args,
                )  # fmt: skip
                db.session.add(view)
                db.session.flush()
                ids.append(view.id)
        db.session.commit()
        return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a SQLite file)")
    parser.add_argument("--views", type=int, default=len(VIEWS))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    options = parser.parse_args()
    logging.disable(logging.INFO)
    url = options.database or default_url(options.invoices)
    ensure_seeded(url, options.invoices)
    app = make_app(url)
    client = _signed_in_client(app)
    fragment = {"HX-Request": "true"}

    def get(path: str, headers=None):
        def call():
            response = client.get(path, headers=headers or {})
            assert response.status_code == 200, (path, response.status_code)
            response.get_data()

        return call

    def line(name: str, app_ms, base_ms) -> None:
        ratio = app_ms[0] / base_ms[0]
        print(
            f"{name:<34} {app_ms[0]:9.1f} {app_ms[1]:9.1f} "
            f"{base_ms[0]:9.1f} {base_ms[1]:9.1f} {ratio:7.2f}"
        )

    runs, warmup = options.runs, options.warmup
    _set_views(app, 0)
    bare_page = _timed(get("/billing/invoices?view=all"), runs, warmup)
    ids = _set_views(app, options.views)
    print(f"{options.invoices:,} invoices, {len(ids)} saved views; {url}")
    print(
        f"{'ms (median, p95)':<34} {'app':>9} {'p95':>9} {'baseline':>9} {'p95':>9}"
        f" {'ratio':>7}"
    )
    tabs_page = _timed(get("/billing/invoices?view=all"), runs, warmup)
    line("page with tabs / without views", tabs_page, bare_page)
    for view_id, args in zip(ids[:3], VIEWS, strict=False):
        as_view = _timed(
            get(f"/billing/invoices?view={view_id}", fragment), runs, warmup
        )
        as_args = _timed(
            get(f"/billing/invoices?{urlencode(args)}", fragment), runs, warmup
        )
        line(f"?view= / params: {urlencode(args)[:16]}", as_view, as_args)
    counts = _timed(get("/billing/views/counts", fragment), runs, warmup)
    each = [
        _timed(get(f"/billing/invoices?view={view_id}", fragment), runs, warmup)
        for view_id in ids
    ]
    total = (sum(m for m, _ in each), sum(p for _, p in each))
    line(f"counts, {len(ids) + 1} tabs / open each tab", counts, total)


if __name__ == "__main__":
    main()
