"""Intake (DESIGN §3): one fetched message, from raw bytes to a journal record.

A named pipeline, after GNU Mailman's pipelines: each step is a function of
one typed `Incoming` and may end the message's way with an `Outcome`.

    archive   the raw bytes, write-once, before anything else
    seen      recorded before (a crash before the move)? then only move it
    parse     MIME into a ParsedMessage, within the size limit
    classify  the triage chain decides what it is, once
    read      an appeal's scans and text, outside any transaction
    record    one transaction: the inbound row and what the verdict causes
              (register and route an appeal, climb the proof ladder, apply
              a reply to its case, tell the clerk)
    move      the caller's: to Processed or Quarantine, only after `record`

`seen` and `classify` ask the journal in one read session, closed before
`read`; `record` is one write transaction under the journal lock. So an
appeal costs two database sessions. A backlog is recorded in groups: each
message read as above, then several recorded in one transaction, a savepoint
each (`prepare`, `record_group`), which saves a commit and a lock per message;
their archiving is made durable for all of them at once, before the transaction. A re-sent or re-forwarded copy is
linked to the first registration, not registered twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from . import (
    answering,
    db,
    extension,
    journal,
    leases,
    mime,
    notices,
    proof,
    registration,
    replies,
    report_review,
    resolution,
    scans,
    signatures,
    substitutes,
    talon,
)
from .archive import Archive, Staged
from .mailbox import Fetched
from .models import INBOUND_KEY, ChainHead, Delivery, DocAttachment, Document, Inbound, Outbox, Token, id_of
from .rules import Person, Rules
from .sanitize import clean
from .triage import Message, Verdict, classify
from .values import KZ_TZ, Attachment, Disposition, ParsedMessage, Recognition, Source
from .vocabulary import CLERK, WRITTEN

log = logging.getLogger("mailflow.intake")

Recognizer = Callable[[ParsedMessage, Person | None, str], Recognition]


class Unprocessable(Exception):
    """A message that intake refuses on purpose (over a limit, say)."""


@dataclass(frozen=True)
class Outcome:
    status: str  # registered|linked|recorded|receipt|review|quarantined|already|lost-race|…
    move_to: str | None  # "processed" | "quarantine" | "staff" (a person's) | None (leave it where it is)
    number: str | None = None
    reason: str = ""


@dataclass
class Incoming:
    """One message on its way through the pipeline; each step fills its part."""

    fetched: Fetched
    journal_key: str | None
    sha256: str = ""
    parsed: ParsedMessage | None = None
    sender: Person | None = None
    verdict: Verdict | None = None
    channel: str | None = None  # set for paper; else the sender's role decides
    paper: bool = False  # registered by the clerk (`mailflow register`), no mail to answer
    first: int | None = None  # the document this is a copy of
    reg: registration.Registration | None = None
    outcome: Outcome | None = None
    lookups: JournalView | None = None  # the read session of `seen` and `classify`
    staged: list[Staged] | None = None  # a group's: archived, durable before the group commits


class JournalView:
    """The journal as `seen` and the triage rules ask it: one read session, opened
    on the first question and closed before the slow reading starts."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self._s: Session | None = None
        self._tokens: dict[int, replies.ReplyContext | None] = {}  # by message: two rules ask

    @property
    def s(self) -> Session:
        if self._s is None:  # a snapshot (SQLite: no writer lock); `record` asks again under the lock
            self._s = Session(db.reader(self.engine))
        return self._s

    def close(self) -> None:
        if self._s is not None:
            self._s.close()
            self._s = None

    def inbound(self, source: Source) -> Inbound | None:
        return _inbound(self.s, source)

    def reply_token(self, msg: ParsedMessage) -> replies.ReplyContext | None:
        if id(msg) not in self._tokens:
            self._tokens[id(msg)] = replies.find(self.s, msg)
        return self._tokens[id(msg)]

    def replied_delivery(self, msg: ParsedMessage) -> int | None:
        d = proof.replied_delivery(self.s, msg)
        return d.id if d else None

    def answers_our_mail(self, msg: ParsedMessage) -> bool:
        ids = [i for i in (msg.in_reply_to, *msg.references) if i]
        return (
            bool(ids)
            and self.s.exec(select(Outbox.id).where(col(Outbox.message_id).in_(ids)).limit(1)).first()
            is not None
        )

    def sent_by_us(self, msg: ParsedMessage) -> bool:
        return (
            msg.message_id is not None
            and self.s.exec(select(Outbox.id).where(Outbox.message_id == msg.message_id).limit(1)).first()
            is not None
        )

    def duplicate_of(self, msg: ParsedMessage, sha: str) -> int | None:
        doc = _duplicate_of(self.s, msg, sha)
        return doc.id if doc else None


