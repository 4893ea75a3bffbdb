"""The journal export (DESIGN §4): one object per registered document."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from sqlmodel import Session, col, select

from . import monitoring, repeats
from .case import ladder
from .case.queries import current_resolution
from .models import (
    Answer,
    Delivery,
    DocAttachment,
    Document,
    Extension,
    ExtensionRequest,
    Handover,
    Inbound,
    Move,
    Outbox,
    SuggestionDecision,
)
from .values import CONSUMER_FIELDS, KZ_TZ
from .vocabulary import decision_label

CSV_COLUMNS = (
    "incoming_number",
    "journal",
    "registered_at",
    "received_at",
    "kind",
    "group",
    "channel",
    "origin_unit",
    *CONSUMER_FIELDS,
    "book_entry_at",
    "from",
    "subject",
    "needs_review",
    "status",
    # the case as a journal kept elsewhere records it: what `journal import` reads back
    "resolution",
    "executors",  # e-mail addresses, the responsible first
    "due_date",
    "answered_at",
    "closed_at",
)


def document_record(s: Session, doc: Document) -> dict:
    atts = s.exec(
        select(DocAttachment).where(DocAttachment.document_id == doc.id).order_by(DocAttachment.id)
    ).all()
    talons = s.exec(select(Outbox).where(Outbox.document_id == doc.id).order_by(Outbox.id)).all()
    return {
        "incoming_number": doc.number,
        "journal": doc.journal,
        "registered_at": _iso(doc.registered_at),
        "received_at": _iso(doc.received_at),
        "kind": doc.kind,
        "group": doc.grp,
        "channel": doc.channel,
        "origin_unit": doc.origin_unit,
        "consumer": {
            "last_name": doc.last_name,
            "first_name": doc.first_name,
            "patronymic": doc.patronymic,
            "address": doc.address,
            "phone": doc.phone,
            "email": doc.email,
            "org_name": doc.org_name,
            "outgoing_number": doc.outgoing_number,
            "outgoing_date": doc.outgoing_date.isoformat() if doc.outgoing_date else None,
        },
        "book_entry_at": _iso(doc.book_entry_at),
        "monitoring": monitoring.record(s, doc.id),  # the PR specialist's register and number (2.4)
        "decision": _decision(s, doc),  # a suggestion's, by the PR specialist (2.14)
        "source": {
            "message_id": doc.source_message_id,
            "from": doc.source_from,
            "subject": doc.source_subject,
            "sha256": doc.sha256,
        },
        "attachments": [
            {
                "filename": a.filename,
                "sha256": a.sha256,
                "pages": a.pages,
                "ocr_confidence": a.ocr_confidence,
                "note": a.note,
            }
            for a in atts
        ],
        "needs_review": json.loads(doc.needs_review),
        "evidence": json.loads(doc.evidence or "{}"),
        "crops": json.loads(doc.crops or "{}"),
        "status": doc.status,
        "answered_at": _iso(doc.answered_at),
        "closed_at": _iso(doc.closed_at),
        "talons": [
            {
                "to": json.loads(t.recipients),
                "message_id": t.message_id,
                "status": t.status,
                "smtp": t.smtp_reply,
            }
            for t in talons
            if t.kind == "talon"
        ],
        **_resolution(s, doc),
        **_repeats(s, doc),
        "extensions": _extensions(s, doc),
        "answer": _answer(s, doc),
    }


def _extensions(s: Session, doc: Document) -> list[dict]:
    """The term's extensions (АППК art. 76 p. 2), the requests by e-mail, and how the applicant was told."""
    exts = s.exec(select(Extension).where(Extension.document_id == doc.id).order_by(col(Extension.id))).all()
    asked = {
        r.extension_id: r
        for r in s.exec(select(ExtensionRequest).where(ExtensionRequest.document_id == doc.id))
        if r.extension_id
    }
    return [
        {
            "old_due": e.old_due.isoformat(),
            "new_due": e.new_due.isoformat(),
            "reason": e.reason,
            "by": e.author,
            "at": _iso(e.created_at),
            "requested_by": asked[e.id].requested_by if e.id in asked else None,
            "tell_applicant_by": e.tell_applicant_by.isoformat(),
            "applicant_told_at": _iso(e.applicant_told_at),
            "applicant_told_how": e.applicant_told_how,
        }
        for e in exts
    ]


