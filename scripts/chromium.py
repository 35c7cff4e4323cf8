"""Find the Chromium the browser tests drive, or obtain it, or say what to run.

`make test` runs this first (`python scripts/chromium.py`); the browser tests'
conftest asks find_chromium() for the same answer. Where a browser is looked for,
in order: $CHROMIUM, `chromium` or `chromium-browser` on PATH, Playwright's own
download (`playwright install chromium`). When none is there: as root on Debian
or Ubuntu, Debian's `chromium` package is installed with apt-get; elsewhere
Playwright downloads its own (network permitting). CHROMIUM_INSTALL=no never
installs anything. Without a browser this exits 1 with one line that says what
to run: the browser tests are never skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SYSTEM_NAMES = ("chromium", "chromium-browser")
DEBIAN_FAMILY = {"debian", "ubuntu"}
OS_RELEASE = Path("/etc/os-release")
APT_INSTALL = [
    ["apt-get", "update", "-q"],
    ["apt-get", "install", "-y", "-q", "chromium"],
]
PLAYWRIGHT_INSTALL = [[sys.executable, "-m", "playwright", "install", "chromium"]]


def _executable(path: str | os.PathLike) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def playwright_chromium() -> str | None:
    """Playwright's own Chromium (from `playwright install chromium`), if present."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        path = playwright.chromium.executable_path
    return path if _executable(path) else None


def find_chromium() -> str | None:
    """The browser to drive: $CHROMIUM, a system Chromium, or Playwright's own."""
    chosen = os.environ.get("CHROMIUM", "").strip()
    if chosen:
        # Asked for by name: that one or none, never a silent substitute.
        return chosen if _executable(chosen) else None
    for name in SYSTEM_NAMES:
        if found := shutil.which(name):
            return found
    return playwright_chromium()


def os_family(os_release: Path | None = None) -> set[str]:
    """ID and ID_LIKE of /etc/os-release, e.g. {"ubuntu", "debian"}."""
    try:
        text = (os_release or OS_RELEASE).read_text()
    except OSError:
        return set()
    ids: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in {"ID", "ID_LIKE"}:
            ids.update(value.strip().strip("\"'").lower().split())
    return ids


def install_plan(is_root: bool, family: set[str]) -> list[list[str]]:
    """The commands that would obtain a browser on this machine."""
    if is_root and family & DEBIAN_FAMILY:
        return APT_INSTALL
    return PLAYWRIGHT_INSTALL


def instruction(is_root: bool | None = None, family: set[str] | None = None) -> str:
    """The one line that tells a person what to run when there is no browser."""
    is_root = os.geteuid() == 0 if is_root is None else is_root
    family = os_family() if family is None else family
    chosen = os.environ.get("CHROMIUM", "").strip()
    if chosen:
        return (
            f"No browser for the browser tests: CHROMIUM={chosen} is not an "
            "executable file; point it at Chromium or unset it, then run make test."
        )
    if family & DEBIAN_FAMILY:
        run = "apt-get install chromium" if is_root else "sudo apt-get install chromium"
    else:
        run = f"{Path(sys.executable).parent / 'playwright'} install chromium"
    return (
        f"No Chromium for the browser tests: run `{run}` (or set CHROMIUM to a "
        "Chromium executable), then make test."
    )


def main() -> int:
    """Print the browser's path; obtain it first if needed; exit 1 if impossible."""
    if found := find_chromium():
        print(f"Chromium: {found}")
        return 0
    is_root = os.geteuid() == 0
    family = os_family()
    allowed = os.environ.get("CHROMIUM_INSTALL", "").strip().lower() != "no"
    if allowed and not os.environ.get("CHROMIUM", "").strip():
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in install_plan(is_root, family):
            print("Obtaining Chromium:", " ".join(command), file=sys.stderr)
            try:
                # The commands are this module's constants, not input.
                done = subprocess.run(command, env=environment, check=False)  # noqa: S603
            except OSError:
                break
            if done.returncode != 0:
                break
        if found := find_chromium():
            print(f"Chromium: {found}")
            return 0
    print(instruction(is_root, family), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
