"""Statutory deadlines (regulation 3.2) from rules/deadlines.toml."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from . import rules_schema
from .config import ConfigError, read_model
from .vocabulary import KIND_KEYS
from .workdays import WorkCalendar


@dataclass(frozen=True)
class Term:
    days: int
    working: bool
    source: str


@dataclass(frozen=True)
class DeadlineRules:
    default: Term
    by_kind: dict[str, Term]
    extension_max_months: int
    extension_notice_days: int
    redirect_days: int
    older_law_until: dt.date | None
    older_law: Term | None

    def term(self, kind: str | None, registered: dt.date) -> Term:
        if self.older_law and self.older_law_until and registered < self.older_law_until:
            return self.older_law
        return self.by_kind.get(kind or "", self.default)

    def due(self, kind: str | None, registered: dt.date, cal: WorkCalendar) -> dt.date:
        """The statutory due date.

        Counting starts the day after receipt; an appeal received on a day off
        counts as received on the next working day. A calendar term that ends
        on a day off ends on the next working day.
        """
        term = self.term(kind, registered)
        start = cal.next_working_day(registered)
        if term.working:
            return cal.add_working_days(start, term.days)
        return cal.next_working_day(start + dt.timedelta(days=term.days))


def load(path: Path) -> DeadlineRules:
    data = read_model(path, rules_schema.DeadlinesFile)
    default = _term(data.default, path, "default")
    kinds = {k: _term(t, path, f"kind.{k}") for k, t in data.kind.items()}
    unknown = sorted(set(kinds) - set(KIND_KEYS))
    if unknown:  # a misspelt kind would leave its appeals on the default term
        raise ConfigError(path, f"kind.{unknown[0]}", f"unknown kind; known: {', '.join(KIND_KEYS)}")
    ext, red, old = data.extension, data.redirect, data.older_law
    return DeadlineRules(
        default,
        kinds,
        _positive(ext.max_months, path, "extension.max_months"),
        _positive(ext.notify_applicant_working_days, path, "extension.notify_applicant_working_days"),
        _positive(red.working_days, path, "redirect.working_days"),
        old.until if old else None,
        _term(old, path, "older_law") if old else None,
    )


def _term(t: rules_schema.TermTable, path: Path, where: str) -> Term:
    days = _positive(t.days, path, f"{where}.days")
    if t.count not in ("working", "calendar"):
        raise ConfigError(path, f"{where}.count", 'must be "working" or "calendar"')
    if not t.source.strip():
        raise ConfigError(path, f"{where}.source", "every term must cite its source")
    return Term(days, t.count == "working", t.source)


def _positive(v: int, path: Path, key: str) -> int:
    if v <= 0:
        raise ConfigError(path, key, "must be a positive whole number")
    return v
