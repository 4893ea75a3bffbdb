"""Extensions by e-mail (АППК art. 76 p. 2): the executor's unit head asks «ПРОДЛИТЬ ДО
dd.mm.yyyy: причина», management decides by reply, and the applicant is told within
3 working days: by e-mail, or by the clerk, chased until it is recorded. Every wrong
date, word, number or person changes nothing and is told why."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from sqlmodel import Session, select

from mailflow import chasing, daemon, export
from mailflow.models import Chase, Document, Event, Extension, ExtensionRequest
from tests.support import CHIEF, DIRECTOR, REPO, Office, fake_recognizer, text_appeal

KZ = dt.timezone(dt.timedelta(hours=5))
PETROV, SIDORENKO = "petrov@sevkaz.example", "sidorenko@sevkaz.example"  # the unit head, his executor
DEPUTY, CLERK = "deputy@sevkaz.example", "kanc@sevkaz.example"
OTHER_HEAD = "kozhakhmetov@sevkaz.example"  # the head of another unit


class Case(Office):
    """A complaint resolved to Сидоренко, whose unit head is Петров (`resolve`=False: still
    on resolution; `email`: the appeal gives the applicant's e-mail)."""

    def __init__(self, tmp_path, *, email: bool = False, resolve: bool = True):
        super().__init__(tmp_path)
        if email:  # a second appeal, with the applicant's e-mail, is the case under test
            body = "Направляю жалобу потребителя. E-mail: consumer@example.kz"
            [o] = self.send(
                text_appeal(frm=CHIEF, body=body, attachments=[("скан.pdf", "application/pdf", b"%PDF-1.4")])
            )
            self.number = o.number
            [self.mgmt] = [
                m
                for m in self.sent("management")
                if m["X-Mailflow-Number"] == o.number and m["To"] == DIRECTOR
            ]
        if resolve:
            self.send(self.reply("Сидоренко — подготовить ответ заявителю."))

    def doc(self) -> Document:
        engine, s = self.db()
        with s:
            doc = s.exec(select(Document).where(Document.number == self.number)).one()
        engine.dispose()
        return doc

    def events(self, type_: str) -> list[dict]:
        engine, s = self.db()
        with s:
            out = [json.loads(e.data) for e in s.exec(select(Event).where(Event.type == type_))]
        engine.dispose()
        return out

    def last(self, kind: str, to: str):
        return [m for m in self.sent(kind) if to in m["To"] and m["X-Mailflow-Number"] == self.number][-1]

    def mail(self, frm: str, body: str, subject: str | None = None):
        """A new message (not a reply) naming the case by its number."""
        msg = EmailMessage(policy=policy.SMTPUTF8)  # an address with non-ASCII letters stays as written
        msg["From"], msg["To"] = frm, "kanc@sevkaz.example"
        msg["Subject"] = subject if subject is not None else f"{self.number} продление срока"
        msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        msg["Message-ID"] = make_msgid(domain="sevkaz.example")
        msg.set_content(body + "\n\n-- \nс уважением\n")
        [o] = self.send(msg.as_bytes())
        return o

    def flush(self) -> None:
        """Send what the sweeps queued (a pass with no new mail)."""
        assert daemon.run_once(self.cfg, self.rules, recognize=fake_recognizer()) == []

    def answer(self, frm: str, to_message, text: str):
        [o] = self.send(self.reply(text, frm=frm, to_message=to_message))
        return o

    def told(self, to: str) -> list[str]:
        """The notices `to` got about this case (their text)."""
        return [
            m.get_content()
            for m in self.sent("notice")
            if m["To"] == to and m["X-Mailflow-Number"] == self.number
        ]


def today() -> dt.date:
    return dt.datetime.now(KZ).date()


def later(c: Case, days: int = 10) -> dt.date:
    return c.doc().due_date + dt.timedelta(days=days)


def d(x: dt.date) -> str:
    return f"{x:%d.%m.%Y}"


def next_working(c: Case, n: int = 1) -> dt.datetime:
    return dt.datetime.combine(c.rules.calendar.add_working_days(today(), n), dt.time(10), KZ)


def test_a_unit_head_asks_management_approves_and_the_clerk_tells_the_applicant(tmp_path):
    c = Case(tmp_path)
    due, until = c.doc().due_date, later(c)
    o = c.mail(PETROV, f"ПРОДЛИТЬ ДО {d(until)}: нужен выезд на место и акт обследования сетей")
    assert (o.status, o.number) == ("requested", c.number), o
    assert c.doc().due_date == due  # nothing changes until management decides
    [req] = c.events("extension_requested")
    assert (req["by"], req["until"], req["reason"]) == (
        PETROV,
        str(until),
        "нужен выезд на место и акт обследования сетей",
    )
    to_director, to_deputy = c.last("extension_request", DIRECTOR), c.last("extension_request", DEPUTY)
    assert "#" in to_director["Subject"] and to_director["Subject"] != to_deputy["Subject"]  # a token each
    text = to_director.get_content()
    assert "Петров" in text and d(until) in text and "СОГЛАСОВАНО" in text and "ОТКАЗАТЬ" in text
    assert any("направлен руководству" in t for t in c.told(PETROV))

    o = c.answer(DIRECTOR, to_director, "Согласовано")
    assert o.status == "extended", o
    doc = c.doc()
    assert doc.due_date == until
    [ext_ev] = c.events("extension")
    assert ext_ev["by"] == DIRECTOR and ext_ev["new_due"] == str(until) and ext_ev["act"] == "extend"
    [ok] = c.events("extension_approved")
    assert ok["by"] == DIRECTOR and ok["until"] == str(until)
    assert any(d(until) in t for t in c.told(PETROV)) and any(d(until) in t for t in c.told(SIDORENKO))
    # no e-mail for the applicant: the clerk of the case's journal writes, and answers «УВЕДОМЛЕН»
    ask = c.last("extension_clerk", CLERK)
    assert ask["To"] == CLERK and "УВЕДОМЛЕН" in ask.get_content() and "#" in ask["Subject"]
    assert c.sent("extension") == []  # nothing to the applicant by mail
    # the deputy answers too late: the request is decided
    o = c.answer(DEPUTY, to_deputy, "СОГЛАСОВАНО")
    assert o.status == "refused" and any("уже рассмотрен" in t for t in c.told(DEPUTY))

    engine, _ = c.db()
    chasing.sweep(engine, c.rules, "mailflow@localhost", now=next_working(c))
    chasing.sweep(engine, c.rules, "mailflow@localhost", now=next_working(c) + dt.timedelta(hours=1))
    with Session(engine) as s:
        chases = s.exec(select(Chase).where(Chase.kind == "extension_notice")).all()
    assert len(chases) == 1
    c.flush()
    [reminder] = [m for m in c.sent("extension_notice")]
    assert reminder["To"] == CLERK and c.number in reminder["Subject"]

    o = c.answer(CLERK, ask, f"УВЕДОМЛЕН: Казпочта, РПО № RR123456785KZ, исх. № 5/5 от {d(today())}")
    assert o.status == "told", o
    [told] = c.events("extension_applicant_told")
    assert told["by"] == CLERK and "RR123456785KZ" in told["how"] and told["late"] is False
    chasing.sweep(engine, c.rules, "mailflow@localhost", now=next_working(c, 2))
    with Session(engine) as s:
        assert len(s.exec(select(Chase).where(Chase.kind == "extension_notice")).all()) == 1  # no more
        rec = export.document_record(s, s.exec(select(Document).where(Document.number == c.number)).one())
    engine.dispose()
    [e] = rec["extensions"]
    assert (e["new_due"], e["by"], e["requested_by"]) == (str(until), DIRECTOR, PETROV)
    assert "RR123456785KZ" in e["applicant_told_how"]


def test_asked_in_reply_to_a_stage_mail_and_approved_for_another_date_the_applicant_gets_mail(tmp_path):
    c = Case(tmp_path, email=True)
    [o] = c.send(
        c.reply(
            "ПРОЕКТ",
            frm=SIDORENKO,
            to_message=c.last("forward", SIDORENKO),
            attachments=[("проект.docx", "application/octet-stream", b"draft")],
        )
    )
    assert o.status == "moved"
    stage = c.last("stage", PETROV)
    until, other = later(c), later(c, 20)
    assert c.answer(PETROV, stage, f"Продлить до {d(until)} — ждём справку из акимата").status == "requested"
    # the request used nothing up: his stage letter still takes his word
    assert c.answer(PETROV, stage, "СОГЛАСОВАНО").status == "moved"
    assert c.doc().stage == "head_approved"
    o = c.answer(DIRECTOR, c.last("extension_request", DIRECTOR), f"ПРОДЛИТЬ ДО {d(other)}")
    assert o.status == "extended"
    assert c.doc().due_date == other
    [mail] = c.sent("extension")
    assert (
        mail["To"] == "consumer@example.kz"
        and d(other) in mail.get_content()
        and "ұзартылды" in mail.get_content()
    )
    assert c.sent("extension_clerk") == []
    engine, _ = c.db()
    with Session(engine) as s:
        ext = s.exec(select(Extension)).one()
        assert ext.applicant_told_at is not None and ext.applicant_told_how == "e-mail consumer@example.kz"
    chasing.sweep(engine, c.rules, "mailflow@localhost", now=next_working(c))
    with Session(engine) as s:
        assert s.exec(select(Chase).where(Chase.kind == "extension_notice")).all() == []
    engine.dispose()


@pytest.mark.parametrize(
    "frm, body, subject, why",
    [
        (PETROV, "ПРОДЛИТЬ ДО {yesterday}: нужно время", None, "уже наступила или прошла"),
        (PETROV, "ПРОДЛИТЬ ДО {before_due}: нужно время", None, "не позже действующего"),
        (PETROV, "ПРОДЛИТЬ ДО {too_late}: нужно время", None, "не более чем на 2 мес."),
        (PETROV, "ПРОДЛИТЬ ДО 31.02.{year}: нужно время", None, "31.02.{year} — такой даты нет"),
        (PETROV, "ПРОДЛИТЬ: нужно время", None, "укажите новый срок"),
        (PETROV, "ПРОДЛИТЬ ДО {until}", None, "нужна причина"),
        (PETROV, "ПРОДЛИТЬ ДО {until}: нужно время", "ВХ-2026-999999", "ВХ-2026-999999 не найден"),
        (PETROV, "ПРОДЛИТЬ ДО {until}: нужно время", "продление", "укажите номер обращения"),
        (PETROV, "ПРОДЛИТЬ ДО {until}: нужно время", "{latin}", "латинские буквы вместо русских"),
        (PETROV, "ПPOДЛИTЬ ДО {until}: нужно время", None, "латинские буквы"),  # Latin P, O, T
        (
            SIDORENKO,
            "ПРОДЛИТЬ ДО {until}: нужно время",
            None,
            "руководитель подразделения исполнителя (Петров",
        ),
        (
            OTHER_HEAD,
            "ПРОДЛИТЬ ДО {until}: нужно время",
            None,
            "руководитель подразделения исполнителя (Петров",
        ),
        (CLERK, "УВЕДОМЛЕН: вручено лично", None, "ответьте на письмо mailflow «Срок продлён"),
    ],
)
def test_a_wrong_request_changes_nothing_and_the_sender_is_told_why(tmp_path, frm, body, subject, why):
    c = Case(tmp_path)
    due = c.doc().due_date
    reg = c.doc().registered_at.astimezone(KZ).date()
    values = dict(
        yesterday=d(today() - dt.timedelta(days=1)),
        before_due=d(due - dt.timedelta(days=1)),
        too_late=d(reg + dt.timedelta(days=75)),
        until=d(later(c)),
        year=today().year + 1,
        latin=c.number.replace("ВХ", "BX"),
    )
    o = c.mail(frm, body.format(**values), subject.format(**values) if subject else None)
    assert o.status == "refused", o
    assert (
        c.doc().due_date == due
        and c.events("extension_requested") == []
        and c.sent("extension_request") == []
    )
    [reply] = [t for t in c.told(frm)] or [
        m.get_content() for m in c.sent("notice") if m["To"] == frm and "не принято" in m["Subject"]
    ]
    assert why.format(**values) in reply, reply
    assert c.events("extension_mail_refused")


def test_a_look_alike_of_a_heads_address_is_never_answered_the_clerk_is_told(tmp_path):
    c = Case(tmp_path)
    fake = "petrоv@sevkaz.example"  # a Cyrillic «о»
    before = len(c.sent())
    o = c.mail(fake, f"ПРОДЛИТЬ ДО {d(later(c))}: нужно время")
    assert o.status == "refused"
    new = c.sent()[before:]
    assert [m["To"] for m in new] == [CLERK]
    assert "похож на адрес сотрудника petrov@sevkaz.example" in new[0].get_content()
    assert c.events("extension_requested") == []


def test_a_second_request_waits_for_the_first_and_before_a_resolution_only_management_asks(tmp_path):
    c = Case(tmp_path)
    assert c.mail(PETROV, f"ПРОДЛИТЬ ДО {d(later(c))}: выезд").status == "requested"
    o = c.mail(PETROV, f"ПРОДЛИТЬ ДО {d(later(c, 5))}: выезд")
    assert o.status == "refused" and any("уже ждёт решения руководства" in t for t in c.told(PETROV))
    fresh = Case(tmp_path / "other", resolve=False)  # on resolution: no executor, no unit head yet
    o = fresh.mail(PETROV, f"ПРОДЛИТЬ ДО {d(later(fresh))}: выезд")
    assert o.status == "refused" and any("(руководство)" in t for t in fresh.told(PETROV))
    assert fresh.mail(DIRECTOR, f"ПРОДЛИТЬ ДО {d(later(fresh))}: выезд").status == "requested"


@pytest.mark.parametrize(
    "frm, text, why",
    [
        ("pr@sevkaz.example", "СОГЛАСОВАНО", "код ответа выдан другому сотруднику"),
        (DIRECTOR, "Посмотрю позже", "нет слова «СОГЛАСОВАНО» или «ОТКАЗАТЬ: причина»"),
        (DIRECTOR, "CОГЛАСОВАНО", "латинские буквы"),  # a Latin C
        (DIRECTOR, "ПРОДЛИТЬ ДО 31.02.2027", "такой даты нет"),
        (DIRECTOR, "ПРОДЛИТЬ ДО 01.01.2020", "уже наступила или прошла"),
    ],
)
def test_a_wrong_decision_changes_nothing(tmp_path, frm, text, why):
    c = Case(tmp_path)
    due = c.doc().due_date
    c.mail(PETROV, f"ПРОДЛИТЬ ДО {d(later(c))}: выезд")
    o = c.answer(frm, c.last("extension_request", DIRECTOR), text)
    assert o.status == "refused", o
    assert c.doc().due_date == due and c.events("extension") == []
    assert any(why in t for t in c.told(frm)), c.told(frm)
    # the director's token stands: he decides now
    assert c.answer(DIRECTOR, c.last("extension_request", DIRECTOR), "Согласовано").status == "extended"


def test_management_refuses_and_the_head_is_told(tmp_path):
    c = Case(tmp_path)
    due = c.doc().due_date
    c.mail(PETROV, f"ПРОДЛИТЬ ДО {d(later(c))}: выезд")
    o = c.answer(DIRECTOR, c.last("extension_request", DIRECTOR), "ОТКАЗАТЬ: сроков достаточно, выезд завтра")
    assert o.status == "refused-extension"
    assert c.doc().due_date == due and c.events("extension") == []
    [ev] = c.events("extension_refused")
    assert ev["by"] == DIRECTOR and "сроков достаточно" in ev["note"]
    assert any(
        "отказано" in m["Subject"] or "не согласовало" in m.get_content()
        for m in c.sent("notice")
        if m["To"] == PETROV
    )
    engine, s = c.db()
    with s:
        assert s.exec(select(ExtensionRequest)).one().status == "refused"
    engine.dispose()
    # and a new request may be made
    assert c.mail(PETROV, f"ПРОДЛИТЬ ДО {d(later(c))}: выезд перенесён").status == "requested"


@pytest.mark.parametrize(
    "frm, text, why",
    [
        (SIDORENKO, "УВЕДОМЛЕН: вручено лично", "код ответа выдан другому сотруднику"),
        (CLERK, "УВЕДОМЛЕН", "напишите, как уведомлён заявитель"),
        (CLERK, "УВЕДОМЛЕН: Казпочта, исх. № 1 от {future}", "ещё не наступила"),
        (CLERK, "YBEДOMЛEH: вручено лично", "латинские буквы"),
    ],
)
def test_a_wrong_record_of_the_notice_changes_nothing(tmp_path, frm, text, why):
    c = Case(tmp_path)
    c.mail(PETROV, f"ПРОДЛИТЬ ДО {d(later(c))}: выезд")
    c.answer(DIRECTOR, c.last("extension_request", DIRECTOR), "Согласовано")
    ask = c.last("extension_clerk", CLERK)
    o = c.answer(frm, ask, text.format(future=d(today() + dt.timedelta(days=2))))
    assert o.status == "refused", o
    assert c.events("extension_applicant_told") == []
    assert any(why in t for t in c.told(frm)), c.told(frm)
    assert c.answer(CLERK, ask, "Уведомлен: вручено лично под подпись").status == "told"


def _mf(home, *args):
    return subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(home), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_clerk_records_the_notice_at_the_command_line(tmp_path):
    c = Case(tmp_path)
    home = c.cfg.home
    r = _mf(home, "extend", c.number, "--until", d(later(c)), "--reason", "выезд на место", "--by", DIRECTOR)
    assert r.returncode == 0 and "Сообщите заявителю" in r.stdout, r.stderr
    assert c.last("extension_clerk", CLERK)
    r = _mf(home, "extend", "ВХ-1999-000001", "--notified", "вручено лично", "--by", CLERK)
    assert r.returncode == 1 and "не найден" in r.stderr
    r = _mf(home, "extend", c.number, "--notified", "вручено лично", "--by", SIDORENKO)
    assert r.returncode == 2
    r = _mf(home, "extend", c.number, "--notified", "вручено лично", "--until", "01.01.2099", "--by", CLERK)
    assert r.returncode == 2
    r = _mf(home, "extend", c.number, "--notified", "вручено лично под подпись", "--by", CLERK)
    assert r.returncode == 0, r.stderr
    [ev] = c.events("extension_applicant_told")
    assert ev["by"] == CLERK and ev["how"] == "вручено лично под подпись"
    r = _mf(home, "extend", c.number, "--notified", "ещё раз", "--by", CLERK)
    assert r.returncode == 1 and "ещё не сообщено" in r.stderr
    show = _mf(home, "journal", "show", c.number).stdout
    assert "заявитель уведомлён: " in show and "вручено лично под подпись" in show


def test_a_head_cannot_extend_past_the_law_by_a_later_date_in_the_decision(tmp_path):
    """The decision's own date is checked as the request's: two months from registration at most."""
    c = Case(tmp_path)
    c.mail(PETROV, f"ПРОДЛИТЬ ДО {d(later(c))}: выезд")
    reg = c.doc().registered_at.astimezone(KZ).date()
    o = c.answer(
        DIRECTOR, c.last("extension_request", DIRECTOR), f"ПРОДЛИТЬ ДО {d(reg + dt.timedelta(days=80))}"
    )
    assert o.status == "refused" and any("не более чем на 2 мес." in t for t in c.told(DIRECTOR))
    assert c.events("extension") == []
