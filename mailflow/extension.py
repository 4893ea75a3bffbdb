"""Extending the term (АППК art. 76 p. 2): a head's reasoned decision, at most two
months in all, the applicant told within 3 working days. The only way a due
date moves later."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from . import notices
from .case import transition
from .case.actors import Actor
from .case.states import Act, IllegalTransition
from .models import ChainHead, Document, Extension
from .rules import Rules
from .values import KZ_TZ


class Refused(ValueError):
    """The extension is not allowed; the message says why, in Russian."""


@dataclass(frozen=True)
class Extended:
    old_due: dt.date
    new_due: dt.date
    tell_applicant_by: dt.date
    applicant_mailed: bool


def limit(rules: Rules, doc: Document) -> dt.date:
    """The latest due date allowed: registration plus the maximum months."""
    r = doc.registered_at.astimezone(KZ_TZ).date()
    years, month0 = divmod(r.month - 1 + rules.deadlines.extension_max_months, 12)
    year, month = r.year + years, month0 + 1
    return dt.date(year, month, min(r.day, calendar.monthrange(year, month)[1]))


def extend(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    *,
    until: dt.date,
    reason: str,
    by: Actor,
    sender_addr: str,
    today: dt.date,
) -> Extended:
    if not reason.strip():
        raise Refused("нужна причина: продление — мотивированное решение руководителя")
    old = doc.due_date
    if old is not None and until <= old:
        raise Refused(f"новый срок {until:%d.%m.%Y} не позже действующего {old:%d.%m.%Y}")
    cap = limit(rules, doc)
    if until > cap:
        raise Refused(
            f"продление допускается не более чем на {rules.deadlines.extension_max_months} "
            f"мес.: не позднее {cap:%d.%m.%Y} ({rules.deadlines.extension_max_months} мес. "
            f"от регистрации)"
        )
    tell_by = rules.calendar.add_working_days(today, rules.deadlines.extension_notice_days)
    now = dt.datetime.now(dt.UTC)
    try:
        transition.apply(
            s,
            head,
            doc,
            Act.EXTEND,
            by,
            rules.workflow,
            now=now,
            old_due=str(old),
            new_due=str(until),
            reason=reason.strip(),
            source=rules.deadlines.default.source,
        )
    except IllegalTransition as exc:
        raise Refused(f"{doc.number}: {exc}") from None
    s.add(
        Extension(
            document_id=doc.id,
            old_due=old or until,
            new_due=until,
            reason=reason.strip(),
            author=by.address,
            created_at=now,
            tell_applicant_by=tell_by,
        )
    )
    doc.due_date = until  # reminders are planned again for the new date (chasing: the mark's date differs)
    mailed = _tell_applicant(s, rules, doc, until, reason, sender_addr)
    notices.tell(
        s,
        rules,
        sender_addr=sender_addr,
        role="clerk",
        key=f"extension:{doc.id}:{until}",
        title="Срок продлён: сообщите заявителю",
        text=(
            f"Срок по {doc.number} продлён до {until:%d.%m.%Y}. "
            + (
                "Заявителю отправлено письмо."
                if mailed
                else f"Сообщите заявителю письменно не позднее {tell_by:%d.%m.%Y} "
                "(адреса электронной почты нет)."
            )
        ),
        details=[("Причина", reason.strip()), ("Решение", by.address)],
        number=doc.number,
        document_id=doc.id,
    )
    return Extended(old, until, tell_by, mailed)


def _tell_applicant(
    s: Session, rules: Rules, doc: Document, until: dt.date, reason: str, sender_addr: str
) -> bool:
    return notices.to_applicant(
        s,
        rules,
        "extension",
        doc=doc,
        key=f"extension-applicant:{doc.id}:{until}",
        sender_addr=sender_addr,
        new_due=until,
        reason=reason.strip(),
        source="п. 2 ст. 76 АППК РК",
        organisation=rules.journal(doc.journal).organisation,
    )
