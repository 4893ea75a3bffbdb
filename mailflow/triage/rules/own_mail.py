"""Our own mail came back (a loop through a forward or an alias), or reached a
person who reads mailflow's own mailbox.

Ours is what carries our mark (X-Mailflow-Kind) or a Message-ID we sent, or
comes from one of our own addresses that is no person's. Mail from an own
address that a staff member has (the chancellery's clerk writing from the
mailbox mailflow reads) is that person's, and goes on down the chain. Our
notice to such a person comes back into this mailbox: it is left for them
(moved, unread, to the mailbox's notices folder) and never acted on, so no
notice ever causes another.
"""

from __future__ import annotations

from ...rules import address_key
from ...values import Disposition
from ..message import Hit, Journal, Message

NAME = "own_mail"
DISPOSITION = Disposition.LOOP


def check(m: Message, journal: Journal) -> str | Hit | None:
    p = m.parsed
    if "x-mailflow-kind" in p.header_names or journal.sent_by_us(p):
        to = (address_key(a) for a in (*p.to, *p.cc, *p.delivered_to))
        people = [a for a in to if a and a in m.own and m.rules.staff.by_email(a)]
        if people:
            return Hit(
                f"our mail to {people[0]}, who reads this mailbox: left for them",
                disposition=Disposition.STAFF,
            )
        return "our own mail came back"
    if p.from_addr in m.own and m.sender is None:
        return "from our own address"
    return None
