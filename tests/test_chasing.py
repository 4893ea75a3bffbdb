"""Reminders, escalation, the 30-minute Book rule and extensions, on a frozen clock."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import Session, select

from mailflow import chasing, db, extension, journal
from mailflow.case.actors import actor
from mailflow.models import Chase, Document, Event, Outbox, WeeklyReport
from tests.support import database_urls, load_rules, resolved_case

KZ = dt.timezone(dt.timedelta(hours=5))
D = dt.date


def _engine(url):
    engine = db.make_engine(url)
    db.migrate(engine)
    return engine


def _case(engine, **kw) -> int:
    return resolved_case(engine, **kw).id


def _walk(
    url,
    start: dt.datetime,
    end: dt.datetime,
    step=dt.timedelta(minutes=30),
    restart_every=dt.timedelta(days=3),
):
    """Sweep at every step, as a daemon would; a fresh engine ("restart") now and then."""
    rules = load_rules()
    engine, started, t, queued = _engine(url), start, start, 0
    while t < end:
        if t - started >= restart_every:
            engine.dispose()
            engine, started = _engine(url), t
        queued += chasing.sweep(engine, rules, "kanc@sevkaz.example", now=t)
        t += step
    engine.dispose()
    return queued


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_month_of_reminders_on_a_frozen_clock(tmp_path, kind):
    with database_urls(tmp_path, kind) as url:
        (tmp_path / "home").mkdir(exist_ok=True)
        engine = _engine(url)
        doc_id = _case(engine, due=D(2026, 4, 15), registered=dt.datetime(2026, 3, 25, 10, tzinfo=KZ))
        engine.dispose()
        start, end = dt.datetime(2026, 4, 1, tzinfo=KZ), dt.datetime(2026, 5, 1, tzinfo=KZ)
        first = _walk(url, start, end)
        again = _walk(url, start, end)  # a second daemon over the same month: nothing new
        assert again == 0
        engine = _engine(url)
        with Session(engine) as s:
            chases = s.exec(select(Chase).where(Chase.document_id == doc_id)).all()
            mails = s.exec(select(Outbox).where(Outbox.document_id == doc_id)).all()
            weekly = s.exec(select(WeeklyReport).order_by(WeeklyReport.id)).all()
            reviews = s.exec(select(Outbox).where(Outbox.kind == "weekly_review")).all()
            reports = s.exec(select(Outbox).where(Outbox.kind == "weekly")).all()
            assert journal.verify(s).ok
        engine.dispose()
    # 2.13: each journal's report (2.6), to the PR specialist on Monday at 09:00 and, unreviewed
    # (nobody answers here), to management at 14:00; the first (for 23–29 March) caught up on
    # 1 April, past 14:00 of its Monday, goes to management at once
    assert first == len(chases) + 2 + 4 * 2 * 2 and len(chases) == len(mails)
    t = dt.datetime
    assert [
        (r.journal, r.week, r.made_at.astimezone(KZ), r.sent_at.astimezone(KZ), r.review) for r in weekly
    ] == [
        (j, week, t(2026, 4, day, 9, 0, tzinfo=KZ), t(2026, 4, day, sent, 0, tzinfo=KZ), "not_reviewed")
        for week, day, sent in (
            ("2026-W13", 1, 9),
            ("2026-W14", 6, 14),
            ("2026-W15", 13, 14),
            ("2026-W16", 20, 14),
            ("2026-W17", 27, 14),
        )
        for j in ("dp", "sbyt")
    ]
    assert {json.loads(r.recipients)[0] for r in reviews} == {"pr@sevkaz.example"} and len(reviews) == 8
    assert len(reports) == 5 * 2 * 2 and all(
        b"monitoring-2026-W1" in r.raw for r in reports
    )  # director, deputy
    got = sorted((c.kind, c.created_at.astimezone(KZ).date()) for c in chases)
    # 15 April 2026 is a Wednesday; April has no holidays in Kazakhstan.
    # Before: 5 working days (8 Apr), 2 (13 Apr), 1 (14 Apr); on the day; then each
    # working day overdue up to 30 April; escalation once, on the first overdue day.
    overdue = [16, 17, 20, 21, 22, 23, 24, 27, 28, 29, 30]
    want = sorted(
        [("before", D(2026, 4, d)) for d in (8, 13, 14)]
        + [("due", D(2026, 4, 15))]
        + [("overdue", D(2026, 4, d)) for d in overdue]
        + [("escalation", D(2026, 4, 16))]
    )
    assert got == want
    for c in chases:  # never at night, never on a weekend
        local = c.created_at.astimezone(KZ)
        assert local.weekday() < 5 and dt.time(9) <= local.time() < dt.time(18)
    esc = next(m for m in mails if m.kind == "escalation")
    # Петров heads his own unit, so the escalation goes to the PR specialist alone
    assert json.loads(esc.recipients) == ["pr@sevkaz.example"]
    reminder = next(m for m in mails if m.kind == "before")
    assert json.loads(reminder.recipients) == ["petrov@sevkaz.example"]  # the first named only


def test_escalation_goes_to_the_executors_unit_head_and_pr(tmp_path):
    url = f"sqlite:///{tmp_path / 'j.db'}"
    engine = _engine(url)
    _case(
        engine,
        due=D(2026, 4, 15),
        registered=dt.datetime(2026, 3, 25, 10, tzinfo=KZ),
        executors=("sidorenko@sevkaz.example",),
    )
    chasing.sweep(engine, load_rules(), "kanc@sevkaz.example", now=dt.datetime(2026, 4, 17, 10, tzinfo=KZ))
    with Session(engine) as s:
        esc = s.exec(select(Outbox).where(Outbox.kind == "escalation")).all()
        [chase] = s.exec(select(Chase).where(Chase.kind == "escalation")).all()
    engine.dispose()
    # Сидоренко works in the distribution-network service, whose head is Петров;
    # one letter to each person, one chase for the case
    assert sorted(json.loads(m.recipients) for m in esc) == [["petrov@sevkaz.example"], ["pr@sevkaz.example"]]
    assert chase.slot == "2026-04-15"


def test_nothing_outside_working_hours_or_on_holidays(tmp_path):
    url = f"sqlite:///{tmp_path / 'j.db'}"
    engine = _engine(url)
    _case(engine, due=D(2026, 3, 20), registered=dt.datetime(2026, 3, 2, 10, tzinfo=KZ))
    rules = load_rules()
    for t in (
        dt.datetime(2026, 3, 19, 8, 59, tzinfo=KZ),  # before 9:00
        dt.datetime(2026, 3, 19, 18, 0, tzinfo=KZ),  # after hours
        dt.datetime(2026, 3, 23, 11, 0, tzinfo=KZ),  # Nauryz
        dt.datetime(2026, 3, 22, 11, 0, tzinfo=KZ),
    ):  # Sunday
        assert chasing.sweep(engine, rules, "kanc@sevkaz.example", now=t) == 0
    chasing.sweep(engine, rules, "kanc@sevkaz.example", now=dt.datetime(2026, 3, 19, 9, 0, tzinfo=KZ))
    with Session(engine) as s:  # Thursday 9:00, due Friday: one day before, and the week's reports
        assert sorted(c.kind for c in s.exec(select(Chase))) == ["before"]
        assert sorted((r.journal, r.week, r.status) for r in s.exec(select(WeeklyReport))) == [
            ("dp", "2026-W11", "sent"),
            ("sbyt", "2026-W11", "sent"),
        ]
    engine.dispose()


def test_book_entries_at_5_25_45_minutes_give_one_breach(tmp_path):
    url = f"sqlite:///{tmp_path / 'j.db'}"
    engine = _engine(url)
    entry = dt.datetime(2026, 4, 6, 10, 0, tzinfo=KZ)
    for i, minutes in enumerate((5, 25, 45), 1):
        _case(
            engine,
            due=D(2026, 4, 27),
            registered=entry + dt.timedelta(minutes=minutes),
            number=f"ВХ-2026-00000{i}",
            channel="book",
            book_entry_at=entry,
            pr_forwarded_at=entry + dt.timedelta(minutes=minutes),
            executors=(),
        )
    now = dt.datetime(2026, 4, 6, 11, 30, tzinfo=KZ)
    chasing.sweep(engine, load_rules(), "kanc@sevkaz.example", now=now)
    assert chasing.sweep(engine, load_rules(), "kanc@sevkaz.example", now=now) == 0
    with Session(engine) as s:
        [breach] = s.exec(select(Chase).where(Chase.kind == "book_breach")).all()
        doc = s.get(Document, breach.document_id)
        mails = s.exec(select(Outbox).where(Outbox.kind == "book_breach")).all()
    engine.dispose()
    assert doc.number == "ВХ-2026-000003"
    # the clerk of the entry's journal (kanc@ keeps "dp", though it is also the mailbox
    # mailflow reads) and the PR specialist, a letter each; not the other journal's clerk
    assert sorted(json.loads(m.recipients) for m in mails) == [
        ["kanc@sevkaz.example"],
        ["pr@sevkaz.example"],
    ]
    import email
    from email import policy

    for mail in mails:
        assert "через 45 мин" in email.message_from_bytes(mail.raw, policy=policy.default).get_content()


def test_extension_moves_the_due_date_within_two_months(tmp_path):
    url = f"sqlite:///{tmp_path / 'j.db'}"
    engine = _engine(url)
    registered = dt.datetime(2026, 3, 25, 10, tzinfo=KZ)
    doc_id = _case(engine, due=D(2026, 4, 15), registered=registered, email="omarov@mail.example")
    rules = load_rules()
    today = D(2026, 4, 10)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        head = journal.lock(s)
        doc = s.get(Document, doc_id)
        with pytest.raises(extension.Refused, match="не более"):
            extension.extend(
                s,
                head,
                rules,
                doc,
                until=D(2026, 5, 26),
                reason="экспертиза",
                by=actor(rules, "director@sevkaz.example"),
                sender_addr="kanc@sevkaz.example",
                today=today,
            )
        with pytest.raises(extension.Refused, match="причина"):
            extension.extend(
                s,
                head,
                rules,
                doc,
                until=D(2026, 5, 20),
                reason=" ",
                by=actor(rules, "director@sevkaz.example"),
                sender_addr="kanc@sevkaz.example",
                today=today,
            )
        done = extension.extend(
            s,
            head,
            rules,
            doc,
            until=D(2026, 5, 25),
            reason="нужна экспертиза",
            by=actor(rules, "director@sevkaz.example"),
            sender_addr="kanc@sevkaz.example",
            today=today,
        )
    assert done.old_due == D(2026, 4, 15) and done.new_due == D(2026, 5, 25)
    assert done.tell_applicant_by == D(2026, 4, 15) and done.applicant_mailed
    with Session(engine) as s:
        assert s.get(Document, doc_id).due_date == D(2026, 5, 25)
        kinds = {o.kind for o in s.exec(select(Outbox))}
        assert s.exec(select(Event).where(Event.type == "extension")).one()
    assert {"extension", "notice"} <= kinds
    # the reminders now count to the new date: nothing overdue on 16 April
    chasing.sweep(engine, rules, "kanc@sevkaz.example", now=dt.datetime(2026, 4, 16, 10, tzinfo=KZ))
    with Session(engine) as s:
        assert s.exec(select(Chase).where(Chase.document_id == doc_id)).all() == []
    engine.dispose()
