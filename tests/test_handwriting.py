"""Handwriting stays honest (issue 13.5): a handwritten Book entry through the
daemon with the real reader gives no guessed value, every person field in
review, and the piece of the scan where they are written, which the card shows
beside the input boxes and the REST API names."""

from __future__ import annotations

import datetime as dt
import json
import random
import re

import corpusgen
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from mailflow import daemon
from mailflow.models import Document
from tests.support import deliver, home_config, load_rules

CLERK = "kanc@sevkaz.example"
OTHER = "ivanov@sevkaz.example"  # an executor: sees only the cases named to him
PERSON = ("last_name", "first_name", "address", "phone")
DPI = 200


def handwritten_entry(seed: int = 7) -> tuple[bytes, dict]:
    case = corpusgen.Case(
        doc="handwritten", sender=corpusgen.CLERK, kind="жалоба", fmt="jpeg", dpi=DPI, meta={"book": True}
    )
    raw, truth, _ = corpusgen.build(case, 0, random.Random(seed), dt.date(2026, 4, 1))
    return raw, truth


def written_lines() -> dict[str, float]:
    """Where render_handwritten writes each line's baseline, as a fraction of the
    page's height: the ruling starts 0.9 in down, a line every 0.36 in; the date
    first, then the name, the address and the phone."""
    step = int(0.36 * DPI)
    first = int(0.9 * DPI) + step - int(step * 0.15)
    height = int(corpusgen.A4[1] * DPI)
    return {f: (first + k * step) / height for k, f in enumerate(("date", "name", "address", "phone"))}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("handwriting")
    cfg, rules = home_config(tmp), load_rules()
    raw, truth = handwritten_entry()
    deliver(cfg.home / "inbox", raw, "entry")
    [outcome] = daemon.run_once(cfg, rules)
    assert outcome.status == "registered"
    app, parts = daemon.web(cfg, rules, "http://testserver")
    with Session(parts.engine) as s:
        doc = s.exec(select(Document)).one()
    try:
        yield cfg, app, parts, doc, truth
    finally:
        daemon.close(parts)


def _sign_in(app, parts, cfg, address: str) -> TestClient:
    from tests.test_web import Workplace

    c = TestClient(app, follow_redirects=False)
    assert c.post("/api/login", json={"email": address}).status_code == 202
    w = Workplace.__new__(Workplace)  # only its mailed-link reader
    w.cfg = cfg
    assert c.get(w.link_for(address)).status_code == 303
    return c


def test_a_handwritten_entry_is_none_and_review_with_a_crop_over_its_fields(book):
    cfg, _, _, doc, truth = book
    assert truth.get("handwritten")
    assert all(getattr(doc, f) is None for f in PERSON)  # nothing guessed
    review = json.loads(doc.needs_review)
    assert set(PERSON) <= set(review)
    crops = json.loads(doc.crops)
    assert set(PERSON) <= set(crops)
    lines = written_lines()
    for f, line in (
        ("last_name", "name"),
        ("first_name", "name"),
        ("address", "address"),
        ("phone", "phone"),
    ):
        x0, y0, x1, y1 = crops[f]["box"]
        assert crops[f]["page"] == 0 and crops[f]["sha256"] == crops["last_name"]["sha256"]
        # the line's letters stand over its baseline: the box holds the baseline and the writing's start
        assert y0 < lines[line] - 0.005 and lines[line] + 0.003 < y1, (f, crops[f]["box"], lines[line])
        assert x0 < 0.8 / corpusgen.A4[0] + 0.02 and x1 > 0.45, (f, crops[f]["box"])
    # the crop is the head of the entry, not the whole page
    assert crops["address"]["box"][3] - crops["address"]["box"][1] < 0.35


def test_the_card_shows_the_crop_beside_the_input_and_the_api_names_it(book):
    cfg, app, parts, doc, _ = book
    c = _sign_in(app, parts, cfg, CLERK)
    card = c.get(f"/cases/{doc.number}").text
    for f in PERSON:
        # inside the field's own label, after its input box
        m = re.search(rf'id="field-{f}"[^>]*>.*?<img class="crop" id="crop-{f}" src="([^"]+)"', card, re.S)
        assert m, f
        assert "</label>" not in card[card.index(f'id="field-{f}"') : card.index(f'id="crop-{f}"')]
    url = re.search(r'id="crop-address" src="([^"]+)"', card).group(1)
    r = c.get(url)
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    files = list((cfg.home / "cache" / "pages").rglob("*-crop-*.png"))
    assert files, "the crop is kept under cache/pages/"
    crop = json.loads(doc.crops)["address"]
    with Image.open(files[0]) as piece, Image.open(next(p for p in files[0].parent.glob("*-0.png"))) as page:
        x0, y0, x1, y1 = crop["box"]
        assert (
            abs(piece.width - (x1 - x0) * page.width) <= 2
            and abs(piece.height - (y1 - y0) * page.height) <= 2
        )
    api = c.get(f"/api/cases/{doc.number}").json()
    assert api["crops"]["address"]["url"] == url and api["crops"]["address"]["box"] == crop["box"]
    assert set(PERSON) <= set(api["needs_review"])
    # no one else's: not signed in, or not named on the case
    assert TestClient(app).get(url).status_code == 401
    assert _sign_in(app, parts, cfg, OTHER).get(url).status_code == 404
    assert c.get(f"/crops/{doc.number}/email.png").status_code == 404  # a field with no crop


def test_a_typed_form_keeps_no_crop(tmp_path):
    from mailflow import mime
    from mailflow.extract import OcrPool, recognize

    case = corpusgen.Case(doc="form", sender="esil-res@sevkaz.example", kind="заявление", fmt="png", dpi=200)
    raw, _, _ = corpusgen.build(case, 0, random.Random(3), dt.date(2026, 4, 1))
    rules = load_rules()
    msg = mime.parse(raw)
    person = rules.staff.by_email(msg.from_addr)
    with OcrPool(1) as pool:
        rec = recognize(msg, sender=person, channel="res", limits=rules.limits, pool=pool)
    assert rec.consumer.last_name and rec.crops == {}


@pytest.mark.parametrize("turns", [(), (-90,), (-270, 2.5), (-1.7,), (180, -3.0)])
def test_a_box_of_the_read_picture_maps_back_onto_the_page(turns):
    """The reader turns a page (on its side, then deskewed) before it reads it;
    a box of what it read is put back where it lies on the page as it came."""
    from mailflow.extract.page import PageResult, source_box

    page = Image.new("L", (400, 300), 255)
    page.paste(0, (96, 46, 104, 54))  # a mark centred at (100, 50)
    img, steps = page, []
    for degrees in turns:
        out = img.rotate(degrees, expand=True, fillcolor=255)
        steps.append((degrees, img.size, out.size))
        img = out
    xs, ys = zip(*[(x, y) for x in range(img.width) for y in range(img.height) if img.getpixel((x, y)) < 128])
    res = PageResult("ocr", width=img.width, height=img.height, turns=steps, source_size=page.size)
    x0, y0, x1, y1 = source_box(res, (min(xs), min(ys), max(xs) + 1, max(ys) + 1))
    assert x0 <= 100 / 400 <= x1 and y0 <= 50 / 300 <= y1
    assert x1 - x0 < 0.06 and y1 - y0 < 0.08  # and no larger than the mark turned
