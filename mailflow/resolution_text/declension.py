"""Case forms of surnames, first names and patronymics, written out by hand.

A table, not the analyser, decides how a directory name declines, so that a
Kazakh surname the dictionary has never seen (Кожахметов, Жумабаев) declines
exactly like Петров, and an indeclinable one (Сидоренко, Нурланұлы) never
grows an ending. Every function returns {case: {forms}} over the six cases
nom gen dat acc ins loc, in key spelling (see morph.key).
"""

from __future__ import annotations

CASES = ("nom", "gen", "dat", "acc", "ins", "loc")
HUSHING = "жшщчц"
VELAR_HUSHING = "кгхжшщч"

Forms = dict[str, set[str]]


def _same(word: str) -> Forms:
    return {c: {word} for c in CASES}


def _table(nom: str, stem: str, endings: tuple[str, str, str, str, str]) -> Forms:
    gen, dat, acc, ins, loc = endings
    return {
        "nom": {nom},
        "gen": {stem + gen},
        "dat": {stem + dat},
        "acc": {stem + acc},
        "ins": {stem + ins},
        "loc": {stem + loc},
    }


def _first_declension(word: str) -> Forms:
    """Nouns in -а/-я of either gender: Головня, Сковорода, Ольга, Мария."""
    stem, last = word[:-1], word[-1]
    if word.endswith("ия"):
        return _table(word, stem, ("и", "и", "ю", "ей", "и"))
    if last == "я":
        return _table(word, stem, ("и", "е", "ю", "ей", "е"))
    gen = "и" if stem[-1:] in VELAR_HUSHING else "ы"
    ins = "ей" if stem[-1:] in HUSHING else "ой"
    forms = _table(word, stem, (gen, "е", "у", ins, "е"))
    forms["ins"].add(stem + "ою")
    return forms


def _masc_consonant(word: str) -> Forms:
    if word.endswith("ий"):
        return _table(word, word[:-1], ("я", "ю", "я", "ем", "и"))
    if word.endswith(("й", "ь")):
        return _table(word, word[:-1], ("я", "ю", "я", "ем", "е"))
    ins = "ем" if word[-1] in HUSHING else "ом"
    return _table(word, word, ("а", "у", "а", ins, "е"))


INDECLINABLE_ENDINGS = ("ко", "их", "ых", "ово", "аго", "яго", "улы", "кызы", "уулу", "кызы")


def surname(word: str, gender: str) -> Forms:
    """`word` in key spelling, nominative; gender 'm' or 'f'."""
    if "-" in word:
        parts = [surname(p, gender) for p in word.split("-")]
        out: Forms = {}
        for c in CASES:
            combos = {""}
            for part in parts:
                combos = {f"{a}-{b}" if a else b for a in combos for b in part[c]}
            out[c] = combos
        return out
    w = word
    if w.endswith(INDECLINABLE_ENDINGS) or w[-1:] in "оеиуюыэ":
        return _same(w)
    if gender == "m":
        if w.endswith(("ов", "ев", "ин", "ын")):
            return _table(w, w, ("а", "у", "а", "ым", "е"))
        if (
            w.endswith(("ский", "цкий", "ской", "цкой"))
            or w.endswith(("ый", "ой"))
            or (w.endswith("ий") and w[-3:-2] in VELAR_HUSHING)
        ):
            stem = w[:-2]
            ins = "им" if stem[-1:] in VELAR_HUSHING else "ым"
            return _table(w, stem, ("ого", "ому", "ого", ins, "ом"))
        if w[-1:] in "ая":
            return _first_declension(w)
        return _masc_consonant(w)
    # feminine
    if w.endswith(("ова", "ева", "ина", "ына")):
        stem = w[:-1]
        return _table(w, stem, ("ой", "ой", "у", "ой", "ой"))
    if w.endswith("ая"):
        stem = w[:-2]
        return _table(w, stem, ("ой", "ой", "ую", "ой", "ой"))
    if w[-1:] in "ая":
        return _first_declension(w)
    return _same(w)  # a woman's consonant-final surname does not decline


def first_name(word: str, gender: str) -> Forms:
    w = word
    if w[-1:] in "оеиуюыэ":
        return _same(w)
    if w[-1:] in "ая":
        return _first_declension(w)
    if gender == "m":
        return _masc_consonant(w)
    if w.endswith("ь"):
        # Любовь, Айгуль: Айгуль is often left undeclined in Kazakhstan
        stem = w[:-1]
        forms = _table(w, stem, ("и", "и", "ь", "ью", "и"))
        for c in CASES:
            forms[c].add(w)
        return forms
    return _same(w)


def patronymic(word: str) -> Forms:
    w = word
    if w.endswith(("улы", "кызы")):
        return _same(w)
    if w.endswith("ич"):
        return _table(w, w, ("а", "у", "а", "ем", "е"))
    if w.endswith("на"):
        stem = w[:-1]
        return _table(w, stem, ("ы", "е", "у", "ой", "е"))
    return _same(w)


def gender_of(
    surname_key: str, first_key: str | None, patronymic_key: str | None, first_name_gender: str | None = None
) -> str:
    if patronymic_key:
        if patronymic_key.endswith(("на", "кызы")):
            return "f"
        if patronymic_key.endswith(("ич", "улы")):
            return "m"
    if surname_key.endswith("кызы"):
        return "f"
    if surname_key.endswith("улы"):
        return "m"
    if first_name_gender in ("m", "f"):
        return first_name_gender
    if surname_key.endswith(("ова", "ева", "ина", "ына", "ая")):
        return "f"
    return "m"
