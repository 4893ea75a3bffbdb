"""Recognition: text and fields out of scanned appeals.

The end-to-end tests generate a small corpus with tests/corpusgen.py (a
handful of pages: forms of Appendix 1-3 and an organisation's letter in
several fonts, skewed, blurred and noisy; a website form; a handwritten Book
entry) and check the fields against the generator's truth. The rest checks
the helpers, the limits, and that bad input is reported, never raised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import struct
import zlib
from pathlib import Path

import corpusgen
import pytest
from PIL import Image

from mailflow import mime
from mailflow.extract import OcrPool, recognize
from mailflow.extract import evaluate as ev
from mailflow.extract.fields import book_time, clean_address, kind_in_text, parse_phone, read_labelled
from mailflow.extract.page import PageTask, estimate_skew
from mailflow.rules import Limits, Person
from mailflow.values import Attachment, ParsedMessage

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
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


# --- a small generated corpus, end to end ----------------------------------


def _cases() -> list[corpusgen.Case]:
    C = corpusgen.Case
    fams = corpusgen.installed_families()
    fam = lambda name: name if name in fams else "DejaVu Sans"  # noqa: E731
    return [
        C(
            doc="form",
            sender="esil-res@sevkaz.example",
            kind="претензия",
            fmt="pdf",
            dpi=200,
            family=fam("Liberation Serif"),
            skew=2.2,
            blur=0.5,
            noise=4,
            charset="windows-1251",
        ),
        C(
            doc="form",
            sender="sc2@sevkaz.example",
            kind="предложение",
            fmt="jpeg",
            dpi=200,
            family=fam("PT Sans"),
            skew=-1.6,
            pen=True,
            noise=8,
            charset="koi8-r",
            body_style=2,
        ),
        C(
            doc="form",
            sender=corpusgen.CLERK,
            kind="заявление",
            fmt="png1",
            dpi=300,
            family=fam("DejaVu Serif"),
            skew=0.8,
            meta={"book": True},
        ),
        C(
            doc="letter",
            sender="office7@client.example",
            kind="жалоба",
            fmt="pdf",
            dpi=200,
            family=fam("Carlito"),
            skew=-1.0,
            blur=0.5,
        ),
        C(doc="website", sender=corpusgen.WEBSITE, kind="отзыв", fmt="none"),
        C(doc="handwritten", sender=corpusgen.CLERK, kind="жалоба", fmt="jpeg", dpi=200, meta={"book": True}),
    ]


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    corpusgen.generate(out, seed=20260301, cases=_cases())
    return out


@pytest.fixture(scope="module")
def small_result(small_corpus, pool):
    return ev.evaluate(small_corpus, pool=pool)


def test_generated_corpus_has_the_appeals_format(small_corpus):
    truths = [json.loads(line) for line in (small_corpus / "truth.jsonl").read_text().splitlines()]
    assert len(truths) == 6
    for t in truths:
        raw = (small_corpus / t["file"]).read_bytes()
        msg = mime.parse(raw)
        assert msg.message_id == t["message_id"]
        assert [a.filename for a in msg.attachments] == [a["filename"] for a in t["attachments"]]
        assert set(t) >= {"channel", "kind", "group", "consumer", "origin_unit", "book_entry_at"}
    assert any(b"windows-1251" in (small_corpus / t["file"]).read_bytes() for t in truths)
    assert any(b"filename*" in (small_corpus / t["file"]).read_bytes() for t in truths)


def test_generator_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    cases = _cases()[:2]
    corpusgen.generate(a, seed=5, cases=cases)
    corpusgen.generate(b, seed=5, cases=_cases()[:2])
    for f in sorted(a.iterdir()):
        assert hashlib.sha256(f.read_bytes()).digest() == hashlib.sha256((b / f.name).read_bytes()).digest()


def test_fields_of_generated_corpus_are_right_or_none(small_result):
    assert small_result["engine"] == "tesserocr"
    _right_or_none(small_result)


def test_the_program_engine_reads_the_generated_corpus_as_well(small_corpus):
    """The fallback (no tesserocr): the same pipeline through the tesseract binary."""
    with OcrPool(2, engine="program") as program:
        res = ev.evaluate(small_corpus, pool=program)
    assert res["engine"] == "tesseract program"
    _right_or_none(res)


def _right_or_none(res: dict) -> None:
    assert res["wrong_nonnull"] == 0, res["errors"]
    for f in (
        "kind",
        "group",
        "channel",
        "origin_unit",
        "book_entry_at",
        "org_name",
        "outgoing_number",
        "outgoing_date",
    ):
        # the handwritten entry may be missing kind and group, nothing else
        c, n = res["counts"][f]
        assert c >= n - (1 if f in ("kind", "group") else 0), (f, res["errors"])
    for f in ("last_name", "first_name", "patronymic", "phone", "address", "email"):
        c, n = res["counts"][f]
        assert c >= n - 2, (f, res["errors"])  # the handwritten entry, and at most one more


def test_handwritten_book_entry_is_left_to_a_clerk(small_corpus, pool):
    truths = [json.loads(line) for line in (small_corpus / "truth.jsonl").read_text().splitlines()]
    t = next(t for t in truths if t.get("handwritten"))
    msg = mime.parse((small_corpus / t["file"]).read_bytes())
    clerk = Person("Канцелярия", corpusgen.CLERK, frozenset({"clerk"}), "Севказэнергосбыт")
    rec = recognize(msg, sender=clerk, channel="book", limits=LIMITS, pool=pool)
    c = rec.consumer
    assert (c.last_name, c.first_name, c.address, c.phone) == (None, None, None, None)
    for f in ("last_name", "first_name", "address", "phone"):
        assert f in rec.needs_review
    # what it could read for sure it does give: the entry's time from the subject
    assert rec.book_entry_at == dt.datetime.fromisoformat(t["book_entry_at"])
    assert rec.attachments[0].text_source == "ocr"
    assert rec.attachments[0].ocr_confidence is not None and rec.attachments[0].ocr_confidence < 70
    # the card says why: the scan is handwriting, and the fields are to be read from the picture
    assert "написан от руки" in (rec.attachments[0].note or "")
    assert all("написан от руки" in rec.evidence[f] for f in ("last_name", "address", "phone"))


def test_pages_of_one_message_use_both_workers(small_corpus, pool):
    a = Image.new("L", (1654, 2339), 255)
    corpusgen.Sheet  # noqa: B018 - the generator draws real pages below
    p = corpusgen.make_person(__import__("random").Random(1))
    pages = corpusgen.render_form(
        p,
        "жалоба",
        dt.date(2026, 3, 2),
        dpi=200,
        family="DejaVu Sans",
        rng=__import__("random").Random(2),
        pages=2,
    )
    pdf = corpusgen.encode(pages, "pdf", 200, __import__("random").Random(3))[0][0]
    res = pool.run([PageTask("pdf", pdf, 0), PageTask("pdf", pdf, 1)])
    assert all(r.source == "ocr" for r in res)
    assert len({r.worker for r in res}) == 2
    del a


# --- limits and bad input: reported, never raised --------------------------


def _msg(*atts: tuple[str, str, bytes], body: str = "", subject: str = "скан") -> ParsedMessage:
    return ParsedMessage(
        message_id="<t@x>",
        subject=subject,
        from_addr="esil-res@sevkaz.example",
        from_name="",
        reply_to=None,
        to=("kanc@sevkaz.example",),
        date=None,
        in_reply_to=None,
        references=(),
        auto_submitted=None,
        precedence=None,
        content_type="multipart/mixed",
        body_text=body,
        attachments=tuple(Attachment(n, ct, d, hashlib.sha256(d).hexdigest()) for n, ct, d in atts),
        defects=(),
    )


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb)."""
    buf = io.BytesIO()
    Image.new("1", (8, 8), 1).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


