"""Chasing deadlines (regulation 2.1, 3.2–3.3): reminders, escalation, the Book rule.

`plan` decides, from the open cases and the clock, which chases should exist
now (pure). `sweep` writes the missing ones: each chase row has a unique key
(case, kind, slot) and is inserted in the same transaction that queues its
mail, so restarts, clock jumps and two daemons never send anything twice. A
daemon that was down catches up once: only today's slots exist, not the
missed ones. Nothing is sent outside working hours of working days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from . import db, extension, journal, notices, outbox, report_review, routing, substitutes
from .archive import Archive
from .case.queries import IS_CURRENT, Addressee, consumer_name, current_resolutions, is_open, management, team
from .case.states import State
from .models import (
    Answer,
    ChainHead,
    Chase,
    ChaseMark,
    Document,
    Extension,
    Handover,
    Resolution,
    WeeklyReport,
)
from .rules import Absence, Chasing, Person, Rules
from .values import KZ_TZ, Attachment
from .vocabulary import BOOK, CLERK, UNIT_HEAD

if TYPE_CHECKING:
    from .digest import Week

log = logging.getLogger("mailflow.chasing")
LOOKAHEAD = dt.timedelta(days=21)  # covers the longest "before" offset, holidays included


class CaseRef(Protocol):
    """What a chase keeps of its case: a Document, or a CaseLine."""

    @property
    def id(self) -> int | None: ...
    @property
    def number(self) -> str: ...
    @property
    def due_date(self) -> dt.date | None: ...


class CaseLine(NamedTuple):
    """What planning reads of a case: its keys, its letter's line, its event.

    Plain columns in one tuple, not an ORM object (an instance, its state and
    their dicts): a first sweep plans thousands, and every object it keeps alive
    costs the making and, past a few tens of thousands, a full collection of
    the whole process (~0.1 s at 1 M on two cores)."""

    id: int
    number: str
    journal: str  # its clerks get the hand-over list and the notices
    kind: str | None
    grp: int | None
    last_name: str | None
    first_name: str | None
    patronymic: str | None
    org_name: str | None
    stage: str | None
    due_date: dt.date | None
    origin_unit: str | None
    registered_at: dt.datetime


_LINE = tuple(getattr(Document, name) for name in CaseLine._fields)


class OpenCase(NamedTuple):  # a tuple, as CaseLine is; the addressees are shared (current_resolutions)
    doc: CaseLine
    due: dt.date  # in force when planned
    resolution_text: str | None  # of the resolution in force; None: not resolved yet
    executors: tuple[Addressee, ...]


@dataclass(frozen=True)
class Planned:
    key: str
    kind: str  # before | due | overdue | escalation | book_breach
    slot: str
    doc: CaseRef | None  # None: not about one case (a meeting's list)
    to: tuple[str, ...]
    template: str
    context: dict[str, Any] = field(default_factory=dict)


def working_now(rules: Rules, now: dt.datetime) -> bool:
    local = now.astimezone(KZ_TZ)
    cal = rules.calendar
    return cal.is_working_day(local.date()) and cal.work_start <= local.time() < cal.work_end


def plan_deadlines(
    cases: list[OpenCase], rules: Rules, today: dt.date, away: Mapping[str, Absence] | None = None
) -> list[Planned]:
    """Reminders to whoever holds each case at its stage (the executor, the unit head, the
    lawyers, management, the clerk: rules/answer.toml), or to who stands in for them
    today (`away`, substitutes.in_force); escalations to the heads, likewise."""
    out: list[Planned] = []
    cal, ch, away = rules.calendar, rules.chasing, away or {}
    # thousands of cases share a few dozen due dates and a few executors: each
    # count and lookup once
    counts: dict[dt.date, tuple[int, int]] = {}
    staff: dict[str, Person | None] = {}
    heads: dict[str | None, tuple[str, ...]] = {}
    holders: dict[tuple[str, str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}  # → (to, instead of)
    for case in cases:
        doc, due = case.doc, case.due
        if due not in counts:
            left = cal.working_days_between(today, due)  # > 0 before, 0 on the day, < 0 overdue
            counts[due] = left, cal.working_days_between(due, today) if left < 0 else 0
        left, late = counts[due]
        first = case.executors[0] if case.executors else None
        if first is not None and first.email not in staff:
            staff[first.email] = rules.staff.by_email(first.email)
        ctx = _context(rules, case, due, left, late, staff[first.email] if first else None)
        if first is not None:
            kind, slot = _reminder_slot(left, today, ch)
            if kind:
                role = _holder_role(rules, doc.stage)
                held = (first.email, role, doc.journal)
                if held not in holders:
                    crew = (
                        (first.email,)
                        if role == "executor"
                        else team(rules, case.executors, doc.journal).of(role)
                    ) or (first.email,)
                    to = substitutes.stand_ins(away, crew)
                    absent = tuple(_name_of(rules, p) for p in crew if p not in to)
                    holders[held] = to, absent
                to, absent = holders[held]
                stage = rules.workflow.stages.get(doc.stage) if doc.stage else None
                out.append(
                    Planned(
                        f"reminder:{doc.id}:{due}:{slot}",
                        kind,
                        slot,
                        doc,
                        to,
                        "reminder",
                        {
                            **ctx,
                            "kind": kind,
                            "holder": role,
                            "stage_title": stage.title if stage else None,
                            "standing_in_for": absent,
                        },
                    )
                )
        if left < 0 and late >= max(ch.escalate_after, 0):
            who = first.email if first else None
            if who not in heads:
                heads[who] = substitutes.stand_ins(away, _escalation_to(rules, first))
            to = heads[who]
            if to:
                out.append(
                    Planned(f"escalation:{doc.id}:{due}", "escalation", str(due), doc, to, "escalation", ctx)
                )
    return out


def _name_of(rules: Rules, address: str) -> str:
    person = rules.staff.by_email(address)
    return person.name if person else address


def plan_redirect_terms(
    docs: list[CaseLine], rules: Rules, today: dt.date, away: Mapping[str, Absence] | None = None
) -> list[Planned]:
    """АППК art. 76 p. 3: an appeal outside competence goes to the competent body within
    `redirect_days` working days. On the term's last day, each appeal still without a
    resolution is put to management (or who stands in), once."""
    out: list[Planned] = []
    terms: dict[dt.date, dt.date] = {}
    for doc in docs:
        registered = doc.registered_at.astimezone(KZ_TZ).date()
        if registered not in terms:
            terms[registered] = rules.calendar.add_working_days(registered, rules.deadlines.redirect_days)
        if terms[registered] != today:
            continue
        crew = management(rules, doc.journal)
        to = substitutes.stand_ins(away or {}, crew)
        out.append(
            Planned(
                f"redirect_term:{doc.id}",
                "redirect_term",
                str(today),
                doc,
                to,
                "redirect_term",
                dict(
                    number=doc.number,
                    registered_at=doc.registered_at.astimezone(KZ_TZ),
                    kind_of_appeal=doc.kind,
                    consumer_name=consumer_name(doc),
                    term=today,
                    days=rules.deadlines.redirect_days,
                    awaited="решение: резолюция или перенаправление",
                    standing_in_for=tuple(_name_of(rules, p) for p in crew if p not in to),
                ),
            )
        )
    return out


def _unresolved(s: Session, today: dt.date) -> list[CaseLine]:
    """Appeals still without a resolution, registered lately enough to be in their redirect term."""
    since = dt.datetime.combine(today - REDIRECT_WINDOW, dt.time(), KZ_TZ)
    return [
        CaseLine(*row)
        for row in s.execute(
            sa.select(*_LINE).where(
                col(Document.status).in_((State.REGISTERED.value, State.ON_RESOLUTION.value)),
                col(Document.registered_at) >= since,
            )
        )
    ]


REDIRECT_WINDOW = dt.timedelta(days=21)  # a few working days, holidays included


def _holder_role(rules: Rules, stage: str | None) -> str:
    """Who holds a case at `stage`, as rules/answer.toml names them; the executor before
    any stage and for a stage nobody holds."""
    found = rules.workflow.stages.get(stage) if stage else None
    return (found.holder if found else "") or "executor"


def _reminder_slot(left: int, today: dt.date, ch: Chasing) -> tuple[str | None, str]:
    if left > 0 and left in ch.before_working_days:
        return "before", f"-{left}"
    if left == 0 and ch.on_due_day:
        return "due", "0"
    if left < 0 and ch.overdue_daily:
        return "overdue", f"overdue:{today}"
    return None, ""


def _escalation_to(rules: Rules, first: Addressee | None) -> tuple[str, ...]:
    """The executor's unit head and the roles in rules; management when no one is assigned."""
    people: list[Person] = []
    if first is None:
        people += [p for p in rules.staff.people if p.roles & rules.routing.management_roles]
    else:
        executor = rules.staff.by_email(first.email)
        unit = executor.unit if executor else None
        people += [
            p for p in rules.staff.with_role(UNIT_HEAD) if unit and p.unit == unit and p.email != first.email
        ]
    people += [p for p in rules.staff.people if p.roles & rules.chasing.escalate_roles]
    return tuple(dict.fromkeys(p.email for p in people))


