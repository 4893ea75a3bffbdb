"""Who may see and do what at the workplace: rules/access.toml, by role.

A person's rights are the union of their roles' rows. `see = "all"` shows
every case; `see = "own"` only the cases where the person is on the case's
team (executor, co-executor, the responsible executor's unit head, the
lawyer), answered by case.queries. A role missing from the file may not
sign in at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import rules_schema
from .config import ConfigError, read_model
from .vocabulary import ROLES

# Everything a right can name; the services and the web check these words.
ACTIONS: frozenset[str] = frozenset(
    {
        "correct",  # fields, kind, group of a registered document
        "resolve",  # a paper resolution
        "extend",  # the term (АППК art. 76 p. 2)
        "close",  # record dispatch, attach the copy
        "handover",  # originals handed over (1.13)
        "redirect",  # outside competence (АППК art. 76)
        "anonymous",  # decide on an appeal flagged as anonymous
        "repeat",  # link a repeated appeal to its first case, or undo it
        "talon",  # print a talon for an applicant without e-mail
        "queues",  # review, quarantine, outbox, unmatched receipts
        "registers",  # monitoring registers (2.4)
        "report",  # the weekly report
    }
)
SEE = ("all", "own")
MAX_TOKEN_DAYS = 730  # a key nobody renews for two years is a key nobody watches
# Rights that show every case's numbers, not one person's cases (the clerk's queues,
# the monitoring registers, the weekly report and the dashboard's part built from it): a
# role that sees only its own cases may not hold them.
ALL_CASES: frozenset[str] = frozenset({"queues", "registers", "report"})


@dataclass(frozen=True)
class Rights:
    see_all: bool
    may: frozenset[str]


@dataclass(frozen=True)
class Access:
    roles: dict[str, Rights]
    link_minutes: int
    session_hours: int
    token_days: int = 90  # an API token works this long after it is made

    def rights(self, roles: frozenset[str]) -> Rights | None:
        """The union of `roles`' rights; None when none of them may sign in."""
        mine = [self.roles[r] for r in roles if r in self.roles]
        if not mine:
            return None
        return Rights(any(r.see_all for r in mine), frozenset().union(*(r.may for r in mine)))


def load(path: Path) -> Access:
    if not path.exists():
        return Access({}, 15, 8)  # no workplace: nobody signs in
    data = read_model(path, rules_schema.AccessFile)
    if not data.role:
        raise ConfigError(path, "role", "must be a table of roles ([role.clerk] …)")
    roles: dict[str, Rights] = {}
    for role, row in data.role.items():
        where = f"role.{role}"
        if role not in ROLES:
            raise ConfigError(path, where, f"unknown role; known: {', '.join(sorted(ROLES))}")
        if row.see not in SEE:
            raise ConfigError(path, f"{where}.see", 'must be "all" or "own"')
        bad = [a for a in row.may if a not in ACTIONS]
        if bad:
            raise ConfigError(
                path, f"{where}.may", f"unknown action {bad[0]!r}; known: {', '.join(sorted(ACTIONS))}"
            )
        wide = sorted(ALL_CASES & set(row.may)) if row.see == "own" else []
        if wide:
            raise ConfigError(
                path,
                f"{where}.may",
                f"{wide[0]!r} shows every case's figures: a role that sees its own cases "
                '(see = "own") may not have it',
            )
        roles[role] = Rights(row.see == "all", frozenset(row.may))
    minutes, hours = data.sign_in.link_minutes, data.sign_in.session_hours
    days = data.api_tokens.days
    for key, v, top in (
        ("sign_in.link_minutes", minutes, 60),
        ("sign_in.session_hours", hours, 24 * 7),
        ("api_tokens.days", days, MAX_TOKEN_DAYS),
    ):
        if not 1 <= v <= top:
            raise ConfigError(path, key, f"must be a whole number from 1 to {top}")
    return Access(roles, minutes, hours, days)
