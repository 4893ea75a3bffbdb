"""Section 3 over e-mail: draft → head → legal → management → dispatch → copy → closed.

Each step is a reply the test writes as the person would (quoting the mail
mailflow sent them, from a phone), and the journal is checked after it.
Forged, misplaced and automatic replies change nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from sqlmodel import Session, select

from mailflow import chasing, digest, export
from mailflow.models import Answer, Chase, Document, Move, Outbox
from mailflow.values import KZ_TZ
from tests.support import DIRECTOR, REPO, Office

KZ = dt.timezone(dt.timedelta(hours=5))
SIDORENKO, IVANOV, PETROV = "sidorenko@sevkaz.example", "ivanov@sevkaz.example", "petrov@sevkaz.example"
LEGAL = "office@korgau.example"
CLERK = "kanc@sevkaz.example"  # keeps the ДП journal (rules/journals.toml), sends the answers
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class Case(Office):
    """A complaint resolved to Сидоренко (responsible; her unit head is Петров) and Иванов."""

    def __init__(self, tmp_path):
        super().__init__(tmp_path)
        self.send(self.reply("Сидоренко, Иванову — подготовить ответ заявителю."))

    def last(self, kind: str, to: str):
        return [m for m in self.sent(kind) if to in m["To"]][-1]

    def answer(self):
        engine, s = self.db()
        with s:
            a = s.exec(select(Answer)).one()
            doc = s.exec(select(Document)).one()
        engine.dispose()
        return a, doc

    def step(self, frm: str, to_message, text: str, files=(), **kw):
        [o] = self.send(self.reply(text, frm=frm, to_message=to_message, attachments=list(files), **kw))
        return o


def draft(n: int):
    return (f"ответ-проект-{n}.docx", DOCX, f"Проект ответа, версия {n}".encode())


def test_a_whole_case_from_draft_to_closing(tmp_path):
    c = Case(tmp_path)
    fwd = c.last("forward", SIDORENKO)
    assert "ПРОЕКТ" in fwd.get_body(("plain",)).get_content()
    a, doc = c.answer()
    assert (doc.stage, a.holder, doc.status) == ("draft", SIDORENKO, "in_work")

    o = c.step(SIDORENKO, fwd, "ПРОЕКТ", [draft(1)])  # 3.1: the draft to the unit head
    assert o.status == "moved"
    to_head = c.last("stage", PETROV)
    [att] = list(to_head.iter_attachments())
    assert att.get_filename() == "ответ-проект-1.docx"
    assert att.get_content() == "Проект ответа, версия 1".encode()
    assert c.answer()[1].stage == "head_review"

    o = c.step(PETROV, to_head, "НА ДОРАБОТКУ: уточнить сумму перерасчёта")  # 3.4: returned
    assert o.status == "moved"
    back = c.last("stage", SIDORENKO)
    assert "уточнить сумму перерасчёта" in back.get_body(("plain",)).get_content()
    assert c.answer()[1].stage == "draft"

    c.step(SIDORENKO, back, "Проект. Исправлено.", [draft(2)])
    c.step(PETROV, c.last("stage", PETROV), "Согласовано")
    assert c.answer()[1].stage == "head_approved"

    c.step(SIDORENKO, c.last("stage", SIDORENKO), "ЮРИСТУ")  # 3.5: the legal firm
    to_legal = c.last("stage", LEGAL)
    [att] = list(to_legal.iter_attachments())
    assert att.get_filename() == "ответ-проект-2.docx"  # the latest draft goes on
    c.step(LEGAL, to_legal, "СОГЛАСОВАНО, замечаний нет")
    assert c.answer()[1].stage == "management_approval"

    to_mgmt = c.last("stage", DIRECTOR)
    c.step(DIRECTOR, to_mgmt, "Утверждаю")
    assert c.answer()[1].stage == "approved"
    # 3.7: the approved answer goes to the clerk of the case's journal, who sends it
    to_clerk = c.last("stage", CLERK)
    assert [a.get_filename() for a in to_clerk.iter_attachments()] == ["ответ-проект-2.docx"]
    assert "ОТПРАВЛЕНО" in to_clerk.get_body(("plain",)).get_content()
    assert c.answer()[0].holder == CLERK

    today = dt.datetime.now(KZ).date()
    o = c.step(
        CLERK,
        to_clerk,
        f"ОТПРАВЛЕНО: Казпочта, РПО № RR123456789KZ, исх. № 12-3/45 от {today:%d.%m.%Y}",
        [("ответ подписанный.pdf", "application/pdf", b"%PDF-1.4 signed copy")],
    )
    assert o.status == "moved"
    a, doc = c.answer()
    assert (doc.stage, doc.status) == ("closed", "closed") and doc.closed_at
    assert (a.dispatch_channel, a.tracking, a.outgoing_number, a.outgoing_date) == (
        "kazpost",
        "RR123456789KZ",
        "12-3/45",
        today,
    )
    engine, s = c.db()
    with s:
        rec = export.document_record(s, doc)
        moves = s.exec(select(Move).order_by(Move.id)).all()
    engine.dispose()
    assert [(m.from_stage, m.to_stage) for m in moves] == [
        ("draft", "head_review"),
        ("head_review", "draft"),
        ("draft", "head_review"),
        ("head_review", "head_approved"),
        ("head_approved", "legal_review"),
        ("legal_review", "management_approval"),
        ("management_approval", "approved"),
        ("approved", "closed"),
    ]
    assert all(m.sha256 for m in moves if m.filename) and moves[0].filename == "ответ-проект-1.docx"
    ans = rec["answer"]
    assert ans["stage"] == "closed" and ans["tracking"] == "RR123456789KZ" and ans["copy_sha256"]
    assert len(ans["history"]) == 8
    # the deadline sweep stops for it
    engine, _ = c.db()
    later = dt.datetime.now(KZ) + dt.timedelta(days=60)
    later = later.replace(hour=10) + dt.timedelta(days=(7 - later.weekday()) % 7)  # a Monday
    chasing.sweep(engine, c.rules, "mailflow@localhost", now=later)
    with Session(engine) as s:
        assert s.exec(select(Chase).where(Chase.document_id == doc.id)).all() == []
    engine.dispose()
    show = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(c.cfg.home), "journal", "show", c.number],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "approved → closed  «ОТПРАВЛЕНО»" in show.stdout and "RR123456789KZ" in show.stdout


@pytest.mark.parametrize("stage", ["draft", "head_review", "management_approval"])
def test_forged_misplaced_and_automatic_replies_change_nothing(tmp_path, stage):
    c = Case(tmp_path)
    holder_msg, holder = c.last("forward", SIDORENKO), SIDORENKO
    if stage in ("head_review", "management_approval"):
        c.step(SIDORENKO, holder_msg, "ПРОЕКТ", [draft(1)])
        holder_msg, holder = c.last("stage", PETROV), PETROV
    if stage == "management_approval":
        c.step(PETROV, holder_msg, "СОГЛАСОВАНО")
        c.step(SIDORENKO, c.last("stage", SIDORENKO), "РУКОВОДСТВУ")
        holder_msg, holder = c.last("stage", DIRECTOR), DIRECTOR
    before = c.answer()[1].stage
    word = "ПРОЕКТ" if stage == "draft" else "СОГЛАСОВАНО"
    files = [draft(9)] if stage == "draft" else []
    attempts = [
        ("outsider", dict(frm="someone@evil.example")),
        ("not in the case", dict(frm="ivanova@sevkaz.example")),
        ("wrong person", dict(frm=IVANOV if stage != "draft" else PETROV)),
        ("automatic", dict(frm=holder, headers={"Auto-Submitted": "auto-replied"})),
    ]
    for why, kw in attempts:
        o = c.step(kw.pop("frm"), holder_msg, word, files, **kw)
        # an out-of-office answer to the forward itself is recorded as that (substitutes, 1.6)
        assert o.status in ("refused", "contribution") + (("recorded",) if why == "automatic" else ()), (
            why,
            o,
        )
        assert c.answer()[1].stage == before, why
    # the holder, properly: accepted; the same message again: its token is used up
    assert c.step(holder, holder_msg, word, files).status == "moved"
    after = c.answer()[1].stage
    assert c.step(holder, holder_msg, word, files).status == "refused"
    assert c.answer()[1].stage == after
    assert [m for m in c.sent("notice") if "не принято" in m["Subject"]], "the clerk was not told"


def test_words_not_understood_get_a_clear_reply(tmp_path):
    c = Case(tmp_path)
    o = c.step(SIDORENKO, c.last("forward", SIDORENKO), "Посмотрю на следующей неделе")
    assert o.status == "unclear"
    told = c.last("stage_unclear", SIDORENKO)
    assert "ПРОЕКТ" in told.get_content()
    o = c.step(SIDORENKO, c.last("forward", SIDORENKO), "ПРОЕКТ")  # but no file
    assert o.status == "unclear" and "приложить" in c.last("stage_unclear", SIDORENKO).get_content()
    assert c.answer()[1].stage == "draft"


def test_co_executor_contributions_go_to_the_responsible_one(tmp_path):
    c = Case(tmp_path)
    o = c.step(
        IVANOV,
        c.last("forward", IVANOV),
        "Справка по начислениям во вложении",
        [("справка.pdf", "application/pdf", b"%PDF-1.4 spravka")],
    )
    assert o.status == "contribution"
    to_her = c.last("stage", SIDORENKO)
    assert "Материалы соисполнителя" in to_her.get_body(("plain",)).get_content()
    assert [a.get_filename() for a in to_her.iter_attachments()] == ["справка.pdf"]
    assert c.answer()[1].stage == "draft"  # she still holds it


def test_a_co_executors_token_is_used_once_and_a_fresh_one_comes_back(tmp_path):
    c = Case(tmp_path)
    forward = c.last("forward", IVANOV)
    assert c.step(IVANOV, forward, "Справка во вложении", [draft(1)]).status == "contribution"
    assert c.step(IVANOV, forward, "Ещё одна справка", [draft(2)]).status == "refused"
    receipt = c.last("stage", IVANOV)
    assert "Материалы приняты" in receipt.get_body(("plain",)).get_content()
    assert c.step(IVANOV, receipt, "Ещё одна справка", [draft(3)]).status == "contribution"


@pytest.mark.parametrize("whose", [IVANOV, SIDORENKO])
def test_someone_elses_token_cannot_move_the_case(tmp_path, whose):
    """The unit head answers with the forward a co-executor (or the executor) got: refused."""
    c = Case(tmp_path)
    if whose == IVANOV:  # at head_review, where Petrov's word would move it
        c.step(SIDORENKO, c.last("forward", SIDORENKO), "ПРОЕКТ", [draft(1)])
    before = c.answer()[1].stage
    o = c.step(PETROV, c.last("forward", whose), "СОГЛАСОВАНО")
    assert o.status == "refused", o
    assert c.answer()[1].stage == before
    # and a co-executor cannot speak with the responsible executor's token either
    o = c.step(IVANOV, c.last("forward", SIDORENKO), "Справка", [draft(4)])
    assert o.status == "refused" and c.answer()[1].stage == before


def test_missing_copy_after_one_working_day_is_chased(tmp_path):
    c = Case(tmp_path)
    c.step(SIDORENKO, c.last("forward", SIDORENKO), "ПРОЕКТ", [draft(1)])
    c.step(PETROV, c.last("stage", PETROV), "СОГЛАСОВАНО")
    c.step(SIDORENKO, c.last("stage", SIDORENKO), "РУКОВОДСТВУ")
    c.step(DIRECTOR, c.last("stage", DIRECTOR), "СОГЛАСОВАНО")
    c.step(CLERK, c.last("stage", CLERK), "ОТПРАВЛЕНО нарочным")  # no copy yet
    a, doc = c.answer()
    assert (doc.stage, a.dispatch_channel, doc.status) == ("dispatched", "courier", "answered")
    engine, _ = c.db()
    sent = a.dispatched_at.astimezone(KZ).date()
    cal = c.rules.calendar
    next_day = dt.datetime.combine(cal.add_working_days(sent, 1), dt.time(10), KZ)
    day_after = dt.datetime.combine(cal.add_working_days(sent, 2), dt.time(10), KZ)
    chasing.sweep(engine, c.rules, "mailflow@localhost", now=next_day)
    with Session(engine) as s:
        assert s.exec(select(Chase).where(Chase.kind == "copy_missing")).all() == []
    chasing.sweep(engine, c.rules, "mailflow@localhost", now=day_after)
    chasing.sweep(engine, c.rules, "mailflow@localhost", now=day_after + dt.timedelta(hours=2))
    with Session(engine) as s:
        mails = s.exec(select(Outbox).where(Outbox.kind == "copy_missing")).all()
        [copy_chase] = s.exec(select(Chase).where(Chase.kind == "copy_missing")).all()
    # the answer is sent: the law's term is met, so no reminder on the due day or after it
    for day in (doc.due_date, cal.add_working_days(doc.due_date, 1), cal.add_working_days(doc.due_date, 3)):
        chasing.sweep(engine, c.rules, "mailflow@localhost", now=dt.datetime.combine(day, dt.time(11), KZ))
    with Session(engine) as s:
        kinds = {ch.kind for ch in s.exec(select(Chase).where(Chase.document_id == doc.id))}
        report = digest.build(s, c.rules, digest.Week.of(sent), day_after)
    engine.dispose()
    assert kinds == {"copy_missing"}  # no before/due/overdue/escalation
    assert (report.answered, report.answered_on_time, report.overdue_total) == (1, 1, 0)
    # one chase, a letter to the executor and one to the clerk
    assert copy_chase.document_id == doc.id
    to = sorted(r for m in mails for r in json.loads(m.recipients))
    assert len(mails) == 2 and SIDORENKO in to and any("kanc" in r for r in to)
    # she answers mailflow's acknowledgement of the dispatch with the signed copy
    ask = c.last("stage", SIDORENKO)
    assert "КОПИЯ" in ask.get_body(("plain",)).get_content()
    o = c.step(SIDORENKO, ask, "КОПИЯ", [("копия.pdf", "application/pdf", b"%PDF-1.4 copy")])
    assert o.status == "moved"
    a, doc = c.answer()
    assert (doc.stage, doc.status) == ("closed", "closed") and a.copy_sha256
    # the copy reaches the clerk's mailbox (3.8)
    copy = c.last("stage", CLERK)
    assert "Копия отправленного ответа" in copy.get_body(("plain",)).get_content()
    assert [x.get_content() for x in copy.iter_attachments()] == [b"%PDF-1.4 copy"]


def test_meeting_day_lists_what_to_hand_over_and_handover_records_it(tmp_path):
    c = Case(tmp_path)  # from Айыртауский РЭС, whose meeting is on Fridays (rules/answer.toml)
    engine, _ = c.db()
    today = dt.datetime.now(KZ).date()
    friday = today + dt.timedelta(days=(4 - today.weekday()) % 7)
    while not c.rules.calendar.is_working_day(friday):
        friday += dt.timedelta(days=7)
    at = dt.datetime.combine(friday, dt.time(10), KZ)
    chasing.sweep(engine, c.rules, "mailflow@localhost", now=at)
    with Session(engine) as s:
        [mail] = s.exec(select(Outbox).where(Outbox.kind == "handover")).all()
    import email
    from email import policy

    text = email.message_from_bytes(mail.raw, policy=policy.default).get_content()
    assert c.number in text and "Айыртауский РЭС" in text
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailflow",
            "--home",
            str(c.cfg.home),
            "handover",
            c.number,
            "--to",
            "Айыртауский РЭС",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    chasing.sweep(engine, c.rules, "mailflow@localhost", now=at + dt.timedelta(days=7))
    with Session(engine) as s:
        assert len(s.exec(select(Outbox).where(Outbox.kind == "handover")).all()) == 1
    engine.dispose()


@pytest.mark.parametrize(
    "stage,text,subject,want",
    [
        ("head_review", "СОГЛАСОВАНО", "Re: [ВХ-1] Проверка", "head_approved"),
        ("head_review", "Не согласовано: перепишите второй абзац", "", "draft"),
        ("head_review", "на доработку", "", "draft"),
        ("head_review", "Келісілді", "", "head_approved"),
        ("head_review", "Пысықтауға", "", "draft"),
        ("draft", "Жоба қоса беріліп отыр", "", "head_review"),
        (
            "head_approved",
            "",
            "ЮРИСТУ Re: [ВХ-1] Завизировано; … юристу или руководству #abc",
            "legal_review",
        ),
        ("head_approved", "Басшылыққа", "", "management_approval"),
        ("management_approval", "Бекітемін", "", "approved"),
        ("approved", "Жіберілді, Қазпошта", "", "dispatched"),
    ],
)
def test_words_in_russian_and_kazakh(stage, text, subject, want):
    from mailflow.answering import find_move
    from tests.support import load_rules

    wf = load_rules().workflow
    move, _ = find_move(wf.moves_from(stage), subject, text)
    assert move.to == want


def test_our_own_subject_is_not_read_as_the_senders_words():
    from mailflow.answering import find_move
    from tests.support import load_rules

    wf = load_rules().workflow
    subject = (
        "Re: [ВХ-2026-000001] Завизировано; исполнитель направляет юристу или руководству #abcdefghijklmnop"
    )
    assert find_move(wf.moves_from("head_approved"), subject, "Спасибо") is None


@pytest.mark.parametrize(
    "text,channel,tracking,number,date",
    [
        (
            "ОТПРАВЛЕНО: Казпочта, РПО № RR123456789KZ, исх. № 12-3/45 от 20.04.2026",
            "kazpost",
            "RR123456789KZ",
            "12-3/45",
            dt.date(2026, 4, 20),
        ),
        ("Отправлено нарочным, исх.№ 301/08 от 11.03.2026", "courier", None, "301/08", dt.date(2026, 3, 11)),
        ("Отправлено", None, None, None, None),
    ],
)
def test_dispatch_details(text, channel, tracking, number, date):
    from mailflow.answering import parse_dispatch

    d = parse_dispatch(text)
    assert (d.channel, d.tracking, d.outgoing_number, d.outgoing_date) == (channel, tracking, number, date)


def test_the_clerk_closes_a_case_from_a_paper_copy(tmp_path):
    c = Case(tmp_path)
    scan = tmp_path / "копия ответа.pdf"
    scan.write_bytes(b"%PDF-1.4 paper copy")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailflow",
            "--home",
            str(c.cfg.home),
            "close",
            c.number,
            "--copy",
            str(scan),
            "--sent",
            f"нарочным, исх. № 5/1 от {dt.datetime.now(KZ_TZ):%d.%m.%Y}",  # not before registration
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    a, doc = c.answer()
    assert (doc.stage, doc.status, a.dispatch_channel, a.outgoing_number) == (
        "closed",
        "closed",
        "courier",
        "5/1",
    )
    again = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(c.cfg.home), "close", c.number, "--copy", str(scan)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 1 and "в состоянии «закрыто»" in again.stderr


def test_a_paper_copy_of_an_answer_not_yet_sent_must_say_how_it_went(tmp_path):
    """3.7 before 3.8: the clerk's copy of an answer nobody recorded as sent says how
    it went, as «ОТПРАВЛЕНО» would; a refused copy writes nothing and archives nothing."""
    from mailflow import daemon, services
    from mailflow.values import Attachment

    c = Case(tmp_path)
    copy = Attachment("копия.pdf", "application/pdf", b"%PDF-1.4 copy", "0" * 64)
    parts = daemon.build(c.cfg, c.rules)
    try:
        before = sorted(p.name for p in (c.cfg.home / "archive").rglob("*"))
        for sent, why in [
            ("", "не сказано, как отправлен ответ"),
            ("Казпочта", "номер почтового отправления"),
            ("нарочным, исх. № 5/1 от 31.12.2099", "ещё не наступила"),
            ("нарочным, исх. № 5/1 от 31.02.2026", "такой даты нет"),
        ]:
            with pytest.raises(services.Refused, match=why):
                parts.services.close(c.number, copy=copy, sent=sent, by="канцелярия")
            assert c.answer()[1].status == "in_work"
        assert sorted(p.name for p in (c.cfg.home / "archive").rglob("*")) == before
        parts.services.close(c.number, copy=copy, sent="нарочным", by="канцелярия")
        assert c.answer()[1].status == "closed"
    finally:
        daemon.close(parts)
