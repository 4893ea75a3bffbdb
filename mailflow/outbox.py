"""The outbox: durable rows of mail to send, and the sender that drains them.

A row is written in the same transaction as whatever caused it (a talon with
its registration), under a unique key, so a cause can never queue its mail
twice. The sender claims a row with a short lease, sends, then marks it sent:
a crash between the SMTP server's "250" and the mark sends that one message
again (at least once, never zero times). Failures back off and retry forever.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

import aiosmtplib
import sqlalchemy as sa
from sqlmodel import Session, select

from . import journal
from .config import SmtpConfig
from .models import Outbox

log = logging.getLogger("mailflow.outbox")
LEASE = dt.timedelta(minutes=2)
MAX_BACKOFF = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Outgoing:
    """A message ready to queue."""

    key: str  # unique per cause: e.g. "talon:<document>:<address>"
    kind: str
    recipients: tuple[str, ...]
    message_id: str
    raw: bytes


def compose(*, sender: str, to: tuple[str, ...], subject: str, body: str, kind: str,
            key: str, number: str | None = None, in_reply_to: str | None = None,
            references: tuple[str, ...] = ()) -> Outgoing:
    """A plain-text UTF-8 message, marked as ours and as auto-generated."""
    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = Header(subject, "utf-8").encode() if not subject.isascii() else subject
    msg["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "mailflow.local"
    message_id = make_msgid("mf." + uuid.uuid4().hex[:12], domain=domain)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no one should auto-reply to it
    msg["X-Mailflow-Kind"] = kind
    if number:
        msg["X-Mailflow-Number"] = Header(number, "utf-8").encode() if not number.isascii() else number
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join((*references, in_reply_to))
    return Outgoing(key, kind, tuple(to), message_id, msg.as_bytes())


def queue(session: Session, out: Outgoing, *, document_id: int | None = None,
          inbound_id: int | None = None) -> Outbox:
    now = dt.datetime.now(dt.timezone.utc)
    row = Outbox(key=out.key[:255], kind=out.kind, document_id=document_id,
                 inbound_id=inbound_id, recipients=json.dumps(out.recipients),
                 message_id=out.message_id, raw=out.raw, next_attempt_at=now, created_at=now)
    session.add(row)
    return row


class Transport(Protocol):
    def send(self, sender: str, recipients: list[str], raw: bytes) -> str:
        """Deliver or raise; return the server's reply (e.g. '250 2.0.0 Ok: queued as X')."""


class MaildirTransport:
    """Writes outbound mail to a Maildir instead of sending it (demo, dry run)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def send(self, sender: str, recipients: list[str], raw: bytes) -> str:
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.{os.getpid()}.{uuid.uuid4().hex[:8]}.{socket.gethostname()}"
        tmp = self.path / "tmp" / name
        envelope = f"X-Envelope-From: <{sender}>\r\nX-Envelope-To: {', '.join(recipients)}\r\n"
        with open(tmp, "wb") as fh:
            fh.write(envelope.encode() + raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / "new" / name)
        return f"250 written to {self.path / 'new' / name}"


class SmtpTransport:
    """aiosmtplib, with STARTTLS or implicit TLS and optional AUTH."""

    def __init__(self, cfg: SmtpConfig):
        self.cfg = cfg

    def send(self, sender: str, recipients: list[str], raw: bytes) -> str:
        return asyncio.run(self._send(sender, recipients, raw))

    async def _send(self, sender: str, recipients: list[str], raw: bytes) -> str:
        ep = self.cfg.endpoint
        smtp = aiosmtplib.SMTP(hostname=ep.host, port=ep.port, use_tls=ep.scheme == "smtps",
                               start_tls=self.cfg.starttls, timeout=self.cfg.timeout)
        await smtp.connect()
        try:
            if ep.user:
                await smtp.login(ep.user, ep.password or "")
            errors, reply = await smtp.sendmail(sender, recipients, raw)
            if errors:
                raise aiosmtplib.SMTPRecipientsRefused(
                    [aiosmtplib.SMTPRecipientRefused(r.code, r.message, a) for a, r in errors.items()])
            return reply
        finally:
            try:
                await smtp.quit()
            except aiosmtplib.SMTPException:
                smtp.close()


def _owner(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def _start_ticks(pid: int) -> str:
    """When the process started (so a reused pid is not mistaken for the same process)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return "?"


def _alive(owner: str) -> bool:
    try:
        _, pid, ticks = owner.rsplit(":", 2)
        return _owner(int(pid)).endswith(f":{pid}:{ticks}") and ticks != "?" \
            and os.path.exists(f"/proc/{pid}")
    except ValueError:
        return True  # not ours to judge


