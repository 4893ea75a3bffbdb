"""A manager's resolution, written in free Russian, read against the staff
directory: who is to act (the first named is responsible, regulation 3.3),
by when, and what to do.

    «Петрову А.С., Сидоренко — рассмотреть, подготовить ответ. Срок до 15.04.2026»
    → Петров А.С. (responsible), Сидоренко О.В.; due 15.04.2026;
      instruction "рассмотреть, подготовить ответ"

Nothing is guessed. A name that is not in the directory, a name that fits
two people, initials that contradict the directory, a deadline that passed
or that can be read two ways: each is a sentence in Unclear.problems, all of
them at once, and the caller asks the manager instead of acting.

Pure functions: no I/O, no clock (the caller passes `today`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from ..rules import Person, Staff
from . import deadline as _deadline
from . import directory as _directory
from . import names as _names
from .quoted import strip_quoted

__all__ = ["Addressee", "Understood", "Unclear", "parse_resolution", "strip_quoted"]


@dataclass(frozen=True)
class Addressee:
    person: Person
    as_written: str


@dataclass(frozen=True)
class Understood:
    addressees: tuple[Addressee, ...]  # in the order written; the first is responsible
    due: dt.date | None  # None: no date written (see days; else the statutory default)
    due_text: str | None  # the words that gave the deadline
    days: int | None  # for "N дней" / "N рабочих дней"
    working_days: bool | None
    instruction: str  # the text without names and deadline


@dataclass(frozen=True)
class Unclear:
    problems: tuple[str, ...]  # Russian sentences for the manager


MANAGEMENT = frozenset({"director", "deputy_director"})
MAX_CHARS = 10_000  # a resolution is a few lines; more is a reply that was not stripped

_SIGNOFF_ANYWHERE = re.compile(
    r"(?<![\w])(?:с\s+уважением|с\s+ув\.|best\s+regards|kind\s+regards|құрметпен|курметпен)(?![\w])", re.I
)
_SIGNOFF_LINE = re.compile(
    r"^[ \t]*(?:спасибо|благодарю|заранее\s+спасибо|рахмет|regards|thanks)(?![\w])", re.I | re.M
)
_GREETING = re.compile(
    r"^\s*(?:(?:добрый\s+(?:день|вечер)|доброе\s+утро|доброго\s+дня|здравствуйте|приветствую|привет"
    r"|сәлеметсіз\s+бе|салеметсиз\s+бе|сәлем|салем|уважаемые\s+коллеги|коллеги"
    r"|уважаем(?:ый|ая|ые))(?![\w])[\s!,.]*)+",
    re.I,
)
_JOINERS = re.compile(
    r"\x00(?:[ \t\n,;/+—–\-]*(?:\bи\b|\bа\s+также\b|\bсовместно\s+с\b|\bвместе\s+с\b)?"
    r"[ \t\n,;/+—–\-]*)\x00",
    re.I,
)
_AROUND = re.compile(r"[ \t\n,;:.!?—–\-]*\x00[ \t\n,;:.!?—–\-]*")

NO_ADDRESSEE = (
    "Не указан исполнитель. Напишите фамилию сотрудника, например: "
    "«Петрову А.С. — рассмотреть, подготовить ответ»."
)
EMPTY = (
    "Текст резолюции не найден. Напишите, например: «Петрову А.С., Сидоренко — "
    "рассмотреть, подготовить ответ. Срок до 15.04.2026»."
)


def parse_resolution(text: str, staff: Staff, *, today: dt.date) -> Understood | Unclear:
    """Read one resolution (the manager's own words: see strip_quoted)."""
    body = _normalise(text)
    body = _cut_signoff(body)
    if not re.search(r"\w", body):
        return Unclear((EMPTY,))
    if len(body) > MAX_CHARS:
        return Unclear(
            (
                f"Текст резолюции слишком длинный ({len(body)} знаков). Напишите только "
                "резолюцию, например: «Петрову А.С. — рассмотреть. Срок до 15.04.2026».",
            )
        )
    greeting = _GREETING.match(body)
    greeting_span = [(0, greeting.end())] if greeting and greeting.end() else []

    found = _deadline.find(body, today)
    problems: list[str] = []
    masked = sorted(greeting_span + list(found.spans) + list(found.dropped))
    mode = _names.text_mode(body)
    tokens = _names.tokenize(body, masked, mode)
    mentions = _names.find(body, tokens, _directory.build(staff), mode)
    signature = _signature(body, tokens, mentions, masked)

    acting = [m for m in mentions if m.context in ("addressee", "control") and m is not signature]
    problems.extend(m.problem for m in acting if m.problem)
    problems.extend(found.problems)

    responsible = list(dict.fromkeys(m.entry.person for m in acting if m.responsible and m.entry))
    if len(responsible) > 1:
        problems.append(
            "Ответственным отмечено несколько сотрудников: "
            + ", ".join(_short(p, mentions) for p in responsible)
            + ". Ответственный — один, первый в списке; уточните, пожалуйста."
        )
    ordered = (
        [m for m in acting if m.responsible]
        + [m for m in acting if not m.responsible and m.context == "addressee"]
        + [m for m in acting if not m.responsible and m.context == "control"]
    )
    addressees: list[Addressee] = []
    seen: set[str] = set()
    for m in ordered:
        e = m.entry
        if e is not None and e.person.email not in seen:
            seen.add(e.person.email)
            addressees.append(Addressee(e.person, m.text))
    if not addressees and not any(m.problem for m in acting):
        problems.append(NO_ADDRESSEE)
    if problems:
        return Unclear(tuple(dict.fromkeys(problems)))

    removed = list(masked)
    for m in mentions:
        if m is signature:
            removed.append(_line_span(body, m.start))
        elif m.context == "addressee":
            removed.append((m.start, m.end))
        if m.context in ("addressee", "control") and m is not signature:
            removed.extend(m.remove)
    d = found.deadlines[0] if found.deadlines else None
    return Understood(
        addressees=tuple(addressees),
        due=d.due if d else None,
        due_text=d.text if d else None,
        days=d.days if d else None,
        working_days=d.working_days if d else None,
        instruction=_instruction(body, removed),
    )


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\u00a0\u2007\u202f\t]", " ", text)
    text = re.sub(r"[\u200b\u200c\u200d\ufeff]", "", text)
    return text.replace("\u2011", "-").replace("\u2012", "–").replace("\u2015", "—")


