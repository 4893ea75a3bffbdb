"""Fields out of text: the consumer's forms, organisations' letters, the website form.

Every reader returns `Found` values: a value with a confidence (0..1) and a
`review` flag for a field that should be there but could not be read. The
caller (`recognize`) drops values whose confidence is under the field's bar,
so a doubtful reading becomes None with the field in `needs_review`: a
confident wrong value is worse than an honest None.

Confidence of a value read by OCR is the lowest word confidence among its
words, lowered when the value fails its own checks (a phone that is not a
valid Kazakh number, a name that is not three capitalised words...).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

import phonenumbers

from ..vocabulary import KINDS as VOCABULARY_KINDS
from . import names as lexicon
from .places import district_spelling
from .text import (
    CYR,
    CYR_LO,
    CYR_UP,
    KAZAKH_LETTERS,
    Tok,
    alt_reading,
    drop_junk,
    fix_lookalikes,
    join,
    kazakh_letters_from,
    kazakh_spelling_from,
    kazakh_variant,
    kazakh_written,
    levenshtein,
    lines_of,
    min_conf,
    squash,
)

KINDS = tuple(k.key for k in VOCABULARY_KINDS)
# (stem or Kazakh word, kind) as free text names a kind; the general word apart
_KIND_STEMS = tuple((w, k.key) for k in VOCABULARY_KINDS if k.specific for w in k.words)
_GENERAL_STEMS = tuple((w, k.key) for k in VOCABULARY_KINDS if not k.specific for w in k.words)
PAIRS = (("ЖАЛОБА", "ПРЕТЕНЗИЯ"), ("ОТЗЫВ", "ПРЕДЛОЖЕНИЕ"))
ORG_TYPES = (
    "РГП на ПХВ",
    "ГКП на ПХВ",
    "ГККП",
    "КГКП",
    "ТОО",
    "АО",
    "ИП",
    "КГУ",
    "КХ",
    "ГУ",
    "КГП",
    "ГКП",
    "РГП",
    "РГУ",
    "ОО",
    "ПК",
    "ЧУ",
    "ОФ",
    "КСК",
    "ПКСК",
    "ОСИ",
    "ТДО",
    "ЖШС",
    "АҚ",
    "ЖК",
    "ШҚ",
    "КТ",
    "ПТ",
    "ФХ",
    "СПК",
    "МКБ",
    "НАО",
    "ОЮЛ",
    "ЧК",
    "ПАО",
    "ООО",
)
OWN_ORGS = ("севказэнерго", "севказэнергосбыт")
# forms a letterhead writes with no quotes ("ИП Сатпаев А.К.", "КГУ Центр занятости"):
# not the two-letter ones, which a speck or a word's start could make
BARE_ORG_TYPES = tuple(
    t for t in ORG_TYPES if len(t) >= 3 or t in ("ИП", "ЖК", "АО", "АҚ", "КХ", "ШҚ", "ФХ", "ПК", "ГУ")
)


@dataclass
class Found:
    value: object = None
    conf: float = 0.0
    review: bool = False  # expected but unreadable / contradictory
    where: str = ""  # for the card: where the value was read and why it reads so


# --- small readers -------------------------------------------------------

_DIGIT_FIX = str.maketrans(
    {
        "О": "0",
        "о": "0",
        "O": "0",
        "o": "0",
        "З": "3",
        "з": "3",
        "б": "6",
        "l": "1",
        "I": "1",
        "|": "1",
        "!": "1",
        "S": "5",
        "В": "8",
        "Б": "6",
        "Ч": "4",
        "ч": "4",
    }
)


def parse_phone(text: str) -> str | None:
    """A Kazakh phone number as E.164, or None when the digits make none."""
    text = " ".join(w for w in text.split() if not re.fullmatch(r"[|!lI:;.,'`_\-—]+", w))
    s = re.sub(r"(?<=[\d)])\s*[:;,_]\s*(?=[\d(])", " ", text.translate(_DIGIT_FIX))
    m = re.search(r"[+]?[\d][\d\s().\-–]{8,}\d", s)
    if not m:
        return None
    digits = re.sub(r"\D", "", m.group(0))
    if len(digits) == 12 and digits[:2] in ("18", "17") and not m.group(0).startswith("+"):
        digits = digits[1:]  # a speck or bar read as 1 before the number
    if len(digits) == 11 and digits[0] in "78":
        digits = "7" + digits[1:]
    elif len(digits) == 10 and digits[0] == "7":
        digits = "7" + digits
    else:
        return None
    try:
        num = phonenumbers.parse("+" + digits, "KZ")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num) or phonenumbers.region_code_for_number(num) != "KZ":
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


_EMAIL_RE = re.compile(r"^[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}$")


def clean_email(s: str) -> str | None:
    s = s.strip().strip(".,;:()<>«»\"'|/\\[]{}!-_").lower()
    if "@" not in s:  # the at sign read as brackets
        s = re.sub(r"\(\)|\(a\)|\(@\)|\(\s*\)", "@", s, count=1)
    return s if _EMAIL_RE.match(s) and ".." not in s else None


_NAME_RE = re.compile(rf"^[{CYR_UP}][{CYR_LO}]+(?:-[{CYR_UP}][{CYR_LO}]+)?$")
_PATRONYMIC = re.compile(r"(ич|вна|чна|оглы|улы|ұлы|кызы|қызы)$")


def name_parts(toks: list[Tok], weigh: bool = True) -> tuple[list[str], list[float], bool]:
    """(words, confidence of each, ok) of a name written as Фамилия Имя [Отчество].

    A word one letter away from a common name is doubted (see names.py), unless
    `weigh` is False (the caller weighs the words itself: `weigh_names`).
    """
    toks = trailing_junk([t for t in drop_junk(toks, single_below=1.01) if any(c.isalpha() for c in t.text)])
    words, confs = [], []
    for t in toks:
        w = fix_lookalikes(t.text.strip(".,;:()«»\"'_|"))
        if not w:
            continue
        if len(w) > 1 and w.isupper() and re.fullmatch(rf"[{CYR}]+(?:-[{CYR}]+)?", w):
            # "ІЛИЯСҚЫЗЫ": a word begun with «І» (a stroke) is read in capitals; the letters stand
            w = "-".join(p[:1] + p[1:].lower() for p in w.split("-"))
        if words and w.lower() in ("улы", "ұлы", "кызы", "қызы", "оглы"):  # "Серік ұлы"
            words[-1] += w.lower()
            confs[-1] = min(confs[-1], t.conf)
            continue
        words.append(w)
        confs.append(t.conf)
    ok = 2 <= len(words) <= 3 and all(_NAME_RE.match(w) for w in words)
    if ok and len(words) == 3 and not _PATRONYMIC.search(words[2]):
        ok = False
    if ok and len(words) == 2 and _PATRONYMIC.search(words[1]):
        ok = False  # "Иванова Болатовна": the first name is missing
    if ok and weigh:
        confs = weigh_names(words, confs)
    return words, confs, ok


def weigh_names(words: list[str], confs: list[float]) -> list[float]:
    """The words' confidence against the common names: a near miss doubted, a known name surer."""
    out = list(confs)
    for i, field in enumerate(("last_name", "first_name", "patronymic")[: len(words)]):
        verdict = lexicon.check(words[i], field)
        if verdict == "near":
            out[i] = min(out[i], 0.5)
        elif verdict == "known":
            out[i] = min(1.0, out[i] + 0.03)
    return out


