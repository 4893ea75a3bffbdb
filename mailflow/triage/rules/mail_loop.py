"""A message that went round too many servers: a mail loop."""

from __future__ import annotations

from ...values import Disposition
from ..message import Journal, Message

NAME = "mail_loop"
DISPOSITION = Disposition.LOOP


def check(m: Message, journal: Journal) -> str | None:
    n = m.parsed.received_count
    return f"{n} Received headers: a mail loop" if n > m.rules.max_received_headers else None
