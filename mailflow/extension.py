"""Extending the term (АППК art. 76 p. 2): a head's reasoned decision, at most two
months in all, the applicant told within 3 working days. The only way a due
date moves later: `extend`, whoever asks for it.

By e-mail: the executor's unit head (or management) asks «ПРОДЛИТЬ ДО
25.05.2026: причина», answering any mailflow message about the case or in a
new message naming its number; nothing changes yet, but management gets the
request "на продление", each manager with a one-time token. A manager's reply
decides it: «СОГЛАСОВАНО» (or «ПРОДЛИТЬ ДО <другая дата>») is `extend`, the
same act as `mailflow extend`; «ОТКАЗАТЬ: причина» refuses it. The applicant is
written to when their e-mail is known; otherwise the clerks of the case's
journal get a letter with a token, are chased every working day until they
record how the applicant was told («УВЕДОМЛЕН: Казпочта, РПО № …» or
`mailflow extend NUMBER --notified …`), and the record is an event.

Anything wrong (a date that has passed or is no date, a term past the law's,
the wrong person, an unknown number, a word or number typed with Latin
look-alikes) changes nothing: a staff member is told why in the thread, a
stranger is never written to, and the clerks look at it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from . import (
    answering,
    authentication,
    automatic,
    journal,
    notices,
    outbox,
    replies,
    resolution_text,
    routing,
    substitutes,
)
from .case import transition
from .case.actors import Actor, actor
from .case.queries import consumer_name, current_resolution, management, team
from .case.states import OPEN, Act, IllegalTransition, State
from .extract.text import CYR2LAT, LAT2CYR
from .models import ChainHead, Document, Extension, ExtensionRequest, id_of
from .rules import Rules, address_key
from .values import KZ_TZ, ParsedMessage

REQUEST_WORDS = ("ПРОДЛИТЬ", "ҰЗАРТУ")  # a unit head asks (or management decides, answering "на продление")
APPROVE_WORDS = ("СОГЛАСОВАНО", "УТВЕРЖДАЮ", "КЕЛІСІЛДІ", "БЕКІТЕМІН", *REQUEST_WORDS)
REFUSE_WORDS = ("ОТКАЗАТЬ", "НЕ СОГЛАСОВАНО", "НЕ СОГЛАСОВЫВАЮ", "КЕЛІСІЛМЕДІ", "БАС ТАРТУ")
TOLD_WORDS = ("УВЕДОМЛЕН", "УВЕДОМЛЕНО", "ХАБАРЛАНДЫ")  # the clerk: the applicant was told
DECISION, TOLD = "extension", "extension_notice"  # the tokens' purposes (intake._reply)
PURPOSES = frozenset({DECISION, TOLD})
SOURCE = "п. 2 ст. 76 АППК РК"

_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_NUMBER = re.compile(r"(?<![\w-])([A-ZА-ЯЁӘҒҚҢӨҰҮҺІ]{1,10}-\d{4}-\d{1,10})(?![\w-])", re.I)


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


def check(rules: Rules, doc: Document, until: dt.date, reason: str, today: dt.date) -> None:
    """Refused, in Russian, unless `until` may be the case's new due date (pure)."""
    if not reason.strip():
        raise Refused("нужна причина: продление — мотивированное решение руководителя")
    if until <= today:
        raise Refused(f"дата {until:%d.%m.%Y} уже наступила или прошла: новый срок — день в будущем")
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
    inbound_id: int | None = None,
    entered_by: str | None = None,
) -> Extended:
    """`entered_by`: the clerk who entered a head's paper decision, named in the event."""
    check(rules, doc, until, reason, today)
    old = doc.due_date
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
            inbound_id=inbound_id,
            old_due=str(old),
            new_due=str(until),
            reason=reason.strip(),
            source=rules.deadlines.default.source,
            **({"entered_by": entered_by} if entered_by else {}),
        )
    except IllegalTransition as exc:
        raise Refused(f"{doc.number}: {exc}") from None
    mailed = _tell_applicant(s, rules, doc, until, reason, sender_addr)
    ext = Extension(
        document_id=id_of(doc),
        old_due=old or until,
        new_due=until,
        reason=reason.strip(),
        author=by.address,
        created_at=now,
        tell_applicant_by=tell_by,
        applicant_told_at=now if mailed else None,
        applicant_told_how=f"e-mail {doc.email}" if mailed else None,
        applicant_told_by="mailflow" if mailed else None,
    )
    s.add(ext)
    s.flush()
    doc.due_date = until  # reminders are planned again for the new date (chasing: the mark's date differs)
    if mailed:
        notices.tell(
            s,
            rules,
            sender_addr=sender_addr,
            role="clerk",
            key=f"extension:{doc.id}:{until}",
            title="Срок продлён, заявителю отправлено письмо",
            text=f"Срок по {doc.number} продлён до {until:%d.%m.%Y}. Заявителю отправлено письмо ({doc.email}).",
            details=[("Причина", reason.strip()), ("Решение", by.address)],
            number=doc.number,
            document_id=doc.id,
        )
    else:
        _ask_clerks(s, rules, doc, ext, sender_addr, by, now)
    return Extended(old or until, until, tell_by, mailed)


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
        source=SOURCE,
        organisation=rules.journal(doc.journal).organisation,
    )


