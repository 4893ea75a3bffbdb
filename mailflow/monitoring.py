"""The PR specialist's monitoring registers (regulation 2.4): which appeals are
entries, the next number in the register of the entry's kind, and the lists.

Book entries (2.1) and a service centre's reviews and suggestions (2.2–2.3)
are entries (`rules/routing.toml`, `[monitoring]`). An entry gets its number
when it is registered, in the registering transaction; one whose kind is not
known yet gets it when a person sets the kind (a correction). A number, once
given, stays: the registers count in order without gaps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from . import journal, notices
from .case.actors import Actor
from .models import ChainHead, Document, Monitoring
from .rules import MonitoringRegister, Rules
from .vocabulary import PR_SPECIALIST


@dataclass(frozen=True)
class Entry:
    register: MonitoringRegister
    year: int
    seq: int

    @property
    def number(self) -> str:
        return f"{self.seq}/{self.year}"


def allocate(s: Session, rules: Rules, doc: Document) -> Entry | None:
    """The next number in the register of `doc`'s kind, when `doc` is an entry (2.4)."""
    if rules.routing.monitored(doc.channel, doc.kind) is not True:
        return None
    reg = rules.routing.register_for(doc.kind)
    assert reg is not None  # monitored() said so
    seq = journal.next_seq(s, f"monitoring:{reg.key}", doc.year)
    s.add(
        Monitoring(
            register_key=reg.key,
            year=doc.year,
            seq=seq,
            document_id=doc.id,
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    return Entry(reg, doc.year, seq)


def entry_of(s: Session, rules: Rules, document_id: int) -> Entry | None:
    row = s.exec(select(Monitoring).where(Monitoring.document_id == document_id)).first()
    if row is None:
        return None
    reg = next((r for r in rules.routing.registers if r.key == row.register_key), None)
    reg = reg or MonitoringRegister(
        row.register_key, row.register_key, frozenset()
    )  # a register since removed
    return Entry(reg, row.year, row.seq)


def record(s: Session, document_id: int) -> dict[str, str | int] | None:
    """The entry's number as the export gives it: {"register": "reviews", "year": 2026,
    "seq": 3, "number": "3/2026"}; None for an appeal that is no entry or has none yet."""
    row = s.exec(select(Monitoring).where(Monitoring.document_id == document_id)).first()
    return as_record(row) if row else None


def as_record(row: Monitoring) -> dict[str, str | int]:
    return {"register": row.register_key, "year": row.year, "seq": row.seq, "number": f"{row.seq}/{row.year}"}


def pending(rules: Rules, doc: Document) -> bool:
    """An entry still waiting for its kind to be known (and with it its register)."""
    return rules.routing.monitored(doc.channel, doc.kind) is None


def settle(
    s: Session, head: ChainHead, rules: Rules, doc: Document, *, by: Actor, sender_addr: str
) -> Entry | None:
    """After a correction: an entry that had no number gets one now that its kind
    makes it an entry; an event records it and the PR specialist is told.
    None when nothing was given."""
    if entry_of(s, rules, doc.id or 0) is not None:
        return None
    entry = allocate(s, rules, doc)
    if entry is not None:
        journal.append(
            s,
            head,
            "monitoring_numbered",
            document_id=doc.id,
            number=doc.number,
            register=entry.register.key,
            monitoring_number=entry.number,
            by=by.address,
        )
        notices.tell(
            s,
            rules,
            sender_addr=sender_addr,
            role=PR_SPECIALIST,
            key=f"monitoring:{doc.id}",
            title="Номер в базе мониторинга присвоен",
            text=f"Вид обращения {doc.number} установлен ({doc.kind}, {by.address}): "
            f"номер в базе «{entry.register.title}» — {entry.number}.",
            number=doc.number,
            document_id=doc.id,
        )
    return entry


def entries(
    s: Session, register: str | None = None, year: int | None = None
) -> list[tuple[Monitoring, Document]]:
    """A register's entries in order of their numbers (all registers, all years by default)."""
    q = select(Monitoring, Document).where(Monitoring.document_id == Document.id)
    if register:
        q = q.where(Monitoring.register_key == register)
    if year:
        q = q.where(Monitoring.year == year)
    q = q.order_by(col(Monitoring.register_key), col(Monitoring.year), col(Monitoring.seq))
    return [(m, d) for m, d in s.exec(q).all()]
