"""Notices to the clerk (and others): one place that writes them to the outbox."""
from __future__ import annotations

from sqlmodel import Session

from . import outbox
from .rules import Rules


def tell(s: Session, rules: Rules, *, sender_addr: str, role: str, key: str, title: str,
         text: str, details: list[tuple[str, str]] = (), number: str | None = None,
         document_id: int | None = None, inbound_id: int | None = None) -> bool:
    """Queue a notice to everyone with `role` (never to ourselves); False if no one has it."""
    to = tuple(p.email for p in rules.staff.with_role(role)
               if p.email != sender_addr.lower() and p.email not in rules.own_addresses)
    if not to:
        return False
    subject, body = rules.render("notice", title=title, text=text, details=list(details),
                                 number=number)
    out = outbox.compose(sender=sender_addr, to=to, subject=subject, body=body, kind="notice",
                         key=key, number=number)
    outbox.queue(s, out, document_id=document_id, inbound_id=inbound_id)
    return True
