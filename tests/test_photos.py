"""Phone photos of forms (issue 13.2): the page found in the photo, its
perspective undone, its light made even, then read as a scan.

The outline finder is checked on synthetic photos drawn with the generator's
own desk, page and light (tests/corpusgen_photo.py) where the page's true
corners are known; a scan must pass untouched (and without OpenCV); a photo
whose page cannot be found is read as it is and says so; a thumbnail and a
50 Mpx photo get a clear answer; and a few generated photos go through the
daemon into the journal.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import subprocess
import sys
from pathlib import Path

import corpusgen
import corpusgen_photo as cp
import pytest
from PIL import Image, ImageDraw

from mailflow.extract import OcrPool, photo, recognize
from mailflow.extract.fields import _vote_address
from mailflow.extract.page import PageTask, _decode
from mailflow.extract.text import Tok
from mailflow.rules import Limits, Person
from mailflow.values import Attachment, ParsedMessage
from tests.support import through_pipeline

ROOT = Path(__file__).resolve().parents[1]
LIMITS = Limits(
    max_message_bytes=50 << 20,
    max_attachment_bytes=30 << 20,
    max_pages_per_message=20,
    max_pixels_per_page=60_000_000,
    render_dpi=300,
    ocr_timeout_seconds=60,
    ocr_languages="rus+kaz",
)
RES = Person("Начальник Есильского РЭС", "esil-res@sevkaz.example", frozenset({"res_chief"}), "Есильский РЭС")


@pytest.fixture(scope="module")
def pool():
    with OcrPool(2) as p:
        yield p


def _page(size=(827, 1169), lines=22) -> Image.Image:
    """A sheet with lines of "text" (dark bars), as a form at 100 dpi."""
    img = Image.new("L", size, 255)
    d = ImageDraw.Draw(img)
    rng = random.Random(5)
    for i in range(lines):
        y = 90 + i * 42
        x0 = 80 if i > 6 else 420
        d.rectangle([x0, y, x0 + rng.randint(150, size[0] - 160 - x0), y + 14], fill=30)
    return img


def _settings(**kw) -> dict:
    s = {
        "frame": (1200, 1600),
        "messenger": False,
        "spin": 0.0,
        "tilt": 0.0,
        "tilt_dir": 0.0,
        "cover": 0.55,
        "desk": "dark",
        "clutter": "none",
        "side_light": 0.9,
        "shadow": 0.0,
        "cast": "none",
        "blur": 0.8,
        "noise": 2.0,
        "quality": 85,
        "stored_sideways": False,
        "phone": 0,
    }
    s.update(kw)
    return s


def _photo(seed: int = 1, page: Image.Image | None = None, **kw) -> tuple[Image.Image, list]:
    """A synthetic photo drawn as the generator draws one, and the page's true corners."""
    s = _settings(**kw)
    rng = random.Random(seed)
    nrng = cp.np.random.default_rng(seed)
    frame = cp._desk(s["desk"], s["frame"], rng, nrng)
    quad = cp._page_quad(s, s["frame"], rng)
    cp._lay(frame, cp._printed(page or _page(), rng), quad)
    frame = cp._light(frame, s, quad, rng)
    frame = frame.filter(cp.ImageFilter.GaussianBlur(s["blur"]))
    return cp._noise(frame, s["noise"], nrng), quad


def _near(found: photo.Outline, truth: list, frame: Image.Image) -> float:
    """The worst distance from a true corner to the nearest found one, as a share of the frame's diagonal."""
    diag = math.hypot(*frame.size)
    return max(min(math.dist(t, f) for f in found.corners) for t in truth) / diag


# --- the outline -------------------------------------------------------------


@pytest.mark.parametrize(
    "desk,tilt,spin,shadow,cast",
    [
        ("dark", 0.0, 0.0, 0.0, "none"),
        ("wood", 18.0, 8.0, 0.0, "warm"),
        ("light", 12.0, -10.0, 0.6, "cool"),  # a light desk, little contrast, a shadow over the page
        ("cloth", 20.0, 95.0, 0.55, "mixed"),  # the page across the frame, tilted the most
        ("dark", 15.0, 183.0, 0.7, "warm"),  # upside down
    ],
)
def test_the_outline_is_found_at_every_angle_light_and_desk(desk, tilt, spin, shadow, cast):
    img, truth = _photo(desk=desk, tilt=tilt, spin=spin, shadow=shadow, cast=cast, tilt_dir=40.0)
    assert photo.looks_like_photo(img)
    found = photo.find_outline(img)
    assert found is not None
    assert _near(found, truth, img) < 0.012, (found.corners, truth)


