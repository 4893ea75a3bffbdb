"""Staff saying who stands in for whom (mailflow.substitutes): a message whose first
word is «ЗАМЕЩАЕТ» («ЗАМЕЩАЕТ Петров А.С. ДО 25.12.2026»), from a staff address.
A stranger's letter with that word is not this (it goes on down the chain)."""

from __future__ import annotations

from ...replies import find_word
from ...resolution_text import strip_quoted
from ...substitutes import WORDS
from ...values import Disposition
from ..message import Hit, Journal, Message

NAME = "substitute"
DISPOSITION = Disposition.REQUEST


def check(m: Message, journal: Journal) -> Hit | None:
    if m.sender is None:
        return None
    found = find_word(WORDS, m.parsed.subject, strip_quoted(m.parsed.body_text), first=True)
    return Hit(f"«{found.word}» from staff: who stands in for whom") if found else None
