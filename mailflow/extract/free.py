"""Appeals that are not on the forms, read as a chancellery clerk reads them.

    read_free(parts, subject=..., from_name=..., covering=...) -> dict[str, Found]

A typed letter a consumer brought to a RES ("Генеральному директору … от
Ахметова Болата Сергеевича, проживающего по адресу: …, тел. …"), a Kazakh
one ("… мекенжайы бойынша тұратын Қасымов Дәурен Ғабитұлынан"), or a
consumer's own e-mail ("Я, …, проживающая по адресу …", "С уважением,
<name> / <address> / тел. …"). One reader for e-mail bodies, PDF text
layers and OCR: each `Part` is a sequence of lines of words.

Each field says where it was read (`Found.where`, shown on the card). A
name in the header is checked against the signature ("/Ахметов Б.С./", the
name under "С уважением,") and the From display name; a disagreement leaves
the name for a person. A Latin display name only confirms, never supplies.
Nothing is guessed: a field not found is None and listed for review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..resolution_text import morph
from . import names as common
from . import nominative
from .fields import (
    Found,
    clean_address,
    clean_email,
    digits_contradicted,
    doubt_kazakh_misreads,
    english_digits,
    kind_in_text,
    parse_phone,
    read_email,
    read_phone,
)
from .nominative import ABLATIVE, PersonName
from .text import (
    CYR,
    CYR_LO,
    CYR_UP,
    KAZAKH_LETTERS,
    Tok,
    alt_reading,
    fix_lookalikes,
    kazakh_variant,
    levenshtein,
    squash,
)

__all__ = ["Part", "read_free", "FREE_FIELDS"]

FREE_FIELDS = ("kind", "last_name", "first_name", "patronymic", "address", "phone", "email")


@dataclass(frozen=True, eq=False)  # one part is itself, compared by identity
class Part:
    """One text of the appeal: the scanned letter's pages, or the e-mail's body."""

    lines: tuple[tuple[Tok, ...], ...]
    where: str  # how the card names it: "скан письма", "текст e-mail"
    typed: bool  # typed by the person (an e-mail body): no OCR doubts


@dataclass(frozen=True)
class _Line:
    text: str
    toks: tuple[Tok, ...]
    part: Part


@dataclass(frozen=True)
class _Hit:
    name: PersonName
    at: int  # line index
    conf: float  # the reading's confidence (OCR words and the declension together)
    where: str


# --- the words a letter is made of ----------------------------------------

_TITLE_WORDS = r"(?:гр\.?|гр-на|гр-ки|гражданина|гражданки|граждан(?:ки|ина)?\s+РК|потребителя|жителя|жительницы|абонента)"
_LIVES = re.compile(
    r"(проживающ|зарегистрированн|прожива|тұратын)(его|ей|ий|ая|ый|ой|ого)?",
    re.I,
)
_NAME_LABEL = re.compile(
    r"(?:^|\s)(?:заявитель|ф\.?\s*и\.?\s*о\.?(?:\s+заявителя)?|аты-?\s?ж[өе]н[іi!1l]|фамилия,?\s+имя(?:,?\s+отчество)?)\s*:\s*(.+)$",
    re.I,
)
# "-от …" (a speck before it), "отабонента" (OCR lost the space)
_FROM = re.compile(
    r"(?<![\w.])[Оо]т(?:\s+|(?=абонента|потребителя|гражданина|гражданки|гр\.))(?!имени\b)(.+)$"
)
_I_AM = re.compile(r"(?:^|[\s.!?])(?:Я|Мен)\s*,?\s+(.+)$")
_CLOSING = re.compile(
    r"^\s*(?:с\s+уважением(?:\s+и\s+надеждой(?:\s+на\s+понимание)?)?|уважением|құрметпен|"
    r"заранее\s+(?:спасибо|благодарю)|спасибо|благодарю|с\s+наилучшими\s+пожеланиями|"
    r"искренне\s+ваш[аи]?)\s*[,.!:]?\s*(.*)$",
    re.I,
)
_INITIALS = re.compile(
    rf"(?:^|[\s/|\[І1l(])([{CYR_UP}][{CYR_LO}]+(?:-[{CYR_UP}][{CYR_LO}]+)?)\s*"
    rf"([{CYR_UP}])\s*\.\s*([{CYR_UP}])?\s*\.?\s*[/|\])І1l]"
)
_INITIALS_FIRST = re.compile(
    rf"(?:^|[\s/|\[І1l(])([{CYR_UP}])\s*\.\s*([{CYR_UP}])?\s*\.?\s*"
    rf"([{CYR_UP}][{CYR_LO}]{{2,}}(?:-[{CYR_UP}][{CYR_LO}]+)?)\s*[/|\])І1l]"
)
_ADDRESS_LABEL = re.compile(
    r"(?:^|[\s,(])(?:(?:мой|наш|почтовый|домашний)\s+)?(?:адрес(?:у|а)?(?:\s+проживания|\s+для\s+ответа)?|"
    r"по\s+адресу|мекенжай(?:ым|ы)?)\s*:?\s*(.*)$",
    re.I,
)
# "… мекенжайы бойынша тұратын <name>-нан" (a letter), "Мен, <name>, … мекенжайы бойынша тұрамын" (an e-mail)
_KAZ_LIVES_AT = re.compile(r"^(.*?)\s*мекенжай(?:ы|ында)?\s+бойынша\s+тұра(?:тын|мын)\b(.*)$", re.I)
_PHONE_LABEL = re.compile(
    r"(?:^|[\s,(])(?:(?:контактный|мобильный|сотовый|домашний|байланыс)\s+)?"
    r"(?:тел(?:ефон(?:ы|ым)?)?|моб(?:ильный)?|сот(?:овый)?|ұялы(?:\s+телефон)?|whatsapp)\b\.?\s*(?:№\s*)?:?\s*(.*)$",
    re.I,
)
_EMAIL_LABEL = re.compile(
    r"(?:^|\s)(?:e-?mail|эл\.?\s*почта|электронная\s+почта|почта)\s*:?\s*(\S+@\S+)", re.I
)
_STOP_ADDRESS = re.compile(
    r"(?:\b(?:тел(?:ефон)?|моб|сот|e-?mail|эл\.\s*почта|обращаюсь|прошу|хочу|сообщаю|пишу)\b|@|\+7|\b8\s?7\d\d)",
    re.I,
)

# an address part: a place, a street, a house, a flat (Russian and Kazakh)
_ABBR = r"(?:г|с|п|пос|пгт|рп|ул|д|кв|мкр|мкрн|пр|пр-т|просп|пер|б-р|ш|корп|к|стр|р-н|обл|а|ауыл|уч|тупик|туп|ст|х)"
_PART_START = re.compile(
    rf"^(?:{_ABBR}\.\s*\S|{_ABBR}\s+\d|(?:город|село|посёлок|поселок|аул|улица|проспект|переулок|микрорайон|"
    rf"дом|квартира|станция|хутор|район|область)\s|\d{{1,4}}(?:\s*[{CYR_LO}])?(?:\s*[/-]\s*\d+){{0,2}}(?:[\s-]+(?:үй|пәтер))?$|"
    rf"\d{{6}}$)",
    re.I,
)
_PART_END = re.compile(
    r"(?:\s(?:район|р-н|обл\.?|область|ауданы|облысы|ауылы|көшесі|қаласы|даңғылы|кенті|шағын\s+ауданы|"
    r"ықшам\s+ауданы|тұйығы)|[\s-](?:үй|пәтер)|^СКО|\sСКО)$",
    re.I,
)


def _is_part(seg: str) -> bool:
    s = seg.strip()
    return bool(s) and len(s) <= 60 and bool(_PART_START.match(s) or _PART_END.search(s))


def _has_number(addr: str) -> bool:
    return bool(re.search(r"\d", addr))


# --- lines ----------------------------------------------------------------


HEAD_LINES, FOOT_LINES = 150, 50  # a clerk reads a long letter's head and foot, not its middle


def _flatten(parts: list[Part]) -> list[_Line]:
    out: list[_Line] = []
    for p in parts:
        kept = (
            p.lines
            if len(p.lines) <= HEAD_LINES + FOOT_LINES
            else p.lines[:HEAD_LINES] + p.lines[-FOOT_LINES:]
        )
        for toks in kept:
            words = [t for t in toks if t.text.strip()]
            if words:
                out.append(_Line(_kazakh_letters(words), tuple(words), p))
    return out


def _kazakh_letters(words: list[Tok]) -> str:
    """The line's text, each word with the Kazakh letters the Kazakh-first
    re-reading of a Kazakh header line gives ("Кайратулы" read, "Қайратұлы"
    written): only where the words differ by those letters alone, and never
    in a word the Russian dictionary knows ("улица" is not "ұлица")."""
    alt = alt_reading(words, "kz")
    if not alt:
        return " ".join(t.text for t in words)
    others = [w for reading in alt[0] for w in reading.split()]
    out = []
    for t in words:
        w = t.text
        if not (set(w) & KAZAKH_LETTERS) and not morph.is_known(w.strip('.,:;«»"()')):
            w = next((o for o in others if kazakh_variant(w, o) and set(o) & KAZAKH_LETTERS), w)
        out.append(w)
    return " ".join(out)


def _conf(lines: list[_Line], value: str) -> float:
    """The lowest OCR confidence among the words of `value` (typed text is sure)."""
    want = {squash(w) for w in value.split()} - {""}
    confs = [
        max(t.conf, 0.85) if squash(t.text) in _SKELETON else t.conf  # OCR is shy of "г." and "кв."
        for ln in lines
        for t in ln.toks
        if squash(t.text) in want
    ]
    return min(confs, default=1.0)


_SKELETON = frozenset({"г", "с", "п", "ул", "д", "кв", "мкр", "пр", "пер", "пос", "үй", "пәтер"})


def _quote(text: str, n: int = 80) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return "«" + (text if len(text) <= n else text[: n - 1] + "…") + "»"


# --- names ----------------------------------------------------------------


def _name_words(text: str) -> list[str]:
    """The 2-3 capitalised words a name starts `text` with, up to the comma that ends it."""
    words: list[str] = []
    for raw in text.split():
        if not any(c.isalnum() for c in raw):  # "Алексея |" a speck between the words
            continue
        if raw.endswith(":"):  # "Мекенжайы:" on the next line is a label, not a patronymic
            break
        ends = raw.endswith((",", ";", "."))
        w = fix_lookalikes(raw.strip(",.;:()«»\"'“”„"))
        if w.lower() in ("улы", "ұлы", "кызы", "қызы", "оглы") and words:
            words[-1] += w.lower()  # "Ғабит ұлы"
        elif nominative.is_name_word(w):
            words.append(w)
        else:
            break
        if ends or len(words) == 3:
            break
    return words


def _gender_hint(text: str) -> str | None:
    m = _LIVES.search(text)
    if not m or not m.group(2):
        return None
    ending = m.group(2).lower()
    if ending in ("его", "ий", "ый", "ого"):
        return "m"
    if ending in ("ей", "ая", "ой"):
        return "f"
    return None


def _with_next(lines: list[_Line], i: int, text: str) -> str:
    return text + (" " + lines[i + 1].text if i + 1 < len(lines) else "")


def _hit(
    lines: list[_Line], i: int, words: list[str], context: str, hint: str | None, where: str
) -> _Hit | None:
    name = nominative.read(words, context=context, gender_hint=hint)
    if name is None:
        return None
    span = lines[i : i + 2]
    conf = min(name.conf, _conf(span, " ".join(words)))
    if not lines[i].part.typed:
        for w, role in zip((name.last_name, name.first_name, name.patronymic), nominative.ROLES, strict=True):
            if w and common.check(w, role) == "near" and _conf(span, w[:-1]) < 0.9:
                conf = min(conf, 0.5)  # one letter from a common name, and OCR unsure: likely misread
    return _Hit(name, i, conf, where)


def _header_names(lines: list[_Line]) -> list[_Hit]:
    hits = []
    for i, ln in enumerate(lines):
        m = _FROM.search(ln.text)
        if m:
            rest = _with_next(lines, i, m.group(1))
            rest = re.sub(rf"^{_TITLE_WORDS}\s+", "", rest, flags=re.I)
            words = _name_words(rest)
            if len(words) < 2 and i + 1 < len(lines):
                continue
            h = _hit(
                lines, i, words, "gen", _gender_hint(rest), f"шапка письма: {_quote('от ' + ' '.join(words))}"
            )
            if h:
                hits.append(h)
        m = re.search(r"тұратын\s*(.*)$", ln.text, re.I)
        words = _name_words(_with_next(lines, i, m.group(1) if m else ln.text))
        wrapped = i > 0 and "тұратын" in lines[i - 1].text.lower()  # the name's second line, read above
        own = [w for w in ln.text.split() if any(c.isalnum() for c in w)]
        alone = not wrapped and 0 < len(own) == len(_name_words(ln.text))  # a line of the name alone
        if (m or alone) and words and words[-1].lower().endswith(ABLATIVE):
            h = _hit(lines, i, words, "abl", None, f"шапка письма: {_quote(' '.join(words))}")
            if h:
                hits.append(h)
        m = _NAME_LABEL.search(ln.text)
        if m:
            words = _name_words(_with_next(lines, i, m.group(1)))
            h = _hit(
                lines,
                i,
                words,
                "nom",
                None,
                f"{_quote(ln.text[: m.start(1)].strip(' ‚,'))} {_quote(' '.join(words))}",
            )
            if h:
                hits.append(h)
    return hits


def _i_am_names(lines: list[_Line]) -> list[_Hit]:
    hits = []
    for i, ln in enumerate(lines):
        m = _I_AM.search(ln.text)
        if not m:
            continue
        rest = _with_next(lines, i, m.group(1))
        words = _name_words(rest)
        h = _hit(lines, i, words, "nom", _gender_hint(rest), f"текст: {_quote('Я, ' + ' '.join(words))}")
        if h:
            hits.append(h)
    return hits


def _signature_names(lines: list[_Line]) -> list[_Hit]:
    hits = []
    for i, ln in enumerate(lines):
        m = _CLOSING.match(ln.text)
        if not m:
            continue
        candidates = [(i, m.group(1))] if m.group(1).strip() else []
        candidates += [(j, lines[j].text) for j in range(i + 1, min(i + 3, len(lines)))]
        for j, text in candidates:
            words = _name_words(text)
            if len(words) >= 2 and (len(words) == 3 or len(text.split()) == 2):
                h = _hit(lines, j, words, "nom", None, f"подпись: {_quote(' '.join(words))}")
                if h:
                    hits.append(h)
                    break
    if not hits:  # a name alone on one of the last lines: "Ахметова Айгуль Сериковна"
        for j in range(max(0, len(lines) - 6), len(lines)):
            words = _name_words(lines[j].text)
            if len(words) == 3 and len(lines[j].text.split()) == 3:
                h = _hit(lines, j, words, "nom", None, f"подпись: {_quote(' '.join(words))}")
                if h and h.name.conf >= 1.0:
                    hits.append(h)
                    break
    return hits


def _initials(lines: list[_Line]) -> tuple[str, str, str | None, str] | None:
    """'/Ахметов Б.С./' at the letter's end: (surname, first initial, second initial, text)."""
    for ln in reversed(lines[-8:]):
        m = _INITIALS.search(ln.text + " ")
        if m:
            return fix_lookalikes(m.group(1)), m.group(2), m.group(3), m.group(0).strip()
        m = _INITIALS_FIRST.search(ln.text + " ")
        if m:  # "/А.Ж. Тлеубаева/"
            return fix_lookalikes(m.group(3)), m.group(1), m.group(2), m.group(0).strip()
    return None


