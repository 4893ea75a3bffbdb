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
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ..models import Assignment, Document, Event, Resolution
from ..rules import Rules
from ..vocabulary import LEGAL, LEGAL_ENTITY, UNIT_HEAD
from .states import OPEN


class _Named(Protocol):
    last_name: str | None
    first_name: str | None
    patronymic: str | None
    org_name: str | None


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


def current_resolutions(s: Session, ids: Sequence[int]) -> dict[int, tuple[Resolution, list[Assignment]]]:
    """`current_resolution` of many documents in two queries."""
    if not ids:
        return {}
    res = {
        r.document_id: r
        for r in s.exec(select(Resolution).where(col(Resolution.document_id).in_(list(ids)), IS_CURRENT))
    }
    people: dict[int, list[Assignment]] = {}
    if res:
        for a in s.exec(
            select(Assignment)
            .where(col(Assignment.resolution_id).in_([r.id for r in res.values()]))
            .order_by(col(Assignment.position))
        ):
            people.setdefault(a.document_id, []).append(a)
    return {d: (r, people.get(d, [])) for d, r in res.items()}


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


def management(rules: Rules) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(p.email for p in rules.staff.people if p.roles & rules.routing.management_roles)
    )


def team(rules: Rules, assignments: Sequence[Assignment], journal: str | None = None) -> Team:
    """Who is who for a case resolved to `assignments`, kept in `journal`."""
    first = assignments[0].email
    executor = rules.staff.by_email(first)
    heads = tuple(
        p.email
        for p in rules.staff.with_role(UNIT_HEAD)
        if executor and p.unit == executor.unit and p.email != first
    )
    mgmt = management(rules)
    return Team(
        first,
        tuple(a.email for a in assignments[1:]),
        heads or mgmt,
        tuple(p.email for p in rules.staff.with_role(LEGAL)),
        mgmt,
        rules.clerks(journal),
    )
