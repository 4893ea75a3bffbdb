"""Mailboxes: the single seam between mailflow and where mail waits.

A message's identity is its Source (mailbox, UIDVALIDITY, UID). Intake moves
a message to the Processed (or Quarantine) folder only after the transaction
that recorded it has committed; a crash in between leaves it in place, and
the next pass finds it already recorded and only moves it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..config import MailboxConfig
from ..values import Source


class MessageGone(FileNotFoundError):
    """The message left the folder since it was listed (another daemon took it)."""


@dataclass(frozen=True)
class Fetched:
    source: Source
    raw: bytes
    received_at: dt.datetime  # the server's time of arrival (INTERNALDATE, mtime)


class Mailbox(Protocol):
    name: str

    def open(self) -> None:
        """Connect (or check the folder); raises OSError on failure."""

    def close(self) -> None: ...

    def pending(self) -> list[Source]:
        """Messages waiting in the watched folder, oldest first."""

    def fetch(self, source: Source) -> Fetched:
        """The raw message; raises MessageGone if it is no longer there."""

    def fetch_many(self, sources: Sequence[Source], budget: int) -> dict[Source, Fetched | None]:
        """The first of `sources` (one at least; as many as fit in `budget` bytes where a
        round trip is worth saving): {source: Fetched, or None if it is gone}."""

    def move(self, sources: Source | Sequence[Source], folder: str, *, unread: bool = False) -> None:
        """Move messages out of the watched folder, creating `folder` if needed.

        Idempotent: a message already gone is skipped. `unread`: a person is to
        read them there (mailflow's reading never marks a message seen).
        """

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Block until new mail may have arrived, `timeout` passed or `stop` is set."""


def open_mailbox(cfg: MailboxConfig) -> Mailbox:
    if cfg.endpoint.scheme == "maildir":
        from .maildir import MaildirMailbox

        return MaildirMailbox(cfg)
    from .imap import ImapMailbox

    return ImapMailbox(cfg)
