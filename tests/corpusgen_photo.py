"""Phone photos of the forms for `corpusgen.py --photo`.

    python tests/corpusgen.py OUT_DIR --photo [--n 20] [--seed 7]

A district chief (RES, RUSE, a service centre) forwards the consumer's form
as he got it on paper, but photographed with his phone instead of scanned.
The form is rendered exactly as corpusgen renders it (Appendix 1-3, typed,
the kind underlined by a ruler or a pen), then "printed" (ink and paper not
quite black and white), laid on a desk and photographed:

- the camera tilted up to 20 degrees from straight above (a pinhole camera,
  so the page is a true perspective quadrilateral), the page turned in its
  plane (mostly within 12 degrees; some across the frame, some upside down);
- the page 35-80 % of the frame, all four corners in it, on wood, a dark or
  a light desk, or green cloth, with a pen or a keyboard's edge about;
- light from one side, the phone's (hand's) soft shadow over part of the
  page, a colour cast that changes across the frame (window and lamp), a
  vignette, slight blur and sensor noise;
- a JPEG of 2-12 MP. Most carry the camera's EXIF (Make, Model, focal
  length, exposure; some stored sideways with an Orientation tag, as phones
  do); a quarter came through a messenger: EXIF stripped, 2 MP, lower quality.

Everything is drawn from the case's own random stream (`Case.meta["photo"]`),
so a seed gives the same bytes. The truth is corpusgen's own (the form's
values); each truth line has `"photo": {...}` with what was done, so a miss
can be looked up by its tilt, size or light.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random

import corpusgen as cg
import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

FRAMES = [(1600, 1200), (2048, 1536), (2592, 1944), (3264, 2448), (4000, 3000)]  # 2-12 MP
PHONES = [
    ("samsung", "SM-A525F", 5.4),
    ("Xiaomi", "Redmi Note 9 Pro", 4.7),
    ("Apple", "iPhone 11", 4.25),
    ("HUAWEI", "MAR-LX1M", 4.8),
    ("OPPO", "CPH2127", 3.9),
]
DESKS = ("wood", "dark", "light", "cloth")
A4_RATIO = cg.A4[1] / cg.A4[0]


def plan_photos(n: int, seed: int, families: list[str] | None = None) -> list[cg.Case]:
    """`n` forms photographed and forwarded by district chiefs."""
    rng = random.Random(f"{seed}-photo-plan")
    families = families or cg.installed_families()
    chiefs = list(cg.UNITS)
    cases = []
    for i in range(n):
        c = cg.Case(doc="form", sender=rng.choice(chiefs), kind=rng.choice(list(cg.TEXTS)))
        c.family = rng.choice(families)
        c.fmt, c.dpi = "jpeg", 300  # the print is sharp; the camera decides what is left of it
        c.pages = 2 if rng.random() < 0.08 else 1
        c.pen = rng.random() < 0.35
        c.charset = rng.choice(["utf-8", "windows-1251", "koi8-r"])
        c.body_style = rng.randrange(4)
        c.meta["photo"] = f"{seed}-{i}-photo"
        cases.append(c)
    return cases


def generate_photos(out_dir, n: int, seed: int) -> list[dict]:
    """corpusgen.generate over the photo plan; each truth line also says how
    its photo was taken (`"photo"`)."""
    import json
    from pathlib import Path

    cases = plan_photos(n, seed)
    truths = cg.generate(out_dir, n, seed, cases=cases)
    for t, c in zip(truths, cases):
        t["photo"] = settings(c.meta["photo"])
    with open(Path(out_dir) / "truth.jsonl", "w", encoding="utf-8") as fh:
        for t in truths:
            fh.write(json.dumps(t, ensure_ascii=False) + "\n")
    return truths


def photographs(pages: list[Image.Image], key: str, when: dt.datetime) -> list[tuple[bytes, str, str]]:
    """Each rendered page photographed: (JPEG bytes, content type, extension)
    for corpusgen.build, and what was done for the truth (`settings`)."""
    rng = random.Random(key)
    out = []
    for k, page in enumerate(pages):
        photo, _ = photograph(page, rng, when + dt.timedelta(seconds=7 * k))
        out.append((photo, "image/jpeg", "jpg"))
    return out


def settings(key: str) -> dict:
    """What photographs() does for the case `key` (its first page), for the truth line."""
    return _draw(random.Random(key))


def _draw(rng: random.Random) -> dict:
    """The photo's settings, all from `rng` (drawn first, in a fixed order)."""
    messenger = rng.random() < 0.25
    frame = FRAMES[0] if messenger else rng.choice(FRAMES)
    turn = rng.random()
    if turn < 0.8:
        spin = rng.uniform(-12, 12)
    elif turn < 0.93:  # the page across a landscape frame
        spin = rng.choice([-90, 90]) + rng.uniform(-8, 8)
    else:  # photographed from the other side of the desk
        spin = 180 + rng.uniform(-8, 8)
    landscape = abs(abs(spin) - 90) < 20
    tilt = rng.uniform(0, 20)
    return {
        "frame": (frame[0], frame[1]) if landscape else (frame[1], frame[0]),
        "messenger": messenger,
        "spin": round(spin, 2),
        "tilt": round(tilt, 2),
        "tilt_dir": round(rng.uniform(0, 360), 1),
        "cover": round(rng.uniform(0.35, 0.8), 3),
        "desk": rng.choice(DESKS),
        "clutter": rng.choice(["none", "pen", "keyboard", "pen"]),
        "side_light": round(rng.uniform(0.55, 0.95), 3),
        "shadow": round(rng.uniform(0.5, 0.85), 3) if rng.random() < 0.6 else 0.0,
        "cast": rng.choice(["warm", "cool", "mixed", "none"]),
        "blur": round(rng.uniform(0.4, 1.5), 2),
        "noise": round(rng.uniform(1.5, 5.0), 2),
        "quality": rng.randint(60, 75) if messenger else rng.randint(78, 93),
        "stored_sideways": (not messenger) and rng.random() < 0.3,
        "phone": rng.randrange(len(PHONES)),
    }


