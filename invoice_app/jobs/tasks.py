"""The tasks a worker runs, each inside the app's context, and when they run."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask
from huey import Huey, crontab
from huey.api import TaskWrapper


def register_tasks(queue: Huey, app: Flask) -> dict[str, TaskWrapper]:
    """Register every task on queue; each runs in an app context of its own."""

    def in_app(func: Callable) -> Callable:
        @wraps(func)
        def run(*args):
            # Its own context per task: worker threads share nothing (g, the
            # database session, the tenant scope).
            with app.app_context():
                return func(*args)

        return run

    def sweep() -> None:
        from ..export_jobs.sweeping import sweep_exports

        sweep_exports()

    def export(job_id: str) -> None:
        from ..export_jobs.running import run_export

        run_export(job_id)

    def deliver_webhooks() -> None:
        from ..webhooks.delivery import deliver_due

        deliver_due()

    def scan_overdue() -> None:
        from ..clock import today
        from ..webhooks.events import scan_overdue

        scan_overdue(today())

    # A worker that starts looks for exports its predecessor left running.
    queue.on_startup("sweep_exports")(in_app(sweep))
    return {
        "run_export": queue.task(name="run_export")(in_app(export)),
        # Every minute: an export of a dead worker is retried within about
        # EXPORT_STALE_SECONDS plus a minute; expired files go.
        "sweep_exports": queue.periodic_task(crontab(), name="sweep_exports")(
            in_app(sweep)
        ),
        # Hourly, so OVER_DUE is stored within the hour after midnight in
        # TIMEZONE wherever that is; idempotent, like the cron job it replaces.
        "mark_overdue": queue.periodic_task(crontab(minute="15"), name="mark_overdue")(
            in_app(_mark_overdue)
        ),
        # Queued when a change commits events, and for a retry due within the
        # minute (webhooks/delivery.py); the sweep below catches the rest.
        "deliver_webhooks": queue.task(name="deliver_webhooks")(
            in_app(deliver_webhooks)
        ),
        "sweep_webhooks": queue.periodic_task(crontab(), name="sweep_webhooks")(
            in_app(deliver_webhooks)
        ),
        # invoice.overdue, once per invoice, within ten minutes of its due day.
        "scan_overdue": queue.periodic_task(
            crontab(minute="*/10"), name="scan_overdue"
        )(in_app(scan_overdue)),
    }


def _mark_overdue() -> list[str]:
    from ..clock import today
    from ..lifecycle import mark_overdue

    return mark_overdue(today(), actor="system (worker)")
