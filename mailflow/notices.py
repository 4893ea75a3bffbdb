"""Notices to the clerk (and others): one place that writes them to the outbox.

A notice about a case goes to the clerks of the case's own journal
(`Rules.clerks`); one about a message, to the clerks of the mailbox's journal.
Staff are never dropped for sharing an address with mailflow's own mailbox
(the chancellery's clerk reads it): that mail comes back marked as ours and
triage leaves it for them, never acting on it (triage.rules.own_mail). Where
a notice would feed a loop, the caller names the addresses to leave out
(`exclude`): mailflow's own, when the message that caused it was its own mail.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session

from . import automatic, outbox
from .models import Document
from .rules import Rules
from .values import ParsedMessage
from .vocabulary import CLERK


def tell(
    s: Session,
    rules: Rules,
    *,
    sender_addr: str,
    role: str,
    key: str,
    title: str,
    text: str,
    details: list[tuple[str, str]] = (),
    number: str | None = None,
    document_id: int | None = None,
    inbound_id: int | None = None,
    journal: str | None = None,
    exclude: Collection[str] = (),
) -> bool:
    """Queue a notice to everyone with `role` (the clerks: of the case's journal); False if no one has it."""
    return send(
        s,
        rules,
        "notice",
        sender_addr=sender_addr,
        role=role,
        key=key,
        number=number,
        document_id=document_id,
        inbound_id=inbound_id,
        journal=journal,
        exclude=exclude,
        title=title,
        text=text,
        details=list(details),
    )


def send(
    s: Session,
    rules: Rules,
    template: str,
    *,
    sender_addr: str,
    role: str,
    key: str,
    number: str | None = None,
    document_id: int | None = None,
    inbound_id: int | None = None,
    journal: str | None = None,
    exclude: Collection[str] = (),
    **context,
) -> bool:
    """Queue the message `template` to everyone with `role`; False if no one has it.

    The clerks are those of `journal`, else of the case's journal (`document_id`),
    else of the default journal."""
    to = tuple(a for a in recipients(s, rules, role, journal, document_id) if a not in exclude)
    if not to:
        return False
    subject, body = rules.render(template, number=number, **context)
    out = outbox.compose(
        sender=sender_addr, to=to, subject=subject, body=body, kind=template, key=key, number=number
    )
    outbox.queue(s, out, document_id=document_id, inbound_id=inbound_id)
    return True


def recipients(
    s: Session, rules: Rules, role: str, journal: str | None = None, document_id: int | None = None
) -> tuple[str, ...]:
    """Who a notice to `role` goes to: for the clerks, those of the journal concerned."""
    if role != CLERK:
        return tuple(p.email for p in rules.staff.with_role(role))
    if journal is None and document_id is not None:
        doc = s.get(Document, document_id)
        journal = doc.journal if doc else None
    return rules.clerks(journal)


def to_person(
    s: Session,
    rules: Rules,
    to: str,
    *,
    sender_addr: str,
    key: str,
    title: str,
    text: str,
    details: list[tuple[str, str]] = (),
    number: str | None = None,
    document_id: int | None = None,
    inbound_id: int | None = None,
    reply_to: ParsedMessage | None = None,
) -> outbox.Outgoing:
    """A notice to one staff member (the one who asked, the executor); in the
    thread of `reply_to` when it answers their message. Returns the message (its
    Message-ID carries a reply token the caller issues for it)."""
    subject, body = rules.render("notice", number=number, title=title, text=text, details=list(details))
    out = outbox.compose(
        sender=sender_addr,
        to=(to,),
        subject=subject,
        body=body,
        kind="notice",
        key=key,
        number=number,
        in_reply_to=reply_to.message_id if reply_to else None,
        references=reply_to.references if reply_to else (),
    )
    outbox.queue(s, out, document_id=document_id, inbound_id=inbound_id)
    return out


def answer(
    s: Session,
    rules: Rules,
    msg: ParsedMessage,
    *,
    sender_addr: str,
    key: str,
    title: str,
    text: str,
    details: list[tuple[str, str]] = (),
    number: str | None = None,
    document_id: int | None = None,
    inbound_id: int | None = None,
) -> bool:
    """A notice to the staff member who wrote `msg`, in its thread (why it changed
    nothing, say); False, and nothing sent, when the sender is not staff or the
    message was written by a machine (an auto-responder is never answered)."""
    person = rules.staff.by_email(msg.from_addr)
    if person is None or automatic.why(msg):
        return False  # a stranger (or a look-alike of a staff address) is never written to
    to_person(
        s,
        rules,
        person.email,
        sender_addr=sender_addr,
        key=key,
        title=title,
        text=text,
        details=details,
        number=number,
        document_id=document_id,
        inbound_id=inbound_id,
        reply_to=msg,
    )
    return True


def to_applicant(
    s: Session, rules: Rules, template: str, *, doc: Document, key: str, sender_addr: str, **context
) -> bool:
    """Queue the message `template` to the applicant's e-mail; False when it is not known."""
    if not doc.email:
        return False
    subject, body = rules.render(template, number=doc.number, **context)
    out = outbox.compose(
        sender=sender_addr,
        to=(doc.email,),
        subject=subject,
        body=body,
        kind=template,
        key=key,
        number=doc.number,
    )
    outbox.queue(s, out, document_id=doc.id)
    return True