def photograph(page: Image.Image, rng: random.Random, when: dt.datetime) -> tuple[bytes, dict]:
    """One printed page on a desk, photographed: the JPEG's bytes and its settings."""
    s = _draw(rng)
    fw, fh = s["frame"]
    nrng = np.random.default_rng(rng.getrandbits(32))
    frame = _desk(s["desk"], (fw, fh), rng, nrng)
    quad = _page_quad(s, (fw, fh), rng)
    printed = _printed(page, rng)
    _clutter(frame, s["clutter"], quad, rng)
    _lay(frame, printed, quad)
    frame = _light(frame, s, quad, rng)
    frame = frame.filter(ImageFilter.GaussianBlur(s["blur"] * fw / 3000))
    frame = _noise(frame, s["noise"], nrng)
    return _jpeg(frame, s, when), s


def _page_quad(s: dict, frame: tuple[int, int], rng: random.Random) -> list[tuple[float, float]]:
    """The page's corners in the frame (top-left, top-right, bottom-right,
    bottom-left of the page as printed): a pinhole camera tilted by `tilt`."""
    w, h = 1.0, A4_RATIO
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    a = math.radians(s["spin"])
    corners = [(x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a)) for x, y in corners]
    t, d = math.radians(s["tilt"]), math.radians(s["tilt_dir"])
    ax, ay = t * math.cos(d), t * math.sin(d)  # tilt about the frame's x and y axes
    dist = 1.6 * h
    pts = []
    for x, y in corners:
        y1, z1 = y * math.cos(ax), y * math.sin(ax)
        x2, z2 = x * math.cos(ay) + z1 * math.sin(ay), -x * math.sin(ay) + z1 * math.cos(ay)
        pts.append((x2 / (dist + z2), y1 / (dist + z2)))
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    area = 0.5 * abs(sum(pts[i][0] * pts[i - 1][1] - pts[i - 1][0] * pts[i][1] for i in range(4)))
    fw, fh = frame
    scale = math.sqrt(s["cover"] * fw * fh / area)
    bw, bh = (max(xs) - min(xs)) * scale, (max(ys) - min(ys)) * scale
    margin = 0.02 * min(fw, fh)
    if bw > fw - 2 * margin or bh > fh - 2 * margin:  # keep every corner in the frame
        scale *= min((fw - 2 * margin) / bw, (fh - 2 * margin) / bh)
        bw, bh = (max(xs) - min(xs)) * scale, (max(ys) - min(ys)) * scale
    ox = rng.uniform(margin, fw - margin - bw) - min(xs) * scale
    oy = rng.uniform(margin, fh - margin - bh) - min(ys) * scale
    return [(x * scale + ox, y * scale + oy) for x, y in pts]