_ABBR = (
    "г",
    "с",
    "п",
    "пос",
    "ул",
    "д",
    "кв",
    "мкр",
    "пр",
    "просп",
    "пер",
    "р-н",
    "обл",
    "корп",
    "стр",
    "а",
    "ауыл",
    "мкрн",
    "туп",
    "б-р",
    "ш",
    "пгт",
    "рп",
    "уч",
)


# the words of a Kazakh address, which rus+kaz may read with Russian look-alikes ("15-пэтер", "кешесі")
_KAZAKH_ADDRESS_WORDS = ("көшесі", "ауылы", "қаласы", "ауданы", "даңғылы", "кенті", "үй", "пәтер")


def _kazakh_address_word(m: re.Match[str]) -> str:
    w = m.group(0)
    return next((k for k in _KAZAKH_ADDRESS_WORDS if kazakh_variant(w, k) or _one_kazakh_letter_off(w, k)), w)


def _one_kazakh_letter_off(w: str, k: str) -> bool:
    """ "петер" for "пәтер": one vowel of a long address word, a Kazakh one, read as
    another Russian vowel than its look-alike (the words are few and no Russian word is near)."""
    diff = [(a, b) for a, b in zip(w, k) if a != b]
    return (
        len(k) >= 5
        and len(w) == len(k)
        and len(diff) == 1
        and diff[0][1] in "әөүұі"
        and diff[0][0] in "аеёиоуыэюя"
    )


def clean_address(s: str) -> str:
    s = re.sub(r"\s+", " ", s).strip(" ,;:_")
    # "41УЙ": rus+kaz glues the house word to its number and reads it in capitals
    s = re.sub(rf"(?<=\d)(?:УЙ|Уй|ҮЙ|Үй|уй|үй)(?![{CYR}])", " үй", s)
    s = re.sub(rf"(?<![{CYR}])[{CYR_LO}]{{2,7}}(?![{CYR}])", _kazakh_address_word, s)
    # "Соколовка -ауылы": a dash before the place's or street's word is a speck, no spelling of it
    s = re.sub(rf"(?<=[{CYR}] )[-–—]\s*(?=(?:көшесі|ауылы|қаласы|ауданы|даңғылы|кенті)(?![{CYR}]))", "", s)
    s = re.sub(
        r"(?<=\d)\.\s+(?=(?:үй|пәтер)(?![а-яәғқңөұүһі]))", " ", s
    )  # "72. үй": a speck, Kazakh writes "72 үй"
    # "кв. 93.", "103-үй.": a speck or the end of a sentence
    s = re.sub(rf"(\d|(?<![{CYR}])үй|(?<![{CYR}])пәтер)\.$", r"\1", s)
    s = re.sub(
        rf"(?<![{CYR}A-Za-z])(г|с|п|ул|д|кв|мкр|пр|пер)(?:\.\.+|[:;]|\.,)(?=\s|[{CYR}\d])", r"\1.", s
    )  # "ул:" "с.." "ул.," for "ул."
    s = re.sub(rf"(?<![{CYR}A-Za-z])(д|кв)\s*,\s*(?=\d)", r"\1. ", s)  # "д, 88": a comma for the dot
    s = re.sub(rf"(?<=[{CYR}\d]);(?=\s)", ",", s)  # a semicolon is a misread comma
    # OCR confuses the case of К/к, В/в, Д/д...: abbreviations are lower case
    s = re.sub(
        rf"(?<![{CYR}A-Za-z])(КВ|Кв|Д|УЛ|Ул|ПР|ПОС|МКР|Мкр|ПЕР)\.", lambda m: m.group(1).lower() + ".", s
    )
    s = re.sub(r"\s+([,.;])", r"\1", s)
    s = re.sub(r",(?=\S)", ", ", s)
    s = re.sub(rf"(?<![{CYR}A-Za-z])({'|'.join(re.escape(a) for a in _ABBR)})\.(?=[{CYR}\d])", r"\1. ", s)
    s = re.sub(r"(\d)\s*-\s*(\d)", r"\1-\2", s)
    # "Аккайын ауданы": the region's district, its Kazakh letters read as look-alikes
    s = district_spelling(s)
    return s.strip()


_ABBR_TOKENS = {a + "." for a in ("г", "с", "п", "ул", "д", "кв", "мкр", "пр", "пер", "пос")}


def _address_conf(toks: list[Tok]) -> float:
    """Lowest word confidence, where an exact abbreviation ("кв.", "д.") in an
    address that passed its checks counts as sure enough: OCR is shy of short
    words, and these are the address's skeleton, not its content."""
    return min((max(t.conf, 0.85) if t.text in _ABBR_TOKENS else t.conf for t in toks), default=0.0)


def trailing_junk(toks: list[Tok], odd: bool = False) -> list[Tok]:
    """Specks at the end of a value read as a doubtful scrap ("ын,", "22.", "-.")."""
    toks = list(toks)
    while toks and (
        toks[-1].conf < 0.35
        or (toks[-1].conf < 0.6 and sum(c.isalnum() for c in toks[-1].text) <= 3)
        or (odd and re.search(r"[%^*=<>{}\[\]@#$&+~|\\]", toks[-1].text))
    ):
        toks.pop()
    return toks


def address_ok(s: str) -> bool:
    if re.search(r"(^|\s)(д|кв|ул|г|с)\.?$", s):
        return False  # ends with an abbreviation: its number was lost
    if re.search(rf"(?<![{CYR}A-Za-z])[{CYR}A-Za-z]{{1,4}}\.\s*\d", s):
        for m in re.finditer(rf"(?<![{CYR}A-Za-z])([{CYR}A-Za-z]{{1,4}})\.\s*\d", s):
            if m.group(1) not in _ABBR + ("пом", "оф", "к"):
                return False  # "А. 4": a misread house abbreviation
    has_place = re.search(rf"(^|[\s,])(г|с|п|пос|ауыл|а|мкр|пгт)\.\s*[{CYR_UP}\d]", s) or re.search(
        r"(город|село|посёлок|поселок|аул)\s", s, re.I
    )
    has_street_or_no = re.search(r"(ул|пр|просп|мкр|пер|б-р|ш)\.\s*\S", s) or re.search(r"д\.\s*\d", s)
    # as Kazakh writes it: "Явленка ауылы, Абай көшесі, 12 үй" (the place and the street before their word)
    has_place = has_place or re.search(rf"[{CYR}]\s+(ауылы|қаласы|каласы|ауданы|кенті)(?![{CYR}])", s, re.I)
    has_street_or_no = has_street_or_no or re.search(
        rf"[{CYR}]\s+(көшесі|кешесі|даңғылы)(?![{CYR}])|\d\s*-?\s*(үй|уй)(?![{CYR}])", s, re.I
    )
    return bool(has_place and has_street_or_no) and len(s) <= 200


