"""What a PDF render may read: the static folder and the bundled fonts, nothing else.

xhtml2pdf fetches whatever the HTML names (img src, link href, @import,
@font-face, background images, <pdf:*> tags), and several of those paths never
call link_callback. Its resource policy sits in the fetcher itself, under every
one of those paths, so the policy is where the rules go: no network at all (so
neither loopback nor 169.254.169.254), no file outside the two folders (file://,
../, absolute paths and the working directory are all refused, symlinks
resolved first), no data: URIs, and a time limit on the whole render.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xhtml2pdf.config.resources import ResourceAccessError, ResourceAccessPolicy

from .fonts import FONTS_DIR


@dataclass(frozen=True)
class InvoicePdfPolicy(ResourceAccessPolicy):
    """The server policy, also refusing data: URIs (nothing we render uses them)."""

    def check_local_size(self, size: int, where) -> None:
        # xhtml2pdf vets a decoded data: URI here, naming it "data:<mediatype>".
        if str(where).startswith("data:"):
            raise ResourceAccessError("data: URIs are not allowed in invoice PDFs")
        super().check_local_size(size, where)


def pdf_resource_policy(static_dir: Path, render_seconds: float) -> InvoicePdfPolicy:
    """The policy for rendering our templates, which carry user data."""
    return InvoicePdfPolicy.server(
        base_dir=Path(static_dir),
        extra_roots=(FONTS_DIR,),
        allow_remote=False,
        allowed_hosts=frozenset(),
        allow_private_networks=False,
        allow_remote_pdf_backgrounds=False,
        max_render_seconds=render_seconds,
        # The row limit bounds our documents; 2,000 rows are about 1.5 MB of HTML.
        max_document_bytes=32 * 1024 * 1024,
    )
