"""Chasing deadlines (regulation 2.1, 3.2–3.3): reminders, escalation, the Book rule.

`plan` decides, from the open cases and the clock, which chases should exist
now (pure). `sweep` writes the missing ones: each chase row has a unique key
(case, kind, slot) and is inserted in the same transaction that queues its
mail, so restarts, clock jumps and two daemons never send anything twice. A
daemon that was down catches up once: only today's slots exist, not the
missed ones. Nothing is sent outside working hours of working days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from . import journal, outbox
from .case.queries import IS_CURRENT, consumer_name, current_resolutions, is_open
from .case.states import State
from .models import Answer, Assignment, Chase, Document, Handover, Resolution
from .rules import Person, Rules
from .values import KZ_TZ, Attachment
from .vocabulary import BOOK, CLERK, UNIT_HEAD

log = logging.getLogger("mailflow.chasing")
LOOKAHEAD = dt.timedelta(days=21)  # covers the longest "before" offset, holidays included


@dataclass(frozen=True)
class OpenCase:
    doc: Document
    resolution: Resolution | None
    executors: tuple[Assignment, ...]


@dataclass(frozen=True)
class Planned:
    key: str
    kind: str  # before | due | overdue | escalation | book_breach
    slot: str
    doc: Document | None  # None: not about one case (a meeting's list)
    to: tuple[str, ...]
    template: str
    context: dict = field(default_factory=dict)


def working_now(rules: Rules, now: dt.datetime) -> bool:
    local = now.astimezone(KZ_TZ)
    cal = rules.calendar
    return cal.is_working_day(local.date()) and cal.work_start <= local.time() < cal.work_end


def plan_deadlines(cases: list[OpenCase], rules: Rules, today: dt.date) -> list[Planned]:
    out: list[Planned] = []
    cal, ch = rules.calendar, rules.chasing
    for case in cases:
        doc, due = case.doc, case.doc.due_date
        left = cal.working_days_between(today, due)  # > 0 before, 0 on the day, < 0 overdue
        late = cal.working_days_between(due, today) if left < 0 else 0
        ctx = _context(rules, case, due, left, late)
        first = case.executors[0] if case.executors else None
        if first is not None:
            kind, slot = _reminder_slot(left, today, ch)
            if kind:
                out.append(
                    Planned(
                        f"reminder:{doc.id}:{due}:{slot}",
                        kind,
                        slot,
                        doc,
                        (first.email,),
                        "reminder",
                        {**ctx, "kind": kind},
                    )
                )
        if left < 0 and late >= max(ch.escalate_after, 0):
            to = _escalation_to(rules, first)
            if to:
                out.append(
                    Planned(f"escalation:{doc.id}:{due}", "escalation", str(due), doc, to, "escalation", ctx)
                )
    return out


def _reminder_slot(left: int, today: dt.date, ch) -> tuple[str | None, str]:
    if left > 0 and left in ch.before_working_days:
        return "before", f"-{left}"
    if left == 0 and ch.on_due_day:
        return "due", "0"
    if left < 0 and ch.overdue_daily:
        return "overdue", f"overdue:{today}"
    return None, ""


def _escalation_to(rules: Rules, first: Assignment | None) -> tuple[str, ...]:
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


def _context(rules: Rules, case: OpenCase, due: dt.date, left: int, late: int) -> dict:
    doc = case.doc
    first = case.executors[0] if case.executors else None
    executor = rules.staff.by_email(first.email) if first else None
    return dict(
        number=doc.number,
        due_date=due,
        days_left=left,
        overdue_days=late,
        kind_of_appeal=doc.kind,
        consumer_name=consumer_name(doc),
        resolution_text=case.resolution.text if case.resolution else "резолюция не наложена",
        co_executors=[a.name for a in case.executors[1:]],
        executor=first.name if first else "не назначен (нет резолюции)",
        unit=executor.unit if executor else None,
        token=None,
    )


def plan_book(docs: list[Document], rules: Rules, now: dt.datetime) -> list[Planned]:
    """Regulation 2.1: entry → PR specialist in at most `max_minutes`."""
    limit = dt.timedelta(minutes=rules.chasing.book_max_minutes)
    to = tuple(
        dict.fromkeys(p.email for p in rules.staff.people if p.roles & rules.chasing.book_notify_roles)
    )
    out = []
    for doc in docs:
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


def weekly_due(rules: Rules, now: dt.datetime):
    """The week whose report is due by `now` (regulation 2.13), or None.

    Due from `send_at` on the report day: the configured weekday (Monday), or
    the next working day when it is not one. Only the last finished week is
    ever due: a daemon that was down for weeks sends one report, not several.
    """
    from .digest import Week

    local = now.astimezone(KZ_TZ)
    week = Week.previous_of(local.date())
    monday = week.end + dt.timedelta(days=1)
    day = rules.calendar.next_working_day(monday + dt.timedelta(days=rules.chasing.weekly_weekday))
    if (local.date(), local.time()) < (day, rules.chasing.weekly_send_at):
        return None
    return week


def send_weekly(s: Session, head, rules: Rules, week, sender_addr: str, now: dt.datetime) -> bool:
    """Build, render and queue the weekly report under its unique key; False if already sent."""
    from . import digest, digest_render

    key = f"weekly:{week.label}"
    if s.exec(select(Chase).where(Chase.key == key)).first():
        return False
    to = tuple(
        dict.fromkeys(
            p.email
            for p in rules.staff.people
            if p.roles & rules.chasing.weekly_recipients
            and p.email not in rules.own_addresses | {sender_addr.lower()}
        )
    )
    if not to:
        return False
    report = digest.build(s, rules, week, now)
    xlsx = digest_render.xlsx(report)
    sheet = Attachment(
        digest_render.filename(report),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        xlsx,
        hashlib.sha256(xlsx).hexdigest(),
    )
    s.add(Chase(key=key, kind="weekly", slot=week.label, created_at=now))
    outbox.queue(
        s,
        outbox.compose(
            sender=sender_addr,
            to=to,
            subject=digest_render.subject(report, rules),
            body=digest_render.text(report),
            html=digest_render.html(report, rules),
            kind="weekly",
            key=key,
            attachments=(sheet,),
        ),
    )
    journal.append(
        s,
        head,
        "weekly_report",
        week=week.label,
        to=list(to),
        new=report.new,
        overdue=report.overdue_total,
        book_breaches=len(report.book_breaches),
        xlsx_sha256=sheet.sha256,
    )
    return True


def plan_copies(answers: list[tuple[Answer, Document, str]], rules: Rules, today: dt.date) -> list[Planned]:
    """Regulation 3.8: a dispatched answer's copy within `within_working_days`, or a reminder."""
    days = rules.workflow.copy_within_days
    clerks = tuple(p.email for p in rules.staff.with_role(CLERK))
    out = []
    for answer, doc, executor in answers:
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
                tuple(dict.fromkeys((*clerks, executor))),
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
                ),
            )
        )
    return out