class Intake:
    def __init__(
        self,
        *,
        engine: sa.Engine,
        rules: Rules,
        archive: Archive,
        recognize: Recognizer,
        sender_addr: str,
        own_addresses: frozenset[str],
        quarantine_dir: Path,
        dns: signatures.DnsTxt | None = None,
        holdings: leases.Holdings | None = None,
    ):
        self.engine, self.rules, self.archive = engine, rules, archive
        self.dns = dns  # DKIM key lookups (`signatures`); None: DNS itself
        self.holdings = holdings  # the mailboxes this process reads under a lease
        self.recognize, self.sender_addr = recognize, sender_addr
        self.own = own_addresses | rules.own_addresses | {sender_addr.lower()}
        self.quarantine_dir = Path(quarantine_dir)

    # -- the pipeline ---------------------------------------------------------

    def process(
        self, fetched: Fetched, journal_key: str | None = None, *, verdict: Verdict | None = None
    ) -> Outcome:
        """One message through the pipeline; `verdict`, when a person already decided what
        it is (the clerk registering queued mail as an appeal), instead of the triage's."""
        return self._run(Incoming(fetched, journal_key, verdict=verdict))

    def register_paper(
        self,
        filename: str,
        data: bytes,
        content_type: str,
        journal_key: str | None = None,
        *,
        channel: str = WRITTEN,
        received_at: dt.datetime | None = None,
    ) -> Outcome:
        """Paper scanned in the chancellery (`mailflow register`): posted, handed in at a
        visit, or written; `received_at` when it came, if not today."""
        sha = self.archive.put(data, suffix=".bin")
        att = Attachment(mime.safe_filename(filename), content_type, data, sha)
        parsed = ParsedMessage(
            message_id=None,
            subject=att.filename,
            from_addr="",
            from_name="",
            reply_to=None,
            to=(),
            date=None,
            in_reply_to=None,
            references=(),
            auto_submitted=None,
            precedence=None,
            content_type=content_type,
            body_text="",
            attachments=(att,),
            defects=(),
        )
        fetched = Fetched(Source("paper", "file", sha), data, received_at or dt.datetime.now(dt.UTC))
        return self._run(
            Incoming(
                fetched,
                journal_key,
                parsed=parsed,
                channel=channel,
                paper=True,
                verdict=Verdict(Disposition.APPEAL, "paper mail registered by the clerk", "paper"),
            )
        )

    def prepare(self, fetched: Fetched, journal_key: str | None = None) -> Incoming:
        """The reading half of `process` (archive to read), outside any transaction; the
        message then waits in a group for `record_group` (a backlog: issue 13.6)."""
        st = self.archive.stage(fetched.raw)  # settled with its group, before it commits
        m = Incoming(fetched, journal_key, sha256=st.sha256, staged=[st])
        try:
            self._steps(m, READING)
        except BaseException:  # the group is not reached (the lease lost): archived all the same
            self._settle([m])
            raise
        return m

    def record_group(self, group: list[Incoming]) -> list[Outcome]:
        """The writing half for many prepared messages: one transaction, one savepoint
        each. A message whose savepoint fails, or all of them if the commit fails, is
        then recorded alone, exactly as `process` would; nothing is moved before its
        transaction commits (the caller moves after this returns)."""
        self._settle(group)  # every message archived durably before any is recorded
        waiting = [m for m in group if m.outcome is None]
        alone: list[Incoming] = []
        if len(waiting) > 1:
            try:
                with Session(self.engine, expire_on_commit=False) as s, s.begin():
                    head = journal.lock(s)
                    for mailbox in sorted({m.fetched.source.mailbox for m in waiting}):
                        leases.fence(s, self.holdings, mailbox)  # still ours? else roll back
                    for m in waiting:
                        try:
                            with s.begin_nested():
                                assert m.verdict is not None
                                m.outcome = _record_inbound(
                                    s, head, m.fetched, m.sha256, m.parsed, m.verdict, self._acting(m)
                                )
                        except Exception as exc:  # its savepoint is undone; the rest go on
                            log.warning(
                                "%s is recorded alone: %s: %s", m.fetched.source, type(exc).__name__, exc
                            )
                            alone.append(m)
            except leases.LeaseLost:
                raise  # the whole group waits in the mailbox for the new holder
            except Exception:
                log.exception("a group of %d messages did not commit; each is recorded alone", len(waiting))
                alone = waiting
            for m in alone:
                m.outcome = None
        else:
            alone = waiting
        for m in alone:
            self._steps(m, (("record", record),))
        return [m.outcome for m in group if m.outcome is not None]

    def _settle(self, group: list[Incoming]) -> None:
        self.archive.settle([st for m in group for st in m.staged or ()])
        for m in group:
            if m.staged is not None:
                m.staged.clear()

    def _run(self, m: Incoming) -> Outcome:
        self._steps(m, PIPELINE)
        assert m.outcome is not None, "the pipeline ended without an outcome"
        return m.outcome

    def _steps(self, m: Incoming, steps: tuple[tuple[str, Step], ...]) -> None:
        """Run `steps` until one gives an outcome; whatever breaks, the message is kept
        (archived first of all) and the clerk told."""
        if not m.sha256:
            m.sha256 = self.archive.put(m.fetched.raw)  # before anything else: nothing is ever lost
        m.lookups = JournalView(self.engine)
        at = "archive"
        try:
            for at, step in steps:  # noqa: B007 (`at` is read by the except below)
                step(self, m)
                if m.outcome is not None:
                    return
        except leases.LeaseLost:
            raise  # not the message's fault: it stays in the mailbox for the new holder
        except Exception as exc:
            reason = str(exc) if isinstance(exc, Unprocessable) else f"{type(exc).__name__}: {exc}"
            log.exception("quarantining %s (step %s): %s", m.fetched.source, at, reason)
            m.lookups.close()  # no session is held while the quarantine writes
            self._settle([m])  # archived durably before the quarantine commits
            m.outcome = self.quarantine(
                m.fetched, m.sha256, m.parsed, reason, traceback.format_exc(), journal_key=m.journal_key
            )
        finally:
            m.lookups.close()

    # -- acting on a verdict, inside the one write transaction ------------------

    def _register(self, s: Session, head: ChainHead, inb: Inbound, m: Incoming) -> Outcome:
        reg = m.reg
        assert reg is not None
        first = reg.message and _duplicate_of(s, reg.message, reg.sha256)  # again, under the lock
        if first:
            return self._link(s, head, inb, first)
        doc = registration.register(s, head, self.rules, reg, sender_addr=self.sender_addr, inbound_id=inb.id)
        inb.status, inb.document_id = "registered", doc.id
        log.info(
            "registered %s (%s, %s) from %s",
            doc.number,
            doc.kind or "kind?",
            reg.channel,
            _mask(reg.message.from_addr if reg.message else None),
        )
        return Outcome("registered", "processed", doc.number)

    def _appeal(self, s: Session, head: ChainHead, inb: Inbound, m: Incoming) -> Outcome:
        if m.first is not None:
            doc = s.get(Document, m.first)
            assert doc is not None
            return self._link(s, head, inb, doc)
        return self._register(s, head, inb, m)

    def _reply(self, s: Session, head: ChainHead, inb: Inbound, m: Incoming) -> Outcome:
        """A reply carrying a case: a resolution (1.6) or a step of the answer (section 3)."""
        assert m.verdict is not None and m.verdict.reply is not None and m.parsed is not None
        token = s.get(Token, m.verdict.reply.token.id)  # fresh, under the lock: used by now?
        assert token is not None
        ctx = replies.ReplyContext(token, m.verdict.reply.matched_by)
        now = dt.datetime.now(dt.UTC)
        handle = (
            answering.handle_reply
            if token.purpose == "answer"
            else extension.handle_reply
            if token.purpose in extension.PURPOSES
            else report_review.handle_reply
            if token.purpose in report_review.PURPOSES
            else resolution.handle_reply
        )
        result = handle(
            s,
            head,
            self.rules,
            msg=m.parsed,
            ctx=ctx,
            inbound_id=id_of(inb),
            sender_addr=self.sender_addr,
            archive=self.archive,
            now=now,
        )
        inb.status, inb.document_id, inb.reason = result.status, token.document_id, result.reason
        log.info("reply to %s: %s (%s)", result.number, result.status, result.reason)
        return Outcome(result.status, "processed", result.number, result.reason)

    def _request(self, s: Session, head: ChainHead, inb: Inbound, m: Incoming) -> Outcome:
        """Staff asking about a case in words («ПРОДЛИТЬ ДО …»): by its number or any of our letters."""
        assert m.verdict is not None and m.parsed is not None
        if m.verdict.rule == "substitute":  # «ЗАМЕЩАЕТ …»: about people, not a case
            said = substitutes.handle(
                s,
                head,
                self.rules,
                msg=m.parsed,
                inbound_id=id_of(inb),
                sender_addr=self.sender_addr,
                now=dt.datetime.now(dt.UTC),
            )
            inb.status, inb.reason = said.status, said.reason
            log.info("absence: %s (%s)", said.status, said.reason)
            return Outcome(said.status, "processed", None, said.reason)
        ctx = m.verdict.reply
        if ctx is not None:  # fresh, under the lock
            token = s.get(Token, ctx.token.id)
            assert token is not None
            ctx = replies.ReplyContext(token, ctx.matched_by)
        result = extension.handle_request(
            s,
            head,
            self.rules,
            msg=m.parsed,
            ctx=ctx,
            inbound_id=id_of(inb),
            sender_addr=self.sender_addr,
            now=dt.datetime.now(dt.UTC),
        )
        inb.status, inb.reason = result.status, result.reason
        if result.number:
            doc = s.exec(select(Document).where(Document.number == result.number)).first()
            inb.document_id = doc.id if doc else None
        log.info("request about %s: %s (%s)", result.number, result.status, result.reason)
        return Outcome(result.status, "processed", result.number, result.reason)

    def _delivery_reply(self, s: Session, head: ChainHead, inb: Inbound, m: Incoming) -> Outcome:
        """An addressee answered the forwarded resolution: proof, and the clerk looks at it."""
        assert m.verdict is not None and m.parsed is not None
        d = s.get(Delivery, m.verdict.delivery_id)
        assert d is not None
        proof.mark_replied(s, head, d, inbound_id=id_of(inb), sender=m.parsed.from_addr)
        inb.status, inb.document_id = "review", d.document_id
        doc = s.get(Document, d.document_id)
        self._tell_clerks(
            s,
            inb,
            "review",
            reason=f"ответ на письмо с резолюцией ({d.to_addr})",
            journal=doc.journal if doc else m.journal_key,
        )
        return Outcome("review", "processed", None, "reply to a forwarded resolution")

    def _receipt(self, s: Session, head: ChainHead, inb: Inbound, m: Incoming) -> Outcome:
        assert m.verdict is not None and m.verdict.receipt is not None
        report = m.verdict.receipt
        found = proof.match(s, report)
        what = proof.record(
            s,
            head,
            self.rules,
            report,
            found,
            inbound_id=id_of(inb),
            sha256=inb.sha256,
            sender_addr=self.sender_addr,
            own=self.own,
            journal_key=m.journal_key,
        )
        inb.status = "receipt" if found.delivery else "review"
        inb.document_id = found.delivery.document_id if found.delivery else None
        inb.reason = f"{report.kind}: {what}" + (f" (by {found.how})" if found.delivery else "")
        return Outcome(inb.status, "processed", None, inb.reason)

    def _record(self, s: Session, head: ChainHead, inb: Inbound, m: Incoming) -> Outcome:
        """Auto-replies, loops, our notices to the person reading this mailbox, and what
        the clerk must read: recorded, never answered."""
        assert m.verdict is not None
        review = m.verdict.disposition == Disposition.REVIEW
        staff = m.verdict.disposition == Disposition.STAFF
        inb.status = "review" if review else "recorded"
        journal.append(
            s,
            head,
            f"received_{m.verdict.disposition.value}",
            inbound_id=inb.id,
            reason=m.verdict.reason,
            rule=m.verdict.rule,
            sha256=inb.sha256,
        )
        if review:
            self._tell_clerks(s, inb, "review", reason=m.verdict.reason, journal=m.journal_key)
        if m.verdict.disposition == Disposition.AUTO_REPLY and m.verdict.delivery_id:
            d = s.get(Delivery, m.verdict.delivery_id)
            if d is not None:
                to = resolution.away_answered(
                    s,
                    head,
                    self.rules,
                    d,
                    inbound_id=id_of(inb),
                    reason=m.verdict.reason,
                    sender_addr=self.sender_addr,
                    archive=self.archive,
                    now=dt.datetime.now(dt.UTC),
                )
                inb.document_id = d.document_id
                inb.reason = m.verdict.reason + (f"; forwarded to {to}" if to else "")
        return Outcome(inb.status, "staff" if staff else "processed", None, m.verdict.reason)

    def _link(self, s: Session, head: ChainHead, inb: Inbound, doc: Document) -> Outcome:
        inb.status, inb.document_id = "linked", doc.id
        journal.append(
            s,
            head,
            "linked",
            document_id=doc.id,
            inbound_id=inb.id,
            number=doc.number,
            reason="re-sent or re-forwarded copy",
        )
        log.info("linked a copy to %s", doc.number)
        return Outcome("linked", "processed", doc.number, "copy of a registered appeal")

    def _act(self, s: Session, head: ChainHead, inb: Inbound, m: Incoming) -> Outcome:
        assert m.verdict is not None
        v = m.verdict
        if v.disposition == Disposition.APPEAL:
            return self._appeal(s, head, inb, m)
        if v.disposition in (Disposition.DSN, Disposition.MDN):
            return self._receipt(s, head, inb, m)
        if v.disposition == Disposition.REPLY:
            return self._reply(s, head, inb, m) if v.reply else self._delivery_reply(s, head, inb, m)
        if v.disposition == Disposition.REQUEST:
            return self._request(s, head, inb, m)
        return self._record(s, head, inb, m)

    def _acting(self, m: Incoming) -> Callable[[Session, ChainHead, Inbound], Outcome]:
        return lambda s, head, inb: self._act(s, head, inb, m)

    def _write(
        self,
        fetched: Fetched,
        sha: str,
        parsed: ParsedMessage | None,
        verdict: Verdict,
        act: Callable[[Session, ChainHead, Inbound], Outcome],
    ) -> Outcome:
        """One transaction: the Inbound row and what `act` does with it."""
        try:
            with Session(self.engine, expire_on_commit=False) as s, s.begin():
                head = journal.lock(s)
                leases.fence(s, self.holdings, fetched.source.mailbox)  # still ours? else roll back
                return _record_inbound(s, head, fetched, sha, parsed, verdict, act)
        except IntegrityError as exc:
            name = db.constraint_of(exc)
            if name == INBOUND_KEY:  # another daemon recorded the same UID first
                return Outcome("lost-race", None, None, "another process took it")
            # anything else is the journal refusing this message (a number taken
            # twice, a counter behind the journal): never retried in silence
            log.error("the journal refused %s: constraint %s: %s", fetched.source, name, exc.orig)
            if verdict.rule == "quarantine":
                raise
            return self.quarantine(
                fetched,
                sha,
                parsed,
                f"журнал отказал в записи: нарушено ограничение {name} ({exc.orig})",
                traceback.format_exc(),
            )

    # -- quarantine -------------------------------------------------------------

    def quarantine(
        self,
        fetched: Fetched,
        sha: str,
        parsed: ParsedMessage | None,
        reason: str,
        tb: str = "",
        *,
        journal_key: str | None = None,
    ) -> Outcome:
        self._quarantine_copy(fetched, sha, reason)
        try:
            return self._record_quarantine(fetched, sha, parsed, reason, tb, journal_key)
        except leases.LeaseLost:
            raise
        except Exception:
            if parsed is None:
                raise  # the database itself is failing: leave the message for the next pass
            log.exception("recording the quarantine failed; retrying without the parsed headers")
            return self.quarantine(fetched, sha, None, reason, tb, journal_key=journal_key)

    def _record_quarantine(
        self,
        fetched: Fetched,
        sha: str,
        parsed: ParsedMessage | None,
        reason: str,
        tb: str,
        journal_key: str | None,
    ) -> Outcome:
        # our own mail that cannot be handled is never announced to our own mailbox:
        # the notice would come back, fail the same way and be announced again
        ours = _marked_ours(fetched.raw)

        def act(s: Session, head: ChainHead, inb: Inbound) -> Outcome:
            inb.status, inb.disposition = "quarantined", "unknown"
            inb.reason, inb.traceback = clean(reason, 4000), clean(tb[-20000:]) or None
            journal.append(s, head, "quarantined", inbound_id=inb.id, reason=reason[:1000], sha256=sha)
            self._tell_clerks(
                s, inb, "quarantine", reason=reason, journal=journal_key, exclude=self.own if ours else ()
            )
            return Outcome("quarantined", "quarantine", None, reason)

        return self._write(fetched, sha, parsed, Verdict(Disposition.REVIEW, reason, "quarantine"), act)

    def _quarantine_copy(self, fetched: Fetched, sha: str, reason: str) -> None:
        """A plain-file view for the operator; the archive holds the original."""
        self.quarantine_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.quarantine_dir / f"{sha}.eml"
        original = self.archive.local_path(sha)
        if not target.exists() and not target.is_symlink():
            try:
                if original is not None:
                    target.symlink_to(original)
                else:  # the archive is in the database: a copy of this machine's own
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(fetched.raw)
            except OSError:
                pass
        (self.quarantine_dir / f"{sha}.reason.txt").write_text(
            f"source: {fetched.source.mailbox} {fetched.source.uidvalidity} {fetched.source.uid}\n"
            f"reason: {reason}\n",
            encoding="utf-8",
        )

    def _tell_clerks(
        self,
        s: Session,
        inb: Inbound,
        template: str,
        *,
        reason: str,
        journal: str | None,
        exclude: frozenset[str] | tuple[()] = (),
    ) -> None:
        """The clerks of `journal` (the mailbox's, or the case's) read what came."""
        notices.send(
            s,
            self.rules,
            template,
            sender_addr=self.sender_addr,
            role=CLERK,
            key=f"{template}:{inb.id}",
            inbound_id=inb.id,
            journal=journal,
            exclude=exclude,
            mailbox=inb.mailbox,
            from_addr=inb.from_addr,
            subject=inb.subject,
            message_id=inb.message_id,
            received_at=inb.received_at.astimezone(KZ_TZ),
            reason=reason,
            sha256=inb.sha256,
        )


