"""PDF rendering cannot be made to read files or reach the network.

Two layers are tested. User data is escaped before xhtml2pdf (or, in the list, a
ReportLab Paragraph) sees it, so a client name full of markup prints as text.
Below that, the resource policy refuses every fetch even in HTML we did not
escape: a live HTTP server on 127.0.0.1 must get no request, no socket may be
opened at all, and no file outside the static folder (and the bundled fonts) may
be opened -- Python's audit hooks see every open() and connect() the renderer,
ReportLab or Pillow makes.
"""

from __future__ import annotations

import base64
import io
import re
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from invoice_app.exports.fonts import ANY_SCRIPT, FONTS_DIR, REGULAR, font_face_css
from invoice_app.exports.pdf import html_to_pdf

_events: list | None = None


def _audit(event: str, args: tuple) -> None:
    if _events is not None and event in (
        "open",
        "socket.connect",
        "socket.getaddrinfo",
    ):
        _events.append((event, args[0] if event == "open" else args))


# Audit hooks cannot be removed; this one records only inside watch().
sys.addaudithook(_audit)


@contextmanager
def watch():
    """Record every file opened and every socket connected inside the block."""
    global _events
    _events = []
    try:
        yield _events
    finally:
        _events = None


def opened(events) -> list[Path]:
    return [
        Path(str(args, "utf-8") if isinstance(args, bytes) else args).resolve()
        for event, args in events
        if event == "open" and isinstance(args, str | bytes)
    ]


def png_bytes(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), color).save(out, "PNG")
    return out.getvalue()


class Trap(BaseHTTPRequestHandler):
    """Answers everything with something a renderer would happily embed."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Trap.hits.append(self.path)
        if self.path.endswith(".css"):
            body, kind = b".hide { display: none; }", "text/css"
        elif self.path.endswith(".ttf"):
            body, kind = REGULAR.read_bytes(), "font/ttf"
        else:
            body, kind = png_bytes("#ff0000"), "image/png"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def trap():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", Trap.hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def folders(tmp_path):
    """static/ with an allowed image and stylesheet; outside/ with secrets."""
    static, outside = tmp_path / "static", tmp_path / "outside"
    static.mkdir()
    outside.mkdir()
    (static / "ok.png").write_bytes(png_bytes("#00ff00"))
    (static / "ok.css").write_text(".hide { display: none; }")
    (outside / "secret.png").write_bytes(png_bytes("#ff0000"))
    (outside / "secret.css").write_text(".hide { display: none; }")
    (static / "link.png").symlink_to(outside / "secret.png")
    return static, outside


def render(html: str, static: Path) -> tuple[bytes, list]:
    page = (
        '<html><head><meta charset="utf-8"></head><body>'
        f'{html}<p class="hide">HIDE-ME</p></body></html>'
    )
    with watch() as events:
        pdf = html_to_pdf(page, static_dir=static, render_seconds=20)
    return pdf, events


def images(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


REMOTE_HOSTS = [
    "{trap}",
    "{trap_localhost}",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]:9",
    "https://example.com",
]
VECTORS = {
    "img": '<img src="{base}/a.png">',
    "link": '<link rel="stylesheet" href="{base}/s.css">',
    "import": '<style>@import url("{base}/i.css");</style>',
    "font-face": (
        '<style>@font-face {{ font-family: "Trap"; src: url("{base}/f.ttf"); }}'
        ' p {{ font-family: "Trap"; }}</style>'
    ),
    "background": "<div style=\"background-image: url('{base}/bg.png')\">box</div>",
    "page-background": (
        '<style>@page {{ background-image: url("{base}/p.png"); }}</style>'
    ),
}


@pytest.mark.parametrize("vector", VECTORS)
@pytest.mark.parametrize("host", REMOTE_HOSTS)
def test_no_network_from_any_fetch_path(trap, folders, vector, host):
    base_url, hits = trap
    base = host.format(
        trap=base_url, trap_localhost=base_url.replace("127.0.0.1", "localhost")
    )
    before = len(hits)
    pdf, events = render(VECTORS[vector].format(base=base), folders[0])
    assert hits[before:] == []
    assert [e for e in events if e[0].startswith("socket.")] == []
    assert images(pdf) == 0
    assert "HIDE-ME" in text(pdf)


LOCAL = {
    "file-url": "file://{outside}/secret.{ext}",
    "absolute": "{outside}/secret.{ext}",
    "dot-dot": "../outside/secret.{ext}",
    "symlink": "link.{ext}",
    "etc-passwd": "/etc/passwd",
    "working-directory": "secret.{ext}",
}


@pytest.mark.parametrize("where", LOCAL)
@pytest.mark.parametrize("vector", ["img", "link", "import", "background"])
def test_no_file_outside_static(folders, monkeypatch, where, vector):
    static, outside = folders
    # A file in the working directory must not be reachable by a relative path.
    monkeypatch.chdir(outside)
    ext = "png" if vector in ("img", "background") else "css"
    if where == "symlink" and ext == "css":
        (static / "link.css").symlink_to(outside / "secret.css")
    target = LOCAL[where].format(outside=outside, ext=ext)
    pdf, events = render(re_target(VECTORS[vector], target), static)
    reached = [p for p in opened(events) if p.is_relative_to(outside.resolve())]
    assert reached == [] and Path("/etc/passwd") not in opened(events)
    assert images(pdf) == 0
    assert "HIDE-ME" in text(pdf)


def re_target(vector_html: str, target: str) -> str:
    """A vector's HTML pointing at target instead of {base}/name."""
    return (
        re.sub(r"\{base\}/[a-z]+\.[a-z]+", target, vector_html)
        .replace("{{", "{")
        .replace("}}", "}")
    )