def _repeats(s: Session, doc: Document) -> dict:
    """The earlier case this one repeats, and the later ones that repeat it (numbers)."""
    first = s.get(Document, doc.repeat_of) if doc.repeat_of else None
    return {
        "repeat_of": first.number if first else None,
        "repeats": [d.number for d in repeats.repeats_of(s, doc)],
    }


def _answer(s: Session, doc: Document) -> dict | None:
    """Section 3: the stage, every move with its file's hash, and how the answer went out."""
    a = s.exec(select(Answer).where(Answer.document_id == doc.id)).first()
    if a is None:
        return None
    moves = s.exec(select(Move).where(Move.document_id == doc.id).order_by(Move.id)).all()
    handed = s.exec(select(Handover).where(Handover.document_id == doc.id).order_by(Handover.id)).all()
    return {
        "stage": doc.stage,
        "holder": a.holder,
        "updated_at": _iso(a.updated_at),
        "history": [
            {
                "at": _iso(m.at),
                "from": m.from_stage,
                "to": m.to_stage,
                "word": m.word,
                "by": m.by,
                "file": m.filename,
                "sha256": m.sha256,
                "note": m.note,
            }
            for m in moves
        ],
        "outgoing_number": a.outgoing_number,
        "outgoing_date": a.outgoing_date.isoformat() if a.outgoing_date else None,
        "dispatch_channel": a.dispatch_channel,
        "tracking": a.tracking,
        "dispatched_at": _iso(a.dispatched_at),
        "answered_at": _iso(doc.answered_at),
        "copy_received_at": _iso(a.copy_at),
        "copy_sha256": a.copy_sha256,
        "closed_at": _iso(doc.closed_at),
        "handed_over": [{"unit": h.unit, "at": _iso(h.at), "by": h.by} for h in handed],
    }


def _resolution(s: Session, doc: Document) -> dict:
    res, people = current_resolution(s, doc.id)
    if res is None:  # a due date may run without a resolution (the law's term, an imported case)
        due = doc.due_date.isoformat() if doc.due_date else None
        return {"resolution": None, "executors": [], "due_date": due, "deliveries": []}
    deliveries = s.exec(select(Delivery).where(Delivery.document_id == doc.id).order_by(Delivery.id)).all()
    return {
        "resolution": {
            "text": res.text,
            "instruction": res.instruction,
            "author": res.author,
            "author_name": res.author_name,
            "source": res.source,
            "at": _iso(res.created_at),
            "due_source": res.due_source,
        },
        "executors": [{"name": p.name, "email": p.email, "responsible": p.position == 1} for p in people],
        "due_date": (doc.due_date or res.due_date).isoformat(),
        "deliveries": [delivery_record(d) for d in deliveries],
    }


def delivery_record(d: Delivery) -> dict:
    """The proof ladder of one forwarded message: accepted → delivered → displayed → replied."""
    return {
        "to": d.to_addr,
        "message_id": d.message_id,
        "smtp": {
            "code": d.smtp_code,
            "reply": d.smtp_reply,
            "queue_id": d.queue_id,
            "accepted_at": _iso(d.accepted_at),
        }
        if d.accepted_at or d.smtp_code
        else None,
        "dsn": _dsn(d),
        "mdn": {"action": "displayed", "at": _iso(d.displayed_at)} if d.displayed_at else None,
        "replied_at": _iso(d.replied_at),
        "proof": ladder.level(d),
    }


