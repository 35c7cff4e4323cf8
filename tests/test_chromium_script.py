"""scripts/chromium.py: find the browser, obtain it where it can, else one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts import chromium

ROOT = Path(__file__).resolve().parents[1]
# Stands for apt-get on a PATH holding nothing else (so only shell built-ins
# and absolute paths): logs its arguments; "install" puts a chromium there.
FAKE_APT = """#!/bin/sh
echo "$@" >> "${0%/*}/apt.log"
case "$1" in install)
  printf '#!/bin/sh\\n' > "${0%/*}/chromium"
  /bin/chmod +x "${0%/*}/chromium";;
esac
"""


def executable(path: Path, text: str = "#!/bin/sh\n") -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine with an empty PATH, no Playwright browser, Debian, as root."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os_release = tmp_path / "os-release"
    os_release.write_text('PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\n')
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.delenv("CHROMIUM_INSTALL", raising=False)
    monkeypatch.setattr(chromium, "OS_RELEASE", os_release)
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 0)
    # Playwright's own download is looked for in the subprocess test below.
    monkeypatch.setattr(chromium, "playwright_chromium", lambda: None)
    return bin_dir


@pytest.mark.parametrize(
    ("is_root", "release", "plan"),
    [
        (True, "ID=debian", chromium.APT_INSTALL),
        (True, "ID=ubuntu\nID_LIKE=debian", chromium.APT_INSTALL),
        (True, 'ID=linuxmint\nID_LIKE="ubuntu debian"', chromium.APT_INSTALL),
        (False, "ID=debian", chromium.PLAYWRIGHT_INSTALL),
        (True, "ID=fedora", chromium.PLAYWRIGHT_INSTALL),
        (True, None, chromium.PLAYWRIGHT_INSTALL),
    ],
)
def test_apt_only_as_root_on_debian_or_ubuntu(tmp_path, is_root, release, plan):
    os_release = tmp_path / "os-release"
    if release is not None:
        os_release.write_text(release + "\n")
    assert chromium.install_plan(is_root, chromium.os_family(os_release)) == plan


def test_chromium_on_path_is_used_and_nothing_installed(machine, capsys):
    executable(machine / "apt-get", FAKE_APT)
    browser = executable(machine / "chromium-browser")
    assert chromium.main() == 0
    assert capsys.readouterr().out == f"Chromium: {browser}\n"
    assert not (machine / "apt.log").exists()


def test_root_on_debian_installs_the_chromium_package(machine, capsys):
    executable(machine / "apt-get", FAKE_APT)
    assert chromium.main() == 0
    assert (machine / "apt.log").read_text().splitlines() == [
        "update -q",
        "install -y -q chromium",
    ]
    assert capsys.readouterr().out == f"Chromium: {machine / 'chromium'}\n"
    assert chromium.find_chromium() == str(machine / "chromium")


def test_failed_install_ends_with_the_one_line(machine, capsys):
    executable(machine / "apt-get", "#!/bin/sh\nexit 100\n")
    assert chromium.main() == 1
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == (
        "No Chromium for the browser tests: run `apt-get install chromium` "
        "(or set CHROMIUM to a Chromium executable), then make test."
    )


def test_a_chromium_named_but_missing_is_not_replaced(machine, capsys, monkeypatch):
    executable(machine / "apt-get", FAKE_APT)
    executable(machine / "chromium")
    monkeypatch.setenv("CHROMIUM", "/nowhere/chrome")
    assert chromium.main() == 1
    assert capsys.readouterr().err == (
        "No browser for the browser tests: CHROMIUM=/nowhere/chrome is not an "
        "executable file; point it at Chromium or unset it, then run make test.\n"
    )
    assert not (machine / "apt.log").exists()


def test_no_browser_and_no_install_exits_at_once_with_one_line(tmp_path):
    """The real script, Playwright's lookup included, on a PATH without Chromium."""
    env = {
        "PATH": str(tmp_path),
        "HOME": str(tmp_path),
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "ms-playwright"),
        "CHROMIUM_INSTALL": "no",
    }
    result = subprocess.run(
        [sys.executable, "scripts/chromium.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("No Chromium for the browser tests: run `")
    assert line.endswith("then make test.")


def test_playwright_download_is_found_when_present(tmp_path):
    """Where `playwright install chromium` puts its browser, the lookup looks."""

    def ask(code: str) -> str:
        # In a process of its own: the browser tests may hold Playwright here.
        env = {
            "PATH": str(tmp_path / "empty"),
            "HOME": str(tmp_path),
            "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "ms-playwright"),
        }
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip()

    lookup = "from scripts.chromium import find_chromium; print(find_chromium())"
    expected = Path(
        ask(
            "from playwright.sync_api import sync_playwright\n"
            "with sync_playwright() as p: print(p.chromium.executable_path)"
        )
    )
    assert expected.is_relative_to(tmp_path / "ms-playwright")
    assert ask(lookup) == "None"
    expected.parent.mkdir(parents=True)
    executable(expected)
    assert ask(lookup) == str(expected)
