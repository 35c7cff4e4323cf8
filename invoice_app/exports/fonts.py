"""The Unicode fonts shipped for PDFs, and how the renderers get them.

DejaVu Sans draws Latin, Greek and Cyrillic; Droid Sans Fallback (TrueType
outlines, which ReportLab can embed, unlike Noto CJK's CFF) draws Chinese,
Japanese and Korean. Stylesheets name both families, and xhtml2pdf draws each
run of characters in the first family that has glyphs for it. Their licences
are in fonts/.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from markupsafe import Markup
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = FONTS_DIR / "DejaVuSans.ttf"
BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"
CJK = FONTS_DIR / "DroidSansFallbackFull.ttf"

TEXT_FAMILY = "DejaVu Sans"
CJK_FAMILY = "Droid Sans Fallback"
# For text that may be in any script: each character in the first that has it.
# Markup, because it goes into a <style> block of an autoescaped template.
ANY_SCRIPT = Markup(f'"{TEXT_FAMILY}", "{CJK_FAMILY}"')  # noqa: S704

# Names of the faces registered with ReportLab itself, for drawing on pages.
MARK_FONT = "InvoiceMarkSans"
MARK_FONT_BOLD = "InvoiceMarkSans-Bold"


def _css_url(path: Path) -> str:
    return str(path).replace("\\", "/").replace('"', "%22")


@cache
def font_face_css() -> Markup:
    """@font-face rules for the stylesheet of a PDF template.

    ReportLab parses a font file once per process: xhtml2pdf registers it under
    its family name and file digest, and later documents reuse it.
    """
    faces = [
        (TEXT_FAMILY, "normal", REGULAR),
        (TEXT_FAMILY, "bold", BOLD),
        # No bold CJK face: bold CJK text is drawn with the regular one, and the
        # 4 MB file is read once per render instead of twice.
        (CJK_FAMILY, "normal", CJK),
    ]
    rules = [
        f'@font-face {{ font-family: "{family}"; font-weight: {weight}; '
        f'src: url("{_css_url(path)}"); }}'
        for family, weight, path in faces
    ]
    # Built from the package's own paths, never from user data.
    return Markup("\n".join(rules))  # noqa: S704


@cache
def _text_font_chars() -> frozenset[int]:
    regular, _ = register_mark_fonts()
    return frozenset(pdfmetrics.getFont(regular).face.charToGlyph)


def needs_fallback(text: str) -> bool:
    """Does text hold a character DejaVu Sans cannot draw (CJK, say)?

    Splitting text into runs per font costs time on every cell it is asked of, so
    a list asks it only of the cells that need it.
    """
    covered = _text_font_chars()
    return any(ord(char) not in covered for char in text or "")


@cache
def register_mark_fonts() -> tuple[str, str]:
    """Register DejaVu Sans with ReportLab (once per process) for page marks."""
    pdfmetrics.registerFont(TTFont(MARK_FONT, str(REGULAR)))
    pdfmetrics.registerFont(TTFont(MARK_FONT_BOLD, str(BOLD)))
    return MARK_FONT, MARK_FONT_BOLD
