"""The minute sweeps cost today's work, not history; one letter per person per day;
planning never holds the writer lock."""

from __future__ import annotations

import datetime as dt
import email
import json
import re
import sqlite3
from email import policy

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, select

from mailflow import chasing, db, journal, sweeps
from mailflow.models import (
    Answer,
    Assignment,
    Chase,
    ChaseMark,
    Delivery,
    Document,
    Handover,
    Outbox,
    Resolution,
)
from tests.support import database_urls, load_rules, resolved_case

KZ = dt.timezone(dt.timedelta(hours=5))
D = dt.date
NOW = dt.datetime(2026, 4, 23, 10, 30, tzinfo=KZ)  # a Thursday: Есильский and Кызылжарский РЭС meet
PETROV, SIDORENKO, IVANOV = "petrov@sevkaz.example", "sidorenko@sevkaz.example", "ivanov@sevkaz.example"
SENDER = "kanc@sevkaz.example"


def _engine(url: str) -> sa.Engine:
    engine = db.make_engine(url)
    db.migrate(engine)
    return engine


class Journal:
    """Numbers cases one after another."""

    def __init__(self, engine: sa.Engine):
        self.engine, self.seq = engine, 0

    def case(
        self,
        *,
        due: dt.date,
        executors: tuple[str, ...] = (PETROV,),
        registered: dt.datetime = NOW - dt.timedelta(days=20),
        **fields,
    ) -> Document:
        self.seq += 1
        return resolved_case(
            self.engine,
            due=due,
            executors=executors,
            registered=registered,
            number=f"ВХ-2026-{self.seq:06d}",
            **fields,
        )


def _today(j: Journal) -> None:
    """A day's open work of every kind the sweeps chase."""
    j.case(due=D(2026, 4, 20), last_name="Ахметов")  # overdue 3 working days
    j.case(due=D(2026, 4, 23), last_name="Болатов")  # due today
    j.case(due=D(2026, 4, 27), last_name="Ветров")  # 2 working days left
    j.case(due=D(2026, 4, 21), executors=(SIDORENKO,), last_name="Гусев")  # overdue: escalated to Петров
    j.case(due=D(2026, 5, 20), executors=(IVANOV,), origin_unit="Есильский РЭС")  # to hand over today
    answered = j.case(due=D(2026, 5, 5), status="answered", answered_at=NOW - dt.timedelta(days=5))
    late_book = NOW - dt.timedelta(hours=2)
    j.case(
        due=D(2026, 5, 20),
        executors=(),
        status="registered",
        channel="book",
        book_entry_at=late_book,
        registered=late_book + dt.timedelta(minutes=50),
        pr_forwarded_at=late_book + dt.timedelta(minutes=50),
    )
    with Session(j.engine) as s, s.begin():
        s.add(
            Answer(
                document_id=answered.id,
                updated_at=NOW - dt.timedelta(days=5),
                dispatched_at=NOW - dt.timedelta(days=5),
                dispatch_channel="courier",
                holder=PETROV,
            )
        )
        s.add(_delivery(answered.id, NOW - dt.timedelta(days=3), proven=False))


def _delivery(doc_id: int, at: dt.datetime, *, proven: bool, failed: bool = False) -> Delivery:
    return Delivery(
        document_id=doc_id,
        outbox_id=0,
        to_addr=PETROV,
        envelope_id=f"env-{doc_id}-{at.timestamp()}-{proven}-{failed}",
        message_id=f"<{doc_id}@x>",
        subject="s",
        created_at=at,
        accepted_at=at,
        delivered_at=at if proven else None,
        failed_at=at if failed else None,
    )


