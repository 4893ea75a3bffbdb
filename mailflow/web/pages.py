"""Scans as page images for the case card: rendered once, then served from a cache.

A PDF page is rendered by pdfium at 110 dpi, an image (a multi-page TIFF
too) is decoded by Pillow; both become a PNG no wider than `WIDTH`, kept
under the data home's `cache/pages/` by the file's sha256 and page. The
archive stays the truth: the cache can be deleted at any time.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from ..archive import Archive

WIDTH = 1400
DPI = 110


class NoPage(LookupError):
    """The file has no such page, or cannot be shown as an image."""


def page_png(archive: Archive, cache: Path, sha256: str, content_type: str, index: int) -> Path:
    """The cached PNG of page `index` (from 0) of the archived file `sha256`."""
    target = cache / sha256[:2] / f"{sha256}-{index}.png"
    if target.exists():
        return target
    data = archive.get(sha256, suffix=".bin")
    png = _render(data, content_type, index)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(png)
    os.replace(tmp, target)  # two viewers rendering at once both end with a whole file
    return target


def crop_png(
    archive: Archive, cache: Path, sha256: str, content_type: str, index: int, box: list[float]
) -> Path:
    """The cached PNG of the piece `box` (fractions of the page) of page `index`: a
    field nobody could read, shown beside its input box. Cut from the page image."""
    from PIL import Image

    x0, y0, x1, y1 = (min(1.0, max(0.0, float(v))) for v in box)
    if not (x1 > x0 and y1 > y0):
        raise NoPage("пустая область")
    key = "-".join(f"{v:.4f}" for v in (x0, y0, x1, y1))
    target = cache / sha256[:2] / f"{sha256}-{index}-crop-{key}.png"
    if target.exists():
        return target
    with Image.open(page_png(archive, cache, sha256, content_type, index)) as page:
        w, h = page.size
        piece = page.crop((int(x0 * w), int(y0 * h), round(x1 * w), round(y1 * h)))
        out = io.BytesIO()
        piece.save(out, "PNG")
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(out.getvalue())
    os.replace(tmp, target)
    return target


def _render(data: bytes, content_type: str, index: int) -> bytes:
    from PIL import Image

    if content_type == "application/pdf" or data[:5] == b"%PDF-":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(data)
        try:
            if not 0 <= index < len(pdf):
                raise NoPage(f"в файле {len(pdf)} стр.")
            img = pdf[index].render(scale=DPI / 72).to_pil()
        finally:
            pdf.close()
    else:
        try:
            img = Image.open(io.BytesIO(data))
            img.seek(index)
        except EOFError:
            raise NoPage("нет такой страницы") from None
        except Exception as exc:
            raise NoPage(f"файл не открывается как изображение: {exc}") from None
        img = img.convert("RGB")
    if img.width > WIDTH:
        img = img.resize((WIDTH, round(img.height * WIDTH / img.width)))
    out = io.BytesIO()
    img.save(out, "PNG", optimize=False)
    return out.getvalue()
