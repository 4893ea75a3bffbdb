"""The printed talon (1.4) for paper from an applicant without e-mail: the e-mailed
talon's words, as a PDF with Cyrillic and Kazakh text that can be read back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pdfplumber
import pytest
from sqlmodel import Session, select

from mailflow import daemon, journal, talon, talon_pdf
from mailflow.models import Document, Event
from mailflow.services import Invalid, NotFound
from mailflow.values import KZ_TZ
from tests.support import fake_recognizer, home_config, load_rules

KAZAKH_HEADING = "Өтініштің тіркелгені туралы ТАЛОН"


def _pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def desk(tmp_path):
    """A posted letter that came on 01.12 of this year, registered today by the clerk."""
    cfg, rules = home_config(tmp_path), load_rules()
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    received = dt.datetime.combine(dt.date.today().replace(month=1, day=1), dt.time(9), KZ_TZ)
    out = parts.intake.register_paper(
        "письмо.pdf", b"%PDF-1.4 scan", "application/pdf", channel="post", received_at=received
    )
    assert out.status == "registered"
    yield parts, out.number, tmp_path
    daemon.close(parts)


def test_the_printed_talon_reads_back_with_number_dates_applicant_and_the_kazakh_heading(desk):
    parts, number, tmp_path = desk
    path = parts.services.print_talon(number, out=tmp_path / "t.pdf")
    text = _pdf_text(path)
    with Session(parts.engine) as s:
        doc = s.exec(select(Document).where(Document.number == number)).one()
    registered = doc.registered_at.astimezone(KZ_TZ)
    assert number in text
    assert f"Дата регистрации / Тіркелген күні: {registered:%d.%m.%Y %H:%M}" in text
    if registered.date() != doc.received_at.astimezone(KZ_TZ).date():
        assert f"Түскен күні: {doc.received_at.astimezone(KZ_TZ):%d.%m.%Y}" in text
    assert "Заявитель / Өтініш беруші: Иванов" in text
    assert KAZAKH_HEADING in text and "Қазақстан Республикасының" in text
    assert "Талон выдал / Талонды берген" in text
    assert "отправлено автоматически" not in text  # paper is handed over, not mailed
    assert path.stat().st_mode & 0o077 == 0  # personal data: the owner's only


def test_the_printed_and_the_mailed_talon_say_the_same_from_one_template(desk):
    parts, number, tmp_path = desk
    rules = load_rules()
    with Session(parts.engine) as s:
        doc = s.exec(select(Document).where(Document.number == number)).one()
    facts = talon.of_document(doc)
    _, mailed = talon.text(rules, rules.journal(doc.journal), facts)
    printed = _flat(_pdf_text(parts.services.print_talon(number, out=tmp_path / "t.pdf")))
    paragraphs = [p for p in mailed.split("\n\n") if "автоматически" not in p]
    assert len(paragraphs) >= 5
    for paragraph in paragraphs:
        assert _flat(paragraph) in printed


def test_printing_is_an_event_in_the_chain_with_the_files_hash(desk):
    parts, number, tmp_path = desk
    first = parts.services.print_talon(number, out=tmp_path / "a.pdf")
    again = parts.services.print_talon(number, out=tmp_path / "b.pdf")
    with Session(parts.engine) as s:
        events = s.exec(select(Event).where(Event.type == "talon_printed").order_by(Event.id)).all()
        assert journal.verify(s).ok
    assert [json.loads(e.data)["file"] for e in events] == [str(first), str(again)]
    assert json.loads(events[1].data)["sha256"] == hashlib.sha256(again.read_bytes()).hexdigest()


def test_an_unknown_number_or_a_file_that_cannot_be_written_changes_nothing(desk):
    parts, number, tmp_path = desk
    with pytest.raises(NotFound, match="ВХ-2026-999999 не найден"):
        parts.services.print_talon("ВХ-2026-999999", out=tmp_path / "x.pdf")
    with pytest.raises(Invalid, match="нет такой папки") as exc:
        parts.services.print_talon(number, out=tmp_path / "нет" / "x.pdf")
    assert exc.value.field == "out"
    with pytest.raises(Invalid, match="это папка"):
        parts.services.print_talon(number, out=tmp_path)
    with Session(parts.engine) as s:
        assert s.exec(select(Event).where(Event.type == "talon_printed")).all() == []
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_font_is_the_configured_one_or_the_first_the_machine_has(tmp_path, monkeypatch):
    dejavu = talon_pdf.FONTS[0]
    if not dejavu.is_file():
        pytest.skip("fonts-dejavu-core is not installed (make test installs it)")
    assert talon_pdf.find_font(dejavu) == dejavu
    monkeypatch.setattr(talon_pdf, "FONTS", (tmp_path / "none.ttf", dejavu))
    assert talon_pdf.find_font() == dejavu
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_text("шрифт")
    with pytest.raises(talon_pdf.FontMissing, match="не шрифт TrueType.*talon_font"):
        talon_pdf.find_font(not_a_font)
    latin_only = Path("/usr/share/fonts/truetype/dejavu/DejaVuMathTeXGyre.ttf")
    if latin_only.is_file():
        with pytest.raises(talon_pdf.FontMissing, match="нет букв"):
            talon_pdf.find_font(latin_only)
    monkeypatch.setattr(talon_pdf, "FONTS", (tmp_path / "none.ttf",))
    with pytest.raises(talon_pdf.FontMissing, match="none.ttf \\(нет такого файла\\).*fonts-dejavu-core"):
        talon_pdf.find_font()


def test_a_missing_font_is_refused_before_anything_is_written(desk):
    parts, number, tmp_path = desk
    with pytest.raises(Invalid, match="talon_font: нет шрифта с кириллицей и казахскими буквами"):
        parts.services.print_talon(number, out=tmp_path / "t.pdf", font=tmp_path / "none.ttf")
    assert not (tmp_path / "t.pdf").exists()
