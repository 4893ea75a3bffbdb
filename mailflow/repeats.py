"""Repeated appeals: the same applicant about the same subject, linked, never merged.

A new appeal is a repeat when its applicant (case.search.applicant_key: the
folded surname and first name) is that of an earlier case which is still
open, or was closed within `[repeats] closed_within_days`, and which shares a
way to reach them (the same phone, e-mail or address: a namesake at another
address is another person, a relative at the same address has another name)
and the subject (the same kind; where both letters have words enough, some
of those words). It is linked to the first case of the chain (`repeat_of`):
both cards show it, the export carries it, the weekly report counts it and
management's "на резолюцию" mail says so. The link is reversible by the
clerk, and either way the case runs as its own: nothing is merged.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from . import journal
from .case.actors import Actor
from .case.queries import is_open
from .case.search import fold
from .models import ChainHead, Document, id_of
from .rules import Repeats

_WORD = re.compile(r"[^\W\d_]{4,}")
_STEM = 5  # letters of a word compared: Russian endings vary, stems stay
MIN_WORDS = 20  # below this a letter says too little to compare its words


class NotRepeat(Exception):
    """A link the clerk asked for that cannot be: a message for the clerk."""


def find(s: Session, policy: Repeats, doc: Document, now: dt.datetime) -> Document | None:
    """The earlier case `doc` repeats, or None (a read; indexed on the applicant)."""
    if not doc.applicant:
        return None
    since = now - dt.timedelta(days=policy.closed_within_days)
    earlier = s.exec(
        select(Document)
        .where(
            col(Document.applicant) == doc.applicant,
            col(Document.id) != doc.id,
            col(Document.registered_at) <= doc.registered_at,
            sa.or_(is_open(), col(Document.closed_at) >= since, col(Document.answered_at) >= since),
        )
        .order_by(col(Document.registered_at).desc())
        .limit(50)
    ).all()
    for other in earlier:
        if same_contact(doc, other) and same_subject(policy, doc, other):
            return first_of(s, other)
    return None


def first_of(s: Session, doc: Document) -> Document:
    """The first case of a chain of repeats: a third appeal links to the first, not the second."""
    seen = {id_of(doc)}
    while doc.repeat_of is not None and doc.repeat_of not in seen:
        earlier = s.get(Document, doc.repeat_of)
        if earlier is None:
            break
        seen.add(doc.repeat_of)
        doc = earlier
    return doc


def same_contact(a: Document, b: Document) -> bool:
    phone = _digits(a.phone)
    if phone and phone == _digits(b.phone):
        return True
    if a.email and b.email and a.email.strip().lower() == b.email.strip().lower():
        return True
    return bool(a.address and b.address and _address(a.address) == _address(b.address))


def same_subject(policy: Repeats, a: Document, b: Document) -> bool:
    if not a.kind or a.kind != b.kind:
        return False
    wa, wb = _stems(a.text), _stems(b.text)
    if len(wa) < MIN_WORDS or len(wb) < MIN_WORDS:
        return True  # the kind is all there is to compare
    return len(wa & wb) / len(wa | wb) >= policy.min_shared_words


def link(
    s: Session, head: ChainHead, doc: Document, earlier: Document, *, by: Actor, automatic: bool
) -> Document:
    """Link `doc` to the first case of `earlier`'s chain; returns that first case."""
    if id_of(earlier) == id_of(doc):
        raise NotRepeat(f"{doc.number} не может быть повторным к самому себе")
    first = first_of(s, earlier)
    if id_of(first) == id_of(doc):
        raise NotRepeat(f"{earlier.number} уже повторное к {doc.number}: сначала снимите эту связь")
    doc.repeat_of = first.id
    s.add(doc)
    journal.append(
        s,
        head,
        "repeat_linked",
        document_id=doc.id,
        number=doc.number,
        repeat_of=first.number,
        by=by.address,
        automatic=automatic,
    )
    return first


def unlink(s: Session, head: ChainHead, doc: Document, *, by: Actor) -> str:
    if doc.repeat_of is None:
        raise NotRepeat(f"{doc.number} не связано ни с каким обращением как повторное")
    first = s.get(Document, doc.repeat_of)
    doc.repeat_of = None
    s.add(doc)
    journal.append(
        s,
        head,
        "repeat_unlinked",
        document_id=doc.id,
        number=doc.number,
        was_repeat_of=first.number if first else None,
        by=by.address,
    )
    return first.number if first else ""


def repeats_of(s: Session, doc: Document) -> Sequence[Document]:
    """The later appeals linked to this one, oldest first (for its card)."""
    return s.exec(
        select(Document).where(col(Document.repeat_of) == doc.id).order_by(col(Document.registered_at))
    ).all()


def _digits(phone: str | None) -> str:
    d = re.sub(r"\D", "", phone or "")
    return d[-10:] if len(d) >= 10 else ""  # +7 705 …, 8 705 …: the same ten digits


def _address(text: str) -> str:
    return re.sub(r"[^\w]+", " ", fold(text)).strip()


def _stems(text: str | None) -> set[str]:
    return {w[:_STEM] for w in _WORD.findall(fold(text or ""))}
