"""Which tables carry a case's meaning, and their rows as the events record them.

A writing transaction's last event carries the values of every covered row
the transaction wrote (`journal` seals them in before the commit), so the
events replayed give the tables (`replay`). The values are read back from
the database after the writes, as plain JSON, so the writer's snapshot and
the verifier's reading of a row are made by the same function.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from .models import (
    Answer,
    Assignment,
    Delivery,
    DocAttachment,
    Document,
    Extension,
    Move,
    Receipt,
    Resolution,
)

Values = dict[str, Any]  # one row: {column: JSON value}
KEY = "covers"  # the key of an event's data that holds the rows: {table: {id: {column: value} | null}}

MODELS: dict[str, type[SQLModel]] = {
    m.__tablename__: m
    for m in (Document, DocAttachment, Resolution, Assignment, Delivery, Receipt, Answer, Move, Extension)
}
# Caches derived from the other columns (case.search), rebuilt by migrations: not the case's meaning.
SKIPPED = {"document": frozenset({"search", "applicant"})}
# Long texts: their sha256 stands for them, so an event does not carry a whole OCR'd letter.
DIGESTED = {"document": frozenset({"text"})}


def table_of(model: type[SQLModel]) -> sa.Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def columns(table: str) -> list[str]:
    skipped = SKIPPED.get(table, frozenset())
    return [c.name for c in table_of(MODELS[table]).columns if c.name not in skipped]


def values(table: str, row: Mapping[str, Any] | sa.RowMapping) -> Values:
    """A row as the events carry it: JSON values, long texts as their sha256."""
    digested = DIGESTED.get(table, frozenset())
    out: Values = {}
    for name in columns(table):
        v = row[name]
        if name in digested and v is not None:
            v = "sha256:" + hashlib.sha256(str(v).encode("utf-8")).hexdigest()
        elif isinstance(v, dt.datetime):
            v = v.astimezone(dt.UTC).isoformat()
        elif isinstance(v, dt.date):
            v = v.isoformat()
        out[name] = v
    return out


def read(s: Session, table: str, ids: Iterable[int] | None = None, *, batch: int = 2000) -> dict[int, Values]:
    """The covered rows of `table` by id (all of them when `ids` is None), as `values` gives them."""
    t = table_of(MODELS[table])
    cols = [t.c[name] for name in columns(table)]
    out: dict[int, Values] = {}
    if ids is None:
        last = 0
        while True:  # by id ranges: the whole table is never held by the driver at once
            rows = s.execute(sa.select(*cols).where(t.c.id > last).order_by(t.c.id).limit(batch)).mappings()
            got = [(r["id"], values(table, r)) for r in rows]
            if not got:
                return out
            out.update(got)
            last = got[-1][0]
    wanted = sorted(set(ids))
    for i in range(0, len(wanted), batch):
        rows = s.execute(sa.select(*cols).where(t.c.id.in_(wanted[i : i + batch]))).mappings()
        out.update((r["id"], values(table, r)) for r in rows)
    return out


def facts(data: str) -> dict[str, Any]:
    """An event's data as shown to people: without the rows it carries, which are the
    tables' own business (and may be another case's, written in the same transaction)."""
    out: dict[str, Any] = json.loads(data)
    out.pop(KEY, None)
    return out


def snapshot(s: Session, written: Mapping[str, Iterable[int]]) -> dict[str, dict[str, Values | None]]:
    """The rows written, read back: {table: {id: values}}; a row gone since is None (deleted)."""
    covers: dict[str, dict[str, Values | None]] = {}
    for table in sorted(written):
        ids = sorted(set(written[table]))
        found = read(s, table, ids)
        covers[table] = {str(i): found.get(i) for i in ids}
    return covers