ENCRYPTED_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"4 0 obj<</Filter/Standard/V 1/R 2/O<" + b"11" * 32 + b">/U<" + b"22" * 32 + b">/P -4>>endobj\n"
    b"trailer<</Root 1 0 R/Size 5/Encrypt 4 0 R/ID[<00112233445566778899aabbccddeeff>"
    b"<00112233445566778899aabbccddeeff>]>>\n%%EOF\n"
)


def test_bad_attachments_are_noted_not_raised(pool):
    small = Limits(**{**LIMITS.__dict__, "max_attachment_bytes": 10_000})
    msg = _msg(
        ("big.jpg", "image/jpeg", b"\xff\xd8\xff" + b"0" * 20_000),
        ("a.zip", "application/zip", b"PK\x03\x04" + b"0" * 100),
        ("winmail.dat", "application/ms-tnef", b"\x78\x9f\x3e\x22" + b"0" * 50),
        ("письмо.docx", "application/octet-stream", b"PK\x03\x04" + b"1" * 100),
        ("bomb.png", "image/png", _png_claiming(100_000, 100_000)),
        ("locked.pdf", "application/pdf", ENCRYPTED_PDF),
        ("broken.pdf", "application/pdf", b"%PDF-1.4\n garbage"),
        ("odd.bin", "application/octet-stream", b"\x00\x01\x02"),
    )
    rec = recognize(msg, sender=RES, channel="res", limits=small, pool=pool)
    info = {a.filename: a for a in rec.attachments}
    assert len(info) == 8
    assert all(a.text_source == "skipped" and a.note for a in rec.attachments), rec.attachments
    assert "limit" in info["big.jpg"].note
    assert "archive" in info["a.zip"].note
    assert "TNEF" in info["winmail.dat"].note
    assert "Office" in info["письмо.docx"].note
    assert "pixel" in info["bomb.png"].note
    assert "encrypted" in info["locked.pdf"].note
    assert "broken" in info["broken.pdf"].note
    assert rec.origin_unit == "Есильский РЭС"
    assert rec.ocr_seconds == 0.0


