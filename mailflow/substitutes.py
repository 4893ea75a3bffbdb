"""Who stands in for whom (regulation 1.6: "или лицу, его заменяющему").

An absence is planned in rules/staff.toml (`[[absence]]`) or set by e-mail:

    ЗАМЕЩАЕТ <substitute> [ВМЕСТО <absent>] [С дд.мм.гггг] ДО дд.мм.гггг

from the absent person (without ВМЕСТО: the sender is away) or from their head
(the unit head of their unit, or management). Names are read as resolutions
read them, in any case. The latest absence set for a person wins; one ending
today or earlier is over. This module is the one owner of "who holds it
today": reminders, forwards and tokens ask `stand_in`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from . import authentication, automatic, journal, notices, replies, resolution_text
from .models import AbsenceRow, ChainHead
from .rules import Absence, Person, Rules
from .values import KZ_TZ, ParsedMessage
from .vocabulary import UNIT_HEAD

WORDS = ("ЗАМЕЩАЕТ",)
_DATE = r"(\d{1,2})\.(\d{1,2})\.(\d{4})"
_REQUEST = re.compile(
    r"^\W*ЗАМЕЩАЕТ\s*:?\s*(?P<sub>.+?)"
    r"(?:\s+ВМЕСТО\s+(?P<absent>.+?))?"
    rf"(?:\s+С\s+(?P<since>{_DATE}))?"
    rf"\s+ДО\s+(?P<until>{_DATE})\s*\.?\s*$",
    re.I | re.S,
)
EXAMPLE = "«ЗАМЕЩАЕТ Петров А.С. ДО 25.12.2026» или «ЗАМЕЩАЕТ Петров А.С. ВМЕСТО Сидоренко О.В. С 21.12.2026 ДО 25.12.2026»"


def in_force(s: Session, rules: Rules, day: dt.date) -> dict[str, Absence]:
    """The absences covering `day`, by person: staff.toml's, then those set by e-mail
    (read later, so a letter overrides the plan)."""
    out = {a.person: a for a in rules.staff.absences if a.covers(day)}
    rows = s.exec(
        select(AbsenceRow)
        .where(col(AbsenceRow.until) >= day, col(AbsenceRow.since) <= day)
        .order_by(col(AbsenceRow.id))
    ).all()
    for r in rows:
        out[r.person] = Absence(r.person, r.substitute, r.since, r.until, r.set_by, r.set_at)
    return out


def stand_in(away: Mapping[str, Absence], person: str) -> str:
    """Who holds what is `person`'s today: their substitute's substitute if need be,
    never round in a circle (then the last one not yet visited)."""
    seen = {person}
    while person in away and away[person].substitute not in seen:
        person = away[person].substitute
        seen.add(person)
    return person


def stand_ins(away: Mapping[str, Absence], people: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(stand_in(away, p) for p in people))


def standing_for(s: Session, rules: Rules, day: dt.date) -> dict[str, tuple[str, ...]]:
    """Whom each substitute stands in for on `day` (through a chain, too): replies.authorize's."""
    away = in_force(s, rules, day)
    out: dict[str, tuple[str, ...]] = {}
    for person in away:
        sub = stand_in(away, person)
        out[sub] = (*out.get(sub, ()), person)
    return out


@dataclass(frozen=True)
class Request:
    absent: Person
    substitute: Person
    since: dt.date
    until: dt.date


