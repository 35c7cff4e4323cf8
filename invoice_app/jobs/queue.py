"""The queue object, made from settings: SQLite by default, Redis with REDIS_URL."""

from __future__ import annotations

from collections.abc import Mapping

from huey import Huey, RedisHuey, SqliteHuey


def make_queue(config: Mapping) -> Huey:
    """A Huey for config: RedisHuey when REDIS_URL is set, else SqliteHuey.

    Results are not kept: a task's outcome is written where users read it (an
    export's row), and unread results would pile up in the storage.
    """
    options = {
        "name": config["JOBS_QUEUE"],
        "results": False,
        "immediate": config["JOBS_IMMEDIATE"],
        "utc": True,
    }
    if config["REDIS_URL"]:
        return RedisHuey(url=config["REDIS_URL"], **options)
    # The file of the queue is its own, beside (not inside) the app's database:
    # a worker's busy queue never locks the invoice tables.
    return SqliteHuey(filename=str(config["JOBS_SQLITE_PATH"]), **options)