# -- the steps ----------------------------------------------------------------------


def seen(intake: Intake, m: Incoming) -> None:
    """A message recorded before (a crash before the move): only move it."""
    assert m.lookups is not None
    inb = m.lookups.inbound(m.fetched.source)
    if inb is not None:
        m.outcome = _already(inb)


def parse(intake: Intake, m: Incoming) -> None:
    if m.parsed is not None:  # paper: made by `register_paper`
        return
    limit = intake.rules.limits.max_message_bytes
    if len(m.fetched.raw) > limit:
        raise Unprocessable(
            f"message is {len(m.fetched.raw) / 2**20:.1f} MB, over the {limit / 2**20:.0f} MB limit; not read"
        )
    m.parsed = mime.parse(m.fetched.raw)
    if intake.rules.routing.verify_dkim:
        m.parsed = dataclasses.replace(
            m.parsed, dkim_verified=signatures.verified_domains(m.fetched.raw, intake.dns)
        )


def classify_step(intake: Intake, m: Incoming) -> None:
    assert m.parsed is not None and m.lookups is not None
    m.sender = intake.rules.staff.by_email(m.parsed.from_addr)
    if m.verdict is None:
        m.verdict = classify(Message(m.fetched.raw, m.parsed, m.sender, intake.rules, intake.own), m.lookups)
    if m.verdict.disposition == Disposition.APPEAL and not m.paper and _scans(m.parsed):
        # a copy of a scan is found before the slow reading, not after
        m.first = m.lookups.duplicate_of(m.parsed, m.sha256)
    m.lookups.close()  # no session is held while the scans are read


