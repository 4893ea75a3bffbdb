"""Letters, keys and the morphological analyser shared by the parsers.

A *key* is how two spellings of one word are compared: lower case, ё as е,
the Kazakh letters as the Russian ones a phone without a Kazakh keyboard
types instead (Нұрлан = Нурлан), and Latin look-alikes inside a Cyrillic
word as Cyrillic (a Latin "А" typed into "Aхметов").
"""

from __future__ import annotations

from functools import lru_cache

from ..morphology import analyzer

CYR_LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі"
CYR = CYR_LOWER + CYR_LOWER.upper()
LETTERS = CYR + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

_KAZ = str.maketrans("ёәғқңөұүһі", "еагкноуухи")
_LATIN_LOOKALIKES = str.maketrans("aceopxykmtbh", "асеорхукмтвн")

NAME_TAGS = frozenset({"Surn", "Name", "Patr"})


def key(word: str) -> str:
    w = word.lower()
    if any(c in CYR_LOWER for c in w):
        w = w.translate(_LATIN_LOOKALIKES)
    return w.translate(_KAZ)


def letter_key(letter: str) -> str:
    """One initial: Latin look-alikes count as Cyrillic (phones switch layouts)."""
    return letter.lower().translate(_LATIN_LOOKALIKES).translate(_KAZ)


@lru_cache(maxsize=20000)
def parses(word: str) -> tuple:
    return tuple(analyzer().parse(key(word)))


@lru_cache(maxsize=20000)
def lemmas(word: str) -> frozenset[str]:
    """The word's own key and every normal form the analyser offers."""
    k = key(word)
    return frozenset({k} | {key(p.normal_form) for p in parses(word)})


@lru_cache(maxsize=20000)
def name_score(word: str) -> float:
    """How much of the analyser's belief says 'a personal name' (0..1)."""
    return sum(p.score for p in parses(word) if NAME_TAGS & p.tag.grammemes)


@lru_cache(maxsize=20000)
def is_known(word: str) -> bool:
    return analyzer().word_is_known(key(word))


def has_case(word: str, cases: set[str]) -> bool:
    """True when some reading of the word is in one of `cases` (pymorphy names)."""
    ps = parses(word)
    if not ps or all(p.tag.case is None for p in ps):
        return True
    return any(p.tag.case in cases for p in ps)
