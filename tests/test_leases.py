"""Mailbox leases: taken, renewed, expired, stolen; a daemon that lost its mailbox
cannot commit what it read (the fence). The outbox: batches claimed with SKIP
LOCKED, a short lease renewed before each send."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mailflow import daemon, db, journal, leases, outbox
from mailflow.mailbox import Fetched
from mailflow.models import Document, Inbound, MailboxLease, Outbox
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
            group = [  # a backlog recorded in one transaction (daemon.drain) is fenced alike
                parts.intake.prepare(
                    Fetched(Source("inbox", "1", str(uid)), text_appeal(), fetched.received_at)
                )
                for uid in (8, 9)
            ]
            with pytest.raises(leases.LeaseLost, match="held by b:2:2"):
                parts.intake.record_group(group)
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


# -- the outbox: claimed in batches, SKIP LOCKED, a short lease renewed before each send ----------


class RecordingTransport:
    """Fake at the SMTP seam: accepts everything, slowly enough for two senders to meet."""

    def __init__(self, pause: float = 0.0):
        self.pause, self.sent, self.lock = pause, [], threading.Lock()

    def send(self, sender, recipients, raw, envelope_id=None):
        time.sleep(self.pause)
        with self.lock:
            self.sent.append(raw)
        return outbox.SendResult(250, "2.0.0 Ok: queued as T1", "T1")


def _queue(engine, n: int) -> None:
    with Session(engine) as s, s.begin():
        for i in range(n):
            outbox.queue(
                s,
                outbox.compose(
                    sender="kanc@sevkaz.example",
                    to=("a@example.kz",),
                    subject=f"Талон {i}",
                    body="Талон",
                    kind="talon",
                    key=f"talon:{i}:a@example.kz",
                ),
            )


def test_two_sessions_claim_disjoint_batches_without_waiting(tmp_path):
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, "postgresql") as url:
        engine = _engine(url)
        _queue(engine, 30)
        now = dt.datetime.now(dt.UTC)
        with Session(engine) as s1, s1.begin():
            a = outbox.claim(s1, "a:1:1", now, outbox.BATCH)
            with Session(engine) as s2, s2.begin():
                s2.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # waiting would fail, not hang
                b = outbox.claim(s2, "b:2:2", now, outbox.BATCH)
        assert len(a) == outbox.BATCH and len(b) == 30 - outbox.BATCH and not set(a) & set(b)
        with Session(engine) as s:
            owners = {r.id: r.claimed_by for r in s.exec(select(Outbox))}
            assert {owners[i] for i in a} == {"a:1:1"} and {owners[i] for i in b} == {"b:2:2"}
            assert outbox.claim(s, "c:3:3", now, outbox.BATCH) == []  # all leased
        engine.dispose()


def test_two_senders_flushing_together_send_each_row_once(tmp_path):
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, "postgresql") as url:
        engine = _engine(url)
        _queue(engine, 60)
        t = RecordingTransport(pause=0.01)
        senders = [outbox.Sender(engine, t, "kanc@sevkaz.example") for _ in range(2)]
        senders[1].owner = "other-machine:2:2"  # as a second daemon would be
        counts: list[int] = []
        threads = [threading.Thread(target=lambda x=x: counts.append(x.flush())) for x in senders]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert sum(counts) == 60 and len(t.sent) == 60 and len(set(t.sent)) == 60
        assert min(counts) > 0, f"one sender did all the work: {counts}"
        with Session(engine) as s:
            assert {r.status for r in s.exec(select(Outbox))} == {"sent"}
        engine.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_rows_claimed_by_a_dead_daemon_are_sent_by_another_once_their_lease_runs_out(tmp_path, kind):
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, kind) as url:
        engine = _engine(url)
        _queue(engine, 3)
        with Session(engine) as s, s.begin():  # claimed by a daemon on another machine, which died
            assert len(outbox.claim(s, "dead-machine:1:1", dt.datetime.now(dt.UTC), outbox.BATCH)) == 3
        t = RecordingTransport()
        sender = outbox.Sender(engine, t, "kanc@sevkaz.example")
        assert sender.flush() == 0  # leased: another machine's process is never judged
        with engine.begin() as c:  # CLAIM later (the lease ran out a second ago)
            c.execute(
                sa.update(Outbox).values(next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
            )
        assert sender.flush() == 3 and len(t.sent) == 3
        engine.dispose()


def test_a_row_whose_lease_went_to_another_sender_is_not_sent(tmp_path):
    engine = _engine(f"sqlite:///{tmp_path / 'j.db'}")
    _queue(engine, 2)
    t = RecordingTransport()
    sender = outbox.Sender(engine, t, "kanc@sevkaz.example")
    [first, second] = sender._claim_batch(outbox.BATCH)
    with engine.begin() as c:  # our lease on the second ran out meanwhile and another took it
        c.execute(sa.update(Outbox).where(Outbox.id == second).values(claimed_by="b:2:2"))
    assert sender._renew(first) and not sender._renew(second)
    sender._unclaim([first, second])  # gives back only what is still ours
    with Session(engine) as s:
        assert [r.claimed_by for r in s.exec(select(Outbox).order_by(Outbox.id))] == [None, "b:2:2"]
    engine.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_the_operator_sees_which_daemon_reads_each_mailbox(tmp_path, kind):
    from mailflow import status

    with database_urls(tmp_path, kind) as url:
        cfg = home_config(tmp_path, url)
        daemon.migrate(cfg)
        engine = db.make_engine(url)
        try:
            held = leases.take(engine, "inbox", "machine-a:41:7", ttl=60)
            assert held is not None
            [box] = status.read(cfg, engine).mailboxes
            assert box.reader == "machine-a:41:7" and box.reader_until is not None
            assert box.reader_until > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=50)
            text = status.prometheus(status.read(cfg, engine))
            line = 'mailflow_mailbox_lease_expiry_timestamp_seconds{mailbox="inbox",holder="machine-a:41:7"} '
            assert line + f"{box.reader_until.timestamp():g}" in text
            leases.release(engine, held)
            [box] = status.read(cfg, engine).mailboxes
            assert box.reader is None and "lease_expiry_timestamp_seconds{" not in status.prometheus(
                status.read(cfg, engine)
            )
        finally:
            engine.dispose()