def _display_name(from_name: str) -> list[str]:
    words = [w.strip(",.\"'") for w in (from_name or "").split()]
    return [w for w in words if w]


_LATIN = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
        "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
        "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh",
        "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "ә": "a", "ғ": "g", "қ": "k",
        "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
    }
)  # fmt: skip


def _latin_key(word: str) -> str:
    w = word.lower().translate(_LATIN)
    for a, b in (
        ("kh", "h"),
        ("zh", "j"),
        ("ts", "c"),
        ("iy", "i"),
        ("yi", "i"),
        ("y", "i"),
        ("w", "v"),
        ("q", "k"),
    ):
        w = w.replace(a, b)
    return re.sub(r"[^a-z]", "", w)


def _same_word(a: str, b: str) -> bool:
    """Two spellings of one name: Cyrillic against Cyrillic or Latin (a transliteration)."""
    if any(c in CYR for c in a) and any(c in CYR for c in b):
        return _fold(a) == _fold(b)
    ka, kb = _latin_key(a), _latin_key(b)
    return bool(ka) and levenshtein(ka, kb, 2) <= (1 if min(len(ka), len(kb)) <= 5 else 2)


def _fold(word: str) -> str:
    """Two spellings of one name compare alike: case, ё, Kazakh letters (morph.key), punctuation."""
    return morph.key(squash(word))


