"""A person's name as the journal keeps it: nominative, surname first.

Letters name the applicant in the genitive ("от Есеновой Ольги Сериковны"),
Kazakh letters in the ablative ("… Қасымов Дәурен Ғабитұлынан"), e-mails and
signatures in the nominative, and a careless header leaves the nominative
after "от" ("от Омаров Ерлан Иванович"). The case is decided for the whole
name from its words; each word's nominative is found by undoing its ending
and checked by declining the candidate forward (`resolution_text.declension`
owns how names decline). Where two nominatives decline to the same word
(Айгули: Айгуль or Айгуля), the region's common names and pymorphy3's
Surn/Name/Patr readings choose, or the name is left for a person. Only the
ending changes: Kazakh letters and the writer's spelling are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..resolution_text import declension, morph
from . import names as common
from .text import CYR_LO, CYR_UP

ROLES = ("last_name", "first_name", "patronymic")
_WORD = re.compile(rf"^[{CYR_UP}][{CYR_LO}]+(?:-[{CYR_UP}][{CYR_LO}]+)?$")
_MALE_PATR = ("ич", "улы", "ұлы", "оглы", "уулу")
_FEMALE_PATR = ("вна", "чна", "кызы", "қызы")
_KAZAKH_PATR = ("улы", "ұлы", "кызы", "қызы", "оглы", "уулу")
_GEN_PATR = ("ича", "вны", "чны")
ABLATIVE = ("нан", "нен", "дан", "ден", "тан", "тен")  # Kazakh "from": a letter's header
_VELAR_HUSHING = "кгхжшщч"
_TAG = {"last_name": "Surn", "first_name": "Name", "patronymic": "Patr"}


@dataclass(frozen=True)
class PersonName:
    last_name: str
    first_name: str
    patronymic: str | None
    conf: float  # 1.0 as written; lower where a nominative had to be chosen
    gender: str | None  # "m" | "f" | None when nothing said
    note: str  # for the card: how the written words became these


def is_name_word(word: str) -> bool:
    return bool(_WORD.match(word))


def gender_of(words: list[str], hint: str | None = None) -> str | None:
    """The patronymic says it; else the writer's "проживающей"; else the first name or the surname."""
    if len(words) == 3:
        p = words[2].lower()
        if p.endswith(_MALE_PATR) or p.endswith(("ича", "ичу")):
            return "m"
        if p.endswith(_FEMALE_PATR) or p.endswith(("вны", "чны", "вне", "вну")):
            return "f"
    if hint:
        return hint
    if len(words) >= 2:
        first = words[1]
        male, female = set(common.MALE_FIRST), set(common.FEMALE_FIRST)
        for cand in (first, *_undo(first, "first_name", "m"), *_undo(first, "first_name", "f")):
            if cand in male and cand not in female:
                return "m"
            if cand in female and cand not in male:
                return "f"
    last = words[0].lower()
    if last.endswith(("овой", "евой", "иной", "ыной", "ской", "цкой")):
        return "f"
    return None


def _undo(word: str, role: str, gender: str) -> list[str]:
    """The nominatives whose genitive could be `word` (unchecked)."""
    w = word
    lo = w.lower()
    out: list[str] = []
    if role == "patronymic":
        if lo.endswith("ича"):
            out.append(w[:-1])
        elif lo.endswith(("вны", "чны")):
            out.append(w[:-1] + "а")
        return out
    if role == "last_name":
        if gender == "m":
            if lo.endswith("ого"):
                out += [w[:-3] + e for e in ("ий", "ый", "ой")]
            elif lo.endswith("а"):
                out.append(w[:-1])
            elif lo.endswith("я"):
                out += [w[:-1] + "й", w[:-1] + "ь"]
        else:
            if lo.endswith("ой"):
                out += [w[:-2] + "а", w[:-2] + "ая"]
            elif lo.endswith(("ы", "и")):
                out += [w[:-1] + "а", w[:-1] + "я"]
        return out
    # first names
    if lo.endswith("ии"):
        out.append(w[:-1] + "я")
    elif lo.endswith("ы"):
        out.append(w[:-1] + "а")
    elif lo.endswith("и"):
        if lo[-2:-1] in _VELAR_HUSHING:
            out.append(w[:-1] + "а")
        else:
            out += [w[:-1] + "ь", w[:-1] + "я"]
    elif gender == "m" and lo.endswith("а"):
        out.append(w[:-1])
    elif gender == "m" and lo.endswith("я"):
        out += [w[:-1] + "й", w[:-1] + "ь"]
    return out