def _ask_clerks(
    s: Session, rules: Rules, doc: Document, ext: Extension, sender_addr: str, by: Actor, now: dt.datetime
) -> None:
    """No e-mail for the applicant: the clerks of the case's journal write, and answer
    this letter «УВЕДОМЛЕН: …» (its token) when they have."""
    clerks = rules.clerks(doc.journal)
    if not clerks:
        return
    for clerk in clerks:  # each with a token of their own
        token = routing.new_token()
        subject, body = rules.render(
            "extension_clerk",
            number=doc.number,
            token=token,
            new_due=ext.new_due,
            tell_by=ext.tell_applicant_by,
            reason=ext.reason,
            decided_by=_name(rules, by.address),
            consumer_name=_consumer(doc),
            address=doc.address,
            organisation=rules.journal(doc.journal).organisation,
            source=SOURCE,
        )
        out = outbox.compose(
            sender=sender_addr,
            to=(clerk,),
            subject=subject,
            body=body,
            kind="extension_clerk",
            key=f"extension:{doc.id}:{ext.new_due}:{clerk}",
            number=doc.number,
        )
        outbox.queue(s, out, document_id=doc.id)
        answering.issue_token(s, rules, doc, clerk, out.message_id, now, token, purpose=TOLD)


def record_notice(
    s: Session, head: ChainHead, rules: Rules, doc: Document, *, how: str, by: Actor, now: dt.datetime
) -> Extension:
    """The clerk records how the applicant was told of the latest extension."""
    how = " ".join(how.split())
    if not how:
        raise Refused(
            "напишите, как уведомлён заявитель: «УВЕДОМЛЕН: Казпочта, РПО № …, исх. № … от …» "
            "или «УВЕДОМЛЕН: вручено лично …»"
        )
    ext = s.exec(
        select(Extension)
        .where(Extension.document_id == doc.id, col(Extension.applicant_told_at).is_(None))
        .order_by(col(Extension.id).desc())
    ).first()
    if ext is None:
        raise Refused(f"по {doc.number} нет продления, о котором заявителю ещё не сообщено")
    problem = _date_problem(how, ext.created_at.astimezone(KZ_TZ).date(), now.astimezone(KZ_TZ).date())
    if problem:
        raise Refused(problem)
    ext.applicant_told_at, ext.applicant_told_how, ext.applicant_told_by = now, how[:1000], by.address
    s.add(ext)
    journal.append(
        s,
        head,
        "extension_applicant_told",
        document_id=doc.id,
        extension_id=ext.id,
        new_due=str(ext.new_due),
        how=how[:1000],
        by=by.address,
        late=now.astimezone(KZ_TZ).date() > ext.tell_applicant_by,
    )
    return ext


def _date_problem(text: str, since: dt.date, today: dt.date) -> str | None:
    for m in _DATE.finditer(text):
        try:
            day = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            return f"{m.group(0)} — такой даты нет"
        if day > today:
            return f"дата {day:%d.%m.%Y} ещё не наступила"
        if day < since:
            return f"дата {day:%d.%m.%Y} раньше решения о продлении ({since:%d.%m.%Y})"
    return None


# -- a request by e-mail -----------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    until: dt.date
    reason: str


