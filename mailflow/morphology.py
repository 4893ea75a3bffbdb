"""The Russian morphological analyser (pymorphy3), one per process.

Loading its dictionaries costs ~1.5 s and ~15 MB, so every reader of words
(the resolution parser's names and cases, the journal's search) shares this
one. `stem` is the beginning all forms of a word share, which lets a
substring search find a word in any of its grammatical forms.
"""

from __future__ import annotations

import os
from functools import lru_cache

import pymorphy3

READINGS = 3  # the analyser's likeliest readings a stem must cover…
UNLIKELY = 0.1  # …leaving out those this much less likely than the first


@lru_cache(maxsize=1)
def analyzer() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    """The longest beginning shared by every form of the word's likeliest readings
    (lower case, ё kept as the dictionary spells it): «ахметовой» → «ахметов»,
    «отключения» → «отключен»; '' when the forms share none («человек», «люди»)."""
    readings = analyzer().parse(word.lower())[:READINGS]
    likely = [p for p in readings if p.score >= UNLIKELY * readings[0].score] if readings else []
    # comparatives («пожумабаевее» of an adjective reading) share no beginning with the rest
    forms = {f.word for p in likely for f in p.lexeme if "COMP" not in f.tag}
    return os.path.commonprefix(sorted(forms)) if forms else ""