def _printed(page: Image.Image, rng: random.Random) -> Image.Image:
    """The rendered page as a printer puts it on paper: ink dark grey, paper off-white."""
    ink, paper = rng.randint(25, 55), rng.randint(238, 250)
    grey = page.point(lambda v: int(ink + (paper - ink) * v / 255))
    warm = rng.randint(0, 6)
    return Image.merge("RGB", (grey, grey, grey.point(lambda v, w=warm: max(0, v - w))))


def _homography(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """PIL's PERSPECTIVE coefficients taking each dst point to its src point."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows), np.array(rhs))]


def _lay(frame: Image.Image, printed: Image.Image, quad: list[tuple[float, float]]) -> None:
    """The page on the desk, with the soft shadow its edge throws."""
    sides = [math.dist(quad[i], quad[(i + 1) % 4]) for i in range(4)]
    f = max(sides[0], sides[2]) / printed.width
    if f < 0.9:  # a lens integrates over each pixel: shrink with a filter, not by sampling
        printed = printed.resize(
            (max(1, int(printed.width * f)), max(1, int(printed.height * f))), Image.LANCZOS
        )
    pw, ph = printed.size
    src = [(0.0, 0.0), (float(pw), 0.0), (float(pw), float(ph)), (0.0, float(ph))]
    small = Image.new("L", (frame.width // 8, frame.height // 8), 0)
    ImageDraw.Draw(small).polygon([(x / 8 + 1.5, y / 8 + 2) for x, y in quad], fill=110)
    shade = small.filter(ImageFilter.GaussianBlur(3)).resize(frame.size, Image.BILINEAR)
    frame.paste(Image.new("RGB", frame.size, (0, 0, 0)), (0, 0), shade)
    coeffs = _homography(src, quad)
    flat = printed.transform(frame.size, Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    mask = Image.new("L", printed.size, 255).transform(frame.size, Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    frame.paste(flat, (0, 0), mask)


def _desk(kind: str, size: tuple[int, int], rng: random.Random, nrng: np.random.Generator) -> Image.Image:
    """The surface the page lies on, drawn at 1/8 scale and enlarged (it is out of focus anyway)."""
    w, h = size[0] // 8 + 1, size[1] // 8 + 1
    base = {
        "wood": (rng.randint(120, 165), rng.randint(80, 110), rng.randint(45, 70)),
        "dark": (rng.randint(35, 70),) * 3,
        "light": (rng.randint(175, 205), rng.randint(170, 200), rng.randint(160, 190)),
        "cloth": (rng.randint(30, 60), rng.randint(90, 130), rng.randint(50, 80)),
    }[kind]
    arr = np.empty((h, w, 3), np.float32)
    arr[:] = base
    if kind == "wood":  # the grain: streaks along one direction
        ang = rng.uniform(0, math.pi)
        yy, xx = np.mgrid[0:h, 0:w]
        across = xx * math.sin(ang) - yy * math.cos(ang)
        grain = np.sin(across / rng.uniform(2, 5)) * 10 + np.sin(across / rng.uniform(9, 20)) * 14
        arr += grain[..., None] * np.array([1.0, 0.7, 0.45], np.float32)
    arr += nrng.normal(0, 6 if kind == "cloth" else 3, (h, w, 1)).astype(np.float32)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    return img.resize(size, Image.BILINEAR)


def _clutter(frame: Image.Image, what: str, quad: list[tuple[float, float]], rng: random.Random) -> None:
    """A pen lying beside the page, or a keyboard's edge along the frame."""
    d = ImageDraw.Draw(frame)
    fw, fh = frame.size
    if what == "pen":
        cx = min(quad, key=lambda p: p[0])[0] * rng.uniform(0.3, 0.8)
        cy = rng.uniform(0.2, 0.8) * fh
        if cx < 0.04 * fw:  # no room on the left: put it below the page
            cx, cy = rng.uniform(0.2, 0.8) * fw, (max(p[1] for p in quad) + fh) / 2
        length, ang = 0.18 * max(fw, fh), rng.uniform(0, math.pi)
        dx, dy = math.cos(ang) * length / 2, math.sin(ang) * length / 2
        colour = rng.choice([(20, 40, 120), (15, 15, 15), (200, 30, 30)])
        d.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=colour, width=max(4, fw // 150))
    elif what == "keyboard":
        top = min(p[1] for p in quad)
        if top > 0.08 * fh:
            d.rectangle([0, 0, fw, top * rng.uniform(0.3, 0.7)], fill=(rng.randint(25, 50),) * 3)


def _light(frame: Image.Image, s: dict, quad: list[tuple[float, float]], rng: random.Random) -> Image.Image:
    """Light from one side, the phone's shadow, a colour cast changing across
    the frame and a vignette: one multiplier per channel, made small, enlarged."""
    fw, fh = frame.size
    w, h = 160, max(2, int(160 * fh / fw))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xx, yy = xx / (w - 1), yy / (h - 1)
    side = rng.uniform(0, 2 * math.pi)
    along = (xx - 0.5) * math.cos(side) + (yy - 0.5) * math.sin(side) + 0.5
    light = 1.0 - (1.0 - s["side_light"]) * np.clip(along, 0, 1)
    if s["shadow"]:  # a soft blob over a part of the page: the hand and the phone
        cx = sum(p[0] for p in quad) / 4 / fw + rng.uniform(-0.25, 0.25)
        cy = sum(p[1] for p in quad) / 4 / fh + rng.uniform(-0.3, 0.3)
        rx, ry = rng.uniform(0.15, 0.35), rng.uniform(0.12, 0.3)
        r = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
        soft = np.clip((1.3 - r) / 0.6, 0, 1)
        light *= 1.0 - (1.0 - s["shadow"]) * soft
    light *= 1.0 - 0.18 * (((xx - 0.5) ** 2 + (yy - 0.5) ** 2) / 0.5)  # vignette
    gains = {
        "warm": ((1.0, 1.0), (0.93, 0.93), (0.80, 0.84)),
        "cool": ((0.90, 0.93), (0.96, 0.97), (1.0, 1.0)),
        "mixed": ((1.0, 0.88), (0.94, 0.97), (0.80, 1.0)),  # a lamp on one side, a window on the other
        "none": ((1.0, 1.0), (1.0, 1.0), (1.0, 1.0)),
    }[s["cast"]]
    chans = []
    for band, (g0, g1) in zip(frame.split(), gains):
        mult = np.clip(light * (g0 + (g1 - g0) * xx) * 255, 0, 255).astype(np.uint8)
        chans.append(ImageChops.multiply(band, Image.fromarray(mult, "L").resize(frame.size, Image.BILINEAR)))
    return Image.merge("RGB", chans)


def _noise(frame: Image.Image, sigma: float, nrng: np.random.Generator) -> Image.Image:
    """Sensor noise: a tile of seeded noise, repeated (cheap at 12 MP), added
    as its light and its dark halves (uint8 arithmetic clips each)."""
    tile = nrng.normal(0, sigma * 2, (512, 512))
    halves = []
    for part in (np.clip(tile, 0, 255), np.clip(-tile, 0, 255)):
        t = Image.fromarray(part.astype(np.uint8), "L")
        grain = Image.new("L", frame.size)
        for x in range(0, frame.width, 512):
            for y in range(0, frame.height, 512):
                grain.paste(t, (x, y))
        halves.append(Image.merge("RGB", (grain, grain, grain)))
    return ImageChops.subtract(ImageChops.add(frame, halves[0]), halves[1])


def _jpeg(frame: Image.Image, s: dict, when: dt.datetime) -> bytes:
    exif = Image.Exif()
    if s["stored_sideways"]:  # as the sensor lies: the viewer turns it by the tag
        frame = frame.transpose(Image.Transpose.ROTATE_90)
        exif[0x0112] = 6  # Orientation: rotate 90 CW to view
    if not s["messenger"]:
        make, model, focal = PHONES[s["phone"]]
        exif[0x010F], exif[0x0110] = make, model
        exif[0x0132] = when.strftime("%Y:%m:%d %H:%M:%S")
        sub = exif.get_ifd(0x8769)
        sub[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
        sub[0x920A] = focal  # FocalLength, mm
        sub[0x829A] = 1 / 60  # ExposureTime
    buf = io.BytesIO()
    frame.save(buf, format="JPEG", quality=s["quality"], exif=exif.tobytes() if len(exif) else b"")
    return buf.getvalue()