def test_truncated_pdf_and_page_limit(pool):
    rng = __import__("random").Random(4)
    p = corpusgen.make_person(rng)
    pages = corpusgen.render_form(
        p, "заявление", dt.date(2026, 3, 2), dpi=150, family="DejaVu Sans", rng=rng, pages=2
    )
    pdf = corpusgen.encode(pages, "pdf", 150, rng)[0][0]
    one_page = Limits(**{**LIMITS.__dict__, "max_pages_per_message": 1})
    rec = recognize(
        _msg(("скан.pdf", "application/pdf", pdf)), sender=RES, channel="res", limits=one_page, pool=pool
    )
    a = rec.attachments[0]
    assert a.pages == 2 and a.text_source == "ocr" and "not read" in a.note
    assert "attachments" in rec.needs_review
    assert rec.consumer.last_name == p.last_name  # the first page was read
    cut = recognize(
        _msg(("cut.pdf", "application/pdf", pdf[: len(pdf) // 2])),
        sender=RES,
        channel="res",
        limits=LIMITS,
        pool=pool,
    )
    assert len(cut.attachments) == 1  # whatever pdfium makes of it, it is reported


def test_text_layer_pdf_is_not_ocred(pool):
    content = b"BT /F1 14 Tf 72 700 Td (Contact phone: +7 702 757 22 33, outgoing letter 12) Tj ET"
    objs = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n" % len(content) + content + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for i, o in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    rec = recognize(
        _msg(("letter.pdf", "application/pdf", out.getvalue())),
        sender=None,
        channel="email",
        limits=LIMITS,
        pool=pool,
    )
    a = rec.attachments[0]
    assert a.text_source == "text-layer" and a.ocr_confidence is None
    assert "+7 702 757 22 33" in rec.text


def test_website_form_body():
    body = (
        "Новое сообщение с сайта\n\nТип обращения: жалоба\nФИО: Әбенова Әлия Серікқызы\n"
        "Адрес: г. Петропавловск, ул. Абая, д. 5, кв. 7\nТелефон: 8 (705) 123-45-67\n"
        "E-mail: a.abenova@mail.example\n\nТекст сообщения:\nНет света."
    )
    f = read_labelled(body)
    assert f["kind"].value == "жалоба"
    assert (f["last_name"].value, f["first_name"].value, f["patronymic"].value) == (
        "Әбенова",
        "Әлия",
        "Серікқызы",
    )
    assert f["phone"].value == "+77051234567"
    assert f["address"].value == "г. Петропавловск, ул. Абая, д. 5, кв. 7"
    assert f["email"].value == "a.abenova@mail.example"


# --- helpers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("+7 747 543 87 10", "+77475438710"),
        ("--7 702 692 60 92", "+77026926092"),
        ("8 (771) 623-64-88", "+77716236488"),
        ("+7(702)1234567", "+77021234567"),
        ("8 (775): 520-05-93", "+77755200593"),
        ("8 (7152) 46-12-34", "+77152461234"),
        ("+7 747 543 87", None),  # too short
        ("+7 123 456 78 90", None),  # not a Kazakh number
        ("+7 747 543 87 10 5", None),
    ],
)
def test_parse_phone(text, expected):
    assert parse_phone(text) == expected


