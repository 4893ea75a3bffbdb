"""The triage chain: rules in the order they are asked; the first match decides."""

from __future__ import annotations

from ..values import Disposition
from .message import Hit, Journal, Message, NoJournal, Verdict
from .rules import (
    appeal_words,
    auto_reply,
    case_reply,
    case_request,
    delivery_reply,
    document,
    intake_sender,
    mail_loop,
    no_sender,
    other_staff,
    own_mail,
    receipt,
    reply_to_our_mail,
    substitute,
    unreadable_report,
)

CHAIN = (
    receipt,  # a delivery report or read receipt one of receipts/detectors reads
    unreadable_report,  # looks like one, but no detector can read it: the clerk looks
    own_mail,  # our own mail came back
    mail_loop,  # too many Received headers
    substitute,  # «ЗАМЕЩАЕТ …» from staff: who stands in for whom (1.6)
    case_request,  # «ПРОДЛИТЬ ДО …» from staff, by a case's number or any of our letters
    case_reply,  # a reply carrying a case's token: a resolution or an answer step
    delivery_reply,  # an addressee answered a forwarded resolution (the ladder's last rung)
    auto_reply,  # out-of-office, lists, bulk: recorded, never answered
    reply_to_our_mail,  # "спасибо" to a talon: no new document
    intake_sender,  # a chief, the clerk, the website form: an appeal
    other_staff,  # staff, but not a reply mailflow understands
    no_sender,
    document,  # a scan or letter from an outside sender
    appeal_words,  # an appeal written in the message itself
)
NOTHING = ("nothing_matched", Disposition.REVIEW, "neither a document nor the wording of an appeal")


def classify(message: Message, journal: Journal | None = None) -> Verdict:
    journal = journal or NoJournal()
    for rule in CHAIN:
        found = rule.check(message, journal)
        if found is None:
            continue
        hit = found if isinstance(found, Hit) else Hit(found)
        return Verdict(
            hit.disposition or rule.DISPOSITION,
            hit.reason,
            rule.NAME,
            hit.receipt,
            hit.reply,
            hit.delivery_id,
        )
    name, disposition, reason = NOTHING
    return Verdict(disposition, reason, name)
