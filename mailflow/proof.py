"""Proof of receipt (regulation 1.12, 2.11): delivery reports and read receipts.

Each report is matched to the forwarded message it is about, by the envelope
id we sent (ENVID), the original Message-ID it returns or names, its own
In-Reply-To/References, and, for Exchange read receipts that name nothing,
by who sent the receipt and the subject it repeats. The delivery's proof
ladder then climbs: accepted → relayed/delivered → displayed → replied, each
step with its time, in the hash-chained journal. `relayed` is not delivery.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from . import journal, notices
from .case import ladder
from .models import ChainHead, Delivery, Document
from .models import Receipt as ReceiptRow
from .receipts import DeliveryReport, ReadReceipt, Receipt
from .rules import Rules
from .values import ParsedMessage

_READ_PREFIX = re.compile(r"^\s*(прочитано|прочитан[оа]?|read|lu|gelesen|просмотрено)\s*:\s*", re.I)


@dataclass(frozen=True)
class Found:
    delivery: Delivery | None
    how: str | None


def match(s: Session, receipt: Receipt) -> Found:
    ev = receipt.evidence
    if ev.envelope_id:
        d = s.exec(select(Delivery).where(Delivery.envelope_id == ev.envelope_id)).first()
        if d:
            return Found(d, "envelope-id")
    for how, ids in (
        ("original-message-id", ev.original_message_ids),
        ("in-reply-to", (ev.in_reply_to,) if ev.in_reply_to else ()),
        ("references", ev.references),
    ):
        if ids:
            d = s.exec(
                select(Delivery).where(Delivery.message_id.in_(list(ids))).order_by(Delivery.id.desc())
            ).first()
            if d:
                return Found(d, how)
    return Found(_by_subject(s, receipt), "sender-and-subject")


def _by_subject(s: Session, receipt: Receipt) -> Delivery | None:
    """Exchange read receipts without ids: the addressee sends it, repeating our subject."""
    ev = receipt.evidence
    who = (ev.report_from or "").lower()
    if isinstance(receipt.report, ReadReceipt) and receipt.report.final_recipient:
        who = receipt.report.final_recipient.lower()
    subject = _READ_PREFIX.sub("", ev.original_subject or "").strip()
    if not who or not subject:
        return None
    candidates = s.exec(
        select(Delivery).where(Delivery.to_addr == who).order_by(Delivery.id.desc()).limit(50)
    ).all()
    same = [d for d in candidates if _norm(d.subject) == _norm(subject)]
    return same[0] if len(same) == 1 else None  # two alike: not proof of either


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def record(
    s: Session,
    head: ChainHead,
    rules: Rules,
    receipt: Receipt,
    found: Found,
    *,
    inbound_id: int,
    sha256: str,
    sender_addr: str,
    own: frozenset[str] = frozenset(),
    journal_key: str | None = None,
) -> str:
    """Write the receipt and climb the ladder; returns a short description.

    `own`: mailflow's own addresses. A report about mail to one of them (a notice
    to the clerk who reads our mailbox, bounced) is never announced there: the
    announcement could bounce the same way, and be announced again."""
    now = dt.datetime.now(dt.UTC)
    d = found.delivery
    steps = _steps(receipt)
    to_us = bool(steps) and all(r and r.lower() in own for _, _, r in steps)
    for action, status, recipient in steps:
        s.add(
            ReceiptRow(
                inbound_id=inbound_id,
                delivery_id=d.id if d else None,
                kind=receipt.kind,
                action=action,
                status=status,
                recipient=recipient,
                matched_by=found.how if d else None,
                sha256=sha256,
                at=now,
            )
        )
    if d is None:
        journal.append(
            s,
            head,
            "receipt_unmatched",
            inbound_id=inbound_id,
            kind=receipt.kind,
            actions=[a for a, _, _ in steps],
            sha256=sha256,
        )
        notices.tell(
            s,
            rules,
            sender_addr=sender_addr,
            role="clerk",
            key=f"unmatched:{inbound_id}",
            title="Отчёт о доставке/прочтении не сопоставлен",
            text="Пришёл отчёт, который не удалось связать ни с одним отправленным письмом. "
            "Он сохранён в архиве; проверьте его.",
            details=[
                ("Вид", receipt.kind),
                ("Действия", ", ".join(a or "?" for a, _, _ in steps)),
                ("sha256", sha256),
            ],
            inbound_id=inbound_id,
            journal=journal_key,
            exclude=own if to_us else (),
        )
        return "unmatched"
    for action, status, _ in steps:
        ladder.climb(d, action, status, now)
    s.add(d)
    doc = s.get(Document, d.document_id)
    journal.append(
        s,
        head,
        "receipt",
        document_id=d.document_id,
        inbound_id=inbound_id,
        delivery_id=d.id,
        to=d.to_addr,
        kind=receipt.kind,
        matched_by=found.how,
        actions=[a for a, _, _ in steps],
        status=[st for _, st, _ in steps],
        sha256=sha256,
    )
    if any(a == "failed" for a, _, _ in steps):
        notices.tell(
            s,
            rules,
            sender_addr=sender_addr,
            role="clerk",
            key=f"undelivered:{inbound_id}",
            title="Письмо с резолюцией не доставлено",
            text=f"Письмо по {doc.number} адресату {d.to_addr} не доставлено. "
            "Передайте документ иначе или исправьте адрес в справочнике.",
            details=[("Статус", ", ".join(st or "?" for _, st, _ in steps))],
            number=doc.number,
            document_id=doc.id,
            inbound_id=inbound_id,
            exclude=own if d.to_addr in own else (),
        )
    return ", ".join(a or "?" for a, _, _ in steps)


def attach(
    s: Session, head: ChainHead, rows: Sequence[ReceiptRow], d: Delivery, *, by: str, now: dt.datetime
) -> str:
    """Receipts that matched nothing, attached by a person to the delivery they are about:
    the ladder climbs as if they had matched; returns the actions."""
    for r in rows:
        r.delivery_id, r.matched_by = d.id, "clerk"
        s.add(r)
        ladder.climb(d, r.action, r.status, now)
    s.add(d)
    actions = [r.action for r in rows]
    journal.append(
        s,
        head,
        "receipt",
        document_id=d.document_id,
        inbound_id=rows[0].inbound_id,
        delivery_id=d.id,
        to=d.to_addr,
        kind=rows[0].kind,
        matched_by="clerk",
        by=by,
        actions=actions,
        status=[r.status for r in rows],
        sha256=rows[0].sha256,
    )
    return ", ".join(a or "?" for a in actions)


def _steps(receipt: Receipt) -> list[tuple[str | None, str | None, str | None]]:
    rep = receipt.report
    if isinstance(rep, DeliveryReport):
        return [
            (
                r.action or ("failed" if r.failed else None),
                r.status,
                r.final_recipient or r.original_recipient,
            )
            for r in rep.recipients
        ] or [(None, None, None)]
    return [(rep.disposition, rep.mode, rep.final_recipient)]


def replied_delivery(s: Session, msg: ParsedMessage) -> Delivery | None:
    """The forwarded message this mail answers (the ladder's last rung), if any."""
    ids = [i for i in (msg.in_reply_to, *msg.references) if i]
    if not ids:
        return None
    return s.exec(select(Delivery).where(Delivery.message_id.in_(ids)).order_by(Delivery.id.desc())).first()


def mark_replied(s: Session, head: ChainHead, d: Delivery, *, inbound_id: int, sender: str) -> None:
    if d.replied_at is None and sender.lower() == d.to_addr:  # the addressee's own answer
        d.replied_at = dt.datetime.now(dt.UTC)
        s.add(d)
    journal.append(
        s,
        head,
        "delivery_replied",
        document_id=d.document_id,
        inbound_id=inbound_id,
        delivery_id=d.id,
        to=d.to_addr,
        sender=sender,
    )