def test_clean_address():
    assert clean_address("с.Саумалколь ,ул.Мира , д.8") == "с. Саумалколь, ул. Мира, д. 8"
    assert clean_address("г. Булаево, ул. Абая, д. 5, КВ. 90") == "г. Булаево, ул. Абая, д. 5, кв. 90"


def test_kind_wording():
    assert kind_in_text("Направляю жалобу потребителя Омарова А.") == ("жалоба", 1)
    assert kind_in_text("Направляю скан записи в Книге отзывов и предложений")[0] is None
    assert kind_in_text("Обращение потребителя Иванов")[0] is None
    assert kind_in_text("жалоба и претензия")[0] is None


def test_book_time_takes_the_offset_of_the_clerks_clock():
    kz = dt.timezone(dt.timedelta(hours=5))
    sent = dt.datetime(2026, 3, 7, 15, 20, tzinfo=kz)
    at, _, review = book_time("Книга отзывов и предложений: запись от 07.03.2026 14:49", "", sent)
    assert at == dt.datetime(2026, 3, 7, 14, 49, tzinfo=kz) and not review
    utc = dt.datetime(2026, 3, 7, 15, 59, tzinfo=dt.UTC)  # like appeals/ truth
    at, _, _ = book_time("запись от 07.03.2026 14:49", "", utc)
    assert at.utcoffset() == dt.timedelta(0) and at.hour == 14
    early = dt.datetime(2026, 3, 7, 10, 5, tzinfo=dt.UTC)  # a UTC clock, local entry
    at, _, _ = book_time("запись от 07.03.2026 14:49", "", early)
    assert at == dt.datetime(2026, 3, 7, 14, 49, tzinfo=kz)
    at, _, _ = book_time("запись от 07.03.2026 14:49", "", None)
    assert at.utcoffset() == dt.timedelta(hours=5)
    at, _, review = book_time("запись от 07.03.2026 14:49", "внесённой 07.03.2026 в 15:49", sent)
    assert at is None and review


