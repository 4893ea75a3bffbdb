"""The tables rebuilt from the events, and compared with what is stored.

The chain (`journal.verify`) proves the events were not edited; this proves
the rows that carry the cases' meaning (`coverage.MODELS`) are what the
events recorded: an edited column, a deleted row, a row slipped in by SQL.
Rows written before the events carried them are counted as not covered, not
reported: nothing in the events says what they were.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from . import coverage
from .models import Event

LABELS = {
    "document": "документ",
    "attachment": "вложение",
    "resolution": "резолюция",
    "assignment": "адресат резолюции",
    "delivery": "доставка",
    "receipt": "отчёт о доставке",
    "answer": "ответ",
    "move": "шаг ответа",
    "extension": "продление срока",
}

# {table: {row id: (the event that last recorded it, its values or None: deleted)}}
Recorded = dict[str, dict[int, tuple[int, coverage.Values | None]]]

CHANGED = "changed"  # a column differs from the events
MISSING = "missing"  # the events wrote the row; the table has none
UNKNOWN = "unknown"  # the table has a row the events never wrote, written after they began to
UNDELETED = "undeleted"  # the events deleted the row; the table still has it


@dataclass(frozen=True)
class Mismatch:
    table: str
    row_id: int
    kind: str  # CHANGED | MISSING | UNKNOWN | UNDELETED
    column: str | None = None
    stored: Any = None
    from_events: Any = None
    event_id: int | None = None  # the event that last recorded the row

    def describe(self) -> str:
        """In Russian, for the operator."""
        what = f"{LABELS.get(self.table, self.table)} #{self.row_id} ({self.table})"
        by = f" (событие #{self.event_id})" if self.event_id else ""
        if self.kind == CHANGED:
            return (
                f"{what}: поле {self.column}: в таблице {_shown(self.stored)}, "
                f"по событиям {_shown(self.from_events)}{by}"
            )
        if self.kind == MISSING:
            return f"{what}: строки нет в таблице, а события её записали{by} — строка удалена"
        if self.kind == UNDELETED:
            return f"{what}: по событиям строка удалена{by}, а в таблице она есть"
        return f"{what}: строки нет в событиях — вставлена в таблицу мимо журнала"


@dataclass(frozen=True)
class TableCheck:
    table: str
    rows: int  # in the table
    covered: int  # of them, recorded by the events
    not_covered: int  # written before the events carried rows: not checked


@dataclass(frozen=True)
class Replay:
    events: int  # events that carry rows
    tables: tuple[TableCheck, ...]
    mismatches: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    @property
    def not_covered(self) -> int:
        return sum(t.not_covered for t in self.tables)


def rebuild(s: Session, batch: int = 5000) -> tuple[int, Recorded]:
    """The covered rows as the events leave them: {table: {id: (event id, values or None)}}."""
    state: Recorded = {t: {} for t in coverage.MODELS}
    marker = json.dumps(coverage.KEY) + ":"  # canonical JSON: no space after the colon
    last, events = 0, 0
    while True:
        rows = s.exec(
            select(Event.id, Event.data)
            .where(col(Event.id) > last, col(Event.data).contains(marker))
            .order_by(col(Event.id))
            .limit(batch)
        ).all()
        if not rows:
            return events, state
        for row in rows:
            event_id, data = int(row[0] or 0), row[1]
            covers = json.loads(data).get(coverage.KEY)
            if not isinstance(covers, dict):
                continue
            events += 1
            for table, written in covers.items():
                known = state.setdefault(table, {})
                for row_id, values in written.items():
                    known[int(row_id)] = (event_id, values)
        last = event_id


def compare(s: Session) -> Replay:
    """Every covered table against the events; each difference reported."""
    events, state = rebuild(s)
    mismatches: list[Mismatch] = []
    checks: list[TableCheck] = []
    for table in coverage.MODELS:
        stored = coverage.read(s, table)
        recorded = state.get(table, {})
        first = min(recorded) if recorded else None  # rows after it were all written with their events
        covered = not_covered = 0
        for row_id, values in stored.items():
            if row_id not in recorded:
                if first is not None and row_id > first:
                    mismatches.append(Mismatch(table, row_id, UNKNOWN))
                else:
                    not_covered += 1
                continue
            covered += 1
            event_id, expected = recorded[row_id]
            if expected is None:
                mismatches.append(Mismatch(table, row_id, UNDELETED, event_id=event_id))
                continue
            for name, value in values.items():
                # a column added since the event was written is not in it: nothing to compare
                if name in expected and expected[name] != value:
                    mismatches.append(Mismatch(table, row_id, CHANGED, name, value, expected[name], event_id))
        for row_id, (event_id, expected) in recorded.items():
            if expected is not None and row_id not in stored:
                mismatches.append(Mismatch(table, row_id, MISSING, event_id=event_id))
        checks.append(TableCheck(table, len(stored), covered, not_covered))
    mismatches.sort(key=lambda m: (m.table, m.row_id, m.column or ""))
    return Replay(events, tuple(checks), tuple(mismatches))


def _shown(v: Any) -> str:
    text = "пусто" if v is None else repr(v)
    return text if len(text) <= 120 else text[:117] + "…"
