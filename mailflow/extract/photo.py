"""A phone photo of a page made into a scan: the page found, its perspective
undone, its light made even. Runs in an OCR worker, before ocr_image.

    page, dpi, note = as_scan(decoded_image, dpi)

Deciding costs a scan almost nothing (`looks_like_photo`: the camera's EXIF
tags, and whether the frame's border is paper, on a 1/16-size thumbnail in
Pillow); only a picture that looks like a photo pays for OpenCV (imported
then, not before) and the outline search. A scan comes back as it was, in
grey, exactly as the reader got it before photos were handled.

The outline: the page is the largest bright, unsaturated, four-cornered
region of the frame. Two searches propose outlines (the paper's region by a
threshold on "paperness", and the contours of the frame's edges), and each
is checked: four convex corners, sane angles and proportions, a clear step
in brightness across each side. The best one is warped to a rectangle (A4's
proportions when it is near them) at up to 300 dpi, and the light divided
by the paper's own brightness (so a shadow darkens paper and ink alike and
is gone after). A photo whose page cannot be found is read as it is and
says so in the note, for the clerk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageChops, ImageOps

if TYPE_CHECKING:  # numpy and OpenCV are imported where a photo needs them, not before
    from numpy.typing import NDArray

Point = tuple[float, float]

A4_RATIO = 11.69 / 8.27
PHOTO_PIXELS = 16_000_000  # a photo is decoded at most this big: a page at 300 dpi is 8.7 Mpx
MIN_PAGE_SIDE = 500  # px: a page's long side below this cannot be read (about 40 dpi on A4)
OUT_DPI = 300  # the straightened page's resolution at most (tesseract gains nothing above)
LOW_DPI = 200  # a smaller page is enlarged to this: tesseract reads small letters worse
_THUMB = 256  # the long side the cheap decision looks at
_WORK = 1000  # the long side the outline is searched at

# EXIF tags (TIFF numbering)
_MAKE, _MODEL, _ORIENTATION, _EXIF_IFD = 0x010F, 0x0110, 0x0112, 0x8769
_EXPOSURE, _FNUMBER, _FOCAL = 0x829A, 0x829D, 0x920A

NO_OUTLINE = "фото: края листа не найдены, прочитано как есть (без выравнивания перспективы); сверьте поля"
TOO_SMALL = (
    "фото слишком мелкое: лист {w}×{h} px (около {dpi:.0f} dpi), текст не прочесть; нужен снимок крупнее"
)
LOW_RES = "фото мелкое: лист около {dpi:.0f} dpi, часть полей может не прочитаться"


@dataclass(frozen=True)
class Outline:
    """The page's corners in the photo (top-left, top-right, bottom-right,
    bottom-left as they lie in the frame) and how sure the search is."""

    corners: tuple[tuple[float, float], ...]
    score: float


def camera_exif(im: Image.Image) -> bool:
    """Taken by a camera: a maker and an exposure or a lens in the EXIF.
    Scanner software writes a maker at most, never an exposure."""
    try:
        exif = im.getexif()
        if not (exif.get(_MAKE) or exif.get(_MODEL)):
            return False
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:  # broken EXIF is no evidence either way
        return False
    return any(t in sub for t in (_EXPOSURE, _FNUMBER, _FOCAL))


def draft(im: Image.Image) -> Image.Image:
    """A JPEG larger than PHOTO_PIXELS to be decoded at 1/2, 1/4 or 1/8 scale
    (the decoder's own, nearly free): a 50 Mpx photo costs what a 12 Mpx one
    does. Call before load(); the size changes at once."""
    w, h = im.size
    if im.format == "JPEG" and w * h > PHOTO_PIXELS:
        # the decoder reduces by 2, 4 or 8, to no less than the size asked for
        s = next((s for s in (2, 4) if w * h <= PHOTO_PIXELS * s * s), 8)
        im.draft(im.mode if im.mode in ("L", "RGB") else "RGB", (-(-w // s), -(-h // s)))
    return im


def border_background(im: Image.Image) -> float:
    """The share of the frame's border that is not paper (0: a scan's white
    margin all round; near 1: a desk all round the page). Paper is bright
    (within 25 % of the brightest part of the middle) and not coloured."""
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGB" if im.mode in ("P", "PA", "RGBA", "CMYK", "YCbCr", "LA") else "L")
    k = max(1, max(im.size) // _THUMB)
    small = im.reduce(k) if k > 1 else im
    w, h = small.size
    if w < 16 or h < 16:
        return 0.0
    value = small.convert("L")
    ref = percentile(value.crop((w // 4, h // 4, 3 * w // 4, 3 * h // 4)), 0.95)
    dark = value.point(lambda v: 255 if v < 0.75 * ref else 0)
    if small.mode == "RGB":
        coloured = small.convert("HSV").getchannel("S").point(lambda s: 255 if s > 60 else 0)
        dark = ImageChops.lighter(dark, coloured)
    bw, bh = max(1, w // 16), max(1, h // 16)
    strips = [(0, 0, w, bh), (0, h - bh, w, h), (0, bh, bw, h - bh), (w - bw, bh, w, h - bh)]
    hists = [dark.crop(b).histogram() for b in strips]
    return sum(hh[255] for hh in hists) / max(1, sum(sum(hh) for hh in hists))


def percentile(img: Image.Image, q: float) -> int:
    """The grey level below which the share `q` of the pixels lie."""
    hist = img.histogram()[:256]
    need, seen = q * sum(hist), 0
    for level, n in enumerate(hist):
        seen += n
        if seen >= need:
            return level
    return 255


def looks_like_photo(im: Image.Image) -> bool:
    """The cheap decision: a camera's EXIF, or a border that is not paper."""
    return camera_exif(im) or border_background(im) > 0.35


