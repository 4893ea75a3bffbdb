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