def _permanent(exc: Exception) -> bool:
    """A 5xx reply for every recipient: retrying cannot help."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600
    return False


def make_transport(cfg: SmtpConfig) -> Transport:
    if cfg.endpoint.scheme == "maildir":
        return MaildirTransport(Path(cfg.endpoint.path))
    return SmtpTransport(cfg)


class Sender:
    """Drains the outbox through a transport."""

    def __init__(self, engine: sa.Engine, transport: Transport, envelope_from: str,
                 retry_base: float = 30.0):
        self.engine, self.transport, self.envelope_from = engine, transport, envelope_from
        self.retry_base = retry_base
        self.owner = _owner(os.getpid())

    def flush(self, limit: int = 1000, budget: float | None = None) -> int:
        """Send what is due; return how many went out.

        `budget` (seconds) bounds one call, so the daemon's loop (and its
        watchdog ping) is never held up for long by a slow relay.
        """
        sent, start = 0, time.monotonic()
        self._reclaim_from_the_dead()
        for row_id in self._due(limit):
            if budget is not None and time.monotonic() - start > budget:
                break
            if self._claim(row_id):
                sent += self._send(row_id)
        return sent

    def pending(self) -> int:
        with Session(self.engine) as s:
            return s.exec(select(sa.func.count()).select_from(Outbox)
                          .where(Outbox.status == "pending")).one()

    def _due(self, limit: int) -> list[int]:
        now = dt.datetime.now(dt.timezone.utc)
        with Session(self.engine) as s:
            return list(s.exec(select(Outbox.id).where(Outbox.status == "pending",
                                                       Outbox.next_attempt_at <= now)
                               .order_by(Outbox.id).limit(limit)).all())

    def _claim(self, row_id: int) -> bool:
        """Lease the row so no other sender takes it while we send."""
        now = dt.datetime.now(dt.timezone.utc)
        with Session(self.engine) as s, s.begin():
            res = s.execute(sa.update(Outbox).where(
                Outbox.id == row_id, Outbox.status == "pending", Outbox.next_attempt_at <= now)
                .values(next_attempt_at=now + LEASE, claimed_by=self.owner))
            return res.rowcount == 1

    def _reclaim_from_the_dead(self) -> None:
        """Leases held by a sender on this host that was killed are free at once."""
        now = dt.datetime.now(dt.timezone.utc)
        host = socket.gethostname() + ":"
        with Session(self.engine) as s, s.begin():
            rows = s.exec(select(Outbox.id, Outbox.claimed_by).where(
                Outbox.status == "pending", Outbox.next_attempt_at > now,
                Outbox.claimed_by.startswith(host))).all()
            dead = [i for i, owner in rows if owner != self.owner and not _alive(owner)]
            if dead:
                s.execute(sa.update(Outbox).where(Outbox.id.in_(dead))
                          .values(next_attempt_at=now, claimed_by=None))
                log.info("took over %d message(s) from a sender that died", len(dead))

    def _send(self, row_id: int) -> int:
        with Session(self.engine) as s:
            row = s.get(Outbox, row_id)
            recipients, raw = json.loads(row.recipients), row.raw
        try:
            reply = self.transport.send(self.envelope_from, recipients, raw)
        except Exception as exc:  # any failure: back off and try again later
            self._failed(row_id, exc, permanent=_permanent(exc))
            return 0
        with Session(self.engine) as s, s.begin():
            s.execute(sa.update(Outbox).where(Outbox.id == row_id).values(
                status="sent", sent_at=dt.datetime.now(dt.timezone.utc),
                smtp_reply=str(reply)[:1000], attempts=Outbox.attempts + 1))
        log.info("sent outbox #%s to %d recipient(s): %s", row_id, len(recipients), str(reply)[:80])
        return 1

    def _failed(self, row_id: int, exc: Exception, permanent: bool) -> None:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            row = s.get(Outbox, row_id)
            row.attempts += 1
            row.claimed_by = None  # a backoff, not a lease
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if permanent:  # the server refused for good: kept, marked, shown to the clerk
                row.status = "failed"
                s.add(row)
                head = journal.lock(s)
                journal.append(s, head, "outbox_failed", document_id=row.document_id,
                               outbox_id=row.id, kind=row.kind, error=row.last_error)
                log.error("outbox #%s refused permanently: %s", row_id, row.last_error)
                return
            delay = min(MAX_BACKOFF.total_seconds(), self.retry_base * 2 ** min(row.attempts - 1, 10))
            row.next_attempt_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(
                seconds=delay * random.uniform(0.8, 1.2))
            s.add(row)
        log.warning("outbox #%s failed (attempt %d), retry in ~%ds: %s",
                    row_id, row.attempts, delay, row.last_error)