def read(intake: Intake, m: Incoming) -> None:
    """An appeal's fields, read from its body and scans (OCR), outside any transaction."""
    assert m.parsed is not None and m.verdict is not None
    if m.verdict.disposition != Disposition.APPEAL or m.first is not None:
        return
    if m.staged is None:
        intake.archive.put_all([a.data for a in m.parsed.attachments], suffix=".bin")
    else:  # a group's message: durable with the group, before it commits
        m.staged += [intake.archive.stage(a.data, suffix=".bin") for a in m.parsed.attachments]
    channel = m.channel or intake.rules.channel_for(m.sender)
    rec = intake.recognize(m.parsed, m.sender, channel)
    message = None if m.paper else m.parsed
    m.reg = registration.Registration(
        journal=intake.rules.journal(m.journal_key),
        channel=channel,
        received_at=m.fetched.received_at,
        sha256=m.sha256,
        recognition=rec if m.paper else _flag_dropped_content(m.parsed, rec),
        message=message,
        sender=m.sender,
        files=m.parsed.attachments if m.paper else scans.forwardable(m.parsed.attachments),
        talon=m.paper or not talon.is_backlog(m.fetched.received_at, intake.rules.talon_max_age_days),
    )


def record(intake: Intake, m: Incoming) -> None:
    assert m.verdict is not None
    m.outcome = intake._write(m.fetched, m.sha256, m.parsed, m.verdict, intake._acting(m))


