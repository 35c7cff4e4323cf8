"""Invoices created per second through POST /api/invoices, against lifecycle.create().

    .venv/bin/python benchmarks/api_create.py                 # SQLite, 300 each
    .venv/bin/python benchmarks/api_create.py --invoices 1000
    .venv/bin/python benchmarks/api_create.py \\
        --database postgresql://postgres@127.0.0.1/bench_api

A fresh database (its tables are dropped first: never point it at data you
keep) is migrated; then, one after another in this process:

- floor: lifecycle.create() of the same invoice N times, no HTTP (what the
  screen's draft form costs below its view);
- API: POST /api/invoices through the WSGI app with a write token (reading
  the body, the model, the draft form's rules, create, the answer);
- API with an Idempotency-Key (one new key each: the key's row is written
  before and after the work);
- replay: the same key N times (no invoice is created).

Prints invoices per second and each case's ratio to the floor. Noisy machines
make absolute figures noisy; the ratios are the figures to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("APP_ENV", "test")

BODY = {
    "client_name": "Müller GmbH",
    "client_email": "billing@mueller.example",
    "billing_period": "2026-11",
    "currency": "EUR",
    "payment_terms_days": 30,
    "lines": [
        {"description": "Compute (vCPU-hours)", "quantity": "1000",
         "unit_price": "0.0416"},
        {"description": "Object storage (GB-months)", "quantity": "250",
         "unit_price": "0.023"},
        {"description": "Network egress (GB)", "quantity": "80", "unit_price": "0.09"},
    ],
}  # fmt: skip
TOKEN = secrets.token_urlsafe(32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=300)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temp SQLite)")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'api.sqlite3'}"
    os.environ["DATABASE_URL"] = url

    from flask_migrate import upgrade
    from werkzeug.datastructures import MultiDict

    from invoice_app import create_app, drafts, lifecycle
    from invoice_app.billing.forms import DraftForm
    from invoice_app.clock import today
    from invoice_app.database import drop_everything
    from invoice_app.extensions import db
    from invoice_app.models import TOKEN_WRITE, Role, User

    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False})
    logging_off(app)
    with app.app_context():
        drop_everything()
        upgrade()
        user = User(email="engine@example.test", role=Role.ADMIN.value)
        user.api_token_hash = User.hash_token(TOKEN)
        user.api_token_scope = TOKEN_WRITE
        db.session.add(user)
        db.session.commit()
        # The floor's input, checked once by the same form the API uses.
        form_data = MultiDict(
            {k: str(v) for k, v in BODY.items() if k != "lines"}
            | {
                f"lines-{i}-{key}": value
                for i, line in enumerate(BODY["lines"])
                for key, value in line.items()
            }
        )
        form = DraftForm(
            formdata=form_data,
            meta={"csrf": False},
            today=today(),
            known_client=drafts.known_client_name,
        )
        assert form.validate(), form.errors
        data = form.to_input()

    n = args.invoices
    print(f"{n} invoices per case, {url}; load average {os.getloadavg()[0]:.1f}")
    results = {}
    with app.app_context():
        started = time.perf_counter()
        for _ in range(n):
            lifecycle.create(data, "benchmark")
        results["floor: lifecycle.create()"] = time.perf_counter() - started

    client = app.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = json.dumps(BODY)

    def post(**extra):
        response = client.post(
            "/api/invoices",
            data=body,
            content_type="application/json",
            headers={**headers, **extra},
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return response

    for name, make_headers in (
        ("API", lambda i: {}),
        ("API, Idempotency-Key", lambda i: {"Idempotency-Key": f"new-{i}"}),
        ("API, replayed key", lambda i: {"Idempotency-Key": "new-0"}),
    ):
        started = time.perf_counter()
        latencies = []
        for i in range(n):
            one = time.perf_counter()
            post(**make_headers(i))
            latencies.append(time.perf_counter() - one)
        results[name] = time.perf_counter() - started
        results[f"{name} median ms"] = statistics.median(latencies) * 1000

    floor = results["floor: lifecycle.create()"]
    print(f"{'case':<32} {'per s':>8} {'ratio to floor':>15} {'median ms':>10}")
    for name in ("floor: lifecycle.create()", "API", "API, Idempotency-Key",
                 "API, replayed key"):  # fmt: skip
        seconds = results[name]
        median = results.get(f"{name} median ms")
        print(
            f"{name:<32} {n / seconds:>8.0f} {seconds / floor:>15.2f}"
            f" {'' if median is None else f'{median:.1f}':>10}"
        )


def logging_off(app) -> None:
    import logging

    logging.getLogger("invoice_app.request").disabled = True


if __name__ == "__main__":
    main()
