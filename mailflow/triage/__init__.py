"""Triage: what a message is, decided once, by a chain of small rules.

After GNU Mailman's rules/ and chains/: `chain.CHAIN` is an ordered list of
rule modules under `rules/`, each with a NAME, the DISPOSITION it stands for
and `check(message, journal) -> reason | Hit | None`. The first rule that
matches decides, and the verdict records which rule and why (shown by
`mailflow journal inbound`). Reports and loops come first, so a bounce or
an auto-reply is never registered and never answered; replies that carry a
case come before anything could be taken for a new appeal.

Rules are pure functions of the message and of `Journal`, a read-only view
of what mailflow sent and registered (a fake of it is the one seam unit
tests need). Intake classifies once and acts on the verdict; it never
decides again.
"""

from .chain import CHAIN, classify
from .message import Hit, Journal, Message, Verdict

__all__ = ["CHAIN", "classify", "Hit", "Journal", "Message", "Verdict"]
