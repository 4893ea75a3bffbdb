"""Small text helpers shared by the field readers: tokens, look-alikes, labels."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CYR_UP = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯӘҒҚҢӨҰҮҺІ"
CYR_LO = CYR_UP.lower()
CYR = CYR_UP + CYR_LO

# Latin letters that OCR puts into Cyrillic words (and the reverse).
LAT2CYR = str.maketrans({
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О",
    "P": "Р", "T": "Т", "X": "Х", "Y": "У", "a": "а", "c": "с", "e": "е", "o": "о",
    "p": "р", "x": "х", "y": "у", "k": "к", "i": "і", "I": "І",
})
CYR2LAT = str.maketrans({
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Т": "T", "Х": "X", "У": "Y", "а": "a", "с": "c", "е": "e", "о": "o",
    "р": "p", "х": "x", "у": "y", "к": "k", "і": "i", "І": "I", "т": "m",
})


@dataclass
class Tok:
    """A word as read: its text, how sure the reader was (0..1), where it sits."""

    text: str
    conf: float
    line: int
    block: int = 0
    latin: tuple[str, float] | None = None  # a second reading with the English model


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def is_cyr_word(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return bool(letters) and sum(c in CYR for c in letters) >= len(letters) / 2


def fix_lookalikes(s: str) -> str:
    """Latin look-alike letters inside a mostly Cyrillic word become Cyrillic."""
    if is_cyr_word(s):
        return s.translate(LAT2CYR)
    return s


def body_tokens(text: str, line0: int = 0, conf: float = 1.0) -> list[Tok]:
    """Typed text (an e-mail body) as tokens, each sure."""
    toks: list[Tok] = []
    block = 0
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            block += 1
            continue
        for w in line.split():
            toks.append(Tok(w, conf, line0 + i, block))
    return toks


def split_glued(toks: list[Tok]) -> list[Tok]:
    """'потребителяИванова' -> 'потребителя', 'Иванова' (OCR lost the space)."""
    out: list[Tok] = []
    for t in toks:
        m = re.match(rf"^([{CYR_LO}]{{4,}}[.:]?)([{CYR_UP}][{CYR_LO}]+.*)$", t.text)
        if m:
            out.append(Tok(m.group(1), t.conf, t.line, t.block))
            out.append(Tok(m.group(2), t.conf, t.line, t.block))
        else:
            out.append(t)
    return out


def lines_of(toks: list[Tok]) -> list[list[Tok]]:
    lines: list[list[Tok]] = []
    for t in toks:
        if lines and lines[-1][0].line == t.line:
            lines[-1].append(t)
        else:
            lines.append([t])
    return lines


def join(toks: list[Tok]) -> str:
    return " ".join(t.text for t in toks)


def min_conf(toks: list[Tok]) -> float:
    return min((t.conf for t in toks), default=0.0)


def levenshtein(a: str, b: str, limit: int = 3) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def squash(s: str) -> str:
    """Lower-case letters and digits only, look-alikes folded: for fuzzy compares."""
    s = fix_lookalikes(s).lower().replace("ё", "е")
    return "".join(c for c in s if c.isalnum())
