"""The staff directory as a resolution names it.

Each person who may receive a resolution (any role but website_form) becomes
an Entry. A personal name ("Петров Алексей Сергеевич") gives every case form
of the surname, the first name and the patronymic, and the initials; an
entry that is a post or a mailbox ("Начальник Айыртауского РЭС", "Канцелярия
ДП") gives a phrase matched word by word in any case form, and so does its
unit ("Айыртаускому РЭС"). Aliases are read the same way: "Жумабаев Е.С."
adds a surname with initials, "Бауыржан Ерланович" a first name and
patronymic, anything else a phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..rules import Person, Staff
from . import declension, morph

NOT_ADDRESSABLE = frozenset({"website_form"})
_PATRONYMIC_END = ("вич", "вна", "чна", "ична", "улы", "кызы")
_WORD = re.compile(rf"[{morph.LETTERS}]+(?:-[{morph.LETTERS}]+)*")
_INITIALS = re.compile(rf"^([{morph.LETTERS}])\.\s*(?:([{morph.LETTERS}])\.?)?$")


@dataclass(eq=False)
class Entry:
    person: Person
    short: str  # "Петров А.С."; a post's own name
    surname: str | None = None  # keys, nominative
    first: str | None = None
    patronymic: str | None = None
    gender: str | None = None
    first_forms: set[str] = field(default_factory=set)
    patronymic_forms: set[str] = field(default_factory=set)

    @property
    def initials(self) -> tuple[str, ...]:
        return tuple(x[0] for x in (self.first, self.patronymic) if x)

    @property
    def full(self) -> str:
        return self.person.name


@dataclass(frozen=True)
class Phrase:
    words: tuple[frozenset[str], ...]  # lemma keys of each word
    entry: Entry
    unit: bool  # from the unit: only nominative/dative readings count


@dataclass
class Index:
    entries: list[Entry]
    surnames: dict[str, list[tuple[Entry, frozenset[str]]]]
    firsts: dict[str, list[tuple[Entry, frozenset[str]]]]
    patronymics: dict[str, list[tuple[Entry, frozenset[str]]]]
    phrases: list[Phrase]


def _is_patronymic(k: str) -> bool:
    return k.endswith(_PATRONYMIC_END)


def _person_parts(name: str) -> tuple[str, str | None, str | None, tuple[str, ...]] | None:
    """(surname, first, patronymic, initials) when `name` is a person's name."""
    if re.search(r"[«»\"“”№\d:()]", name):
        return None
    tokens = name.replace(".", ". ").split()
    words = [t for t in tokens if not _INITIALS.match(t) and len(t.rstrip(".")) > 1]
    inits = [t.rstrip(".") for t in tokens if len(t.rstrip(".")) == 1]
    if not 1 <= len(words) <= 3 or len(words) + len(inits) < 2:
        return None
    if not all(_WORD.fullmatch(w) and w[0].isupper() and not w.isupper() for w in words):
        return None
    keys = [morph.key(w) for w in words]
    if inits:
        if len(words) != 1:
            return None
        return keys[0], None, None, tuple(morph.letter_key(i) for i in inits[:2])
    patr_at = [n for n, k in enumerate(keys) if _is_patronymic(k)]
    if len(words) == 3 and not patr_at:
        return None
    if len(words) == 2 and not patr_at and max(morph.name_score(w) for w in words) < 0.5:
        return None
    if len(words) == 1:
        return None
    if len(words) == 3:
        if _is_patronymic(keys[0]) or not _is_patronymic(keys[2]) and _is_patronymic(keys[1]):
            return None
        if _is_patronymic(keys[1]) and not _is_patronymic(keys[2]):
            return keys[2], keys[0], keys[1], ()  # Алексей Сергеевич Петров
        return keys[0], keys[1], keys[2], ()
    if len(words) == 2:
        if _is_patronymic(keys[1]):
            return "", keys[0], keys[1], ()  # Бауыржан Ерланович
        return keys[0], keys[1], None, ()
    return keys[0], None, None, ()


def _short(surname: str, first: str | None, patronymic: str | None, name: str) -> str:
    words = [w for w in re.split(r"\s+", name) if w]
    shown = next((w for w in words if morph.key(w) == surname), surname.capitalize())
    inits = "".join(f"{x[0].upper()}." for x in (first, patronymic) if x)
    return f"{shown} {inits}".strip()