def kind_in_text(text: str) -> tuple[str | None, int]:
    """The one kind the wording names (None if none or several), and how many."""
    t = text.lower().replace("ё", "е")
    t = re.sub(r"книг\w*\s+отзыв\w*\s+и\s+предложени\w*", " ", t)
    found = {k for stem, k in _KIND_STEMS if re.search(rf"\b{stem}", t)}
    if len(found) == 1:
        return next(iter(found)), 1
    return None, len(found)


def parse_date(s: str) -> dt.date | None:
    m = re.search(r"(\d{1,2})\s*[.,/:]\s*(\d{1,2})\s*[.,/:]\s*(\d{4})", s)
    if m:
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            return None
    months = {
        "январ": 1,
        "феврал": 2,
        "март": 3,
        "апрел": 4,
        "ма": 5,
        "июн": 6,
        "июл": 7,
        "август": 8,
        "сентябр": 9,
        "октябр": 10,
        "ноябр": 11,
        "декабр": 12,
    }
    m = re.search(rf"«?(\d{{1,2}})»?\s+([{CYR_LO}]+)\s+(\d{{4}})", s)
    if m:
        for stem, n in months.items():
            if m.group(2).startswith(stem) and (stem != "ма" or m.group(2) in ("мая", "май")):
                try:
                    return dt.date(int(m.group(3)), n, int(m.group(1)))
                except ValueError:
                    return None
    return None


# --- the consumer's form (Appendix 1-3) ----------------------------------

_LABEL_WORDS = {
    "name": ("тұтынушы", "тутынушы", "от", "потребителя", "фио", "таә"),
    "address": ("мекенжайы", "мекен", "жайы", "по", "адресу"),
    "phone": ("телефоны", "телефон"),
    "email": ("эл", "пошта", "почта", "email"),
}
_LABEL_KEY = {"name": "потребителя", "address": "адресу", "phone": "телефон", "email": "почта"}
_HEADINGS = (
    "ӨТІНІШ",
    "ЗАЯВЛЕНИЕ",
    "ШАҒЫМ",
    "АРЫЗ",
    "ЖАЛОБА",
    "ПРЕТЕНЗИЯ",
    "ПІКІР",
    "ҰСЫНЫС",
    "ОТЗЫВ",
    "ПРЕДЛОЖЕНИЕ",
)


def _parts(text: str) -> list[str]:
    return [squash(p).replace("n", "п") for p in re.split(r"[/|\\]", text) if squash(p)]


def _is_label_token(text: str, field: str) -> bool:
    parts = _parts(text)
    if not parts:
        return False
    vocab = _LABEL_WORDS[field]
    # "мекен-жайы/ғо": one recognisable half makes the token a label's
    return any(any(p == v or (len(v) >= 5 and levenshtein(p, v, 2) <= 2) for v in vocab) for p in parts)


def _has_key(text: str, field: str) -> bool:
    key = _LABEL_KEY[field]
    for p in _parts(text):
        if p == key or (len(p) >= 5 and levenshtein(p, key, 2) <= (2 if len(key) > 6 else 1)):
            return True
        if field == "email" and p in ("пошта", "email", "эпочта"):
            return True
        if field == "phone" and p in ("телефоны",):
            return True
        if field == "name" and p in ("тұтынушы", "тутынушы"):  # "потребителя" lost to a speck or a stroke
            return True
    return False


def _heading_word(t: Tok) -> str | None:
    for part in re.split(r"[/|\\]", t.text.strip("«»\"'.,:;_")):
        p = fix_lookalikes(part).upper().replace("Ё", "Е")
        if len(p) < 4 or not p.isalpha():
            continue
        for h in _HEADINGS:
            if p == h or (len(h) >= 6 and levenshtein(p, h, 2) <= 1):
                return h
    return None


def find_labels(toks: list[Tok]) -> dict[str, tuple[int, int]] | None:
    """Token index ranges [start, end] of the four form labels, in form order."""
    found: dict[str, tuple[int, int]] = {}
    i = 0
    order = ["name", "address", "phone", "email"]
    for field in order:
        j = i
        while j < len(toks) and not _has_key(toks[j].text, field):
            j += 1
            if j - i > 60:
                break
        if j >= len(toks) or j - i > 60:
            continue
        start = j
        while (
            start - 1 >= i
            and toks[start - 1].line == toks[j].line
            and _is_label_token(toks[start - 1].text, field)
        ):
            start -= 1
        end = j
        while (
            end + 1 < len(toks)
            and toks[end + 1].line == toks[j].line
            and _is_label_token(toks[end + 1].text, field)
            and not _heading_word(toks[end + 1])
        ):
            end += 1
        found[field] = (start, end)
        i = end + 1
    if "name" not in found or len(found) < 3:
        return None
    return found


def read_form(toks: list[Tok], underlines: dict[str, float]) -> dict[str, Found] | None:
    labels = find_labels(toks)
    if labels is None:
        return None
    out: dict[str, Found] = {}
    order = [f for f in ("name", "address", "phone", "email") if f in labels]
    heading_at = None
    last_end = labels[order[-1]][1]
    for k in range(last_end + 1, min(len(toks), last_end + 40)):
        if _heading_word(toks[k]):
            heading_at = k
            break
    values: dict[str, list[Tok]] = {}
    for n, field in enumerate(order):
        s = labels[field][1] + 1
        if n + 1 < len(order):
            e = labels[order[n + 1]][0]
        else:
            e = heading_at if heading_at is not None else min(len(toks), s + 12)
        vals = toks[s:e]
        if field == "email":  # the label's line and, if it carries no value, the next one
            line = toks[labels[field][1]].line
            tagged = [t for t in vals if t.alt and t.alt[0] == "email"]
            vals = tagged or drop_junk(vals)
            same = [t for t in vals if t.line == line]
            if not same:
                later = [t for t in vals if t.line > line]
                same = [t for t in later if t.line == later[0].line] if later else []
            vals = same
        values[field] = [t for t in vals if t.text.strip("_—-.")]

    # name: the page's reading, and two more of the name's lines alone
    name_toks = values.get("name", [])
    kazakh = kazakh_written(t.text for t in name_toks + values.get("address", []))
    if name_toks:
        out.update(_vote_name(name_toks, kazakh))
    else:
        for f in ("last_name", "first_name"):
            out[f] = Found(None, 0.0, True)
    # address, likewise
    if "address" in values:
        out["address"] = _vote_address(values["address"], kazakh)
    else:
        out["address"] = Found(None, 0.0, True)
    # phone
    out["phone"] = read_phone(values.get("phone", []))
    # e-mail: often left blank on the form
    et = values.get("email", [])
    out["email"] = read_email(et) if et else Found(None, 0.9)
    out["kind"] = form_kind(toks, heading_at, underlines)
    if kazakh:
        doubt_kazakh_misreads(out)
    return out


_CAP = 0.79  # a value other readings contradict stays under every bar


def _text_tokens(reading: str) -> list[Tok]:
    return [Tok(w, 0.9, 0) for w in reading.split()]


# look-alikes that are other Russian letters than the Kazakh letter's own plain form
# ("Сэумалкел" for "Сәумалкөл"): they agree only where the page's reading has the Kazakh one
_ONE_WAY = {frozenset(p) for p in ("ЭӘ", "эә", "ЕӨ", "еө", "пһ")}


