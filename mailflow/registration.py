"""Registration (regulation 1.3–1.4): a number in the journal, and the talon.

Everything here runs inside the caller's transaction, after it took the
journal lock: the number, the document, its attachments, the event and the
talon rows commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from . import anonymity, journal, outbox, repeats, routing, talon
from .case.actors import SYSTEM
from .case.search import index_fields
from .models import ChainHead, DocAttachment, Document, Outbox
from .rules import Journal, Person, Rules
from .sanitize import clean
from .values import KZ_TZ, Attachment, AttachmentInfo, ParsedMessage, Recognition


@dataclass(frozen=True)
class Registration:
    """What is being registered; built by intake or `mailflow register`."""

    journal: Journal
    channel: str
    received_at: dt.datetime
    sha256: str
    recognition: Recognition
    message: ParsedMessage | None  # None for paper mail scanned in the chancellery
    sender: Person | None
    talon: bool  # False in backlog mode: no talon, no routing
    files: tuple[Attachment, ...] = ()  # the scans, forwarded with the appeal


def register(
    session: Session,
    head: ChainHead,
    rules: Rules,
    reg: Registration,
    *,
    sender_addr: str,
    inbound_id: int | None = None,
) -> Document:
    now = dt.datetime.now(dt.UTC)
    year = now.astimezone(KZ_TZ).year
    seq, number = journal.allocate(session, reg.journal, year)
    doc = _document(reg, seq, number, year, now)
    session.add(doc)
    session.flush()
    for a in _attachments(reg):
        session.add(
            DocAttachment(
                document_id=doc.id,
                filename=clean(a.filename, 500),
                sha256=a.sha256,
                content_type=clean(a.content_type, 255),
                pages=a.pages,
                ocr_confidence=a.ocr_confidence,
                text_source=a.text_source,
                note=clean(a.note, 2000),
            )
        )
    to = talon.recipients(reg.message, reg.sender, reg.recognition, rules.own_addresses) if reg.talon else ()
    stranger = reg.message is not None and reg.sender is None
    held = [a for a in to if stranger and _talons_today(session, a, now) >= rules.talon_daily_limit]
    to = tuple(a for a in to if a not in held)
    journal.append(
        session,
        head,
        "registered",
        document_id=doc.id,
        inbound_id=inbound_id,
        number=number,
        journal=reg.journal.key,
        channel=reg.channel,
        kind=doc.kind,
        sha256=reg.sha256,
        needs_review=list(reg.recognition.needs_review),
        talon_to=list(to),
        talon_held=held,  # over the day's limit for one stranger's address
        backlog=not reg.talon,
    )
    for address in to:
        out = talon.compose_talon(
            rules,
            reg.journal,
            number=number,
            registered_at=now,
            document_id=doc.id,
            to=address,
            sender_addr=sender_addr,
            msg=reg.message,
            rec=reg.recognition,
            received_at=reg.received_at,
            quote=not stranger,
        )
        outbox.queue(session, out, document_id=doc.id, inbound_id=inbound_id)
    first = repeats.find(session, rules.repeats, doc, now)
    if first is not None:
        repeats.link(session, head, doc, first, by=SYSTEM, automatic=True)
    if anonymity.is_anonymous(rules.anonymity, reg.recognition.consumer, reg.recognition.needs_review):
        anonymity.flag(session, head, rules, doc, sender_addr=sender_addr)
    if reg.talon:
        routing.route(session, head, rules, routing.Case(doc, reg.recognition, reg.files), sender_addr)
    return doc


def _attachments(reg: Registration) -> list[AttachmentInfo]:
    """Every file of the message, with what recognition learnt of it where it did."""
    known = {a.sha256: a for a in reg.recognition.attachments}
    files = reg.message.attachments if reg.message else ()
    out = [
        known.pop(f.sha256, None) or AttachmentInfo(f.filename, f.sha256, f.content_type, 0, None, "none")
        for f in files
    ]
    return out + list(known.values())


def _document(reg: Registration, seq: int, number: str, year: int, now: dt.datetime) -> Document:
    rec, c, msg = reg.recognition, reg.recognition.consumer, reg.message
    doc = Document(
        journal=reg.journal.key,
        year=year,
        seq=seq,
        number=number,
        registered_at=now,
        received_at=reg.received_at,
        kind=rec.kind,
        grp=rec.group,
        channel=reg.channel,
        origin_unit=clean(rec.origin_unit, 200),
        last_name=clean(c.last_name, 200),
        first_name=clean(c.first_name, 200),
        patronymic=clean(c.patronymic, 200),
        address=clean(c.address, 2000),
        phone=clean(c.phone, 32),
        email=clean(c.email, 320),
        org_name=clean(c.org_name, 2000),
        outgoing_number=clean(c.outgoing_number, 100),
        outgoing_date=c.outgoing_date,
        book_entry_at=rec.book_entry_at,
        source_message_id=clean(msg.message_id, 998) if msg else None,
        source_from=clean(msg.from_addr, 320) if msg else None,
        source_subject=clean(msg.subject, 2000) if msg else None,
        sha256=reg.sha256,
        needs_review=json.dumps(list(rec.needs_review), ensure_ascii=False),
        confidence=json.dumps(rec.confidence, ensure_ascii=False),
        evidence=json.dumps(rec.evidence, ensure_ascii=False),
        crops=json.dumps({k: c.as_json() for k, c in rec.crops.items()}),
        talon=reg.talon,
        text=clean(rec.text, 200_000),
    )
    index_fields(doc)
    return doc


def _talons_today(s: Session, address: str, now: dt.datetime) -> int:
    """Talons queued to `address` in the last 24 hours."""
    since = now - dt.timedelta(days=1)
    return s.exec(
        select(sa.func.count())
        .select_from(Outbox)
        .where(Outbox.kind == "talon", Outbox.recipients == json.dumps([address]), Outbox.created_at >= since)
    ).one()
