"""Load test: gunicorn with 2 workers, 16 connections of mixed filter URLs, 20 s.

    .venv/bin/python benchmarks/load.py --invoices 1000000
    .venv/bin/python benchmarks/load.py --invoices 1000000 \\
        --database postgresql://postgres@127.0.0.1/bench_scale_{size}

Reuses (or seeds, see benchmarks/seed.py) a database of that size, starts
gunicorn as operators do (gunicorn.conf.py, 2 workers), signs in once, and lets
16 client threads, each on its own keep-alive connection, request a shuffled mix
of table fragments and API pages (statuses, date ranges, searches, sorts, deep
pages) for 20 seconds. The searches name one client or invoice, as people do;
--broad adds two that match about 11,000 invoices each. Prints requests,
errors, throughput and the latency percentiles as the clients saw them, and the
slowest URLs. The clients share the 2 cores with the server: pessimistic figures.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookies
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from seed import ROOT, default_url, ensure_seeded, make_app  # noqa: E402

EMAIL = "load@example.test"


def mixed_urls(today: date, broad: bool = False) -> list[str]:
    """What a billing team clicks through: every filter, sort and a few deep pages."""
    month = today.replace(day=1)
    last_month = (month - timedelta(days=1)).replace(day=1)
    queries = [
        {},
        {"status": "DUE"},
        {"status": "OVER_DUE"},
        {"status": "PAID", "page": "3"},
        {"status": "DRAFT"},
        {"status": "CANCEL"},
        {"date_from": last_month.strftime("%Y-%m"), "date_to": month.strftime("%Y-%m")},
        {
            "date_field": "due",
            "date_from": (today - timedelta(days=29)).isoformat(),
            "date_to": today.isoformat(),
        },
        {"date_field": "issued", "date_from": last_month.isoformat()},
        {"q": "quokka pty #17"},
        {"q": "tanaka robotics #2345"},
        {"q": "-004242"},
        {"q": "maple leaf media #31", "status": "PAID"},
        {"sort": "payable"},
        {"sort": "-due_date"},
        {"sort": "client"},
        {"page": "2"},
        {"page": "40"},
        {"page": "2000"},
        {"per_page": "100"},
    ]
    if broad:
        # Each matches about 11,000 invoices: "#2" is also #20…#29, #200…#2999.
        queries += [{"q": "tanaka robotics #2"}, {"q": "maple leaf media #3"}]
    urls = []
    for query in queries:
        encoded = urllib.parse.urlencode(query)
        urls.append(f"/billing/invoices?{encoded}")
        urls.append(f"/api/invoices?{encoded}")
    return urls


def _prepare_user(url: str, password: str) -> date:
    """Create (or reset) the load user; returns the app's today."""
    from invoice_app.clock import today
    from invoice_app.extensions import db
    from invoice_app.models import Role, User

    app = make_app(url)
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == EMAIL))
        if user is None:
            user = User(email=EMAIL, role=Role.STAFF.value)
            db.session.add(user)
        user.set_password(password)
        db.session.commit()
        return today()


def _login(port: int, password: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    jar = http.cookies.SimpleCookie(response.getheader("Set-Cookie"))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"email": EMAIL, "password": password, "csrf_token": token}
    )
    connection.request(
        "POST",
        "/login",
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v.value}" for k, v in jar.items()),
        },
    )
    response = connection.getresponse()
    response.read()
    assert response.status == 302, f"login failed: {response.status}"
    jar.load(response.getheader("Set-Cookie"))
    connection.close()
    return "; ".join(f"{k}={v.value}" for k, v in jar.items())


def _client(port, cookie, urls, stop, latencies, errors, seed):
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop:
        url = rng.choice(urls)
        headers = {"Cookie": cookie}
        if url.startswith("/billing"):
            headers["HX-Request"] = "true"
        started = time.perf_counter()
        try:
            connection.request("GET", url, headers=headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if ok:
            latencies.append((elapsed, url))
        else:
            errors.append(url)
    connection.close()


def _start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_ACCESSLOG": "",
        "GUNICORN_LOGLEVEL": "warning",
        "APP_ENV": "production",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--database", help="SQLAlchemy URL; {size} is replaced")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--broad", action="store_true", help="add two searches of ~11,000 matches"
    )
    args = parser.parse_args()
    url = (args.database or default_url(args.invoices)).replace(
        "{size}", str(args.invoices)
    )
    ensure_seeded(url, args.invoices)
    password = os.urandom(12).hex()
    today = _prepare_user(url, password)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = _start_gunicorn(url, port, args.workers)
    try:
        cookie = _login(port, password)
        urls = mixed_urls(today, args.broad)
        # Warm up each worker's imports, caches and connections.
        _client(port, cookie, urls, time.monotonic() + 3, [], [], 0)
        latencies: list[float] = []
        errors: list[str] = []
        stop = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=_client,
                args=(port, cookie, urls, stop, latencies, errors, n + 1),
            )
            for n in range(args.connections)
        ]
        load = os.getloadavg()[0]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    ordered = sorted(ms for ms, _ in latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    print(
        f"{args.invoices:,} invoices, {url}, {args.workers} workers,"
        f" {args.connections} connections, {args.seconds:.0f} s"
        f" (load average before: {load:.1f})"
    )
    print(
        f"requests {len(latencies) + len(errors)}  errors {len(errors)}"
        f"  throughput {len(latencies) / args.seconds:.0f}/s"
    )
    print(
        f"latency ms: median {statistics.median(ordered):.0f}  p95 {pct(0.95):.0f}"
        f"  p99 {pct(0.99):.0f}  max {ordered[-1]:.0f}"
    )
    by_url: dict[str, list[float]] = {}
    for ms, url_ in latencies:
        by_url.setdefault(url_, []).append(ms)
    print("slowest URLs by median (ms, requests):")
    slowest = sorted(by_url.items(), key=lambda item: -statistics.median(item[1]))
    for url_, times in slowest[:6]:
        print(f"  {statistics.median(times):6.0f} {len(times):4}  {url_}")
    if errors:
        print("failed URLs:", sorted(set(errors))[:10])


if __name__ == "__main__":
    main()
