"""The journal export (DESIGN §4): one object per registered document."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from . import db, monitoring, xlsx_stream
from .case import ladder
from .case.queries import IS_CURRENT
from .models import (
    Answer,
    Assignment,
    Delivery,
    DocAttachment,
    Document,
    Extension,
    ExtensionRequest,
    Handover,
    Inbound,
    Monitoring,
    Move,
    Outbox,
    Resolution,
    SuggestionDecision,
)
from .values import CONSUMER_FIELDS, KZ_TZ
from .vocabulary import decision_label

BATCH = 500  # documents read and turned into export objects at a time
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
    return document_records(s, [doc])[0]


def document_records(s: Session, docs: Sequence[Document]) -> list[dict]:
    """The export objects of `docs`, in their order: a dozen queries for the whole
    batch (by document ids), not a dozen per document."""
    if not docs:
        return []
    rel = _Related.load(s, docs)
    return [_record(rel, d) for d in docs]


# The tables of a case's export object read by document id. Many hold rows for
# few cases (handovers, extensions, monitoring numbers): one query asks which
# of them hold any for a batch, and only those are read (a page of the journal
# would otherwise cost a round trip for each, most of them empty).
_BY_DOCUMENT: tuple[Any, ...] = (
    Resolution,
    SuggestionDecision,
    Monitoring,
    Extension,
    ExtensionRequest,
    Answer,
    DocAttachment,
    Outbox,
    Delivery,
    Move,
    Handover,
)


def _present(s: Session, ids: list[int]) -> set[Any]:
    """Those of _BY_DOCUMENT holding a row of one of the documents `ids`."""
    if not ids:
        return set()
    found: Any = s.exec(
        select(*(sa.exists().where(db.among(s, col(m.document_id), ids)) for m in _BY_DOCUMENT))
    ).one()  # a row of booleans
    return {m for m, there in zip(_BY_DOCUMENT, found, strict=True) if there}


def _grouped(rows: Iterable[Any], key: str = "document_id") -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        out[getattr(r, key)].append(r)
    return out


@dataclass(frozen=True)
class _Related:
    """Every row of other tables a batch of documents' export objects show, by document id."""

    atts: dict[int, list[DocAttachment]]
    talons: dict[int, list[Outbox]]
    monitoring: dict[int, Monitoring]
    decisions: dict[int, SuggestionDecision]  # the latest
    resolutions: dict[int, Resolution]  # the one in force
    people: dict[int, list[Assignment]]  # by resolution id
    deliveries: dict[int, list[Delivery]]
    extensions: dict[int, list[Extension]]
    asked: dict[int, ExtensionRequest]  # by extension id
    numbers: dict[int, str]  # the numbers of the first cases these repeat
    repeats: dict[int, list[str]]
    answers: dict[int, Answer]
    moves: dict[int, list[Move]]
    handovers: dict[int, list[Handover]]

    @classmethod
    def load(cls, s: Session, docs: Sequence[Document]) -> _Related:
        ids = [d.id or 0 for d in docs]
        firsts_of = {d.repeat_of for d in docs if d.repeat_of}
        present = _present(s, ids)

        def rows(model: Any, order: Any, column: Any = None) -> list[Any]:
            if model not in present:
                return []
            column = column if column is not None else model.document_id
            return list(s.exec(select(model).where(db.among(s, col(column), ids)).order_by(order)).all())

        resolutions = (
            {
                r.document_id: r
                for r in s.exec(
                    select(Resolution)
                    .where(db.among(s, col(Resolution.document_id), ids), IS_CURRENT)
                    .order_by(col(Resolution.id))
                )
            }
            if Resolution in present
            else {}
        )
        res_ids = [r.id for r in resolutions.values() if r.id is not None]
        people = (
            _grouped(
                s.exec(
                    select(Assignment)
                    .where(db.among(s, col(Assignment.resolution_id), res_ids))
                    .order_by(col(Assignment.position))
                ),
                "resolution_id",
            )
            if res_ids
            else {}
        )
        decisions: dict[int, SuggestionDecision] = {}
        for d in rows(SuggestionDecision, col(SuggestionDecision.id)):
            decisions[d.document_id] = d  # ascending ids: the latest stays
        monitoring: dict[int, Monitoring] = {}
        for m in rows(Monitoring, col(Monitoring.id)):
            monitoring.setdefault(m.document_id, m)
        # the later cases repeating these (by the repeat_of index), and the numbers of the
        # first cases these repeat (by id); one OR of both would scan the table on SQLite
        # (ordered here, and the index named for SQLite: its statistics see repeat_of as one
        # value, NULL, on nearly every row, and it would scan the whole table instead)
        hint = " INDEXED BY ix_document_repeat_of" if s.get_bind().dialect.name == "sqlite" else ""
        later = s.execute(
            sa.text(
                f"SELECT repeat_of, registered_at, number FROM document{hint} WHERE repeat_of IN :ids"
            ).bindparams(sa.bindparam("ids", ids, expanding=True))
        ).all()
        repeats: dict[int, list[str]] = defaultdict(list)
        for first, _, number in sorted(later, key=lambda r: (r[1], r[2])):
            repeats[first].append(number)
        firsts = sorted(firsts_of)
        numbers = (
            dict(
                s.exec(
                    select(col(Document.id), col(Document.number)).where(col(Document.id).in_(firsts))
                ).all()
            )
            if firsts
            else {}
        )
        extensions = rows(Extension, col(Extension.id))
        asked = {
            r.extension_id: r for r in rows(ExtensionRequest, col(ExtensionRequest.id)) if r.extension_id
        }
        answers: dict[int, Answer] = {}
        for a in rows(Answer, col(Answer.id)):
            answers.setdefault(a.document_id, a)
        return cls(
            atts=_grouped(rows(DocAttachment, col(DocAttachment.id))),
            talons=_grouped(t for t in rows(Outbox, col(Outbox.id)) if t.kind == "talon"),
            monitoring=monitoring,
            decisions=decisions,
            resolutions=resolutions,
            people=people,
            deliveries=_grouped(rows(Delivery, col(Delivery.id))),
            extensions=_grouped(extensions),
            asked=asked,
            numbers=numbers,
            repeats=repeats,
            answers=answers,
            moves=_grouped(rows(Move, col(Move.id))),
            handovers=_grouped(rows(Handover, col(Handover.id))),
        )