def _history(engine: sa.Engine, n: int) -> None:
    """Ten years of closed cases, bulk-loaded, from the units that meet: every row a
    careless sweep would read (resolved, never handed over; answered without a copy;
    deliveries proven, failed or reported; Book entries)."""
    start = NOW - dt.timedelta(days=3650)
    docs, res, asg, dels, answers, handed = [], [], [], [], [], []
    for i in range(1, n + 1):
        reg = start + dt.timedelta(minutes=250 * i)
        status = "answered" if i % 10 == 0 else "closed"
        docs.append(
            dict(
                id=100_000 + i,
                journal="dp",
                year=reg.year,
                seq=100_000 + i,
                number=f"ИСТ-{i:07d}",
                registered_at=reg,
                received_at=reg,
                kind="жалоба",
                grp=1,
                channel="book" if i % 7 == 0 else "res",
                book_entry_at=reg - dt.timedelta(hours=2) if i % 7 == 0 else None,
                origin_unit="Есильский РЭС" if i % 2 else "Кызылжарский РЭС",
                sha256="0" * 64,
                needs_review="[]",
                confidence="{}",
                status=status,
                stage="dispatched",
                due_date=(reg + dt.timedelta(days=21)).date(),
                answered_at=reg + dt.timedelta(days=10),
                closed_at=None if status == "answered" else reg + dt.timedelta(days=12),
                talon=False,
                text="",
                search="",
            )
        )
        res.append(
            dict(
                id=100_000 + i,
                document_id=100_000 + i,
                text="рассмотреть",
                instruction="",
                due_date=(reg + dt.timedelta(days=21)).date(),
                due_source="resolution",
                author="director@sevkaz.example",
                source="email",
                created_at=reg,
                current=True,
            )
        )
        asg.append(
            dict(resolution_id=100_000 + i, document_id=100_000 + i, position=1, email=PETROV, name="П")
        )
        if status == "answered":
            answers.append(
                dict(document_id=100_000 + i, updated_at=reg, dispatched_at=reg + dt.timedelta(days=10))
            )
        if i % 3 == 0:
            handed.append(
                dict(document_id=100_000 + i, unit="Есильский РЭС", at=reg, by="kanc@sevkaz.example")
            )
        d = _delivery(100_000 + i, reg, proven=i % 5 != 0, failed=i % 5 == 0).model_dump(exclude={"id"})
        if i % 10 == 5:  # reported long ago as unproven
            d.update(failed_at=None, unproven_reported_at=reg + dt.timedelta(days=2))
        dels.append(d)
    with engine.begin() as c:
        for model, rows in (
            (Document, docs),
            (Resolution, res),
            (Assignment, asg),
            (Answer, answers),
            (Handover, handed),
            (Delivery, dels),
        ):
            c.execute(sa.insert(model), rows)


class Reads:
    """Rows SQLite hands to mailflow, and the virtual-machine steps it took to find
    them (a scan of history shows in the steps even where no row is returned)."""

    def __init__(self, engine: sa.Engine):
        self.rows = self.steps = 0
        reads = self

        class Cursor(sqlite3.Cursor):
            def fetchone(self):
                row = super().fetchone()
                reads.rows += row is not None
                return row

            def fetchmany(self, size=None):
                rows = super().fetchmany(size if size is not None else self.arraysize)
                reads.rows += len(rows)
                return rows

            def fetchall(self):
                rows = super().fetchall()
                reads.rows += len(rows)
                return rows

        class Connection(sqlite3.Connection):
            def cursor(self, factory=Cursor):  # type: ignore[override]
                return super().cursor(factory)

        def tick() -> int:
            reads.steps += 1
            return 0

        @event.listens_for(engine, "do_connect")
        def _connect(dialect, rec, cargs, cparams):
            cparams["factory"] = Connection

        @event.listens_for(engine, "connect")
        def _progress(dbapi_conn, rec):
            dbapi_conn.set_progress_handler(tick, 100)

    def take(self) -> tuple[int, int]:
        out = (self.rows, self.steps)
        self.rows = self.steps = 0
        return out


def _sweep_reads(tmp_path, history: int) -> tuple[tuple[int, int], tuple[int, int], int]:
    url = f"sqlite:///{tmp_path / f'h{history}.db'}"
    engine = _engine(url)
    if history:
        _history(engine, history)
    _today(Journal(engine))
    engine.dispose()
    engine = db.make_engine(url)
    reads = Reads(engine)
    rules = load_rules()

    def both():
        return sweeps.unproven_deliveries(engine, rules, SENDER, now=NOW) + chasing.sweep(
            engine, rules, SENDER, now=NOW
        )

    queued = both()
    first = reads.take()
    assert both() == 0
    steady = reads.take()
    engine.dispose()
    return first, steady, queued


