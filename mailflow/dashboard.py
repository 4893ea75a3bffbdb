"""The managers' dashboard: what is late or due now, by executor and by unit,
the current week's report (`digest`) and the monitoring registers (2.4).

Pure reads, aggregated in SQL (GROUP BY over the open cases' partial indexes);
every count comes with the journal filter (`case.search.Filter`) that lists
exactly the cases it counts, so the screen links each number to them.

- Overdue: open cases due before today (Kazakhstan's date), as the journal's
  "overdue" filter. Due this week: open cases due from today to Sunday.
- By executor: every addressee of the resolution in force (responsible or
  co-executor), as the journal's executor filter finds them, so a case with
  two executors counts under both; cases without a resolution are counted
  apart (`unassigned_*`).
- By unit: the document's unit (`origin_unit`, the journal's unit filter).
- Book breaches and deliveries without proof: the current week's report.
- Scope: a person who sees only their own cases (executor, unit head, lawyer)
  gets the same board over those cases alone, without the report and the
  registers; the journal's links list the same cases, as it is scoped alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col

from . import digest
from .case.queries import IS_CURRENT, is_open
from .case.search import Filter, unproven
from .models import Assignment, Document, Monitoring, Resolution
from .rules import Rules
from .values import KZ_TZ

REPORT_ROWS = 50  # rows of each list of the report shown on the page (the XLSX has them all)


@dataclass(frozen=True)
class Line:
    """One executor's or unit's open cases: overdue and due this week."""

    key: str | None  # the address or the unit; None: no unit
    label: str
    overdue: int
    due_week: int
    overdue_filter: Filter | None  # None: the journal cannot name these cases
    due_filter: Filter | None


@dataclass(frozen=True)
class Register:
    key: str
    title: str
    year: int
    entries: int
    last: str | None  # the last number given ("17/2026")
    filter: Filter


@dataclass(frozen=True)
class Dashboard:
    today: dt.date
    week_end: dt.date  # Sunday
    overdue: int
    due_week: int
    overdue_filter: Filter
    due_filter: Filter
    by_executor: tuple[Line, ...]
    by_unit: tuple[Line, ...]
    unassigned_overdue: int  # open cases without a resolution in force
    unassigned_due_week: int
    report: digest.WeeklyReport | None  # None: not the person's to see
    week_filter: Filter  # the week's new documents
    book_filter: Filter | None  # None: no breach (an empty list of numbers would list everything)
    unproven_filter: Filter
    unproven_cases: int  # the open cases those deliveries are of (what the filter lists)
    registers: tuple[Register, ...]  # empty: not the person's to see
    own: bool = False  # counts only the cases of the person's scope


def build(
    s: Session,
    rules: Rules,
    now: dt.datetime,
    *,
    report: bool = True,
    registers: bool = True,
    scope: Sequence[sa.ColumnElement[bool]] = (),
) -> Dashboard:
    """The dashboard at `now` (aware); the report's and the registers' parts only when
    asked; `scope`: conditions on Document narrowing every count to a person's cases."""
    if scope:  # the week's report and the registers are the whole organisation's
        report = registers = False
    today = now.astimezone(KZ_TZ).date()
    week = digest.Week.of(today)
    week_end = week.end
    late = sa.and_(is_open(), col(Document.due_date) < today)
    soon = sa.and_(is_open(), col(Document.due_date) >= today, col(Document.due_date) <= week_end)

    # late or soon, in one range the open cases' partial index on due_date answers
    either = sa.and_(is_open(), col(Document.due_date) <= week_end, *scope)

    def counted(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        """Documents meeting `cond` (distinct: a person twice on one resolution counts once)."""
        return sa.func.count(sa.distinct(sa.case((cond, col(Document.id)))))

    def summed(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        """Rows meeting `cond`, where each document is one row."""
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    overdue, due_week = s.execute(
        sa.select(summed(late), summed(soon)).select_from(Document).where(either)
    ).one()
    assigned = (
        sa.select(col(Assignment.email), counted(late), counted(soon))
        .select_from(Document)
        .join(Assignment, col(Assignment.document_id) == col(Document.id))
        .join(Resolution, col(Resolution.id) == col(Assignment.resolution_id))
        .where(either, IS_CURRENT)
        .group_by(col(Assignment.email))
    )
    by_executor = []
    for email, n_late, n_soon in s.execute(assigned).all():
        person = rules.staff.by_email(email)
        by_executor.append(
            Line(
                email,
                f"{person.name} ({person.unit})"
                if person and person.unit
                else person.name
                if person
                else email,
                int(n_late),
                int(n_soon),
                Filter(executor=email, overdue=True),
                Filter(executor=email, due_from=today, due_by=week_end),
            )
        )
    has_resolution = sa.exists(
        sa.select(Resolution.id).where(col(Resolution.document_id) == col(Document.id), IS_CURRENT)
    )
    n_late_free, n_soon_free = s.execute(
        sa.select(counted(late), counted(soon))
        .select_from(Document)
        .where(sa.or_(late, soon), ~has_resolution, *scope)
    ).one()
    units = (
        sa.select(col(Document.origin_unit), summed(late), summed(soon))
        .select_from(Document)
        .where(either)
        .group_by(col(Document.origin_unit))
    )
    by_unit = [
        Line(
            unit,
            unit or digest.NO_UNIT,
            int(n_late),
            int(n_soon),
            Filter(unit=unit, overdue=True) if unit else None,
            Filter(unit=unit, due_from=today, due_by=week_end) if unit else None,
        )
        for unit, n_late, n_soon in s.execute(units).all()
    ]
    weekly = digest.build(s, rules, week, now, limit=REPORT_ROWS) if report else None
    cutoff = now - dt.timedelta(hours=rules.routing.unproven_after_hours)
    unproven_cases = (
        s.execute(
            sa.select(sa.func.count()).select_from(Document).where(is_open(), unproven(cutoff), *scope)
        ).scalar_one()
        if report
        else 0
    )
    return Dashboard(
        today=today,
        week_end=week_end,
        overdue=int(overdue or 0),
        due_week=int(due_week or 0),
        overdue_filter=Filter(overdue=True),
        due_filter=Filter(due_from=today, due_by=week_end),
        by_executor=tuple(sorted(by_executor, key=lambda x: (-x.overdue, -x.due_week, x.label))),
        by_unit=tuple(sorted(by_unit, key=lambda x: (-x.overdue, -x.due_week, x.label))),
        unassigned_overdue=int(n_late_free or 0),
        unassigned_due_week=int(n_soon_free or 0),
        report=weekly,
        week_filter=Filter(since=week.start, until=week_end),
        book_filter=(
            Filter(numbers=tuple(b.number for b in weekly.book_breaches))
            if weekly and weekly.book_breaches
            else None
        ),
        unproven_filter=Filter(unproven_before=cutoff),
        unproven_cases=int(unproven_cases),
        registers=_registers(s, rules, today.year) if registers else (),
        own=bool(scope),
    )


def _registers(s: Session, rules: Rules, this_year: int) -> tuple[Register, ...]:
    """Each register's entries by year, newest year first, with the last number given."""
    titles = {r.key: r.title for r in rules.routing.registers}
    rows = s.execute(
        sa.select(
            col(Monitoring.register_key), col(Monitoring.year), sa.func.count(), sa.func.max(Monitoring.seq)
        )
        .group_by(col(Monitoring.register_key), col(Monitoring.year))
        .order_by(col(Monitoring.register_key), col(Monitoring.year).desc())
    ).all()
    out = [
        Register(
            key,
            titles.get(key, key),
            int(year),
            int(n),
            f"{last}/{year}" if last else None,
            Filter(register=key, year=int(year)),
        )
        for key, year, n, last in rows
    ]
    seen = {r.key for r in out}
    out += [  # a register with no entry yet still shows, with its zero
        Register(r.key, r.title, this_year, 0, None, Filter(register=r.key, year=this_year))
        for r in rules.routing.registers
        if r.key not in seen
    ]
    return tuple(out)
