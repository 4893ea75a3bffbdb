"""Periodic checks. Stateless: the database says what is due, and each notice is
queued under a unique key in the transaction that marks it done, so a restart
or a second daemon never sends it twice."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlmodel import Session, col, select

from . import checkpoint as checkpoints
from . import db, journal, notices
from .chasing import BATCH_ROWS  # rows per writing transaction, one figure for every sweep
from .config import CheckpointConfig
from .models import ChainHead, Delivery, Document
from .rules import Rules
from .values import KZ_TZ

log = logging.getLogger("mailflow.sweeps")


def unproven_deliveries(
    engine: sa.Engine, rules: Rules, sender_addr: str, now: dt.datetime | None = None
) -> int:
    """Regulation 1.12: forwarded resolutions with no delivery or read report in time.

    Found by a plain read over the deliveries still awaiting proof (a partial
    index: history with its proof is never read); each batch is then written
    under the writer lock, re-checked there, so a report that arrived meanwhile
    or another daemon's sweep is never told twice."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(hours=rules.routing.unproven_after_hours)
    with Session(db.reader(engine)) as s:
        ids = list(
            s.exec(
                select(Delivery.id)
                .where(
                    *_awaiting_proof(),
                    col(Delivery.accepted_at).is_not(None),
                    col(Delivery.accepted_at) < cutoff,
                )
                .order_by(col(Delivery.id))
            ).all()
        )
    told = 0
    for i in range(0, len(ids), BATCH_ROWS):
        with Session(engine) as s, s.begin():
            head = journal.lock(s)
            late = s.exec(
                select(Delivery).where(col(Delivery.id).in_(ids[i : i + BATCH_ROWS]), *_awaiting_proof())
            ).all()
            for d in late:
                _tell(s, head, rules, sender_addr, d, now)
            told += len(late)
    if told:
        log.info("%d delivery(ies) without proof reported to the clerk", told)
    return told


def _awaiting_proof() -> tuple[sa.ColumnElement[bool], ...]:
    """models.AWAITING_PROOF_SQL as a query says it (so the partial index applies)."""
    return tuple(
        col(c).is_(None)
        for c in (
            Delivery.delivered_at,
            Delivery.displayed_at,
            Delivery.replied_at,
            Delivery.failed_at,
            Delivery.unproven_reported_at,
        )
    )


def _tell(s: Session, head: ChainHead, rules: Rules, sender_addr: str, d: Delivery, now: dt.datetime) -> None:
    doc = s.get(Document, d.document_id)
    assert doc is not None and d.accepted_at is not None
    d.unproven_reported_at = now
    s.add(d)
    journal.append(s, head, "delivery_unproven", document_id=d.document_id, delivery_id=d.id, to=d.to_addr)
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
        details=[("Последний статус", "передано дальше (relayed)" if d.relayed_at else "принято сервером")],
        number=doc.number,
        document_id=doc.id,
    )


def checkpoint(
    engine: sa.Engine, cfg: CheckpointConfig, sender_addr: str, now: dt.datetime | None = None
) -> int:
    """Once a day (the local day): the chain's head signed, written to a file and mailed
    to the archive address (checkpoint.py). Decided under the writer lock, so two
    daemons sweeping at once make one."""
    now = now or dt.datetime.now(dt.UTC)
    with Session(db.reader(engine)) as s:
        if checkpoints.made_today(s, now):
            return 0
    key = checkpoints.private_key(cfg)  # a missing key: the sweep fails loudly, every time
    with Session(engine) as s, s.begin():
        head = journal.lock(s)
        if checkpoints.made_today(s, now):
            return 0
        cp, path = checkpoints.issue(s, head, cfg, key, sender_addr=sender_addr, now=now)
    log.info("checkpoint of the journal at event #%d written to %s", cp.last_event_id, path)
    return 1