def _record(rel: _Related, doc: Document) -> dict:
    i = doc.id or 0
    m = rel.monitoring.get(i)
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
        # the PR specialist's register and number (2.4)
        "monitoring": monitoring.as_record(m) if m else None,
        "decision": _decision(rel.decisions.get(i)),  # a suggestion's, by the PR specialist (2.14)
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
            for a in rel.atts.get(i, [])
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
            for t in rel.talons.get(i, [])
        ],
        **_resolution(rel, doc),
        "repeat_of": rel.numbers.get(doc.repeat_of) if doc.repeat_of else None,
        "repeats": rel.repeats.get(i, []),
        "extensions": _extensions(rel, doc),
        "answer": _answer(rel, doc),
    }


def _extensions(rel: _Related, doc: Document) -> list[dict]:
    """The term's extensions (АППК art. 76 p. 2), the requests by e-mail, and how the applicant was told."""
    return [
        {
            "old_due": e.old_due.isoformat(),
            "new_due": e.new_due.isoformat(),
            "reason": e.reason,
            "by": e.author,
            "at": _iso(e.created_at),
            "requested_by": rel.asked[e.id].requested_by if e.id in rel.asked else None,
            "tell_applicant_by": e.tell_applicant_by.isoformat(),
            "applicant_told_at": _iso(e.applicant_told_at),
            "applicant_told_how": e.applicant_told_how,
        }
        for e in rel.extensions.get(doc.id or 0, [])
    ]