def _display_confirms(name: PersonName, display: list[str]) -> bool | None:
    """True: the From name is this person; False: someone else (Cyrillic); None: says nothing."""
    if len(display) < 2:
        return None
    mine = [name.last_name, name.first_name]
    agree = sum(any(_same_word(d, m) for d in display) for m in mine)
    if agree == 2:
        return True
    cyrillic = all(any(c in CYR for c in d) for d in display)
    return False if cyrillic and agree == 0 else None


def _name_from_display(display: list[str]) -> _Hit | None:
    """A Cyrillic From name with no name in the text: which word is the surname decides the order."""
    words = [fix_lookalikes(w) for w in display]
    if not 2 <= len(words) <= 3 or not all(nominative.is_name_word(w) for w in words):
        return None
    surname_like = (
        "ов",
        "ев",
        "ёв",
        "ин",
        "ын",
        "ова",
        "ева",
        "ёва",
        "ина",
        "ына",
        "ко",
        "ский",
        "ская",
        "улы",
        "ұлы",
    )
    first_known = [common.check(w, "first_name") == "known" for w in words]
    if len(words) == 3 or (first_known[1] and not first_known[0]) or words[0].lower().endswith(surname_like):
        order = words
    elif first_known[0] and not first_known[1] or words[1].lower().endswith(surname_like):
        order = [words[1], words[0]]
    else:
        return None
    name = nominative.read(order, context="nom")
    if name is None:
        return None
    return _Hit(name, -1, min(name.conf, 0.9), f"имя отправителя: {_quote(' '.join(display))}")