def plan_meetings(docs: list[Document], rules: Rules, today: dt.date) -> list[Planned]:
    """Regulation 1.13, 2.12: on a unit's meeting day, what the clerk hands over to it."""
    if not rules.calendar.is_working_day(today):
        return []
    units = [u for u, day in rules.workflow.meetings.items() if day == today.weekday()]
    clerks = tuple(p.email for p in rules.staff.with_role(CLERK))
    out = []
    for unit in units:
        mine = [d for d in docs if d.origin_unit == unit]
        if not mine:
            continue
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
                f"meeting:{unit}:{today}",
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


def sweep(engine: sa.Engine, rules: Rules, sender_addr: str, now: dt.datetime | None = None) -> int:
    """Queue the chases due now; return how many were queued."""
    now = now or dt.datetime.now(dt.UTC)
    if not working_now(rules, now):
        return 0
    reports = 0
    week = weekly_due(rules, now)
    if week is not None:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            head = journal.lock(s)
            if send_weekly(s, head, rules, week, sender_addr, now):
                log.info("weekly report %s queued", week.label)
                reports = 1
    today = now.astimezone(KZ_TZ).date()
    with Session(engine, expire_on_commit=False) as s, s.begin():
        head = journal.lock(s)
        cases = _open_cases(s, today)
        planned = (
            plan_deadlines(cases, rules, today)
            + plan_book(_book_entries(s, now), rules, now)
            + plan_copies(_awaiting_copy(s), rules, today)
            + plan_meetings(_not_handed_over(s, rules), rules, today)
        )
        done = (
            set(s.exec(select(Chase.key).where(Chase.key.in_([p.key for p in planned]))).all())
            if planned
            else set()
        )
        own = rules.own_addresses | {sender_addr.lower()}
        fresh = [
            dataclasses.replace(p, to=tuple(a for a in p.to if a not in own))
            for p in planned
            if p.key not in done
        ]
        fresh = [p for p in fresh if p.to]
        for p in fresh:
            _queue(s, head, rules, p, sender_addr, now)
        if cases:  # planned for today: tomorrow, or a new resolution or due date, plans again
            s.execute(
                sa.update(Document).where(Document.id.in_([c.doc.id for c in cases])).values(chased_on=today)
            )
    if fresh:
        log.info("queued %d reminder(s)/notice(s)", len(fresh))
    return len(fresh) + reports


