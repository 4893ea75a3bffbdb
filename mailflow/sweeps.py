"""Periodic checks. Stateless: the database says what is due, and each notice is
queued under a unique key in the transaction that marks it done, so a restart
or a second daemon never sends it twice."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlmodel import Session, col, select

from . import journal, notices
from .models import Delivery, Document
from .rules import Rules
from .values import KZ_TZ

log = logging.getLogger("mailflow.sweeps")


def unproven_deliveries(
    engine: sa.Engine, rules: Rules, sender_addr: str, now: dt.datetime | None = None
) -> int:
    """Regulation 1.12: forwarded resolutions with no delivery or read report in time."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(hours=rules.routing.unproven_after_hours)
    with Session(engine) as s, s.begin():
        head = journal.lock(s)
        late = s.exec(
            select(Delivery).where(
                col(Delivery.accepted_at).is_not(None),
                Delivery.accepted_at < cutoff,
                col(Delivery.delivered_at).is_(None),
                col(Delivery.displayed_at).is_(None),
                col(Delivery.failed_at).is_(None),
                col(Delivery.replied_at).is_(None),
                col(Delivery.unproven_reported_at).is_(None),
            )
        ).all()
        for d in late:
            doc = s.get(Document, d.document_id)
            d.unproven_reported_at = now
            s.add(d)
            journal.append(
                s, head, "delivery_unproven", document_id=d.document_id, delivery_id=d.id, to=d.to_addr
            )
            notices.tell(
                s,
                rules,
                sender_addr=sender_addr,
                role="clerk",
                key=f"unproven:{d.id}",
                title="Нет подтверждения получения резолюции",
                text=f"Письмо по {doc.number} для {d.to_addr} принято сервером "
                f"{d.accepted_at.astimezone(KZ_TZ):%d.%m.%Y %H:%M}, но ни отчёта о "
                "доставке, ни отчёта о прочтении нет. Убедитесь, что адресат получил "
                "документ (п. 1.12 Регламента).",
                details=[
                    ("Последний статус", "передано дальше (relayed)" if d.relayed_at else "принято сервером")
                ],
                number=doc.number,
                document_id=doc.id,
            )
    if late:
        log.info("%d delivery(ies) without proof reported to the clerk", len(late))
    return len(late)
