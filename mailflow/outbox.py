"""The outbox: durable rows of mail to send, and the sender that drains them.

A row is written in the same transaction as whatever caused it (a talon with
its registration), under a unique key, so a cause can never queue its mail
twice. The sender claims a batch of due rows with a short lease (SELECT … FOR
UPDATE SKIP LOCKED on PostgreSQL: two daemons claiming at once get different
rows, neither waits), renews a row's lease just before sending it (a row whose
lease ran out and went to another sender is skipped), sends, then marks it
sent. A dead sender's rows are due again when their lease runs out, so another
daemon sends them within CLAIM. A crash between the SMTP server's "250" and
the mark sends that one message again (at least once, never zero times), and
so does a single send slower than CLAIM. Failures back off and retry forever.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import random
import re
import socket
import time
import uuid
from dataclasses import dataclass
from email import encoders
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol, cast

import aiosmtplib
import sqlalchemy as sa
from sqlmodel import Session, col, select

from . import journal, leases
from .config import ConfigError, SmtpConfig
from .models import Delivery, Document, Outbox
from .values import Attachment

log = logging.getLogger("mailflow.outbox")
CLAIM = dt.timedelta(seconds=25)  # a claimed row's lease, renewed before its send
BATCH = 20  # rows claimed at a time
MAX_BACKOFF = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Outgoing:
    """A message ready to queue."""

    key: str  # unique per cause: e.g. "talon:<document>:<address>"
    kind: str
    recipients: tuple[str, ...]
    message_id: str
    raw: bytes
    envelope_id: str | None = None  # set: ask for delivery status notifications (DSN)


@dataclass(frozen=True)
class SendResult:
    code: int
    message: str
    queue_id: str | None = None

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


def compose(
    *,
    sender: str,
    to: tuple[str, ...],
    subject: str,
    body: str,
    kind: str,
    key: str,
    number: str | None = None,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    reply_to: str | None = None,
    attachments: tuple[Attachment, ...] = (),
    receipts: bool = False,
    html: str | None = None,
) -> Outgoing:
    """A UTF-8 message, marked as ours and as auto-generated.

    With `receipts`, it asks for a read receipt (Disposition-Notification-To)
    and is queued with an envelope id, which makes the sender ask for DSNs.
    With `html`, the text is its plain alternative.
    """
    text = MIMEText(body, "plain", "utf-8")
    if html is not None:
        alternative = MIMEMultipart("alternative")
        alternative.attach(text)
        alternative.attach(MIMEText(html, "html", "utf-8"))
        text = alternative
    if attachments:
        msg = MIMEMultipart()
        msg.attach(text)
        for a in attachments:
            maintype, _, subtype = a.content_type.partition("/")
            part = MIMEBase(maintype or "application", subtype or "octet-stream")
            part.set_payload(a.data)
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", a.filename))
            msg.attach(part)
    else:
        msg = text
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = _header(subject)
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "mailflow.local"
    message_id = f"<{uuid.uuid4().hex}.mf@{domain}>"  # short: long ones get folded
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no one should auto-reply to it
    msg["X-Mailflow-Kind"] = kind
    if number:
        msg["X-Mailflow-Number"] = _header(number)
    if reply_to:
        msg["Reply-To"] = reply_to
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join((*references, in_reply_to))
    envelope_id = None
    if receipts:
        msg["Disposition-Notification-To"] = sender  # RFC 8098
        msg["Return-Receipt-To"] = sender  # older clients
        envelope_id = uuid.uuid4().hex  # xtext-safe, unique per message
    return Outgoing(key, kind, tuple(to), message_id, msg.as_bytes(), envelope_id)


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8", header_name="Subject")


@dataclass(frozen=True)
class Queued:
    """A row `queue` wrote."""

    id: int
    created_at: dt.datetime


def queue(
    session: Session, out: Outgoing, *, document_id: int | None = None, inbound_id: int | None = None
) -> Queued:
    """The row, written at once in the session's transaction (a key taken twice fails
    here). One statement, not an ORM object: a registration queues four, and the ORM's
    bookkeeping of them cost more than their writing; no one reads them back in it."""
    now = dt.datetime.now(dt.UTC)
    row = dict(
        key=out.key[:255],
        kind=out.kind,
        document_id=document_id,
        inbound_id=inbound_id,
        recipients=json.dumps(out.recipients),
        message_id=out.message_id,
        raw=out.raw,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        envelope_id=out.envelope_id,
    )
    row_id = session.execute(_INSERT, row).scalar_one()
    return Queued(row_id, now)


_OUTBOX = cast(sa.Table, Outbox.__table__)
_INSERT = sa.insert(_OUTBOX).returning(_OUTBOX.c.id)  # built once: building it costs more than running it


class Transport(Protocol):
    def send(
        self, sender: str, recipients: list[str], raw: bytes, envelope_id: str | None = None
    ) -> SendResult:
        """Deliver or raise; with `envelope_id`, ask for DSNs (where the server offers them)."""


class MaildirTransport:
    """Writes outbound mail to a Maildir instead of sending it (demo, dry run)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def send(
        self, sender: str, recipients: list[str], raw: bytes, envelope_id: str | None = None
    ) -> SendResult:
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.{os.getpid()}.{uuid.uuid4().hex[:8]}.{socket.gethostname()}"
        tmp = self.path / "tmp" / name
        envelope = f"X-Envelope-From: <{sender}>\r\nX-Envelope-To: {', '.join(recipients)}\r\n"
        if envelope_id:
            envelope += f"X-Envelope-Id: {envelope_id}\r\n"
        with open(tmp, "wb") as fh:
            fh.write(envelope.encode() + raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / "new" / name)
        return SendResult(250, f"written to {self.path / 'new' / name}", name)


