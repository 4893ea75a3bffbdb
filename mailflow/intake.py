"""Intake (DESIGN §3): one fetched message, from raw bytes to a journal record.

The raw bytes are archived before anything else. The slow part (reading the
scans) runs outside any transaction; then one short transaction records the
message and whatever it causes. The caller moves the message out of the inbox
only after `process` returns, i.e. after that commit. A message seen again
(a crash before the move) is recognised by its (mailbox, UIDVALIDITY, UID) and
only moved; a re-sent or re-forwarded copy is linked to the first, not
registered twice.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from . import (answering, journal, mime, notices, proof, receipts, registration, replies, resolution, talon,
               triage)
from .archive import Archive
from .sanitize import clean
from .mailbox import Fetched
from .models import DocAttachment, Document, Inbound, Outbox
from .rules import Person, Rules
from .values import (Attachment, Disposition, KZ_TZ, ParsedMessage, Recognition, Source,
                     Triage)

log = logging.getLogger("mailflow.intake")

Recognizer = Callable[[ParsedMessage, Person | None, str], Recognition]


class Unprocessable(Exception):
    """A message that intake refuses on purpose (over a limit, say)."""


@dataclass(frozen=True)
class Outcome:
    status: str  # registered|linked|recorded|review|quarantined|already|lost-race
    move_to: str | None  # "processed" | "quarantine" | None (leave it where it is)
    number: str | None = None
    reason: str = ""


class Intake:
    def __init__(self, *, engine: sa.Engine, rules: Rules, archive: Archive,
                 recognize: Recognizer, sender_addr: str, own_addresses: frozenset[str],
                 quarantine_dir: Path):
        self.engine, self.rules, self.archive = engine, rules, archive
        self.recognize, self.sender_addr = recognize, sender_addr
        self.own = own_addresses | rules.own_addresses | {sender_addr.lower()}
        self.quarantine_dir = Path(quarantine_dir)

    def process(self, fetched: Fetched, journal_key: str | None = None) -> Outcome:
        sha = self.archive.put(fetched.raw)
        done = self._seen(fetched)
        if done:
            return done
        parsed = None
        try:
            limit = self.rules.limits.max_message_bytes
            if len(fetched.raw) > limit:
                raise Unprocessable(f"message is {len(fetched.raw) / 2**20:.1f} MB, over the "
                                    f"{limit / 2**20:.0f} MB limit; not read")
            parsed = mime.parse(fetched.raw)
            return self._handle(fetched, sha, parsed, journal_key)
        except Exception as exc:  # whatever broke, the message is kept and the clerk told
            reason = str(exc) if isinstance(exc, Unprocessable) else f"{type(exc).__name__}: {exc}"
            log.exception("quarantining %s: %s", fetched.source, reason)
            return self.quarantine(fetched, sha, parsed, reason, traceback.format_exc())

    # -- steps --------------------------------------------------------------

    def _handle(self, fetched: Fetched, sha: str, parsed: ParsedMessage,
                journal_key: str | None) -> Outcome:
        sender = self.rules.staff.by_email(parsed.from_addr)
        verdict = triage.classify(parsed, sender, self.rules, self.own)
        if verdict.disposition in (Disposition.DSN, Disposition.MDN):
            report = receipts.parse(fetched.raw)
            if report is not None:
                return self._write(fetched, sha, parsed, verdict,
                                   lambda s, h, inb: self._receipt(s, h, inb, report))
            # a report nobody can read is not proof of anything: the clerk looks at it
            verdict = Triage(Disposition.REVIEW, f"{verdict.reason} that could not be read")
        elif verdict.disposition != Disposition.LOOP:
            with Session(self.engine) as s:
                ctx = replies.find(s, parsed)
                answered = None if ctx else proof.replied_delivery(s, parsed)
            if ctx is not None:
                return self._write(fetched, sha, parsed, Triage(Disposition.REPLY, ctx.matched_by),
                                   lambda s, h, inb: self._reply(s, h, inb, parsed))
            if answered is not None and not _scans(parsed):
                return self._write(fetched, sha, parsed, Triage(Disposition.REPLY, "in-reply-to"),
                                   lambda s, h, inb: self._delivery_reply(s, h, inb, parsed, answered))
            if verdict.disposition == Disposition.APPEAL and not _scans(parsed) \
                    and _answers_our_mail(self.engine, parsed):
                # "спасибо" to a talon is not a new appeal; a new scan in the thread is
                verdict = Triage(Disposition.REVIEW, "a reply to mailflow's own message, no new document")
        if verdict.disposition != Disposition.APPEAL:
            return self._record(fetched, sha, parsed, verdict)
        first = None
        if _scans(parsed):  # a copy of a scan is found before the slow reading, not after
            with Session(self.engine) as s:
                first = _duplicate_of(s, parsed, sha)
        if first is not None:
            return self._write(fetched, sha, parsed, verdict, lambda s, h, inb: self._link(s, h, inb, first))
        for a in parsed.attachments:
            self.archive.put(a.data, suffix=".bin")
        channel = self.rules.channel_for(sender)
        rec = _flag_dropped_content(parsed, self.recognize(parsed, sender, channel))
        reg = registration.Registration(
            journal=self.rules.journal(journal_key), channel=channel,
            received_at=fetched.received_at, sha256=sha, recognition=rec, message=parsed,
            sender=sender, files=_forwardable(parsed),
            talon=not talon.is_backlog(fetched.received_at, self.rules.talon_max_age_days))
        return self._write(fetched, sha, parsed, verdict, lambda s, h, inb: self._register(s, h, inb, reg))

    def register_paper(self, filename: str, data: bytes, content_type: str,
                       journal_key: str | None = None) -> Outcome:
        """Paper mail scanned in the chancellery (`mailflow register`): channel "written"."""
        sha = self.archive.put(data, suffix=".bin")
        now = dt.datetime.now(dt.timezone.utc)
        fetched = Fetched(Source("paper", "file", sha), data, now)
        done = self._seen(fetched)
        if done:
            return done
        att = Attachment(mime.safe_filename(filename), content_type, data, sha)
        parsed = ParsedMessage(
            message_id=None, subject=att.filename, from_addr="", from_name="", reply_to=None,
            to=(), date=None, in_reply_to=None, references=(), auto_submitted=None,
            precedence=None, content_type=content_type, body_text="", attachments=(att,),
            defects=())
        rec = self.recognize(parsed, None, "written")
        reg = registration.Registration(
            journal=self.rules.journal(journal_key), channel="written", received_at=now,
            sha256=sha, recognition=rec, message=None, sender=None, talon=True, files=(att,))
        verdict = Triage(Disposition.APPEAL, "paper mail registered by the clerk")
        return self._write(fetched, sha, parsed, verdict,
                           lambda s, h, inb: self._register(s, h, inb, reg))

    def _register(self, s: Session, head, inb: Inbound, reg) -> Outcome:
        first = reg.message and _duplicate_of(s, reg.message, reg.sha256)  # again, under the lock
        if first is not None:
            return self._link(s, head, inb, first)
        doc = registration.register(s, head, self.rules, reg, sender_addr=self.sender_addr,
                                    inbound_id=inb.id)
        inb.status, inb.document_id = "registered", doc.id
        log.info("registered %s (%s, %s) from %s", doc.number, doc.kind or "kind?",
                 reg.channel, _mask(reg.message.from_addr if reg.message else None))
        return Outcome("registered", "processed", doc.number)

    def _reply(self, s: Session, head, inb: Inbound, msg: ParsedMessage) -> Outcome:
        """A reply carrying a case: a resolution (1.6) or a step of the answer (section 3)."""
        ctx = replies.find(s, msg)  # again, under the lock: the token may be used by now
        now = dt.datetime.now(dt.timezone.utc)
        if ctx.token.purpose == "answer":
            result = answering.handle_reply(s, head, self.rules, msg=msg, ctx=ctx, inbound_id=inb.id,
                                            sender_addr=self.sender_addr, archive=self.archive,
                                            now=now)
        else:
            result = resolution.handle_reply(
                s, head, self.rules, msg=msg, ctx=ctx, inbound_id=inb.id,
                sender_addr=self.sender_addr, load_files=self.files_of, now=now)
        inb.status, inb.document_id, inb.reason = result.status, ctx.token.document_id, result.reason
        log.info("reply to %s: %s (%s)", result.number, result.status, result.reason)
        return Outcome(result.status, "processed", result.number, result.reason)

    def files_of(self, s: Session, doc: Document) -> tuple[Attachment, ...]:
        """The document's scans, from the archive, to go on with the resolution."""
        rows = s.exec(select(DocAttachment).where(DocAttachment.document_id == doc.id)
                      .order_by(DocAttachment.id)).all()
        out, total = [], 0
        for a in rows:
            if not a.content_type.startswith(triage.DOCUMENT_TYPES):
                continue
            try:
                data = self.archive.get(a.sha256, ".bin")
            except FileNotFoundError:
                continue
            if total + len(data) <= FORWARD_LIMIT:
                out.append(Attachment(a.filename, a.content_type, data, a.sha256))
                total += len(data)
        return tuple(out)

    def _receipt(self, s: Session, head, inb: Inbound, report) -> Outcome:
        found = proof.match(s, report)
        what = proof.record(s, head, self.rules, report, found, inbound_id=inb.id, sha256=inb.sha256,
                            sender_addr=self.sender_addr)
        inb.status = "receipt" if found.delivery else "review"
        inb.document_id = found.delivery.document_id if found.delivery else None
        inb.reason = f"{report.kind}: {what}" + (f" (by {found.how})" if found.delivery else "")
        return Outcome(inb.status, "processed", None, inb.reason)

    def _delivery_reply(self, s: Session, head, inb: Inbound, msg: ParsedMessage,
                        answered) -> Outcome:
        """An addressee answered the forwarded resolution: proof, and the clerk looks at it."""
        d = s.get(type(answered), answered.id)
        proof.mark_replied(s, head, d, inbound_id=inb.id, sender=msg.from_addr)
        inb.status, inb.document_id = "review", d.document_id
        self._tell_clerks(s, inb, "review", reason=f"ответ на письмо с резолюцией ({d.to_addr})")
        return Outcome("review", "processed", None, "reply to a forwarded resolution")

    def _link(self, s: Session, head, inb: Inbound, doc: Document) -> Outcome:
        inb.status, inb.document_id = "linked", doc.id
        journal.append(s, head, "linked", document_id=doc.id, inbound_id=inb.id,
                       number=doc.number, reason="re-sent or re-forwarded copy")
        log.info("linked a copy to %s", doc.number)
        return Outcome("linked", "processed", doc.number, "copy of a registered appeal")

    def _record(self, fetched: Fetched, sha: str, parsed: ParsedMessage, verdict: Triage) -> Outcome:
        def act(s: Session, head, inb: Inbound) -> Outcome:
            review = verdict.disposition == Disposition.REVIEW
            inb.status = "review" if review else "recorded"
            journal.append(s, head, f"received_{verdict.disposition.value}", inbound_id=inb.id,
                           reason=verdict.reason, sha256=sha)
            if review:
                self._tell_clerks(s, inb, "review", reason=verdict.reason)
            return Outcome(inb.status, "processed", None, verdict.reason)
        return self._write(fetched, sha, parsed, verdict, act)

    def _write(self, fetched: Fetched, sha: str, parsed: ParsedMessage, verdict: Triage,
               act) -> Outcome:
        """One transaction: the Inbound row and what `act` does with it."""
        try:
            with Session(self.engine, expire_on_commit=False) as s, s.begin():
                head = journal.lock(s)
                seen = _inbound(s, fetched)
                if seen is not None:
                    return _already(seen)
                inb = _new_inbound(fetched, sha, parsed, verdict.disposition.value, "received")
                s.add(inb)
                s.flush()
                return act(s, head, inb)
        except IntegrityError:  # another daemon recorded the same UID first
            return Outcome("lost-race", None, None, "another process took it")

    def quarantine(self, fetched: Fetched, sha: str, parsed: ParsedMessage | None,
                   reason: str, tb: str = "") -> Outcome:
        self._quarantine_copy(fetched, sha, reason)
        try:
            return self._record_quarantine(fetched, sha, parsed, reason, tb)
        except Exception:
            if parsed is None:
                raise  # the database itself is failing: leave the message for the next pass
            log.exception("recording the quarantine failed; retrying without the parsed headers")
            return self.quarantine(fetched, sha, None, reason, tb)

    def _record_quarantine(self, fetched: Fetched, sha: str, parsed: ParsedMessage | None,
                           reason: str, tb: str) -> Outcome:
        def act(s: Session, head, inb: Inbound) -> Outcome:
            inb.status, inb.disposition = "quarantined", "unknown"
            inb.reason, inb.traceback = clean(reason, 4000), clean(tb[-20000:]) or None
            journal.append(s, head, "quarantined", inbound_id=inb.id, reason=reason[:1000], sha256=sha)
            self._tell_clerks(s, inb, "quarantine", reason=reason)
            return Outcome("quarantined", "quarantine", None, reason)
        return self._write(fetched, sha, parsed, Triage(Disposition.REVIEW, reason), act)

    def _quarantine_copy(self, fetched: Fetched, sha: str, reason: str) -> None:
        """A plain-file view for the operator; the archive holds the original."""
        self.quarantine_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.quarantine_dir / f"{sha}.eml"
        if not target.exists():
            try:
                target.symlink_to(self.archive.path(sha))
            except OSError:
                pass
        (self.quarantine_dir / f"{sha}.reason.txt").write_text(
            f"source: {fetched.source.mailbox} {fetched.source.uidvalidity} {fetched.source.uid}\n"
            f"reason: {reason}\n", encoding="utf-8")

    def _tell_clerks(self, s: Session, inb: Inbound, template: str, *, reason: str) -> None:
        notices.send(s, self.rules, template, sender_addr=self.sender_addr, role="clerk",
                     key=f"{template}:{inb.id}", inbound_id=inb.id, mailbox=inb.mailbox,
                     from_addr=inb.from_addr, subject=inb.subject, message_id=inb.message_id,
                     received_at=inb.received_at.astimezone(KZ_TZ), reason=reason, sha256=inb.sha256)

    def _seen(self, fetched: Fetched) -> Outcome | None:
        """A message recorded before (a crash before the move): only move it."""
        with Session(self.engine) as s:
            inb = _inbound(s, fetched)
        return _already(inb) if inb else None