def test_sweeps_read_the_same_with_twenty_thousand_closed_cases_of_history(tmp_path):
    (first, steady, queued), (first_h, steady_h, queued_h) = (
        _sweep_reads(tmp_path, 0),
        _sweep_reads(tmp_path, 20_000),
    )
    # today's work: 4 reminders, 2 escalations, 1 copy, 1 Book breach, 1 hand-over,
    # 1 unproven delivery, the weekly report of each of the two journals (2.6)
    assert queued == queued_h == 12
    assert first_h[0] == first[0] and steady_h[0] == steady[0]  # rows read: the same
    # and the work behind them: a scan of 20,000 rows would be thousands of steps more
    assert first_h[1] <= first[1] * 1.2 + 50, (first, first_h)
    assert steady_h[1] <= steady[1] * 1.2 + 20, (steady, steady_h)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_one_letter_per_person_listing_the_most_urgent_first(tmp_path, kind):
    with database_urls(tmp_path, kind) as url:
        (tmp_path / "home").mkdir(exist_ok=True)
        engine = _engine(url)
        j = Journal(engine)
        _today(j)
        rules = load_rules()
        chasing.sweep(engine, rules, SENDER, now=NOW)
        with Session(engine) as s:
            mails = s.exec(select(Outbox).where(Outbox.kind != "weekly")).all()
            chases = s.exec(select(Chase).where(Chase.kind != "weekly")).all()
        by_person: dict[str, list[Outbox]] = {}
        for m in mails:
            [to] = json.loads(m.recipients)
            by_person.setdefault(to, []).append(m)
        assert all(len(v) == 1 for v in by_person.values()), {k: len(v) for k, v in by_person.items()}
        petrov = email.message_from_bytes(by_person[PETROV][0].raw, policy=policy.default)
        body = petrov.get_content()
        # his three cases, overdue first, then due today, then soon; then Сидоренко's overdue
        # case escalated to him as her unit head, then the answer whose copy is missing
        order = [body.index(n) for n in ("Ахметов", "Болатов", "Ветров", "Гусев", "ВХ-2026-000006")]
        assert order == sorted(order), body
        assert "ПРОСРОЧЕНО на 3 раб. дн." in body and "Просрочены ответы у исполнителей" in body
        assert "Контроль сроков" in str(petrov["Subject"]) and "(5)" in str(petrov["Subject"])
        # keys stay per case: one chase per case and kind, even where two people were told
        keys = [c.key for c in chases]
        assert len(keys) == len(set(keys)) == 9
        # later that day a case falls due: a letter of its own; the others are not told again
        late = j.case(due=D(2026, 4, 23), last_name="Дюсенов")
        assert chasing.sweep(engine, rules, SENDER, now=NOW + dt.timedelta(hours=2)) == 1
        assert chasing.sweep(engine, rules, SENDER, now=NOW + dt.timedelta(hours=3)) == 0
        with Session(engine) as s:
            [new] = s.exec(select(Outbox).where(Outbox.document_id == late.id)).all()
            assert journal.verify(s).ok
        engine.dispose()
    assert new.kind == "due" and json.loads(new.recipients) == [PETROV]
    assert "[ВХ-2026-000008]" in str(email.message_from_bytes(new.raw, policy=policy.default)["Subject"])


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_planning_does_not_hold_the_writer_lock(tmp_path, kind, monkeypatch):
    """While the sweep plans, a registration takes the lock and commits at once."""
    with database_urls(tmp_path, kind) as url:
        (tmp_path / "home").mkdir(exist_ok=True)
        engine = _engine(url)
        _today(Journal(engine))
        other = db.make_engine(url)
        seen: list[str] = []
        plan = chasing.plan_deadlines

        def planning(*args, **kw):
            with other.connect() as c:
                if kind == "sqlite":
                    c.exec_driver_sql("PRAGMA busy_timeout=300")
                else:
                    c.exec_driver_sql("SET lock_timeout = '300ms'")
                with Session(bind=c) as s, s.begin():
                    journal.lock(s)  # raises if the sweep held it
                    seen.append("locked")
            return plan(*args, **kw)

        monkeypatch.setattr(chasing, "plan_deadlines", planning)
        assert chasing.sweep(engine, load_rules(), SENDER, now=NOW) > 0
        other.dispose()
        engine.dispose()
    assert seen == ["locked"]