def parse_request(text: str) -> Asked | str:
    """«ПРОДЛИТЬ ДО 25.05.2026: причина» (the reason after a colon, a dash or on the next
    lines; Kazakh «ҰЗАРТУ 25.05.2026 ДЕЙІН: себебі»); a Russian problem otherwise."""
    body = text.strip()
    m = re.match(r"\W*(?:продлить|ұзарту)(?:\s+срок\w*)?\s*(?:до\s*)?", body, re.I)
    rest = body[m.end() :] if m else body
    d = _DATE.match(rest.strip())
    if d is None:
        return "укажите новый срок: «ПРОДЛИТЬ ДО 25.05.2026: причина»"
    try:
        until = dt.date(int(d.group(3)), int(d.group(2)), int(d.group(1)))
    except ValueError:
        return f"{d.group(0)} — такой даты нет"
    reason = rest.strip()[d.end() :]
    reason = re.sub(
        r"^\s*(?:г\.?|года?)?\s*(?:дейін)?\s*[:;,.—–-]?\s*(?:причина\s*[:—-]\s*)?", "", reason, flags=re.I
    )
    return Asked(until, " ".join(reason.split())[:2000])


@dataclass(frozen=True)
class Result:
    status: str  # requested | extended | refused | unclear | told
    number: str | None
    reason: str


def handle_request(
    s: Session,
    head: ChainHead,
    rules: Rules,
    *,
    msg: ParsedMessage,
    ctx: replies.ReplyContext | None,
    inbound_id: int,
    sender_addr: str,
    now: dt.datetime,
) -> Result:
    """«ПРОДЛИТЬ ДО …» from staff (triage's case_request): a request for management,
    or a clear reply why not; nothing about the case changes here."""
    text = resolution_text.strip_quoted(msg.body_text)
    person = rules.staff.by_email(msg.from_addr)
    doc = s.get(Document, ctx.token.document_id) if ctx else None
    if person is None or automatic.why(msg):
        why = (
            "письмо создано автоматически"
            if person
            else f"отправитель {msg.from_addr or '(без адреса)'} не найден в справочнике сотрудников"
            + _lookalike_note(rules, msg.from_addr)
        )
        return _refuse(s, head, rules, msg, doc, inbound_id, sender_addr, why, answer=False)
    verdict = authentication.verdict(
        msg.authentication_results, msg.from_addr, rules.routing.trusted_authserv_ids, msg.dkim_verified
    )
    if verdict is not None:
        return _refuse(s, head, rules, msg, doc, inbound_id, sender_addr, verdict, answer=False)
    found = replies.find_word((*REQUEST_WORDS, *TOLD_WORDS), msg.subject, text, first=True)
    if found is None:  # triage saw the word; the message changed since? say what is expected
        return _refuse(s, head, rules, msg, doc, inbound_id, sender_addr, "нет слова «ПРОДЛИТЬ»")
    if found.lookalike:
        return _refuse(
            s, head, rules, msg, doc, inbound_id, sender_addr, replies.lookalike_reason(found.word)
        )
    if doc is None:
        doc, problem = _named_case(s, msg.subject, text)
        if doc is None:
            return _refuse(s, head, rules, msg, None, inbound_id, sender_addr, problem)
    if found.word in TOLD_WORDS:  # the clerk's record needs the letter's token
        return _refuse(
            s,
            head,
            rules,
            msg,
            doc,
            inbound_id,
            sender_addr,
            "чтобы отметить, что заявитель уведомлён, ответьте на письмо mailflow «Срок продлён: "
            f"сообщите заявителю» по {doc.number} (в нём код ответа) или выполните: "
            f"mailflow extend {doc.number} --notified «…» --by {person.email}",
        )
    asked = parse_request(text)
    if isinstance(asked, str):
        return _refuse(s, head, rules, msg, doc, inbound_id, sender_addr, asked)
    today = now.astimezone(KZ_TZ).date()
    try:
        _may_ask(s, rules, doc, person.email)
        check(rules, doc, asked.until, asked.reason, today)
    except Refused as exc:
        return _refuse(s, head, rules, msg, doc, inbound_id, sender_addr, str(exc))
    req = ExtensionRequest(
        document_id=id_of(doc),
        requested_by=person.email,
        until=asked.until,
        reason=asked.reason,
        inbound_id=inbound_id,
        created_at=now,
    )
    s.add(req)
    s.flush()
    journal.append(
        s,
        head,
        "extension_requested",
        document_id=doc.id,
        inbound_id=inbound_id,
        request_id=req.id,
        by=person.email,
        until=str(asked.until),
        reason=asked.reason,
        old_due=str(doc.due_date),
    )
    managers = management(rules, doc.journal)
    for m in managers:
        _to_management(s, rules, doc, req, m, sender_addr, now)
    notices.answer(
        s,
        rules,
        msg,
        sender_addr=sender_addr,
        key=f"extension-requested:{inbound_id}",
        title="Запрос на продление направлен руководству",
        text=f"Запрос продлить срок по {doc.number} до {asked.until:%d.%m.%Y} направлен руководству "
        "на согласование. О решении вам сообщат.",
        details=[("Причина", asked.reason), ("Действующий срок", _date(doc.due_date))],
        number=doc.number,
        document_id=doc.id,
        inbound_id=inbound_id,
    )
    return Result("requested", doc.number, f"until {asked.until}, to {len(managers)} manager(s)")


