"""Cases as a signed-in person may see them: the journal's page and one card.

Reads only; changes go through `mailflow.services`. A person whose roles
see "own" cases sees those whose current resolution names them, and a unit
head those of the people of their unit (rules/access.toml).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from .. import coverage, db, export, scans
from ..case.queries import consumer_name
from ..case.search import FTS, Filter, fts_match, visible_to, where
from ..case.states import OPEN, State
from ..models import DocAttachment, Document, Event
from ..rules import Rules
from ..values import KZ_TZ
from ..vocabulary import UNIT_HEAD
from .signin import Signed

PAGE_SIZE = 50
# Counting every match of a common surname in ten years of journal costs more
# than showing them: a page counts at most ten pages on from itself (the screen
# says "more than" beyond), and never beyond this (40 pages).
COUNT_CAP = 2000
COUNT_AHEAD = 10  # pages
# A search on SQLite for a common word first walks down the date index testing
# each row's text, newest first, and stops at a full page: SQLite would take
# every match in ten years from the FTS table to sort them by date. The walk
# goes at most as many rows as the FTS table holds matches (the cost of that
# sort), and never fewer than WALK; only a rarer word, or a common one with a
# rare second word, is then looked up in the FTS table. A word is common when,
# spread over the journal, a page of its matches falls among the WALK newest.
# (PostgreSQL's planner makes that choice itself, from its statistics.)
WALK = 3000
WALK_MAX = 30000


def own_addresses(rules: Rules, who: Signed) -> frozenset[str]:
    """Whose cases are "own" to this person: their own, and their unit's if they head it."""
    mine = {who.email}
    if UNIT_HEAD in who.person.roles and who.person.unit:
        mine |= {p.email for p in rules.staff.people if p.unit == who.person.unit}
    return frozenset(mine)


def scope(rules: Rules, who: Signed) -> list[sa.ColumnElement[bool]]:
    """Conditions on Document: the cases this person may see (none: every case)."""
    return [] if who.rights.see_all else [visible_to(own_addresses(rules, who))]


@dataclass(frozen=True)
class Row:
    doc: Document
    name: str
    state: str
    overdue: bool
    review: list[str]


@dataclass(frozen=True)
class Listing:
    rows: list[Row]
    total: int  # at most COUNT_CAP
    more: bool  # there are more than `total`
    page: int
    pages: int


def listing(s: Session, rules: Rules, who: Signed, f: Filter, page: int = 1) -> Listing:
    today = dt.datetime.now(KZ_TZ).date()
    dialect = s.get_bind().dialect.name
    mine = scope(rules, who)
    conds = where(f, today=today, tz=KZ_TZ, dialect=dialect) + mine
    first = page <= 1
    docs = _newest(s, f, conds, mine, today, 0) if first else []
    cap = min(COUNT_CAP, (max(1, page) - 1 + COUNT_AHEAD) * PAGE_SIZE)
    if first and len(docs) < PAGE_SIZE:  # all of it on this page: counted without a query
        more, total, pages, page = len(docs) > cap, min(len(docs), cap), 1, 1
    else:
        total = _count(s, f, conds, mine, today, cap + 1)
        more, total = total > cap, min(total, cap)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        if not first:
            docs = _newest(s, f, conds, mine, today, (page - 1) * PAGE_SIZE)
    rows = [
        Row(
            d,
            consumer_name(d) or "—",
            State(d.status).label,
            bool(d.due_date and d.due_date < today and State(d.status) in OPEN),
            json.loads(d.needs_review),
        )
        for d in docs
    ]
    return Listing(rows, total, more, page, pages)


def _count(
    s: Session,
    f: Filter,
    conds: list[sa.ColumnElement[bool]],
    mine: list[sa.ColumnElement[bool]],
    today: dt.date,
    cap: int,
) -> int:
    """How many cases `conds` finds, counted up to `cap`. SQLite's FTS table leads a
    search's count, each row it finds tested as it comes: `conds` asks it for all of
    its matches first (a common word's thousands) and stops only then."""
    match = fts_match(f.q) if s.get_bind().dialect.name == "sqlite" else None
    if match is not None:
        tested = where(f, today=today, tz=KZ_TZ, dialect="sqlite", indexed=False) + mine
        found = (
            select(FTS.c.rowid)
            .select_from(FTS.join(Document, col(Document.id) == FTS.c.rowid))
            .where(match, *tested)
        )
    else:
        found = select(Document.id).where(*conds)
    return int(s.exec(select(sa.func.count()).select_from(found.limit(cap).subquery())).one())