class SmtpTransport:
    """aiosmtplib, with STARTTLS or implicit TLS and optional AUTH."""

    def __init__(self, cfg: SmtpConfig):
        self.cfg = cfg

    def send(
        self, sender: str, recipients: list[str], raw: bytes, envelope_id: str | None = None
    ) -> SendResult:
        return asyncio.run(self._send(sender, recipients, raw, envelope_id))

    async def _send(
        self, sender: str, recipients: list[str], raw: bytes, envelope_id: str | None
    ) -> SendResult:
        ep = self.cfg.endpoint
        smtp = aiosmtplib.SMTP(
            hostname=ep.host,
            port=ep.port,
            use_tls=ep.scheme == "smtps",
            start_tls=self.cfg.starttls,
            timeout=self.cfg.timeout,
        )
        await smtp.connect()  # STARTTLS when offered, unless `starttls = false`
        try:
            if ep.user:
                refused = ep.clear_refused(tls=smtp.get_transport_info("sslcontext") is not None)
                if refused:
                    raise aiosmtplib.SMTPAuthenticationError(530, refused)
                try:
                    password = ep.login_password() or ""
                except ConfigError as exc:  # the operator's to fix: retried, never failed for good
                    raise aiosmtplib.SMTPAuthenticationError(530, str(exc)) from exc
                await smtp.login(ep.user, password)
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
            dsn = bool(envelope_id) and smtp.supports_extension("dsn")
            await smtp.mail(sender, options=["RET=HDRS", f"ENVID={envelope_id}"] if dsn else None)
            refused = []
            for r in recipients:
                opts = ["NOTIFY=SUCCESS,FAILURE,DELAY", f"ORCPT=rfc822;{_xtext(r)}"] if dsn else None
                try:
                    await smtp.rcpt(r, options=opts)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    refused.append(exc)
            if len(refused) == len(recipients):
                raise aiosmtplib.SMTPRecipientsRefused(refused)
            resp = await smtp.data(raw)
            return SendResult(resp.code, resp.message, _queue_id(resp.message))
        finally:
            try:
                await smtp.quit()
            except aiosmtplib.SMTPException:
                smtp.close()


def _xtext(addr: str) -> str:
    """RFC 3461 xtext: '+', '=' and anything outside printable ASCII as +XX."""
    return "".join(
        c if "!" <= c <= "~" and c not in "+=" else "".join(f"+{b:02X}" for b in c.encode()) for c in addr
    )


_QUEUE_ID = re.compile(
    r"(?:queued as|id=|Queued mail for delivery -> |\bOK\b.*?id\s)\s*([A-Za-z0-9._-]{4,})", re.I
)


def _queue_id(reply: str) -> str | None:
    m = _QUEUE_ID.search(reply or "")
    return m.group(1) if m else None


