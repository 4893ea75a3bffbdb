"""No readable sender address: nobody to answer, the clerk reads it."""

from __future__ import annotations

from ...values import Disposition
from ..message import Journal, Message

NAME = "no_sender"
DISPOSITION = Disposition.REVIEW


def check(m: Message, journal: Journal) -> str | None:
    return None if m.parsed.from_addr else "no readable sender address"