def _answer(rel: _Related, doc: Document) -> dict | None:
    """Section 3: the stage, every move with its file's hash, and how the answer went out."""
    a = rel.answers.get(doc.id or 0)
    if a is None:
        return None
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
            for m in rel.moves.get(doc.id or 0, [])
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
        "handed_over": [
            {"unit": h.unit, "at": _iso(h.at), "by": h.by} for h in rel.handovers.get(doc.id or 0, [])
        ],
    }


def _resolution(rel: _Related, doc: Document) -> dict:
    res = rel.resolutions.get(doc.id or 0)
    if res is None:  # a due date may run without a resolution (the law's term, an imported case)
        due = doc.due_date.isoformat() if doc.due_date else None
        return {"resolution": None, "executors": [], "due_date": due, "deliveries": []}
    people = rel.people.get(res.id or 0, [])
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
        "deliveries": [delivery_record(d) for d in rel.deliveries.get(doc.id or 0, [])],
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


def _decision(d: SuggestionDecision | None) -> dict | None:
    """The decision in force on a suggestion (the latest), or None."""
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
    """Every document's export object, oldest first, read a batch at a time."""
    conds = [col(Document.journal) == journal] if journal else []
    for docs in batches(s, conds, newest_first=False):
        yield from document_records(s, docs)


def batches(
    s: Session, conds: Sequence[sa.ColumnElement[bool]], *, newest_first: bool = True, size: int = BATCH
) -> Iterator[list[Document]]:
    """The documents matching `conds` in pages of `size`, newest first (the journal's
    order: registered_at, then id) or by id, each page found from the last one's key
    (no OFFSET to walk again), and let go of once read: memory stays flat."""
    reg, ident = col(Document.registered_at), col(Document.id)
    order = (reg.desc(), ident.desc()) if newest_first else (ident,)
    last: Document | None = None
    while True:
        after: list[sa.ColumnElement[bool]] = []
        if last is not None and newest_first:
            after = [reg <= last.registered_at, sa.or_(reg < last.registered_at, ident < last.id)]
        elif last is not None:
            after = [ident > last.id]
        # the letter's text and its folded copy are no column of the export: left in the database
        light = select(Document).options(defer(Document.text), defer(Document.search))
        docs = list(s.exec(light.where(*conds, *after).order_by(*order).limit(size)).all())
        if not docs:
            return
        yield docs
        last = docs[-1]
        s.expunge_all()
        if len(docs) < size:
            return


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


def csv_chunks(
    recs: Iterable[dict], rows: int = 1000, *, delimiter: str = ",", bom: bool = False
) -> Iterator[str]:
    """The CSV export in pieces of `rows` rows: a journal of years is not held in memory.
    Every cell goes through `neutral`. For a spreadsheet opened by double-click (a
    Russian Excel): `delimiter=";"`, `bom=True` (so it reads UTF-8, not cp1251)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    if bom:
        buf.write("\ufeff")
    w.writerow(CSV_COLUMNS)
    for n, r in enumerate(recs, 1):
        w.writerow([neutral(v) for v in csv_row(r)])
        if n % rows == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


XLSX_SHEET = "Журнал"  # the sheet `journal import` looks for first


def xlsx_chunks(recs: Iterable[dict]) -> Iterator[bytes]:
    """The journal as an Excel workbook, streamed (mailflow.xlsx_stream). Every text is
    a text cell, so nothing a consumer wrote ("=HYPERLINK(…)") becomes a formula, and
    no apostrophe is added: a text cell is never evaluated, and `journal import` reads
    it back as it was."""
    return xlsx_stream.stream(CSV_COLUMNS, (csv_row(r) for r in recs), sheet=XLSX_SHEET)


def to_xlsx(recs: Iterable[dict]) -> bytes:
    return b"".join(xlsx_chunks(recs))


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
