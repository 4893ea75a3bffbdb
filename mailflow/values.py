"""Typed values passed between the steps of the flow.

Each step takes and returns these frozen dataclasses, never loose dicts, so a
step's contract is visible in its signature.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from enum import Enum

KZ_TZ = dt.timezone(dt.timedelta(hours=5), "UTC+05")


def now_kz() -> dt.datetime:
    return dt.datetime.now(KZ_TZ)


@dataclass(frozen=True)
class Attachment:
    """One file taken out of a message (or handed to `mailflow register`)."""

    filename: str  # safe display name, never a path
    content_type: str
    data: bytes
    sha256: str


@dataclass(frozen=True)
class ParsedMessage:
    """What intake understood of one raw message."""

    message_id: str | None
    subject: str
    from_addr: str  # lower-case address, "" when none could be read
    from_name: str
    reply_to: str | None
    to: tuple[str, ...]
    date: dt.datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    auto_submitted: str | None
    precedence: str | None
    content_type: str  # of the top-level part
    body_text: str
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...]
    header_names: frozenset[str] = frozenset()  # lower-case names present
    report_type: str | None = None  # of a multipart/report: delivery-status, ...
    received_count: int = 0  # Received: headers, to spot loops
    cc: tuple[str, ...] = ()
    delivered_to: tuple[str, ...] = ()  # Delivered-To, X-Original-To: where a +token shows
    authentication_results: tuple[str, ...] = ()  # raw header values, newest first
    dkim_verified: tuple[str, ...] | None = None  # domains whose DKIM mailflow verified; None: not checked


class Disposition(str, Enum):
    """Triage's answer: what a message is, and so what happens to it."""

    APPEAL = "appeal"
    DSN = "dsn"
    MDN = "mdn"
    AUTO_REPLY = "auto_reply"
    LOOP = "loop"
    STAFF = "staff"  # our own mail to a person who reads this very mailbox: theirs, never acted on
    REPLY = "reply"  # an answer to our own mail that carries a case (a resolution)
    REQUEST = "request"  # staff asking about a case by its number or any of our letters («ПРОДЛИТЬ ДО …»)
    REVIEW = "review"  # anything else: the clerk looks at it


@dataclass(frozen=True)
class Triage:
    disposition: Disposition
    reason: str


@dataclass(frozen=True)
class Consumer:
    last_name: str | None = None
    first_name: str | None = None
    patronymic: str | None = None
    address: str | None = None
    phone: str | None = None  # E.164
    email: str | None = None
    org_name: str | None = None
    outgoing_number: str | None = None
    outgoing_date: dt.date | None = None

    def as_export(self) -> dict:
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.isoformat() if isinstance(v, dt.date) else v
        return out


# The applicant's fields, as the export names them (one owner: the dataclass above).
CONSUMER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Consumer))


@dataclass(frozen=True)
class AttachmentInfo:
    """An attachment as the journal records it."""

    filename: str
    sha256: str
    content_type: str
    pages: int
    ocr_confidence: float | None  # mean word confidence 0..100; None if not OCRed
    text_source: str  # "text-layer" | "ocr" | "body" | "none" | "skipped"
    note: str | None = None  # why a file was skipped or is unreadable


@dataclass(frozen=True)
class FieldCrop:
    """Where on a scan a field nobody could read is written: page `page` (from 0) of
    the archived file `sha256`, `box` = (left, top, right, bottom) as fractions of
    the page. The card shows that piece beside the field's input box."""

    sha256: str
    page: int
    box: tuple[float, float, float, float]

    def as_json(self) -> dict:
        return {"sha256": self.sha256, "page": self.page, "box": list(self.box)}


@dataclass(frozen=True)
class Recognition:
    """The fields read from a message: each is a value or None (never guessed).

    `confidence` maps a field name (consumer fields by their own name) to 0..1;
    `needs_review` names the fields a clerk must look at.
    """

    kind: str | None = None
    group: int | None = None
    consumer: Consumer = field(default_factory=Consumer)
    book_entry_at: dt.datetime | None = None
    origin_unit: str | None = None
    attachments: tuple[AttachmentInfo, ...] = ()
    text: str = ""
    confidence: dict[str, float] = field(default_factory=dict)
    # where each field was read and why it reads so, for the person checking the card
    evidence: dict[str, str] = field(default_factory=dict)
    needs_review: tuple[str, ...] = ()
    ocr_seconds: float = 0.0
    # the fields left unread because the scan is handwriting: where on it they are written
    crops: dict[str, FieldCrop] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    """Where a message came from: (mailbox, UIDVALIDITY, UID) is its identity."""

    mailbox: str
    uidvalidity: str
    uid: str
