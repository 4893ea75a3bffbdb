"""What the triage rules look at, and what they answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..rules import Person, Rules
from ..values import Disposition, ParsedMessage

if TYPE_CHECKING:
    from ..receipts import Receipt
    from ..replies import ReplyContext


@dataclass(frozen=True)
class Message:
    """One message as triage sees it."""

    raw: bytes
    parsed: ParsedMessage
    sender: Person | None  # the staff member its From address is, if any
    rules: Rules
    own: frozenset[str]  # mailflow's own addresses

    @property
    def scans(self) -> bool:
        """It carries a scan or PDF (a document), not only words."""
        from ..scans import is_scan

        return any(is_scan(a.content_type) for a in self.parsed.attachments)


class Journal(Protocol):
    """What triage may ask the journal (read only)."""

    def reply_token(self, msg: ParsedMessage) -> ReplyContext | None:
        """The one-time token of ours this message answers (a resolution, an answer step)."""

    def replied_delivery(self, msg: ParsedMessage) -> int | None:
        """The forwarded resolution (delivery id) this message answers."""

    def answers_our_mail(self, msg: ParsedMessage) -> bool:
        """It answers any message mailflow sent (a talon, a notice)."""

    def sent_by_us(self, msg: ParsedMessage) -> bool:
        """It is a message mailflow sent (its Message-ID is one of the outbox's)."""


class NoJournal:
    """An empty journal: nothing was ever sent (pure classification, tests)."""

    def reply_token(self, msg: ParsedMessage) -> None:
        return None

    def replied_delivery(self, msg: ParsedMessage) -> None:
        return None

    def answers_our_mail(self, msg: ParsedMessage) -> bool:
        return False

    def sent_by_us(self, msg: ParsedMessage) -> bool:
        return False


@dataclass(frozen=True)
class Hit:
    """A rule's match with what it found, for the step that acts on it."""

    reason: str
    receipt: Receipt | None = None
    reply: ReplyContext | None = None
    delivery_id: int | None = None
    disposition: Disposition | None = None  # when not the rule's own (an MDN, say)


@dataclass(frozen=True)
class Verdict:
    disposition: Disposition
    reason: str
    rule: str  # the rule that decided
    receipt: Receipt | None = None  # DSN, MDN: the report as read
    reply: ReplyContext | None = None  # REPLY to a case: its token
    delivery_id: int | None = None  # REPLY to a forwarded resolution

    @property
    def why(self) -> str:
        """ "rule: reason", as the journal shows it."""
        return f"{self.rule}: {self.reason}"
