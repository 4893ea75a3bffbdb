"""An addressee answered the forwarded resolution without a new document:
proof that they have it (the ladder's last rung), and the clerk reads it."""

from __future__ import annotations

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
    return Hit("answers a forwarded resolution", delivery_id=delivery)