def _newest(
    s: Session,
    f: Filter,
    conds: list[sa.ColumnElement[bool]],
    mine: list[sa.ColumnElement[bool]],
    today: dt.date,
    offset: int,
) -> list[Document]:
    """The page of `conds` from `offset`, newest first. A search on SQLite for a common
    word walks the newest cases first (`WALK`): all of them are newer than any case
    beyond, so a full page found there is the page."""
    order = (col(Document.registered_at).desc(), col(Document.id).desc())
    window = _walk(s, f.q, offset + PAGE_SIZE) if s.get_bind().dialect.name == "sqlite" else 0
    if window:
        bound = select(Document.registered_at).order_by(*order).offset(window - 1).limit(1).scalar_subquery()
        walk = where(f, today=today, tz=KZ_TZ, dialect="sqlite", indexed=False) + mine
        found = s.exec(
            select(Document)
            .where(*walk, col(Document.registered_at) >= bound)
            .order_by(*order)
            .offset(offset)
            .limit(PAGE_SIZE)
        ).all()
        if len(found) == PAGE_SIZE:
            return list(found)
    return list(s.exec(select(Document).where(*conds).order_by(*order).offset(offset).limit(PAGE_SIZE)).all())


def _walk(s: Session, q: str, wanted: int) -> int:
    """How many of the newest cases to walk for `wanted` matches of the words of `q`
    the FTS table can find: 0 when they are not common (see WALK), else as many as
    it holds matches (WALK to WALK_MAX). Only the time depends on it."""
    match = fts_match(q)
    if match is None or wanted > WALK:  # only short words: the plain query walks
        return 0
    size = int(s.exec(select(sa.func.max(Document.id))).one() or 0)
    need = -(-wanted * size // WALK)
    hits = select(FTS.c.rowid).where(match).limit(max(need, WALK_MAX)).subquery()
    found = int(s.exec(select(sa.func.count()).select_from(hits)).one())
    return max(WALK, min(found, WALK_MAX)) if found >= need else 0


def exported(engine: sa.Engine, rules: Rules, who: Signed, f: Filter) -> Iterator[dict[str, Any]]:
    """Every case of the filter this person may see, as export objects, newest first;
    read a batch at a time in a session of its own (the response streams them)."""
    with Session(engine) as s:
        today = dt.datetime.now(KZ_TZ).date()
        conds = where(f, today=today, tz=KZ_TZ, dialect=engine.dialect.name) + scope(rules, who)
        for docs in export.batches(s, conds):
            yield from export.document_records(s, docs)


def find(s: Session, rules: Rules, who: Signed, number: str) -> Document | None:
    """The document `number` if this person may see it (None either way, so a number
    outside one's cases looks the same as one that does not exist)."""
    return s.exec(select(Document).where(col(Document.number) == number, *scope(rules, who))).first()


def api_record(s: Session, doc: Document) -> dict[str, Any]:
    """The export object (DESIGN §4) plus the case's state, stage and version."""
    return api_records(s, [doc])[0]


def api_records(s: Session, docs: list[Document]) -> list[dict[str, Any]]:
    """`api_record` of a page of documents, in a fixed number of queries."""
    ids = [d.id or 0 for d in docs]
    versions = (
        dict(
            s.exec(
                select(col(Event.document_id), sa.func.max(Event.id))
                .where(db.among(s, col(Event.document_id), ids))
                .group_by(col(Event.document_id))
            ).all()
        )
        if ids
        else {}
    )
    out = []
    for doc, rec in zip(docs, export.document_records(s, docs), strict=True):
        rec["state"] = doc.status
        rec["stage"] = doc.stage
        rec["version"] = int(versions.get(doc.id) or 0)  # as case.queries.case_version counts it
        out.append(rec)
    return out


@dataclass(frozen=True)
class PageRef:
    sha256: str
    filename: str
    index: int  # from 0

    @property
    def url(self) -> str:
        return f"/pages/{self.sha256}/{self.index + 1}.png"


def crop_url(number: str, field: str) -> str:
    """Where the card finds the piece of the scan a field left unread is written on."""
    return f"/crops/{number}/{field}.png"


def pages(s: Session, doc: Document) -> list[PageRef]:
    atts = s.exec(
        select(DocAttachment).where(DocAttachment.document_id == doc.id).order_by(col(DocAttachment.id))
    ).all()
    return [
        PageRef(a.sha256, a.filename, i)
        for a in atts
        if scans.is_scan(a.content_type)
        for i in range(max(1, a.pages))
    ]


def attachment(s: Session, rules: Rules, who: Signed, sha256: str) -> DocAttachment | None:
    """An attachment of a case this person may see."""
    return s.exec(
        select(DocAttachment)
        .join(Document, col(Document.id) == col(DocAttachment.document_id))
        .where(col(DocAttachment.sha256) == sha256, *scope(rules, who))
    ).first()


@dataclass(frozen=True)
class Happened:
    at: dt.datetime
    type: str
    data: dict[str, Any]


def history(s: Session, doc: Document) -> list[Happened]:
    rows = s.exec(select(Event).where(Event.document_id == doc.id).order_by(col(Event.id))).all()
    return [Happened(e.at.astimezone(KZ_TZ), e.type, coverage.facts(e.data)) for e in rows]