@pytest.mark.parametrize("engine", ["tesserocr", "program"])
def test_page_on_its_side_is_turned(engine):
    from mailflow.extract.page import engine_name, init_worker, run_page

    init_worker(engine)  # each OCR engine: orientation, the page, the re-reads
    try:
        assert engine_name() == {"tesserocr": "tesserocr", "program": "tesseract program"}[engine]
        rng = __import__("random").Random(5)
        p = corpusgen.make_person(rng)
        page = corpusgen.render_form(
            p, "жалоба", dt.date(2026, 3, 3), dpi=200, family="DejaVu Serif", rng=rng
        )[0].rotate(270, expand=True, fillcolor=255)
        buf = io.BytesIO()
        page.save(buf, format="PNG", dpi=(200, 200))
        r = run_page(PageTask("image", buf.getvalue(), 0))
        assert r.rotation == 270
        assert p.last_name in r.text
        assert r.underlines["ЖАЛОБА"] > 0.8 > 0.5 > r.underlines["ПРЕТЕНЗИЯ"]
    finally:
        init_worker()  # this process's default engine again


@pytest.mark.parametrize("engine", ["tesserocr", "program"])
def test_engines_read_the_same_words_and_cuts(engine):
    from PIL import ImageDraw, ImageFont

    from mailflow.extract.engine import open_engine

    font = ImageFont.truetype(corpusgen.font_path("DejaVu Sans"), 40)
    img = Image.new("L", (900, 330), 255)
    draw = ImageDraw.Draw(img)
    for y, line in ((30, "Line one 12345"), (130, "Second 67890"), (230, "Third row 555")):
        draw.text((30, y), line, font=font, fill=0)
    e = open_engine(engine)
    try:
        assert [
            w.text for w in e.words(img, 300, "eng", psm=6)
        ] == "Line one 12345 Second 67890 Third row 555".split()
        cut = e.words(img, 300, "eng", psm=7, rect=(0, 110, 900, 200))
        assert [w.text for w in cut] == ["Second", "67890"]
        assert 120 <= cut[0].box[1] < cut[0].box[3] <= 200  # boxes in the picture's pixels
        assert e.words(img, 300, "eng", rect=(50, 50, 50, 90)) == []
    finally:
        e.close()


def test_engine_falls_back_to_the_program(monkeypatch):
    from mailflow.extract import engine as eng

    monkeypatch.setattr(eng, "tessdata_dir", lambda *a: None)  # as if no tessdata had the models
    assert eng.open_engine().name == "tesseract program"
    with pytest.raises(RuntimeError, match="tesserocr cannot be used"):
        eng.open_engine("tesserocr")
    monkeypatch.setenv(eng.ENV, "program")
    assert eng.open_engine().name == "tesseract program"
    monkeypatch.setenv(eng.ENV, "pytesseract")
    with pytest.raises(ValueError):
        eng.open_engine()


def test_skew_estimate():
    rng = __import__("random").Random(9)
    p = corpusgen.make_person(rng)
    page = corpusgen.render_form(p, "отзыв", dt.date(2026, 3, 2), dpi=150, family="DejaVu Sans", rng=rng)[0]
    for angle in (-4.0, -1.5, 0.0, 2.5):
        tilted = page.rotate(angle, expand=True, fillcolor=255)
        assert abs(estimate_skew(tilted) + angle) <= 0.3


def test_deskew_turns_as_pillow_does():
    """OpenCV's turn of a page (the cheap one the reader deskews with) is
    Pillow's: the same size, every mark in the same place, grey levels within
    a few steps; so the turns a PageResult records still map boxes back."""
    import numpy as np

    from mailflow.extract.page import deskew

    rng = __import__("random").Random(9)
    p = corpusgen.make_person(rng)
    page = corpusgen.render_form(p, "отзыв", dt.date(2026, 3, 2), dpi=150, family="DejaVu Sans", rng=rng)[0]
    page = page.convert("L")
    for angle in (-14.0, -1.0, 0.35, 3.3):
        ours, pillows = deskew(page, angle), page.rotate(angle, Image.BILINEAR, expand=True, fillcolor=255)
        assert ours.size == pillows.size and ours.mode == "L"
        diff = np.abs(np.asarray(ours, dtype=np.int16) - np.asarray(pillows, dtype=np.int16))
        assert diff.max() <= 16 and diff.mean() < 0.2, (angle, diff.max(), diff.mean())


# --- the shared sample corpus, when it is there ----------------------------------


