"""What the rest of mailflow asks about a case, each answered in one place.

- `consumer_name`: how a document's applicant is shown (talon, mails, lists, reports);
- `current_resolution` / `current_resolutions`: the resolution in force and its
  addressees, the first responsible (3.3); `IS_CURRENT` for queries that join it;
- `team`: who is executor, co-executor, unit head, lawyer, management for a case;
- `is_open`: the open-cases predicate, as the partial indexes are written;
- `case_version`: the last event of a case, to refuse a change made on a stale view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from .. import db
from ..models import Assignment, Document, Event, Resolution
from ..rules import Rules
from ..vocabulary import LEGAL, LEGAL_ENTITY, UNIT_HEAD
from .states import OPEN


class _Named(Protocol):
    @property
    def last_name(self) -> str | None: ...
    @property
    def first_name(self) -> str | None: ...
    @property
    def patronymic(self) -> str | None: ...
    @property
    def org_name(self) -> str | None: ...


def consumer_name(c: _Named, group: int | None = None) -> str | None:
    """The applicant as people read it: a legal entity by its name, a person by
    surname, name and patronymic; None when neither is known. `group`
    defaults to the object's own `grp` (a Document) when it has one."""
    group = group if group is not None else getattr(c, "grp", None)
    person = " ".join(x for x in (c.last_name, c.first_name, c.patronymic) if x)
    if group == LEGAL_ENTITY and c.org_name:
        return c.org_name
    return person or c.org_name or None


IS_CURRENT = col(Resolution.current) == sa.true()


def case_version(s: Session, document_id: int) -> int:
    """The case's version: its last event's id (0 before any), which every change moves on."""
    last = s.exec(select(sa.func.max(Event.id)).where(Event.document_id == document_id)).one()
    return int(last or 0)


def current_resolution(s: Session, document_id: int) -> tuple[Resolution | None, list[Assignment]]:
    """The resolution in force (a later correction supersedes the earlier) and its addressees."""
    res = s.exec(select(Resolution).where(Resolution.document_id == document_id, IS_CURRENT)).first()
    if res is None:
        return None, []
    people = s.exec(
        select(Assignment).where(Assignment.resolution_id == res.id).order_by(col(Assignment.position))
    ).all()
    return res, list(people)


class Addressee(NamedTuple):
    email: str
    name: str


class Current(NamedTuple):
    """What the sweeps need of a case's resolution in force: its text and addressees."""

    text: str
    addressees: tuple[Addressee, ...]  # the first responsible first (3.3)


def current_resolutions(s: Session, ids: Sequence[int]) -> dict[int, Current]:
    """The resolution in force of many documents, in two queries of plain columns.

    A first sweep reads thousands: ORM objects would cost more than the reading,
    and so would an object per addressee per case that the planning keeps alive
    (the garbage collector walks them all), so each person and each team is one
    object shared by their cases."""
    if not ids:
        return {}
    res = {
        r.id: (r.document_id, r.text)
        for r in s.execute(
            sa.select(col(Resolution.id), col(Resolution.document_id), col(Resolution.text)).where(
                db.among(s, col(Resolution.document_id), ids), IS_CURRENT
            )
        )
    }
    people: dict[int, list[Addressee]] = {}
    one: dict[tuple[str, str], Addressee] = {}
    teams: dict[tuple[Addressee, ...], tuple[Addressee, ...]] = {}
    if res:
        for a in s.execute(
            sa.select(col(Assignment.resolution_id), col(Assignment.email), col(Assignment.name))
            .where(db.among(s, col(Assignment.resolution_id), list(res)))
            .order_by(col(Assignment.resolution_id), col(Assignment.position))
        ):
            who = one.setdefault((a.email, a.name), Addressee(a.email, a.name))
            people.setdefault(a.resolution_id, []).append(who)
    out = {}
    for rid, (doc, text) in res.items():
        team = tuple(people.get(rid, ()))
        out[doc] = Current(text, teams.setdefault(team, team))
    return out


def is_open() -> sa.ColumnElement[bool]:
    """Open cases (states.OPEN), the values written into the SQL as the partial
    indexes' predicate (models.OPEN_SQL) is, so generic plans use them too."""
    values = sorted(s.value for s in OPEN)
    return col(Document.status).in_(
        sa.bindparam("open_states", values, unique=True, expanding=True, literal_execute=True)
    )


@dataclass(frozen=True)
class Team:
    """Who is who for one case."""

    executor: str  # the first in the resolution: holds the case (3.3)
    co_executors: tuple[str, ...]
    unit_head: tuple[str, ...]  # the executor's unit head; management when there is none
    legal: tuple[str, ...]
    management: tuple[str, ...]
    clerks: tuple[str, ...] = ()  # of the case's journal: they send the answer (3.7) and file its copy (3.8)

    def of(self, holder: str) -> tuple[str, ...]:
        """The addresses of a holder named as rules/answer.toml names them (vocabulary.HOLDERS)."""
        return {
            "executor": (self.executor,),
            "unit_head": self.unit_head,
            "legal": self.legal,
            "management": self.management,
            "clerk": self.clerks,
        }.get(holder, ())

    @property
    def everyone(self) -> frozenset[str]:
        return frozenset(
            {self.executor, *self.co_executors, *self.unit_head, *self.legal, *self.management, *self.clerks}
        )


def management(rules: Rules, journal: str | None = None) -> tuple[str, ...]:
    """The management of the organisation keeping `journal` (2.6; `Rules.management`)."""
    return rules.management(journal)


class _Addressed(Protocol):
    """An assignment row or an addressee: what `team` reads of each."""

    @property
    def email(self) -> str: ...


def team(rules: Rules, assignments: Sequence[_Addressed], journal: str | None = None) -> Team:
    """Who is who for a case resolved to `assignments`, kept in `journal`."""
    first = assignments[0].email
    executor = rules.staff.by_email(first)
    heads = tuple(
        p.email
        for p in rules.staff.with_role(UNIT_HEAD)
        if executor and p.unit == executor.unit and p.email != first
    )
    mgmt = management(rules, journal)
    return Team(
        first,
        tuple(a.email for a in assignments[1:]),
        heads or mgmt,
        tuple(p.email for p in rules.staff.with_role(LEGAL)),
        mgmt,
        rules.clerks(journal),
    )