def test_a_case_in_two_letters_written_in_different_transactions_is_told_to_both(tmp_path, monkeypatch):
    """Batches hold whole letters; the second letter about a case must not take the
    first one's chase row for another daemon's."""
    monkeypatch.setattr(chasing, "BATCH_ROWS", 1)  # every letter its own transaction
    engine = _engine(f"sqlite:///{tmp_path / 'j.db'}")
    j = Journal(engine)
    j.case(due=D(2026, 4, 21), executors=(SIDORENKO,), last_name="Гусев")  # overdue: escalated
    holds: list[int] = []
    real = journal.lock
    monkeypatch.setattr(journal, "lock", lambda s: holds.append(1) or real(s))
    chasing.sweep(engine, load_rules(), SENDER, now=NOW)
    with Session(engine) as s:
        to = sorted(
            json.loads(m.recipients)[0] for m in s.exec(select(Outbox).where(Outbox.kind != "weekly"))
        )
        chases = s.exec(select(Chase).where(Chase.kind == "escalation")).all()
        assert journal.verify(s).ok
    engine.dispose()
    # Сидоренко's reminder; the escalation to her unit head Петров and to the PR specialist
    assert to == [PETROV, "pr@sevkaz.example", SIDORENKO] and len(chases) == 1
    assert len(holds) >= 3  # the letters did go in separate transactions


def test_a_backlog_comes_in_parts_each_with_its_chases(tmp_path, monkeypatch):
    monkeypatch.setattr(chasing, "LETTER_ITEMS", 2)
    engine = _engine(f"sqlite:///{tmp_path / 'j.db'}")
    j = Journal(engine)
    for name in ("Ахметов", "Болатов", "Ветров", "Гусев", "Дюсенов"):
        j.case(due=D(2026, 4, 20), last_name=name)  # Петров's, all overdue
    # reminders, escalations, the two journals' weekly reports
    assert chasing.sweep(engine, load_rules(), SENDER, now=NOW) == 5 + 5 + 2
    with Session(engine) as s:
        mine = [
            email.message_from_bytes(m.raw, policy=policy.default)
            for m in s.exec(select(Outbox).where(Outbox.recipients == json.dumps([PETROV])))
        ]
    engine.dispose()
    subjects = sorted(str(m["Subject"]) for m in mine)
    assert len(mine) == 3 and sum("часть 1 из 3" in x or "часть 2 из 3" in x for x in subjects) == 2
    bodies = [m.get_content() for m in mine]
    for n in range(1, 6):  # each case in exactly one part
        assert sum(f"ВХ-2026-00000{n}" in b for b in bodies) == 1