def _may_ask(s: Session, rules: Rules, doc: Document, who: str) -> None:
    """The executor's unit head (management where there is none) or management; an open case."""
    if State(doc.status) not in OPEN:
        raise Refused(f"{doc.number}: дело в состоянии «{State(doc.status).label}», срок не продлевается")
    pending = s.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.document_id == doc.id, ExtensionRequest.status == "pending"
        )
    ).first()
    if pending is not None:
        raise Refused(
            f"запрос продлить срок до {pending.until:%d.%m.%Y} уже ждёт решения руководства "
            f"(от {pending.created_at.astimezone(KZ_TZ):%d.%m.%Y})"
        )
    _, people = current_resolution(s, id_of(doc))
    mgmt = management(rules, doc.journal)
    heads = team(rules, people, doc.journal).unit_head if people else ()
    if who not in (*heads, *mgmt):
        names = ", ".join(_name(rules, a) for a in heads) or "руководство"
        raise Refused(
            f"продление срока по {doc.number} запрашивает руководитель подразделения исполнителя ({names})"
        )


def _named_case(s: Session, subject: str, text: str) -> tuple[Document | None, str]:
    """The case a message names by its number ("[ВХ-2026-000001]" in the subject, or in the text)."""
    for place in (subject, text[:500]):
        for m in _NUMBER.finditer(place):
            number = m.group(1).upper()
            doc = s.exec(select(Document).where(Document.number == number)).first()
            if doc is not None:
                return doc, ""
            folded = number.translate(LAT2CYR)
            if folded != number and s.exec(select(Document).where(Document.number == folded)).first():
                return None, f"в номере {number} латинские буквы вместо русских: {folded}"
            return None, f"документ {number} не найден в журнале"
    return None, "укажите номер обращения (например, ВХ-2026-000123) или ответьте на письмо mailflow по делу"


def _to_management(
    s: Session,
    rules: Rules,
    doc: Document,
    req: ExtensionRequest,
    to: str,
    sender_addr: str,
    now: dt.datetime,
) -> None:
    token = routing.new_token()
    subject, body = rules.render(
        "extension_request",
        number=doc.number,
        token=token,
        requested_by=_name(rules, req.requested_by),
        until=req.until,
        reason=req.reason,
        due_date=doc.due_date,
        limit=limit(rules, doc),
        consumer_name=_consumer(doc),
        kind=doc.kind,
        source=SOURCE,
    )
    out = outbox.compose(
        sender=sender_addr,
        to=(to,),
        subject=subject,
        body=body,
        kind="extension_request",
        key=f"extension-request:{req.id}:{to}",
        number=doc.number,
    )
    outbox.queue(s, out, document_id=doc.id)
    answering.issue_token(s, rules, doc, to, out.message_id, now, token, purpose=DECISION)


# -- replies to our letters: management's decision, the clerk's record ----------------