def _read_name(lines: list[_Line], from_name: str) -> tuple[Found, Found, Found]:
    header = _header_names(lines) + _i_am_names(lines)
    signed = _signature_names(lines)
    display = _display_name(from_name)
    hit = min(header, key=lambda h: h.at) if header else (signed[0] if signed else None)
    if hit is None:
        hit = _name_from_display(display)
    if hit is None:
        return Found(None, 0.0, True), Found(None, 0.0, True), Found(None, 0.0, False)
    name, conf, notes = hit.name, hit.conf, [hit.where, hit.name.note]
    for other in signed + header:
        if other is hit:
            continue
        pair = {_fold(name.last_name), _fold(name.first_name)}
        if {_fold(other.name.last_name), _fold(other.name.first_name)} == pair:  # "Олжас Байгожин" too
            conf = max(conf, min(0.97, other.conf)) if conf >= 0.8 else conf
            notes.append(f"совпадает: {other.where}")
        else:
            conf = min(conf, 0.5)
            notes.append(f"не совпадает: {other.where}")
    ini = _initials(lines)
    if ini:
        surname, a, b, text = ini
        if levenshtein(_fold(surname), _fold(name.last_name), 1) <= 1:
            ok = _fold(a) == _fold(name.first_name[:1]) and (
                b is None or not name.patronymic or _fold(b) == _fold(name.patronymic[:1])
            )
            if ok:
                conf = max(conf, 0.97) if conf >= 0.8 else conf
                notes.append(f"инициалы в подписи {_quote(text)} совпадают")
            else:
                conf = min(conf, 0.5)
                notes.append(f"инициалы в подписи {_quote(text)} не совпадают")
    said = _display_confirms(name, display) if hit.at >= 0 else None
    if said is True:
        conf = max(conf, 0.97) if conf >= 0.8 else conf
        notes.append(f"совпадает с именем отправителя {_quote(from_name)}")
    elif said is False:
        notes.append(f"отправитель подписан иначе: {_quote(from_name)}")
    where = "; ".join(dict.fromkeys(n for n in notes if n))
    patr_conf = conf if name.patronymic else 1.0
    return (
        Found(name.last_name, conf, conf < 0.8, where),
        Found(name.first_name, conf, conf < 0.8, where),
        Found(name.patronymic, patr_conf, False, where),
    )