def as_scan(im: Image.Image, dpi: float) -> tuple[Image.Image, float, str | None]:
    """(grey page, its dpi, a note for the clerk or None). A scan is only made grey."""
    try:
        photo = looks_like_photo(im)
    except Exception:  # never lose a page to the question: read it as it is
        photo = False
    if not photo:
        return grey(im), dpi, None
    try:
        return _straightened(im, dpi)
    except Exception as exc:
        return grey(im), _frame_dpi(im), f"{NO_OUTLINE} ({type(exc).__name__})"


def _straightened(im: Image.Image, dpi: float) -> tuple[Image.Image, float, str | None]:
    camera = camera_exif(im)
    if max(im.size) < MIN_PAGE_SIDE:  # a thumbnail: no page in it can be read
        if not camera:
            return grey(im), dpi, None  # a logo in a signature, a picture: read as ever
        dpi = max(im.size) / 11.69
        return grey(im), max(dpi, 1.0), TOO_SMALL.format(w=im.width, h=im.height, dpi=dpi)
    if im.getexif().get(_ORIENTATION, 1) != 1:
        im = ImageOps.exif_transpose(im)  # as the phone's owner saw it: fewer pages lie on their side
    outline = find_outline(im)
    if outline is None:
        if not camera and border_background(im) <= 0.5:
            return grey(im), dpi, None  # a scan with a dark edge, not a photo
        return grey(im), _frame_dpi(im), NO_OUTLINE
    page, dpi, seen = straighten(im, outline)
    if seen * 11.69 < MIN_PAGE_SIDE:
        w, h = (round(v * seen / dpi) for v in page.size)
        return page, dpi, TOO_SMALL.format(w=w, h=h, dpi=seen)
    return even_light(page), dpi, LOW_RES.format(dpi=seen) if seen < 100 else None


def grey(im: Image.Image) -> Image.Image:
    """The picture in grey, as the reader has always made it."""
    if im.mode == "L":
        return im
    return im.convert("RGB").convert("L") if im.mode in ("P", "RGBA", "LA", "CMYK") else im.convert("L")


