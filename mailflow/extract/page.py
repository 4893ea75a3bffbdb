"""One page in, words out: the work an OCR worker process does.

Everything here runs inside an `OcrPool` worker (see ocr.py) and must be
picklable in and out: a `PageTask` (the file's bytes and which page) comes in,
a `PageResult` (words with confidences and boxes, plus what the field reader
needs from the picture itself: underlines, Latin re-readings) goes out.

A page is read from the PDF text layer when it has one (pdfplumber), else
rendered (pypdfium2) or decoded (Pillow), deskewed (turned first when it lies
on its side), and read by this worker's OCR engine (engine.py: tesseract in
the process, or the binary) with OMP_THREAD_LIMIT=1 (one core per page; the
pool gives parallelism). Then only what needs it is read again: doubtful
words, and the values of fields (see second_look and field_reread).
Nothing here raises: a page that cannot be read comes back with `note` set.
"""

from __future__ import annotations

import io
import math
import os
import re
import resource
import time
import warnings
from dataclasses import dataclass
from dataclasses import field as dc_field

from PIL import Image, ImageDraw, ImageFilter, ImageOps, ImageStat

from . import names as lexicon
from . import photo
from .engine import Engine, Word, open_engine, parse_tsv
from .fields import ORG_TYPES, _digit_verdict, clean_email, parse_phone, word_digits_confirmed
from .text import kazakh_written

ORG_FORMS = frozenset(t.split()[0] for t in ORG_TYPES)  # «РГП на ПХВ» begins with РГП

__all__ = ["PageTask", "PageResult", "Word", "parse_tsv", "init_worker", "run_page", "ocr_image"]

# Words whose underline decides the kind on Appendix 2/3 forms.
UNDERLINE_WORDS = ("ЖАЛОБА", "ПРЕТЕНЗИЯ", "ОТЗЫВ", "ПРЕДЛОЖЕНИЕ")
_EMAIL_LABEL = re.compile(r"(почт|e-?mail|email|пошта|^[EЕ][-‐]?[mт][aа][iіl!|1йЙ]{0,2}[:.]?$)", re.I)
_LATIN_OK = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")


@dataclass(frozen=True)
class PageTask:
    kind: str  # "pdf" | "image"
    data: bytes
    index: int  # page (PDF) or frame (TIFF) number, from 0
    render_dpi: int = 300
    langs: str = "rus+kaz"
    timeout: float = 60.0
    max_pixels: int = 60_000_000


@dataclass
class PageResult:
    source: str  # "ocr" | "text-layer" | "none"
    words: list[Word] = dc_field(default_factory=list)
    width: int = 0
    height: int = 0
    dpi: float = 0.0
    angle: float = 0.0  # deskew applied, degrees
    rotation: int = 0  # 0/90/180/270 applied after OSD
    mean_conf: float | None = None
    underlines: dict[str, float] = dc_field(default_factory=dict)  # word -> 0..1
    # second readings of e-mail and phone values with the English model:
    # word idx -> (field, segment id, text, conf) for every word of a segment
    alt: dict[int, tuple[str, int, str, float]] = dc_field(default_factory=dict)
    # the English model's readings of each word whose digits make a field
    # (address, outgoing number and date): word idx -> readings (DIGIT_READS)
    digits: dict[int, tuple[str, ...]] = dc_field(default_factory=dict)
    note: str | None = None
    seconds: float = 0.0
    ocr_seconds: float = 0.0
    cpu_seconds: float = (
        0.0  # CPU time on this page: the worker's and its tesseract runs' (one page at a time)
    )
    worker: int = 0  # pid of the process that read the page
    # the turns that made the read picture out of the page, in order: (degrees as
    # Image.rotate(expand=True) takes them, size before, size after); see source_box
    turns: list[tuple[float, tuple[int, int], tuple[int, int]]] = dc_field(default_factory=list)
    source_size: tuple[int, int] = (0, 0)  # the page before any turn (at the read's scale)

    @property
    def text(self) -> str:
        return words_to_text(self.words)


def words_to_text(words: list[Word]) -> str:
    out: list[str] = []
    line, block = None, None
    for w in words:
        if line is None:
            out.append(w.text)
        elif w.line != line:
            out.append("\n\n" if w.block != block else "\n")
            out.append(w.text)
        else:
            out.append(" " + w.text)
        line, block = w.line, w.block
    return "".join(out)


class _Worker:
    """This process's OCR engine. The one piece of module state here, and it
    is per process: the pool's initializer opens it in each worker, once, so
    the models are loaded once per worker, not per page."""

    engine: Engine | None = None


def init_worker(engine: str | None = None) -> None:
    """Process-pool initializer: one thread per tesseract, quiet Pillow, the
    engine (`engine.open_engine`: tesserocr, else the program; `engine` or
    MAILFLOW_OCR_ENGINE forces one)."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
    if _Worker.engine is not None:
        _Worker.engine.close()
    _Worker.engine = open_engine(engine)


def worker_engine() -> Engine:
    """The engine of this process (opened here when no pool initializer ran)."""
    if _Worker.engine is None:
        init_worker()
    assert _Worker.engine is not None
    return _Worker.engine


def warm() -> int:
    return os.getpid()


def engine_name() -> str:
    return worker_engine().name


def _cpu() -> float:
    """CPU seconds of this process and of the tesseract programs it ran."""
    me, runs = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + runs.ru_utime + runs.ru_stime


def run_page(task: PageTask) -> PageResult:
    t0, c0 = time.monotonic(), _cpu()
    try:
        res = _run_page(task, worker_engine())
    except Exception as exc:  # a worker must answer, whatever the input
        res = PageResult("none", note=f"page {task.index + 1} unreadable: {type(exc).__name__}: {exc}"[:300])
    res.seconds = time.monotonic() - t0
    res.cpu_seconds = _cpu() - c0
    res.worker = os.getpid()
    return res


def _run_page(task: PageTask, engine: Engine) -> PageResult:
    note = None
    if task.kind == "pdf":
        if _has_text(task):
            layer = _text_layer(task)
            if layer is not None:
                return layer
        img, dpi = _render_pdf(task)
    else:
        img, dpi = _decode(task)
        if not isinstance(img, str):  # a phone photo is made a scan first; a scan only grey
            img, dpi, note = photo.as_scan(img, dpi)
    if isinstance(img, str):
        return PageResult("none", note=img)
    res = ocr_image(engine, img, dpi, task.langs, task.timeout)
    res.note = note
    return res


# --- sources -------------------------------------------------------------


def _has_text(task: PageTask) -> bool:
    """pdfium's quick answer: are there letters on this page at all?"""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(task.data)
    try:
        tp = pdf[task.index].get_textpage()
        text = tp.get_text_range() if tp.count_chars() else ""
        return sum(1 for c in text if c.isalpha()) >= 20
    finally:
        pdf.close()