def _forms(word: str, role: str, gender: str) -> declension.Forms:
    k = morph.key(word)
    if role == "last_name":
        return declension.surname(k, gender)
    if role == "first_name":
        return declension.first_name(k, gender)
    return declension.patronymic(k)


def _declines_to(nominative: str, word: str, role: str, gender: str, case: str) -> bool:
    return morph.key(word) in _forms(nominative, role, gender)[case]


def _looks_nominative(word: str, role: str, gender: str) -> bool:
    lo = word.lower()
    if role == "patronymic":
        return lo.endswith(_MALE_PATR if gender == "m" else _FEMALE_PATR)
    if role == "last_name":
        if gender == "f" and lo.endswith(("ой",)) and not lo.endswith(("ской", "цкой")):
            return False
        if gender == "m" and lo.endswith(("ова", "ева", "ина", "ына", "ого")):
            return False
        return True
    if gender == "m":
        return not lo.endswith(("а", "я", "ы", "и")) or word in common.MALE_FIRST
    return not lo.endswith(("ы",)) and (not lo.endswith("и") or word in common.FEMALE_FIRST)


def _morph_nominative(word: str, role: str, gender: str, case: str) -> set[str]:
    """pymorphy3's nominatives (key spelling) of the word read as this role, gender and case."""
    want_case = {"gen": "gent", "nom": "nomn"}[case]
    want_gender = {"m": "masc", "f": "femn"}[gender]
    out = set()
    for p in morph.parses(word):
        g = p.tag.grammemes
        if _TAG[role] not in g or p.tag.case != want_case or not ({want_gender, "ms-f"} & g):
            continue
        infl = p.inflect({"nomn", "sing"})
        if infl is not None:
            out.add(morph.key(infl.word))
    return out


def _choose(word: str, role: str, gender: str) -> tuple[str | None, float]:
    """The nominative of a genitive word, and how sure (None: two candidates, nothing decides)."""
    cands = [c for c in _undo(word, role, gender) if _declines_to(c, word, role, gender, "gen")]
    if _declines_to(word, word, role, gender, "gen") and word not in cands:
        cands.append(word)  # indeclinable: Петренко, Жұлдыз, Ғабитұлы
    cands = list(dict.fromkeys(cands))
    if not cands:
        return None, 0.0
    if len(cands) == 1:
        return cands[0], 0.95
    known = [c for c in cands if common.check(c, role) == "known"]
    if len(known) == 1:
        return known[0], 0.93
    if role == "first_name" and gender == "f" and word.lower().endswith("ли"):
        return word[
            :-1
        ] + "ь", 0.9  # Назгули, Айгули: Kazakh names in -ль; a formal Russian name is not in -ля
    said = _morph_nominative(word, role, gender, "gen")
    by_morph = [c for c in cands if morph.key(c) in said]
    if len(by_morph) == 1:
        return by_morph[0], 0.9
    if role == "last_name" and gender == "f":
        # -овой: Есенова, not Есеновая; -ской: Вишневская, not Вишневска (checked above)
        stem = word[:-2].lower()
        if stem.endswith(("ов", "ев", "ёв", "ин", "ын")):
            return word[:-2] + "а", 0.93
        if stem.endswith(("ск", "цк")):
            return word[:-2] + "ая", 0.93
    if role == "last_name" and gender == "m" and word.lower().endswith("ого"):
        stem = word[:-3].lower()
        if stem[-1:] in _VELAR_HUSHING or stem.endswith(("ск", "цк")):
            return word[:-3] + "ий", 0.9
    return None, 0.0


def _strip_ablative(words: list[str]) -> list[str] | None:
    last = words[-1]
    lo = last.lower()
    for suf in ABLATIVE:
        if lo.endswith(suf) and len(lo) > len(suf) + 2:
            return [*words[:-1], last[: -len(suf)]]
    return None


