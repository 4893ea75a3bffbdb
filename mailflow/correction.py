"""Correcting a registered document's fields (a clerk at the workplace).

What OCR could not read, or read wrong, is put right by a person. Values are
validated as recognition validates them (a phone to E.164, an e-mail, a
date, a kind of `vocabulary.KINDS`); a bad value names its field and changes
nothing. Each correction is one hash-chained event with the old and new
values and who made it; a corrected field leaves `needs_review`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from . import journal
from .case.actors import Actor
from .case.search import index_fields
from .extract.fields import clean_email, parse_date, parse_phone
from .models import ChainHead, Document
from .sanitize import clean
from .vocabulary import GROUPS, KIND_KEYS


class BadValue(ValueError):
    """A value that cannot be stored; `field` names it, the message says why (Russian)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


_NAME = re.compile(r"^[^\W\d_]+(?:[-' ][^\W\d_]+)*$")


def _name(v: str) -> str:
    if not _NAME.match(v):
        raise ValueError("только буквы, дефис или апостроф")
    return v[:1].upper() + v[1:]


def _text(limit: int) -> Callable[[str], str]:
    def check(v: str) -> str:
        if len(v) > limit:
            raise ValueError(f"не длиннее {limit} знаков")
        return v

    return check


def _phone(v: str) -> str:
    found = parse_phone(v)
    if found is None:
        raise ValueError("не номер телефона Казахстана (+7 7xx xxx xx xx)")
    return found


def _email(v: str) -> str:
    found = clean_email(v)
    if found is None or found != v.strip().lower():
        raise ValueError("не адрес электронной почты")
    return found


def _date(v: str) -> dt.date:
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        found = parse_date(v)
        if found is None:
            raise ValueError("дата в виде ДД.ММ.ГГГГ") from None
        return found


def _kind(v: str) -> str:
    if v.lower() not in KIND_KEYS:
        raise ValueError("вид обращения: " + ", ".join(KIND_KEYS))
    return v.lower()


def _group(v: str) -> int:
    try:
        g = int(v)
    except ValueError:
        g = 0
    if g not in GROUPS:
        raise ValueError("группа потребителей: " + ", ".join(str(k) for k in GROUPS))
    return g


# field as the export names it → (Document attribute, validator)
FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "last_name": ("last_name", _name),
    "first_name": ("first_name", _name),
    "patronymic": ("patronymic", _name),
    "address": ("address", _text(2000)),
    "phone": ("phone", _phone),
    "email": ("email", _email),
    "org_name": ("org_name", _text(2000)),
    "outgoing_number": ("outgoing_number", _text(100)),
    "outgoing_date": ("outgoing_date", _date),
    "kind": ("kind", _kind),
    "group": ("grp", _group),
}


def validate(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values to store, by field; BadValue for the first field that is wrong.
    An empty value clears the field."""
    out: dict[str, Any] = {}
    for field, raw in values.items():
        if field not in FIELDS:
            raise BadValue(field, "это поле нельзя исправить")
        if raw is not None and not isinstance(raw, str | int):
            raise BadValue(field, "ожидается строка")
        text = clean("" if raw is None else str(raw), 4000) or ""
        if not text.strip():
            out[field] = None
            continue
        try:
            out[field] = FIELDS[field][1](text.strip())
        except ValueError as exc:
            raise BadValue(field, str(exc)) from None
    return out


def correct(s: Session, head: ChainHead, doc: Document, values: Mapping[str, Any], by: Actor) -> list[Change]:
    """Store validated `values` on `doc`, one event for all of them; [] when nothing differs."""
    changes = []
    for field, new in values.items():
        attr = FIELDS[field][0]
        old = getattr(doc, attr)
        if old != new:
            changes.append(Change(field, old, new))
            setattr(doc, attr, new)
    if not changes:
        return []
    review = [f for f in json.loads(doc.needs_review) if f not in {c.field for c in changes}]
    doc.needs_review = json.dumps(review, ensure_ascii=False)
    evidence = json.loads(doc.evidence or "{}")
    evidence.update({c.field: f"исправлено: {by.address}" for c in changes})
    doc.evidence = json.dumps(evidence, ensure_ascii=False)
    index_fields(doc)
    s.add(doc)
    journal.append(
        s,
        head,
        "corrected",
        document_id=doc.id,
        number=doc.number,
        by=by.address,
        changes=[{"field": c.field, "old": _plain(c.old), "new": _plain(c.new)} for c in changes],
    )
    return changes


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v