def _writes(engine: sa.Engine) -> list[str]:
    """The writing statements sent through `engine` from now on (COPY goes round
    SQLAlchemy, so it is read from the driver's cursor too)."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _sql(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(" ".join(statement.split()))

    return seen


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_days_marks_write_no_row_of_the_journals_documents(tmp_path, kind, monkeypatch):
    """Marking a case planned today writes the narrow chase_mark, with the due date
    planned with; no statement of the sweep touches `document` (its indexes, the
    search trigrams among them, cost most of a second a morning at 1 M)."""
    with database_urls(tmp_path, kind) as url:
        (tmp_path / "home").mkdir(exist_ok=True)
        engine = _engine(url)
        _today(Journal(engine))
        if kind == "postgresql":
            copies: list[str] = []
            real = db.insert_rows
            monkeypatch.setattr(
                db,
                "insert_rows",
                lambda s, table, rows, **kw: (copies.append(table.name), real(s, table, rows, **kw))[1],
            )
        writes = _writes(engine)
        assert chasing.sweep(engine, load_rules(), SENDER, now=NOW) == 11
        with Session(engine) as s:
            marks = {(m.document_id, m.day, m.due_date) for m in s.exec(select(ChaseMark))}
            due = {
                (d.id, d.due_date)
                for d in s.exec(select(Document).where(Document.status == "in_work"))
                if d.due_date <= NOW.date() + chasing.LOOKAHEAD
            }
        engine.dispose()
    assert writes and not [w for w in writes if re.search(r"\b(UPDATE|INTO|FROM) document\b", w)], writes
    assert len(marks) == 4 and marks == {(i, NOW.date(), d) for i, d in due}  # open, due within the lookahead


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_due_date_moved_after_the_days_planning_is_planned_again_that_day(tmp_path, kind):
    """The mark holds the due date it was planned with: a resolution or an extension
    that moves the date later that day (they write only document.due_date) has the
    case planned again at once, with the new date's reminder."""
    with database_urls(tmp_path, kind) as url:
        (tmp_path / "home").mkdir(exist_ok=True)
        engine = _engine(url)
        j = Journal(engine)
        case = j.case(
            due=D(2026, 5, 12), last_name="Ержанов"
        )  # planned today, no reminder: 10 working days left
        rules = load_rules()
        chasing.sweep(engine, rules, SENDER, now=NOW)
        with Session(engine) as s:
            assert not s.exec(select(Chase).where(Chase.document_id == case.id)).all()
        with engine.begin() as c:  # a new resolution's term: today
            c.execute(sa.update(Document).where(Document.id == case.id).values(due_date=NOW.date()))
        assert chasing.sweep(engine, rules, SENDER, now=NOW + dt.timedelta(hours=1)) == 1
        assert chasing.sweep(engine, rules, SENDER, now=NOW + dt.timedelta(hours=2)) == 0
        with Session(engine) as s:
            [chase] = s.exec(select(Chase).where(Chase.document_id == case.id)).all()
            mark = s.get(ChaseMark, case.id)
        engine.dispose()
    assert chase.kind == "due" and chase.key == f"reminder:{case.id}:{NOW.date()}:0"
    assert (mark.day, mark.due_date) == (NOW.date(), NOW.date())


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_marks_keep_one_day_and_a_case_marked_twice_keeps_one(tmp_path, kind):
    with database_urls(tmp_path, kind) as url:
        (tmp_path / "home").mkdir(exist_ok=True)
        engine = _engine(url)
        _today(Journal(engine))
        rules = load_rules()
        chasing.sweep(engine, rules, SENDER, now=NOW)
        tomorrow = NOW + dt.timedelta(days=1)
        chasing.sweep(engine, rules, SENDER, now=tomorrow)
        with Session(engine) as s:
            days = {m.day for m in s.exec(select(ChaseMark))}
            cases = chasing._open_cases(s, tomorrow.date() + dt.timedelta(days=1))  # unmarked that day
        # two daemons marking the same cases the same day, the second with another due date
        later = [c._replace(due=c.due + dt.timedelta(days=1)) for c in cases]
        chasing._planned_today(engine, cases, tomorrow.date())
        chasing._planned_today(engine, later, tomorrow.date())
        with Session(engine) as s:
            marks = {m.document_id: m.due_date for m in s.exec(select(ChaseMark))}
        engine.dispose()
    assert days == {tomorrow.date()}  # yesterday's went with the day's first marking
    assert cases and marks == {c.doc.id: c.due for c in later}


def test_postgresql_plans_the_minute_sweep_with_the_days_marks_counted(tmp_path, monkeypatch):
    """After the day's marking the marks' statistics are fresh: PostgreSQL otherwise
    takes today's thousands of marks for none and merge-joins them on the due date."""
    monkeypatch.setattr(chasing, "ANALYZE_MARKS", 3)
    monkeypatch.setattr(chasing, "MARK_ROWS", 3)  # in two transactions
    with database_urls(tmp_path, "postgresql") as url:
        engine = _engine(url)
        _today(Journal(engine))
        count = sa.text("SELECT reltuples FROM pg_class WHERE relname = 'chase_mark'")
        with engine.connect() as c:
            never = c.execute(count).scalar_one()
        chasing.sweep(engine, load_rules(), SENDER, now=NOW)
        with engine.connect() as c:
            counted = c.execute(count).scalar_one()
        engine.dispose()
    assert never == -1 and counted == 4  # ANALYZE counted the day's four marks
