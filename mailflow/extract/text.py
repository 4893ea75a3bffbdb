"""Small text helpers shared by the field readers: tokens, look-alikes, labels."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CYR_UP = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯӘҒҚҢӨҰҮҺІ"
CYR_LO = CYR_UP.lower()
CYR = CYR_UP + CYR_LO
KAZAKH_LETTERS = frozenset("ӘҒҚҢӨҰҮҺІәғқңөұүһі")  # the letters Kazakh adds to the Russian alphabet

# A word only Kazakh writes in a name or an address: a patronymic in -ұлы/-қызы,
# "ауылы", "қаласы", "ауданы", "көшесі", "12 үй", "5-пәтер" (also as rus+kaz reads
# them with Russian look-alikes: "улы", "кызы", "кешесі", "пэтер")
_KAZAKH_WORD = re.compile(
    r"^(?:\w+(?:ұлы|улы|қызы|кызы)|ауылы|ауданы|қаласы|каласы|көшесі|кешесі|кошесі|\d*-?(?:үй|уй|пәтер|пэтер))$",
    re.I,
)

# Latin letters that OCR puts into Cyrillic words (and the reverse).
LAT2CYR = str.maketrans(
    {
        "A": "А",
        "B": "В",
        "C": "С",
        "E": "Е",
        "H": "Н",
        "K": "К",
        "M": "М",
        "O": "О",
        "P": "Р",
        "T": "Т",
        "X": "Х",
        "Y": "У",
        "a": "а",
        "c": "с",
        "e": "е",
        "o": "о",
        "p": "р",
        "x": "х",
        "y": "у",
        "k": "к",
        "i": "і",
        "I": "І",
        # Cyrillic letters of other languages that OCR offers for Russian/Kazakh ones
        "Ҡ": "К",
        "ҡ": "к",
        "Ԛ": "Қ",
        "ԛ": "қ",
        "Ӄ": "К",
        "ӄ": "к",
        "Ӈ": "Ң",
        "ӈ": "ң",
        "Ҙ": "З",
        "ҙ": "з",
        "Ҫ": "С",
        "ҫ": "с",
        "Ӧ": "О",
        "ӧ": "о",
        "Ӱ": "Ү",
        "ӱ": "ү",
        "Ј": "J",
        "ј": "j",
    }
)
CYR2LAT = str.maketrans(
    {
        "А": "A",
        "В": "B",
        "С": "C",
        "Е": "E",
        "Н": "H",
        "К": "K",
        "М": "M",
        "О": "O",
        "Р": "P",
        "Т": "T",
        "Х": "X",
        "У": "Y",
        "а": "a",
        "с": "c",
        "е": "e",
        "о": "o",
        "р": "p",
        "х": "x",
        "у": "y",
        "к": "k",
        "і": "i",
        "І": "I",
        "т": "m",
    }
)


@dataclass
class Tok:
    """A word as read: its text, how sure the reader was (0..1), where it sits."""

    text: str
    conf: float
    line: int
    block: int = 0
    # a second reading of the e-mail or phone value this word belongs to:
    # (field, segment id, text, confidence 0..1)
    alt: tuple[str, int, str, float] | None = None
    # the English model's readings of this word alone, when it was read by
    # OCR: () for a word nobody read again; None for typed text and PDF text
    # layers, whose digits need no second opinion (see digits_confirmed)
    check: tuple[str, ...] | None = None


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


_KZ_PAIRS = {
    frozenset(p)
    for p in (
        "ЭӘ",
        "АӘ",
        "ГҒ",
        "КҚ",
        "НҢ",
        "ОӨ",
        "ЕӨ",
        "УҰ",
        "УҮ",
        "ХҺ",
        "ИІ",
        "эә",
        "аә",
        "гғ",
        "кқ",
        "нң",
        "оө",
        "еө",
        "уұ",
        "уү",
        "хһ",
        "пһ",  # rus+kaz reads a lower-case «һ» as «п» ("Шапанова" for "Шаһанова")
        "иі",
    )
}


def kazakh_variant(a: str, b: str) -> bool:
    """The same word but for Kazakh letters read as their Russian look-alikes."""
    return a != b and len(a) == len(b) and all(x == y or frozenset((x, y)) in _KZ_PAIRS for x, y in zip(a, b))


def kazakh_written(words) -> bool:
    """Do these words (a form's name and address as read) say the form is filled
    in Kazakh: a Kazakh letter, or a word only Kazakh writes?"""
    for w in words:
        w = w.strip(".,;:()«»\"'_|")
        if set(w) & KAZAKH_LETTERS or _KAZAKH_WORD.match(w):
            return True
    return False


def kazakh_letters_from(word: str, readings: list[str]) -> str:
    """`word` as another reading spells it with Kazakh letters where this one has
    their Russian look-alikes ("Мараткызы" read, "Маратқызы" read Kazakh first),
    when the two differ by those letters alone; else `word` unchanged."""
    core = word.strip(".,;:()«»\"'_|")
    if not core:
        return word
    for r in readings:
        for o in r.split():
            o = o.strip(".,;:()«»\"'_|")
            if kazakh_variant(core, o) and all(a == b or b in KAZAKH_LETTERS for a, b in zip(core, o)):
                return word.replace(core, o)
    return word


# what the page's model reads for a Kazakh letter besides its Russian look-alike
# (seen on generated scans: "Тенйзбаев", "Шавмарданкызы", "Рабиткызы")
_KZ_SHAPES = {
    "і": "йиl1|",
    "І": "ЙИl1|",
    "һ": "впнб",
    "Һ": "ВПНБ",
    "ғ": "рт",
    "Ғ": "РТ",
    "ң": "й",
    "Ң": "Й",
}


def kazakh_misread(word: str, other: str) -> bool:
    """Could the page's model have read the Kazakh word `other` as `word`? They
    differ only at `other`'s Kazakh letters: each read as its Russian look-alike,
    and at most one misread otherwise or lost ("Сейткалиев" for "Сейітқалиев",
    "Тенйзбаев" for "Теңізбаев", "Рабиткызы" for "Ғабитқызы"): a thin «і» is
    dropped, a «ң» or «Ғ» seen as another letter. Every other letter the same."""
    if word == other or not set(other) & KAZAKH_LETTERS or len(other) - len(word) not in (0, 1):
        return False

    def fits(i: int, j: int, odd: int) -> bool:  # word[i:] against other[j:], `odd` misreads left
        while i < len(word) and j < len(other):
            a, b = word[i], other[j]
            if a == b or (b in KAZAKH_LETTERS and frozenset((a, b)) in _KZ_PAIRS):
                i, j = i + 1, j + 1
                continue
            if not odd:
                return False
            # the Kazakh letter misread as a letter of like shape, or a thin «і» lost
            return (a in _KZ_SHAPES.get(b, "") and fits(i + 1, j + 1, odd - 1)) or (
                b in "іІ" and fits(i, j + 1, odd - 1)
            )
        return i == len(word) and j == len(other)

    return fits(0, 0, 1)


def kazakh_spelling_from(word: str, readings: list[str]) -> str:
    """`word` as the other readings spell it in Kazakh where the page's model misread
    that spelling's Kazakh letters (kazakh_misread), with one such reading at least
    and none spelling the word otherwise; else `word` unchanged. For names: an
    address's words are read as kazakh_letters_from reads them."""
    core = word.strip(".,;:()«»\"'_|")
    if not core:
        return word
    found = {o for o in (r.strip(".,;:()«»\"'_|") for r in readings) if kazakh_misread(core, o)}
    rest = {o for o in (r.strip(".,;:()«»\"'_|") for r in readings) if o and o != core} - found
    if len(found) != 1 or any(not kazakh_variant(o, next(iter(found))) for o in rest):
        return word
    return word.replace(core, found.pop())


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
    """'потребителяИванова' -> 'потребителя', 'Иванова' (OCR lost the space);
    'Омаров:Олжас' -> 'Омаров', 'Олжас' (a speck read as a colon)."""
    out: list[Tok] = []
    for t in toks:
        parts = re.split(rf"(?<=[{CYR}])[:;](?=[{CYR}])", t.text)
        if len(parts) > 1 and not t.alt:
            out.extend(Tok(p, t.conf, t.line, t.block, None, t.check) for p in parts if p)
            continue
        m = re.match(rf"^([{CYR_LO}]{{4,}}[.:]?)([{CYR_UP}][{CYR_LO}]+.*)$", t.text)
        if m:
            out.append(Tok(m.group(1), t.conf, t.line, t.block, t.alt, t.check))
            out.append(Tok(m.group(2), t.conf, t.line, t.block, t.alt, t.check))
        else:
            out.append(t)
    return out


_JUNK = re.compile(r"^[^\w]+$")


def drop_junk(toks: list[Tok], single_below: float = 0.8) -> list[Tok]:
    """Specks read as words: tokens with no letter or digit, and lone doubtful letters."""
    out = []
    for t in toks:
        text = t.text.strip("|_`^'‚„\"”“°*~")
        if not text or _JUNK.match(text):
            continue
        if len(text) == 1 and text.isalpha() and t.conf < single_below:
            continue
        out.append(Tok(text, t.conf, t.line, t.block, t.alt, t.check) if text != t.text else t)
    return out


def lines_of(toks: list[Tok]) -> list[list[Tok]]:
    lines: list[list[Tok]] = []
    for t in toks:
        if lines and lines[-1][0].line == t.line:
            lines[-1].append(t)
        else:
            lines.append([t])
    return lines


def alt_reading(toks: list[Tok], field: str, kin: tuple[str, ...] = ()) -> tuple[list[str], float] | None:
    """The second readings (and their confidence 0..1) of the value these tokens
    belong to; a value on two lines has its segments joined. Segments of a `kin`
    field count too (a name's second line the page cut as a Kazakh line, "kz"):
    their one reading stands in each of the value's."""
    segs: dict[int, tuple[str, float]] = {}
    for t in toks:
        if t.alt and (t.alt[0] == field or t.alt[0] in kin):
            segs.setdefault(t.alt[1], (t.alt[2], t.alt[3]))
    if not segs:
        return None
    sep = "" if field == "email" else " "
    parts = [v[0].split("\t") for v in segs.values()]
    n = max(len(p) for p in parts)
    kin_segs = {t.alt[1] for t in toks if t.alt and t.alt[0] in kin}
    fill = [p[-1] if sid in kin_segs else "" for sid, p in zip(segs, parts)]
    readings = [sep.join(p[k] if k < len(p) else f for p, f in zip(parts, fill)) for k in range(n)]
    return readings, min(v[1] for v in segs.values())


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
