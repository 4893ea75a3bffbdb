"""The journal's integrity: gap-free numbers and the hash-chained event log.

Every writing transaction first locks the single chain-head row. That one lock
serialises writers on PostgreSQL (SQLite's BEGIN IMMEDIATE already does), so
numbers are allocated without gaps and the event chain never forks.

The rows that carry a case's meaning (`coverage.MODELS`) are covered by the
events: whatever a transaction wrote of them, through the ORM or `note`d, is
read back before the commit and sealed into the transaction's last event (a
`covered` event when it appended none, which then takes the writer lock at
its commit: writers should take it first, as the rule above says), so
`replay` can rebuild them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

import sqlalchemy as sa
from sqlalchemy import orm
from sqlmodel import Session, select

from . import coverage, db
from .models import ChainHead, Counter, Event
from .rules import Journal

GENESIS = "0" * 64
COVERED = "covered"  # the event of a transaction that wrote covered rows and appended no event
_WRITTEN = "mailflow.written"  # session.info: {table: {ids}} of covered rows written in this transaction
_LAST = "mailflow.last_event"  # session.info: the id of the last event this transaction appended


def lock(session: Session) -> ChainHead:
    """Take the writer lock for this transaction; call it first.

    The row is read afresh once locked (populate_existing): a head this session
    read before, unlocked (the seal at commit does), may be another writer's
    past, and an event chained onto it would fork the chain (PostgreSQL)."""
    stmt = select(ChainHead).where(ChainHead.id == 1).with_for_update()
    return session.exec(stmt.execution_options(populate_existing=True)).one()


def canonical(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(prev: str, type_: str, at: dt.datetime, document_id, inbound_id, data: str) -> str:
    material = "\x1f".join(
        [prev, type_, at.astimezone(dt.UTC).isoformat(), str(document_id), str(inbound_id), data]
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def append(
    session: Session,
    head: ChainHead,
    type_: str,
    *,
    document_id: int | None = None,
    inbound_id: int | None = None,
    **data,
) -> Event:
    at = dt.datetime.now(dt.UTC)
    payload = canonical(data)
    h = event_hash(head.last_hash, type_, at, document_id, inbound_id, payload)
    ev = Event(
        at=at,
        type=type_,
        document_id=document_id,
        inbound_id=inbound_id,
        data=payload,
        prev_hash=head.last_hash,
        hash=h,
    )
    session.add(ev)
    session.flush()
    head.last_event_id, head.last_hash = ev.id, h
    session.add(head)
    session.info[_LAST] = ev.id
    return ev


@dataclass(frozen=True)
class Entry:
    """One event of a batch for `append_many`."""

    type: str
    document_id: int | None = None
    inbound_id: int | None = None
    data: dict = field(default_factory=dict)


def append_many(session: Session, head: ChainHead, entries: list[Entry]) -> None:
    """Append events in one statement: the chain is computed here, in order, so a
    sweep telling a thousand cases does not pay a round trip per event."""
    if not entries:
        return
    at = dt.datetime.now(dt.UTC)
    rows, prev = [], head.last_hash
    for e in entries:
        payload = canonical(e.data)
        h = event_hash(prev, e.type, at, e.document_id, e.inbound_id, payload)
        rows.append(
            dict(
                at=at,
                type=e.type,
                document_id=e.document_id,
                inbound_id=e.inbound_id,
                data=payload,
                prev_hash=prev,
                hash=h,
            )
        )
        prev = h
    db.insert_rows(session, cast(sa.Table, Event.__table__), rows)  # ids in the chain's order
    head.last_event_id = session.exec(select(Event.id).where(Event.hash == prev)).one() or 0
    head.last_hash = prev
    session.add(head)
    session.info[_LAST] = head.last_event_id


def note(session: Session, table: str, ids: Iterable[int]) -> None:
    """Covered rows written by SQL, not the ORM (which is followed by itself): sealed at the commit."""
    session.info.setdefault(_WRITTEN, {}).setdefault(table, set()).update(ids)


def _track(session: orm.Session, _context: object) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in coverage.MODELS and obj.id is not None:
            note(session, table, (obj.id,))  # type: ignore[arg-type]


def _seal(session: orm.Session) -> None:
    """Before the commit: the covered rows written, read back, into the last event."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    written = session.info.pop(_WRITTEN, None)
    if not written:
        return
    s = cast(Session, session)
    covers = coverage.snapshot(s, written)
    last = session.info.get(_LAST)
    head = s.get(ChainHead, 1)
    ev = s.get(Event, last) if last else None
    if ev is None or head is None or head.last_event_id != ev.id:  # no event of its own: one to carry them
        append(s, lock(s), COVERED, **{coverage.KEY: covers})
        return
    data = json.loads(ev.data)
    for table, rows in covers.items():
        data.setdefault(coverage.KEY, {}).setdefault(table, {}).update(rows)
    ev.data = canonical(data)  # still this transaction's, under its lock: not yet anyone's history
    ev.hash = event_hash(ev.prev_hash, ev.type, ev.at, ev.document_id, ev.inbound_id, ev.data)
    head.last_hash = ev.hash
    s.add(ev)
    s.add(head)


def _forget(session: orm.Session, *_args: object) -> None:
    session.info.pop(_WRITTEN, None)
    session.info.pop(_LAST, None)


sa.event.listen(orm.Session, "after_flush", _track)
sa.event.listen(orm.Session, "before_commit", _seal)
sa.event.listen(orm.Session, "after_commit", _forget)
sa.event.listen(orm.Session, "after_rollback", _forget)


def allocate(session: Session, journal: Journal, year: int) -> tuple[int, str]:
    """The next incoming number, inside the caller's transaction (so no gaps)."""
    seq = next_seq(session, journal.key, year)
    return seq, journal.number(year, seq)


def next_seq(session: Session, key: str, year: int) -> int:
    """The next number of a gap-free sequence (a journal, a monitoring register)."""
    session.execute(
        sa.text("INSERT INTO counter (journal, year, last) VALUES (:j, :y, 0) ON CONFLICT DO NOTHING"),
        {"j": key, "y": year},
    )
    return session.execute(
        sa.update(Counter)
        .where(Counter.journal == key, Counter.year == year)
        .values(last=Counter.last + 1)
        .returning(Counter.last)
    ).scalar_one()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""


def verify(session: Session, batch: int = 5000) -> Verdict:
    """Walk the chain from the start; report the first event that does not match."""
    prev, checked, last_id = GENESIS, 0, 0
    while True:
        rows = session.exec(select(Event).where(Event.id > last_id).order_by(Event.id).limit(batch)).all()
        if not rows:
            break
        for ev in rows:
            if ev.prev_hash != prev:
                return Verdict(
                    False,
                    checked,
                    ev.id,
                    "prev_hash does not match the event before it (an event was removed or reordered)",
                )
            expected = event_hash(prev, ev.type, ev.at, ev.document_id, ev.inbound_id, ev.data)
            if ev.hash != expected:
                return Verdict(
                    False, checked, ev.id, "hash does not match its content (the event was edited)"
                )
            prev, checked, last_id = ev.hash, checked + 1, ev.id
    head = session.get(ChainHead, 1)
    if head and head.last_hash != prev:
        return Verdict(
            False,
            checked,
            head.last_event_id,
            "the chain head does not point at the last event (events were deleted at the end)",
        )
    return Verdict(True, checked)