def _dsn(d: Delivery) -> dict | None:
    for action, at in (
        ("delivered", d.delivered_at),
        ("failed", d.failed_at),
        ("relayed", d.relayed_at),
        ("delayed", d.delayed_at),
    ):
        if at:
            return {"action": action, "status": d.status_code, "at": _iso(at)}
    return None


def _decision(s: Session, doc: Document) -> dict | None:
    """The decision in force on a suggestion (the latest), or None."""
    d = s.exec(
        select(SuggestionDecision)
        .where(SuggestionDecision.document_id == doc.id)
        .order_by(col(SuggestionDecision.id).desc())
    ).first()
    if d is None:
        return None
    return {
        "decision": d.decision,
        "label": decision_label(d.decision),
        "comment": d.comment,
        "by": d.by,
        "at": _iso(d.at),
    }


def records(s: Session, journal: str | None = None) -> Iterator[dict]:
    q = select(Document).order_by(Document.id)
    if journal:
        q = q.where(Document.journal == journal)
    for doc in s.exec(q):
        yield document_record(s, doc)


def jsonl(recs: Iterable[dict]) -> Iterator[str]:
    for r in recs:
        yield json.dumps(r, ensure_ascii=False)


def csv_row(r: dict) -> list:
    """One export object as the flat columns of CSV_COLUMNS."""
    flat = {
        **r,
        **r["consumer"],
        "from": r["source"]["from"],
        "subject": r["source"]["subject"],
        "needs_review": ";".join(r["needs_review"]),
        "resolution": r["resolution"]["text"] if r.get("resolution") else None,
        "executors": ", ".join(e["email"] for e in r.get("executors") or ()) or None,
    }
    return [flat.get(c) for c in CSV_COLUMNS]


def to_csv(recs: Iterable[dict]) -> str:
    return "".join(csv_chunks(recs))


def csv_chunks(recs: Iterable[dict], rows: int = 1000) -> Iterator[str]:
    """The CSV export in pieces of `rows` rows: a journal of years is not held in memory."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for n, r in enumerate(recs, 1):
        w.writerow([neutral(v) for v in csv_row(r)])
        if n % rows == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def to_xlsx(recs: Iterable[dict]) -> bytes:
    """The journal as an Excel workbook; every text is a text cell, so nothing a
    consumer wrote ("=HYPERLINK(…)") becomes a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Журнал")
    ws.append(list(CSV_COLUMNS))
    for r in recs:
        cells = []
        for v in csv_row(r):
            cell = WriteOnlyCell(
                ws, value=ILLEGAL_CHARACTERS_RE.sub("", v)[:32000] if isinstance(v, str) else v
            )
            if isinstance(v, str):
                cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _looks_neutralised(text: str) -> bool:
    """Apostrophes, then a formula's first character: what `neutral` writes."""
    return text.startswith("'") and text.lstrip("'").startswith(FORMULA_START)


def neutral(value: object) -> object:
    """A CSV cell that a spreadsheet will not run (OWASP CSV injection: a cell that
    starts like a formula gets a leading apostrophe; "+7 705…" shows as text too).
    A text that already looks neutralised ("'=…") gets one more, so `unneutral`
    gives every text back exactly."""
    if value is None:
        return ""
    if isinstance(value, str) and (value.startswith(FORMULA_START) or _looks_neutralised(value)):
        return "'" + value
    return value


def unneutral(cell: str) -> str:
    """The text `neutral` was given: exactly one apostrophe taken off, and only where it added one."""
    return cell[1:] if _looks_neutralised(cell) else cell


def inbound_rows(s: Session, status: str | None = None) -> list[Inbound]:
    q = select(Inbound).order_by(Inbound.id)
    if status:
        q = q.where(Inbound.status == status)
    return list(s.exec(q))


def _iso(value) -> str | None:
    return value.astimezone(KZ_TZ).isoformat() if value else None
