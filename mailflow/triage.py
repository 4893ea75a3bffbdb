"""Triage: decide what a message is. Pure: no I/O, no database.

Order matters: reports and loops are recognised before anything could be
mistaken for an appeal, so a bounce or an auto-reply is never registered and
never answered.
"""
from __future__ import annotations

import re

from .rules import Person, Rules
from .values import Disposition, ParsedMessage, Triage

INTAKE_ROLES = frozenset({"res_chief", "ruse_chief", "service_center_chief", "clerk",
                          "website_form", "contact_center"})
DOCUMENT_TYPES = ("application/pdf", "image/")
_BOUNCE_FROM = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status|failure|has failed)|returned mail|failure notice|"
    r"mail delivery failed|delivery status notification|недоставлен|не доставлен|"
    r"could not send message|mail system error", re.I)
_AUTO_SUBJECT = re.compile(
    r"^(auto(matic)?[ -]?reply|autoreply|out of (the )?office|автоответ|автоматический ответ|"
    r"нет на месте|в отпуске)", re.I)
_APPEAL_WORDS = re.compile(
    r"жалоб|претензи|заявлени|обращени|отзыв|предложени|прошу|просим|исх\.?\s*№|"
    r"шағым|арыз|өтініш|пікір|ұсыныс", re.I)


def classify(msg: ParsedMessage, sender: Person | None, rules: Rules,
             own_addresses: frozenset[str]) -> Triage:
    if msg.report_type == "delivery-status" or _is_plain_bounce(msg):
        return Triage(Disposition.DSN, "delivery status notification")
    if msg.report_type == "disposition-notification":
        return Triage(Disposition.MDN, "read receipt (message disposition notification)")
    if msg.from_addr in own_addresses or "x-mailflow-kind" in msg.header_names:
        return Triage(Disposition.LOOP, "our own mail came back")
    if msg.received_count > rules.max_received_headers:
        return Triage(Disposition.LOOP, f"{msg.received_count} Received headers: a mail loop")
    auto = _auto_reason(msg)
    if auto:
        return Triage(Disposition.AUTO_REPLY, auto)
    if sender and sender.roles & INTAKE_ROLES:
        return Triage(Disposition.APPEAL, f"from {', '.join(sorted(sender.roles & INTAKE_ROLES))}")
    if sender:
        return Triage(Disposition.REVIEW, f"from staff ({', '.join(sorted(sender.roles))}) "
                                          "but not a reply mailflow understands")
    if not msg.from_addr:
        return Triage(Disposition.REVIEW, "no readable sender address")
    if any(a.content_type.startswith(DOCUMENT_TYPES) for a in msg.attachments):
        return Triage(Disposition.APPEAL, "a document from an outside sender")
    if _APPEAL_WORDS.search(f"{msg.subject}\n{msg.body_text[:5000]}"):
        return Triage(Disposition.APPEAL, "an appeal written in the message")
    return Triage(Disposition.REVIEW, "neither a document nor the wording of an appeal")


def _is_plain_bounce(msg: ParsedMessage) -> bool:
    """Bounces without a delivery-status part (qmail, old Gmail, Exim, Mail.ru)."""
    return bool(_BOUNCE_FROM.match(msg.from_addr or "") and _BOUNCE_SUBJECT.search(msg.subject)) \
        or (not msg.from_addr and bool(_BOUNCE_SUBJECT.search(msg.subject)))


def _auto_reason(msg: ParsedMessage) -> str | None:
    if msg.auto_submitted and msg.auto_submitted != "no":
        return f"Auto-Submitted: {msg.auto_submitted}"
    if msg.precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {msg.precedence}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress"):
        if name in msg.header_names and name != "x-auto-response-suppress":
            return f"{name} header"
    if "list-id" in msg.header_names or "list-unsubscribe" in msg.header_names:
        return "mailing-list message"
    if _AUTO_SUBJECT.search(msg.subject):
        return "auto-reply subject"
    return None
