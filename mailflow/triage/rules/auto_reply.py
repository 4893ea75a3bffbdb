"""Auto-replies, bulk and list mail: recorded, never answered."""

from __future__ import annotations

from ...automatic import why
from ...values import Disposition
from ..message import Journal, Message

NAME = "auto_reply"
DISPOSITION = Disposition.AUTO_REPLY


def check(m: Message, journal: Journal) -> str | None:
    return why(m.parsed)
