"""Staff who do not bring appeals, writing something that is not a reply
mailflow understands: the clerk reads it."""

from __future__ import annotations

from ...values import Disposition
from ..message import Journal, Message

NAME = "other_staff"
DISPOSITION = Disposition.REVIEW


def check(m: Message, journal: Journal) -> str | None:
    if m.sender is None:
        return None
    return f"from staff ({', '.join(sorted(m.sender.roles))}) but not a reply mailflow understands"
