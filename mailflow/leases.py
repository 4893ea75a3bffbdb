"""Mailbox leases: one daemon reads a mailbox at a time, and a daemon that lost
the mailbox cannot commit what it read from it.

A lease is a row per mailbox (models.MailboxLease): the holder's node id, an
expiry, and a fencing value that grows on every take-over. The holder renews
it from a thread every `renew_every`; a daemon waiting for it tries every
`retry_every` and takes it once it ran out (`ttl` after the last renewal), or
at once when the holder is a process of this same machine that is gone.

Every transaction that records a message read from a mailbox calls `fence`
right after the journal lock. It reads the lease row FOR SHARE (a take-over
waits until that transaction ends) and raises LeaseLost when the fence moved
on or the lease ran out: the transaction rolls back, the message stays in the
mailbox, and the new holder registers it. The journal's unique keys still
make a message count once whatever happens; the lease keeps two daemons from
doing the same work, the fence keeps a paused one from committing stale work.

Time is the database's (PostgreSQL's clock_timestamp()), so two machines'
clocks need not agree; SQLite is one machine and its clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .models import MailboxLease

log = logging.getLogger("mailflow.leases")


@dataclass(frozen=True)
class Timings:
    """Seconds. A dead holder's mailbox is taken over within ttl + retry_every."""

    ttl: float = 15.0  # a lease not renewed for this long is free
    renew_every: float = 5.0  # the holder renews this often (three tries per ttl)
    retry_every: float = 2.0  # a daemon waiting for the mailbox asks this often


TIMINGS = Timings()


class LeaseLost(Exception):
    """This daemon no longer holds the mailbox it read the message from."""


@dataclass(frozen=True)
class Held:
    """One tenure of a mailbox's lease: `fence` names it."""

    mailbox: str
    holder: str
    fence: int


def machine() -> str:
    """This machine's name among the daemons: MAILFLOW_NODE, else the hostname."""
    return os.environ.get("MAILFLOW_NODE") or socket.gethostname()


def node_id(pid: int | None = None) -> str:
    """`machine:pid:start`: the start time tells a reused pid from the process that had it."""
    pid = os.getpid() if pid is None else pid
    return f"{machine()}:{pid}:{_start_ticks(pid)}"


def _start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return "?"


def gone(holder: str) -> bool:
    """The holder is a process of this machine that no longer runs. A holder on
    another machine is never judged: only its lease running out frees it."""
    try:
        where, pid, ticks = holder.rsplit(":", 2)
        return where == machine() and ticks != "?" and _start_ticks(int(pid)) != ticks
    except ValueError:
        return False


def db_now(s: Session) -> dt.datetime:
    """The database's clock (one clock for every machine); SQLite's is this machine's."""
    if s.get_bind().dialect.name == "postgresql":
        now: dt.datetime = s.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
        return now
    return dt.datetime.now(dt.UTC)


def take(engine: sa.Engine, mailbox: str, holder: str, ttl: float = TIMINGS.ttl) -> Held | None:
    """The mailbox's lease for `holder` with a new fence, or None while another holds it."""
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            now = db_now(s)
            row = s.exec(
                select(MailboxLease).where(MailboxLease.mailbox == mailbox).with_for_update()
            ).first()
            until = now + dt.timedelta(seconds=ttl)
            if row is None:
                row = MailboxLease(
                    mailbox=mailbox, holder=holder, fence=1, taken_at=now, renewed_at=now, expires_at=until
                )
            elif row.expires_at > now and row.holder != holder and not gone(row.holder):
                return None
            else:
                if row.expires_at > now:
                    log.warning("mailbox %s: its holder %s is gone; taken over at once", mailbox, row.holder)
                row.holder, row.fence = holder, row.fence + 1
                row.taken_at = row.renewed_at = now
                row.expires_at = until
            s.add(row)
            s.flush()
            return Held(mailbox, holder, row.fence)
    except IntegrityError:  # another daemon made the mailbox's first row just now
        return None


def renew(engine: sa.Engine, held: Held, ttl: float = TIMINGS.ttl) -> bool:
    """Extend the tenure; False when it was taken over (the fence moved on)."""
    with Session(engine) as s, s.begin():
        now = db_now(s)
        res = s.execute(
            sa.update(MailboxLease)
            .where(
                col(MailboxLease.mailbox) == held.mailbox,
                col(MailboxLease.fence) == held.fence,
                col(MailboxLease.holder) == held.holder,
            )
            .values(renewed_at=now, expires_at=now + dt.timedelta(seconds=ttl))
        )
        return cast("sa.CursorResult[Any]", res).rowcount == 1


