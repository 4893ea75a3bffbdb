"""Typed facts read from delivery reports (DSN) and read receipts (MDN).

Everything here is a frozen dataclass: parsing yields values, never loose
dicts. Unknown values are ``None`` (or an empty tuple), never guessed.

Vocabulary (RFC 3464 section 2.3.3, RFC 8098 section 3.2.6):

* ``RecipientStatus.action``: ``delivered`` (in the recipient's mailbox),
  ``relayed`` (handed to a system that sends no further reports: NOT proof of
  delivery), ``expanded`` (delivered to a list or alias that forwards it),
  ``delayed`` (still trying), ``failed`` (given up).
* ``RecipientStatus.permanent``: ``True`` when the reporting system has given
  up for good (Action failed; or, with no Action, a 5.x.x status), ``False``
  when it is still trying (Action delayed; or, with no Action, a 4.x.x
  status), ``None`` for success actions or when nothing says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

ACTIONS = ("delivered", "relayed", "expanded", "delayed", "failed")
DISPOSITIONS = ("displayed", "deleted", "dispatched", "processed")
SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded"})


@dataclass(frozen=True)
class RecipientStatus:
    """One per-recipient field group of a DSN (or one recipient of a text bounce).

    Addresses are given without their address type (``rfc822;``) and as written.
    """

    final_recipient: str | None
    original_recipient: str | None
    action: str | None  # 'delivered'|'relayed'|'expanded'|'delayed'|'failed', lower-case
    status: str | None  # enhanced status code only, e.g. '5.1.1' (comments dropped)
    diagnostic: str | None  # e.g. 'smtp; 550 5.1.1 User unknown', unfolded
    remote_mta: str | None  # host name, address type dropped
    permanent: bool | None

    @property
    def delivered(self) -> bool:
        """Proof of delivery into the mailbox: only Action ``delivered``.

        ``relayed`` and ``expanded`` mean the message left the reporting
        system's hands; they are not proof that the addressee has it.
        """
        return self.action == "delivered"

    @property
    def failed(self) -> bool:
        return self.action == "failed" or (self.action is None and self.permanent is True)


@dataclass(frozen=True)
class DeliveryReport:
    recipients: tuple[RecipientStatus, ...]
    envelope_id: str | None  # Original-Envelope-Id (the ENVID we sent)
    reporting_mta: str | None
    arrival_date: dt.datetime | None
    detector: str  # name of the detector module that read it, e.g. 'rfc3464', 'qmail'


@dataclass(frozen=True)
class ReadReceipt:
    disposition: str  # 'displayed'|'deleted'|'dispatched'|'processed'|(legacy) 'denied'|'failed'
    mode: str | None  # 'manual-action'|'automatic-action'; None only for plain-text receipts
    sending: str | None  # 'MDN-sent-manually'|'MDN-sent-automatically'; None as above
    final_recipient: str | None  # address type dropped
    original_recipient: str | None
    original_message_id: str | None  # '<id@host>'
    reporting_ua: str | None
    detector: str
    modifiers: tuple[str, ...] = ()  # e.g. ('error',), lower-case


@dataclass(frozen=True)
class Evidence:
    """What ties a report to the message it is about (matching is not done here).

    ``original_message_ids`` lists, without repeats and in this order: the
    MDN's Original-Message-ID, a DSN's X-Original-Message-ID (Gmail), then the
    Message-ID of the returned headers / enclosed original (never one quoted in
    a transcript or body). ``in_reply_to``/``references`` are the report's own
    headers. ``original_*`` come from the returned headers, else from a
    receipt's human-readable text (Outlook "To:/Subject:/Sent:"), else (subject
    only) from Thread-Topic or the report's subject without its "Read:" prefix.
    ``original_date`` is timezone-aware when the source gave a zone.
    """

    envelope_id: str | None
    original_message_ids: tuple[str, ...]
    in_reply_to: str | None
    references: tuple[str, ...]
    original_subject: str | None
    original_from: str | None  # address
    original_to: tuple[str, ...]  # addresses, or display names when only names are given
    original_date: dt.datetime | None
    report_from: str | None = None  # address in the report's own From
    report_date: dt.datetime | None = None  # the report's own Date

    @property
    def usable(self) -> bool:
        """Carries an identifier that matches exactly: an envelope id or a message id."""
        return bool(self.envelope_id or self.original_message_ids or self.in_reply_to or self.references)


@dataclass(frozen=True)
class Receipt:
    kind: Literal["dsn", "mdn"]
    report: DeliveryReport | ReadReceipt
    evidence: Evidence
