"""Anonymous appeals (АППК: not considered, except reports of crimes or threats
to security): flagged at registration, decided by the clerk.

An appeal is flagged when the reader is sure the applicant gave no name
(no field of rules/intake.toml `[anonymous] name_fields`) and nowhere to
answer (no field of `reply_fields`); `flag_when = "either"` flags it when
one of the two is missing. A field the reader was unsure of (in `needs_review`) does not count
as missing: OCR's doubt is not the applicant's silence. The clerk then
either confirms (the case becomes `not_considered`, no reminders) or marks
the law's exception (a report of a crime or of a threat to security), and
the case runs as any other. Nothing is decided automatically.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import Session

from . import journal, notices
from .case import transition
from .case.actors import Actor
from .case.states import Act
from .models import ChainHead, Document
from .rules import Anonymity, Rules
from .values import Consumer

FLAG = "anonymous"  # the needs_review entry the clerk's decision clears


def is_anonymous(policy: Anonymity, consumer: Consumer, needs_review: tuple[str, ...]) -> bool:
    def missing(fields: tuple[str, ...]) -> bool:
        return not any(getattr(consumer, f) for f in fields) and not set(fields) & set(needs_review)

    no_name, no_reply = missing(policy.name_fields), missing(policy.reply_fields)
    return (no_name and no_reply) if policy.flag_when == "both" else (no_name or no_reply)


def flag(s: Session, head: ChainHead, rules: Rules, doc: Document, *, sender_addr: str) -> None:
    """At registration: mark it for the clerk and tell them."""
    review = json.loads(doc.needs_review)
    doc.needs_review = json.dumps([*review, FLAG], ensure_ascii=False)
    journal.append(s, head, "anonymous_flagged", document_id=doc.id, number=doc.number)
    notices.tell(
        s,
        rules,
        sender_addr=sender_addr,
        role="clerk",
        key=f"anonymous:{doc.id}",
        title="Анонимное обращение: решите, рассматривать ли его",
        text=(
            f"В обращении {doc.number} не указаны фамилия (наименование) и адрес для ответа. "
            "Анонимные обращения не рассматриваются, кроме сообщений о готовящемся или совершённом "
            "преступлении или об угрозе безопасности. Отметьте решение: "
            f"mailflow anonymous {doc.number} --not-considered | --exception --reason «…» --by <e-mail>."
        ),
        number=doc.number,
        document_id=doc.id,
    )


class Refused(ValueError):
    """The decision cannot be recorded; the message says why, in Russian."""


def decide(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    *,
    consider: bool,
    reason: str,
    by: Actor,
    now: dt.datetime,
) -> None:
    """The clerk's decision on a flagged appeal: not considered, or the law's exception."""
    if not reason.strip():
        raise Refused("нужна причина решения")
    review = json.loads(doc.needs_review)
    if FLAG not in review:
        raise Refused(f"{doc.number} не отмечено как анонимное")
    doc.needs_review = json.dumps([f for f in review if f != FLAG], ensure_ascii=False)
    if consider:
        journal.append(
            s,
            head,
            "anonymous_exception",
            document_id=doc.id,
            number=doc.number,
            by=by.address,
            reason=reason,
        )
    else:
        transition.apply(s, head, doc, Act.NOT_CONSIDER, by, rules.workflow, now=now, reason=reason.strip())
    s.add(doc)