def release(engine: sa.Engine, held: Held) -> None:
    """Free the mailbox now (a graceful stop): the next daemon need not wait for the expiry."""
    with Session(engine) as s, s.begin():
        now = db_now(s)
        s.execute(
            sa.update(MailboxLease)
            .where(col(MailboxLease.mailbox) == held.mailbox, col(MailboxLease.fence) == held.fence)
            .values(expires_at=now)
        )


class Holdings:
    """The leases this process holds, by mailbox: the watchers put them, intake's
    fence reads them. Shared by threads, so behind a lock."""

    def __init__(self) -> None:
        self._held: dict[str, Held] = {}
        self._lock = threading.Lock()

    def get(self, mailbox: str) -> Held | None:
        with self._lock:
            return self._held.get(mailbox)

    def put(self, held: Held) -> None:
        with self._lock:
            self._held[held.mailbox] = held

    def drop(self, held: Held) -> None:
        with self._lock:
            if self._held.get(held.mailbox) == held:
                del self._held[held.mailbox]


def fence(s: Session, holdings: Holdings | None, mailbox: str) -> None:
    """Inside a transaction that records a message of `mailbox`, right after
    journal.lock: raise LeaseLost unless this process still holds the mailbox.

    A mailbox this process holds no lease for (paper, the clerk's queue, a
    command) is not read under a lease: nothing to check."""
    held = holdings.get(mailbox) if holdings is not None else None
    if held is None:
        return
    row = s.exec(
        select(MailboxLease).where(MailboxLease.mailbox == mailbox).with_for_update(read=True)
    ).first()
    if row is None or row.fence != held.fence or row.holder != held.holder:
        taker = f"{row.holder} (fence {row.fence})" if row else "nobody"
        raise LeaseLost(f"mailbox {mailbox}: held by {taker} now, not by us (fence {held.fence})")
    now = db_now(s)
    if row.expires_at <= now:
        raise LeaseLost(f"mailbox {mailbox}: our lease ran out at {row.expires_at.isoformat()}")


class Keeper:
    """Holds one mailbox's lease for a watcher: takes it, renews it from its own
    thread, gives it up. `halt` is set when the daemon stops or the lease is lost:
    the watcher stops reading at once."""

    def __init__(
        self,
        engine: sa.Engine,
        mailbox: str,
        holdings: Holdings,
        stop: threading.Event,
        timings: Timings = TIMINGS,
        holder: str | None = None,
    ):
        self.engine, self.mailbox, self.holdings = engine, mailbox, holdings
        self.stop, self.timings = stop, timings
        self.holder = holder or node_id()
        self.halt = threading.Event()
        self.held: Held | None = None
        self.lost = False
        self._thread: threading.Thread | None = None

    def take(self) -> bool:
        held = take(self.engine, self.mailbox, self.holder, self.timings.ttl)
        if held is None:
            return False
        self.held, self.lost = held, False
        self.halt.clear()
        self.holdings.put(held)
        self._thread = threading.Thread(target=self._renew, name=f"lease-{self.mailbox}", daemon=True)
        self._thread.start()
        log.info("mailbox %s: lease taken by %s (fence %d)", self.mailbox, self.holder, held.fence)
        return True

    def _renew(self) -> None:
        assert self.held is not None
        held, t = self.held, self.timings
        renewed = due = time.monotonic()
        while not self.halt.wait(0.2):  # short steps: a stop is passed on at once
            if self.stop.is_set():
                break
            if time.monotonic() < due + t.renew_every:
                continue
            due = time.monotonic()
            try:
                ok: bool | None = renew(self.engine, held, t.ttl)
            except Exception as exc:  # the database is away: keep trying while the lease lasts
                log.warning("mailbox %s: lease not renewed (%s)", self.mailbox, exc)
                ok = None
            if ok:
                renewed = due
            elif ok is False or time.monotonic() - renewed > t.ttl:
                self.lost = True
                log.warning("mailbox %s: lease lost (fence %d); standing by", self.mailbox, held.fence)
                break
        self.halt.set()

    def release(self) -> None:
        """Stop renewing; free the mailbox for the next daemon unless it is already theirs."""
        self.halt.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.held is None:
            return
        self.holdings.drop(self.held)
        if not self.lost:
            try:
                release(self.engine, self.held)
            except Exception as exc:  # it runs out by itself
                log.warning("mailbox %s: lease not released (%s)", self.mailbox, exc)
        self.held = None

    def wait_for(self, timeout: float) -> bool:
        """Take the lease, trying every retry_every for up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self.stop.is_set():
            if self.take():
                return True
            if time.monotonic() >= deadline:
                return False
            self.stop.wait(self.timings.retry_every)
        return False
