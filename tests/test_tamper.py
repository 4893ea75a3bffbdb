"""Tamper evidence (issue 10.2): `journal verify` after each kind of tampering.

The journal is a real one (an appeal registered, resolved by the director,
forwarded, its delivery proven by a DSN), on SQLite and PostgreSQL; the
attacks are what someone with the database's password would do by SQL.
Row edits are found by replaying the events against the tables; a rewrite
with every hash recomputed, a truncation with `chain_head` set back and a
reset only by the signed checkpoint taken before them.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mailflow import db, journal, replay
from mailflow.models import ChainHead, Delivery, Event
from tests import reportgen
from tests.support import Office, database_urls

PETROV = "petrov@sevkaz.example"


@pytest.fixture(params=["sqlite", "postgresql"])
def office(request, tmp_path):
    """A journal with a resolved case whose forward was proven delivered."""
    with database_urls(tmp_path, request.param) as url:
        o = Office(tmp_path, database=url)
        o.send(o.reply("Петрову — рассмотреть, ответить заявителю."))
        m = next(m for m in o.sent("forward") if m["To"] == PETROV)
        with _session(o) as s:
            d = s.exec(select(Delivery).where(Delivery.to_addr == PETROV)).one()
        orig = reportgen.Original(
            message_id=m["Message-ID"], subject=m["Subject"], from_="mailflow@localhost", to=PETROV
        )
        rcpt = reportgen.Rcpt(final=PETROV, action="delivered", status="2.0.0", diagnostic="smtp; 250 ok")
        o.send(reportgen.postfix_dsn([rcpt], envid=d.envelope_id, original=orig, kind="success"))
        yield o


class _session:
    """A session on the office's journal, its engine disposed of afterwards."""

    def __init__(self, o: Office):
        self.engine = db.make_engine(o.cfg.database)

    def __enter__(self) -> Session:
        self.s = Session(self.engine)
        return self.s

    def __exit__(self, *exc):
        self.s.close()
        self.engine.dispose()


def _sql(o: Office, *statements: str, **params) -> None:
    """The attacker: plain SQL, outside mailflow."""
    engine = db.make_engine(o.cfg.database)
    with engine.begin() as c:
        for st in statements:
            c.execute(sa.text(st), params)
    engine.dispose()


def _found(o: Office) -> list[str]:
    """What verify finds, as short codes: chain, <kind> <table>.<column>."""
    with _session(o) as s:
        v = journal.verify(s)
        r = replay.compare(s)
    out = [] if v.ok else ["chain"]
    out += [f"{m.kind} {m.table}.{m.column or '*'}" for m in r.mismatches]
    return out


def _descriptions(o: Office) -> list[str]:
    with _session(o) as s:
        return [m.describe() for m in replay.compare(s).mismatches]


def _rehash(o: Office, edit) -> None:
    """Rewrite the events with `edit(id, data) -> data` and recompute the whole chain and
    its head, as an attacker who read journal.py would."""
    with _session(o) as s, s.begin():
        prev = journal.GENESIS
        for ev in s.exec(select(Event).order_by(col(Event.id))).all():
            ev.data = journal.canonical(edit(ev.id, json.loads(ev.data)))
            ev.prev_hash = prev
            ev.hash = prev = journal.event_hash(prev, ev.type, ev.at, ev.document_id, ev.inbound_id, ev.data)
            s.add(ev)
        s.flush()
        last = s.exec(select(sa.func.max(Event.id))).one() or 0
        s.execute(sa.update(ChainHead).values(last_event_id=last, last_hash=prev))


def _at(o: Office, at: dt.datetime) -> dt.datetime:
    """A time as the attacker's SQL writes it: SQLite's columns hold naive UTC."""
    return at.replace(tzinfo=None) if o.cfg.database.startswith("sqlite") else at


def _ids(o: Office, table: str) -> list[int]:
    with _session(o) as s:
        return list(s.execute(sa.text(f"SELECT id FROM {table} ORDER BY id")).scalars())


# --- the tables against the events --------------------------------------------