_PHRASE_WORD = re.compile(rf"[{morph.LETTERS}]+(?:-[{morph.LETTERS}]+)*|\d+")
ORG_FORMS = frozenset({"тоо", "ао", "ип", "гкп", "ргп", "пк", "оао", "зао", "ооо"})


def _phrase_words(text: str) -> tuple[frozenset[str], ...]:
    return tuple(morph.lemmas(w) for w in _PHRASE_WORD.findall(text) if morph.key(w) not in ORG_FORMS)


def _add(index: dict, forms: dict[str, set[str]], entry: Entry) -> set[str]:
    by_form: dict[str, set[str]] = {}
    for case, words in forms.items():
        for w in words:
            by_form.setdefault(w, set()).add(case)
    for w, cases in by_form.items():
        lst = index.setdefault(w, [])
        for n, (e, c) in enumerate(lst):
            if e is entry:
                lst[n] = (e, c | frozenset(cases))
                break
        else:
            lst.append((entry, frozenset(cases)))
    return set(by_form)


def _name_gender(first: str | None) -> str | None:
    if not first:
        return None
    for p in morph.parses(first):
        if "Name" in p.tag.grammemes:
            return {"masc": "m", "femn": "f"}.get(p.tag.gender)
    return None


@lru_cache(maxsize=8)
def build(staff: Staff) -> Index:
    ix = Index([], {}, {}, {}, [])
    for person in staff.people:
        if not person.roles - NOT_ADDRESSABLE:
            continue
        parts = _person_parts(person.name)
        if parts and parts[0]:
            surname, first, patronymic, inits = parts
            gender = declension.gender_of(surname, first, patronymic, _name_gender(first))
            entry = Entry(
                person, _short(surname, first, patronymic, person.name), surname, first, patronymic, gender
            )
            if inits and not first:
                entry.first, entry.patronymic = inits[0], (inits[1] if len(inits) > 1 else None)
                entry.short = f"{person.name.split()[0]} " + "".join(f"{i.upper()}." for i in inits)
            _add(ix.surnames, declension.surname(surname, gender), entry)
        else:
            entry = Entry(person, person.name)
            words = _phrase_words(person.name)
            ix.phrases.append(Phrase(words, entry, False))
            if person.unit and _phrase_words(person.unit) != words:
                ix.phrases.append(Phrase(_phrase_words(person.unit), entry, True))
        ix.entries.append(entry)
        _names(ix, entry)
        for alias in person.aliases:
            a = _person_parts(alias) if isinstance(alias, str) else None
            if a is None:
                if isinstance(alias, str) and alias.strip():
                    ix.phrases.append(Phrase(_phrase_words(alias), entry, False))
                continue
            surname, first, patronymic, inits = a
            if surname and surname != entry.surname:
                _add(ix.surnames, declension.surname(surname, entry.gender or "m"), entry)
            if (
                first
                and first != entry.first
                and len(first) > 1
                or patronymic
                and patronymic != entry.patronymic
                and len(patronymic) > 1
            ):
                # an alias naming the person otherwise: its first name/patronymic count too
                _names(ix, entry, first, patronymic)
    ix.phrases.sort(key=lambda p: -len(p.words))
    return ix


def _names(ix: Index, entry: Entry, first: str | None = None, patronymic: str | None = None) -> None:
    first = first or entry.first
    patronymic = patronymic or entry.patronymic
    gender = entry.gender or "m"
    if first and len(first) > 1:
        forms = declension.first_name(first, gender)
        want = {"m": "masc", "f": "femn"}[gender]
        for p in morph.parses(first):
            if "Name" in p.tag.grammemes and p.tag.gender in (want, None):
                for f in p.lexeme:
                    if f.tag.number != "plur" and f.tag.case:
                        forms.setdefault(_CASE.get(f.tag.case, "nom"), set()).add(morph.key(f.word))
        entry.first_forms |= _add(ix.firsts, forms, entry)
    if patronymic and len(patronymic) > 1:
        entry.patronymic_forms |= _add(ix.patronymics, declension.patronymic(patronymic), entry)


_CASE = {
    "nomn": "nom",
    "gent": "gen",
    "datv": "dat",
    "accs": "acc",
    "ablt": "ins",
    "loct": "loc",
    "voct": "nom",
    "gen2": "gen",
    "acc2": "acc",
    "loc2": "loc",
}
