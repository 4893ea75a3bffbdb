"""After registration (regulation 1.5, 1.7, 2.1–2.4): who gets the appeal at once.

Management gets it "на резолюцию" with a one-time reply token; the PR
specialist gets copies of complaints, claims, Book entries and a service
centre's reviews and suggestions, which get the next number in their
monitoring register (`monitoring`). All of it is written in
the registering transaction, so it happens exactly when the registration does.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from dataclasses import dataclass

from sqlmodel import Session

from . import journal, monitoring, outbox
from .case import transition
from .case.actors import SYSTEM
from .case.queries import consumer_name, management
from .case.states import Act, State
from .models import Answer, ChainHead, Document, Resolution, Token
from .rules import Rules
from .values import KZ_TZ, Attachment, Recognition
from .vocabulary import PR_SPECIALIST, channel_label

TOKEN_ALPHABET = string.ascii_lowercase + string.digits


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(16))


@dataclass(frozen=True)
class Case:
    """What routing needs to know of a registered document."""

    doc: Document
    recognition: Recognition
    files: tuple[Attachment, ...]


def statutory_due(rules: Rules, doc: Document) -> tuple[dt.date, str]:
    registered = doc.registered_at.astimezone(KZ_TZ).date()
    term = rules.deadlines.term(doc.kind, registered)
    return rules.deadlines.due(doc.kind, registered, rules.calendar), term.source


def route(s: Session, head: ChainHead, rules: Rules, case: Case, sender_addr: str) -> None:
    doc, rec = case.doc, case.recognition
    due, due_source = statutory_due(rules, doc)
    context = dict(
        number=doc.number,
        registered_at=doc.registered_at.astimezone(KZ_TZ),
        kind=doc.kind,
        group=doc.grp,
        channel=channel_label(doc.channel),  # as people read it: «Контакт-центр», not contact_center
        origin_unit=doc.origin_unit,
        consumer=rec.consumer,
        consumer_name=consumer_name(doc),
        needs_review=rec.needs_review,
        due_date=due,
        due_source=due_source,
        book_entry_at=doc.book_entry_at.astimezone(KZ_TZ) if doc.book_entry_at else None,
        repeat_of=_repeat_of(s, doc),
    )
    managers = management(rules, doc.journal)
    if managers:
        _to_management(s, rules, case, managers, sender_addr, context)
    entry = monitoring.allocate(s, rules, doc)
    number = entry.number if entry else None
    pr = tuple(p.email for p in rules.staff.with_role(PR_SPECIALIST))
    pr_copy = rules.routing.pr_copied(doc.channel, doc.kind)
    if pr and pr_copy:
        subject, body = rules.render(
            "pr_copy",
            **context,
            monitoring_number=number,
            monitoring_title=entry.register.title if entry else None,
            monitoring_pending=monitoring.pending(rules, doc),
        )
        outbox.queue(
            s,
            outbox.compose(
                sender=sender_addr,
                to=pr,
                subject=subject,
                body=body,
                kind="pr_copy",
                key=f"pr_copy:{doc.id}",
                number=doc.number,
                attachments=case.files,
            ),
            document_id=doc.id,
        )
    doc.due_date = due
    s.add(doc)
    facts = dict(
        management=managers,
        pr_copy=pr if pr_copy else [],
        monitoring_number=number,
        statutory_due=due.isoformat(),
        due_source=due_source,
    )
    if managers:  # with management for a resolution (1.5)
        transition.apply(
            s, head, doc, Act.ROUTE, SYSTEM, rules.workflow, now=dt.datetime.now(dt.UTC), **facts
        )
    else:  # nobody to resolve it: it waits, registered, for a paper resolution
        journal.append(s, head, "routed", document_id=doc.id, **facts)


def pr_followers(rules: Rules, doc: Document) -> tuple[str, ...]:
    """The PR specialists who follow `doc` (1.7, 2.1–2.4): its copies go to them."""
    if not rules.routing.pr_copied(doc.channel, doc.kind):
        return ()
    return tuple(p.email for p in rules.staff.with_role(PR_SPECIALIST))


def copy_resolution(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    res: Resolution,
    executors: tuple[tuple[str, str], ...],
    files: tuple[Attachment, ...],
    sender_addr: str,
) -> tuple[str, ...]:
    """Regulation 2.7: the resolution to the PR specialist who follows the case (not to
    one it names: they have it already). `executors`: (address, name), the responsible first."""
    named = {a for a, _ in executors}
    to = (
        tuple(a for a in pr_followers(rules, doc) if a not in named)
        if rules.routing.pr_copy_resolutions
        else ()
    )
    if not to:
        return ()
    subject, body = rules.render(
        "pr_resolution",
        number=doc.number,
        registered_at=doc.registered_at.astimezone(KZ_TZ),
        kind=doc.kind,
        consumer_name=consumer_name(doc),
        author_name=res.author_name or res.author,
        resolved_at=res.created_at.astimezone(KZ_TZ),
        text=res.text,
        executors=[n for _, n in executors],
        due_date=res.due_date,
    )
    out = outbox.compose(
        sender=sender_addr,
        to=to,
        subject=subject,
        body=body,
        kind="pr_resolution",
        key=f"pr_resolution:{res.id}",
        number=doc.number,
        attachments=files,
    )
    outbox.queue(s, out, document_id=doc.id)
    journal.append(
        s, head, "pr_copy_sent", document_id=doc.id, what="resolution", resolution_id=res.id, to=list(to)
    )
    return to


def copy_answer(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    answer: Answer,
    copy: Attachment,
    executor: str | None,
    sender_addr: str,
) -> tuple[str, ...]:
    """Regulation 2.9: the copy of the sent answer (the signed scan) to the PR specialist
    who follows the case, once, when it is filed (3.8)."""
    to = pr_followers(rules, doc) if rules.routing.pr_copy_answers else ()
    if not to:
        return ()
    how = {"kazpost": "Казпочта", "courier": "нарочным"}.get(answer.dispatch_channel or "", "не указано")
    if answer.tracking:
        how += f", РПО № {answer.tracking}"
    outgoing = " ".join(
        x
        for x in (
            f"№ {answer.outgoing_number}" if answer.outgoing_number else "",
            f"от {answer.outgoing_date:%d.%m.%Y}" if answer.outgoing_date else "",
        )
        if x
    )
    person = rules.staff.by_email(executor) if executor else None
    subject, body = rules.render(
        "pr_answer",
        number=doc.number,
        registered_at=doc.registered_at.astimezone(KZ_TZ),
        kind=doc.kind,
        consumer_name=consumer_name(doc),
        executor=person.name if person else executor,
        how=how,
        outgoing=outgoing,
    )
    out = outbox.compose(
        sender=sender_addr,
        to=to,
        subject=subject,
        body=body,
        kind="pr_answer",
        key=f"pr_answer:{doc.id}",
        number=doc.number,
        attachments=(copy,),
    )
    outbox.queue(s, out, document_id=doc.id)
    journal.append(
        s, head, "pr_copy_sent", document_id=doc.id, what="answer", sha256=copy.sha256, to=list(to)
    )
    return to


def _repeat_of(s: Session, doc: Document) -> dict[str, str] | None:
    """The earlier case this appeal repeats, as management's mail names it."""
    first = s.get(Document, doc.repeat_of) if doc.repeat_of else None
    if first is None:
        return None
    return dict(
        number=first.number,
        date=first.registered_at.astimezone(KZ_TZ).strftime("%d.%m.%Y"),
        state=State(first.status).label,
    )


def _to_management(
    s: Session, rules: Rules, case: Case, managers: tuple[str, ...], sender_addr: str, context: dict
) -> None:
    """«На резолюцию» to each manager, with a one-time token of their own: a reply counts
    only from the person the token was sent to."""
    doc, now = case.doc, dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(days=rules.routing.token_valid_days)
    for manager in managers:
        token = new_token()
        subject, body = rules.render(
            "management", **context, token=token, expires_at=expires.astimezone(KZ_TZ)
        )
        reply_to = None
        if rules.routing.reply_to_plus_token and "@" in sender_addr:
            local, domain = sender_addr.split("@", 1)
            reply_to = f"{local}+{token}@{domain}"
        out = outbox.compose(
            sender=sender_addr,
            to=(manager,),
            subject=subject,
            body=body,
            kind="management",
            key=f"management:{doc.id}:{manager}",
            number=doc.number,
            reply_to=reply_to,
            attachments=case.files,
        )
        outbox.queue(s, out, document_id=doc.id)
        s.add(
            Token(
                token=token,
                purpose="resolution",
                holder=manager,
                document_id=doc.id,
                message_id=out.message_id,
                created_at=now,
                expires_at=expires,
            )
        )