def _permanent(exc: Exception) -> bool:
    """A 5xx for every recipient, or for this message's content: retrying cannot help.

    Everything else — a 535 for our login, a refused connection, TLS, a 5xx to
    our MAIL FROM, any 4xx — is about the relay or our account, not this
    message: it waits and is retried.
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return 500 <= exc.code < 600
    return False


def _about_this_message(exc: Exception) -> bool:
    """A refusal of recipients or of the content, as opposed to the relay being unusable."""
    return isinstance(exc, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPDataError)


def claim(s: Session, owner: str, now: dt.datetime, limit: int, *, after: int = 0) -> list[int]:
    """Lease up to `limit` due rows (id > `after`, in id order) to `owner`, in the
    session's transaction. On PostgreSQL rows another sender is claiming right now
    are skipped, not waited for; SQLite's writer lock makes the claim one step anyway."""
    q = (
        select(Outbox.id)
        .where(Outbox.status == "pending", Outbox.next_attempt_at <= now, col(Outbox.id) > after)
        .order_by(col(Outbox.id))
        .limit(limit)
    )
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    found = [i for i in s.exec(q).all() if i is not None]
    if found:
        s.execute(
            sa.update(Outbox)
            .where(col(Outbox.id).in_(found))
            .values(next_attempt_at=now + CLAIM, claimed_by=owner)
        )
    return found


def make_transport(cfg: SmtpConfig) -> Transport:
    if cfg.endpoint.scheme == "maildir":
        return MaildirTransport(Path(cfg.endpoint.path))
    return SmtpTransport(cfg)


