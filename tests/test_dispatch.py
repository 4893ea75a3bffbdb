"""The clerk's dispatch (regulation 3.7, 3.8): the approved answer goes to the clerk of
the case's journal, who says how it went («ОТПРАВЛЕНО: Казпочта, РПО № …» or
«нарочным»); the executor's copy of the sent answer reaches the clerk's mailbox,
chased after one working day. Wrong words, dates and people change nothing and
are told why."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from sqlmodel import Session, select

from mailflow import chasing
from mailflow.models import Answer, Document, Event, Outbox
from tests.support import DIRECTOR, REPO, Office

KZ = dt.timezone(dt.timedelta(hours=5))
SIDORENKO, PETROV = "sidorenko@sevkaz.example", "petrov@sevkaz.example"
CLERK, SBYT_CLERK = "kanc@sevkaz.example", "kanc-sbyt@sevkaz.example"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DRAFT = ("ответ.docx", DOCX, "Проект ответа".encode())
SCAN = ("ответ подписанный.pdf", "application/pdf", b"%PDF-1.4 signed")


class Approved(Office):
    """A complaint whose answer management approved: it waits for the clerk."""

    def __init__(self, tmp_path, journal: str | None = None):
        super().__init__(tmp_path, journal=journal)
        self.send(self.reply("Сидоренко — подготовить ответ заявителю."))
        self.step(SIDORENKO, self.last("forward", SIDORENKO), "ПРОЕКТ", [DRAFT])
        self.step(PETROV, self.last("stage", PETROV), "СОГЛАСОВАНО")
        self.step(SIDORENKO, self.last("stage", SIDORENKO), "РУКОВОДСТВУ")
        self.step(DIRECTOR, self.last("stage", DIRECTOR), "УТВЕРЖДАЮ")

    def last(self, kind: str, to: str):
        return [m for m in self.sent(kind) if to in m["To"]][-1]

    def step(self, frm: str, to_message, text: str, files=()):
        [o] = self.send(self.reply(text, frm=frm, to_message=to_message, attachments=list(files)))
        return o

    def state(self) -> tuple[str, str, Answer]:
        engine, s = self.db()
        with s:
            doc = s.exec(select(Document)).one()
            a = s.exec(select(Answer)).one()
        engine.dispose()
        return doc.status, doc.stage, a

    def events(self, type_: str) -> list[dict]:
        engine, s = self.db()
        with s:
            out = [json.loads(e.data) for e in s.exec(select(Event).where(Event.type == type_))]
        engine.dispose()
        return out


def today() -> dt.date:
    return dt.datetime.now(KZ).date()


def test_the_approved_answer_goes_to_the_clerk_who_records_how_it_went(tmp_path):
    c = Approved(tmp_path)
    to_clerk = c.last("stage", CLERK)
    assert to_clerk["To"] == CLERK  # the clerk of the ДП journal only
    body = to_clerk.get_body(("plain",)).get_content()
    assert "ОТПРАВЛЕНО" in body and "РПО" in body and "нарочным" in body
    assert [a.get_filename() for a in to_clerk.iter_attachments()] == ["ответ.docx"]
    assert c.state()[:2] == ("in_work", "approved") and c.state()[2].holder == CLERK

    o = c.step(
        CLERK, to_clerk, f"Отправлено: Казпочта, РПО № RR123456785KZ, исх. № 12/7 от {today():%d.%m.%Y}"
    )
    assert o.status == "moved", o
    status, stage, a = c.state()
    assert (status, stage) == ("answered", "dispatched")
    assert (a.dispatch_channel, a.tracking, a.outgoing_number, a.outgoing_date) == (
        "kazpost",
        "RR123456785KZ",
        "12/7",
        today(),
    )
    assert a.holder == SIDORENKO
    [ev] = c.events("dispatched")
    assert ev["by"] == CLERK and ev["tracking"] == "RR123456785KZ" and ev["state"] == ["in_work", "answered"]
    # the executor is asked for the copy of the sent answer (3.8)
    ask = c.last("stage", SIDORENKO)
    text = ask.get_body(("plain",)).get_content()
    assert "КОПИЯ" in text and "RR123456785KZ" in text  # how it went, as the clerk wrote it
    o = c.step(SIDORENKO, ask, "КОПИЯ", [SCAN])
    assert o.status == "moved"
    assert c.state()[:2] == ("closed", "closed")
    copy = c.last("stage", CLERK)  # into the clerk's mailbox
    assert "Копия отправленного ответа" in copy.get_body(("plain",)).get_content()
    assert [x.get_filename() for x in copy.iter_attachments()] == ["ответ подписанный.pdf"]
    assert "#" not in copy["Subject"]  # nothing moves on from a closed case: no reply code


def test_a_courier_dispatch_and_the_copy_chased_after_one_working_day(tmp_path):
    c = Approved(tmp_path)
    assert c.step(CLERK, c.last("stage", CLERK), "ОТПРАВЛЕНО нарочным").status == "moved"
    status, stage, a = c.state()
    assert (status, a.dispatch_channel) == ("answered", "courier")
    engine, _ = c.db()
    sent = a.dispatched_at.astimezone(KZ).date()
    cal = c.rules.calendar
    for day in (1, 2):
        chasing.sweep(
            engine,
            c.rules,
            "mailflow@localhost",
            dt.datetime.combine(cal.add_working_days(sent, day), dt.time(10), KZ),
        )
    with Session(engine) as s:
        mails = s.exec(select(Outbox).where(Outbox.kind == "copy_missing")).all()
    engine.dispose()
    assert sorted(r for m in mails for r in json.loads(m.recipients)) == [CLERK, SIDORENKO]


def test_the_sbyt_journals_answer_goes_to_its_own_clerk(tmp_path):
    c = Approved(tmp_path, journal="sbyt")
    assert [m["To"] for m in c.sent("stage") if "Утверждено" in m["Subject"]] == [SBYT_CLERK]
    # the ДП clerk may not report it sent
    o = c.step(CLERK, c.last("stage", SBYT_CLERK), "ОТПРАВЛЕНО нарочным")
    assert o.status == "refused" and c.state()[:2] == ("in_work", "approved")
    assert c.step(SBYT_CLERK, c.last("stage", SBYT_CLERK), "ОТПРАВЛЕНО нарочным").status == "moved"


@pytest.mark.parametrize(
    "text, why",
    [
        ("ОТПРАВЛЕНО", "не сказано, как отправлен ответ"),
        ("ОТПРАВЛЕНО: Казпочта, исх. № 12/7", "нужен номер почтового отправления"),
        ("ОТПРАВЛЕНО нарочным, исх. № 12/7 от 31.02.2026", "31.02.2026 — такой даты нет"),
        ("ОТПРАВЛЕНО нарочным, исх. № 12/7 от {future}", "ещё не наступила"),
        ("ОТПРАВЛЕНО нарочным, исх. № 12/7 от 01.01.2020", "раньше регистрации обращения"),
        ("OTПPAВЛEHO нарочным", "латинские буквы"),  # Latin O, T, P, E, H
        ("Отправлю завтра", "нет ни одного из ожидаемых слов"),
    ],
)
def test_a_dispatch_report_that_is_wrong_changes_nothing_and_says_why(tmp_path, text, why):
    c = Approved(tmp_path)
    future = today() + dt.timedelta(days=3)
    o = c.step(CLERK, c.last("stage", CLERK), text.format(future=f"{future:%d.%m.%Y}"))
    assert o.status == "unclear", o
    assert c.state()[:2] == ("in_work", "approved") and c.events("dispatched") == []
    told = c.last("stage_unclear", CLERK)
    assert why in told.get_content()
    # the token stands: the clerk answers again, properly
    assert c.step(CLERK, c.last("stage", CLERK), "ОТПРАВЛЕНО нарочным").status == "moved"


@pytest.mark.parametrize(
    "frm, reply_to",
    [
        (SIDORENKO, SIDORENKO),  # the executor: staff, told why
        ("kаnc@sevkaz.example", None),  # a Cyrillic «а»: a stranger, never written to
        ("kanc@sevkaz.example.evil.example", None),
    ],
)
def test_a_dispatch_from_the_wrong_person_is_refused(tmp_path, frm, reply_to):
    c = Approved(tmp_path)
    before = len(c.sent())
    o = c.step(frm, c.last("stage", CLERK), "ОТПРАВЛЕНО нарочным")
    assert o.status == "refused"
    assert c.state()[:2] == ("in_work", "approved") and c.events("dispatched") == []
    new = c.sent()[before:]
    replies = [m for m in new if m["X-Mailflow-Kind"] == "notice" and "не принято" in m["Subject"]]
    to_clerk = [m for m in new if m["X-Mailflow-Kind"] == "notice" and m["To"] == CLERK]
    if reply_to:
        [r] = [m for m in replies if m["To"] == reply_to]
        assert "ничего не изменило" in r.get_content() and r["In-Reply-To"]
    assert all(m["To"] in (CLERK, SIDORENKO) for m in new)  # no one else is written to
    assert to_clerk  # the clerk looks at it


def _mf(home, *args):
    return subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(home), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_clerk_records_a_dispatch_at_the_command_line(tmp_path):
    c = Approved(tmp_path)
    home = c.cfg.home
    sent = f"Казпочта, РПО № RR123456785KZ, исх. № 3/3 от {today():%d.%m.%Y}"
    r = _mf(home, "dispatch", "ВХ-1999-000001", "--sent", sent, "--by", CLERK)
    assert r.returncode == 1 and "не найден" in r.stderr
    r = _mf(home, "dispatch", c.number, "--sent", sent, "--by", SIDORENKO)
    assert r.returncode == 2 and "нет в справочнике" in r.stderr
    r = _mf(home, "dispatch", c.number, "--sent", sent, "--by", SBYT_CLERK)
    assert r.returncode == 1 and "отправляет канцелярия" in r.stderr
    r = _mf(home, "dispatch", c.number, "--sent", "Казпочта", "--by", CLERK)
    assert r.returncode == 1 and "номер почтового отправления" in r.stderr
    assert c.state()[:2] == ("in_work", "approved") and c.events("dispatched") == []
    r = _mf(home, "dispatch", c.number, "--sent", sent, "--by", CLERK)
    assert r.returncode == 0, r.stderr
    status, stage, a = c.state()
    assert (status, stage, a.tracking, a.holder) == ("answered", "dispatched", "RR123456785KZ", SIDORENKO)
    ask = c.last("stage", SIDORENKO)
    assert "КОПИЯ" in ask.get_body(("plain",)).get_content()
    assert c.step(SIDORENKO, ask, "КОПИЯ", [SCAN]).status == "moved"
    assert c.state()[:2] == ("closed", "closed")
    r = _mf(home, "dispatch", c.number, "--sent", sent, "--by", CLERK)
    assert r.returncode == 1 and "закрыто" in r.stderr
