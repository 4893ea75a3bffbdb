"""Who acts on a case, and in which capacities (`states.Capacity`).

A person's capacities come from the staff directory (clerk, management, unit
head) and, once a case has a resolution, from the case's team (its executor,
the executor's unit head, the lawyers, management). The state table names
capacities, never people, so one table serves e-mail, the CLI and the web.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..rules import Person, Rules
from ..vocabulary import CLERK, UNIT_HEAD
from .queries import Team
from .states import Capacity


@dataclass(frozen=True)
class Actor:
    """Who acts: an address (or "канцелярия", "mailflow") and in which capacities."""

    address: str
    capacities: frozenset[Capacity]


SYSTEM = Actor("mailflow", frozenset({Capacity.SYSTEM}))
CHANCELLERY = Actor("канцелярия", frozenset({Capacity.CLERK}))  # paper entered by the clerk


def capacities(rules: Rules, person: Person | None, team: Team | None = None) -> frozenset[Capacity]:
    if person is None:
        return frozenset()
    out: set[Capacity] = set()
    if CLERK in person.roles:
        out.add(Capacity.CLERK)
    if person.roles & rules.routing.may_resolve:
        out.add(Capacity.MANAGEMENT)
    if team is None:
        if UNIT_HEAD in person.roles:
            out.add(Capacity.UNIT_HEAD)
        return frozenset(out)
    for cap, who in (
        (Capacity.EXECUTOR, (team.executor,)),
        (Capacity.UNIT_HEAD, team.unit_head),
        (Capacity.LEGAL, team.legal),
        (Capacity.MANAGEMENT, team.management),
    ):
        if person.email in who:
            out.add(cap)
    return frozenset(out)


def actor(rules: Rules, address: str, team: Team | None = None) -> Actor:
    """The staff member at `address` as an actor (no capacities when not in the directory)."""
    person = rules.staff.by_email(address)
    return Actor(person.email if person else address, capacities(rules, person, team))