def parse(text: str, rules: Rules, sender: Person, today: dt.date) -> Request | list[str]:
    """A «ЗАМЕЩАЕТ …» line from `sender`, or what is wrong with it (Russian, for them)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    m = _REQUEST.match(first.strip())
    if m is None:
        return [f"не понятно, кто кого замещает и до какого числа; напишите {EXAMPLE}"]
    problems: list[str] = []
    sub = resolution_text.name_in(m["sub"], rules.staff)
    absent = resolution_text.name_in(m["absent"], rules.staff) if m["absent"] else None
    for named in (sub, absent):
        if named is not None and named.person is None:
            problems.append(named.problem or "сотрудник не найден")
    since, until = today, None
    for key in ("since", "until"):
        if m[key]:
            day, month, year = (int(x) for x in re.findall(r"\d+", m[key]))
            try:
                value = dt.date(year, month, day)
            except ValueError:
                problems.append(f"даты {m[key]} нет в календаре")
                continue
            if key == "since":
                since = value
            else:
                until = value
    if until is not None and until < today:
        problems.append(f"дата {until:%d.%m.%Y} уже прошла")
    if until is not None and until < since:
        problems.append(f"замещение кончается ({until:%d.%m.%Y}) раньше, чем начинается ({since:%d.%m.%Y})")
    if problems or sub.person is None or until is None:
        return problems or ["не указано, до какого числа"]
    away = absent.person if absent and absent.person else sender
    if sub.person.email == away.email:
        return ["сотрудник не может замещать сам себя"]
    if not may_set(rules, sender, away):
        return [
            f"замещение {away.name} назначает он(а) сам(а), начальник подразделения или руководство, "
            f"а не {sender.name}"
        ]
    return Request(away, sub.person, since, until)


def may_set(rules: Rules, sender: Person, absent: Person) -> bool:
    """The absent person themselves, the unit head of their unit, or management."""
    if sender.email == absent.email or sender.roles & rules.routing.may_resolve:
        return True
    return UNIT_HEAD in sender.roles and sender.unit is not None and sender.unit == absent.unit


@dataclass(frozen=True)
class Result:
    status: str  # set | refused
    reason: str


def handle(
    s: Session,
    head: ChainHead,
    rules: Rules,
    *,
    msg: ParsedMessage,
    inbound_id: int,
    sender_addr: str,
    now: dt.datetime,
) -> Result:
    """«ЗАМЕЩАЕТ …» from staff: the absence recorded, the sender and the substitute told;
    or the sender told why not (a stranger or a machine is never answered)."""
    person = rules.staff.by_email(msg.from_addr)
    if person is None or automatic.why(msg):
        return Result("refused", "not staff, or written by a machine")
    forged = authentication.verdict(
        msg.authentication_results, msg.from_addr, rules.routing.trusted_authserv_ids, msg.dkim_verified
    )
    if forged is not None:
        return Result("refused", forged)
    text = resolution_text.strip_quoted(msg.body_text)
    found = replies.find_word(WORDS, msg.subject, text, first=True)
    problems: list[str]
    if found is None:
        problems = [f"нет слова «ЗАМЕЩАЕТ»; напишите {EXAMPLE}"]
    elif found.lookalike:
        problems = [replies.lookalike_reason(found.word)]
    else:
        own = re.sub(r"^\s*((re|fwd?|ответ|на)\s*:\s*)+", "", msg.subject or "", flags=re.I)
        line = text if text.strip() and re.match(r"^\W*ЗАМЕЩАЕТ", text.strip(), re.I) else own
        understood = parse(line, rules, person, now.astimezone(KZ_TZ).date())
        if isinstance(understood, Request):
            _record(s, head, rules, understood, person, msg, inbound_id, sender_addr, now)
            return Result("set", f"{understood.substitute.email} for {understood.absent.email}")
        problems = understood
    notices.answer(
        s,
        rules,
        msg,
        sender_addr=sender_addr,
        key=f"absence-refused:{inbound_id}",
        title="Замещение не записано",
        text="Замещение не записано:\n" + "\n".join(f"  • {p}" for p in problems),
        inbound_id=inbound_id,
    )
    journal.append(s, head, "absence_refused", inbound_id=inbound_id, by=person.email, reasons=problems)
    return Result("refused", "; ".join(problems))


def _record(
    s: Session,
    head: ChainHead,
    rules: Rules,
    r: Request,
    sender: Person,
    msg: ParsedMessage,
    inbound_id: int,
    sender_addr: str,
    now: dt.datetime,
) -> None:
    s.add(
        AbsenceRow(
            person=r.absent.email,
            substitute=r.substitute.email,
            since=r.since,
            until=r.until,
            set_by=sender.email,
            set_at=now,
            inbound_id=inbound_id,
        )
    )
    journal.append(
        s,
        head,
        "absence_set",
        inbound_id=inbound_id,
        person=r.absent.email,
        substitute=r.substitute.email,
        since=r.since.isoformat(),
        until=r.until.isoformat(),
        by=sender.email,
    )
    when = f"с {r.since:%d.%m.%Y} по {r.until:%d.%m.%Y}"
    details = [("Отсутствует", r.absent.name), ("Замещает", r.substitute.name), ("Срок", when)]
    notices.answer(
        s,
        rules,
        msg,
        sender_addr=sender_addr,
        key=f"absence-set:{inbound_id}",
        title="Замещение записано",
        text=f"{r.substitute.name} замещает {r.absent.name} {when}: письма по делам, напоминания "
        "и коды ответа на это время получает замещающий.",
        details=details,
        inbound_id=inbound_id,
    )
    if r.substitute.email != sender.email:
        notices.to_person(
            s,
            rules,
            r.substitute.email,
            sender_addr=sender_addr,
            key=f"absence-substitute:{inbound_id}",
            title=f"Вы замещаете {r.absent.name}",
            text=f"{when.capitalize()} вы замещаете {r.absent.name}"
            + (f" (назначил(а) {sender.name})" if sender.email != r.absent.email else "")
            + ": письма по делам, напоминания и коды ответа на это время приходят вам.",
            details=details,
            inbound_id=inbound_id,
        )