@pytest.mark.parametrize(
    ("vector", "target"),
    [
        ("img", "ok.png"),
        ("background", "ok.png"),
        ("link", "ok.css"),
        ("import", "ok.css"),
    ],
)
def test_files_inside_static_are_used(folders, vector, target):
    """The control: the same markup does work for the static folder."""
    static, _ = folders
    pdf, _ = render(re_target(VECTORS[vector], target), static)
    if target.endswith(".png"):
        assert images(pdf) == 1
    else:
        assert "HIDE-ME" not in text(pdf)


def test_data_uris_are_refused(folders):
    data = base64.b64encode(png_bytes("#ff0000")).decode()
    pdf, _ = render(f'<img src="data:image/png;base64,{data}">', folders[0])
    assert images(pdf) == 0


def test_static_and_the_bundled_fonts_are_all_a_render_reads(folders):
    style = f"<style>{font_face_css()} body {{ font-family: {ANY_SCRIPT}; }}</style>"
    pdf, events = render(style + '<p>Пётр 山田</p><img src="ok.png">', folders[0])
    code = (Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve())
    reads = {
        p
        for p in opened(events)
        if p.suffix != ".pyc" and not any(p.is_relative_to(c) for c in code)
    }
    fonts = FONTS_DIR.resolve()
    assert {p.parent for p in reads} - {Path("/etc")} <= {folders[0].resolve(), fonts}
    assert {p.name for p in reads if p.parent == Path("/etc")} <= {"mime.types"}
    assert images(pdf) == 1 and "Пётр 山田" in text(pdf)


HOSTILE = (
    '<img src="file:///etc/passwd"><link rel="stylesheet" href="{trap}/x.css">'
    '<img src="{trap}/a.png"></td></tr></table><h1>Injected</h1>'
)


@pytest.fixture
def hostile_invoice(trap, make_invoice):
    base_url, _ = trap
    name = HOSTILE.format(trap=base_url)
    return make_invoice(
        number="INV-EVIL",
        client_name=name,
        notes=name,
        lines=[(name, "1", "1", "1")],
    ), name


@pytest.mark.parametrize("path", ["export.pdf", "INV-EVIL.pdf"])
def test_markup_in_user_data_prints_as_text_and_fetches_nothing(
    client, auth, trap, hostile_invoice, path
):
    _, hits = trap
    invoice, name = hostile_invoice
    auth.login()
    before = len(hits)
    with watch() as events:
        response = client.get(f"/billing/invoices/{path}")
    assert response.status_code == 200
    assert hits[before:] == []
    assert [e for e in events if e[0].startswith("socket.")] == []
    assert Path("/etc/passwd") not in opened(events)
    pdf = response.get_data()
    assert images(pdf) == 0
    flat = " ".join(text(pdf).split())
    assert '<img src="file:///etc/passwd">' in flat
    assert "</td></tr></table><h1>Injected</h1>" in flat.replace("\n", "")


def test_hardened_versions():
    """reportlab with CVE-2023-33733 fixed (3.6.13+), xhtml2pdf 0.2.19+."""

    def parts(name):
        return tuple(int(p) for p in version(name).split(".")[:3])

    assert parts("reportlab") >= (3, 6, 13)
    assert parts("xhtml2pdf") >= (0, 2, 19)


@pytest.mark.parametrize("vector", ["img", "link", "import", "background"])
def test_the_trap_would_see_a_fetch(trap, folders, vector):
    """The control: without our policy, the same markup does reach the server."""
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import PERMISSIVE_POLICY

    base_url, hits = trap
    before = len(hits)
    html = VECTORS[vector].format(base=base_url) + '<p class="hide">HIDE-ME</p>'
    pisa.pisaDocument(html, dest=io.BytesIO(), resource_policy=PERMISSIVE_POLICY)
    assert len(hits) > before