def _same(a: str | None, b: str | None) -> bool:
    """The page's reading `a` and another `b` agree, but for Kazakh letters one of
    them read as their Russian look-alikes (the models differ on those; the page's
    reading is kept, so a Russian «э» or «е» of its own against another's Kazakh
    letter is no agreement)."""
    if not (a and b):
        return False
    a, b = a.replace("ё", "е"), b.replace("ё", "е")
    return a == b or (
        kazakh_variant(a, b)
        and all(x == y or x in KAZAKH_LETTERS or frozenset((x, y)) not in _ONE_WAY for x, y in zip(a, b))
    )


_NAME_FIELDS = ("last_name", "first_name", "patronymic")


# what rus+kaz reads for a word's first «І»: a stroke, a one, a Latin l, a bracket ("\\лиясова", "[лиясова")
_I_LOOKALIKE = re.compile(rf"^([\\|/1lI!\[\]])([{CYR_LO}]+[.,]?)$")


def _kazakh_i(toks: list[Tok], readings: list[str]) -> list[Tok]:
    """The words the page's model began with a look-alike of «І» where the
    Kazakh-first reading has «І» and the same letters after it."""
    seen = {w.strip(".,;:()«»\"'_|").lower() for r in readings for w in r.split()}  # "ІЛИЯСОВ" too
    out = []
    for t in toks:
        m = _I_LOOKALIKE.match(t.text)
        if m and "і" + m.group(2).rstrip(".,") in seen:
            t = replace(t, text="І" + m.group(2))
        out.append(t)
    return out


def _vote_name(name_toks: list[Tok], kazakh: bool = False) -> dict[str, Found]:
    """The page's reading of the name, word by word confirmed or doubted by two
    more readings of the name's lines alone (one of them Kazakh first). On a
    form filled in Kazakh, a word takes the Kazakh letters the Kazakh-first
    reading gives where the page's model read their Russian look-alikes."""
    alt = alt_reading(name_toks, "name", kin=("kz",))
    if kazakh and alt:
        name_toks = _kazakh_i(name_toks, alt[0])
    words, confs, ok = name_parts(name_toks, weigh=False)
    parsed: list[list[str]] = []
    for r in alt[0] if alt else []:
        rt = _text_tokens(r)
        while rt and _is_label_token(rt[0].text, "name"):  # the cut held the label too
            rt = rt[1:]
        # the Kazakh-first model begins a name in lower case ("нұрғалиев"): the letters stand
        rt = [replace(t, text=t.text[:1].upper() + t.text[1:]) if t.text[:1].islower() else t for t in rt]
        w2, _, ok2 = name_parts(rt)
        if ok2:
            parsed.append(w2)
    agreed = _agreed_name(parsed) if kazakh else None
    if not ok and agreed and _within(words, confs, agreed):
        # the page lost a word in specks ("Алмас:" at 18): the other readings, alike, have it
        words, confs, ok = list(agreed), [_AGREED] * len(agreed), True
    if not ok:
        return {f: Found(None, 0.0, True) for f in _NAME_FIELDS}
    others = [w2 for w2 in parsed if len(w2) == len(words)]
    scanned = any(t.check is not None for t in name_toks)  # OCR, not typed text or a PDF's text layer
    if kazakh:  # before the common names weigh them: "Усенов" is near "Есенов", "Үсенов" is not
        words = [kazakh_letters_from(w, [o[i] for o in others]) for i, w in enumerate(words)]
        # a Kazakh letter misread as no look-alike, or lost ("Сейткалиев"): the other readings' spelling
        words = [kazakh_spelling_from(w, [o[i] for o in others]) for i, w in enumerate(words)]
        if agreed and len(agreed) == len(words):
            for i in range(len(words)):  # a word the page read as specks ("ШЕ" at 12)
                if confs[i] < 0.5 and not _same(words[i], agreed[i]):
                    words[i], confs[i] = agreed[i], _AGREED
    confs = weigh_names(words, confs)
    for i in range(len(words)):
        seen = [o[i] for o in others]
        for b in seen:  # "Элия" here, "Әлия" there: the name list decides
            if (
                kazakh_variant(words[i], b)
                and lexicon.check(b, _NAME_FIELDS[i]) == "known"
                and lexicon.check(words[i], _NAME_FIELDS[i]) != "known"
            ):
                words[i], confs[i] = b, 0.88
        if any(_same(words[i], b) for b in seen):
            confs[i] = max(confs[i], 0.9) if confs[i] > 0.5 else confs[i]  # a near miss stays doubted
        elif seen or (kazakh and scanned):
            # other readings, another word; or a Kazakh name no Kazakh-first reading
            # spelled: rus+kaz reads "Қожахметов" as "Кожахметов", sure of it
            confs[i] = min(confs[i], _CAP)
    return {
        "last_name": Found(words[0], confs[0]),
        "first_name": Found(words[1], confs[1]),
        "patronymic": Found(words[2] if len(words) == 3 else None, confs[2] if len(words) == 3 else 0.9),
    }


# a name word the page's reading lost but two other readings read alike: as sure as a
# word a common name confirms, over the bar for a name and under a sure page word
_AGREED = 0.85


def _agreed_name(parsed: list[list[str]]) -> list[str] | None:
    """The name two readings or more give alike, word for word (but for Kazakh
    letters one read as their look-alikes), spelled with the Kazakh letters; None
    when fewer readings parse or any two differ."""
    if len(parsed) < 2 or len({len(p) for p in parsed}) != 1:
        return None
    out = []
    for variants in zip(*parsed):
        if any(v != variants[0] and not kazakh_variant(v, variants[0]) for v in variants):
            return None
        out.append(max(variants, key=lambda v: sum(c in KAZAKH_LETTERS for c in v)))
    return out


def _within(words: list[str], confs: list[float], agreed: list[str]) -> bool:
    """Is every word the page read surely one of the agreed name's, in its order?"""
    sure = [w for w, c in zip(words, confs) if c >= 0.5]
    k = 0
    for w in sure:
        while k < len(agreed) and not (w == agreed[k] or kazakh_variant(w, agreed[k])):
            k += 1
        if k == len(agreed):
            return False
        k += 1
    return bool(sure)


_KAZAKH_E = "«э» в казахском слове — вероятно, «ә»: проверьте по скану"


def doubt_kazakh_misreads(found: dict[str, Found]) -> None:
    """A Kazakh name or address with a Russian «э» on a scan: Kazakh writes «ә»,
    so the page's model misread it ("Сэумалкөл", "Шэймерденова"); a person reads it."""
    name = " ".join(str(found[f].value or "") for f in _NAME_FIELDS if f in found)
    groups = {"name": _NAME_FIELDS, "address": ("address",)}
    for what, fields in groups.items():
        text = name if what == "name" else str(found["address"].value or "") if "address" in found else ""
        if "э" in text.lower() and kazakh_written(text.split()):
            for f in fields:
                if f in found and found[f].value:
                    found[f].conf = min(found[f].conf, _CAP)
                    found[f].where = "; ".join(filter(None, (found[f].where, _KAZAKH_E)))