def test_a_straightened_page_is_upright_a4_and_evenly_lit():
    img, _ = _photo(desk="wood", tilt=16.0, spin=6.0, shadow=0.55, cast="warm", tilt_dir=200.0)
    out, dpi, note = photo.as_scan(img, 72.0)
    assert note is None
    assert out.mode == "L" and out.height > out.width
    assert abs(out.height / out.width - photo.A4_RATIO) < 0.01
    assert dpi == photo.LOW_DPI  # the page was ~110 dpi in the photo: enlarged for tesseract
    # the paper: as white under the shadow as beside it (the grey page of the photo was 110-230)
    cells = [out.crop((x, y, x + 60, y + 60)) for x in (30, out.width - 90) for y in (30, out.height - 90)]
    paper = [photo.percentile(c, 0.9) for c in cells]
    assert max(paper) - min(paper) <= 12, paper
    # the bars stayed dark: ink keeps its contrast after the light is divided out
    assert photo.percentile(out, 0.01) < 110


def test_a_sideways_stored_photo_is_turned_by_its_exif():
    img, _ = _photo(spin=2.0, tilt=8.0)
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    img.transpose(Image.Transpose.ROTATE_90).save(buf, "JPEG", quality=90, exif=exif.tobytes())
    stored = Image.open(io.BytesIO(buf.getvalue()))
    assert stored.width > stored.height
    out, _, note = photo.as_scan(stored, 72.0)
    assert note is None and out.height > out.width


# --- scans stay scans -------------------------------------------------------


def _scan() -> Image.Image:
    page = _page((1654, 2339), lines=40).point(lambda v: int(v * 240 / 255))
    return page.rotate(1.5, resample=Image.BICUBIC, expand=True, fillcolor=240)


def test_a_scan_is_left_untouched():
    scan = _scan()
    assert not photo.looks_like_photo(scan)
    assert photo.border_background(scan) < 0.05
    out, dpi, note = photo.as_scan(scan, 200.0)
    assert (out.tobytes(), dpi, note) == (scan.tobytes(), 200.0, None)
    rgb = scan.convert("RGB")  # a colour scan: made grey as always, nothing else
    out, dpi, note = photo.as_scan(rgb, 200.0)
    assert out.tobytes() == rgb.convert("L").tobytes() and note is None


def test_a_scan_costs_no_opencv(tmp_path):
    """The decision is Pillow's: a worker that reads only scans never imports OpenCV."""
    path = tmp_path / "scan.png"
    _scan().save(path)
    code = (
        "import sys; from PIL import Image; from mailflow.extract import photo\n"
        f"photo.as_scan(Image.open({str(path)!r}), 200.0)\n"
        "print('cv2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_camera_exif_is_a_camera_not_a_scanners_maker():
    img = Image.new("RGB", (600, 800), "white")
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # scanner software writes its maker ...
    assert not photo.camera_exif(_reopen(img, exif))
    exif.get_ifd(0x8769)[0x829A] = 1 / 60  # ... a camera writes its exposure too
    assert photo.camera_exif(_reopen(img, exif))


def _reopen(img: Image.Image, exif: Image.Exif | None = None, quality: int = 85) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif.tobytes() if exif else b"")
    return Image.open(io.BytesIO(buf.getvalue()))


def _camera_jpeg(img: Image.Image, quality: int = 85) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "samsung", "SM-A525F"
    exif.get_ifd(0x8769)[0x920A] = 5.4
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()


# --- what cannot be straightened -----------------------------------------------