def _already(inb: Inbound) -> Outcome:
    folder = "quarantine" if inb.status == "quarantined" else "processed"
    return Outcome("already", folder, None, f"already {inb.status}")


def _inbound(s: Session, fetched: Fetched) -> Inbound | None:
    src = fetched.source
    return s.exec(select(Inbound).where(Inbound.mailbox == src.mailbox,
                                        Inbound.uidvalidity == src.uidvalidity,
                                        Inbound.uid == src.uid)).first()


def _new_inbound(fetched: Fetched, sha: str, parsed: ParsedMessage | None, disposition: str,
                 status: str) -> Inbound:
    src = fetched.source
    return Inbound(mailbox=src.mailbox, uidvalidity=src.uidvalidity, uid=src.uid,
                   message_id=clean(parsed.message_id, 998) if parsed else None, sha256=sha,
                   size=len(fetched.raw), from_addr=clean(parsed.from_addr, 320) if parsed else None,
                   subject=clean(parsed.subject, 2000) if parsed else None,
                   received_at=fetched.received_at, fetched_at=dt.datetime.now(dt.timezone.utc),
                   disposition=disposition, status=status)


def _duplicate_of(s: Session, msg: ParsedMessage, sha: str) -> Document | None:
    """The document this message repeats: same raw bytes, Message-ID or scans."""
    q = select(Document).join(Inbound, Inbound.document_id == Document.id)
    doc = s.exec(q.where(Inbound.sha256 == sha)).first()
    if doc is None and msg.message_id:
        doc = s.exec(q.where(Inbound.message_id == msg.message_id)).first()
    scans = _scans(msg)
    if doc is None and scans:
        rows = s.exec(select(DocAttachment.document_id, DocAttachment.sha256)
                      .where(DocAttachment.sha256.in_(scans))).all()
        by_doc: dict[int, set[str]] = {}
        for doc_id, h in rows:
            by_doc.setdefault(doc_id, set()).add(h)
        same = [d for d, hs in by_doc.items() if hs == scans]
        doc = s.get(Document, min(same)) if same else None
    return doc


