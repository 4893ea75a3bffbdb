"""The talon (regulation 1.4): who gets it and what it says. Pure decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .case.queries import consumer_name
from .models import Document
from .outbox import Outgoing, compose
from .rules import Journal, Person, Rules
from .values import KZ_TZ, ParsedMessage, Recognition
from .vocabulary import WEBSITE_FORM

NO_REPLY = ("noreply", "no-reply", "donotreply", "do-not-reply", "mailer-daemon", "postmaster")


def recipients(
    msg: ParsedMessage | None, sender: Person | None, rec: Recognition, own: frozenset[str]
) -> tuple[str, ...]:
    """Who gets the talon.

    Mail from staff: the sender and the consumer's e-mail read from the form
    (the utility's own chiefs brought it); the website form: its Reply-To.
    Mail from a stranger: their From address alone, never a Reply-To or an
    address written in the body, so nobody can make mailflow write to a third
    party.
    """
    out: list[str] = []
    if msg is not None:
        if sender and WEBSITE_FORM in sender.roles:
            out.append(msg.reply_to or "")
        else:
            out.append(msg.from_addr)
    if sender is not None or msg is None:
        out.append(rec.consumer.email or "")
    seen: list[str] = []
    for a in (x.strip().lower() for x in out):
        if "@" in a and a not in seen and a not in own and not a.split("@")[0].startswith(NO_REPLY):
            seen.append(a)
    return tuple(seen)


def is_backlog(received_at: dt.datetime, max_age_days: int, now: dt.datetime | None = None) -> bool:
    now = now or dt.datetime.now(dt.UTC)
    return now - received_at > dt.timedelta(days=max_age_days)


@dataclass(frozen=True)
class Facts:
    """What a talon says, whether e-mailed or printed: one template renders both."""

    number: str
    registered_at: dt.datetime
    received_at: dt.datetime | None
    kind: str | None
    consumer_name: str | None
    source_subject: str | None = None
    source_date: dt.datetime | None = None


def text(rules: Rules, journal: Journal, facts: Facts, *, printed: bool = False) -> tuple[str, str]:
    """(subject, body) of the talon from `rules/templates/talon.*.j2`; `printed`: the
    paper handed over at the desk (no "sent automatically", a line for the clerk's signature)."""
    registered = facts.registered_at.astimezone(KZ_TZ)
    received = facts.received_at.astimezone(KZ_TZ) if facts.received_at else None
    return rules.render(
        "talon",
        number=facts.number,
        registered_at=registered,
        received_at=received if received and received.date() != registered.date() else None,
        journal_title=journal.title,
        organisation=journal.organisation,
        kind=facts.kind,
        consumer_name=facts.consumer_name,
        source_subject=facts.source_subject,
        source_date=facts.source_date,
        printed=printed,
    )


def of_document(doc: Document) -> Facts:
    """A registered case's talon, to print (again): the applicant's own letter is not quoted."""
    return Facts(doc.number, doc.registered_at, doc.received_at, doc.kind, consumer_name(doc))


def compose_talon(
    rules: Rules,
    journal: Journal,
    *,
    number: str,
    registered_at: dt.datetime,
    document_id: int,
    to: str,
    sender_addr: str,
    msg: ParsedMessage | None,
    rec: Recognition,
    received_at: dt.datetime | None = None,
    quote: bool = True,
) -> Outgoing:
    """`quote`: name the letter's subject (not for strangers: their words are not repeated)."""
    facts = Facts(
        number=number,
        registered_at=registered_at,
        received_at=received_at,
        kind=rec.kind,
        consumer_name=consumer_name(rec.consumer, rec.group),
        source_subject=msg.subject if msg and quote else None,
        source_date=msg.date if msg else None,
    )
    subject, body = text(rules, journal, facts)
    return compose(
        sender=sender_addr,
        to=(to,),
        subject=subject,
        body=body,
        kind="talon",
        key=f"talon:{document_id}:{to}",
        number=number,
        in_reply_to=msg.message_id if msg else None,
        references=msg.references if msg else (),
    )