def _clean_address_text(reading: str) -> str | None:
    # "… 75 пәтер | Е": the form's border or a speck, and a scrap after it, end the reading
    reading = re.sub(r"\s[|\\!]+(\s+\S{1,2})?\s*$", "", reading)
    toks = trailing_junk(drop_junk(_text_tokens(reading)), odd=True)
    if not toks:
        return None
    a = clean_address(fix_lookalikes_words(join(toks)))
    return a if address_ok(a) else None


def _numbers(s: str) -> list[str]:
    return re.findall(r"\d+", s)


def _number_agree(main: str, other: str) -> bool:
    nums = _numbers(main)
    got = _numbers(other)
    return bool(nums) and all(m in got for m in nums)


def _number_doubt(main: str, other: str) -> bool:
    """Does another reading give one of the address's numbers another digit
    ("30 лет" / "50 лет")? Readings that lost or glued numbers say nothing."""
    got = _numbers(other)
    for m in _numbers(main):
        if m in got:
            continue
        if any(len(g) == len(m) and sum(x != y for x, y in zip(g, m)) == 1 for g in got):
            return True
    return False


_RUN = re.compile(r"[0-9]+")


def _digit_verdict(word: str, reading: str) -> str:
    """How another reading of a word stands to its digits: "agree" (the same
    runs of digits), "other" (as many runs, as long, but another digit: a 3
    read as a 5 by one of the two) or "unsure" (digits lost, added, or read as
    letters: "A8" for "д8", "2548" for "548"). Letters before the digits
    ("кв.95", "от19.03.2026") may come back as digits ("4.9" for "д.9"): only
    the runs where the word has its own count."""
    mine, got = _RUN.findall(word), _RUN.findall(reading)
    core = word.strip(".,;:()«»\"'“”„_|")
    if len(got) > len(mine) and mine and core:
        if not core[0].isdigit():
            got = got[-len(mine) :]
        elif not core[-1].isdigit():
            got = got[: len(mine)]
    if got == mine:
        return "agree"
    if len(got) == len(mine) and all(len(a) == len(b) for a, b in zip(got, mine)):
        return "other"
    return "unsure"


def digits_confirmed(toks: list[Tok]) -> bool:
    """Did the English model, reading each word with digits alone, see the
    same digits as the page's reading?

    The page's model (rus+kaz) reads a 3 as a 5 in some typefaces with a
    confidence of 97-99, and its re-readings at other scales repeat the
    mistake, so only another model's reading can vouch for a digit. A word
    with no second reading is not confirmed. Words of typed text and PDF
    text layers (check None) need no confirmation. See word_digits_confirmed.
    """
    for t in toks:
        if t.check is None or not _RUN.search(t.text):
            continue
        if not word_digits_confirmed(t.text, t.check):
            return False
    return True


def digits_contradicted(toks: list[Tok]) -> bool:
    """Did the English model read another digit in one of these words (a 3
    where the page says 5)? Words nobody read again contradict nothing."""
    return any(
        t.check and _RUN.search(t.text) and any(_digit_verdict(t.text, r) == "other" for r in t.check[:2])
        for t in toks
    )


def english_digits(t: Tok) -> str | None:
    """The word with the English model's digits, when its binarised reading has
    other digits than the page's, and at least one more of its readings (grey, or
    the cuts read alone) the same ones, none the page's and none yet others: the
    page's model misreads a digit of some typefaces (3 as 5) at every scale; None
    otherwise. A garbled reading ("6" for "63") has no say either way."""
    if not t.check or len(t.check) < 2 or not _RUN.search(t.text):
        return None
    if _digit_verdict(t.text, t.check[0]) != "other":
        return None
    n = len(_RUN.findall(t.text))
    said = [tuple(_RUN.findall(r)[-n:]) for r in t.check if _digit_verdict(t.text, r) != "unsure"]
    if any(_digit_verdict(t.text, r) == "agree" for r in t.check) or len(said) < 2 or len(set(said)) != 1:
        return None
    runs = iter(said[0])
    return _RUN.sub(lambda _m: next(runs), t.text)


def word_digits_confirmed(word: str, check: tuple[str, ...]) -> bool:
    """One word's digits against its English readings (page.DIGIT_READS order,
    then the same two cuts read once more, each on its own).

    The binarised reading decides; when it lost or garbled the digits, the
    grey one. When both are garbled, the second pair has the same say: a
    word read beside others on one sheet is sometimes garbled ("79" as
    "719") where read on its own it is clear. A first binarised reading with
    another digit (a 3 where the page says 5) is never overruled.
    """
    if not _RUN.search(word):
        return True

    def pair(reads: tuple[str, ...]) -> str:
        first = _digit_verdict(word, reads[0]) if reads else "unsure"
        if first != "unsure" or len(reads) < 2:
            return first
        return _digit_verdict(word, reads[1])

    first = pair(check[:2])
    if first == "unsure" and len(check) > 2:
        return pair(check[2:4]) == "agree"
    return first == "agree"


def _confirmed_number(t: Tok) -> bool:
    """A word of digits alone that both English readings read as the page does."""
    return (
        bool(re.fullmatch(r"\d{1,4}[.,]?", t.text))
        and bool(t.check)
        and word_digits_confirmed(t.text, t.check)
    )


def _every_other_reading(t: Tok, reads: list[str]) -> str | None:
    """The word with the digits every other reading gives it, where the page's
    reading alone differs ("1535" where the English model read "153" each of
    its times, and the page's model "153" at both its other scales)."""
    if not t.check or len(t.check) < 3 or len({tuple(_RUN.findall(r)) for r in t.check}) != 1:
        return None
    runs = _RUN.findall(t.check[0])
    if len(runs) != len(_RUN.findall(t.text)) or len(reads) < 2:
        return None
    if not all(all(re.search(rf"(?<!\d){r}(?!\d)", other) for r in runs) for other in reads[:2]):
        return None
    it = iter(runs)
    return _RUN.sub(lambda _m: next(it), t.text)


def _speck_number(t: Tok, reads: list[str]) -> bool:
    """A last "5" after the address ("49-пәтер 5") that is a speck: no English
    reading of its cut saw a digit, and no reading of the lines ends with it."""
    if not re.fullmatch(r"\d{1,2}", t.text) or not t.check or not reads:
        return False
    if any(_RUN.search(r) for r in t.check):
        return False
    return not any(re.search(rf"(?<!\d){t.text}\W*$", r) for r in reads if r)