_DROPPED = ("rest ignored", "broken base64", "headers only", "body text longer")


def _flag_dropped_content(msg: ParsedMessage, rec: Recognition) -> Recognition:
    """Parts of the message that were not read make the clerk look at it."""
    if "attachments" in rec.needs_review:
        return rec
    if any(marker in d for d in msg.defects for marker in _DROPPED):
        return dataclasses.replace(rec, needs_review=(*rec.needs_review, "attachments"))
    return rec


FORWARD_LIMIT = 20 * 2**20


def _forwardable(msg: ParsedMessage) -> tuple[Attachment, ...]:
    """The files that go on with the appeal: documents, within a sane total size."""
    out, total = [], 0
    for a in msg.attachments:
        if a.content_type.startswith(triage.DOCUMENT_TYPES) and total + len(a.data) <= FORWARD_LIMIT:
            out.append(a)
            total += len(a.data)
    return tuple(out)


def _answers_our_mail(engine: sa.Engine, msg: ParsedMessage) -> bool:
    ids = [i for i in (msg.in_reply_to, *msg.references) if i]
    if not ids:
        return False
    with Session(engine) as s:
        return s.exec(select(Outbox.id).where(Outbox.message_id.in_(ids)).limit(1)).first() is not None


def _scans(msg: ParsedMessage) -> set[str]:
    return {a.sha256 for a in msg.attachments if a.content_type.startswith(triage.DOCUMENT_TYPES)}


def _mask(address: str | None) -> str:
    """Personal data stays out of logs: keep the domain, hide the mailbox."""
    if not address or "@" not in address:
        return "?"
    local, domain = address.split("@", 1)
    return f"{local[:2]}…@{domain}"
