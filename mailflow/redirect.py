"""Outside competence (АППК art. 76 p. 3): the appeal goes to the competent body
within 3 working days of registration, and the applicant is told.

The clerk or a manager decides it (`mailflow redirect`, the workplace, or a
manager's reply «ПЕРЕНАПРАВИТЬ: <organisation, address or e-mail>. <reason>»).
The case moves to `redirected` through the case table; mailflow writes the
cover letter (with the scans) to the body's e-mail address and the notice to
the applicant's, and what has no e-mail address is listed for the clerk to
post. Whether the term was kept is recorded with the act.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlmodel import Session

from . import notices, outbox
from .archive import Archive
from .case import transition
from .case.actors import Actor
from .case.queries import consumer_name
from .case.states import Act
from .models import ChainHead, Document
from .rules import Rules
from .sanitize import clean
from .scans import of_document
from .values import KZ_TZ

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_WORD = re.compile(r"^\W*(перенаправить|қайта\s+жолдау)\s*:?\s*", re.I)


class Refused(ValueError):
    """The redirect is not possible as asked; the message says why, in Russian."""


@dataclass(frozen=True)
class Target:
    """The competent body as written: its name or address, and its e-mail if one is given."""

    text: str
    email: str | None


@dataclass(frozen=True)
class Redirected:
    number: str
    due: dt.date  # registration + the term in working days
    late: bool
    mailed: tuple[str, ...]  # who got it by e-mail
    to_post: tuple[str, ...]  # what the clerk must send on paper


def target(text: str) -> Target:
    text = " ".join(text.split())
    if not text:
        raise Refused("укажите, куда перенаправить: организацию, её адрес или e-mail")
    found = _EMAIL.search(text)
    return Target(clean(text, 1000) or text[:1000], found.group(0).lower() if found else None)


def parse_reply(body: str) -> tuple[Target, str] | None:
    """The first line names the body, the following lines (or «Причина: …») the reason:

        ПЕРЕНАПРАВИТЬ: ТОО «Казахтелеком», info@telecom.kz
        Вопрос связи, не электроснабжения.

    None when the reply does not start with the word.
    """
    m = _WORD.match(body.strip())
    if not m:
        return None
    first, _, rest = body.strip()[m.end() :].partition("\n")
    found = re.split(r"\s*\bпричина\s*[:—-]\s*", first, maxsplit=1, flags=re.I)
    where = found[0]
    reason = " ".join((found[1] if len(found) > 1 else "", rest.strip())).strip()
    return target(where.strip().rstrip(".;,—- ")), reason


def due(rules: Rules, doc: Document) -> dt.date:
    registered = doc.registered_at.astimezone(KZ_TZ).date()
    return rules.calendar.add_working_days(registered, rules.deadlines.redirect_days)


def redirect(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    *,
    to: Target,
    reason: str,
    by: Actor,
    sender_addr: str,
    archive: Archive,
    now: dt.datetime,
    inbound_id: int | None = None,
) -> Redirected:
    if not reason.strip():
        raise Refused("нужна причина: почему вопрос вне компетенции организации")
    term = due(rules, doc)
    late = now.astimezone(KZ_TZ).date() > term
    transition.apply(
        s,
        head,
        doc,
        Act.REDIRECT,
        by,
        rules.workflow,
        now=now,
        inbound_id=inbound_id,
        to=to.text,
        to_email=to.email,
        reason=reason.strip(),
        due=term.isoformat(),
        late=late,
    )
    journal = rules.journal(doc.journal)
    context = dict(
        number=doc.number,
        registered_at=doc.registered_at.astimezone(KZ_TZ),
        organisation=journal.organisation,
        target=to.text,
        reason=reason.strip(),
        consumer_name=consumer_name(doc) or "—",
        address=doc.address,
        phone=doc.phone,
        email=doc.email,
    )
    mailed, to_post = [], []
    if to.email:
        subject, body = rules.render("redirect_cover", **context)
        out = outbox.compose(
            sender=sender_addr,
            to=(to.email,),
            subject=subject,
            body=body,
            kind="redirect_cover",
            key=f"redirect-cover:{doc.id}",
            number=doc.number,
            attachments=of_document(s, archive, doc),
        )
        outbox.queue(s, out, document_id=doc.id)
        mailed.append(to.email)
    else:
        to_post.append(f"сопроводительное письмо и обращение: {to.text}")
    notice = {k: v for k, v in context.items() if k != "number"}
    if notices.to_applicant(
        s,
        rules,
        "redirect_notice",
        doc=doc,
        key=f"redirect-notice:{doc.id}",
        sender_addr=sender_addr,
        **notice,
    ):
        mailed.append(doc.email)
    else:
        to_post.append(
            f"уведомление заявителю: {consumer_name(doc) or '—'}, {doc.address or 'адрес не указан'}"
        )
    notices.tell(
        s,
        rules,
        sender_addr=sender_addr,
        role="clerk",
        key=f"redirect:{doc.id}",
        title="Обращение перенаправлено по компетенции" + (": отправьте письма почтой" if to_post else ""),
        text=(
            f"{doc.number} перенаправлено: {to.text}. "
            + (f"Срок перенаправления ({term:%d.%m.%Y}) пропущен. " if late else "")
            + ("Отправьте почтой: " + "; ".join(to_post) + "." if to_post else "Письма отправлены по e-mail.")
        ),
        details=[("Причина", reason.strip()), ("Решение", by.address)],
        number=doc.number,
        document_id=doc.id,
    )
    return Redirected(doc.number, term, late, tuple(mailed), tuple(to_post))