def _vote_address(raw: list[Tok], kazakh: bool = False) -> Found:
    """The page's reading of the address, confirmed or doubted by two more
    readings of the same model, and its numbers by the English model. On a
    form filled in Kazakh, its words take the Kazakh-first reading's letters
    (as names do in _vote_name)."""
    kept = drop_junk(raw)
    at = trailing_junk(kept, odd=True)
    alt = alt_reading(raw, "address", kin=("kz",))
    reads = alt[0] if alt else []
    if len(at) > 1 and _speck_number(at[-1], reads):
        at = at[:-1]
    if len(at) < len(kept) and at and at[-1].text in _ABBR_TOKENS and _confirmed_number(kept[len(at)]):
        # "кв. 9": a faint number the English model read alike twice is its number, as sure as "кв." itself
        at.append(replace(kept[len(at)], conf=max(kept[len(at)].conf, 0.85)))
    main = clean_address(fix_lookalikes_words(join(at))) if at else ""
    if not at or not address_ok(main):
        return Found(None, 0.0, True)
    conf = _address_conf(at)
    second = ""
    if not digits_confirmed(at):  # a house or flat number the English model reads otherwise
        fixed = {
            i: english_digits(t) or _every_other_reading(t, reads)
            for i, t in enumerate(at)
            if t.check is not None and not word_digits_confirmed(t.text, t.check)
        }
        if not all(fixed.values()):
            return Found(main, min(conf, _CAP))
        at = [replace(t, text=fixed[i] or t.text) if i in fixed else t for i, t in enumerate(at)]
        main = clean_address(fix_lookalikes_words(join(at)))
        if not address_ok(main):
            return Found(None, 0.0, True)
        second = f"номер по второму прочтению: {', '.join(str(v) for v in fixed.values())}"
    if kazakh:
        main = " ".join(kazakh_letters_from(w, reads) for w in main.split())
    if second:  # the same model's other readings repeat a misread digit: they have no say here
        return Found(main, min(conf, 0.85), False, second)
    others = [_clean_address_text(r) for r in reads[:2]]
    agree = sum(_number_agree(main, r) for r in reads if r)
    doubt = sum(_number_doubt(main, r) for r in reads if r)
    if doubt and doubt >= agree:
        return Found(main, min(conf, _CAP))
    if any(_same(main, o) for o in others):
        return Found(main, max(conf, 0.9))
    agreed = _agreed_address(at, main, others) if kazakh else None
    if agreed:
        return Found(agreed, _AGREED, False, "адрес по двум согласным прочтениям строки")
    if any(others):
        return Found(main, min(conf, _CAP))
    return Found(main, conf)


def _agreed_address(at: list[Tok], main: str, others: list[str | None]) -> str | None:
    """The address both other readings of its lines give alike (the Kazakh-first
    letters kept), where the page's reading lost words in specks ("р АПТЫНҒарИН"
    at 0.04 for «Ыбырай Алтынсарин»): with the page's numbers (which the English
    model confirmed) and every word the page read surely; else None."""
    if len(others) < 2 or not all(others) or _address_conf(at) >= 0.5:
        return None
    a, b = str(others[0]), str(others[1])
    if a != b and not kazakh_variant(a, b):
        return None
    agreed = max((a, b), key=lambda v: sum(c in KAZAKH_LETTERS for c in v))
    if _numbers(agreed) != _numbers(main):
        return None
    theirs = [w.strip(".,;:") for w in agreed.split()]
    for t in at:
        w = clean_address(fix_lookalikes(t.text)).strip(".,;:")
        if t.conf >= 0.9 and w and not any(w == o or kazakh_variant(w, o) for o in theirs):
            return None
    return agreed


def fix_lookalikes_words(s: str) -> str:
    return " ".join(fix_lookalikes(w) for w in s.split())


def _phone_conf(toks: list[Tok]) -> float:
    digits = [t for t in toks if any(c.isdigit() for c in t.text)]
    return min_conf(digits or toks)


def _vote(values: list[str | None]) -> tuple[str | None, int, int]:
    """(most frequent value, its count, the runner-up's count)."""
    got = [v for v in values if v]
    if not got:
        return None, 0, 0
    counts = sorted(((got.count(v), v) for v in set(got)), reverse=True)
    return counts[0][1], counts[0][0], (counts[1][0] if len(counts) > 1 else 0)


def read_phone(toks: list[Tok]) -> Found:
    """A phone by vote of the page's reading and the English model's three."""
    toks = trailing_junk(drop_junk(toks))
    if not toks:
        return Found(None, 0.0, True)
    main = parse_phone(join(toks))
    cmain = _phone_conf(toks)
    alt = alt_reading(toks, "phone")
    if alt is None:
        return Found(main, cmain) if main else Found(None, 0.0, True)
    others = [parse_phone(r) for r in alt[0]]
    best, n, runner = _vote([main] + others)
    if best is None:
        return Found(None, 0.0, True)
    if n >= 2 and n > runner:
        if n >= 3:
            return Found(best, max(cmain, 0.97))
        return Found(best, max(cmain, 0.92) if best == main else 0.85)
    if n == 1 and best == main and not any(others):  # the English readings made no number
        return Found(main, cmain * 0.9)
    return Found(None, 0.0, True)  # the readings disagree


_LOCAL_WORDS = {
    "info",
    "mail",
    "user",
    "admin",
    "office",
    "post",
    "kz",
    "zh",
    "test",
    "support",
    "sales",
    "buh",
    "priem",
    "kanc",
    "client",
    "manager",
    "director",
    "secretary",
}


def _ambiguous_local(email: str) -> bool:
    """Letters the English model mixes up with digits, where the address would
    read as well either way: "infol564" / "info1564", "2h8227" / "zh8227"."""
    local = email.split("@", 1)[0]
    for run in re.findall(r"[a-z]+(?=\d)", local):
        for k in range(1, len(run)):
            if all(c in "lio" for c in run[-k:]) and run[:-k] in _LOCAL_WORDS:
                return True
    return bool(re.match(r"^[12705][a-z]|^\d\.", local))


def read_email(toks: list[Tok]) -> Found:
    """An e-mail address, when two readings of the English model agree."""
    toks = drop_junk(toks)
    if not toks:
        return Found(None, 0.9)
    alt = alt_reading(toks, "email")
    first = "".join(t.text for t in toks)
    e0 = clean_email(first) if first.isascii() else None
    if alt:
        reads = [clean_email(r) for r in alt[0]]
        best, n, runner = _vote(reads + [e0])
        if best and n >= 2 and n > runner:
            if _ambiguous_local(best):
                return Found(best, 0.5)
            return Found(best, max(0.9 if n >= 3 else 0.85, alt[1]))
        if best:
            return Found(best, 0.5)  # the readings disagree: a clerk decides
    elif e0:
        return Found(e0, min_conf(toks))
    joined = join(toks)
    if "@" in joined or len(re.sub(r"[\W_]", "", joined)) >= 4:  # something is written there
        return Found(None, 0.0, True)
    return Found(None, 0.9)


def form_kind(toks: list[Tok], heading_at: int | None, underlines: dict[str, float]) -> Found:
    if heading_at is None:
        return Found(None, 0.0, True)
    heads = []
    for t in toks[heading_at : heading_at + 8]:
        h = _heading_word(t)
        if h:
            heads.append((h, t))
    names = {h for h, _ in heads}
    if "ЗАЯВЛЕНИЕ" in names or "ӨТІНІШ" in names:
        if names & {"ЖАЛОБА", "ПРЕТЕНЗИЯ", "ОТЗЫВ", "ПРЕДЛОЖЕНИЕ"}:
            return Found(None, 0.0, True)
        conf = max(t.conf for h, t in heads if h in ("ЗАЯВЛЕНИЕ", "ӨТІНІШ"))
        return Found("заявление", max(conf, 0.9))
    for a, b in PAIRS:
        if (
            a in names
            or b in names
            or (a == "ЖАЛОБА" and names & {"ШАҒЫМ", "АРЫЗ"})
            or (a == "ОТЗЫВ" and names & {"ПІКІР", "ҰСЫНЫС"})
        ):
            sa, sb = underlines.get(a, 0.0), underlines.get(b, 0.0)
            hi, lo = max(sa, sb), min(sa, sb)
            if (hi >= 0.6 and lo <= 0.45) or (hi >= 0.85 and hi - lo >= 0.35):
                win = a if sa > sb else b
                conf = min(1.0, 0.6 + (hi - lo))
                return Found(win.lower(), conf, False)
            return Found(None, 0.0, True)
    return Found(None, 0.0, True)


