"""A reply carrying one of our tokens: a resolution (1.6) or a step of the
answer (section 3). Whether it may change the case is decided when it is
acted on (replies.authorize), under the journal lock."""

from __future__ import annotations

from ...automatic import why
from ...values import Disposition
from ..message import Hit, Journal, Message

NAME = "case_reply"
DISPOSITION = Disposition.REPLY


def check(m: Message, journal: Journal) -> Hit | None:
    ctx = journal.reply_token(m.parsed)
    if ctx is None:
        return None
    if why(m.parsed) and journal.replied_delivery(m.parsed) is not None:
        return None  # out of office, to a forwarded resolution: delivery_reply's (1.6)
    return Hit(f"answers our {ctx.token.purpose} message ({ctx.matched_by})", reply=ctx)
