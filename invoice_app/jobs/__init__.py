"""The job worker: a Huey queue made from settings, its tasks, `flask jobs worker`.

Requests only put tasks on the queue; a worker process of its own
(`flask --app wsgi jobs worker`) takes them off and runs each inside the app's
context. No thread inside a request worker, no polling loop of our own: Huey
keeps the queue (SQLite in the instance folder by default, Redis when
REDIS_URL is set, so several workers on several hosts share one queue).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from huey import Huey
from huey.api import TaskWrapper

from .queue import make_queue


@dataclass(frozen=True)
class Jobs:
    """An app's queue and the tasks registered on it, by name."""

    queue: Huey
    tasks: dict[str, TaskWrapper]


def init_app(app: Flask) -> None:
    """Give the app its queue, with every task registered on it."""
    from .tasks import register_tasks

    queue = make_queue(app.config)
    app.extensions["jobs"] = Jobs(queue, register_tasks(queue, app))


def jobs() -> Jobs:
    """The current app's queue and tasks."""
    return current_app.extensions["jobs"]


def enqueue(name: str, *args, delay: float | None = None) -> None:
    """Put the task `name` (tasks.py) on the queue; a worker runs it (after
    delay seconds, when given)."""
    task = jobs().tasks[name]
    if delay is None:
        task(*args)
    else:
        task.schedule(args=args, delay=delay)
