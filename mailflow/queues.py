"""The clerk's work queues: what mailflow could not settle alone, and what a person does with it.

- `review`: mail that is neither an appeal nor a known reply (registered as an
  appeal, attached to a case, or dismissed with a reason);
- `quarantine`: mail that could not be handled (read again after a fix, or
  dismissed);
- `outbox`: mail waiting or refused by the relay (sent again, or cancelled);
- `receipts`: delivery reports and read receipts that matched no sent
  message (attached to a delivery, or dismissed).

Each handled item leaves a hash-chained event naming the person and leaves its
queue. A message read again runs through the same intake pipeline as the
mailbox's, from the archived original, under a source of its own
("queue", "inbound-<id>"), so a second click cannot register it twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from . import journal, mime, proof, sanitize
from .archive import Archive
from .models import Delivery, Document, Inbound, Outbox, id_of
from .models import Receipt as ReceiptRow
from .rules import Rules, address_key
from .services import Conflict, Invalid, NotFound, Refused, Services
from .values import Disposition, Source

if TYPE_CHECKING:  # the command line lists the queues without loading the intake
    from .intake import Intake, Outcome
    from .triage import Verdict


class Queue(str, Enum):
    REVIEW = "review"
    QUARANTINE = "quarantine"
    OUTBOX = "outbox"
    RECEIPTS = "receipts"

    @property
    def label(self) -> str:
        return TITLES[self]


TITLES = {
    Queue.REVIEW: "Нераспознанная почта",
    Queue.QUARANTINE: "Карантин",
    Queue.OUTBOX: "Исходящие: ожидают и не отправлены",
    Queue.RECEIPTS: "Несопоставленные отчёты о доставке и прочтении",
}
# Inbound mail a person still has to look at, by queue; receipts have their own queue.
_RECEIPT_KINDS = (Disposition.DSN.value, Disposition.MDN.value)
LIMIT = 200  # shown at once; the oldest first, so nothing waits unseen behind newer mail


@dataclass(frozen=True)
class Item:
    id: int  # the inbound message's (review, quarantine, receipts) or the outbox row's
    at: dt.datetime
    who: str  # sender, or recipients
    what: str  # subject, or the kind of mail
    why: str  # the rule's reason, the error, the relay's answer
    number: str | None = None  # the case it concerns, if any
    status: str = ""


@dataclass(frozen=True)
class Mail:
    inbound: Inbound
    sender: str
    to: str
    subject: str
    attachments: tuple[str, ...]
    text: str


def _text(raw: bytes) -> str:
    return sanitize.clean(raw.decode("utf-8", errors="replace")) or ""


class Queues:
    def __init__(
        self,
        engine: sa.Engine,
        rules: Rules,
        intake: Intake,
        archive: Archive,
        services: Services,
        journals: Mapping[str, str | None],  # mailbox name → its journal (the config's)
    ):
        self.engine, self.rules, self.intake, self.archive = engine, rules, intake, archive
        self.services, self.journals = services, journals

    # -- what a person does ---------------------------------------------------

    ACTIONS: dict[Queue, tuple[str, ...]] = {
        Queue.REVIEW: ("register", "attach", "dismiss"),
        Queue.QUARANTINE: ("register", "reprocess", "dismiss"),
        Queue.RECEIPTS: ("attach", "dismiss"),
        Queue.OUTBOX: ("retry", "cancel"),
    }

    def do(self, queue: Queue, item: int, action: str, given: Mapping[str, str], *, by: str) -> str:
        """One item of `queue` handled by `by` (the workplace's buttons, `mailflow queue do`);
        `given`: the action's inputs (number, to, reason). What to tell them, or Refused."""
        if action not in self.ACTIONS[queue]:
            raise NotFound(f"в очереди «{queue.label}» нет действия «{action}»")
        number, to, reason = (given.get(k, "") for k in ("number", "to", "reason"))
        match queue, action:
            case _, "register":
                return f"Зарегистрировано: {self.register(item, by=by)}"
            case _, "reprocess":
                return f"Обработано заново: {self.reprocess(item, by=by)}"
            case Queue.RECEIPTS, "attach":
                return f"Отчёт сопоставлен: {self.attach_receipt(item, number, to, by=by)}"
            case _, "attach":
                self.attach(item, number, by=by)
                return f"Письмо приложено к {number.strip()}"
            case _, "dismiss":
                self.dismiss(item, reason, by=by)
                return "Письмо убрано из очереди; оно хранится в архиве"
            case _, "retry":
                self.services.outbox_retry([item], by=by)
                return "Письмо снова в очереди на отправку"
            case _:
                self.services.outbox_cancel([item], reason=reason, by=by)
                return "Отправка отменена"

    # -- what waits ----------------------------------------------------------

    def counts(self) -> dict[Queue, int]:
        with Session(self.engine) as s:
            return waiting(s)

    def items(self, queue: Queue, limit: int = LIMIT) -> list[Item]:
        with Session(self.engine) as s:
            rows = s.exec(_query(queue).limit(limit)).all()
            numbers = self._numbers(s, [r.document_id for r in rows])
            if queue is Queue.OUTBOX:
                return [
                    Item(
                        id_of(r),
                        r.created_at,
                        ", ".join(json.loads(r.recipients)),
                        r.kind,
                        r.last_error or r.smtp_reply or "",
                        numbers.get(r.document_id),
                        r.status,
                    )
                    for r in rows
                ]
            return [
                Item(
                    id_of(r),
                    r.received_at,
                    r.from_addr or "",
                    r.subject or "",
                    r.reason or r.rule or "",
                    numbers.get(r.document_id),
                    r.status,
                )
                for r in rows
            ]

    @staticmethod
    def _numbers(s: Session, ids: list[int | None]) -> dict[int | None, str]:
        wanted = sorted({i for i in ids if i is not None})
        if not wanted:
            return {}
        rows = s.exec(select(Document.id, Document.number).where(col(Document.id).in_(wanted))).all()
        return {i: n for i, n in rows}

    def mail(self, inbound_id: int) -> Mail | None:
        """A queued message as a person reads it; the raw text when it does not parse."""
        with Session(self.engine) as s:
            inb = s.get(Inbound, inbound_id)
        if inb is None:
            return None
        try:
            raw = self.archive.get(inb.sha256)
        except FileNotFoundError:
            return Mail(inb, "", "", "", (), "письмо не найдено в архиве")
        try:
            m = mime.parse(raw)
        except Exception as exc:  # it may be in quarantine for exactly this
            return Mail(inb, "", "", "", (), f"не разбирается ({exc}); начало письма:\n" + _text(raw[:20000]))
        body = m.body_text or "(текста нет)"
        names = tuple(f"{a.filename} ({a.content_type}, {len(a.data) // 1024} КБ)" for a in m.attachments)
        return Mail(inb, m.from_addr, ", ".join(m.to), m.subject, names, body[:20000])

    # -- inbound mail --------------------------------------------------------

    def register(self, inbound_id: int, *, by: str) -> str:
        """The clerk says it is an appeal: registered from the archived original; the number."""
        from .triage import Verdict

        inb = self._waiting(inbound_id, ("review", "quarantined"), "зарегистрировать")
        verdict = Verdict(Disposition.APPEAL, f"registered from the queue by {by}", "clerk")
        out = self._again(inb, verdict, by=by)
        if not out.number:
            raise Refused(f"не зарегистрировано: {out.status} — {out.reason}")
        return out.number

    def reprocess(self, inbound_id: int, *, by: str) -> str:
        """Quarantined mail read again through the whole pipeline (after a fix); what became of it."""
        inb = self._waiting(inbound_id, ("quarantined",), "обработать заново")
        out = self._again(inb, None, by=by)
        return f"{out.status}{': ' + out.number if out.number else ''} — {out.reason or ''}".strip(" —")

    def _again(self, inb: Inbound, verdict: Verdict | None, *, by: str) -> Outcome:
        from .mailbox import Fetched

        raw = self.archive.get(inb.sha256)
        source = Source("queue", "inbound", str(inb.id))  # once per queued message
        out = self.intake.process(
            Fetched(source, raw, inb.received_at), self.journals.get(inb.mailbox), verdict=verdict
        )
        if out.status in ("already", "lost-race"):
            raise Conflict(f"письмо №{inb.id} уже обработано повторно")
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            head = journal.lock(s)
            row = s.get(Inbound, inb.id)
            assert row is not None
            before = row.status
            row.status = "requeued"
            row.reason = f"{before} → {out.status}{' ' + out.number if out.number else ''} ({by})"
            journal.append(
                s,
                head,
                "requeued",
                inbound_id=inb.id,
                was=before,
                outcome=out.status,
                number=out.number,
                as_appeal=verdict is not None,
                by=by,
            )
        return out

    def attach(self, inbound_id: int, number: str, *, by: str) -> None:
        """The mail belongs to a case (a consumer's addition, a reply): linked to it."""
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            head = journal.lock(s)
            inb = self._locked(s, inbound_id, ("review",), "приложить к делу")
            doc = s.exec(select(Document).where(Document.number == number.strip())).first()
            if doc is None:
                raise NotFound(f"документ {number} не найден в журнале")
            inb.status, inb.document_id = "linked", doc.id
            inb.reason = f"приложено к {doc.number} ({by})"
            journal.append(s, head, "linked", document_id=doc.id, inbound_id=inb.id, number=doc.number, by=by)

    def dismiss(self, inbound_id: int, reason: str, *, by: str) -> None:
        """Nothing to do with it (spam, a duplicate, a test): kept in the archive, out of the queue."""
        if not reason.strip():
            raise Invalid("reason", "укажите причину")
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            head = journal.lock(s)
            inb = self._locked(s, inbound_id, ("review", "quarantined"), "отклонить")
            before = inb.status
            inb.status, inb.reason = "dismissed", f"{reason.strip()[:1000]} ({by})"
            journal.append(s, head, "dismissed", inbound_id=inb.id, was=before, reason=reason.strip(), by=by)

    def attach_receipt(self, inbound_id: int, number: str, to: str = "", *, by: str) -> str:
        """An unmatched report attached by the clerk to the delivery it is about (the case's
        forward to `to`; the only one, if the case has one): the ladder climbs."""
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            head = journal.lock(s)
            inb = self._locked(s, inbound_id, ("review",), "сопоставить")
            if inb.disposition not in _RECEIPT_KINDS:
                raise NotFound(f"письмо №{inbound_id} — не отчёт о доставке или прочтении")
            doc = s.exec(select(Document).where(Document.number == number.strip())).first()
            if doc is None:
                raise NotFound(f"документ {number} не найден в журнале")
            sent = s.exec(
                select(Delivery).where(Delivery.document_id == doc.id).order_by(col(Delivery.id))
            ).all()
            if to.strip():
                sent = [d for d in sent if address_key(d.to_addr) == address_key(to)]
            if not sent:
                raise NotFound(f"по {doc.number} не было отправки{' на ' + to.strip() if to.strip() else ''}")
            if len({d.to_addr for d in sent}) > 1:
                raise Invalid("to", "укажите адресата: " + ", ".join(sorted({d.to_addr for d in sent})))
            rows = s.exec(
                select(ReceiptRow).where(
                    ReceiptRow.inbound_id == inbound_id, col(ReceiptRow.delivery_id).is_(None)
                )
            ).all()
            if not rows:
                raise Conflict(f"отчёт №{inbound_id} уже сопоставлен")
            d = sent[-1]  # the latest forward to that person
            what: str = proof.attach(s, head, rows, d, by=by, now=dt.datetime.now(dt.UTC))
            inb.status, inb.document_id = "receipt", d.document_id
            inb.reason = f"{inb.disposition}: {what} (сопоставил {by})"
            return what

    def _waiting(self, inbound_id: int, statuses: tuple[str, ...], what: str) -> Inbound:
        with Session(self.engine, expire_on_commit=False) as s:
            return self._locked(s, inbound_id, statuses, what)

    @staticmethod
    def _locked(s: Session, inbound_id: int, statuses: tuple[str, ...], what: str) -> Inbound:
        inb = s.get(Inbound, inbound_id)
        if inb is None:
            raise NotFound(f"нет входящего письма №{inbound_id}")
        if inb.status not in statuses:
            raise Conflict(f"письмо №{inbound_id} уже не в очереди ({inb.status}): нельзя {what}")
        return inb


def waiting(s: Session) -> dict[Queue, int]:
    """How many items wait in each queue."""
    return {q: s.exec(select(func.count()).select_from(_query(q).subquery())).one() for q in Queue}


def _query(queue: Queue) -> Any:
    """What waits in `queue`, oldest first (the outbox: refused mail first)."""
    if queue is Queue.OUTBOX:
        return (
            select(Outbox)
            .where(col(Outbox.status).in_(("pending", "failed")))
            .order_by(col(Outbox.status).desc(), col(Outbox.id))
        )
    q = select(Inbound).order_by(col(Inbound.id))
    if queue is Queue.QUARANTINE:
        return q.where(Inbound.status == "quarantined")
    if queue is Queue.RECEIPTS:
        return q.where(Inbound.status == "review", col(Inbound.disposition).in_(_RECEIPT_KINDS))
    return q.where(Inbound.status == "review", col(Inbound.disposition).not_in(_RECEIPT_KINDS))