def form_pair(toks: list[Tok]) -> tuple[str, str] | None:
    """Which pair of words the form offers to underline, if any."""
    names = {_heading_word(t) for t in toks}
    for a, b in PAIRS:
        if a in names or b in names:
            return a.lower(), b.lower()
    return None


# --- an organisation's letter --------------------------------------------

_ORG_RE = re.compile(
    rf"(?<![{CYR}A-Za-z])({'|'.join(ORG_TYPES)})\s*[«\"'“„<]{{1,2}}\s*([^«»\"“”<>]{{2,80}}?)\s*[»\"'”>]{{1,2}}"
)
_ORG_BARE_RE = re.compile(
    rf"^\s*({'|'.join(BARE_ORG_TYPES)})\s+([{CYR_UP}A-Z][^«»\"“”<>,;]{{1,80}}?)\s*(?:[,;].*|\s+БИН.*|\s+ИИН.*)?$"
)
_BARE_LINES = 4  # the letterhead: an organisation is named in the first lines or not bare at all
_OUT_RE = re.compile(
    r"(?:Исх|исх|ИСХ)[.,:]?\s*(?:[№#]|[NМM][%oо°ºsgeО]?)?\s*[.:]?\s*([0-9A-Za-zА-Яа-я][0-9A-Za-zА-Яа-я\-/.]*?)"
    r"[.,]?\s+(?:от|ОТ|оm)\s+(\d{1,2}\s*[.,:]\s*\d{1,2}\s*[.,:]\s*\d{4}|«?\d{1,2}»?\s+[а-я]+\s+\d{4})"
)


# the subject's "Исх. № 36-1" without the date
_OUT_NUM_RE = re.compile(
    r"(?:Исх|исх|ИСХ)[.,:]?\s*(?:[№#]|[NМM][%oо°ºsgeО]?)?\s*[.:]?\s*(?=[^\s]*\d)"
    r"([0-9A-Za-zА-Яа-я][0-9A-Za-zА-Яа-я\-/.]*)"
)


_ORG_FIX = str.maketrans({"0": "О", "O": "О", "o": "О", "T": "Т", "A": "А", "K": "К", "Y": "У", "X": "Х"})


def _span_toks(line: list[Tok], start: int, end: int) -> list[Tok]:
    """Tokens of a line covering characters [start, end) of join(line)."""
    out, pos = [], 0
    for t in line:
        a, b = pos, pos + len(t.text)
        if b > start and a < end:
            out.append(t)
        pos = b + 1
    return out


_HYPHEN = re.compile(r"(?<=\w) ?- ?(?=\w)")  # "Жол -Агро": OCR's space at a hyphen inside a name


def _kazakh_letters(name: str, line: list[Tok], pattern: re.Pattern[str]) -> str:
    """The organisation's name with the Kazakh letters the Kazakh-first reading of
    its line gives ("Нур Аксу" read, "Нұр Ақсу" written): taken only where that
    reading differs by Kazakh letters for their Russian look-alikes, nothing else."""
    alt = alt_reading(line, "org")
    if not alt:
        return name
    for reading in alt[0]:
        m = pattern.search(reading) if pattern is _ORG_RE else pattern.match(reading)
        if m:
            other = _HYPHEN.sub("-", re.sub(r"(?<=\w)[:;](?=\s)", "", m.group(2).strip()))
            if kazakh_variant(name, other):
                return other
    return name


def read_letter(toks: list[Tok]) -> dict[str, Found] | None:
    lines = lines_of(toks)
    out: dict[str, Found] = {}
    org: Found | None = None
    outno: Found | None = None
    sure = (False, False)  # are the number's and the date's digits confirmed
    for n_line, ln in enumerate(lines):
        text = re.sub(
            r"(?<![\w])([ТTАAИKКГ][О0OОoКKУYХXП]{0,3})(?=\s*[«\"“„<])",
            lambda m: m.group(1).translate(_ORG_FIX),
            join(ln),
        )
        low = text.lower()
        if org is None:
            for m in _ORG_RE.finditer(text):
                name = m.group(2).strip()
                if any(o in squash(name) for o in OWN_ORGS) or "директор" in low:
                    continue
                cov = _span_toks(ln, m.start(), m.end())
                name = re.sub(r"(?<=\w)[:;](?=\s)", "", name)  # a speck after a word
                name = _HYPHEN.sub("-", name)
                name = _kazakh_letters(fix_lookalikes_words(name), ln, _ORG_RE)
                org = Found(f"{m.group(1)} «{name}»", min_conf(cov))
                break
        if org is None and outno is None and n_line < _BARE_LINES:
            m = _ORG_BARE_RE.match(text)
            if m and not any(o in squash(m.group(2)) for o in OWN_ORGS) and "директор" not in low:
                cov = _span_toks(ln, m.start(), m.end(2))
                name = _kazakh_letters(
                    fix_lookalikes_words(_HYPHEN.sub("-", m.group(2).strip())), ln, _ORG_BARE_RE
                )
                org = Found(f"{m.group(1)} «{name}»", min_conf(cov))
        if outno is None:
            m = _OUT_RE.search(text)
            if m:
                cov = _span_toks(ln, m.start(), m.end())
                date = parse_date(m.group(2))
                number = m.group(1).strip(".,")
                outno = Found((number, date), min_conf(cov))
                # each part's digits as the English model reads them alone
                sure = (
                    digits_confirmed(_span_toks(ln, m.start(1), m.end(1))),
                    digits_confirmed(_span_toks(ln, m.start(2), m.end(2))),
                )
    if org is None and outno is None:
        return None
    out["org_name"] = org or Found(None, 0.0, True)
    if outno:
        cn = outno.conf if sure[0] else min(outno.conf, _CAP)
        cd = outno.conf if sure[1] else min(outno.conf, _CAP)
    if outno and outno.value[1]:
        out["outgoing_number"] = Found(outno.value[0], cn)
        out["outgoing_date"] = Found(outno.value[1], cd)
    elif outno:
        out["outgoing_number"] = Found(outno.value[0], cn)
        out["outgoing_date"] = Found(None, 0.0, True)
    else:
        out["outgoing_number"] = Found(None, 0.0, True)
        out["outgoing_date"] = Found(None, 0.0, True)
    out["phone"] = letter_phone(lines)
    out["email"] = letter_email(lines)
    out["kind"] = letter_kind(lines)
    return out


