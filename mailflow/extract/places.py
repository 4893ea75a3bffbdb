"""The districts (аудандар) of North Kazakhstan Region, the region the company
serves, as Kazakh writes them: a Kazakh address names one before «ауданы».
The page's model reads their Kazakh letters as Russian look-alikes sure of it
(«Аккайын ауданы» for «Аққайың ауданы»), and every reading repeats it; the
list says which spelling a look-alike reading stands for."""

from __future__ import annotations

import re

from .text import CYR, kazakh_variant

DISTRICTS = (
    "Айыртау",
    "Аққайың",
    "Ақжар",
    "Есіл",
    "Жамбыл",
    "Қызылжар",
    "Мағжан Жұмабаев",
    "Ғабит Мүсірепов",
    "Тайынша",
    "Тимирязев",
    "Уәлиханов",
    "Шал ақын",
    "Мамлют",
)

_BEFORE_AUDANY = re.compile(rf"(?<![{CYR}])([{CYR}]+(?: [{CYR}]+)?)(?= ауданы(?![{CYR}]))")


def _district(words: str) -> str:
    """`words` (one or two) as the district they spell with look-alikes, or unchanged."""
    for d in DISTRICTS:
        n = len(d.split())
        tail = " ".join(words.split()[-n:])
        if len(words.split()) >= n and kazakh_variant(tail, d):
            head = words.split()[:-n]
            return " ".join(head + [d])
    return words


def district_spelling(address: str) -> str:
    """The address with the district before «ауданы» spelled as the list spells it,
    where it was read with Russian look-alikes of its Kazakh letters."""
    return _BEFORE_AUDANY.sub(lambda m: _district(m.group(1)), address)
