"""An appeal written in the message itself: the words that name a kind of
appeal (vocabulary.KINDS, Russian and Kazakh) or ask for something."""

from __future__ import annotations

import re

from ...values import Disposition
from ...vocabulary import KINDS
from ..message import Journal, Message

NAME = "appeal_words"
DISPOSITION = Disposition.APPEAL

_WORDS = re.compile(
    "|".join([*(s for k in KINDS for s in (*k.stems, *k.kazakh)), "прошу", "просим", r"исх\.?\s*№"]), re.I
)


def check(m: Message, journal: Journal) -> str | None:
    found = _WORDS.search(f"{m.parsed.subject}\n{m.parsed.body_text[:5000]}")
    return f"an appeal written in the message («{found.group(0)}»)" if found else None