# --- address --------------------------------------------------------------


def _continues(prev: str, nxt: str) -> bool:
    """The next line carries on an address the previous one began."""
    stop = _STOP_ADDRESS.search(nxt)
    nxt = nxt[: stop.start()] if stop else nxt  # "68, тел.: …": the flat's number is still the address
    if not nxt.strip(" ,.;:") or _title_kind(nxt) or _CLOSING.match(nxt):
        return False
    p = prev.rstrip()
    if p.endswith((",", "-")) or re.search(rf"(?:^|\s){_ABBR}\.$", p, re.I):
        return True
    if re.search(r"\d[а-яa-z]?$", p, re.I):  # ended on a number: only another part carries on
        return _is_part(nxt.split(",")[0]) or bool(re.match(r"(?:үй|пәтер)\b", nxt))  # "79" / "үй, 75 пәтер"
    if re.search(r"(?:^|\s)(?:улица|проспект|переулок|микрорайон|село|город|посёлок|поселок)$", p, re.I):
        return True  # "улица" / "Казахстанской правды, дом 91": the street's name on the next line
    return bool(
        re.match(rf"^[{CYR_UP}][{CYR_LO}]+(?:,|\s+(?:д|дом|ул)\.|\s+\d|$)", nxt)
        or re.match(rf"^[{CYR_LO}]", nxt)  # "көшесі, 65-үй": the street's word carried over
        or _is_part(nxt.split(",")[0])
    )


def _collect(lines: list[_Line], i: int, first: str) -> tuple[str, list[_Line]]:
    text, used = first.strip(), [lines[i]]
    j = i + 1
    while j < len(lines) and j <= i + 3:
        nxt = lines[j].text
        if not text:
            if _STOP_ADDRESS.match(nxt.strip()):
                break
            text, used = nxt, [*used, lines[j]]
        elif _continues(text, nxt):
            text, used = f"{text} {nxt}", [*used, lines[j]]
        else:
            break
        j += 1
    return text, used


def _tidy_part(seg: str) -> str:
    """OCR's specks off one part: "139/2 |", "кв. 116 2" (a speck read as a digit), "Г." for "г."."""
    s = seg.strip(" |°'‘’`\"_~:;‚„").lstrip(".,")
    s = re.sub(r"^((?:д|кв|дом|квартира)\.?\s*\d+[а-я]?(?:/\d+)?)\s+\d{1,2}$", r"\1", s)
    return re.sub(rf"^([ГСП])\.\s*(?=[{CYR_UP}])", lambda m: m.group(1).lower() + ". ", s)


def _address_found(used: list[_Line], addr: str, cap: float, where: str) -> Found:
    """The address with the words' confidence. A scanned house or flat number
    the English model reads otherwise, twice alike, is taken as it reads it
    (and said so); read otherwise and not alike, it is left for a person."""
    conf = min(cap, _conf(used, addr))
    numbers = {squash(w): w for w in addr.split() if re.search(r"\d", w)}
    toks = [t for ln in used if not ln.part.typed for t in ln.toks if squash(t.text) in numbers]
    for t in toks:
        other = english_digits(t)
        if other:
            mine = numbers[squash(t.text)]
            fixed = _with_digits(mine, other)
            addr = addr.replace(mine, fixed)
            where += f"; номер по второму прочтению: {fixed}"
            conf = min(conf, 0.85)
    if digits_contradicted([t for t in toks if not english_digits(t)]):
        return Found(addr, min(conf, 0.79), False, where + "; цифры прочитаны по-разному")
    return Found(addr, conf, False, where)