@pytest.mark.skipif(
    not (SHARED / "appeals" / "truth.jsonl").is_file(), reason="../shared/corpus is not beside the repository"
)
def test_shared_appeals_corpus(pool):
    res = ev.evaluate(SHARED / "appeals", pool=pool)
    assert res["wrong_recognition"] == 0, res["errors"]
    for f in ev.FIELDS:
        if f == "channel":  # truth.jsonl labels 5 messages against the sender's role
            continue
        assert res["per_field"][f] >= 0.95, (f, res["errors"])


# --- digits vouched for by the English model (a 3 read as a 5) -------------------------------


def test_digits_confirmed_by_another_model():
    from mailflow.extract.fields import digits_confirmed
    from mailflow.extract.text import Tok

    def tok(text, *check):
        return Tok(text, 0.97, 0, 0, None, tuple(check))

    assert digits_confirmed([tok("д.35", "д.35", "")])
    assert digits_confirmed([tok("кв.95", "4.95", "")])  # a letter read as a digit is not a doubt
    assert not digits_confirmed([tok("д.35", "д.33", "д.35")])  # another digit: doubt
    assert not digits_confirmed([tok("548", "2548", "")])  # garbled, and grey did not agree
    assert digits_confirmed([tok("548", "2548", "548")])  # garbled binarised, grey agrees
    assert not digits_confirmed([Tok("д.35", 0.97, 0, 0, None, ())])  # nobody read it again
    assert digits_confirmed([Tok("д.35", 0.97, 0, 0, None, None)])  # typed text: no doubt
    assert digits_confirmed([tok("улица", "")])  # no digits: nothing to vouch for