def _message(*files: tuple[str, str, bytes]) -> ParsedMessage:
    return ParsedMessage(
        message_id="<photo@test>",
        from_addr=RES.email,
        from_name="",
        subject="фото обращения",
        reply_to=None,
        to=("kanc@sevkaz.example",),
        date=None,
        in_reply_to=None,
        references=(),
        auto_submitted=None,
        precedence=None,
        content_type="multipart/mixed",
        body_text="Направляю фото обращения.",
        attachments=tuple(Attachment(n, ct, d, hashlib.sha256(d).hexdigest()) for n, ct, d in files),
        defects=(),
    )


def _close_up() -> Image.Image:
    """A camera's close-up: the page runs out of the frame on two sides, desk on the other two."""
    page = corpusgen.Sheet(150, "DejaVu Sans", 14)
    y = page.px(1.0)
    for line in (
        "Прошу рассмотреть моё заявление",
        "о перерасчёте за электроэнергию",
        "по адресу ул. Абая, д. 12",
    ):
        y = page.text(1.0, y, line)
    frame = Image.new("RGB", (1000, 1300), (60, 45, 35))
    frame.paste(page.img.convert("RGB").crop((0, 0, 900, 1200)), (100, 100))
    return frame


def test_a_photo_whose_page_cannot_be_found_is_read_as_it_is_and_flagged(pool):
    img = _close_up()
    assert photo.looks_like_photo(img) and photo.find_outline(img) is None
    out, _, note = photo.as_scan(img, 72.0)
    assert note == photo.NO_OUTLINE and out.size == img.size
    rec = recognize(
        _message(("IMG_0001.jpg", "image/jpeg", _camera_jpeg(img))),
        sender=RES,
        channel="res",
        limits=LIMITS,
        pool=pool,
    )
    (att,) = rec.attachments
    assert att.text_source == "ocr" and "края листа не найдены" in (att.note or "")
    assert "заявление" in rec.text and "перерасчёте" in rec.text  # read, not lost


