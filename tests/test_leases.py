"""Mailbox leases: taken, renewed, expired, stolen; a daemon that lost its mailbox
cannot commit what it read (the fence)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mailflow import daemon, db, journal, leases
from mailflow.mailbox import Fetched
from mailflow.models import Document, Inbound, MailboxLease
from mailflow.values import Source
from tests.support import database_urls, fake_recognizer, home_config, load_rules, text_appeal

KINDS = ["sqlite", "postgresql"]
FAST = leases.Timings(ttl=0.6, renew_every=0.1, retry_every=0.05)


def _engine(url: str) -> sa.Engine:
    engine = db.make_engine(url)
    db.migrate(engine)
    return engine


def _row(engine, mailbox="kanc") -> MailboxLease:
    with Session(engine) as s:
        return s.exec(select(MailboxLease).where(MailboxLease.mailbox == mailbox)).one()


@pytest.fixture(params=KINDS)
def engine(request, tmp_path):
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, request.param) as url:
        engine = _engine(url)
        yield engine
        engine.dispose()


def test_a_lease_is_taken_once_and_refused_to_another_while_it_lasts(engine):
    a = leases.take(engine, "kanc", "a:1:1", ttl=30)
    assert a == leases.Held("kanc", "a:1:1", 1)
    assert leases.take(engine, "kanc", "b:2:2", ttl=30) is None
    assert leases.take(engine, "other", "b:2:2", ttl=30) == leases.Held("other", "b:2:2", 1)  # per mailbox
    row = _row(engine)
    assert row.holder == "a:1:1" and row.fence == 1


def test_renewal_extends_and_a_stale_fence_cannot_renew(engine):
    a = leases.take(engine, "kanc", "a:1:1", ttl=0.5)
    assert a is not None
    first = _row(engine).expires_at
    time.sleep(0.3)
    assert leases.renew(engine, a, ttl=0.5)
    assert _row(engine).expires_at > first
    time.sleep(0.3)  # past the first expiry, not the renewed one
    assert leases.take(engine, "kanc", "b:2:2", ttl=0.5) is None
    assert not leases.renew(engine, leases.Held("kanc", "a:1:1", 7), ttl=0.5)


def test_an_expired_lease_is_taken_over_with_a_higher_fence(engine):
    a = leases.take(engine, "kanc", "a:1:1", ttl=0.2)
    assert a is not None
    time.sleep(0.3)
    b = leases.take(engine, "kanc", "b:2:2", ttl=30)
    assert b == leases.Held("kanc", "b:2:2", 2)
    assert not leases.renew(engine, a, ttl=30)  # the old holder learns it lost the mailbox
    leases.release(engine, a)  # a stale release frees nothing
    assert leases.take(engine, "kanc", "c:3:3", ttl=30) is None
    leases.release(engine, b)  # a graceful stop frees it at once
    assert leases.take(engine, "kanc", "c:3:3", ttl=30) == leases.Held("kanc", "c:3:3", 3)


def test_a_dead_process_of_this_machine_loses_its_lease_at_once(engine, monkeypatch):
    monkeypatch.setenv("MAILFLOW_NODE", "m1")
    assert leases.take(engine, "kanc", "m1:999999:12345", ttl=60) is not None  # no such process
    me = leases.node_id()
    assert me.startswith("m1:") and not leases.gone(me)
    assert leases.gone("m1:999999:12345")
    assert leases.take(engine, "kanc", me, ttl=60) == leases.Held("kanc", me, 2)
    # a holder on another machine is never judged by this one's processes: it must run out
    assert not leases.gone("m2:999999:12345")
    monkeypatch.setenv("MAILFLOW_NODE", "m2")
    assert leases.take(engine, "kanc", leases.node_id(), ttl=60) is None


def test_the_keeper_renews_from_its_thread_and_notices_a_theft(engine):
    holdings, stop = leases.Holdings(), threading.Event()
    keeper = leases.Keeper(engine, "kanc", holdings, stop, FAST, holder="a:1:1")
    try:
        assert keeper.take()
        time.sleep(3 * FAST.ttl)  # renewed all along: nobody else gets it
        assert leases.take(engine, "kanc", "b:2:2", ttl=FAST.ttl) is None
        assert not keeper.halt.is_set() and holdings.get("kanc") == keeper.held
        with engine.begin() as c:  # stolen behind its back (as by an operator)
            c.execute(sa.update(MailboxLease).values(holder="b:2:2", fence=MailboxLease.fence + 1))
        assert keeper.halt.wait(2.0) and keeper.lost
    finally:
        keeper.release()
    assert holdings.get("kanc") is None
    assert _row(engine).holder == "b:2:2"  # a lost lease is not released over its new holder


def test_a_stop_halts_the_keeper_and_frees_the_mailbox(engine):
    stop = threading.Event()
    keeper = leases.Keeper(engine, "kanc", leases.Holdings(), stop, FAST, holder="a:1:1")
    assert keeper.take()
    stop.set()
    assert keeper.halt.wait(1.0) and not keeper.lost
    keeper.release()
    assert leases.take(engine, "kanc", "b:2:2", ttl=30) is not None


@pytest.mark.parametrize("kind", KINDS)
def test_a_daemon_that_lost_its_mailbox_cannot_commit_what_it_read(tmp_path, kind):
    with database_urls(tmp_path, kind) as url:
        cfg = home_config(tmp_path, url)
        parts = daemon.build(cfg, load_rules(), recognize=fake_recognizer())
        try:
            stale = leases.take(parts.engine, "inbox", "a:1:1", ttl=0.1)
            assert stale is not None
            parts.holdings.put(stale)
            time.sleep(0.2)
            assert leases.take(parts.engine, "inbox", "b:2:2", ttl=30) is not None  # taken over
            fetched = Fetched(Source("inbox", "1", "7"), text_appeal(), dt.datetime.now(dt.UTC))
            with pytest.raises(leases.LeaseLost, match="held by b:2:2"):
                parts.intake.process(fetched)
            with Session(parts.engine) as s:  # rolled back: nothing recorded, no number used
                assert s.exec(select(Inbound)).all() == [] and s.exec(select(Document)).all() == []
            parts.holdings.drop(stale)
            mine = leases.take(parts.engine, "inbox", "a:1:1", ttl=0.1)
            assert mine is None  # b holds it
            with parts.engine.begin() as c:  # b stops gracefully; a takes the mailbox again
                c.execute(sa.update(MailboxLease).values(expires_at=dt.datetime.now(dt.UTC)))
            mine = leases.take(parts.engine, "inbox", "a:1:1", ttl=0.2)
            assert mine is not None and mine.fence == 3
            parts.holdings.put(mine)
            time.sleep(0.3)  # ran out, nobody took it: still refused (renewing would have kept it)
            with pytest.raises(leases.LeaseLost, match="ran out"):
                parts.intake.process(fetched)
            assert leases.renew(parts.engine, mine, ttl=30)
            assert parts.intake.process(fetched).status == "registered"
            # mail a daemon holds no lease for (paper, the clerk's queue) is not fenced
            other = Fetched(Source("queue", "inbound", "1"), text_appeal(), dt.datetime.now(dt.UTC))
            assert parts.intake.process(other).status == "registered"
        finally:
            daemon.close(parts)


def test_a_take_over_waits_for_the_fenced_commit_in_flight(tmp_path):
    """PostgreSQL: the fence holds the lease row shared until the registering
    transaction ends, so a take-over cannot slip in between check and commit."""
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, "postgresql") as url:
        engine = _engine(url)
        holdings = leases.Holdings()
        a = leases.take(engine, "kanc", "a:1:1", ttl=0.3)
        assert a is not None
        holdings.put(a)
        got: list = []
        with Session(engine) as s, s.begin():
            journal.lock(s)
            leases.fence(s, holdings, "kanc")
            time.sleep(0.4)  # the lease runs out while the transaction is open
            t = threading.Thread(target=lambda: got.append(leases.take(engine, "kanc", "b:2:2", ttl=30)))
            t.start()
            t.join(0.5)
            assert t.is_alive() and got == []  # waiting for this commit
        t.join(5)
        assert got == [leases.Held("kanc", "b:2:2", 2)]
        engine.dispose()