def read(words: list[str], *, context: str = "nom", gender_hint: str | None = None) -> PersonName | None:
    """The name in `words` (Фамилия Имя [Отчество]) in the nominative, or None.

    context: "gen" after "от", "abl" for a Kazakh letter's "…-нан", "nom" elsewhere.
    """
    words = [w for w in words if w]
    if context == "abl":
        stripped = _strip_ablative(words)
        if stripped is None:
            return None
        words = stripped
    if not 2 <= len(words) <= 3 or not all(is_name_word(w) for w in words):
        return None
    if len(words) == 3 and _patronymic_first(words):
        words = [words[2], words[0], words[1]]  # "Бауыржана Сериковича Иванова"
    if len(words) == 3 and not words[2].lower().endswith(_MALE_PATR + _FEMALE_PATR + _GEN_PATR):
        words = words[:2]  # the next line's word, not a patronymic
    gender = gender_of(words, gender_hint)
    if context in ("nom", "abl"):
        return _as_written(words, gender, "как написано")
    genders = [gender] if gender else ["m", "f"]
    results: list[PersonName] = []
    for g in genders:
        r = _read_gen(words, g)
        if r is not None:
            results.append(r)
    if len(results) == 1 or (results and len({(r.last_name, r.first_name) for r in results}) == 1):
        return results[0]
    if results:  # two readings, nothing says which: a person decides
        r = results[0]
        return PersonName(r.last_name, r.first_name, r.patronymic, 0.5, None, "род не определён")
    return None


def _patronymic_first(words: list[str]) -> bool:
    mid, last = words[1].lower(), words[2].lower()
    pat = _MALE_PATR + _FEMALE_PATR + _GEN_PATR
    return mid.endswith(pat) and not last.endswith(pat)


def _as_written(words: list[str], gender: str | None, note: str) -> PersonName:
    patr = words[2] if len(words) == 3 else None
    if len(words) == 2 and words[1].lower().endswith(_MALE_PATR + _FEMALE_PATR + _GEN_PATR):
        return PersonName(words[0], words[1], None, 0.0, gender, "имя не написано")
    return PersonName(words[0], words[1], patr, 1.0, gender, note)


def _read_gen(words: list[str], gender: str) -> PersonName | None:
    """After "от": declined, or left in the nominative by the writer; the words say which."""
    roles = ROLES[: len(words)]
    nominative = all(_looks_nominative(w, r, gender) for w, r in zip(words, roles, strict=True))
    declined: list[tuple[str | None, float]] = [
        _choose(w, r, gender) for w, r in zip(words, roles, strict=True)
    ]
    genitive = all(v is not None for v, _ in declined)
    if genitive and nominative:
        changed = [v != w for (v, _), w in zip(declined, words, strict=True)]
        if not any(changed):
            genitive = False  # nothing declines: the same words either way
        elif len(words) == 3 and not words[2].lower().endswith(_KAZAKH_PATR):
            # a Russian patronymic says the case by its ending
            genitive = words[2].lower().endswith(_GEN_PATR)
            nominative = not genitive
        else:
            genitive = _genitive_shape(words, gender)
            nominative = not genitive
    if genitive:
        vals = [v or "" for v, _ in declined]
        conf = min(c for _, c in declined)
        return PersonName(
            vals[0],
            vals[1],
            vals[2] if len(vals) == 3 else None,
            conf,
            gender,
            "родительный падеж → именительный",
        )
    if nominative:
        r = _as_written(words, gender, "именительный падеж после «от»")
        return PersonName(r.last_name, r.first_name, r.patronymic, min(r.conf, 0.93), gender, r.note)
    return None


def _genitive_shape(words: list[str], gender: str) -> bool:
    """Both readings decline: the surname's or the first name's ending decides."""
    last, first = words[0].lower(), words[1].lower()
    if gender == "m":
        return last.endswith(("ова", "ева", "ёва", "ина", "ына", "ого")) or (
            last[-1:] not in "аяоеиуыэю" and first.endswith(("а", "я")) and words[1] not in common.MALE_FIRST
        )
    return last.endswith(("ой", "ы", "и")) or first.endswith(("ы",))