def _text_layer(task: PageTask) -> PageResult | None:
    """Words from the PDF's own text, or None when the page has none worth using."""
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(task.data))
    except Exception:
        return _pdfium_layer(task)
    with pdf:
        try:
            page = pdf.pages[task.index]
            raw = page.extract_words(use_text_flow=False, keep_blank_chars=False)
        except Exception:  # pdfminer gave up where pdfium did not
            return _pdfium_layer(task)
        letters = sum(1 for w in raw for c in w["text"] if c.isalpha())
        if letters < 20:
            return _pdfium_layer(task)
        words = _layer_lines(raw)
        res = PageResult(
            "text-layer",
            words=words,
            width=int(page.width),
            height=int(page.height),
            dpi=72.0,
            mean_conf=100.0,
        )
        res.underlines = _layer_underlines(page, words)
        return res


def _pdfium_layer(task: PageTask) -> PageResult | None:
    """The text layer as pdfium sees it, for PDFs that pdfminer cannot parse."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(task.data)
    try:
        page = pdf[task.index]
        height = page.get_height()
        tp = page.get_textpage()
        raw: list[dict] = []
        cur: dict | None = None
        for i in range(tp.count_chars()):
            ch = tp.get_text_range(i, 1)
            if not ch or ch.isspace():
                cur = None
                continue
            left, bottom, right, top = tp.get_charbox(i)
            box = {"x0": left, "x1": right, "top": height - top, "bottom": height - bottom}
            if cur is None or abs(box["top"] - cur["top"]) > 3 or box["x0"] - cur["x1"] > 3:
                cur = dict(box, text=ch)
                raw.append(cur)
            else:
                cur["text"] += ch
                cur["x1"] = max(cur["x1"], box["x1"])
                cur["bottom"] = max(cur["bottom"], box["bottom"])
        if sum(1 for w in raw for c in w["text"] if c.isalpha()) < 20:
            return None
        return PageResult(
            "text-layer",
            words=_layer_lines(raw),
            width=int(page.get_width()),
            height=int(height),
            dpi=72.0,
            mean_conf=100.0,
        )
    finally:
        pdf.close()


def _layer_lines(raw: list[dict]) -> list[Word]:
    raw = sorted(raw, key=lambda w: (round(w["top"]), w["x0"]))
    lines: list[list[dict]] = []
    for w in raw:
        mid = (w["top"] + w["bottom"]) / 2
        for ln in lines:
            ref = ln[0]
            if ref["top"] - 1 <= mid <= ref["bottom"] + 1:
                ln.append(w)
                break
        else:
            lines.append([w])
    lines.sort(key=lambda ln: min(w["top"] for w in ln))
    words: list[Word] = []
    block, prev_bottom = 0, None
    for i, ln in enumerate(lines):
        ln.sort(key=lambda w: w["x0"])
        top = min(w["top"] for w in ln)
        height = max(w["bottom"] - w["top"] for w in ln)
        if prev_bottom is not None and top - prev_bottom > 0.9 * height:
            block += 1
        prev_bottom = max(w["bottom"] for w in ln)
        for w in ln:
            words.append(
                Word(
                    w["text"],
                    100.0,
                    (int(w["x0"]), int(w["top"]), int(w["x1"]) + 1, int(w["bottom"]) + 1),
                    i,
                    block,
                )
            )
    return words


def _layer_underlines(page, words: list[Word]) -> dict[str, float]:
    segs = []
    for ln in list(page.lines) + list(page.rects):
        if abs(ln["bottom"] - ln["top"]) <= 3 and ln["x1"] - ln["x0"] > 5:
            segs.append((ln["x0"], ln["x1"], (ln["top"] + ln["bottom"]) / 2))
    out: dict[str, float] = {}
    for name, (x0, y0, x1, y1) in _kind_parts(words):
        h = y1 - y0
        best = 0.0
        for sx0, sx1, sy in segs:
            if y1 - 0.3 * h <= sy <= y1 + 0.6 * h:
                cover = max(0.0, min(x1, sx1) - max(x0, sx0)) / max(1.0, x1 - x0)
                best = max(best, cover)
        out[name] = max(out.get(name, 0.0), best)
    return out


def _render_pdf(task: PageTask):
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument(task.data)
    try:
        page = pdf[task.index]
        w_pt, h_pt = page.get_size()
        dpi = float(task.render_dpi)
        # A scan's own resolution is enough: rendering a 200-dpi image at 300
        # dpi only makes tesseract slower.
        img_dpi = 0.0
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
            try:
                x0, y0, x1, y1 = obj.get_bounds()
                if (x1 - x0) * (y1 - y0) < 0.25 * w_pt * h_pt:
                    continue
                pw, ph = obj.get_px_size()
                img_dpi = max(img_dpi, pw / ((x1 - x0) / 72.0), ph / ((y1 - y0) / 72.0))
            except Exception:
                continue
        if img_dpi >= 100:
            dpi = min(dpi, img_dpi)
        pixels = (w_pt / 72 * dpi) * (h_pt / 72 * dpi)
        if pixels > task.max_pixels:
            return f"page {task.index + 1}: {pixels / 1e6:.0f} Mpx at {dpi:.0f} dpi exceeds the limit", 0
        bitmap = page.render(scale=dpi / 72.0, grayscale=True)
        img = bitmap.to_pil().convert("L")
        return img, dpi
    finally:
        pdf.close()


def _load_image(task: PageTask):
    """The page of an image file in grey, and its dpi (or a note and 0)."""
    img, dpi = _decode(task)
    return (img, dpi) if isinstance(img, str) else (photo.grey(img), dpi)


def _decode(task: PageTask):
    """The page of an image file as it is stored (colour kept for photo.as_scan)."""
    Image.MAX_IMAGE_PIXELS = max(1, task.max_pixels)
    try:
        im = Image.open(io.BytesIO(task.data))
        if task.index:
            im.seek(task.index)
        w, h = im.size
        if w * h > task.max_pixels:
            return f"image {w}x{h} exceeds the pixel limit", 0
        dpi = _image_dpi(im)
        if photo.camera_exif(im):  # a 50 Mpx phone photo decoded smaller, by the JPEG decoder itself
            photo.draft(im)
            dpi *= im.size[0] / w
        im.load()
    except Image.DecompressionBombError:
        return "image exceeds the pixel limit (decompression bomb)", 0
    return im, dpi


def _image_dpi(im: Image.Image) -> float:
    dpi = im.info.get("dpi")
    try:
        d = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        d = 0.0
    est = min(im.size) / 8.27  # A4 portrait or landscape
    if 100 <= d <= 1200 and abs(d - est) < 0.35 * est:
        return d
    return max(est, 70.0)


# --- OCR -----------------------------------------------------------------


def deskew(img: Image.Image, degrees: float) -> Image.Image:
    """`img.rotate(degrees, Image.BILINEAR, expand=True, fillcolor=255)` of a grey
    page, by OpenCV: the same size and geometry (so `turns` and source_box hold),
    pixels within a few grey levels of Pillow's, at a sixth of the CPU (0.02
    against 0.12 CPU-s for a 300-dpi A4 page, which most scans need).
    NEAREST would be as cheap, and cost two fields of 30 generated messages
    ("үл." for "ул.", an underline missed)."""
    if img.mode != "L":
        return img.rotate(degrees, Image.BILINEAR, expand=True, fillcolor=255)
    import cv2
    import numpy as np

    # Pillow's own matrix (Image.rotate): output pixel -> input point, turned
    # about the centre, the output grown to hold the turned corners
    w, h = img.size
    a = -math.radians(degrees)
    c, s = round(math.cos(a), 15), round(math.sin(a), 15)
    cx, cy = w / 2.0, h / 2.0
    tx, ty = c * -cx + s * -cy + cx, -s * -cx + c * -cy + cy
    xs = [c * x + s * y + tx for x, y in ((0, 0), (w, 0), (w, h), (0, h))]
    ys = [-s * x + c * y + ty for x, y in ((0, 0), (w, 0), (w, h), (0, h))]
    nw = math.ceil(max(xs)) - math.floor(min(xs))
    nh = math.ceil(max(ys)) - math.floor(min(ys))
    dx, dy = -(nw - w) / 2.0, -(nh - h) / 2.0
    tx, ty = c * dx + s * dy + tx, -s * dx + c * dy + ty
    # Pillow samples at pixel centres (x + 0.5), OpenCV at whole pixels
    m = np.array([[c, s, tx + 0.5 * (c + s) - 0.5], [-s, c, ty + 0.5 * (c - s) - 0.5]])
    out = cv2.warpAffine(
        np.asarray(img),
        m,
        (nw, nh),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )
    return Image.fromarray(out)


def ocr_image(engine: Engine, img: Image.Image, dpi: float, langs: str, timeout: float) -> PageResult:
    if dpi > 400:  # tesseract is no better above ~300 dpi, only slower
        f = 300.0 / dpi
        img = img.resize((max(1, int(img.width * f)), max(1, int(img.height * f))), Image.LANCZOS)
        dpi = 300.0
    t0 = time.monotonic()
    img = flatten_light(img)
    source = img.size
    turns: list[tuple[float, tuple[int, int], tuple[int, int]]] = []

    def turn(pic: Image.Image, degrees: float, steps: list, fine: bool = False) -> Image.Image:
        out = deskew(pic, degrees) if fine else pic.rotate(degrees, expand=True, fillcolor=255)
        steps.append((degrees, pic.size, out.size))
        return out

    angle, sideways = level(img)
    rotation, guessed = 0, False
    if sideways:  # turn it before the read, not after a wasted one
        rot = _orientation(engine, img, dpi, timeout)
        if rot not in (90, 270):  # the lines run down the page: OSD's unsure answer says which way
            rot, guessed = _orientation(engine, img, dpi, timeout, least=0.0), True
        if rot in (90, 270):
            img, rotation = turn(img, -rot, turns), rot
            angle = estimate_skew(img)
    if abs(angle) >= 0.3:
        img = turn(img, angle, turns, fine=True)
    words = engine.words(img, dpi, langs, timeout=timeout)
    if guessed and rotation and _weak(words):  # the unsure answer was the wrong way round
        turns2 = list(turns)
        img2 = turn(img, 180, turns2)
        words2 = engine.words(img2, dpi, langs, timeout=timeout)
        if _quality(words2) > _quality(words):
            img, words, rotation, turns = img2, words2, (rotation + 180) % 360, turns2
    if _weak(words) and _has_ink(img) and not rotation:
        rot = _orientation(engine, img, dpi, timeout)
        if rot:
            turns2 = list(turns)
            img2 = turn(img, -rot, turns2)
            a2 = estimate_skew(img2)
            if abs(a2) >= 0.3:
                img2 = turn(img2, a2, turns2, fine=True)
            words2 = engine.words(img2, dpi, langs, timeout=timeout)
            if _quality(words2) > _quality(words) or (
                _upright(words) and not _upright(words2) and _quality(words2) > 0.8 * _quality(words)
            ):
                img, words, rotation, angle, turns = img2, words2, rot, a2, turns2
    res = PageResult(
        "ocr",
        words=words,
        width=img.width,
        height=img.height,
        dpi=dpi,
        angle=angle,
        rotation=rotation,
        turns=turns,
        source_size=source,
    )
    confs = [w.conf for w in words if w.conf >= 0]
    res.mean_conf = sum(confs) / len(confs) if confs else 0.0
    if not _weak(words):  # a page read this poorly (handwriting) has a sheet of doubts and nothing to gain
        words = second_look(engine, img, words, dpi, langs, timeout)
    res.words = words
    threshold = otsu(img)
    res.underlines = underline_scores(img, words, threshold)
    res.alt, res.digits = field_reread(engine, img, words, dpi, timeout, langs)
    res.ocr_seconds = time.monotonic() - t0
    return res


def source_box(res: PageResult, box: tuple[int, int, int, int]) -> tuple[float, float, float, float]:
    """A box of the read picture as fractions (0..1) of the page as it came: the
    turns undone, so it lies over the same place of the scan the card shows."""
    corners = [(box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])]
    for degrees, (iw, ih), (ow, oh) in reversed(res.turns):
        a = math.radians(degrees)  # Image.rotate turns counter-clockwise about the centre
        corners = [
            (
                (x - ow / 2) * math.cos(a) - (y - oh / 2) * math.sin(a) + iw / 2,
                (x - ow / 2) * math.sin(a) + (y - oh / 2) * math.cos(a) + ih / 2,
            )
            for x, y in corners
        ]
    w, h = res.source_size if res.source_size[0] else (res.width, res.height)
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    return (
        round(max(0.0, min(xs) / w), 4),
        round(max(0.0, min(ys) / h), 4),
        round(min(1.0, max(xs) / w), 4),
        round(min(1.0, max(ys) / h), 4),
    )


HEAD_LINES = 5  # a Book entry writes its date, name, address and phone first


def head_box(res: PageResult) -> tuple[float, float, float, float] | None:
    """Where a page written by hand gives the applicant (fractions of the page as
    it came): its first lines of writing, where a Book entry and a letter put the
    name, the address and the phone. The reader cannot say which line is which."""
    lines: dict[int, list[Word]] = {}
    for w in res.words:
        if sum(c.isalnum() for c in w.text) >= 2 and (w.box[3] - w.box[1]) >= 6:
            lines.setdefault(w.line, []).append(w)
    head = sorted(lines.values(), key=lambda ws: min(w.box[1] for w in ws))[:HEAD_LINES]
    if not head:
        return None
    ws = [w for ln in head for w in ln]
    pad = max(w.box[3] - w.box[1] for w in ws) // 2
    x0 = min(w.box[0] for w in res.words)  # the whole width the writing takes
    x1 = max(w.box[2] for w in res.words)
    y0, y1 = min(w.box[1] for w in ws), max(w.box[3] for w in ws)
    return source_box(res, (max(0, x0 - pad), max(0, y0 - pad), x1 + pad, y1 + pad))


def flatten_light(img: Image.Image, spread: int = 40) -> Image.Image:
    """A page lit unevenly (a phone's shadow, a scanner's gradient) made evenly white.

    The paper's brightness is estimated at 1/16 scale with the ink filtered out
    (a maximum filter), then subtracted: each pixel keeps its darkness relative
    to the paper around it. A page whose paper varies by less than `spread`
    grey levels is returned as it is, so clean scans read exactly as before.
    """
    from PIL import ImageChops

    w, h = img.size
    if w < 64 or h < 64:
        return img
    small = img.reduce(16).filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.BoxBlur(3))  # ~10 ms a page
    lo, hi = small.getextrema()
    if hi - lo < spread:
        return img
    return ImageChops.subtract(img, small.resize(img.size, Image.BILINEAR), 1.0, 255)


def _orientation(engine: Engine, img: Image.Image, dpi: float, timeout: float, least: float = 1.0) -> int:
    """The page's turn by OSD: it needs no fine print, and a page at 150 dpi is
    a quarter of the work of one at 300."""
    f = min(1.0, 150.0 / dpi)
    small = img.resize((max(1, int(img.width * f)), max(1, int(img.height * f))), Image.BOX) if f < 1 else img
    return engine.orientation(small, dpi * f, timeout, least)


def _upright(words: list[Word]) -> bool:
    """Tesseract reads a page lying on its side on its own, but its word boxes
    then stand upright, and underlines are not under their words."""
    wordy = [w for w in words if len(w.text) >= 4]
    return bool(wordy) and sum((w.box[3] - w.box[1]) > (w.box[2] - w.box[0]) for w in wordy) > len(wordy) / 2


def _weak(words: list[Word]) -> bool:
    """Too little read with confidence: maybe the page lies on its side or upside down."""
    if _upright(words):
        return True
    long = [w for w in words if len(w.text) >= 2]
    good = [w for w in long if w.conf >= 70 and len(w.text) >= 3]
    mean = sum(w.conf for w in long) / len(long) if long else 0.0
    return len(good) < 8 or mean < 60


def _quality(words: list[Word]) -> float:
    return sum(w.conf for w in words if w.conf >= 50 and len(w.text) >= 2)


def _has_ink(img: Image.Image) -> bool:
    hist = img.histogram()
    return sum(hist[:128]) > 0.002 * img.width * img.height


# --- picture analysis ----------------------------------------------------


def estimate_skew(img: Image.Image, width: int = 640, limit: int = 15) -> float:
    """Angle (degrees, PIL's counter-clockwise sense) that levels the text lines.

    Projection profiles: rows of a level page alternate between ink and paper,
    so the row sums are most uneven at the right angle.
    """
    return level(img, width, limit)[0]


def level(img: Image.Image, width: int = 640, limit: int = 15) -> tuple[float, bool]:
    """(estimate_skew's angle, do the lines run down the page?).

    A page on its side has its row sums far more uneven turned by 90 degrees
    (measured: 2.0 times for one, at most 0.8 for 50 upright pages).
    """
    if img.width < 50 or img.height < 50:
        return 0.0, False
    h = max(1, img.height * width // img.width)
    small = img.resize((width, h), Image.BOX)
    inv = ImageOps.invert(small).point(lambda v: 255 if v > 90 else 0)
    bb = inv.getbbox()
    if not bb:
        return 0.0, False
    inv = inv.crop(bb)
    # the whole-degree search on a quarter of the pixels: a degree apart the
    # profiles differ plainly at half the width too
    half = inv.resize((max(1, inv.width // 2), max(1, inv.height // 2)), Image.BOX)
    cache: dict[tuple[int, float], float] = {}

    def score(a: float, pic: Image.Image = inv) -> float:
        key = (pic.width, round(a, 3))
        if key not in cache:
            r = pic.rotate(a, resample=Image.NEAREST, expand=True, fillcolor=0)
            col = r.resize((1, r.height), Image.BOX)
            cache[key] = ImageStat.Stat(col).sum2[0] / (col.height or 1)
        return cache[key]

    b = float(max(range(-limit, limit + 1), key=lambda a: score(float(a), half)))
    across = score(b, half)
    down = max(score(90.0 + a, half) for a in range(-6, 7, 2))
    b = max((b + k / 4 for k in range(-4, 5)), key=score)
    b = max((b + k / 20 for k in range(-5, 6)), key=score)
    return round(b, 2), down > 1.3 * across


def otsu(img: Image.Image) -> int:
    hist = img.histogram()[:256]
    total = sum(hist)
    if not total:
        return 128
    sum_all = sum(i * h for i, h in enumerate(hist))
    w_b = sum_b = 0.0
    best, thr = -1.0, 128
    for t in range(256):
        w_b += hist[t]
        if w_b == 0:
            continue
        w_f = total - w_b
        if w_f == 0:
            break
        sum_b += t * hist[t]
        m_b, m_f = sum_b / w_b, (sum_all - sum_b) / w_f
        between = w_b * w_f * (m_b - m_f) ** 2
        if between > best:
            best, thr = between, t
    return thr


def _norm_upper(s: str) -> str:
    tr = str.maketrans(
        {
            "A": "А",
            "B": "В",
            "E": "Е",
            "K": "К",
            "M": "М",
            "H": "Н",
            "O": "О",
            "P": "Р",
            "C": "С",
            "T": "Т",
            "X": "Х",
            "Y": "У",
            "3": "З",
            "0": "О",
        }
    )
    return s.upper().translate(tr)


def _near(a: str, b: str) -> bool:
    """Equal, or one edit apart for words of 6+ letters."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1 or len(b) < 6:
        return False
    # Levenshtein distance <= 1
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    s, t = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(t)):
        if t[:i] + t[i + 1 :] == s:
            return True
    return False


def _kind_parts(words: list[Word]):
    """(canonical word, box) for each of the underline words on the page.

    "ЖАЛОБА/ПРЕТЕНЗИЯ" often comes as one token; its parts get boxes in
    proportion to their letters.
    """
    for w in words:
        t = w.text.strip("«»\"'.,:;()_")
        if not t or not any(c.isupper() for c in t) or sum(c.islower() for c in t) > 2:
            continue
        parts = re.split(r"[/|\\]", t)
        if len(parts) == 1:  # the slash misread as a letter
            n = _norm_upper(t)
            for a, b in (("ЖАЛОБА", "ПРЕТЕНЗИЯ"), ("ОТЗЫВ", "ПРЕДЛОЖЕНИЕ")):
                if len(n) == len(a) + len(b) + 1 and _near(n[: len(a)], a) and _near(n[len(a) + 1 :], b):
                    parts = [t[: len(a)], t[len(a) + 1 :]]
        total = sum(len(p) for p in parts) + (len(parts) - 1)
        x0, y0, x1, y1 = w.box
        pos = 0
        for p in parts:
            n = _norm_upper(p)
            for canon in UNDERLINE_WORDS:
                if _near(n, canon):
                    px0 = x0 + (x1 - x0) * pos / total
                    px1 = x0 + (x1 - x0) * (pos + len(p)) / total
                    yield canon, (int(px0), y0, int(px1), y1)
            pos += len(p) + 1


def underline_scores(img: Image.Image, words: list[Word], threshold: int) -> dict[str, float]:
    """For each underline word found, how much of its width has a line under it.

    Looks at the band from mid-height of the word to half a word-height under
    it for a row whose longest dark run spans the word (a letter's strokes are
    far shorter). Ink 2 px apart is joined, and three rows are pooled, so a
    broken or wavy pen line still counts.
    """
    out: dict[str, float] = {}
    for canon, (x0, y0, x1, y1) in _kind_parts(words):
        h = max(4, y1 - y0)
        bx0, bx1 = max(0, x0), min(img.width, x1)
        by0, by1 = max(0, y0 + h // 2), min(img.height, y1 + int(0.7 * h))
        if bx1 - bx0 < 8 or by1 - by0 < 3:
            continue
        crop = img.crop((bx0, by0, bx1, by1))
        cw = crop.width
        # each row as an int of 0/1 bytes: three rows pool with one "|", and a
        # run with gaps of at most max_gap is one regex match (C speed, same result)
        data = crop.tobytes().translate(bytes(1 if v <= threshold else 0 for v in range(256)))
        rows = [int.from_bytes(data[r * cw : (r + 1) * cw], "big") for r in range(crop.height)]
        max_gap = 1 if h < 40 else 2  # wider, and serifs on the baseline join up
        run = re.compile(rb"\x01(?:\x00{0,%d}\x01)*" % max_gap)
        best = 0
        for r in range(len(rows)):
            pooled = 0
            for row in rows[max(0, r - 1) : r + 2]:
                pooled |= row
            best = max([best] + [len(m.group()) for m in run.finditer(pooled.to_bytes(cw, "big"))])
        score = min(1.0, best / cw)
        out[canon] = max(out.get(canon, 0.0), score)
    return out


def second_look(
    engine: Engine,
    img: Image.Image,
    words: list[Word],
    dpi: float,
    langs: str,
    timeout: float,
    limit: int = 40,
    below: float = 85.0,
) -> list[Word]:
    """Read doubtful words again, each cut out on its own line.

    In its line a word can be misread where alone it is clear (a lone "110"
    under an address read as "ПЕШ)"). The doubtful words' crops are stacked
    into one picture, so the second look costs one read per page.
    A second reading replaces the first only when it is surer; two readings
    that disagree keep the surer one a little less sure.
    """
    idx = [
        i for i, w in enumerate(words) if w.conf < below and "@" not in w.text and (w.box[3] - w.box[1]) >= 8
    ]
    idx = sorted(idx, key=lambda i: words[i].conf)[:limit]
    if not idx:
        return words
    crops = []
    for i in sorted(idx):
        x0, y0, x1, y1 = words[i].box
        h = y1 - y0
        crops.append(
            (
                i,
                img.crop(
                    (
                        max(0, x0 - h // 4),
                        max(0, y0 - h // 3),
                        min(img.width, x1 + h // 4),
                        min(img.height, y1 + h // 3),
                    )
                ),
            )
        )
    gap = max(c.height for _, c in crops)
    width = max(c.width for _, c in crops) + 2 * gap
    height = sum(c.height + gap for _, c in crops) + gap
    sheet = Image.new("L", (width, height), 255)
    spans = []
    y = gap
    for i, c in crops:
        sheet.paste(c, (gap, y))
        spans.append((i, y, y + c.height))
        y += c.height + gap
    sheet = sheet.filter(ImageFilter.MedianFilter(3))  # specks around a lone word mislead
    try:
        again = engine.words(sheet, dpi, langs, psm=6, timeout=timeout)
    except Exception:
        return words
    out = list(words)
    for i, top, bottom in spans:
        got = [w for w in again if top <= (w.box[1] + w.box[3]) / 2 <= bottom]
        if not got:
            continue
        text = " ".join(w.text for w in got)
        conf = min(w.conf for w in got)
        old = words[i]
        if text == old.text:
            out[i] = Word(old.text, max(old.conf, conf), old.box, old.line, old.block)
        elif len(got) == 1 and conf >= old.conf + 5 and (len(old.text) > 2 or (conf >= 90 and old.conf < 60)):
            out[i] = Word(text, conf * 0.95, old.box, old.line, old.block)
    return out


_PHONE_LABEL = re.compile(r"(телефон(ы|ы/телефон)?[:.]?$|^тел[.:]?$|^тел\.|^моб)", re.I)
_WHITELIST = {
    "email": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@.-_+",
    "phone": "0123456789+()-",
}


def value_segments(words: list[Word]) -> list[tuple[str, list[int], int | None]]:
    """(field, word indices) of the e-mail and phone values on a page.

    A value is what follows its label on the label's line; when the line
    holds nothing more, the next line (an e-mail on its own line). A phone
    may run on to the next line. Bare words with "@" are e-mail values too.
    """
    lines: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        lines.setdefault(w.line, []).append(i)
    order = sorted(lines, key=lambda ln: words[lines[ln][0]].box[1])
    # the next line that holds a real word (specks make lines of their own)
    real = [ln for ln in order if any(sum(c.isalnum() for c in words[i].text) >= 3 for i in lines[ln])]
    nxt = {}
    for ln in order:
        later = [r for r in real if words[lines[r][0]].box[1] > words[lines[ln][0]].box[1]]
        if later:
            nxt[ln] = later[0]
    out: list[tuple[str, list[int], int | None]] = []
    used: set[int] = set()
    for ln in order:
        idx = lines[ln]
        for k, i in enumerate(idx):
            text = words[i].text
            field = "email" if _EMAIL_LABEL.search(text) else "phone" if _PHONE_LABEL.search(text) else None
            if not field:
                continue
            if k + 1 < len(idx) and (
                _EMAIL_LABEL.search(words[idx[k + 1]].text) or _PHONE_LABEL.search(words[idx[k + 1]].text)
            ):
                continue  # the label goes on ("эл. пошта/эл. почта")
            seg = list(idx[k + 1 :])
            if not any(
                sum(c.isalnum() for c in words[j].text) >= 1
                and (words[j].conf >= 30 or len(words[j].text) > 2)
                for j in seg
            ):
                seg = []  # only specks after the label
            following = lines.get(nxt.get(ln, -1), [])
            if field == "email" and not seg and following:
                texts = [words[j].text for j in following]
                joined = "".join(texts)
                if "@" in joined or (
                    len(following) <= 3
                    and len(joined) >= 8
                    and sum(c.isalnum() for c in joined) >= 6
                    and not any(t.isupper() and len(t) > 3 for t in texts)
                ):
                    seg = list(following)
            if (
                field == "phone"
                and seg
                and following
                and sum(c.isdigit() for c in "".join(words[j].text for j in seg)) < 11
                and words[following[0]].text[:1] in "0123456789(-+"
            ):
                seg += list(following)
            seg = [j for j in seg if j not in used]
            if seg:
                used.update(seg)
                out.append((field, seg, i))
            break
    for i, w in enumerate(words):
        if "@" in w.text and i not in used:
            # OCR may have cut the address into pieces: take the close neighbours too
            same = lines[w.line]
            k = same.index(i)
            h = max(8, w.box[3] - w.box[1])
            lo = hi = k
            while (
                lo > 0
                and words[same[lo]].box[0] - words[same[lo - 1]].box[2] < 0.8 * h
                and not _EMAIL_LABEL.search(words[same[lo - 1]].text)
            ):
                lo -= 1
            while hi + 1 < len(same) and words[same[hi + 1]].box[0] - words[same[hi]].box[2] < 0.8 * h:
                hi += 1
            seg = [j for j in same[lo : hi + 1] if j not in used]
            out.append(("email", seg, None))
            used.update(seg)
    return out


_ANY_LABEL = re.compile(r"(потреб|адрес|мекен|телефон|почт|пошта|e-?mail)", re.I)


def text_segments(words: list[Word]) -> list[tuple[str, list[int], int | None]]:
    """(field, word indices, label) of the name and address on a form: what
    follows "от потребителя" / "по адресу", on to the next label's line."""
    lines: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        lines.setdefault(w.line, []).append(i)
    order = sorted(lines, key=lambda ln: words[lines[ln][0]].box[1])
    out: list[tuple[str, list[int], int | None]] = []
    for field, key in (("name", "потребител"), ("address", "адрес")):
        for pos, ln in enumerate(order):
            idx = lines[ln]
            hit = [k for k, i in enumerate(idx) if key in words[i].text.lower()]
            if not hit and field == "name":  # "потребителя" lost: the label's Kazakh half "тұтынушы/от"
                hit = [k for k, i in enumerate(idx) if re.match(r"т[ұу]тынушы", words[i].text.lower())]
            if not hit:
                continue
            label = idx[hit[0]]
            seg = list(idx[hit[0] + 1 :])
            for nxt in order[pos + 1 : pos + 4]:
                texts = [words[i].text for i in lines[nxt]]
                if any(_ANY_LABEL.search(t) for t in texts) or any(t.isupper() and len(t) > 4 for t in texts):
                    break
                seg += lines[nxt]
            if seg:
                out.append((field, seg, label))
            break
    return out


ORG_LINES = 4  # a letterhead names the organisation in its first lines (fields.read_letter)


def org_segments(words: list[Word]) -> list[tuple[str, list[int], int | None]]:
    """("org", the letterhead line's words) where one of the page's first lines
    begins with a legal form (ТОО, ИП, ЖШС, КХ …): Kazakh names in it ("Нұр
    Ақсу") come back with Russian look-alikes from the page's model, and the
    Kazakh-first model reads them (fields.read_letter takes its letters)."""
    lines: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        lines.setdefault(w.line, []).append(i)
    order = sorted(lines, key=lambda ln: words[lines[ln][0]].box[1])
    real = [ln for ln in order if any(sum(c.isalnum() for c in words[i].text) >= 2 for i in lines[ln])]
    for ln in real[:ORG_LINES]:
        idx = lines[ln]
        first = words[idx[0]].text.strip("«\"'“„").upper()
        if first in ORG_FORMS:
            return [("org", idx, None)]
    return []


# a line of a Kazakh header or a Kazakh name: "… тұратын", "Мекенжайы:", "Аты-жөні:", "Қайратұлы",
# "Петропавл қаласы" — read again Kazakh first, for the letters rus+kaz gives as Russian look-alikes
_KAZAKH_MARK = re.compile(
    r"^(?:тұратын|туратын|мекенжайы|мекенжайым|аты-?ж\w*|\w+(?:ұлы|улы|қызы|кызы)(?:нан)?|"
    r"ауылы|қаласы|каласы|көшесі|кешесі|\d+-?үй|\d+-?пәтер|\d+-?пэтер)[,.:]?$",
    re.I,
)
KAZAKH_LINES = 30  # the header and the signature of a one-page letter, not a long text


def kazakh_segments(words: list[Word]) -> list[tuple[str, list[int], int | None]]:
    """("kz", a line's words) for the lines of a Kazakh header, name or address
    (and the line a name or address wraps onto): fields.free takes their Kazakh
    letters where the Kazakh-first reading differs from the page's by those alone."""
    lines: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        lines.setdefault(w.line, []).append(i)
    order = sorted(lines, key=lambda ln: words[lines[ln][0]].box[1])
    marked: list[int] = []
    for pos, ln in enumerate(order[:KAZAKH_LINES]):
        texts = [words[i].text.strip("«»\"'") for i in lines[ln]]
        if any(_KAZAKH_MARK.match(t) for t in texts):
            # a name or an address wraps onto the next line, or began on the one before
            marked += [p for p in (pos - 1, pos, pos + 1) if 0 <= p < len(order)]
    return [("kz", lines[order[p]], None) for p in sorted(set(marked))]


_OUT_WORD = re.compile(r"^[«\"]?(исх|ucx)", re.I)


def digit_words(words: list[Word], limit: int = 16) -> list[int]:
    """The words whose digits make a field: those of the address on a form
    and of the "Исх. № … от …" line of a letter (number and date)."""
    idx: list[int] = []
    # a free letter's address may follow the name ("от …, г. Тайынша, ул. …, д. 5/1") or a Kazakh label
    for field, seg, _ in text_segments(words) + kazakh_segments(words):
        if field in ("address", "name", "kz"):
            idx += [j for j in seg if any(c.isdigit() for c in words[j].text)]
    for i, w in enumerate(words):
        if _OUT_WORD.match(w.text):
            idx += [
                j
                for j, v in enumerate(words)
                if v.line == w.line and j > i and any(c.isdigit() for c in v.text)
            ]
            break
    return list(dict.fromkeys(idx))[:limit]


# How each digit word is cut out for the English model: binarised at ~40 px
# word height, then grey at ~36 px (see fields.digits_confirmed).
DIGIT_READS = (("bin", 40.0), ("grey", 36.0))


def _digit_crops(img: Image.Image, w: Word, words: list[Word]) -> list[Image.Image]:
    x0, y0, x1, y1 = w.box
    h = max(8, y1 - y0)
    box = (
        max(0, x0 - h // 3),
        max(0, y0 - h // 3),
        min(img.width, x1 + h // 3),
        min(img.height, y1 + h // 3),
    )
    crop = img.crop(box)
    draw = ImageDraw.Draw(crop)
    for v in words:  # the next word's first stroke ("87 пәтер") is read as a digit: painted over
        bx0, by0, bx1, by1 = v.box
        if bx1 < box[0] or bx0 > box[2] or by1 < box[1] or by0 > box[3]:
            continue
        if bx0 < x1 and bx1 > x0 and by0 < y1 and by1 > y0:
            continue  # a box over the word's own (tesseract's boxes overlap): nothing is painted
        # the next line's digits reaching into the margin under "15" are painted over:
        # left in, the English model read the cut as "2." and "aa"
        draw.rectangle([bx0 - box[0], by0 - box[1], bx1 - box[0], by1 - box[1]], fill=255)
    out = []
    for how, target in DIGIT_READS:
        scale = min(3.0, max(0.5, target / h))
        c = crop.resize((max(1, int(crop.width * scale)), max(1, int(crop.height * scale))), Image.LANCZOS)
        if how == "bin":
            t = otsu(c)
            c = c.point(lambda v, t=t: 0 if v <= t else 255)
        out.append(c)
    return out


# A name or an address read at least this sure, and not a Kazakh name read
# with Russian look-alikes, is not read again: the other readings could only
# confirm it (measured: they changed no value on appeals/ or a generated corpus).
SURE = 90.0


def _doubtful(words: list[Word], seg: list[int], field: str) -> bool:
    """Does this name or address need its other readings?"""
    for j in seg:
        w = words[j]
        if not any(c.isalpha() or c.isdigit() for c in w.text):
            continue
        if w.conf < SURE:
            return True
        if field == "name" and lexicon.kazakh_lookalike(w.text.strip(".,;:()«»\"'_|")):
            return True  # "Элия" for "Әлия": the Kazakh-first reading settles it
    return False


def _agrees(field: str, main: str, reading: str) -> bool:
    """Does the English model's first reading give the page's value?"""
    if field == "phone":
        a = parse_phone(main)
        return a is not None and a == parse_phone(reading)
    a = clean_email(main) if main.isascii() else None
    return a is not None and a == clean_email(reading)


def _line_cuts(img: Image.Image, words: list[Word], seg: list[int], label: int | None, field: str):
    """The value's lines cut out, other words reaching in painted over: (cut, word height)."""
    by_line: dict[int, list[int]] = {}
    for j in seg:
        by_line.setdefault(words[j].line, []).append(j)
    out = []
    for ids in by_line.values():
        x0 = min(words[j].box[0] for j in ids)
        y0 = min(words[j].box[1] for j in ids)
        x1 = max(words[j].box[2] for j in ids)
        y1 = max(words[j].box[3] for j in ids)
        h = max(8, y1 - y0)
        if label is not None and field == "email":  # all between the label and the value
            lb = words[label].box
            if words[label].line == words[ids[0]].line:
                x0 = min(x0, lb[2] + 2)
            else:  # on a line of its own: from where the label's line begins
                x0 = min([x0] + [w.box[0] for w in words if w.line == words[label].line])
        box = (
            max(0, x0 - h // 2),
            max(0, y0 - h // 3),
            min(img.width, x1 + h // 2),
            min(img.height, y1 + h // 3),
        )
        crop = img.crop(box)
        draw = ImageDraw.Draw(crop)
        for k, w in enumerate(words):  # other words that reach into the cut
            if k in ids:
                continue
            bx0, by0, bx1, by1 = w.box
            if bx1 < box[0] or bx0 > box[2] or by1 < box[1] or by0 > box[3]:
                continue
            draw.rectangle([bx0 - box[0] - 1, by0 - box[1] - 1, bx1 - box[0] + 1, by1 - box[1] + 1], fill=255)
        out.append((crop, h))
    return out


def _scaled(crop: Image.Image, h: int, target: float) -> Image.Image:
    scale = min(3.0, max(0.5, target / h))
    return crop.resize((max(1, int(crop.width * scale)), max(1, int(crop.height * scale))), Image.LANCZOS)


def _read_sheets(engine: Engine, pieces: dict[tuple[str, str], list], dpi: float, timeout: float, segs: list):
    """Stack the cuts of each (model, sheet) into one picture and read it once.

    Returns ((key, which) -> the texts read in each cut, in order;
    segment id -> the lowest confidence of its words)."""
    texts: dict[tuple, list[str]] = {}
    confs: dict[int, float] = {}
    for (model, _sheet), items in pieces.items():
        if not items:
            continue
        gap = max(c.height for _, _, c in items) // 2 + 10
        width = max(c.width for _, _, c in items) + 2 * gap
        height = sum(c.height + gap for _, _, c in items) + gap
        sheet = Image.new("L", (width, height), 255)
        spans = []
        y = gap
        for key, which, c in items:
            sheet.paste(c, (gap, y))
            spans.append((key, which, y, y + c.height))
            y += c.height + gap
        try:
            got = engine.words(sheet, dpi, model, psm=6, timeout=timeout)
        except Exception:
            continue
        for key, which, top, bottom in spans:
            ws = [w for w in got if top <= (w.box[1] + w.box[3]) / 2 <= bottom]
            sep = "" if key[0] == "seg" and segs[key[1]][0] == "email" else " "
            texts.setdefault((key, which), []).append(sep.join(w.text for w in ws))
            if ws and key[0] == "seg":
                confs[key[1]] = min(confs.get(key[1], 100.0), min(w.conf for w in ws))
    return texts, confs


def field_reread(
    engine: Engine, img: Image.Image, words: list[Word], dpi: float, timeout: float, langs: str = "rus+kaz"
) -> tuple[dict, dict]:
    """Read e-mail addresses, phone numbers, doubtful names and addresses
    again, and the digits of addresses and outgoing numbers with the English
    model.

    rus+kaz turns "kz5435@mail.example" into "К75435@та|.ехатр!е", and in
    some typefaces (PT Sans, PT Serif) reads a 3 as a 5 with a confidence of
    97-99, the same way at every scale (the Kazakh model's habit, which the
    combined model keeps); the English model reads Latin letters and digits
    better. Each value's line is cut out (other words on it painted over) and
    read again, scaled to other letter heights; each word with digits in an
    address or an "Исх. № … от …" line is also cut out on its own and read
    by the English model binarised (and grey when the binarised reading does
    not give the word's digits). The cuts of a page are stacked into one
    picture per model and read at once, in two rounds: what every value
    needs, then more readings of the values the first round did not settle:

    - an e-mail or phone: English at 40 px; at 30 and 50 px too unless that
      first reading gave the page's own value;
    - a name or address: only when doubtful (a word under SURE, or a name
      one letter from a common one): the page's model at 34 px, the
      Kazakh-first model at 48 px, an address's numbers in English at 40 px.

    Returns (word idx -> (field, segment id, "reading 1\treading 2...", conf),
    word idx -> the English readings of that word, in DIGIT_READS order).
    """
    segs = value_segments(words) + text_segments(words) + org_segments(words)
    taken = {j for _, seg, _ in segs for j in seg}  # a word keeps the one re-reading its field asked for
    segs += [s for s in kazakh_segments(words) if not taken & set(s[1])]
    digits = digit_words(words)
    if not segs and not digits:
        return {}, {}
    kaz_first = "+".join(reversed(langs.split("+")))  # reads Ә, Ғ, Қ... where rus+kaz says Э, Г, К
    # per segment: the readings to make, as (which, model, letter height); "which"
    # orders them in the result as before (English 30, 50, 40 px)
    first: dict[int, list[tuple[int, str, float]]] = {}
    later: dict[int, list[tuple[int, str, float]]] = {}
    # a form filled in Kazakh: its name and address read Kazakh first whatever their confidence,
    # as rus+kaz reads "Маратқызы" as "Мараткызы" sure of it (fields.read_form takes the letters)
    kazakh = kazakh_written(words[j].text for f, seg, _ in segs if f in ("name", "address") for j in seg)
    for seg_id, (field, seg, _label) in enumerate(segs):
        if field in ("email", "phone"):
            first[seg_id] = [(2, "eng", 40.0)]
            later[seg_id] = [(0, "eng", 30.0), (1, "eng", 50.0)]
        elif field in ("org", "kz"):  # the Kazakh-first reading alone: letters, not words, are in doubt
            first[seg_id] = [(1, kaz_first, 48.0)]
        elif _doubtful(words, seg, field):
            first[seg_id] = [(0, langs, 34.0), (1, kaz_first, 48.0)]
            if field == "address":
                first[seg_id].append((2, "eng", 40.0))
        elif kazakh:
            first[seg_id] = [(1, kaz_first, 48.0)]
    cuts = {
        seg_id: _line_cuts(img, words, segs[seg_id][1], segs[seg_id][2], segs[seg_id][0]) for seg_id in first
    }
    digit_cuts = {j: _digit_crops(img, words[j], words) for j in digits}

    def plan(per_seg: dict[int, list[tuple[int, str, float]]], digit_reads: dict[int, list[int]]):
        # The digit words get a sheet of their own: stacked under whole lines,
        # a lone "52," came back "92," where on its own sheet it reads "52,".
        pieces: dict[tuple[str, str], list] = {}
        for seg_id, reads in per_seg.items():
            for which, model, target in reads:
                for crop, h in cuts[seg_id]:
                    pieces.setdefault((model, "lines"), []).append(
                        (("seg", seg_id), which, _scaled(crop, h, target))
                    )
        for j, ks in digit_reads.items():
            for k in ks:
                pieces.setdefault(("eng", "digits"), []).append((("word", j), k, digit_cuts[j][k]))
        return pieces

    # both readings of every digit word at once: the binarised one read beside
    # the grey ones comes out as in the original one-sheet design (alone, a
    # "34" came back "54" and a "41," "Al,")
    both = list(range(len(DIGIT_READS)))
    texts, confs = _read_sheets(engine, plan(first, {j: both for j in digits}), dpi, timeout, segs)
    more = {}
    for seg_id, reads in later.items():
        field, seg, _ = segs[seg_id]
        sep = "" if field == "email" else " "
        main = sep.join(words[j].text for j in seg)
        if not _agrees(field, main, sep.join(texts.get((("seg", seg_id), 2), []))):
            more[seg_id] = reads
    for j in digits:  # both readings garbled: each cut once more on its own
        pair = tuple(" ".join(texts.get((("word", j), k), [])) for k in range(len(DIGIT_READS)))
        # settled: the page's digits confirmed, or both readings with other digits (english_digits
        # weighs them); one with other digits and one garbled ("63" and "6" for "65") is read alone too
        if word_digits_confirmed(words[j].text, pair) or all(
            _digit_verdict(words[j].text, r) == "other" for r in pair
        ):
            continue
        for k, crop in enumerate(digit_cuts[j]):
            pad = crop.height // 2 + 10
            alone = Image.new("L", (crop.width + 2 * pad, crop.height + 2 * pad), 255)
            alone.paste(crop, (pad, pad))
            try:
                got = engine.words(alone, dpi, "eng", psm=7, timeout=timeout)
            except Exception:
                break
            texts[(("word", j), len(DIGIT_READS) + k)] = [" ".join(w.text for w in got)]
    if more:
        texts2, confs2 = _read_sheets(engine, plan(more, {}), dpi, timeout, segs)
        texts.update(texts2)
        for k, v in confs2.items():
            confs[k] = min(confs.get(k, 100.0), v)
    out: dict[int, tuple[str, int, str, float]] = {}
    for seg_id, (field, seg, _) in enumerate(segs):
        if seg_id not in first:
            continue
        sep = "" if field == "email" else " "
        reads = "\t".join(
            sep.join(texts[(("seg", seg_id), k)]) for k in range(3) if (("seg", seg_id), k) in texts
        )
        for j in seg:
            if j not in out:
                out[j] = (field, seg_id, reads, confs.get(seg_id, 0.0))
    # DIGIT_READS on the sheet, then (when those were garbled) the same cuts alone
    n = len(DIGIT_READS)
    again = {
        j: tuple(" ".join(texts.get((("word", j), k), [])) for k in range(n))
        + tuple(" ".join(texts[(("word", j), k)]) for k in range(n, 2 * n) if (("word", j), k) in texts)
        for j in digits
    }
    return out, again
