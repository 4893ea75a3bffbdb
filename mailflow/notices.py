"""Notices to the clerk (and others): one place that writes them to the outbox."""

from __future__ import annotations

from sqlmodel import Session

from . import outbox
from .models import Document
from .rules import Rules


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
) -> bool:
    """Queue a notice to everyone with `role` (never to ourselves); False if no one has it."""
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
    **context,
) -> bool:
    """Queue the message `template` to everyone with `role`; False if no one has it."""
    own = rules.own_addresses | {sender_addr.lower()}
    to = tuple(p.email for p in rules.staff.with_role(role) if p.email not in own)
    if not to:
        return False
    subject, body = rules.render(template, number=number, **context)
    out = outbox.compose(
        sender=sender_addr, to=to, subject=subject, body=body, kind=template, key=key, number=number
    )
    outbox.queue(s, out, document_id=document_id, inbound_id=inbound_id)
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