def _frame_dpi(im: Image.Image) -> float:
    return max(70.0, min(im.size) / 8.27)


# --- the outline ---------------------------------------------------------


def find_outline(im: Image.Image) -> Outline | None:
    """The page's four corners in `im` (its pixels), or None when no outline
    passes the checks."""
    import cv2
    import numpy as np

    k = max(1.0, max(im.size) / _WORK)
    small = im.convert("RGB").resize((round(im.width / k), round(im.height / k)), Image.Resampling.BILINEAR)
    rgb = np.asarray(small)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    found: list[Outline] = []
    for contour in _paper_regions(hsv) + _edge_regions(gray):
        quad = _quad(contour)
        if quad is None:
            continue
        score = _check(quad, gray, w, h)
        if score > 0:
            found.append(Outline(tuple((float(x) * k, float(y) * k) for x, y in quad), score))
    if not found:
        return None
    return max(found, key=lambda o: o.score)


def _paper_regions(hsv: NDArray[Any]) -> list[NDArray[Any]]:
    """Bright and colourless: the paper, as one region (ink closed over)."""
    import cv2
    import numpy as np

    s = hsv[..., 1].astype(np.int16)
    v = hsv[..., 2].astype(np.int16)
    paper = np.clip(v - s, 0, 255).astype(np.uint8)
    paper = cv2.GaussianBlur(paper, (5, 5), 0)
    out: list[NDArray[Any]] = []
    _, mask = cv2.threshold(paper, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # a shadow darkens part of the page: the paper is also what is brighter than its surroundings
    local = cv2.adaptiveThreshold(paper, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 151, -5)
    for m in (mask, cv2.bitwise_or(mask, local)):
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((9, 9), np.uint8))
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out.extend(sorted(contours, key=cv2.contourArea, reverse=True)[:2])
    return out


def _edge_regions(gray: NDArray[Any]) -> list[NDArray[Any]]:
    """The outer contours of the frame's edges (the page's rim among them)."""
    import cv2
    import numpy as np

    blur = cv2.GaussianBlur(gray, (5, 5), 0)
    edges = cv2.Canny(blur, 30, 90)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return list(sorted(contours, key=cv2.contourArea, reverse=True)[:3])


def _quad(contour: NDArray[Any]) -> list[Point] | None:
    """Four corners approximating the contour's hull, in order (top-left first, clockwise)."""
    import cv2
    import numpy as np

    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            break
    else:
        return None
    pts = [(float(x), float(y)) for x, y in approx.reshape(4, 2).astype(np.float64)]
    cx, cy = sum(p[0] for p in pts) / 4, sum(p[1] for p in pts) / 4
    pts.sort(key=lambda p: math.atan2(p[1] - cy, p[0] - cx))  # clockwise on screen
    start = min(range(4), key=lambda i: pts[i][0] + pts[i][1])
    return [pts[(start + i) % 4] for i in range(4)]