Step = Callable[[Intake, Incoming], None]
READING: tuple[tuple[str, Step], ...] = (
    ("seen", seen),
    ("parse", parse),
    ("classify", classify_step),
    ("read", read),
)  # outside any transaction; a backlog reads several, then records them together
PIPELINE: tuple[tuple[str, Step], ...] = (*READING, ("record", record))
# "archive" comes before (Intake._steps), "move" after, by the caller


def _record_inbound(
    s: Session,
    head: ChainHead,
    fetched: Fetched,
    sha: str,
    parsed: ParsedMessage | None,
    verdict: Verdict,
    act: Callable[[Session, ChainHead, Inbound], Outcome],
) -> Outcome:
    """Inside the writer's transaction: the Inbound row (unless recorded before) and what
    `act` does with it."""
    seen = _inbound(s, fetched.source)
    if seen is not None:
        return _already(seen)
    inb = _new_inbound(fetched, sha, parsed, verdict, "received")
    s.add(inb)
    s.flush()
    return act(s, head, inb)


def _already(inb: Inbound) -> Outcome:
    folder = (
        "quarantine"
        if inb.status == "quarantined"
        else "staff"
        if inb.disposition == Disposition.STAFF.value
        else "processed"
    )
    return Outcome("already", folder, None, f"already {inb.status}")