def _queue(s: Session, head, rules: Rules, p: Planned, sender_addr: str, now: dt.datetime) -> None:
    doc_id, number = (p.doc.id, p.doc.number) if p.doc else (None, None)
    s.add(Chase(key=p.key, kind=p.kind, document_id=doc_id, slot=p.slot, created_at=now))
    subject, body = rules.render(p.template, **p.context)
    outbox.queue(
        s,
        outbox.compose(
            sender=sender_addr,
            to=p.to,
            subject=subject,
            body=body,
            kind=p.kind,
            key=f"chase:{p.key}",
            number=number,
        ),
        document_id=doc_id,
    )
    journal.append(
        s,
        head,
        p.kind,
        document_id=doc_id,
        to=list(p.to),
        slot=p.slot,
        due_date=str(p.doc.due_date) if p.doc else None,
    )


def _open_cases(s: Session, today: dt.date) -> list[OpenCase]:
    docs = s.exec(
        select(Document).where(
            is_open(),
            col(Document.due_date).is_not(None),
            Document.due_date <= today + LOOKAHEAD,
            sa.or_(col(Document.chased_on).is_(None), Document.chased_on < today),
        )
    ).all()
    current = current_resolutions(s, [d.id for d in docs])
    cases = []
    for d in docs:
        res, people = current.get(d.id, (None, []))
        cases.append(OpenCase(d, res, tuple(people)))
    return cases


def _awaiting_copy(s: Session) -> list[tuple[Answer, Document, str]]:
    """Answers sent (3.7) whose copy has not reached the clerk (3.8)."""
    rows = s.exec(
        select(Answer, Document)
        .join(Document, Document.id == Answer.document_id)
        .where(Document.status == State.ANSWERED.value, col(Answer.dispatched_at).is_not(None))
    ).all()
    return [(a, d, a.holder or "") for a, d in rows]


def _not_handed_over(s: Session, rules: Rules) -> list[Document]:
    """Resolved appeals from units with meetings whose paper has not been handed over."""
    units = list(rules.workflow.meetings)
    if not units:
        return []
    handed = select(Handover.document_id)
    resolved = select(Resolution.document_id).where(IS_CURRENT)
    return list(
        s.exec(
            select(Document)
            .where(
                Document.origin_unit.in_(units),
                Document.id.in_(resolved),
                Document.id.not_in(handed),
                # a closed case (imported history too) has no paper left to hand over
                col(Document.closed_at).is_(None),
            )
            .order_by(Document.id)
        )
    )


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