def _check(quad: list[Point], gray: NDArray[Any], w: int, h: int) -> float:
    """How page-like the quadrilateral is (0: not a page): its share of the
    frame, convex corners of sane angles, sides like a sheet's, and paper
    clearly brighter inside each side than outside."""
    import numpy as np

    area = 0.5 * abs(sum(quad[i][0] * quad[i - 1][1] - quad[i - 1][0] * quad[i][1] for i in range(4)))
    share = area / (w * h)
    if not 0.08 <= share <= 0.985:
        return 0.0
    sides = [math.dist(quad[i], quad[(i + 1) % 4]) for i in range(4)]
    if min(sides) < 0.1 * max(w, h):
        return 0.0
    for i in range(4):
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        v1, v2 = (a[0] - b[0], a[1] - b[1]), (c[0] - b[0], c[1] - b[1])
        cos = (v1[0] * v2[0] + v1[1] * v2[1]) / (math.hypot(*v1) * math.hypot(*v2))
        if not -0.6 <= cos <= 0.6:  # corners between about 53 and 127 degrees
            return 0.0
    if min(sides[0], sides[2]) < 0.55 * max(sides[0], sides[2]) or min(sides[1], sides[3]) < 0.55 * max(
        sides[1], sides[3]
    ):
        return 0.0
    ratio = (sides[1] + sides[3]) / (sides[0] + sides[2])
    ratio = max(ratio, 1 / ratio)
    if ratio > 2.2:
        return 0.0
    # the step across each side, a few pixels in and out
    cx, cy = sum(p[0] for p in quad) / 4, sum(p[1] for p in quad) / 4
    steps = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        ins: list[float] = []
        outs: list[float] = []
        for t in np.linspace(0.1, 0.9, 24):
            x, y = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
            dx, dy = cx - x, cy - y
            n = math.hypot(dx, dy) or 1.0
            for d, bag in ((6, ins), (-6, outs)):
                px, py = int(round(x + dx / n * d)), int(round(y + dy / n * d))
                if 0 <= px < w and 0 <= py < h:
                    bag.append(float(gray[py, px]))
        if len(ins) < 8:
            return 0.0
        # a side on the frame's edge has nothing outside: the page runs out of the photo
        steps.append(float(np.median(ins)) - float(np.median(outs)) if len(outs) >= 8 else 0.0)
    if sorted(steps)[1] < 12:  # at least three sides must show the paper's rim
        return 0.0
    return float(share * min(1.0, sorted(steps)[1] / 40))


# --- the page ------------------------------------------------------------


def straighten(im: Image.Image, outline: Outline) -> tuple[Image.Image, float, float]:
    """The outlined page warped to a rectangle, in grey; its dpi, and the dpi
    the photo gave it (before it was enlarged to LOW_DPI or reduced to OUT_DPI)."""
    import cv2
    import numpy as np

    tl, tr, br, bl = outline.corners
    width = max(math.dist(tl, tr), math.dist(bl, br))
    height = max(math.dist(tl, bl), math.dist(tr, br))
    long, short = max(width, height), min(width, height)
    if 0.75 * A4_RATIO <= long / short <= 1.25 * A4_RATIO:  # a sheet of A4 foreshortened: A4 it is
        short = long / A4_RATIO
    long_in = 11.69 if abs(long / short - A4_RATIO) < 0.01 else long / (short / 8.27)
    dpi = long / long_in
    out_dpi = min(OUT_DPI, max(dpi, LOW_DPI))
    scale = out_dpi / dpi
    long, short = long * scale, short * scale
    ow, oh = (round(short), round(long)) if height >= width else (round(long), round(short))
    src = np.array(outline.corners, np.float32)
    dst = np.array([(0, 0), (ow - 1, 0), (ow - 1, oh - 1), (0, oh - 1)], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    g = np.asarray(grey(im))
    out = cv2.warpPerspective(g, m, (ow, oh), flags=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    return Image.fromarray(out), out_dpi, dpi


def even_light(page: Image.Image) -> Image.Image:
    """Divide each pixel by the paper's brightness around it (estimated at
    1/8 scale with the ink dilated away), so shadow and white balance are
    gone and ink keeps its contrast; and the rim (where a sliver of desk may
    remain) is made paper."""
    import cv2
    import numpy as np

    g = np.asarray(page).astype(np.float32)
    h, w = g.shape
    small = cv2.resize(g, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((7, 7), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), 4)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    out = np.clip(g / np.maximum(paper, 1.0) * 250.0, 0, 255).astype(np.uint8)
    rim = max(2, int(0.012 * min(w, h)))
    out[:rim, :] = out[-rim:, :] = 250
    out[:, :rim] = out[:, -rim:] = 250
    return Image.fromarray(out)