_OUR_MARK = re.compile(rb"^x-mailflow-kind\s*:", re.I | re.M)


def _marked_ours(raw: bytes) -> bool:
    """The raw message's header carries our mark (read without parsing: it may not parse)."""
    end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))
    return bool(_OUR_MARK.search(raw[:end]))


def _inbound(s: Session, src: Source) -> Inbound | None:
    return s.exec(
        select(Inbound).where(
            Inbound.mailbox == src.mailbox, Inbound.uidvalidity == src.uidvalidity, Inbound.uid == src.uid
        )
    ).first()


def _new_inbound(
    fetched: Fetched, sha: str, parsed: ParsedMessage | None, verdict: Verdict, status: str
) -> Inbound:
    src = fetched.source
    return Inbound(
        mailbox=src.mailbox,
        uidvalidity=src.uidvalidity,
        uid=src.uid,
        message_id=clean(parsed.message_id, 998) if parsed else None,
        sha256=sha,
        size=len(fetched.raw),
        from_addr=clean(parsed.from_addr, 320) if parsed else None,
        subject=clean(parsed.subject, 2000) if parsed else None,
        received_at=fetched.received_at,
        fetched_at=dt.datetime.now(dt.UTC),
        disposition=verdict.disposition.value,
        rule=clean(verdict.why, 500),
        status=status,
    )


def _duplicate_of(s: Session, msg: ParsedMessage, sha: str) -> Document | None:
    """The document this message repeats: same raw bytes, Message-ID or scans."""
    q = select(Document).join(Inbound, col(Inbound.document_id) == col(Document.id))
    doc = s.exec(q.where(Inbound.sha256 == sha)).first()
    if doc is None and msg.message_id:
        doc = s.exec(q.where(Inbound.message_id == msg.message_id)).first()
    found = _scans(msg)
    if doc is None and found:
        rows = s.exec(
            select(DocAttachment.document_id, DocAttachment.sha256).where(
                col(DocAttachment.sha256).in_(found)
            )
        ).all()
        by_doc: dict[int, set[str]] = {}
        for doc_id, h in rows:
            by_doc.setdefault(doc_id, set()).add(h)
        same = [d for d, hs in by_doc.items() if hs == found]
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


def _scans(msg: ParsedMessage) -> set[str]:
    return {a.sha256 for a in msg.attachments if scans.is_scan(a.content_type)}


def _mask(address: str | None) -> str:
    """Personal data stays out of logs: keep the domain, hide the mailbox."""
    if not address or "@" not in address:
        return "?"
    local, domain = address.split("@", 1)
    return f"{local[:2]}…@{domain}"