_RUN_OF_DIGITS = re.compile(r"\d+")


def _with_digits(word: str, other: str) -> str:
    """`word` with the runs of digits of `other`, in order ("д.35," and "55" -> "д.55,")."""
    runs = _RUN_OF_DIGITS.findall(other)
    pieces = _RUN_OF_DIGITS.split(word)
    if len(pieces) - 1 != len(runs):
        return word
    return "".join(p + (runs[i] if i < len(runs) else "") for i, p in enumerate(pieces))


def _address_parts(text: str) -> str | None:
    """The leading comma-separated parts of `text` that are an address."""
    m = _STOP_ADDRESS.search(text)
    if m:
        text = text[: m.start()]
    kept: list[str] = []
    for seg in text.split(","):
        s = _tidy_part(seg)
        if not s:
            continue
        if _is_part(s) or (kept and re.fullmatch(r"\d{1,4}[а-яА-Я]?(?:/\d+)?", s)):
            kept.append(s)
        elif not kept and re.fullmatch(rf"[{CYR_UP}][{CYR}\-]+(?:\s+[{CYR_UP}][{CYR}\-]+)?", s):
            kept.append(s)  # a town written alone: "Петропавловск, ул. …"
        else:
            break
    if len(kept) == 1 and not _is_part(kept[0]):
        return None
    addr = clean_address(", ".join(kept))
    addr = re.sub(r"[.;:]+$", "", addr) if not re.search(rf"(?:^|\s){_ABBR}\.$", addr) else addr
    return addr if len(kept) >= 2 and _has_number(addr) else None


def _kazakh_address(before: str) -> str | None:
    """'Явленка ауылы, Абай көшесі, 4 үй, 16 пәтер' written before 'мекенжайы бойынша тұратын'."""
    segs = [_tidy_part(s) for s in before.split(",")]
    kept: list[str] = []
    for s in reversed(segs):
        if _is_part(s):
            kept.insert(0, s)
            continue
        # the line before the address may have run into it: keep its last words that make a part
        words = s.split()
        for k in range(1, len(words)):
            tail = " ".join(words[k:])
            if _is_part(tail):
                kept.insert(0, tail)
                break
        break
    addr = clean_address(", ".join(kept))
    return addr if len(kept) >= 2 and _has_number(addr) else None


def _read_address(lines: list[_Line]) -> Found:
    for i, ln in enumerate(lines):
        if not re.search(r"тұра(?:тын|мын)", ln.text, re.I):
            continue
        window = lines[max(0, i - 4) : i + 1]
        m = _KAZ_LIVES_AT.search(" ".join(x.text for x in window))
        if m:
            before = re.split(r"директор\w*", m.group(1), flags=re.I)[-1]
            addr = _kazakh_address(before.strip())
            if addr:
                where = f"шапка письма: {_quote(addr + ' мекенжайы бойынша')}"
                return _address_found(window, addr, 0.95, where)
    for i, ln in enumerate(lines):  # "от Калиева Тимура Сериковича, с. Талшик, ул. …": no label
        m = _FROM.search(ln.text)
        if not m or _ADDRESS_LABEL.search(ln.text):
            continue
        rest = re.sub(rf"^{_TITLE_WORDS}\s+", "", m.group(1), flags=re.I)
        n = len(_name_words(_with_next(lines, i, rest)))
        words = (rest + " " + (lines[i + 1].text if i + 1 < len(lines) else "")).split()
        after = " ".join(words[n:]).lstrip(" ,")
        if (
            n >= 2
            and after
            and not _ADDRESS_LABEL.search(after)
            and _is_part(_tidy_part(after.split(",")[0]))
        ):
            own = rest.split()
            if n < len(own):  # the address begins on the name's line
                start, first = i, " ".join(own[n:])
            else:  # the name ends on the next line, and the address follows it there
                start, first = i + 1, " ".join(lines[i + 1].text.split()[n - len(own) :])
            text, used = _collect(lines, start, first.lstrip(" ,"))
            addr = _address_parts(text)
            if addr:
                return _address_found(used, addr, 0.9, f"шапка письма: {_quote(addr)}")
    for i, ln in enumerate(lines):
        m = _ADDRESS_LABEL.search(ln.text)
        if not m:
            continue
        text, used = _collect(lines, i, m.group(1))
        addr = _address_parts(text)
        if addr:
            label = ln.text[: m.start(1)].strip() or "адрес"
            return _address_found(used, addr, 0.95, f"{_quote(label)} {_quote(addr)}")
    for i, ln in enumerate(lines):  # an address line alone, as signatures have it
        if _is_part(ln.text.split(",")[0]) and not _STOP_ADDRESS.search(ln.text.split(",")[0]):
            text, used = _collect(lines, i, ln.text)
            addr = _address_parts(text)
            if addr and re.search(r"(?:ул\.|көшесі|улица|мкр|пр\.|просп|даңғылы|пер\.)", addr, re.I):
                return _address_found(used, addr, 0.9, f"строка адреса: {_quote(addr)}")
    return Found(None, 0.0, True)


