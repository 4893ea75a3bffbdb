"""Resolutions (regulation 1.5–1.8, 1.11, 2.6–2.8, 3.3): recorded, confirmed, forwarded.

`decide` turns what the parser understood into a resolution with a due date
(pure). `record` writes it in the caller's transaction: the resolution and
its addressees (the first is responsible), the hash-chained event, and one
forwarded message per addressee that asks for a delivery report (DSN) and a
read receipt (MDN), with a Delivery row that will collect the proof.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from . import (
    answering,
    journal,
    notices,
    outbox,
    redirect,
    replies,
    resolution_text,
    routing,
    scans,
    substitutes,
)
from .archive import Archive
from .case import transition
from .case.actors import Actor, actor
from .case.queries import IS_CURRENT, consumer_name
from .case.states import Act, IllegalTransition
from .models import Assignment, ChainHead, Delivery, Document, Resolution
from .resolution_text import Understood
from .rules import Person, Rules
from .values import KZ_TZ, Attachment, ParsedMessage


@dataclass(frozen=True)
class Decided:
    addressees: tuple[Person, ...]
    due: dt.date
    due_source: str  # "resolution" when written in it; else the statutory rule cited
    instruction: str
    text: str
    capped: bool = False  # the written date was later than the law allows


def decide(understood: Understood, text: str, rules: Rules, doc: Document, today: dt.date) -> Decided:
    statutory, source = routing.statutory_due(rules, doc)
    due, due_source = statutory, source
    if understood.due is not None:
        due, due_source = understood.due, "resolution"
    elif understood.days:
        due = (
            rules.calendar.add_working_days(today, understood.days)
            if understood.working_days
            else rules.calendar.next_working_day(today + dt.timedelta(days=understood.days))
        )
        due_source = "resolution"
    capped = due > statutory  # a later date needs a recorded extension (regulation 3.2)
    if capped:
        due, due_source = statutory, source
    return Decided(
        tuple(a.person for a in understood.addressees),
        due,
        due_source,
        understood.instruction,
        text.strip(),
        capped,
    )


def record(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    d: Decided,
    *,
    by: Actor,
    author_name: str | None,
    source: str,
    inbound_id: int | None,
    sender_addr: str,
    archive: Archive,
    entered_by: str | None = None,
) -> Resolution:
    """Raises IllegalTransition (nothing written) when the case cannot take a resolution.
    `entered_by`: the clerk who entered a signed paper resolution, named in the event."""
    now = dt.datetime.now(dt.UTC)
    step = transition.apply(
        s,
        head,
        doc,
        Act.RESOLVE,
        by,
        rules.workflow,
        now=now,
        inbound_id=inbound_id,
        text=d.text[:5000],
        executors=[p.email for p in d.addressees],
        due_date=d.due.isoformat(),
        due_source=d.due_source,
        source=source,
        capped=d.capped,
        **({"entered_by": entered_by} if entered_by else {}),
    )
    doc.due_date = d.due  # reminders are planned again for the new date (chasing: the mark's date differs)
    for earlier in s.exec(select(Resolution).where(Resolution.document_id == doc.id, IS_CURRENT)):
        earlier.current = False  # through the ORM: the events cover the row (journal._seal)
        s.add(earlier)
    res = Resolution(
        document_id=doc.id,
        text=d.text[:5000],
        instruction=d.instruction[:2000],
        due_date=d.due,
        due_source=d.due_source,
        author=by.address,
        author_name=author_name,
        source=source,
        inbound_id=inbound_id,
        created_at=now,
    )
    s.add(res)
    s.flush()
    for i, p in enumerate(d.addressees, 1):
        s.add(Assignment(resolution_id=res.id, document_id=doc.id, position=i, email=p.email, name=p.name))
    files = scans.of_document(s, archive, doc)
    _forward(s, head, rules, doc, res, d, sender_addr, files, stage=step.to_stage)
    executors = tuple((p.email, p.name) for p in d.addressees)
    routing.copy_resolution(s, head, rules, doc, res, executors, files, sender_addr)  # 2.7
    return res


def _forward(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    res: Resolution,
    d: Decided,
    sender_addr: str,
    files: tuple[Attachment, ...],
    *,
    stage: str | None,
) -> None:
    """Regulation 1.8, 1.11: the appeal and resolution to each addressee, with receipts
    asked; to whoever stands in for an addressee away today (1.6)."""
    away = substitutes.in_force(s, rules, res.created_at.astimezone(KZ_TZ).date())
    instead: dict[str, str] = {}
    at = res.created_at
    for i, p in enumerate(d.addressees):
        to = substitutes.stand_in(away, p.email)
        if to != p.email:
            instead[p.email] = to
        at = _send_forward(s, rules, doc, res, d.addressees, i, to, d.due, sender_addr, files, stage=stage)
    answering.hand_to(s, doc, d.addressees[0].email, at)
    journal.append(
        s,
        head,
        "forwarded",
        document_id=doc.id,
        resolution_id=res.id,
        to=[p.email for p in d.addressees],
        **({"substitutes": instead} if instead else {}),
    )


def _send_forward(
    s: Session,
    rules: Rules,
    doc: Document,
    res: Resolution,
    addressees: Sequence[Person],
    i: int,
    to: str,
    due: dt.date,
    sender_addr: str,
    files: tuple[Attachment, ...],
    *,
    stage: str | None,
) -> dt.datetime:
    """The forward of the `i`-th addressee to `to` (them, or who stands in for them), its
    delivery to prove and its reply token; when it was queued."""
    p = addressees[i]
    names = [a.name for a in addressees]
    words = [m.words[0] for m in rules.workflow.moves_from(stage or rules.workflow.start)]
    token = routing.new_token()  # the addressee's reply carries the answer (section 3)
    subject, body = rules.render(
        "forward",
        number=doc.number,
        registered_at=doc.registered_at.astimezone(KZ_TZ),
        kind=doc.kind,
        author_name=res.author_name or res.author,
        resolved_at=res.created_at.astimezone(KZ_TZ),
        text=res.text,
        due_date=due,
        executors=names,
        responsible=i == 0,
        responsible_name=names[0],
        consumer_name=consumer_name(doc),
        token=token,
        words=words,
        standing_in_for=p.name if to != p.email else None,
    )
    out = outbox.compose(
        sender=sender_addr,
        to=(to,),
        subject=subject,
        body=body,
        kind="forward",
        key=f"forward:{res.id}:{p.email}" + (f":{to}" if to != p.email else ""),
        number=doc.number,
        attachments=files,
        receipts=True,
    )
    row = outbox.queue(s, out, document_id=doc.id)
    s.add(
        Delivery(
            document_id=doc.id,
            resolution_id=res.id,
            outbox_id=row.id,
            to_addr=to,
            envelope_id=out.envelope_id,
            message_id=out.message_id,
            subject=subject[:2000],
            created_at=row.created_at,
        )
    )
    answering.issue_token(s, rules, doc, to, out.message_id, row.created_at, token)
    return row.created_at


def away_answered(
    s: Session,
    head: ChainHead,
    rules: Rules,
    delivery: Delivery,
    *,
    inbound_id: int,
    reason: str,
    sender_addr: str,
    archive: Archive,
    now: dt.datetime,
) -> str | None:
    """An automatic answer (out of office) to a forwarded resolution: not proof that the
    person has it. The clerk is told; where someone stands in for them today (1.6), the
    case goes to them too, with receipts asked. Returns to whom it went, if anyone."""
    doc = s.get(Document, delivery.document_id)
    res = s.get(Resolution, delivery.resolution_id) if delivery.resolution_id else None
    if doc is None or res is None or not res.current:
        return None
    rows = s.exec(
        select(Assignment).where(Assignment.resolution_id == res.id).order_by(Assignment.position)
    ).all()
    people = [rules.staff.by_email(a.email) or Person(a.name, a.email, frozenset(), None) for a in rows]
    i = next((k for k, a in enumerate(rows) if a.email == delivery.to_addr), None)
    away = substitutes.in_force(s, rules, now.astimezone(KZ_TZ).date())
    to = substitutes.stand_in(away, delivery.to_addr)
    sent_on = None
    if i is not None and to != delivery.to_addr:
        done = s.exec(
            select(Delivery).where(Delivery.resolution_id == res.id, Delivery.to_addr == to)
        ).first()
        if done is None:  # one forward to the stand-in, however many auto-answers come
            files = scans.of_document(s, archive, doc)
            _send_forward(
                s, rules, doc, res, people, i, to, res.due_date, sender_addr, files, stage=doc.stage
            )
            sent_on = to
    journal.append(
        s,
        head,
        "away_answered",
        document_id=doc.id,
        inbound_id=inbound_id,
        delivery_id=delivery.id,
        to=delivery.to_addr,
        reason=reason[:500],
        forwarded_to=sent_on,
    )
    notices.tell(
        s,
        rules,
        sender_addr=sender_addr,
        role="clerk",
        key=f"away:{delivery.id}:{inbound_id}",
        title="Автоответ на письмо с резолюцией",
        text=f"На письмо по {doc.number} адресату {delivery.to_addr} пришёл автоответ ({reason}). "
        + (
            f"Дело направлено замещающему: {to}."
            if sent_on
            else "Замещающий на сегодня не указан: передайте документ иначе или укажите замещение "
            "(«ЗАМЕЩАЕТ … ДО …» или [[absence]] в staff.toml)."
            if to == delivery.to_addr
            else f"Замещающему ({to}) оно уже направлено."
        ),
        number=doc.number,
        document_id=doc.id,
        inbound_id=inbound_id,
        journal=doc.journal,
    )
    return sent_on


@dataclass(frozen=True)
class ReplyResult:
    status: str  # resolution | unclear | refused
    number: str
    reason: str


def handle_reply(
    s: Session,
    head: ChainHead,
    rules: Rules,
    *,
    msg: ParsedMessage,
    ctx: replies.ReplyContext,
    inbound_id: int,
    sender_addr: str,
    archive: Archive,
    now: dt.datetime,
) -> ReplyResult:
    """A manager's reply to "на резолюцию": trusted and understood, or nothing changes."""
    doc = s.get(Document, ctx.token.document_id)
    routing_rules = rules.routing
    trust = replies.authorize(
        msg,
        ctx.token,
        rules.staff,
        routing_rules.may_resolve,
        routing_rules.trusted_authserv_ids,
        now,
        stands_for=substitutes.standing_for(s, rules, now.astimezone(KZ_TZ).date()),
    )
    if not trust.ok:
        return _refused(s, head, rules, msg, doc, inbound_id, sender_addr, ctx, trust.reason)
    text = resolution_text.strip_quoted(msg.body_text)
    asked = redirect.parse_reply(text)
    if asked is not None:  # «ПЕРЕНАПРАВИТЬ: …»: outside competence (АППК art. 76 p. 3)
        try:
            done = redirect.redirect(
                s,
                head,
                rules,
                doc,
                to=asked[0],
                reason=asked[1],
                by=actor(rules, trust.person.email),
                sender_addr=sender_addr,
                archive=archive,
                now=now,
                inbound_id=inbound_id,
            )
        except (redirect.Refused, IllegalTransition) as exc:
            return _refused(s, head, rules, msg, doc, inbound_id, sender_addr, ctx, str(exc))
        ctx.token.used_at, ctx.token.used_by = now, msg.from_addr
        s.add(ctx.token)
        _answer(
            s,
            rules,
            "notice",
            msg,
            doc,
            sender_addr,
            inbound_id,
            title="Обращение перенаправлено",
            text=f"{doc.number} перенаправлено по компетенции: {asked[0].text}.",
            details=[("Причина", asked[1])]
            + ([("Отправлено по e-mail", ", ".join(done.mailed))] if done.mailed else [])
            + ([("Канцелярия отправит почтой", "; ".join(done.to_post))] if done.to_post else []),
        )
        return ReplyResult("redirected", doc.number, asked[0].text)
    understood = resolution_text.parse_resolution(text, rules.staff, today=now.astimezone(KZ_TZ).date())
    if isinstance(understood, resolution_text.Unclear):
        journal.append(
            s,
            head,
            "resolution_unclear",
            document_id=doc.id,
            inbound_id=inbound_id,
            problems=list(understood.problems),
            text=text[:2000],
        )
        _answer(
            s,
            rules,
            "resolution_unclear",
            msg,
            doc,
            sender_addr,
            inbound_id,
            problems=list(understood.problems),
        )
        return ReplyResult("unclear", doc.number, "; ".join(understood.problems))
    d = decide(understood, text, rules, doc, now.astimezone(KZ_TZ).date())
    try:
        record(
            s,
            head,
            rules,
            doc,
            d,
            by=actor(rules, trust.person.email),
            author_name=trust.person.name,
            source="email",
            inbound_id=inbound_id,
            sender_addr=sender_addr,
            archive=archive,
        )
    except IllegalTransition as exc:
        return _refused(s, head, rules, msg, doc, inbound_id, sender_addr, ctx, str(exc))
    ctx.token.used_at, ctx.token.used_by = now, msg.from_addr
    s.add(ctx.token)
    _answer(
        s,
        rules,
        "resolution_ok",
        msg,
        doc,
        sender_addr,
        inbound_id,
        executors=[p.name for p in d.addressees],
        due_date=d.due,
        due_source=d.due_source,
        instruction=d.instruction,
    )
    return ReplyResult("resolution", doc.number, f"{len(d.addressees)} addressee(s), due {d.due}")


