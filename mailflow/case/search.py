"""Finding a case the way a caller names it: surname, phone in any format,
address, organisation, number, outgoing number or a word of the letter.

Each document keeps `search`, a folded copy of those fields (lower case, ё→е,
Kazakh letters to their Russian neighbours, the phone's digits), written
whenever the fields are (registration, correction). A query is folded the
same way and every word of it must occur. Folding in Python rather than in
SQL makes SQLite and PostgreSQL agree: SQLite's LIKE folds only ASCII, and
PostgreSQL's `lower()` depends on the database's locale.

A Russian word of the query is looked for by its stem, the beginning all its
forms share (`morphology.stem`: «Ахметовой» finds «Ахметов» and «Ахметова»,
«отключения» finds «отключением»), which is what PostgreSQL's Russian
text-search configuration would do, but the same on SQLite. A stem shorter
than MIN_STEM letters would find unrelated words («мир» in «Мирный»): the
word is then looked for as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import col, select

from ..models import Assignment, Delivery, Document, Monitoring, Resolution
from ..morphology import stem
from .queries import IS_CURRENT, is_open

TEXT_LIMIT = 4000  # characters of the recognised letter kept for search
_FOLD = str.maketrans("ёәғқңөұүһі", "еагкноуухи")
_NOT_DIGIT = re.compile(r"\D+")
_PHONE_LIKE = re.compile(r"^[+\d][\d\s()\-.]{3,}$")
_RUSSIAN_WORD = re.compile(r"[а-я]+")  # folded: no ё, no Kazakh letters left
MIN_STEM = 5


class _Searchable(Protocol):
    number: str
    last_name: str | None
    first_name: str | None
    patronymic: str | None
    address: str | None
    phone: str | None
    email: str | None
    org_name: str | None
    outgoing_number: str | None
    text: str
    search: str
    applicant: str | None


def fold(text: str) -> str:
    return " ".join(text.casefold().translate(_FOLD).split())


def applicant_key(last_name: str | None, first_name: str | None) -> str | None:
    """One applicant's surname and first name, folded (ё/е, Kazakh letters, case): how
    repeats are found. None without both: an initial or a surname alone names nobody."""
    last, first = fold(last_name or ""), fold(first_name or "")
    if len(last) < 2 or len(first.rstrip(".")) < 2:
        return None
    return f"{last}|{first}"[:420]


def index_fields(doc: _Searchable) -> None:
    """Write the derived copies a document keeps of its fields (search, applicant)."""
    doc.search = search_text(doc)
    doc.applicant = applicant_key(doc.last_name, doc.first_name)


def search_text(doc: _Searchable) -> str:
    """What `matches` looks in, for one document."""
    words = (
        doc.number,
        doc.last_name,
        doc.first_name,
        doc.patronymic,
        doc.org_name,
        doc.address,
        doc.email,
        doc.outgoing_number,
    )
    phone = _NOT_DIGIT.sub("", doc.phone or "")
    return fold(" ".join(w for w in (*words, phone, (doc.text or "")[:TEXT_LIMIT]) if w))


def terms(query: str) -> list[str]:
    """The query's words, folded, each Russian word as its stem; a phone number in any
    format becomes its digits (8 7xx … → 7 7xx …, as the journal keeps numbers in E.164)."""
    query = query.strip()
    if _PHONE_LIKE.match(query):
        digits = _NOT_DIGIT.sub("", query)
        if len(digits) == 11 and digits.startswith("8"):
            digits = "7" + digits[1:]
        return [digits]
    return [word_stem(t) for t in fold(query).split() if t]


def word_stem(word: str) -> str:
    """A folded word as the search looks for it: its stem when that is a long enough
    beginning of the word itself, else the word."""
    if len(word) < MIN_STEM or not _RUSSIAN_WORD.fullmatch(word):
        return word
    s = fold(stem(word))
    return s if len(s) >= MIN_STEM and word.startswith(s) else word


# SQLite's FTS5 trigram index of `document.search` (migration 0011)
FTS = sa.table("document_fts", sa.column("rowid"), sa.column("search"))
# a trigram index finds only terms of at least this many characters
TRIGRAM = 3


def matches(query: str, dialect: str = "postgresql", *, indexed: bool = True) -> sa.ColumnElement[bool]:
    """Documents whose searchable text holds every word of `query`.

    Terms of three characters or more are looked up in the trigram index:
    PostgreSQL's pg_trgm answers their LIKE, SQLite's FTS5 table a phrase of
    them (all in one MATCH; a phrase of trigrams is exactly a substring, and
    it reads only the index, where FTS5's LIKE re-reads every row it finds).
    Shorter ones, a house number or an initial, have no trigram: they are
    tested on the rows the others found (on PostgreSQL by strpos, which the
    planner cannot mistake for an index condition). `indexed=False` tests
    every term on the row, for a walk over a few rows (`web.cases`).
    """
    words = terms(query)
    long = [t for t in words if len(t) >= TRIGRAM] if indexed else []
    conds: list[sa.ColumnElement[bool]] = []
    match = fts_match(query) if long and dialect == "sqlite" else None
    if match is not None:
        conds.append(col(Document.id).in_(sa.select(FTS.c.rowid).where(match)))
    elif long:
        conds += [col(Document.search).contains(t, autoescape=True) for t in long]
    find = sa.func.strpos if dialect == "postgresql" else sa.func.instr
    conds += [find(col(Document.search), t) > 0 for t in words if t not in long]
    return sa.and_(sa.true(), *conds)


def fts_match(query: str) -> sa.ColumnElement[bool] | None:
    """SQLite's FTS5 condition for the terms of `query` the trigram index can find
    (None when none can): the rows of `FTS` holding each as a phrase."""
    long = [t for t in terms(query) if len(t) >= TRIGRAM]
    if not long:
        return None
    return FTS.c.search.match(" ".join('"' + t.replace('"', '""') + '"' for t in long))


@dataclass(frozen=True)
class Filter:
    """What the journal screen, the API and `journal list` narrow cases by."""

    q: str = ""
    journal: str | None = None
    year: int | None = None
    kind: str | None = None
    channel: str | None = None
    unit: str | None = None
    state: str | None = None
    stage: str | None = None
    executor: str | None = None  # an e-mail address of the current resolution
    overdue: bool = False
    needs_review: bool = False
    since: dt.date | None = None  # registered on or after (Kazakhstan's date)
    until: dt.date | None = None  # registered on or before
    # open cases due in [due_from, due_by] (either end may be left open): a closed case is
    # due nowhere, so either one narrows to open cases (the dashboard's "due this week")
    due_from: dt.date | None = None
    due_by: dt.date | None = None
    numbers: tuple[str, ...] = ()  # exactly these cases (a dashboard's short list)
    register: str | None = None  # entries of this monitoring register (2.4)
    # open cases with a forward of their resolution in force sent before this and not
    # proven yet (no DSN, MDN or reply): the weekly report's "without proof"
    unproven_before: dt.datetime | None = None


def where(
    f: Filter, *, today: dt.date, tz: dt.tzinfo, dialect: str = "postgresql", indexed: bool = True
) -> list[sa.ColumnElement[bool]]:
    """The conditions of `f` on Document (`indexed`: as `matches`)."""
    conds: list[sa.ColumnElement[bool]] = []
    if f.q.strip():
        conds.append(matches(f.q, dialect, indexed=indexed))
    for value, column in (
        (f.journal, Document.journal),
        (f.year, Document.year),
        (f.kind, Document.kind),
        (f.channel, Document.channel),
        (f.unit, Document.origin_unit),
        (f.state, Document.status),
        (f.stage, Document.stage),
    ):
        if value not in (None, ""):
            conds.append(col(column) == value)
    if f.executor:
        conds.append(_assigned(frozenset({f.executor.lower()})))
    if f.overdue:
        conds += [is_open(), col(Document.due_date) < today]
    if f.needs_review:
        conds.append(col(Document.needs_review) != "[]")
    if f.due_from or f.due_by:
        conds.append(is_open())
    if f.due_from:
        conds.append(col(Document.due_date) >= f.due_from)
    if f.due_by:
        conds.append(col(Document.due_date) <= f.due_by)
    if f.numbers:
        conds.append(col(Document.number).in_(sorted(set(f.numbers))))
    if f.register:
        conds.append(
            sa.exists(
                select(Monitoring.id).where(
                    col(Monitoring.document_id) == col(Document.id),
                    col(Monitoring.register_key) == f.register,
                )
            )
        )
    if f.unproven_before:
        conds += [is_open(), unproven(f.unproven_before)]
    if f.since:
        conds.append(col(Document.registered_at) >= dt.datetime.combine(f.since, dt.time(), tz))
    if f.until:
        conds.append(
            col(Document.registered_at) < dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), tz)
        )
    return conds


def unproven(cutoff: dt.datetime) -> sa.ColumnElement[bool]:
    """Documents with a forward (of the resolution in force, or of none) sent before
    `cutoff` that no report has proven: no DSN delivered, no MDN, no reply."""
    return sa.exists(
        select(Delivery.id)
        .outerjoin(Resolution, col(Resolution.id) == col(Delivery.resolution_id))
        .where(
            col(Delivery.document_id) == col(Document.id),
            col(Delivery.delivered_at).is_(None),
            col(Delivery.displayed_at).is_(None),
            col(Delivery.replied_at).is_(None),
            col(Delivery.created_at) <= cutoff,
            sa.or_(col(Delivery.resolution_id).is_(None), IS_CURRENT),
        )
    )


def visible_to(addresses: frozenset[str]) -> sa.ColumnElement[bool]:
    """Cases whose current resolution names one of `addresses` (a person's "own" cases)."""
    return _assigned(addresses)


def _assigned(addresses: frozenset[str]) -> sa.ColumnElement[bool]:
    return sa.exists(
        select(Assignment.id)
        .join(Resolution, col(Resolution.id) == col(Assignment.resolution_id))
        .where(
            col(Assignment.document_id) == col(Document.id),
            IS_CURRENT,
            col(Assignment.email).in_(sorted(addresses)),
        )
    )
