"""The Unicode fonts shipped for PDFs, and how the renderers get them.

DejaVu Sans draws Latin, Greek and Cyrillic; Droid Sans Fallback (TrueType
outlines, which ReportLab can embed, unlike Noto CJK's CFF) draws Chinese,
Japanese and Korean. Stylesheets name both families, and xhtml2pdf draws each
run of characters in the first family that has glyphs for it; what is drawn
with ReportLab itself (the list PDF, page marks) does the same through
font_runs(). Their licences are in fonts/.
"""

from __future__ import annotations

from functools import cache
from itertools import groupby
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

# Names of the faces registered with ReportLab itself (register_text_fonts).
TEXT_FONT = "InvoiceSans"
TEXT_FONT_BOLD = "InvoiceSans-Bold"
FALLBACK_FONT = "InvoiceFallbackSans"


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
    regular, _ = register_text_fonts()
    return frozenset(pdfmetrics.getFont(regular).face.charToGlyph)


def needs_fallback(text: str) -> bool:
    """Does text hold a character DejaVu Sans cannot draw (CJK, say)?

    Splitting text into runs per font costs time on every cell it is asked of, so
    a list asks it only of the cells that need it.
    """
    covered = _text_font_chars()
    return any(ord(char) not in covered for char in text or "")


def font_runs(text: str, font: str) -> list[tuple[str, str]]:
    """text cut into (font name, characters) runs: font (a DejaVu Sans face)
    where DejaVu Sans has the characters, Droid Sans Fallback for the rest."""
    covered = _text_font_chars()
    return [
        (font if drawable else register_fallback_font(), "".join(chars))
        for drawable, chars in groupby(text, key=lambda char: ord(char) in covered)
    ]


@cache
def register_text_fonts() -> tuple[str, str]:
    """Register DejaVu Sans and its bold face with ReportLab, once per process."""
    pdfmetrics.registerFont(TTFont(TEXT_FONT, str(REGULAR)))
    pdfmetrics.registerFont(TTFont(TEXT_FONT_BOLD, str(BOLD)))
    return TEXT_FONT, TEXT_FONT_BOLD


@cache
def register_fallback_font() -> str:
    """Register Droid Sans Fallback with ReportLab, once per process.

    Only when some text needs it: parsing the 4 MB file takes a moment.
    """
    pdfmetrics.registerFont(TTFont(FALLBACK_FONT, str(CJK)))
    return FALLBACK_FONT