def handle_reply(
    s: Session,
    head: ChainHead,
    rules: Rules,
    *,
    msg: ParsedMessage,
    ctx: replies.ReplyContext,
    inbound_id: int,
    sender_addr: str,
    archive: object,
    now: dt.datetime,
) -> Result:
    """A reply carrying an extension token: management decides, or the clerk records the notice."""
    doc = s.get(Document, ctx.token.document_id)
    assert doc is not None  # a token always names its document
    told = ctx.token.purpose == TOLD
    trust = replies.authorize(
        msg,
        ctx.token,
        rules.staff,
        rules.routing.may_resolve,
        rules.routing.trusted_authserv_ids,
        now,
        anyone=frozenset(rules.clerks(doc.journal)) if told else None,
        stands_for=substitutes.standing_for(s, rules, now.astimezone(KZ_TZ).date()),
    )
    if not trust.ok or trust.person is None:
        return _refuse(s, head, rules, msg, doc, inbound_id, sender_addr, trust.reason)
    text = resolution_text.strip_quoted(msg.body_text)
    words = TOLD_WORDS if told else (*APPROVE_WORDS, *REFUSE_WORDS)
    found = replies.find_word(words, msg.subject, text, first=True)
    if found is None:
        expected = "«УВЕДОМЛЕН: как и когда»" if told else "«СОГЛАСОВАНО» или «ОТКАЗАТЬ: причина»"
        return _refuse(
            s, head, rules, msg, doc, inbound_id, sender_addr, f"в начале письма нет слова {expected}"
        )
    if found.lookalike:
        return _refuse(
            s, head, rules, msg, doc, inbound_id, sender_addr, replies.lookalike_reason(found.word)
        )
    who = actor(rules, trust.person.email)
    rest = _after(text, found.word)
    try:
        if told:
            ext = record_notice(s, head, rules, doc, how=rest, by=who, now=now)
            title, said = (
                "Отмечено: заявитель уведомлён",
                f"по {doc.number} о сроке до {ext.new_due:%d.%m.%Y}: {rest}",
            )
            result = Result("told", doc.number, rest[:200])
        else:
            title, said, result = _decide(
                s, head, rules, doc, msg, found.word, rest, who, inbound_id, sender_addr, now
            )
    except (Refused, IllegalTransition) as exc:
        return _refuse(s, head, rules, msg, doc, inbound_id, sender_addr, str(exc))
    ctx.token.used_at, ctx.token.used_by = now, msg.from_addr
    s.add(ctx.token)
    notices.answer(
        s,
        rules,
        msg,
        sender_addr=sender_addr,
        key=f"extension-done:{inbound_id}",
        title=title,
        text=said,
        number=doc.number,
        document_id=doc.id,
        inbound_id=inbound_id,
    )
    return result


def _decide(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    msg: ParsedMessage,
    word: str,
    rest: str,
    who: Actor,
    inbound_id: int,
    sender_addr: str,
    now: dt.datetime,
) -> tuple[str, str, Result]:
    req = s.exec(
        select(ExtensionRequest)
        .where(ExtensionRequest.document_id == doc.id)
        .order_by(col(ExtensionRequest.id).desc())
    ).first()
    if req is None or req.status != "pending":
        decided = f" ({_name(rules, req.decided_by or '')}, {req.status})" if req else ""
        raise Refused(f"запрос о продлении по {doc.number} уже рассмотрен{decided}")
    if word in REFUSE_WORDS:
        req.status, req.decided_by, req.decided_at, req.note = (
            "refused",
            who.address,
            now,
            rest[:2000] or None,
        )
        s.add(req)
        journal.append(
            s,
            head,
            "extension_refused",
            document_id=doc.id,
            inbound_id=inbound_id,
            request_id=req.id,
            by=who.address,
            note=rest[:1000],
        )
        notices.to_person(
            s,
            rules,
            req.requested_by,
            sender_addr=sender_addr,
            number=doc.number,
            document_id=doc.id,
            key=f"extension-refused:{req.id}",
            title="В продлении срока отказано",
            text=f"Руководство ({_name(rules, who.address)}) не согласовало продление срока по {doc.number} "
            f"до {req.until:%d.%m.%Y}. Срок прежний: {_date(doc.due_date)}.",
            details=[("Комментарий", rest)] if rest else [],
        )
        return (
            "Отказ в продлении записан",
            f"{doc.number}: продление до {req.until:%d.%m.%Y} не согласовано.",
            Result("refused-extension", doc.number, rest[:200]),
        )
    until = req.until
    if word in REQUEST_WORDS:  # «ПРОДЛИТЬ ДО <другая дата>»: the manager's own date
        asked = parse_request(f"{word} {rest}")
        if isinstance(asked, Asked):
            until = asked.until
        elif _DATE.search(rest):
            raise Refused(asked)
    done = extend(
        s,
        head,
        rules,
        doc,
        until=until,
        reason=req.reason,
        by=who,
        sender_addr=sender_addr,
        today=now.astimezone(KZ_TZ).date(),
        inbound_id=inbound_id,
    )
    ext = s.exec(
        select(Extension).where(Extension.document_id == doc.id).order_by(col(Extension.id).desc())
    ).first()
    req.status, req.decided_by, req.decided_at = "approved", who.address, now
    req.note, req.extension_id = rest[:2000] or None, ext.id if ext else None
    s.add(req)
    journal.append(
        s,
        head,
        "extension_approved",
        document_id=doc.id,
        inbound_id=inbound_id,
        request_id=req.id,
        by=who.address,
        until=str(until),
        extension_id=req.extension_id,
    )
    told = (
        "заявителю отправлено письмо"
        if done.applicant_mailed
        else (f"канцелярия сообщит заявителю не позднее {done.tell_applicant_by:%d.%m.%Y}")
    )
    text = f"Срок по {doc.number} продлён до {until:%d.%m.%Y} ({_name(rules, who.address)}); {told}."
    _, people = current_resolution(s, id_of(doc))
    for to in dict.fromkeys((req.requested_by, *(p.email for p in people[:1]))):
        notices.to_person(
            s,
            rules,
            to,
            sender_addr=sender_addr,
            key=f"extension-approved:{req.id}:{to}",
            title="Срок продлён",
            text=text,
            number=doc.number,
            document_id=doc.id,
        )
    return "Продление записано", text, Result("extended", doc.number, f"until {until}")


