"""A reply to mailflow's own message ("спасибо" to a talon) with no new
document is not a new appeal; a new scan in the thread is."""

from __future__ import annotations

from ...values import Disposition
from ..message import Journal, Message

NAME = "reply_to_our_mail"
DISPOSITION = Disposition.REVIEW


def check(m: Message, journal: Journal) -> str | None:
    if m.scans or not journal.answers_our_mail(m.parsed):
        return None
    return "a reply to mailflow's own message, no new document"