def _cut_signoff(body: str) -> str:
    """Everything from «С уважением» (or a closing «Спасибо» line) on is the signature."""
    m = _SIGNOFF_ANYWHERE.search(body)
    end = m.start() if m else len(body)
    for line in _SIGNOFF_LINE.finditer(body[:end]):
        if re.search(r"\w", body[: line.start()]):
            end = line.start()
            break
    return body[:end]


def _line_span(body: str, pos: int) -> tuple[int, int]:
    start = body.rfind("\n", 0, pos) + 1
    end = body.find("\n", pos)
    return start, len(body) if end < 0 else end


def _signature(body: str, tokens, mentions, masked) -> _names.Mention | None:
    """A last line that is only a manager's name in the nominative («Жумабаев Е.С.»,
    perhaps with today's date) signs the resolution; it names no addressee."""
    lines = [
        (s, e)
        for s, e in (_line_span(body, m.start()) for m in re.finditer(r"[^\n]+", body))
        if body[s:e].strip()
    ]
    if len(lines) < 2:
        return None
    start, end = lines[-1]
    on_line = [m for m in mentions if start <= m.start < end]
    if len(on_line) != 1:
        return None
    m = on_line[0]
    rest = [
        t
        for t in tokens
        if start <= t.start < end and t.kind in ("word", "init", "num") and not (m.start <= t.start < m.end)
    ]
    if rest or m.entry is None or not (m.entry.person.roles & MANAGEMENT) or not m.nominative:
        return None
    return m


def _short(person: Person, mentions) -> str:
    for m in mentions:
        if m.entry is not None and m.entry.person is person:
            return m.entry.short
    return person.name


def _instruction(body: str, removed: list[tuple[int, int]]) -> str:
    chars = list(body)
    for s, e in removed:
        for k in range(max(0, s), min(len(chars), e)):
            chars[k] = "\x00"
    text = re.sub(r"\x00+", "\x00", "".join(chars))
    while True:
        joined = _JOINERS.sub("\x00", text)
        if joined == text:
            break
        text = joined

    def join(m: re.Match) -> str:
        if m.start() == 0 or m.end() == len(m.string):
            return ""
        around = m.group(0)
        end = next((c for c in ".!?" if c in around), "")  # a sentence end next to the name stays
        if "\n" in around:
            return end + "\n"
        if end:
            return end + " "
        for mark, out in ((";", "; "), (",", ", "), (":", ": ")):
            if mark in around:
                return out
        return " "

    text = _AROUND.sub(join, text)
    text = text.strip()
    text = re.sub(r"^(?:и|а\s+также)\s+", "", text, flags=re.I)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class Named:
    """A staff member named in a short phrase, or why the phrase names nobody for sure."""

    person: Person | None
    problem: str | None


def name_in(phrase: str, staff: Staff) -> Named:
    """The one staff member a phrase names («Петрова А.С.», «Сидоренко О. В.», in any case),
    read as resolutions are read."""
    body = _normalise(phrase)
    mode = _names.text_mode(body)
    mentions = _names.find(body, _names.tokenize(body, [], mode), _directory.build(staff), mode)
    found = [m for m in mentions if m.entry is not None]
    people = {m.entry.person.email: m.entry.person for m in found if m.entry}
    if len(people) == 1:
        return Named(next(iter(people.values())), None)
    if len(people) > 1:
        return Named(None, f"«{phrase.strip()}»: названо несколько сотрудников")
    problem = next((m.problem for m in mentions if m.problem), None)
    return Named(None, problem or f"«{phrase.strip()}»: такого сотрудника нет в справочнике")