def _refuse(
    s: Session,
    head: ChainHead,
    rules: Rules,
    msg: ParsedMessage,
    doc: Document | None,
    inbound_id: int,
    sender_addr: str,
    reason: str,
    *,
    answer: bool = True,
) -> Result:
    """Nothing changes: the event says why, a staff sender is told (`answer`), the clerks look."""
    journal.append(
        s,
        head,
        "extension_mail_refused",
        document_id=doc.id if doc else None,
        inbound_id=inbound_id,
        sender=msg.from_addr,
        reason=reason,
    )
    number = doc.number if doc else None
    answered = answer and notices.answer(
        s,
        rules,
        msg,
        sender_addr=sender_addr,
        key=f"extension-refused-reply:{inbound_id}",
        title="Письмо не принято",
        text=f"Ваше письмо{f' по {number}' if number else ''} ничего не изменило: {reason}.",
        number=number,
        document_id=doc.id if doc else None,
        inbound_id=inbound_id,
    )
    notices.tell(
        s,
        rules,
        sender_addr=sender_addr,
        role="clerk",
        key=f"extension-refused:{inbound_id}",
        title="Письмо о продлении срока не принято",
        text=f"Письмо не изменило {'дело ' + number if number else 'журнал'}: {reason}.",
        details=[("От", msg.from_addr or "—"), ("Тема", msg.subject or "—")],
        number=number,
        document_id=doc.id if doc else None,
        inbound_id=inbound_id,
        exclude=(msg.from_addr,) if answered else (),
    )
    return Result("refused", number, reason)


def _lookalike_note(rules: Rules, address: str | None) -> str:
    """ "(похож на адрес сотрудника …)" when only look-alike letters part it from a staff address."""
    folded = (address or "").translate(CYR2LAT).lower()
    person = rules.staff.by_email(folded) if address_key(address) is None else None
    return f" (адрес похож на адрес сотрудника {person.email}, но написан другими буквами)" if person else ""


def _after(text: str, word: str) -> str:
    body = text.strip()
    m = re.search(re.escape(word), body.upper().replace("Ё", "Е"))
    rest = body[m.end() :] if m else body
    return " ".join(re.sub(r"^\s*[:;,.—–-]?\s*", "", rest).split())


def _name(rules: Rules, email: str) -> str:
    p = rules.staff.by_email(email)
    return p.name if p else email


def _consumer(doc: Document) -> str:
    return consumer_name(doc) or "—"


def _date(d: dt.date | None) -> str:
    return f"{d:%d.%m.%Y}" if d else "—"


def untold(s: Session, since: dt.datetime) -> list[tuple[Extension, Document]]:
    """Extensions made since `since` whose applicant is not yet told (the sweep's set)."""
    rows = s.exec(
        select(Extension).where(
            col(Extension.applicant_told_at).is_(None), col(Extension.created_at) >= since
        )
    ).all()
    if not rows:
        return []
    docs = {
        d.id: d for d in s.exec(select(Document).where(col(Document.id).in_([e.document_id for e in rows])))
    }
    return [(e, docs[e.document_id]) for e in rows if e.document_id in docs]
