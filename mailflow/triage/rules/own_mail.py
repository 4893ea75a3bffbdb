"""Our own mail came back (a loop through a forward or an alias)."""

from __future__ import annotations

from ...values import Disposition
from ..message import Journal, Message

NAME = "own_mail"
DISPOSITION = Disposition.LOOP


def check(m: Message, journal: Journal) -> str | None:
    if m.parsed.from_addr in m.own or "x-mailflow-kind" in m.parsed.header_names:
        return "our own mail came back"
    return None
