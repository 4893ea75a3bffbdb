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

from .config import ConfigError, read_toml
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
# Rights that show every case's numbers, not one person's cases (the clerk's queues,
# the monitoring registers, the weekly report and the dashboard built from it): a
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

    def rights(self, roles: frozenset[str]) -> Rights | None:
        """The union of `roles`' rights; None when none of them may sign in."""
        mine = [self.roles[r] for r in roles if r in self.roles]
        if not mine:
            return None
        return Rights(any(r.see_all for r in mine), frozenset().union(*(r.may for r in mine)))


def load(path: Path) -> Access:
    if not path.exists():
        return Access({}, 15, 8)  # no workplace: nobody signs in
    data = read_toml(path)
    table = data.get("role", {})
    if not isinstance(table, dict) or not table:
        raise ConfigError(path, "role", "must be a table of roles ([role.clerk] …)")
    roles: dict[str, Rights] = {}
    for role, row in table.items():
        where = f"role.{role}"
        if role not in ROLES:
            raise ConfigError(path, where, f"unknown role; known: {', '.join(sorted(ROLES))}")
        if not isinstance(row, dict):
            raise ConfigError(path, where, "must be a table")
        unknown = set(row) - {"see", "may"}
        if unknown:
            raise ConfigError(path, f"{where}.{sorted(unknown)[0]}", "unknown key; known: see, may")
        see = row.get("see")
        if see not in SEE:
            raise ConfigError(path, f"{where}.see", 'must be "all" or "own"')
        may = row.get("may", [])
        if not isinstance(may, list) or not all(isinstance(a, str) for a in may):
            raise ConfigError(path, f"{where}.may", "must be a list of actions")
        bad = [a for a in may if a not in ACTIONS]
        if bad:
            raise ConfigError(
                path, f"{where}.may", f"unknown action {bad[0]!r}; known: {', '.join(sorted(ACTIONS))}"
            )
        wide = sorted(ALL_CASES & set(may)) if see == "own" else []
        if wide:
            raise ConfigError(
                path,
                f"{where}.may",
                f"{wide[0]!r} shows every case's figures: a role that sees its own cases "
                '(see = "own") may not have it',
            )
        roles[role] = Rights(see == "all", frozenset(may))
    sign_in = data.get("sign_in", {})
    if not isinstance(sign_in, dict):
        raise ConfigError(path, "sign_in", "must be a table")
    minutes, hours = sign_in.get("link_minutes", 15), sign_in.get("session_hours", 8)
    for key, v, top in (("link_minutes", minutes, 60), ("session_hours", hours, 24 * 7)):
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= top:
            raise ConfigError(path, f"sign_in.{key}", f"must be a whole number from 1 to {top}")
    return Access(roles, minutes, hours)