# --- phone and e-mail -----------------------------------------------------


def _read_phone(lines: list[_Line]) -> Found:
    for i, ln in enumerate(lines):
        m = _PHONE_LABEL.search(ln.text)
        if not m:
            continue
        # the number after the label, run on to the next line where it wraps ("тел.: 8 (771)" / "663-81-64")
        span = [ln] + lines[i + 1 : i + 2]
        text = m.group(1) + " " + " ".join(x.text for x in span[1:])
        p = parse_phone(text[:40])
        if p:
            return _phone_found(span, p, text[:40], _quote(ln.text.strip(), 60))
    for ln in lines:
        m = re.search(r"(?<![\d\w])(?:\+7|8)[\s(\-]*7\d\d[\s)\-]*\d{3}[\s\-]*\d\d[\s\-]*\d\d(?!\d)", ln.text)
        if m:
            p = parse_phone(m.group(0))
            if p:
                return _phone_found([ln], p, m.group(0), f"номер в тексте: {_quote(m.group(0))}", 0.9)
    return Found(None, 0.0, True)


def _phone_found(span: list[_Line], phone: str, written: str, where: str, cap: float = 0.95) -> Found:
    """A scanned phone's digits go to the vote of the English model's readings
    (rus+kaz reads a 3 as a 5 in some typefaces); typed ones stand."""
    m = re.search(r"[+(\d][\d\s().\-–+]{8,}\d", written)
    number = m.group(0) if m else written
    # a speck before the number ("%7(747)0855815") is no reason to take its digits unvoted
    toks = [
        t
        for ln in span
        for t in ln.toks
        if re.search(r"\d", t.text) and re.sub(r"^[^\d+(]+", "", t.text.strip(",.;:")) in number
    ]
    conf = min(cap, _conf(span, " ".join(t.text for t in toks)))
    if not toks or span[0].part.typed:
        return Found(phone, conf, False, where)
    if any(t.alt and t.alt[0] == "phone" for t in toks):
        voted = read_phone(toks)
        if voted.value is None:
            return Found(phone, min(conf, 0.5), True, where + "; цифры прочитаны по-разному")
        if voted.value != phone:
            where += f"; цифры по второму прочтению: {voted.value}"
        return Found(voted.value, min(cap, voted.conf), voted.conf < 0.8, where)
    if digits_contradicted(toks):
        return Found(phone, min(conf, 0.5), True, where + "; цифры прочитаны по-разному")
    return Found(phone, conf, False, where)


def _read_email(lines: list[_Line]) -> Found:
    for ln in lines:  # a scanned address: the English model's readings vote (rus+kaz garbles Latin)
        toks = [t for t in ln.toks if t.alt and t.alt[0] == "email"]
        if toks and not ln.part.typed:
            f = read_email(toks)
            if f.value:
                return Found(f.value, f.conf, f.conf < 0.8, _quote(ln.text.strip(), 60))
    for ln in lines:
        m = _EMAIL_LABEL.search(ln.text)
        if m:
            e = clean_email(m.group(1))
            if e:
                return Found(e, min(0.95, _conf([ln], m.group(1))), False, _quote(ln.text.strip(), 60))
    return Found(None, 0.0, False)


# --- kind -----------------------------------------------------------------

# what the content asks for, where no word names the kind
_KIND_VERBS = (
    (re.compile(r"\bпредлага(?:ю|ем)\b|\bұсынамын\b|\bұсынамыз\b", re.I), "предложение"),
    # "Заранее благодарю" and "благодарю за внимание" are courtesy, not a review
    (
        re.compile(
            r"\bвыража(?:ю|ем)\s+(?:\w+\s+)?благодарност|\bблагодар(?:ю|им)\s+(?!за\s+(?:внимание|понимание|ответ))"
            r"(?:\w+\s+){0,3}(?:сотрудник|бригад|работник|мастер|персонал|электрик|коллектив|за\s)|\bалғыс",
            re.I,
        ),
        "отзыв",
    ),
    (
        re.compile(
            r"\bтребу(?:ю|ем)\s+(?:\w+\s+){0,2}(?:возме|верну|вернут|компенс|перерас|возвра)|"
            r"\bталап\s+етемін\b|\bқайта\s+есептеу",
            re.I,
        ),
        "претензия",
    ),
    (re.compile(r"\bжалу(?:юсь|емся)\b|\bшағымданамын\b", re.I), "жалоба"),
)
# a "жалоба" that demands money back is also a claim: the card asks (issue 16.3)
_COMPETING = {frozenset({"жалоба", "претензия"}), frozenset({"отзыв", "предложение"})}