def letter_phone(lines: list[list[Tok]]) -> Found:
    """The letter's contact phone: a "Контактный телефон" line first, then any
    "тел." line (a letterhead's fax last), then a bare number."""
    ranked: list[tuple[int, Found]] = []
    contact_line = False
    for ln in lines:
        ln = drop_junk(ln)
        if not ln:
            continue
        text = join(ln)
        low = text.lower()
        if "контакт" in low and "тел" in low:
            contact_line = True
        if re.search(r"(бин|иин|iin|bin|иик|бик|р/с|счет|счёт)", low) and not re.search(r"тел", low):
            continue
        m = re.search(r"(телефон\w*|тел\.?|моб\.?|phone)\s*[:.]?", low)
        seg_start = m.end() if m else 0
        if not m and not parse_phone(text):
            continue
        cov = [t for t in _span_toks(ln, seg_start, len(text)) if any(c.isdigit() for c in t.text)]
        found = read_phone(cov)
        if not found.value:
            continue
        if "контакт" in low or "моб" in low:
            rank = 0
        elif m and "факс" not in low:
            rank = 1
        elif m:
            rank = 2
        else:
            rank = 3
        ranked.append((rank, found))
    if not ranked or (contact_line and min(r for r, _ in ranked) > 0):
        return Found(None, 0.0, True)  # the contact phone is there but unreadable
    top = min(r for r, _ in ranked)
    cands = [f for r, f in ranked if r == top]
    if len({c.value for c in cands}) > 1:
        return Found(None, 0.0, True)
    best = max(cands, key=lambda c: c.conf)
    return best if top <= 1 else Found(best.value, best.conf * 0.9)


def letter_email(lines: list[list[Tok]]) -> Found:
    toks = [t for ln in lines for t in ln if "@" in t.text or (t.alt and t.alt[0] == "email")]
    if not toks:
        return Found(None, 0.9)
    return read_email(toks)


def letter_kind(lines: list[list[Tok]]) -> Found:
    for ln in lines:
        ln = drop_junk(ln)
        words = [squash(t.text) for t in ln]
        if not words or len(words) > 6:
            continue
        head = words[0]
        for stem, k in _KIND_STEMS + _GENERAL_STEMS:
            if head.startswith(stem) and len(head) <= len(k) + 1:
                if len(words) == 1 or words[1] in ("о", "об", "на", "по", "в"):
                    return Found(k, min(1.0, ln[0].conf + 0.05))
    text = " ".join(join(ln) for ln in lines).lower()
    if re.search(r"(перерасч|возмест|возмещ|компенс|вернуть\s+излишне|неустойк|убытк)", text):
        return Found("претензия", 0.8)
    return Found(None, 0.0, True)


# --- "Label: value" text (the website form, typed bodies) -----------------

_BODY_LABELS = {
    "kind": r"тип\s+обращения|вид\s+обращения",
    "fio": r"ф\.?\s*и\.?\s*о\.?|фамилия,?\s+имя(,?\s+отчество)?",
    "last_name": r"фамилия",
    "first_name": r"имя",
    "patronymic": r"отчество",
    "address": r"адрес(\s+проживания)?|почтовый\s+адрес",
    "phone": r"(контактный\s+)?телефон|тел\.?",
    "email": r"e-?mail|эл\.?\s*почта|электронная\s+почта",
    "org_name": r"организация|наименование(\s+организации)?",
}


def read_labelled(text: str) -> dict[str, Found]:
    vals: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([^:]{2,40}?)\s*:\s*(.*?)\s*$", line)
        if not m:
            continue
        label = m.group(1).lower()
        for key, rx in _BODY_LABELS.items():
            if re.fullmatch(rx, label) and key not in vals:
                vals[key] = m.group(2)
                break
    out: dict[str, Found] = {}
    if "kind" in vals:
        k = vals["kind"].strip().lower()
        k = next((kk for kk in KINDS if k.startswith(kk[:6])), None)
        out["kind"] = Found(k, 1.0) if k else Found(None, 0.0, True)
    if "fio" in vals or "last_name" in vals:
        if "fio" in vals:
            toks = [Tok(w, 1.0, 0) for w in vals["fio"].split()]
        else:
            toks = [
                Tok(vals.get(k, ""), 1.0, 0) for k in ("last_name", "first_name", "patronymic") if vals.get(k)
            ]
        words, _, ok = name_parts(toks)
        if ok:
            out["last_name"] = Found(words[0], 1.0)
            out["first_name"] = Found(words[1], 1.0)
            out["patronymic"] = Found(words[2] if len(words) == 3 else None, 1.0)
        else:
            for f in ("last_name", "first_name", "patronymic"):
                out[f] = Found(None, 0.0, True)
    if "address" in vals:
        a = clean_address(vals["address"])
        out["address"] = Found(a, 1.0) if a else Found(None, 0.0, True)
    if "phone" in vals:
        p = parse_phone(vals["phone"])
        out["phone"] = Found(p, 1.0) if p else Found(None, 0.0, bool(vals["phone"].strip()))
    if "email" in vals:
        e = clean_email(vals["email"])
        out["email"] = Found(e, 1.0) if e else Found(None, 0.0, bool(vals["email"].strip()))
    if vals.get("org_name"):
        m = _ORG_RE.search(vals["org_name"])
        out["org_name"] = Found(
            f"{m.group(1)} «{m.group(2).strip()}»" if m else vals["org_name"].strip(), 1.0
        )
    return out


# --- what the covering e-mail says ---------------------------------------


def body_consumer(text: str) -> tuple[str | None, str | None]:
    """'... потребителя Омаров А., ...' -> ('Омаров', 'А')."""
    m = re.search(
        rf"потребител[яюь][ \t]+([{CYR_UP}][{CYR_LO}]+(?:-[{CYR_UP}][{CYR_LO}]+)?)"
        rf"(?:\s+([{CYR_UP}])\.)?",
        text,
    )
    if not m:
        return None, None
    return m.group(1), m.group(2)


def book_time(subject: str, body: str, sent: dt.datetime | None) -> tuple[dt.datetime | None, float, bool]:
    """The Book entry's time from 'запись от 07.03.2026 14:49' (subject, else body).

    The time is the local time the consumer wrote. It is given the UTC offset
    of the forwarding message's Date header (the clerk's own clock), or UTC+5
    (Kazakhstan) when the message has no usable date.
    """
    rx = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\s*(?:г\.?\s*)?(?:в\s*)?(\d{1,2})[:.](\d{2})")
    found = []
    for src in (subject, body):
        for m in rx.finditer(src or ""):
            try:
                found.append(
                    dt.datetime(
                        int(m.group(3)), int(m.group(2)), int(m.group(1)), int(m.group(4)), int(m.group(5))
                    )
                )
            except ValueError:
                continue
    if not found:
        return None, 0.0, True
    if len(set(found)) > 1:
        return None, 0.0, True
    naive = found[0]
    kz = dt.timezone(dt.timedelta(hours=5))
    tz = sent.tzinfo if sent is not None and sent.utcoffset() is not None else kz
    at = naive.replace(tzinfo=tz)
    if sent is not None and tz is not kz and at > sent + dt.timedelta(minutes=5):
        at = naive.replace(tzinfo=kz)  # would be after it was sent: the clock is local
    return at, 1.0, False
