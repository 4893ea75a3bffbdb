"""The journal's tables (SQLModel). Schema changes go through Alembic.

All timestamps are timezone-aware: stored in UTC, shown in UTC+5.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from .case.states import OPEN, State


class AwareDateTime(TypeDecorator):
    """Timezone-aware on both SQLite (which drops the offset) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the journal")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# Open cases (case.states.OPEN), with literal values so that PostgreSQL matches
# the partial indexes below under generic (prepared) plans too.
OPEN_SQL = "status IN (" + ", ".join(f"'{s.value}'" for s in sorted(OPEN, key=lambda s: s.value)) + ")"
INBOUND_KEY = "uq_inbound_key"  # a message seen twice: the one IntegrityError that is a lost race
UNPROVEN_SQL = "delivered_at IS NULL AND displayed_at IS NULL AND replied_at IS NULL"
# still to be reported as unproven (1.12): the sweep's whole working set, however long the history
AWAITING_PROOF_SQL = UNPROVEN_SQL + " AND failed_at IS NULL AND unproven_reported_at IS NULL"


class _HasId(Protocol):
    id: int | None


def id_of(row: _HasId) -> int:
    """The id of a row that has been flushed (SQLModel types every id as Optional)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush the session first")
    return row.id


def _ts(**kw):
    return Field(sa_type=AwareDateTime, **kw)


class Inbound(SQLModel, table=True):
    """Every message fetched from a mailbox, whatever became of it."""

    __tablename__ = "inbound"
    __table_args__ = (sa.UniqueConstraint("mailbox", "uidvalidity", "uid", name=INBOUND_KEY),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=200)
    uidvalidity: str = Field(max_length=64)
    uid: str = Field(max_length=255)
    message_id: str | None = Field(default=None, max_length=998, index=True)
    sha256: str = Field(max_length=64, index=True)
    size: int = 0
    from_addr: str | None = Field(default=None, max_length=320)
    subject: str | None = None
    received_at: dt.datetime = _ts()  # mail server's time (INTERNALDATE)
    fetched_at: dt.datetime = _ts()
    disposition: str = Field(max_length=32)  # triage result
    rule: str | None = Field(default=None, max_length=500)  # the triage rule that decided, and why
    status: str = Field(max_length=32, index=True)  # registered|linked|recorded|review|quarantined
    reason: str | None = None
    traceback: str | None = None
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)


class Document(SQLModel, table=True):
    """A registered appeal: one line of the Journal of incoming documents."""

    __tablename__ = "document"
    __table_args__ = (
        sa.UniqueConstraint("journal", "year", "seq", name="uq_document_number"),
        # open cases by due date: the reminder sweep, overdue lists, the weekly report
        sa.Index(
            "ix_document_open_due",
            "due_date",
            postgresql_where=sa.text(OPEN_SQL),
            sqlite_where=sa.text(OPEN_SQL),
        ),
        # answers sent lately (the copy chase, 3.8): not every answered case of the history
        sa.Index("ix_document_status_answered_at", "status", "answered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    journal: str = Field(max_length=32)
    year: int
    seq: int
    number: str = Field(max_length=64, unique=True)
    registered_at: dt.datetime = _ts(index=True)
    received_at: dt.datetime = _ts()
    kind: str | None = Field(default=None, max_length=32)
    grp: int | None = None
    channel: str = Field(max_length=32)
    origin_unit: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    first_name: str | None = Field(default=None, max_length=200)
    patronymic: str | None = Field(default=None, max_length=200)
    address: str | None = None
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=320)
    org_name: str | None = None
    outgoing_number: str | None = Field(default=None, max_length=100)
    outgoing_date: dt.date | None = None
    book_entry_at: dt.datetime | None = _ts(default=None, nullable=True)
    source_message_id: str | None = Field(default=None, max_length=998)
    source_from: str | None = Field(default=None, max_length=320)
    source_subject: str | None = None
    sha256: str = Field(max_length=64, index=True)
    needs_review: str = "[]"  # JSON list of field names
    confidence: str = "{}"  # JSON {field: 0..1}
    evidence: str = Field(default="{}", sa_column_kwargs={"server_default": "{}"})  # JSON {field: where read}
    # JSON {field: {"sha256", "page", "box"}}: where a field left unread (handwriting) is on the scan
    crops: str = Field(default="{}", sa_column_kwargs={"server_default": "{}"})
    # the case's state and answer stage: written only by case.transition.apply
    status: str = Field(default=State.REGISTERED.value, max_length=32, index=True)
    stage: str | None = Field(default=None, max_length=32, index=True)  # rules/answer.toml
    due_date: dt.date | None = Field(default=None, index=True)  # in force: law, resolution, extension
    answered_at: dt.datetime | None = _ts(default=None, nullable=True, index=True)  # sent (3.7)
    closed_at: dt.datetime | None = _ts(default=None, nullable=True, index=True)
    pr_forwarded_at: dt.datetime | None = _ts(default=None, nullable=True)  # 2.1: Book → PR
    talon: bool = True  # False when registered in backlog mode
    text: str = ""
    search: str = Field(default="", sa_type=sa.Text)  # case.search.search_text: folded fields, kept with them
    # case.search.applicant_key: folded surname and first name, to find the same person's repeats
    applicant: str | None = Field(default=None, max_length=420, index=True)
    repeat_of: int | None = Field(
        default=None, index=True
    )  # the first case a repeat is linked to (reversible)


class DocAttachment(SQLModel, table=True):
    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    filename: str
    sha256: str = Field(max_length=64, index=True)
    content_type: str = Field(max_length=255)
    pages: int = 0
    ocr_confidence: float | None = None
    text_source: str = Field(max_length=32)
    note: str | None = None


class Chase(SQLModel, table=True):
    """One reminder, escalation, breach notice or report, sent at most once.

    The unique key (case, kind, slot) is written in the transaction that
    queues its mail: a restart, a clock jump or two daemons sweeping at once
    never send it twice, and a daemon that was down catches up once.
    """

    __tablename__ = "chase"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)
    # before | due | overdue | escalation | book_breach | … ("weekly" rows predate 0017: now WeeklyReport)
    kind: str = Field(max_length=32)
    document_id: int | None = Field(default=None, index=True)
    slot: str = Field(max_length=64)
    created_at: dt.datetime = _ts()


# an extension the applicant has not yet been told of: the sweep's whole working set
UNTOLD_SQL = "applicant_told_at IS NULL"


class ChaseMark(SQLModel, table=True):
    """The reminder sweep planned this case today, with this due date (a cache).

    The minute sweep plans only the open cases without today's mark for their
    due date in force, so a new resolution or an extension (a new due date) is
    planned again at once. Kept apart from `document` so that marking the day's
    few thousand cases writes a narrow table with one index, not every index of
    the journal (the search trigrams among them). No foreign key: a cache, and
    a key check would lock each document row. Holds one day's marks: the first
    sweep of a day deletes the days before.
    """

    __tablename__ = "chase_mark"

    document_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    day: dt.date  # planned on (the local day)
    due_date: dt.date  # with this due date


class Extension(SQLModel, table=True):
    """A head's reasoned decision to extend the term (АППК art. 76 p. 2), and how the
    applicant was told of it (within 3 working days: by e-mail, or the clerk's letter)."""

    __tablename__ = "extension"
    __table_args__ = (
        sa.Index(
            "ix_extension_untold",
            "created_at",
            postgresql_where=sa.text(UNTOLD_SQL),
            sqlite_where=sa.text(UNTOLD_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(index=True)
    old_due: dt.date
    new_due: dt.date
    reason: str
    author: str = Field(max_length=320)
    created_at: dt.datetime = _ts()
    tell_applicant_by: dt.date
    applicant_told_at: dt.datetime | None = _ts(default=None, nullable=True)
    applicant_told_how: str | None = Field(default=None, max_length=1000)  # "e-mail …", the clerk's words
    applicant_told_by: str | None = Field(default=None, max_length=320)


class AbsenceRow(SQLModel, table=True):
    """An absence set by e-mail («ЗАМЕЩАЕТ …»): who stands in for whom, until when (1.6).
    Those planned in rules/staff.toml are not here; `substitutes` reads both."""

    __tablename__ = "absence"

    id: int | None = Field(default=None, primary_key=True)
    person: str = Field(max_length=320, index=True)
    substitute: str = Field(max_length=320)
    since: dt.date
    until: dt.date = Field(index=True)
    set_by: str = Field(max_length=320)
    set_at: dt.datetime = _ts()
    inbound_id: int | None = None


class ExtensionRequest(SQLModel, table=True):
    """A unit head's request to extend the term («ПРОДЛИТЬ ДО …»), until management decides."""

    __tablename__ = "extension_request"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(index=True)
    requested_by: str = Field(max_length=320)
    until: dt.date
    reason: str
    inbound_id: int | None = None
    created_at: dt.datetime = _ts()
    status: str = Field(default="pending", max_length=16)  # pending | approved | refused
    decided_by: str | None = Field(default=None, max_length=320)
    decided_at: dt.datetime | None = _ts(default=None, nullable=True)
    note: str | None = None  # management's words with the decision
    extension_id: int | None = None  # the extension it became


class Counter(SQLModel, table=True):
    """The last incoming number given, per journal and year."""

    __tablename__ = "counter"

    journal: str = Field(primary_key=True, max_length=32)
    year: int = Field(primary_key=True)
    last: int = 0


class Event(SQLModel, table=True):
    """Append-only, hash-chained record of everything that happened."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _ts()
    type: str = Field(max_length=64, index=True)
    document_id: int | None = Field(default=None, index=True)
    inbound_id: int | None = Field(default=None, index=True)
    data: str = "{}"  # canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class ChainHead(SQLModel, table=True):
    """One row, locked by every writer so the event chain never forks."""

    __tablename__ = "chain_head"

    id: int = Field(default=1, primary_key=True)
    last_event_id: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)


class MailboxLease(SQLModel, table=True):
    """Which daemon reads a mailbox, until when (mailflow/leases.py).

    `fence` grows on every take-over: a commit made under an older fence is
    refused, so a daemon that lost the mailbox cannot record what it read."""

    __tablename__ = "mailbox_lease"

    mailbox: str = Field(primary_key=True, max_length=200)
    holder: str = Field(max_length=255)  # node id: MAILFLOW_NODE or hostname, with pid and start
    fence: int = 0
    taken_at: dt.datetime = _ts()
    renewed_at: dt.datetime = _ts()
    expires_at: dt.datetime = _ts()


class ArchiveBlob(SQLModel, table=True):
    """Raw messages and attachments by sha256, where every daemon reaches them
    (archive.DatabaseArchive, chosen when the journal is on PostgreSQL)."""

    __tablename__ = "archive_blob"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    data: bytes = Field(sa_type=sa.LargeBinary)
    stored_at: dt.datetime = _ts()


class Outbox(SQLModel, table=True):
    """Mail to send, written in the same transaction as what caused it."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)  # (cause, kind, recipient): never twice
    kind: str = Field(max_length=32)  # talon|quarantine|review|...
    document_id: int | None = Field(default=None, index=True)
    inbound_id: int | None = Field(default=None, index=True)
    recipients: str  # JSON list
    message_id: str = Field(max_length=998, index=True)
    raw: bytes = Field(sa_type=sa.LargeBinary)
    status: str = Field(default="pending", max_length=16)  # pending|sent|failed|cancelled
    attempts: int = 0
    next_attempt_at: dt.datetime = _ts(index=True)
    claimed_by: str | None = Field(default=None, max_length=255)  # host:pid:start of the sender
    envelope_id: str | None = Field(default=None, max_length=100)  # DSN ENVID; None: no DSN asked
    created_at: dt.datetime = _ts()
    sent_at: dt.datetime | None = _ts(default=None, nullable=True)
    last_error: str | None = None
    smtp_reply: str | None = None


class Token(SQLModel, table=True):
    """A one-time reply token: who may answer which message, until when."""

    __tablename__ = "token"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True)
    purpose: str = Field(max_length=32)  # resolution | answer | extension… | report_review | report_signoff
    holder: str | None = Field(default=None, max_length=320)  # the one person it was sent to
    document_id: int | None = Field(default=None, index=True)  # the case; None: a weekly report's
    report_id: int | None = Field(default=None, index=True)  # the weekly report (2.13) it answers
    message_id: str = Field(max_length=998, index=True)  # the message that carried it
    created_at: dt.datetime = _ts()
    expires_at: dt.datetime = _ts()
    used_at: dt.datetime | None = _ts(default=None, nullable=True)
    used_by: str | None = Field(default=None, max_length=320)


class Resolution(SQLModel, table=True):
    """Management's resolution on an appeal (regulation 1.5–1.6, 2.6)."""

    __tablename__ = "resolution"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(index=True)
    text: str
    instruction: str = ""
    due_date: dt.date
    due_source: str  # "resolution" (written in it) or the statutory rule cited
    author: str = Field(max_length=320)
    author_name: str | None = None
    source: str = Field(max_length=16)  # email | paper
    inbound_id: int | None = None
    created_at: dt.datetime = _ts()
    current: bool = True  # a later correction supersedes it


class Assignment(SQLModel, table=True):
    """An addressee of a resolution; position 1 is responsible (regulation 3.3)."""

    __tablename__ = "assignment"

    id: int | None = Field(default=None, primary_key=True)
    resolution_id: int = Field(index=True)
    document_id: int = Field(index=True)
    position: int
    email: str = Field(max_length=320)
    name: str


class Delivery(SQLModel, table=True):
    """One forwarded message to one addressee, and its proof of receipt."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.Index(
            "ix_delivery_unproven",
            "created_at",
            postgresql_where=sa.text(UNPROVEN_SQL),
            sqlite_where=sa.text(UNPROVEN_SQL),
            postgresql_include=["document_id", "resolution_id"],
        ),
        sa.Index(
            "ix_delivery_awaiting_proof",
            "accepted_at",
            postgresql_where=sa.text(AWAITING_PROOF_SQL),
            sqlite_where=sa.text(AWAITING_PROOF_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(index=True)
    resolution_id: int | None = Field(default=None, index=True)
    outbox_id: int = Field(index=True)
    to_addr: str = Field(max_length=320, index=True)
    envelope_id: str = Field(max_length=100, unique=True)
    message_id: str = Field(max_length=998, index=True)
    subject: str
    created_at: dt.datetime = _ts()
    smtp_code: int | None = None
    smtp_reply: str | None = None
    queue_id: str | None = Field(default=None, max_length=100)
    accepted_at: dt.datetime | None = _ts(default=None, nullable=True)
    relayed_at: dt.datetime | None = _ts(default=None, nullable=True)
    delivered_at: dt.datetime | None = _ts(default=None, nullable=True)
    delayed_at: dt.datetime | None = _ts(default=None, nullable=True)
    failed_at: dt.datetime | None = _ts(default=None, nullable=True)
    displayed_at: dt.datetime | None = _ts(default=None, nullable=True)
    replied_at: dt.datetime | None = _ts(default=None, nullable=True)
    status_code: str | None = Field(default=None, max_length=32)
    unproven_reported_at: dt.datetime | None = _ts(default=None, nullable=True)


class Receipt(SQLModel, table=True):
    """A delivery report or read receipt received, matched or not."""

    __tablename__ = "receipt"

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(index=True)
    delivery_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=8)  # dsn | mdn
    action: str | None = Field(default=None, max_length=32)  # delivered, failed, displayed, ...
    status: str | None = Field(default=None, max_length=32)
    recipient: str | None = Field(default=None, max_length=320)
    matched_by: str | None = Field(default=None, max_length=64)
    sha256: str = Field(max_length=64)
    at: dt.datetime = _ts()


class Monitoring(SQLModel, table=True):
    """The PR specialist's monitoring registers and their numbers (regulation 2.4)."""

    __tablename__ = "monitoring"
    __table_args__ = (sa.UniqueConstraint("register_key", "year", "seq", name="uq_monitoring_number"),)

    id: int | None = Field(default=None, primary_key=True)
    register_key: str = Field(max_length=32)
    year: int
    seq: int
    document_id: int = Field(unique=True)
    created_at: dt.datetime = _ts()


class Answer(SQLModel, table=True):
    """Who holds the answer to an appeal (section 3), and how it went out.

    Its stage is the document's (`Document.stage`), part of the case's state.
    """

    __tablename__ = "answer"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(unique=True)
    holder: str | None = Field(default=None, max_length=320)  # who has the case now
    updated_at: dt.datetime = _ts()
    outgoing_number: str | None = Field(default=None, max_length=100)
    outgoing_date: dt.date | None = None
    dispatch_channel: str | None = Field(default=None, max_length=32)  # kazpost | courier | other
    tracking: str | None = Field(default=None, max_length=100)
    dispatched_at: dt.datetime | None = _ts(default=None, nullable=True)
    copy_sha256: str | None = Field(default=None, max_length=64)
    copy_at: dt.datetime | None = _ts(default=None, nullable=True)


class Move(SQLModel, table=True):
    """One step of the answer: who moved it, when, from which message, with which file."""

    __tablename__ = "move"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(index=True)
    from_stage: str = Field(max_length=32)
    to_stage: str = Field(max_length=32)
    word: str = Field(max_length=64)
    by: str = Field(max_length=320)
    inbound_id: int | None = None
    at: dt.datetime = _ts()
    filename: str | None = None
    sha256: str | None = Field(default=None, max_length=64)
    note: str | None = None


class Handover(SQLModel, table=True):
    """Paper handed over at a unit's reporting meeting (regulation 1.13, 2.12)."""

    __tablename__ = "handover"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(index=True)
    unit: str = Field(max_length=200)
    at: dt.datetime = _ts()
    by: str = Field(max_length=320)


class WeeklyReport(SQLModel, table=True):
    """One organisation's weekly report (regulation 2.13): the PR specialist reviews it,
    management signs it off. One row per journal and ISO week, written when it is first sent."""

    __tablename__ = "weekly_report"
    __table_args__ = (sa.UniqueConstraint("journal", "week", name="uq_weekly_report_week"),)

    id: int | None = Field(default=None, primary_key=True)
    journal: str = Field(max_length=32)
    week: str = Field(max_length=16)  # ISO week, "2026-W15"
    status: str = Field(max_length=16)  # review | approved | sent | signed (weekly_review.STATUSES)
    made_at: dt.datetime = _ts()
    review_due_at: dt.datetime | None = _ts(default=None, nullable=True)  # sent unreviewed after this
    review: str | None = Field(default=None, max_length=16)  # approved | corrected | not_reviewed | None
    reviewed_by: str | None = Field(default=None, max_length=320)
    reviewed_at: dt.datetime | None = _ts(default=None, nullable=True)
    file_name: str | None = None  # the reviewer's corrected file, sent instead of the built one
    file_sha256: str | None = Field(default=None, max_length=64)
    file_type: str | None = Field(default=None, max_length=200)
    sent_at: dt.datetime | None = _ts(default=None, nullable=True)  # to management
    signed_by: str | None = Field(default=None, max_length=320)  # the first «ОЗНАКОМЛЕН»
    signed_at: dt.datetime | None = _ts(default=None, nullable=True)


class SuggestionDecision(SQLModel, table=True):
    """What became of a consumer's suggestion (regulation 2.14): the PR specialist's
    decision with a comment; the latest one stands, the earlier ones stay as history."""

    __tablename__ = "suggestion_decision"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(index=True)
    decision: str = Field(max_length=16)  # accepted | rejected | planned (vocabulary.DECISIONS)
    comment: str
    by: str = Field(max_length=320)
    at: dt.datetime = _ts()
    inbound_id: int | None = None
    report_id: int | None = None  # the report whose thread it came in


class WebLogin(SQLModel, table=True):
    """A one-time sign-in link mailed to a staff member (the token is kept hashed)."""

    __tablename__ = "web_login"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=320, index=True)
    created_at: dt.datetime = _ts()
    expires_at: dt.datetime = _ts()
    used_at: dt.datetime | None = _ts(default=None, nullable=True)


class WebSession(SQLModel, table=True):
    """A signed-in browser (or API client): the cookie's hash, who, until when."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    csrf: str = Field(max_length=64)
    email: str = Field(max_length=320, index=True)
    created_at: dt.datetime = _ts()
    expires_at: dt.datetime = _ts()
    ended_at: dt.datetime | None = _ts(default=None, nullable=True)


class ApiToken(SQLModel, table=True):
    """A person's key for scripts and integrations (`Authorization: Bearer …`): only its
    hash is kept; it acts with the person's roles as they stand at each request."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)  # the token's first characters, to tell keys apart in the list
    name: str = Field(max_length=100)
    email: str = Field(max_length=320, index=True)
    created_at: dt.datetime = _ts()
    last_used_at: dt.datetime | None = _ts(default=None, nullable=True)
    revoked_at: dt.datetime | None = _ts(default=None, nullable=True)
    # refused from then on (rules/access.toml api_tokens.days after it was made); None: fail closed
    expires_at: dt.datetime | None = _ts(default=None, nullable=True)