def _title_kind(text: str) -> str | None:
    """A title line: the kind's word alone or beginning a short line ("Жалоба на отключение")."""
    t = text.strip(' .:!-–—"«»')
    if not t or len(t.split()) > 6:
        return None
    k, n = kind_in_text(t)
    if n != 1 or not k:
        return None
    first = t.split()[0].lower().replace("ё", "е")
    return k if kind_in_text(first)[0] == k else None


def _sentences(text: str) -> list[str]:
    """Sentences, not split after an address's "г." or "ул." nor before a number."""
    out: list[str] = []
    for piece in re.split(rf"(?<=[.!?])\s+(?=[{CYR_UP}A-Z«\"])", text):
        if out and re.search(rf"(?:^|\s){_ABBR}\.$", out[-1], re.I):
            out[-1] += " " + piece
        elif piece.strip():
            out.append(piece)
    return out


def _body_start(lines: list[_Line]) -> int:
    """The first line of the letter's text, after the header block (addressee, applicant, contacts)."""
    for i, ln in enumerate(lines):
        t = ln.text
        if len(t.split()) < 5 or not t[:1].isupper():
            continue
        if _I_AM.search(t):  # "Я, …, проживающая по адресу …, обращаюсь": the text begins
            return i
        if _FROM.search(t) or _LIVES.search(t) or _PHONE_LABEL.search(t) or re.search(r"директор|«", t, re.I):
            continue
        if _ADDRESS_LABEL.search(t) and not _I_AM.search(t):
            continue
        return i
    return 0


def _read_kind(lines: list[_Line], subject: str, covering: str) -> Found:
    votes: list[tuple[str, float, str]] = []
    for ln in lines:
        k = _title_kind(ln.text)
        if k:
            votes.append((k, 0.97, f"заголовок {_quote(ln.text)}"))
            break
    subj = re.sub(r"^\s*((re|fw|fwd|ответ|пересл)\s*:\s*)+", "", subject or "", flags=re.I)
    k, _ = kind_in_text(subj)
    if k:
        votes.append((k, 0.9, f"тема письма {_quote(subj)}"))
    texts = []  # each part's text after its header: an e-mail's "see the attachment" is not the letter's start
    for part in dict.fromkeys(ln.part for ln in lines):
        own = [ln for ln in lines if ln.part is part]
        texts.append(" ".join(ln.text for ln in own[_body_start(own) :]))
    body = " ".join(texts)
    first = next(
        (s for t in texts for s in _sentences(t)[:4] if kind_in_text(s)[0] and kind_in_text(s)[1] == 1), None
    )
    if first:
        votes.append((kind_in_text(first)[0] or "", 0.9, f"текст: {_quote(first)}"))
    k, _ = kind_in_text(covering)
    if k:
        votes.append((k, 0.85, f"сопроводительное письмо: {_quote(covering)}"))
    verbs = [(k, m.group(0)) for rx, k in _KIND_VERBS for m in [rx.search(body)] if m]
    named = {k for k, _, _ in votes}
    if len(named) > 1:
        what = "; ".join(f"{k}: {w}" for k, _, w in votes)
        return Found(None, 0.0, True, f"разные виды обращения — {what}")
    if named:
        kind = next(iter(named))
        conf = max(c for _, c, _ in votes)
        where = "; ".join(w for _, _, w in votes)
        for vk, words in verbs:
            if vk != kind and frozenset({vk, kind}) in _COMPETING:
                return Found(None, 0.0, True, f"{kind} или {vk}? {where}; но {_quote(words)}")
        return Found(kind, conf, False, where)
    asked = {k for k, _ in verbs}
    if len(asked) == 1:
        kind = next(iter(asked))
        return Found(kind, 0.8, False, f"по содержанию: {_quote(verbs[0][1])}")
    if len(asked) > 1:
        return Found(None, 0.0, True, "по содержанию: " + "; ".join(f"{k} ({_quote(w)})" for k, w in verbs))
    return Found(None, 0.0, True)


# --- the reader -----------------------------------------------------------


def read_free(
    parts: list[Part], *, subject: str = "", from_name: str = "", covering: str = ""
) -> dict[str, Found]:
    """The fields of a letter or e-mail not on the forms; {} when no text."""
    lines = _flatten(parts)
    if not lines:
        return {}
    last, first, patr = _read_name(lines, from_name)
    found = {
        "kind": _read_kind(lines, subject, covering),
        "last_name": last,
        "first_name": first,
        "patronymic": patr,
        "address": _read_address(lines),
        "phone": _read_phone(lines),
        "email": _read_email(lines),
    }
    if any(not p.typed for p in parts):
        doubt_kazakh_misreads(found)
    return found
