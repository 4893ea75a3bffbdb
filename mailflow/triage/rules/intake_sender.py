"""Mail from a district chief, the clerk, the website form or the contact
centre is an appeal to register (1.1, 1.9, 2.2)."""

from __future__ import annotations

from ...values import Disposition
from ...vocabulary import INTAKE_ROLES
from ..message import Journal, Message

NAME = "intake_sender"
DISPOSITION = Disposition.APPEAL


def check(m: Message, journal: Journal) -> str | None:
    roles = m.sender.roles & INTAKE_ROLES if m.sender else frozenset()
    return f"from {', '.join(sorted(roles))}" if roles else None
