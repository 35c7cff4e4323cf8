"""Run `flask jobs worker` as a subprocess on the test database, for worker tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def queue_settings(tmp_path: Path, redis_url: str = "") -> dict[str, str]:
    """Settings the test app and its worker share: one queue, one export folder."""
    return {
        "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite3"),
        # A queue of the test's own: tests on one Redis do not take each
        # other's tasks.
        "JOBS_QUEUE": f"test-{tmp_path.name}",
        "REDIS_URL": redis_url,
        "EXPORT_DIR": str(tmp_path / "exports"),
    }


class WorkerProcess:
    """`flask --app wsgi jobs worker` as operators run it; stopped on exit."""

    def __init__(self, database_url: str, settings: dict, **env: str):
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            **{k: str(v) for k, v in settings.items()},
            **env,
        }
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> WorkerProcess:
        self.log = open(Path(self.env["EXPORT_DIR"]).parent / "worker.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-task, as under the OOM killer."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def wait_for(condition, timeout: float = 30, interval: float = 0.1, what: str = ""):
    """Poll condition() until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