def _refused(
    s: Session,
    head: ChainHead,
    rules: Rules,
    msg: ParsedMessage,
    doc: Document,
    inbound_id: int,
    sender_addr: str,
    ctx: replies.ReplyContext,
    reason: str,
) -> ReplyResult:
    journal.append(
        s,
        head,
        "reply_refused",
        document_id=doc.id,
        inbound_id=inbound_id,
        sender=msg.from_addr,
        reason=reason,
        matched_by=ctx.matched_by,
    )
    notices.tell(
        s,
        rules,
        sender_addr=sender_addr,
        role="clerk",
        key=f"refused:{inbound_id}",
        title="Ответ на «На резолюцию» не принят",
        text=f"Письмо не изменило обращение {doc.number}: {reason}.",
        details=[("От", msg.from_addr or "—"), ("Тема", msg.subject or "—")],
        number=doc.number,
        document_id=doc.id,
        inbound_id=inbound_id,
    )
    return ReplyResult("refused", doc.number, reason)


def _answer(
    s: Session,
    rules: Rules,
    template: str,
    msg: ParsedMessage,
    doc: Document,
    sender_addr: str,
    inbound_id: int,
    **context,
) -> None:
    """One short reply to the manager, in the same thread."""
    subject, body = rules.render(template, number=doc.number, **context)
    out = outbox.compose(
        sender=sender_addr,
        to=(msg.from_addr,),
        subject=subject,
        body=body,
        kind=template,
        key=f"{template}:{inbound_id}",
        number=doc.number,
        in_reply_to=msg.message_id,
        references=msg.references,
    )
    outbox.queue(s, out, document_id=doc.id, inbound_id=inbound_id)
