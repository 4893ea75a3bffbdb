"""The journal on SQLite and on PostgreSQL: numbers, the hash chain, two daemons."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mailflow import daemon, db, journal
from mailflow.models import Counter, Document, Event, Inbound
from tests.support import REPO, database_urls, deliver, fake_recognizer, home_config, load_rules, text_appeal

KINDS = ["sqlite", "postgresql"]


@pytest.mark.parametrize("kind", KINDS)
def test_registration_numbers_and_chain(tmp_path, kind):
    with database_urls(tmp_path, kind) as url:
        cfg, rules = home_config(tmp_path, url), load_rules()
        for i in range(12):
            deliver(cfg.home / "inbox", text_appeal(body=f"Жалоба {i}"), f"m{i:02d}")
        outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
        assert len(outcomes) == 12 and {o.status for o in outcomes} == {"registered"}
        engine = db.make_engine(url)
        with Session(engine) as s:
            docs = s.exec(select(Document).order_by(Document.seq)).all()
            assert [d.seq for d in docs] == list(range(1, 13))
            assert docs[0].registered_at.tzinfo is not None
            assert journal.verify(s).ok
        engine.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_verify_finds_the_first_tampered_event(tmp_path, kind):
    with database_urls(tmp_path, kind) as url:
        cfg, rules = home_config(tmp_path, url), load_rules()
        for i in range(4):
            deliver(cfg.home / "inbox", text_appeal(body=f"Жалоба {i}"), f"m{i}")
        daemon.run_once(cfg, rules, recognize=fake_recognizer())
        engine = db.make_engine(url)
        with Session(engine) as s:
            ids = [e.id for e in s.exec(select(Event).order_by(Event.id))]
            assert journal.verify(s).checked == len(ids) >= 4
        with engine.begin() as c:  # someone edits the third event's content
            c.execute(
                sa.text("UPDATE event SET data = :d WHERE id = :i"),
                {"d": json.dumps({"number": "forged"}), "i": ids[2]},
            )
        with Session(engine) as s:
            v = journal.verify(s)
            assert not v.ok and v.first_bad_id == ids[2] and v.checked == 2
        with engine.begin() as c:  # ... or removes the last event instead
            c.execute(
                sa.text("UPDATE event SET data = (SELECT data FROM event WHERE id = :j) WHERE id = :i"),
                {"i": ids[2], "j": ids[2]},
            )
        engine.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_deleting_the_last_event_is_detected(tmp_path, kind):
    with database_urls(tmp_path, kind) as url:
        cfg, rules = home_config(tmp_path, url), load_rules()
        deliver(cfg.home / "inbox", text_appeal(body="Жалоба"), "m")
        deliver(cfg.home / "inbox", text_appeal(body="Жалоба 2"), "n")
        daemon.run_once(cfg, rules, recognize=fake_recognizer())
        engine = db.make_engine(url)
        with engine.begin() as c:
            c.execute(sa.text("DELETE FROM event WHERE id = (SELECT max(id) FROM event)"))
        with Session(engine) as s:
            assert not journal.verify(s).ok
        engine.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_numbers_restart_each_year_per_journal(tmp_path, kind):
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        rules = load_rules()
        with Session(engine) as s, s.begin():
            got = [journal.allocate(s, rules.journal("dp"), 2026) for _ in range(3)]
            got.append(journal.allocate(s, rules.journal("dp"), 2027))
            got.append(journal.allocate(s, rules.journal("sbyt"), 2026))
        assert [g[1] for g in got] == [
            "ВХ-2026-000001",
            "ВХ-2026-000002",
            "ВХ-2026-000003",
            "ВХ-2027-000001",
            "ВХС-2026-000001",
        ]
        with Session(engine) as s:
            assert len(s.exec(select(Counter)).all()) == 3
        engine.dispose()


def test_two_processes_on_one_postgresql_and_one_mailbox(tmp_path):
    """Both drain the same inbox at once: each message registered once, no gap."""
    with database_urls(tmp_path, "postgresql") as url:
        cfg = home_config(tmp_path, url)
        n = 40
        for i in range(n):
            deliver(cfg.home / "inbox", text_appeal(body=f"Жалоба {i}"), f"m{i:03d}")
        engine = db.make_engine(url)
        db.migrate(engine)  # so neither process is still migrating when the other registers
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.procs", "once", str(cfg.home), url, "0.01"],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (_out, err) in zip(procs, outs):
            assert p.returncode == 0, err
        statuses = " ".join(o for o, _ in outs).split()
        assert statuses.count("registered") == n, statuses
        with Session(engine) as s:
            docs = s.exec(select(Document)).all()
            assert sorted(d.seq for d in docs) == list(range(1, n + 1))
            assert len({d.source_message_id for d in docs}) == n
            assert len(s.exec(select(Inbound)).all()) == n
            assert journal.verify(s).ok
        engine.dispose()
        assert not list((cfg.home / "inbox" / "new").iterdir())


@pytest.mark.parametrize("kind", KINDS)
def test_many_rows_go_in_in_their_order_as_their_columns_convert_them(tmp_path, kind):
    """db.insert_rows (COPY on PostgreSQL, an array a column for an upsert): ids in
    the rows' order, the columns' own conversions applied (an aware timestamp, and
    a naive one refused), and db.among finds what IN would."""
    import datetime as dt

    from mailflow.models import ChaseMark

    (tmp_path / "home").mkdir()
    kz = dt.timezone(dt.timedelta(hours=5))
    at = dt.datetime(2026, 4, 23, 10, 30, tzinfo=kz)
    rows = [
        dict(
            at=at, type="overdue", document_id=n or None, data=f'{{"n":{n}}}', prev_hash=f"p{n}", hash=f"h{n}"
        )
        for n in range(300)
    ]
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        marks = ChaseMark.__table__
        with Session(engine) as s, s.begin():
            db.insert_rows(s, Event.__table__, rows)
            db.insert_rows(s, marks, [dict(document_id=i, day=at.date(), due_date=at.date()) for i in (1, 2)])
            later = at.date() + dt.timedelta(days=3)
            db.insert_rows(
                s, marks, [dict(document_id=2, day=at.date(), due_date=later)], upsert=["document_id"]
            )
        with Session(engine) as s:
            got = s.exec(select(Event).order_by(Event.id)).all()
            found = set(s.exec(select(Event.hash).where(db.among(s, Event.hash, ["h299", "h7", "none"]))))
            ids = set(s.exec(select(Event.document_id).where(db.among(s, Event.document_id, [5, 6, 10_000]))))
            due = {m.document_id: m.due_date for m in s.exec(select(ChaseMark))}
        # (SQLite's executemany wraps the ValueError in SQLAlchemy's StatementError)
        with (
            pytest.raises((ValueError, sa.exc.StatementError), match="naive"),
            Session(engine) as s,
            s.begin(),
        ):
            db.insert_rows(s, Event.__table__, [dict(rows[0], at=at.replace(tzinfo=None), hash="n")])
        engine.dispose()
    assert [e.hash for e in got] == [f"h{n}" for n in range(300)]
    assert got[0].document_id is None and got[-1].document_id == 299 and got[-1].data == '{"n":299}'
    assert all(e.at == at for e in got) and got[0].at.tzinfo is not None
    assert found == {"h299", "h7"} and ids == {5, 6}
    assert due == {1: at.date(), 2: later}