def test_an_untouched_journal_passes_and_every_row_is_covered(office):
    assert _found(office) == []
    with _session(office) as s:
        r = replay.compare(s)
    counts = {t.table: (t.rows, t.covered, t.not_covered) for t in r.tables}
    for table in ("document", "resolution", "assignment", "delivery", "receipt", "answer", "attachment"):
        rows, covered, not_covered = counts[table]
        assert rows >= 1 and covered == rows and not_covered == 0, (table, counts[table])


ROW_EDITS = [
    ("document", "last_name", "UPDATE document SET last_name = 'Подделкин'", "'Подделкин'"),
    ("document", "address", "UPDATE document SET address = 'ул. Ложная, 1'", "'ул. Ложная, 1'"),
    ("document", "text", "UPDATE document SET text = text || ' (и ещё)'", "sha256:"),
    ("resolution", "text", "UPDATE resolution SET text = 'Оставить без рассмотрения.'", "'Оставить без"),
    ("resolution", "due_date", "UPDATE resolution SET due_date = :far", "'2031-01-01'"),
    ("document", "due_date", "UPDATE document SET due_date = :far", "'2031-01-01'"),
    (
        "assignment",
        "email",
        "UPDATE assignment SET email = 'friend@sevkaz.example'",
        "'friend@sevkaz.example'",
    ),
    ("delivery", "delivered_at", "UPDATE delivery SET delivered_at = :early", "2026-01-01"),
    ("delivery", "displayed_at", "UPDATE delivery SET displayed_at = :early", "2026-01-01"),
    ("answer", "holder", "UPDATE answer SET holder = 'friend@sevkaz.example'", "'friend@sevkaz.example'"),
    ("receipt", "action", "UPDATE receipt SET action = 'failed'", "'failed'"),
    ("document", "status", "UPDATE document SET status = 'closed'", "'closed'"),
]


@pytest.mark.parametrize(
    ("table", "column", "statement", "shown"), ROW_EDITS, ids=[f"{t}.{c}" for t, c, *_ in ROW_EDITS]
)
def test_a_row_edited_by_sql_is_named_with_both_values(office, table, column, statement, shown):
    _sql(
        office,
        statement,
        far=dt.date(2031, 1, 1),
        early=_at(office, dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)),
    )
    assert f"changed {table}.{column}" in _found(office)
    said = [d for d in _descriptions(office) if f"({table}): поле {column}:" in d]
    assert said and shown in said[0].split("в таблице", 1)[1].split("по событиям", 1)[0], said


def test_a_deleted_resolution_is_missing(office):
    [res] = _ids(office, "resolution")
    _sql(
        office,
        "DELETE FROM assignment WHERE resolution_id = :r",
        "DELETE FROM resolution WHERE id = :r",
        r=res,
    )
    found = _found(office)
    assert "missing resolution.*" in found and "missing assignment.*" in found
    assert any(f"резолюция #{res}" in d and "удалена" in d for d in _descriptions(office))


def test_a_forged_resolution_inserted_by_sql_is_not_in_the_events(office):
    [doc] = _ids(office, "document")
    _sql(
        office,
        "INSERT INTO resolution (document_id, text, instruction, due_date, due_source, author, source, created_at, current)"
        " VALUES (:d, 'Отказать.', '', :due, 'resolution', 'director@sevkaz.example', 'email', :at, :cur)",
        d=doc,
        due=dt.date(2026, 12, 31),
        at=_at(office, dt.datetime(2026, 6, 1, tzinfo=dt.UTC)),
        cur=True,
    )
    [_, forged] = _ids(office, "resolution")
    assert _found(office) == ["unknown resolution.*"]
    assert any(f"#{forged}" in d and "мимо журнала" in d for d in _descriptions(office))


def test_events_from_before_they_carried_rows_are_not_covered_not_alarmed(office):
    """A journal written before this release: its events carry no rows."""
    _rehash(office, lambda _id, data: {k: v for k, v in data.items() if k != "covers"})
    assert _found(office) == []
    with _session(office) as s:
        r = replay.compare(s)
    assert r.events == 0 and r.not_covered == sum(t.rows for t in r.tables) > 0
    _sql(office, "UPDATE document SET last_name = 'Подделкин'")  # not seen: nothing recorded it
    assert _found(office) == []
