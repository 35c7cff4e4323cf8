"""gunicorn settings for Invoice Manager; every value can be overridden from the
environment (GUNICORN_*), and command-line flags override this file.

Threaded workers (gthread): a sync worker killed by its timeout was seen to cut a
streamed XLSX download short while the client still got HTTP 200; a thread in a
live worker is not killed, so a long export finishes.
"""

import os


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


bind = _env("GUNICORN_BIND", f"127.0.0.1:{_env('PORT', '8000')}")
worker_class = "gthread"
workers = int(_env("GUNICORN_WORKERS", _env("WEB_CONCURRENCY", "2")))
threads = int(_env("GUNICORN_THREADS", "4"))
# The heartbeat timeout: generous, for exports of many thousand rows.
timeout = int(_env("GUNICORN_TIMEOUT", "300"))
graceful_timeout = int(_env("GUNICORN_GRACEFUL_TIMEOUT", "60"))
keepalive = int(_env("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then (bounded memory growth), staggered by the jitter.
max_requests = int(_env("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(_env("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# An empty GUNICORN_ACCESSLOG turns the access log off.
accesslog = _env("GUNICORN_ACCESSLOG", "-") or None
errorlog = _env("GUNICORN_ERRORLOG", "-")
loglevel = _env("GUNICORN_LOGLEVEL", "info")
# Behind a proxy the app reads X-Forwarded-* through ProxyFix (TRUSTED_PROXIES);
# gunicorn itself only needs to accept them from the proxy's address.
forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1")