def test_a_thumbnail_and_a_bomb_get_a_clear_answer(pool):
    tiny = _camera_jpeg(_photo()[0].resize((120, 160)))
    bomb = _png_claiming(100_000, 100_000)
    rec = recognize(
        _message(("thumb.jpg", "image/jpeg", tiny), ("bomb.png", "image/png", bomb)),
        sender=RES,
        channel="res",
        limits=LIMITS,
        pool=pool,
    )
    notes = {a.filename: a.note or "" for a in rec.attachments}
    assert "фото слишком мелкое: лист 120×160 px" in notes["thumb.jpg"]
    assert "pixel limit" in notes["bomb.png"]
    assert rec.attachments[1].text_source == "skipped"


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb)."""
    import struct
    import zlib

    buf = io.BytesIO()
    Image.new("1", (8, 8), 1).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def test_a_50_megapixel_photo_is_decoded_at_a_quarter_of_its_pixels():
    big = Image.new("L", (8160, 6120), 200)  # 49.9 Mpx, as a 50 Mpx phone camera writes
    ImageDraw.Draw(big).rectangle([1000, 800, 7000, 5400], fill=245)
    data = _camera_jpeg(big, quality=70)
    del big
    img, dpi = _decode(PageTask("image", data, 0))
    assert isinstance(img, Image.Image)
    assert img.size == (4080, 3060) and img.width * img.height <= photo.PHOTO_PIXELS
    assert dpi == pytest.approx(3060 / 8.27, rel=0.01)
    # the same picture without a camera's EXIF (a scan) is decoded whole, as always
    buf = io.BytesIO()
    Image.new("L", (8160, 6120), 255).save(buf, "JPEG", quality=50)
    img, _ = _decode(PageTask("image", buf.getvalue(), 0))
    assert not isinstance(img, str) and img.size == (8160, 6120)


# --- the address's numbers on a photo ---------------------------------------


def _address(last: str, conf: float, check: tuple[str, ...], number: str = "67,") -> list[Tok]:
    words = [("г.", 0.93), ("Булаево,", 0.91), ("ул.", 0.97), ("Гоголя,", 0.97), ("д.", 0.97)]
    toks = [Tok(w, c, 0, 0, None, ()) for w, c in words]
    return toks + [
        Tok(number, 0.95, 0, 0, None, (number, number)),
        Tok("кв.", 0.82, 0, 0, None, ()),
        Tok(last, conf, 0, 0, None, check),
    ]


def test_a_faint_flat_number_the_english_model_confirms_is_kept():
    got = _vote_address(_address("9", 0.59, ("9", "9")))
    assert got.value == "г. Булаево, ул. Гоголя, д. 67, кв. 9" and got.conf >= 0.8 and not got.review
    # unconfirmed, it is a speck after "кв.": the number is lost and a person reads it
    assert _vote_address(_address("9", 0.59, ("8", "9"))).value is None
    assert _vote_address(_address("9", 0.59, ())).value is None


def test_a_number_both_english_readings_give_otherwise_is_theirs_and_says_so():
    got = _vote_address(_address("85", 0.97, ("83", "83")))
    assert got.value == "г. Булаево, ул. Гоголя, д. 67, кв. 83" and got.conf >= 0.8
    assert "номер по второму прочтению: 83" in got.where
    # a number glued to its abbreviation, which the address's cleaning parts ("кв.85" -> "кв. 85")
    glued = _address("9", 0.97, ("9", "9"))[:-2] + [Tok("кв.85", 0.89, 0, 0, None, ("KB. 83", "KB. 83"))]
    assert _vote_address(glued).value == "г. Булаево, ул. Гоголя, д. 67, кв. 83"
    for check in (("83", "88"), ("83",), ()):  # the English readings disagree, or are missing: no value
        doubted = _vote_address(_address("85", 0.97, check))
        assert doubted.conf < 0.8, check


def test_a_digit_the_page_alone_added_is_taken_out_when_every_other_reading_agrees():
    line = "г. Булаево, ул. Гоголя, д. 153, кв. 9"
    toks = _address("9", 0.97, ("9", "9"), number="1535,")
    toks[5] = Tok("1535,", 0.85, 0, 0, None, ("153,", "153,", "153,", "153;"))
    same_model = ("address", 3, f"{line}\t{line}\tr. Bynaeso", 0.9)  # its two other scales, and English
    got = _vote_address([Tok(t.text, t.conf, 0, 0, same_model, t.check) for t in toks])
    assert got.value == line and got.conf >= 0.8 and "153" in got.where
    # one of the page model's other readings agrees with the page: nothing is taken
    split = ("address", 3, f"{line.replace('153', '1535')}\t{line}", 0.9)
    assert _vote_address([Tok(t.text, t.conf, 0, 0, split, t.check) for t in toks]).conf < 0.8
    # the English readings are not all alike: nothing is taken
    toks[5] = Tok("1535,", 0.85, 0, 0, None, ("153,", "1535,", "153,"))
    assert _vote_address([Tok(t.text, t.conf, 0, 0, same_model, t.check) for t in toks]).conf < 0.8


# --- generated photos, end to end ---------------------------------------------


@pytest.fixture(scope="module")
def photo_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("photos")
    cp.generate_photos(out, 3, 2027)
    return out


def test_the_generator_is_deterministic_and_says_how_each_photo_was_taken(photo_corpus, tmp_path):
    again = cp.generate_photos(tmp_path, 3, 2027)
    for f in sorted(photo_corpus.iterdir()):
        assert f.read_bytes() == (tmp_path / f.name).read_bytes(), f.name
    for t in again:
        assert t["channel"] in ("res", "service_center") and t["group"] == 1
        assert 0 <= t["photo"]["tilt"] <= 20 and t["photo"]["desk"] in cp.DESKS
        w, h = t["photo"]["frame"]
        assert 1.9e6 <= w * h <= 12.1e6


def test_generated_photos_through_the_daemon_to_the_journal(photo_corpus, tmp_path):
    truths, records, right, wrong = through_pipeline(tmp_path, photo_corpus)
    assert wrong == 0
    n = len(truths)
    for f in ("kind", "last_name", "first_name", "patronymic", "phone"):
        assert right[f] == n, (f, right)
    assert right["address"] >= n - 1, right
    for rec in records.values():  # every photo read, its page found
        assert all(a["ocr_confidence"] and not a["note"] for a in rec["attachments"]), rec["attachments"]
