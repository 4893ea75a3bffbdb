"""The talon on paper (regulation 1.4): the text `talon.text` renders, as a PDF to print
and hand over to an applicant who came in person or wrote by post without an e-mail.

The words are the template's (`rules/templates/talon.txt.j2`, the same as the
e-mailed talon); this module only lays them out: the first paragraph is the
heading, the rest follows as written. The font must have Cyrillic and the
Kazakh letters; it is the configured one (`talon_font`) or the first of
`FONTS` the machine has.
"""

from __future__ import annotations

from pathlib import Path

# Debian's packages, in order of preference: fonts-dejavu-core, fonts-liberation2,
# fonts-noto-core, fonts-freefont-ttf. Each has Cyrillic and the Kazakh letters.
FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/freefont/FreeSans.ttf"),
)
# Every letter a talon may hold beyond Latin: the Russian alphabet and Kazakh's own nine.
LETTERS = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя" + "ӘәҒғҚқҢңӨөҰұҮүҺһІі«»№—"


class FontMissing(Exception):
    """No usable font; the message (Russian) says what was tried and what to do."""


def find_font(configured: Path | None = None) -> Path:
    """The configured font, which must do, or the first of FONTS that the machine has."""
    candidates = (configured,) if configured else FONTS
    tried = []
    for path in candidates:
        problem = _unusable(path)
        if problem is None:
            return path
        tried.append(f"{path} ({problem})")
    hint = (
        "исправьте talon_font в настройках (или $MAILFLOW_TALON_FONT)"
        if configured
        else "установите fonts-dejavu-core или укажите talon_font в настройках (или $MAILFLOW_TALON_FONT)"
    )
    raise FontMissing(
        "нет шрифта с кириллицей и казахскими буквами для печатного талона: "
        + "; ".join(tried)
        + f". Как исправить: {hint}"
    )


def _unusable(path: Path) -> str | None:
    from fontTools.ttLib import TTFont, TTLibError

    if not path.is_file():
        return "нет такого файла"
    try:
        with TTFont(str(path), lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except (TTLibError, OSError, AssertionError) as exc:
        return f"не шрифт TrueType: {exc}"
    missing = sorted({ch for ch in LETTERS if ord(ch) not in cmap})
    return f"нет букв {''.join(missing)}" if missing else None


def _bold(regular: Path) -> Path:
    """DejaVuSans.ttf → DejaVuSans-Bold.ttf, LiberationSans-Regular.ttf → -Bold; else itself."""
    stem = regular.stem.removesuffix("-Regular")
    for name in (f"{stem}-Bold{regular.suffix}", f"{stem}Bold{regular.suffix}"):
        candidate = regular.with_name(name)
        if candidate.is_file() and _unusable(candidate) is None:
            return candidate
    return regular


def render(body: str, *, title: str, font: Path) -> bytes:
    """A4 PDF of the talon's `body`; its first paragraph is set as the heading."""
    from fpdf import FPDF

    head, _, rest = body.strip("\n").partition("\n\n")
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(title)
    pdf.set_creator("mailflow")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("talon", "", str(font))
    pdf.add_font("talon", "B", str(_bold(font)))
    pdf.add_page()
    pdf.set_font("talon", "B", 15)
    for line in head.splitlines():
        pdf.multi_cell(0, 8, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("talon", "", 11)
    for line in rest.splitlines():
        if line.strip():
            pdf.multi_cell(0, 6, line, align="L", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(4)
    return bytes(pdf.output())
