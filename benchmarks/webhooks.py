"""Webhook deliveries per second, against bare signed POSTs to the same receiver.

    .venv/bin/python benchmarks/webhooks.py                  # SQLite, 500 events
    .venv/bin/python benchmarks/webhooks.py --events 2000 \\
        --database postgresql://postgres@127.0.0.1/bench_hooks

A fresh database (tables dropped first) gets one endpoint on a loopback
receiver (a threaded http.server answering 200) and N events with a delivery
each, written as the app writes them (webhooks.events.emit). Then, in this
process:

- floor: N POSTs of the same bodies with the same signature headers, by
  requests, one after another (what sending alone costs);
- deliveries: webhooks.delivery.deliver_due() until none is due (claiming,
  re-checking the URL, sending, recording the answer).

Prints deliveries per second and the ratio to the floor.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("APP_ENV", "test")
os.environ["WEBHOOK_ALLOW_PRIVATE"] = "1"


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temp SQLite)")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = (
        args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'hooks.sqlite3'}"
    )

    import requests
    from flask_migrate import upgrade
    from sqlalchemy import select

    from invoice_app import create_app
    from invoice_app.database import drop_everything
    from invoice_app.demo.load import seed_demo
    from invoice_app.extensions import db
    from invoice_app.models import Invoice, WebhookEvent, default_tenant
    from invoice_app.webhooks import delivery, endpoints, events, signing

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hooks"

    app = create_app({"TESTING": True})
    with app.app_context():
        drop_everything()
        upgrade()
        from datetime import date

        seed_demo(min(args.events, 1000), date.today())
        tenant = default_tenant(db.session)
        endpoint = endpoints.add(tenant.id, url, ["invoice.paid"], "benchmark")
        invoices = db.session.scalars(select(Invoice).limit(1000)).all()
        for i in range(args.events):
            events.emit(invoices[i % len(invoices)], "invoice.paid")
        db.session.commit()
        bodies = [
            (event.id, event.payload.encode())
            for event in db.session.scalars(select(WebhookEvent))
        ]
        secret = endpoint.secret

    n = len(bodies)
    print(f"{n} deliveries, {os.environ['DATABASE_URL']}; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    session = requests.Session()
    started = time.perf_counter()
    for msg_id, body in bodies:
        session.post(
            url,
            data=body,
            headers=signing.headers(secret, msg_id, int(time.time()), body),
            timeout=10,
        )
    floor = time.perf_counter() - started

    with app.app_context():
        started = time.perf_counter()
        sent = 0
        while attempted := delivery.deliver_due():
            sent += attempted
        seconds = time.perf_counter() - started
    assert sent == n, (sent, n)
    print(f"{'case':<34} {'per s':>8} {'ratio to floor':>15}")
    print(f"{'floor: signed POSTs (requests)':<34} {n / floor:>8.0f} {1:>15.2f}")
    print(f"{'deliver_due()':<34} {n / seconds:>8.0f} {seconds / floor:>15.2f}")
    server.shutdown()


if __name__ == "__main__":
    main()