@pytest.mark.parametrize(
    "frm, sender, body, email",
    [
        # a consumer writing from their own mailbox: that is their address
        (
            "Ахметов Болат <bolat.77@mail.example>",
            None,
            "Жалоба на отключение света. Ахметов Б.С.",
            "bolat.77@mail.example",
        ),
        # an organisation's letter is not a person's e-mail
        (
            "ТОО Береке <office@bereke.example>",
            None,
            "ТОО «Береке» просит пересчитать счёт. Исх. № 12 от 01.12.2026",
            None,
        ),
        # a district chief forwards a form: the chief's address is not the consumer's
        ("esil-res@sevkaz.example", RES, "Направляю заявление потребителя", None),
    ],
)
def test_a_consumers_own_mailbox_is_their_email(frm, sender, body, email, pool):
    raw = (
        f"From: {frm}\r\nTo: kanc@sevkaz.example\r\nSubject: =?utf-8?b?0JbQsNC70L7QsdCw?=\r\n"
        "Message-ID: <own@x>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + body.encode()
    msg = mime.parse(raw)
    rec = recognize(msg, sender=sender, channel="res" if sender else "email", limits=LIMITS, pool=pool)
    assert rec.consumer.email == email


@pytest.mark.parametrize(
    "text, kind",
    [
        ("Шағым", "жалоба"),
        ("Өтініш: Құлжанова", "заявление"),
        ("Ұсыныс: Қасымов", "предложение"),
        ("Пікір", "отзыв"),
        ("Талап: ақшаны қайтаруды талап етемін", "претензия"),
        ("Жалоба / Шағым", "жалоба"),  # both languages, one kind
        ("Шағым және ұсыныс", None),  # two kinds compete: the card asks, nothing is guessed
        ("Арыз", None),  # in a letter "арыз" is any application, not a claim
    ],
)
def test_kazakh_words_name_the_kind(text, kind):
    assert kind_in_text(text)[0] == kind


# --- organisations of every legal form, quoted or not (issue 13) ------------------


def _letter(*lines: str, first_line: int = 0):
    from mailflow.extract.text import Tok

    return [Tok(w, 0.95, n, 0, None, None) for n, line in enumerate(lines, first_line) for w in line.split()]


@pytest.mark.parametrize(
    ("head", "want"),
    [
        ("ИП Сатпаев А.К.", "ИП «Сатпаев А.К.»"),
        ("ЖК Омаров Б.С.", "ЖК «Омаров Б.С.»"),
        ("КГУ Центр занятости населения", "КГУ «Центр занятости населения»"),
        ('РГП на ПХВ "Казгидромет"', "РГП на ПХВ «Казгидромет»"),
        ("ГККП «Ясли-сад Балапан»", "ГККП «Ясли-сад Балапан»"),
        ('ПК "Жұлдыз"', "ПК «Жұлдыз»"),
        ("ТОО Береке-2030, БИН 123456789012", "ТОО «Береке-2030»"),
        ("ЖШС «Нұр Ақсу»", "ЖШС «Нұр Ақсу»"),
    ],
)
def test_an_organisation_is_read_however_its_letterhead_quotes_it(head, want):
    from mailflow.extract.fields import read_letter

    got = read_letter(_letter(head, "г. Петропавловск", "Исх. № 12 от 01.03.2026", "Генеральному директору"))
    assert got is not None and got["org_name"].value == want


def test_a_bare_legal_form_further_down_the_letter_is_not_an_organisation():
    from mailflow.extract.fields import read_letter

    lines = [
        "Исх. № 12 от 01.03.2026",
        "Генеральному директору",
        "АО «СЕВКАЗЭНЕРГО»",
        "Текст",
        "ИП Петров А.А. просит",
    ]
    got = read_letter(_letter(*lines))
    assert got is not None and got["org_name"].value is None  # only in the letterhead
    assert read_letter(_letter("Генеральному директору АО СЕВКАЗЭНЕРГО", "от потребителя")) is None


def test_an_organisations_kazakh_letters_come_from_the_kazakh_first_reading():
    from mailflow.extract.fields import read_letter
    from mailflow.extract.text import Tok

    def letter(head: str, kazakh_first: str):
        """The letterhead read by the page's model, its line read again Kazakh first."""
        toks = [Tok(w, 0.95, 0, 0, ("org", 0, kazakh_first, 0.9)) for w in head.split()]
        return toks + _letter("г. Есиль", "Исх. № 12 от 01.03.2026", first_line=1)

    got = read_letter(letter("ЖШС «Нур Аксу»", "ЖШС «Нұр Ақсу»"))
    assert got["org_name"].value == "ЖШС «Нұр Ақсу»"
    got = read_letter(letter("КХ Нурлы жол", "КХ Нұрлы жол"))  # bare, in the letterhead
    assert got["org_name"].value == "КХ «Нұрлы жол»"
    # another word, not only Kazakh letters: the page's reading stays
    got = read_letter(letter("ТОО «Береке»", "ТОО «Бірлік»"))
    assert got["org_name"].value == "ТОО «Береке»"
    got = read_letter(letter("ТОО «Нурлы Жол -Агро»", "ТОО «Нурлы Жол -Агро»"))
    assert got["org_name"].value == "ТОО «Нурлы Жол-Агро»"


def test_uneven_light_is_flattened_and_an_even_page_is_left_as_it_is():
    from PIL import ImageDraw

    from mailflow.extract.page import flatten_light

    even = Image.new("L", (1200, 1600), 240)
    ImageDraw.Draw(even).text((100, 100), "Жалоба", fill=20)
    assert flatten_light(even) is even  # a clean scan reads exactly as before
    shaded = Image.linear_gradient("L").resize((1200, 1600)).rotate(90).point(lambda v: 250 - v // 3)
    ImageDraw.Draw(shaded).rectangle((900, 700, 1000, 720), fill=60)  # ink where the paper is darkest
    flat = flatten_light(shaded)
    paper = [flat.getpixel((x, 400)) for x in (50, 600, 1150)]
    assert max(paper) - min(paper) <= 10, paper  # the paper is one white now
    assert flat.getpixel((950, 710)) < 200  # and the ink stays ink
