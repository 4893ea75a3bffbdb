"""An addressee answered the forwarded resolution without a new document:
proof that they have it (the ladder's last rung), and the clerk reads it. An
automatic answer (out of office) is no such proof: it is an auto-reply about
that delivery (resolution.away_answered)."""

from __future__ import annotations

from ...automatic import why
from ...values import Disposition
from ..message import Hit, Journal, Message

NAME = "delivery_reply"
DISPOSITION = Disposition.REPLY


def check(m: Message, journal: Journal) -> Hit | None:
    if m.scans:
        return None  # a new scan in the thread is a new document
    delivery = journal.replied_delivery(m.parsed)
    if delivery is None:
        return None
    machine = why(m.parsed)
    if machine:  # out of office: no proof they have it; the clerk and a stand-in act (1.6)
        return Hit(
            f"an automatic answer to a forwarded resolution: {machine}",
            disposition=Disposition.AUTO_REPLY,
            delivery_id=delivery,
        )
    return Hit("answers a forwarded resolution", delivery_id=delivery)
