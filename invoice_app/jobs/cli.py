"""`flask jobs worker`: the process that runs queued and periodic tasks."""

from __future__ import annotations

import logging

import click
from flask.cli import AppGroup

from . import jobs

jobs_cli = AppGroup("jobs", help="The background job worker.")


@jobs_cli.command("worker")
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Tasks run at once (threads of this process).",
)
def worker(workers: int) -> None:
    """Run queued tasks (exports) and periodic ones until stopped (Ctrl-C, SIGTERM)."""
    # Huey's own lines (tasks started, finished, retried) at INFO; not the root
    # logger's level, which would have SQLAlchemy log every statement. The app's
    # warnings (an export that lost its worker) go out through Flask's handler.
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    huey_log = logging.getLogger("huey")
    huey_log.setLevel(logging.INFO)
    huey_log.addHandler(handler)
    consumer = jobs().queue.create_consumer(
        workers=workers,
        periodic=True,
        # A queued export should start within a second, not after Huey's
        # default back-off of up to 10 s on an idle queue.
        initial_delay=0.1,
        backoff=1.15,
        max_delay=1.0,
    )
    consumer.run()
