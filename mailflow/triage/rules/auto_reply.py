"""Auto-replies, bulk and list mail: recorded, never answered.

A form that writes appeals (the website's, the contact centre's: vocabulary.
FORM_ROLES) marks them Auto-Submitted: auto-generated, as a machine's mail
should; from those senders that mark alone does not make an auto-reply.
"""

from __future__ import annotations

import dataclasses

from ...automatic import why
from ...values import Disposition
from ...vocabulary import FORM_ROLES
from ..message import Journal, Message

NAME = "auto_reply"
DISPOSITION = Disposition.AUTO_REPLY


def check(m: Message, journal: Journal) -> str | None:
    reason = why(m.parsed)
    if reason and _a_forms_appeal(m):
        return None
    return reason


def _a_forms_appeal(m: Message) -> bool:
    marked = (m.parsed.auto_submitted or "").split(";")[0].strip().lower()
    if m.sender is None or not m.sender.roles & FORM_ROLES or marked != "auto-generated":
        return False
    return why(dataclasses.replace(m.parsed, auto_submitted=None)) is None