def _context(
    rules: Rules, case: OpenCase, due: dt.date, left: int, late: int, executor: Person | None
) -> dict[str, Any]:
    """`executor`: the first addressee in the staff directory, if there."""
    doc = case.doc
    first = case.executors[0] if case.executors else None
    return dict(
        number=doc.number,
        due_date=due,
        days_left=left,
        overdue_days=late,
        kind_of_appeal=doc.kind,
        consumer_name=consumer_name(doc),
        resolution_text=case.resolution_text if case.resolution_text is not None else "резолюция не наложена",
        co_executors=tuple(a.name for a in case.executors[1:]),
        executor=first.name if first else "не назначен (нет резолюции)",
        unit=executor.unit if executor else None,
        token=None,
        awaited=_awaited(rules, case),
    )


def _awaited(rules: Rules, case: OpenCase) -> str:
    """What the case waits for, as the day's letter names it."""
    if case.resolution_text is None:
        return "резолюция руководства"
    stage = rules.workflow.stages.get(case.doc.stage or "")
    return stage.title if stage else "проект ответа (раздел 3 Регламента)"


def plan_book(docs: list[Document], rules: Rules, now: dt.datetime) -> list[Planned]:
    """Regulation 2.1: entry → PR specialist in at most `max_minutes`."""
    limit = dt.timedelta(minutes=rules.chasing.book_max_minutes)
    roles = rules.chasing.book_notify_roles - {CLERK}  # the clerks: of the entry's journal
    others = tuple(dict.fromkeys(p.email for p in rules.staff.people if p.roles & roles))
    out = []
    for doc in docs:
        clerks = rules.clerks(doc.journal) if CLERK in rules.chasing.book_notify_roles else ()
        to = tuple(dict.fromkeys((*clerks, *others)))
        if doc.book_entry_at is None:
            continue
        delay = (doc.pr_forwarded_at or now) - doc.book_entry_at
        if delay <= limit:
            continue
        minutes = int(delay.total_seconds() // 60)
        out.append(
            Planned(
                f"book:{doc.id}",
                "book_breach",
                "2.1",
                doc,
                to,
                "book_breach",
                dict(
                    number=doc.number,
                    kind_of_appeal=doc.kind,
                    minutes=minutes,
                    limit=rules.chasing.book_max_minutes,
                    entry_at=doc.book_entry_at.astimezone(KZ_TZ),
                    forwarded_at=doc.pr_forwarded_at.astimezone(KZ_TZ) if doc.pr_forwarded_at else None,
                ),
            )
        )
    return out


def report_day(rules: Rules, week: Week) -> dt.date:
    """The day `week`'s report is due (2.13): the configured weekday after it (Monday),
    or the next working day when that is not one."""
    monday = week.end + dt.timedelta(days=1)
    return rules.calendar.next_working_day(monday + dt.timedelta(days=rules.chasing.weekly_weekday))


def weekly_due(rules: Rules, now: dt.datetime) -> Week | None:
    """The week whose report is due by `now` (regulation 2.13), or None.

    Due from `send_at` on the report day. Only the last finished week is ever
    due: a daemon that was down for weeks sends one report, not several.
    """
    from .digest import Week

    local = now.astimezone(KZ_TZ)
    week = Week.previous_of(local.date())
    if (local.date(), local.time()) < (report_day(rules, week), rules.chasing.weekly_send_at):
        return None
    return week


HOW_TO_REVIEW = (
    "Проверьте отчёт до {until} и ответьте на это письмо:",
    "• «СОГЛАСОВАНО» — отчёт уйдёт руководству как есть;",
    "• или приложите исправленный отчёт (XLSX или PDF) — руководству уйдёт ваш файл;",
    "• решения по предложениям (п. 2.14), по строке на предложение: "
    "«ВХ-2026-000123: ПРИНЯТО: комментарий» (ОТКЛОНЕНО, ЗАПЛАНИРОВАНО).",
    "Без ответа до {until} отчёт уйдёт руководству с пометкой «не проверено PR-специалистом».",
)
HOW_TO_SIGN = ("Ознакомившись с отчётом, ответьте на это письмо «ОЗНАКОМЛЕН» (п. 2.13 Регламента).",)


@dataclass(frozen=True)
class ReportMail:
    message: outbox.Outgoing
    holder: str
    token: str


@dataclass(frozen=True)
class WeeklyLetter:
    journal: str
    week_label: str
    mails: tuple[ReportMail, ...]  # one per person, each with their own code
    facts: dict[str, Any]  # for the journal event


def build_weekly(
    s: Session,
    rules: Rules,
    week: Week,
    sender_addr: str,
    now: dt.datetime,
    journal_key: str,
    *,
    to: tuple[str, ...],
    stage: str,
    mark: str | None = None,
    until: dt.datetime | None = None,
    file: Attachment | None = None,
) -> WeeklyLetter | None:
    """Build and render one journal's weekly report (a read) for `to`: the reviewers
    (`stage` review) or management (sign-off); None when nobody is to get it.
    `file`: the reviewer's corrected report, attached instead of the built workbook."""
    from . import digest, digest_render

    if not to:
        return None
    report = digest.build(s, rules, week, now, journal=journal_key)
    if file is None:
        xlsx = digest_render.xlsx(report)
        file = Attachment(
            digest_render.filename(report),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx,
            hashlib.sha256(xlsx).hexdigest(),
        )
    how = HOW_TO_REVIEW if stage == report_review.IN_REVIEW else HOW_TO_SIGN
    at = f"{until.astimezone(KZ_TZ):%H:%M}" if until else ""
    mails = []
    for person in to:
        token = routing.new_token()
        letter = digest_render.Letter(
            mark=mark, how_to_answer=tuple(h.format(until=at) for h in how), token=token
        )
        message = outbox.compose(
            sender=sender_addr,
            to=(person,),
            subject=digest_render.subject(report, rules, letter),
            body=digest_render.text(report, letter),
            html=digest_render.html(report, rules, letter),
            kind="weekly_review" if stage == report_review.IN_REVIEW else "weekly",
            key=f"weekly:{journal_key}:{week.label}:{stage}:{person}",
            attachments=(file,),
        )
        mails.append(ReportMail(message, person, token))
    facts = dict(
        week=week.label,
        journal=journal_key,
        stage=stage,
        to=list(to),
        new=report.new,
        overdue=report.overdue_total,
        book_breaches=len(report.book_breaches),
        suggestions=report.suggestions_total,
        decisions={str(k): n for k, n in report.decisions.items()},
        file=file.filename,
        file_sha256=file.sha256,
        mark=mark,
    )
    return WeeklyLetter(journal_key, week.label, tuple(mails), facts)


def queue_weekly(
    s: Session, head: ChainHead, rules: Rules, row: WeeklyReport, letter: WeeklyLetter, now: dt.datetime
) -> None:
    """Queue each person's letter and code, in the writer's transaction."""
    purpose = report_review.REVIEW if row.status == report_review.IN_REVIEW else report_review.SIGNOFF
    for mail in letter.mails:
        outbox.queue(s, mail.message)
        report_review.issue_token(
            s, rules, row, mail.holder, mail.message.message_id, now, mail.token, purpose
        )
    journal.append(s, head, "weekly_report", report_id=row.id, **letter.facts)


def plan_copies(answers: list[tuple[Answer, Document, str]], rules: Rules, today: dt.date) -> list[Planned]:
    """Regulation 3.8: a dispatched answer's copy within `within_working_days`, or a reminder."""
    days = rules.workflow.copy_within_days
    out = []
    for answer, doc, executor in answers:
        if answer.dispatched_at is None:
            continue
        sent = answer.dispatched_at.astimezone(KZ_TZ).date()
        if rules.calendar.working_days_between(sent, today) <= days:
            continue
        person = rules.staff.by_email(executor)
        out.append(
            Planned(
                f"copy:{doc.id}:{sent}",
                "copy_missing",
                str(sent),
                doc,
                tuple(dict.fromkeys((*rules.clerks(doc.journal), executor))),  # 3.8: the copy to them
                "copy_missing",
                dict(
                    number=doc.number,
                    dispatched_at=sent,
                    days=days,
                    channel={"kazpost": "Казпочта", "courier": "нарочным"}.get(
                        answer.dispatch_channel or "", answer.dispatch_channel
                    ),
                    tracking=answer.tracking,
                    executor=person.name if person else executor,
                    awaited="копия подписанного ответа в канцелярию (ответ «КОПИЯ» со сканом)",
                ),
            )
        )
    return out


def plan_extension_notices(
    rows: list[tuple[Extension, Document]], rules: Rules, today: dt.date
) -> list[Planned]:
    """АППК art. 76 p. 2: the applicant without an e-mail is told of an extension by the
    clerk within 3 working days; from the next working day on, the clerks of the case's
    journal are reminded each working day until they record it."""
    out = []
    for ext, doc in rows:
        if ext.created_at.astimezone(KZ_TZ).date() >= today:
            continue  # they were told today, with the decision
        out.append(
            Planned(
                f"extnotice:{ext.id}:{today}",
                "extension_notice",
                str(today),
                doc,
                rules.clerks(doc.journal),
                "extension_notice",
                dict(
                    number=doc.number,
                    new_due=ext.new_due,
                    tell_by=ext.tell_applicant_by,
                    late=today > ext.tell_applicant_by,
                    consumer_name=consumer_name(doc),
                    awaited="письмо заявителю о продлении срока (ответ «УВЕДОМЛЕН: …»)",
                ),
            )
        )
    return out


def plan_meetings(docs: list[CaseLine], rules: Rules, today: dt.date) -> list[Planned]:
    """Regulation 1.13, 2.12: on a unit's meeting day, what the clerk hands over to it."""
    if not rules.calendar.is_working_day(today):
        return []
    units = [u for u, day in rules.workflow.meetings.items() if day == today.weekday()]
    out = []
    for unit in units:
        mine = [d for d in docs if d.origin_unit == unit]
        if not mine:
            continue
        # the clerks of the journals these cases are in (the paper is in their chancellery)
        clerks = tuple(dict.fromkeys(a for d in mine for a in rules.clerks(d.journal)))
        rows = [
            dict(
                number=d.number,
                date=d.registered_at.astimezone(KZ_TZ).strftime("%d.%m.%Y"),
                kind=d.kind,
                who=consumer_name(d) or "",
            )
            for d in mine
        ]
        out.append(
            Planned(
                meeting_key(unit, today),
                "handover",
                str(today),
                None,
                clerks,
                "handover",
                dict(
                    unit=unit, count=len(mine), documents=rows, numbers=[d.number for d in mine], number=None
                ),
            )
        )
    return out


BATCH_ROWS = 200  # chase rows per writing transaction: the writer lock is held for milliseconds
LETTER_ITEMS = 200  # cases in one letter (more: the day's list comes in parts)
MARK_ROWS = 1000  # cases marked planned per transaction (narrow rows of chase_mark)
ANALYZE_MARKS = 1000  # marks in one sweep past which PostgreSQL gets their statistics at once
URGENCY = {
    "overdue": 0,
    "escalation": 1,
    "due": 2,
    "book_breach": 3,
    "copy_missing": 4,
    "extension_notice": 4,
    "before": 5,
    "handover": 6,
    "redirect_term": 1,
}
SECTIONS = (  # a day's letter to one person, most urgent section first
    ("reminders", ("overdue", "due", "before"), "Ваши обращения: сроки ответа (п. 3.3)"),
    ("escalations", ("escalation",), "Просрочены ответы у исполнителей (п. 3.2)"),
    ("copies", ("copy_missing",), "Нет копии отправленного ответа (п. 3.8)"),
    ("notices", ("extension_notice",), "Сообщить заявителю о продлении срока (п. 2 ст. 76 АППК)"),
    ("book", ("book_breach",), "Книга жалоб: запись передана позже 30 минут (п. 2.1)"),
    ("handover", ("handover",), "Передать на отчётном совещании (пп. 1.13, 2.12)"),
    (
        "redirects",
        ("redirect_term",),
        "Сегодня последний день перенаправить по компетенции (п. 3 ст. 76 АППК)",
    ),
)


@dataclass(frozen=True)
class Letter:
    """What one person is told by one sweep: one message, in parts of LETTER_ITEMS
    cases where there are more (each part is written with its chases in one
    short transaction, so no one's backlog holds the writer lock for long)."""

    to: str
    items: tuple[Planned, ...]  # most urgent first
    part: int = 1
    parts: int = 1

    @property
    def key(self) -> str:
        digest = hashlib.sha256("\n".join(p.key for p in self.items).encode()).hexdigest()[:20]
        return f"chase:{self.to}:{digest}"


def letters(planned: list[Planned]) -> list[Letter]:
    """Group the chases due now by person (pure). Keys stay per case: a case that
    becomes due later in the day gets a letter of its own then. A person whose
    address is mailflow's own mailbox (its clerk) is told too: the letter comes
    back there marked as ours and is left for them (triage.rules.own_mail)."""
    by: dict[str, list[Planned]] = {}
    for p in planned:
        for addr in p.to:
            by.setdefault(addr, []).append(p)
    out = []
    for addr, items in by.items():
        ordered = sorted(items, key=_urgency)
        parts = -(-len(ordered) // LETTER_ITEMS)
        for n in range(parts):
            chunk = tuple(ordered[n * LETTER_ITEMS : (n + 1) * LETTER_ITEMS])
            out.append(Letter(addr, chunk, n + 1, parts))
    return out


def _urgency(p: Planned) -> tuple[int, int, dt.date, str]:
    ctx = p.context
    return (
        URGENCY.get(p.kind, 9),
        -(ctx.get("overdue_days") or 0),
        ctx.get("due_date") or dt.date.max,
        p.key,
    )


def render(rules: Rules, letter: Letter) -> tuple[str, str]:
    """One case: its own template (subject with the number, as before); several: the day's list."""
    if len(letter.items) == 1:
        p = letter.items[0]
        return rules.render(p.template, **p.context)
    sections = []
    for name, kinds, title in SECTIONS:
        items = [p for p in letter.items if p.kind in kinds]
        if items:
            sections.append(dict(name=name, title=title, items=[_line(p) for p in items]))
    counts = {k: sum(1 for p in letter.items if p.kind == k) for k in URGENCY}
    return rules.render(
        "chase_day",
        sections=sections,
        counts=counts,
        total=len(letter.items),
        part=letter.part,
        parts_of=letter.parts,
    )


@dataclass(frozen=True, slots=True)
class Line:
    """One case in the day's letter. Attributes, not a dict: the template reads a
    dozen of each of thousands, and Jinja looks a dict's keys up only after a
    failed attribute lookup."""

    kind: str
    number: str | None
    who: str
    due_date: dt.date | None
    days_left: int | None
    overdue_days: int | None
    awaited: str
    context: dict[str, Any]


def _line(p: Planned) -> Line:
    ctx = p.context
    return Line(
        kind=p.kind,
        number=ctx.get("number"),
        who=ctx.get("consumer_name") or "",
        due_date=ctx.get("due_date"),
        days_left=ctx.get("days_left"),
        overdue_days=ctx.get("overdue_days"),
        awaited=ctx.get("awaited") or "",
        context=ctx,
    )


def sweep(
    engine: sa.Engine,
    rules: Rules,
    sender_addr: str,
    now: dt.datetime | None = None,
    archive: Archive | None = None,
) -> int:
    """Queue the chases due now; return how many were queued.

    Planned from a plain read (no writer lock: registration never waits on the
    planning), then written in short transactions that take the lock, re-check
    the chase keys and commit at most BATCH_ROWS chases each.
    """
    now = now or dt.datetime.now(dt.UTC)
    if not working_now(rules, now):
        return 0
    reports = sweep_weekly(engine, rules, sender_addr, now, archive)
    today = now.astimezone(KZ_TZ).date()
    with Session(db.reader(engine), expire_on_commit=False) as s:
        cases = _open_cases(s, today)
        planned = (
            plan_deadlines(cases, rules, today, away := substitutes.in_force(s, rules, today))
            + plan_redirect_terms(_unresolved(s, today), rules, today, away)
            + plan_book(_book_entries(s, now), rules, now)
            + plan_copies(_awaiting_copy(s, now), rules, today)
            + plan_extension_notices(extension.untold(s, now - COPY_WINDOW), rules, today)
            + plan_meetings(_not_handed_over(s, _meeting_today(s, rules, today)), rules, today)
        )
        done = _done(s, [p.key for p in planned])
    todo = letters([p for p in planned if p.key not in done])
    ready = {letter.key: _compose(rules, letter, sender_addr) for letter in todo}  # outside the lock
    queued = sent = 0
    ours: set[str] = set()  # keys this sweep wrote: a case can be in several people's letters
    for batch in _batches(todo):
        with Session(engine, expire_on_commit=False) as s, s.begin():
            head = journal.lock(s)
            # written meanwhile by another daemon (ours stay to tell in the other letters)
            done = _done(s, [p.key for letter in batch for p in letter.items]) - ours
            chases: list[dict[str, Any]] = []
            events: list[journal.Entry] = []
            for letter in batch:
                fresh = tuple(p for p in letter.items if p.key not in done)
                if not fresh:
                    continue
                mail = ready[letter.key] if len(fresh) == len(letter.items) else None
                out, doc_id = mail or _compose(rules, replace(letter, items=fresh), sender_addr)
                outbox.queue(s, out, document_id=doc_id)
                for p in fresh:
                    if p.key not in ours:
                        ours.add(p.key)
                        chases.append(_chase_row(p, now))
                    events.append(_event(p, letter.to))
                sent += 1
            db.insert_rows(s, _table(Chase), chases)
            journal.append_many(s, head, events)
            queued += len(chases)
    _planned_today(engine, cases, today)
    if queued:
        log.info("queued %d chase(s) in %d letter(s)", queued, sent)
    return queued + reports


def _batches(todo: list[Letter]) -> list[list[Letter]]:
    out: list[list[Letter]] = [[]]
    rows = 0
    for letter in todo:
        if rows and rows + len(letter.items) > BATCH_ROWS:
            out.append([])
            rows = 0
        out[-1].append(letter)
        rows += len(letter.items)
    return [b for b in out if b]


def _done(s: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        found.update(s.exec(select(Chase.key).where(db.among(s, col(Chase.key), keys[i : i + 500]))).all())
    return found


def _compose(rules: Rules, letter: Letter, sender_addr: str) -> tuple[outbox.Outgoing, int | None]:
    """The letter's message, and the case it is about when it is about one."""
    one = letter.items[0].doc if len(letter.items) == 1 else None
    subject, body = render(rules, letter)
    out = outbox.compose(
        sender=sender_addr,
        to=(letter.to,),
        subject=subject,
        body=body,
        kind=letter.items[0].kind if len(letter.items) == 1 else "chase_day",
        key=letter.key,
        number=one.number if one else None,
    )
    return out, one.id if one else None


def _chase_row(p: Planned, now: dt.datetime) -> dict[str, Any]:
    return dict(key=p.key, kind=p.kind, document_id=p.doc.id if p.doc else None, slot=p.slot, created_at=now)


def _event(p: Planned, to: str) -> journal.Entry:
    """One event per case and person told, in the case's history."""
    return journal.Entry(
        p.kind,
        document_id=p.doc.id if p.doc else None,
        data=dict(to=[to], slot=p.slot, due_date=str(p.doc.due_date) if p.doc else None),
    )


def _planned_today(engine: sa.Engine, cases: list[OpenCase], today: dt.date) -> None:
    """Mark the cases planned today with the due date they were planned with (a
    cache: tomorrow, or a new resolution or due date, plans again). The marks are
    rows of the narrow `chase_mark`, not a column of `document`: no index of the
    journal is written. MARK_ROWS cases a transaction; the first also deletes the
    days before, so the table holds one day's marks."""
    rows = [dict(document_id=c.doc.id, day=today, due_date=c.due) for c in cases]
    for i in range(0, len(rows), MARK_ROWS):
        with Session(engine) as s, s.begin():
            journal.lock(s)
            if i == 0:
                s.execute(sa.delete(ChaseMark).where(col(ChaseMark.day) < today))
            # a case planned again the same day (its due date moved, or another
            # daemon swept too) keeps one mark
            db.insert_rows(s, _table(ChaseMark), rows[i : i + MARK_ROWS], upsert=["document_id"])
    if len(rows) >= ANALYZE_MARKS and engine.dialect.name == "postgresql":
        # a day's first marking replaced yesterday's marks: with yesterday's
        # statistics PostgreSQL expects no mark of today and merge-joins the minute
        # sweep's NOT EXISTS on the due date (which hundreds of marks share): 46 ms
        # a minute at 1 M, 9 ms with the day's statistics (autovacuum comes later)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE chase_mark")


def _table(model: Any) -> sa.Table:
    return cast(sa.Table, model.__table__)


def sweep_weekly(
    engine: sa.Engine, rules: Rules, sender_addr: str, now: dt.datetime, archive: Archive | None = None
) -> int:
    """Each journal's weekly report (2.6, 2.13): on the report day to the reviewers (or,
    with none, or past `review_until`, straight to management); once approved, or not
    reviewed by `review_until`, to management. Built from a read; only queuing takes
    the writer lock, and the report's row (one per journal and week) is written with
    its mail, so nothing is sent twice."""
    from .digest import Week

    n = 0
    week = weekly_due(rules, now)
    if week is not None:
        for key in rules.journals:
            n += _first_letters(engine, rules, sender_addr, now, week, key)
    with Session(db.reader(engine), expire_on_commit=False) as s:
        due = s.exec(
            select(WeeklyReport).where(
                sa.or_(
                    col(WeeklyReport.status) == report_review.APPROVED,
                    sa.and_(
                        col(WeeklyReport.status) == report_review.IN_REVIEW,
                        col(WeeklyReport.review_due_at) <= now,
                    ),
                )
            )
        ).all()
    for row in due:
        if row.journal in rules.journals:
            n += _to_management(engine, rules, sender_addr, now, row, Week.parse(row.week), archive)
    return n


def _first_letters(
    engine: sa.Engine, rules: Rules, sender_addr: str, now: dt.datetime, week: Week, key: str
) -> int:
    reviewers = rules.report_reviewers()
    until = dt.datetime.combine(report_day(rules, week), rules.chasing.weekly_review_until, KZ_TZ)
    review = bool(reviewers) and now < until
    with Session(db.reader(engine), expire_on_commit=False) as s:
        if _report_row(s, key, week.label) or _sent_before_0017(s, week):
            return 0
        letter = build_weekly(
            s,
            rules,
            week,
            sender_addr,
            now,
            key,
            to=reviewers if review else rules.report_recipients(key),
            stage=report_review.IN_REVIEW if review else report_review.SENT,
            mark=None if review or not reviewers else report_review.NOT_REVIEWED,
            until=until,
        )
    if letter is None:
        return 0
    with Session(engine, expire_on_commit=False) as s, s.begin():
        head = journal.lock(s)
        if _report_row(s, key, week.label):
            return 0
        row = WeeklyReport(
            journal=key,
            week=week.label,
            status=report_review.IN_REVIEW if review else report_review.SENT,
            made_at=now,
            review_due_at=until if reviewers else None,
            review=None if review or not reviewers else "not_reviewed",
            sent_at=None if review else now,
        )
        s.add(row)
        s.flush()
        queue_weekly(s, head, rules, row, letter, now)
    log.info("weekly report %s (%s) queued for %s", week.label, key, "review" if review else "management")
    return 1


def _to_management(
    engine: sa.Engine,
    rules: Rules,
    sender_addr: str,
    now: dt.datetime,
    row: WeeklyReport,
    week: Week,
    archive: Archive | None,
) -> int:
    """An approved report, or one its reviewers let pass `review_until`, to management."""
    reviewed = row.status == report_review.APPROVED
    file = None
    if row.file_sha256:
        if archive is None:  # a sweep without the archive (a bench, a test) leaves it for the daemon's
            return 0
        data = archive.get(row.file_sha256, ".bin")
        file = Attachment(
            row.file_name or "report.xlsx", row.file_type or "application/octet-stream", data, row.file_sha256
        )
    with Session(db.reader(engine), expire_on_commit=False) as s:
        letter = build_weekly(
            s,
            rules,
            week,
            sender_addr,
            now,
            row.journal,
            to=rules.report_recipients(row.journal),
            stage=report_review.SENT,
            mark=None if reviewed else report_review.NOT_REVIEWED,
            file=file,
        )
    with Session(engine, expire_on_commit=False) as s, s.begin():
        head = journal.lock(s)
        fresh = s.get(WeeklyReport, row.id)
        if fresh is None or fresh.status != row.status:  # another daemon, or a reply meanwhile
            return 0
        fresh.status, fresh.sent_at = report_review.SENT, now
        if not reviewed:
            fresh.review = "not_reviewed"
        s.add(fresh)
        if letter is not None:
            queue_weekly(s, head, rules, fresh, letter, now)
        if not reviewed:
            for person in rules.report_reviewers():
                notices.to_person(
                    s,
                    rules,
                    person,
                    sender_addr=sender_addr,
                    key=f"weekly-unreviewed:{fresh.id}:{person}",
                    title=f"Отчёт за неделю {fresh.week} направлен руководству без проверки",
                    text=f"Ответа «СОГЛАСОВАНО» не было до {_hm(fresh.review_due_at)}: еженедельный отчёт "
                    f"за неделю {fresh.week} направлен руководству с пометкой «{report_review.NOT_REVIEWED}» "
                    "(п. 2.13 Регламента).",
                )
    log.info(
        "weekly report %s (%s) to management%s", row.week, row.journal, "" if reviewed else ", not reviewed"
    )
    return 1


def _sent_before_0017(s: Session, week: Week) -> bool:
    """The week's one report went out before reports were per journal (a Chase row then)."""
    return s.exec(select(Chase).where(Chase.key == f"weekly:{week.label}")).first() is not None


def _report_row(s: Session, key: str, week: str) -> WeeklyReport | None:
    return s.exec(select(WeeklyReport).where(WeeklyReport.journal == key, WeeklyReport.week == week)).first()


def _hm(ts: dt.datetime | None) -> str:
    return ts.astimezone(KZ_TZ).strftime("%H:%M") if ts else "—"


def _open_cases(s: Session, today: dt.date) -> list[OpenCase]:
    docs = [
        CaseLine(*row)
        for row in s.execute(
            sa.select(*_LINE).where(
                is_open(),
                col(Document.due_date).is_not(None),
                col(Document.due_date) <= today + LOOKAHEAD,
                ~sa.exists().where(  # not planned today with the due date in force
                    col(ChaseMark.document_id) == col(Document.id),
                    col(ChaseMark.day) == today,
                    col(ChaseMark.due_date) == col(Document.due_date),
                ),
            )
        )
    ]
    current = current_resolutions(s, [d.id for d in docs])
    cases = []
    for d in docs:
        assert d.due_date is not None  # the query's
        res = current.get(d.id)
        cases.append(OpenCase(d, d.due_date, res.text if res else None, res.addressees if res else ()))
    return cases


COPY_WINDOW = dt.timedelta(days=90)  # 3.8's few working days, and a daemon down for weeks


def _awaiting_copy(s: Session, now: dt.datetime) -> list[tuple[Answer, Document, str]]:
    """Answers sent (3.7) whose copy has not reached the clerk (3.8), sent lately:
    the copy is chased once, a few working days after dispatch, so an answer
    sent months ago has had its reminder (or predates mailflow) and is history.
    Two indexed queries, the recent documents first, so no planner starts from
    the answers of ten years."""
    docs = {
        d.id: d
        for d in s.exec(
            select(Document).where(
                Document.status == State.ANSWERED.value, col(Document.answered_at) >= now - COPY_WINDOW
            )
        )
    }
    if not docs:
        return []
    answers = s.exec(
        select(Answer).where(col(Answer.document_id).in_(list(docs)), col(Answer.dispatched_at).is_not(None))
    )
    return [(a, docs[a.document_id], a.holder or "") for a in answers]


def _meeting_today(s: Session, rules: Rules, today: dt.date) -> list[str]:
    """The units meeting today whose hand-over list is not yet made (so the other
    minutes of a meeting day, and every other day, read nothing)."""
    if not rules.calendar.is_working_day(today):
        return []
    units = [u for u, day in rules.workflow.meetings.items() if day == today.weekday()]
    done = _done(s, [meeting_key(u, today) for u in units])
    return [u for u in units if meeting_key(u, today) not in done]


def meeting_key(unit: str, today: dt.date) -> str:
    return f"meeting:{unit}:{today}"


def _not_handed_over(s: Session, units: list[str]) -> list[CaseLine]:
    """Resolved appeals from units with meetings whose paper has not been handed over.

    Only open cases: 1.13/2.12 hand the copy with the resolution to the unit's
    chief at his reporting meeting so that his people can answer it; once the
    answer is sent (or the case left by another exit) there is nothing left to
    hand over for, and ten years of closed cases are not today's work.
    """
    if not units:
        return []
    # EXISTS, not IN: PostgreSQL cannot turn NOT IN (subquery) into an anti-join
    # and would hash every hand-over of the journal's history each minute
    resolved = sa.exists().where(col(Resolution.document_id) == col(Document.id), IS_CURRENT)
    handed = sa.exists().where(col(Handover.document_id) == col(Document.id))
    return [
        CaseLine(*row)
        for row in s.execute(
            sa.select(*_LINE)
            .where(is_open(), col(Document.origin_unit).in_(units), resolved, ~handed)
            .order_by(col(Document.id))
        )
    ]


def _book_entries(s: Session, now: dt.datetime) -> list[Document]:
    since = now - dt.timedelta(days=14)
    return list(
        s.exec(
            select(Document).where(
                Document.channel == BOOK,
                col(Document.book_entry_at).is_not(None),
                Document.registered_at >= since,
            )
        )
    )