class Sender:
    """Drains the outbox through a transport."""

    def __init__(
        self,
        engine: sa.Engine,
        transport: Transport,
        envelope_from: str,
        retry_base: float = 30.0,
        on_refused=None,
    ):
        self.engine, self.transport, self.envelope_from = engine, transport, envelope_from
        self.retry_base = retry_base
        self.on_refused = on_refused  # (session, delivery, error): tell the clerk
        self.owner = leases.node_id()
        # while the relay itself is unusable (login refused, down, TLS): pause, tell once
        self.outage_failures = 0
        self.paused_until = 0.0  # time.monotonic()

    def flush(self, limit: int = 1000, budget: float | None = None) -> int:
        """Send what is due; return how many went out.

        `budget` (seconds) bounds one call, so the daemon's loop (and its
        watchdog ping) is never held up for long by a slow relay.
        """
        sent, tried, last, start = 0, 0, 0, time.monotonic()
        if start < self.paused_until:
            return 0
        self._reclaim_from_the_dead()
        while tried < limit:
            batch = self._claim_batch(min(BATCH, limit - tried), after=last)  # each row once a flush
            if not batch:
                break
            for n, row_id in enumerate(batch):
                out_of_time = budget is not None and time.monotonic() - start > budget
                if out_of_time or time.monotonic() < self.paused_until:
                    self._unclaim(batch[n:])  # the rest is free for the next flush or another daemon
                    return sent
                tried, last = tried + 1, row_id
                if self._renew(row_id):
                    sent += self._send(row_id)
        return sent

    def _relay_failed(self, exc: Exception) -> None:
        self.outage_failures += 1
        delay = min(MAX_BACKOFF.total_seconds(), self.retry_base * 2 ** min(self.outage_failures - 1, 10))
        self.paused_until = time.monotonic() + delay
        if self.outage_failures == 1:  # once per outage, not once per message
            log.error(
                "the SMTP relay cannot be used (%s: %s); mail waits in the outbox and is retried "
                "with backoff, nothing is marked failed",
                type(exc).__name__,
                exc,
            )

    def _relay_works(self) -> None:
        if self.outage_failures:
            log.warning("the SMTP relay takes mail again after %d failed attempt(s)", self.outage_failures)
        self.outage_failures, self.paused_until = 0, 0.0

    def pending(self) -> int:
        with Session(self.engine) as s:
            return s.exec(select(sa.func.count()).select_from(Outbox).where(Outbox.status == "pending")).one()

    def _claim_batch(self, limit: int, after: int = 0) -> list[int]:
        now = dt.datetime.now(dt.UTC)
        with Session(self.engine) as s, s.begin():
            return claim(s, self.owner, now, limit, after=after)

    def _renew(self, row_id: int) -> bool:
        """Extend our lease on a row right before sending it; False when it is no longer
        ours to send (our lease ran out and another sender took it, or it went)."""
        now = dt.datetime.now(dt.UTC)
        with Session(self.engine) as s, s.begin():
            res = s.execute(
                sa.update(Outbox)
                .where(Outbox.id == row_id, Outbox.status == "pending", Outbox.claimed_by == self.owner)
                .values(next_attempt_at=now + CLAIM)
            )
            return res.rowcount == 1

    def _unclaim(self, ids: list[int]) -> None:
        now = dt.datetime.now(dt.UTC)
        with Session(self.engine) as s, s.begin():
            s.execute(
                sa.update(Outbox)
                .where(col(Outbox.id).in_(ids), Outbox.status == "pending", Outbox.claimed_by == self.owner)
                .values(next_attempt_at=now, claimed_by=None)
            )

    def _reclaim_from_the_dead(self) -> None:
        """Rows claimed by a sender of this machine that was killed are free at once
        (another machine's wait for their lease to run out)."""
        now = dt.datetime.now(dt.UTC)
        here = leases.machine() + ":"
        with Session(self.engine) as s, s.begin():
            rows = s.exec(
                select(Outbox.id, Outbox.claimed_by).where(
                    Outbox.status == "pending",
                    Outbox.next_attempt_at > now,
                    col(Outbox.claimed_by).startswith(here),
                )
            ).all()
            dead = [i for i, owner in rows if owner and owner != self.owner and leases.gone(owner)]
            if dead:
                s.execute(
                    sa.update(Outbox).where(Outbox.id.in_(dead)).values(next_attempt_at=now, claimed_by=None)
                )
                log.info("took over %d message(s) from a sender that died", len(dead))

    def _send(self, row_id: int) -> int:
        with Session(self.engine) as s:
            row = s.get(Outbox, row_id)
            recipients, raw, envid = json.loads(row.recipients), row.raw, row.envelope_id
            kind, document_id = row.kind, row.document_id
        try:
            result = self.transport.send(self.envelope_from, recipients, raw, envid)
        except Exception as exc:  # any failure: back off and try again later
            self._failed(row_id, exc, permanent=_permanent(exc))
            if not _about_this_message(exc):
                self._relay_failed(exc)
            return 0
        self._relay_works()
        now = dt.datetime.now(dt.UTC)
        with Session(self.engine) as s, s.begin():
            deliveries = s.exec(select(Delivery).where(Delivery.outbox_id == row_id)).all()
            # proof goes into the chain, and so does the PR copy's time (the document row):
            # the writer lock first, as every writer takes it, never after a row lock
            head = journal.lock(s) if deliveries or kind == "pr_copy" else None
            s.execute(
                sa.update(Outbox)
                .where(Outbox.id == row_id)
                .values(
                    status="sent", sent_at=now, smtp_reply=str(result)[:1000], attempts=Outbox.attempts + 1
                )
            )
            if kind == "pr_copy":  # regulation 2.1 is measured to this moment
                s.execute(
                    sa.update(Document)
                    .where(Document.id == document_id, col(Document.pr_forwarded_at).is_(None))
                    .values(pr_forwarded_at=now)
                )
                if document_id is not None:  # SQL, not the ORM: sealed into the events by hand
                    journal.note(s, "document", (document_id,))
            for d in deliveries:
                d.smtp_code, d.smtp_reply = result.code, result.message[:1000]
                d.queue_id, d.accepted_at = result.queue_id, now
                s.add(d)
                journal.append(
                    s,
                    head,
                    "delivery_accepted",
                    document_id=d.document_id,
                    delivery_id=d.id,
                    to=d.to_addr,
                    smtp=str(result)[:300],
                    queue_id=result.queue_id,
                )
        log.info("sent outbox #%s to %d recipient(s): %s", row_id, len(recipients), str(result)[:80])
        return 1

    def _failed(self, row_id: int, exc: Exception, permanent: bool) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            head = journal.lock(s) if permanent else None
            row = s.get(Outbox, row_id)
            row.attempts += 1
            row.claimed_by = None  # a backoff, not a lease
            row.last_error = error
            if permanent:  # the server refused for good: kept, marked, shown to the clerk
                row.status = "failed"
                s.add(row)
                journal.append(
                    s,
                    head,
                    "outbox_failed",
                    document_id=row.document_id,
                    outbox_id=row.id,
                    kind=row.kind,
                    error=error,
                )
                for d in s.exec(select(Delivery).where(Delivery.outbox_id == row_id)).all():
                    d.failed_at, d.smtp_reply = dt.datetime.now(dt.UTC), error[:1000]
                    d.smtp_code = getattr(exc, "code", None)
                    s.add(d)
                    journal.append(
                        s,
                        head,
                        "delivery_failed",
                        document_id=d.document_id,
                        delivery_id=d.id,
                        to=d.to_addr,
                        smtp=error[:300],
                    )
                    if self.on_refused:
                        self.on_refused(s, d, error)
                log.error("outbox #%s refused permanently: %s", row_id, error)
                return
            delay = min(MAX_BACKOFF.total_seconds(), self.retry_base * 2 ** min(row.attempts - 1, 10))
            row.next_attempt_at = dt.datetime.now(dt.UTC) + dt.timedelta(
                seconds=delay * random.uniform(0.8, 1.2)
            )
            s.add(row)
        log.warning("outbox #%s failed (attempt %d), retry in ~%ds: %s", row_id, row.attempts, delay, error)
