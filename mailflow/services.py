"""The application's acts on the journal, as people ask for them.

The CLI calls these, and the web workplace will; the daemon's e-mail path
reaches the same acts (resolution.record, answering, extension.extend)
through intake. Each act is one transaction under the journal lock; an act
the case's state does not allow raises `Refused`, with the reason in
Russian, and writes nothing. Built by the composition root (daemon.build).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from . import (
    anonymity,
    answering,
    correction,
    extension,
    journal,
    monitoring,
    redirect,
    repeats,
    resolution,
    resolution_text,
    talon,
    talon_pdf,
)
from .archive import Archive
from .case.actors import CHANCELLERY, Actor, actor
from .case.queries import case_version
from .case.states import Capacity, IllegalTransition
from .models import ChainHead, Delivery, Document, Handover, Outbox, id_of
from .rules import Rules
from .values import KZ_TZ, Attachment

T = TypeVar("T")


class Refused(Exception):
    """The act was not done; the message says why, in Russian."""


class NotFound(Refused):
    """No document with that number."""


class NotAllowed(Refused):
    """The person named is not in the staff directory with the right to do it."""


class Conflict(Refused):
    """The case changed since the person looked at it (its version moved on)."""


class Invalid(Refused):
    """A value that cannot be stored; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Resolved:
    number: str
    executors: tuple[str, ...]
    due: dt.date
    capped: bool  # a later date than the law allows was held to the law's


class Services:
    def __init__(self, engine: sa.Engine, rules: Rules, archive: Archive, sender_addr: str):
        self.engine, self.rules, self.archive, self.sender_addr = engine, rules, archive, sender_addr

    def _act(self, number: str, fn: Callable[[Session, ChainHead, Document], T]) -> T:
        """One transaction under the journal lock; a refusal rolls all of it back."""
        try:
            with Session(self.engine, expire_on_commit=False) as s, s.begin():
                head = journal.lock(s)
                doc = s.exec(select(Document).where(Document.number == number)).first()
                if doc is None:
                    raise NotFound(f"документ {number} не найден в журнале")
                return fn(s, head, doc)
        except IllegalTransition as exc:
            raise Refused(f"{number}: {exc}") from None

    def staff_actor(self, address: str, what: str, *allowed: Capacity) -> Actor:
        """The staff member at `address`, who must have one of `allowed` (else NotAllowed)."""
        who = actor(self.rules, address)
        if not who.capacities & set(allowed):
            raise NotAllowed(f"{address}: нет в справочнике сотрудников с правом {what}")
        return who

    def resolve(self, number: str, text: str, by: str | None, *, entered_by: str | None = None) -> Resolved:
        """A paper resolution signed by `by` (1.6), or by nobody named; `entered_by` is the
        clerk who typed it in at the workplace (the chancellery's, at the command line)."""
        rules = self.rules
        clerk = self.staff_actor(entered_by, "вносить резолюции", Capacity.CLERK) if entered_by else None
        who, name = clerk or CHANCELLERY, "резолюция на бумаге, внесена канцелярией"
        if by:
            who = self.staff_actor(by, "резолюции", Capacity.MANAGEMENT)
            name = _name(rules, who.address)
        today = dt.datetime.now(KZ_TZ).date()
        understood = resolution_text.parse_resolution(
            resolution_text.strip_quoted(text), rules.staff, today=today
        )
        if isinstance(understood, resolution_text.Unclear):
            raise Refused(
                "резолюция не внесена — уточните:\n" + "\n".join(f"  • {p}" for p in understood.problems)
            )

        def act(s: Session, head: ChainHead, doc: Document) -> Resolved:
            d = resolution.decide(understood, text, rules, doc, today)
            resolution.record(
                s,
                head,
                rules,
                doc,
                d,
                by=who,
                author_name=name,
                source="paper",
                inbound_id=None,
                sender_addr=self.sender_addr,
                archive=self.archive,
                entered_by=clerk.address if clerk and clerk is not who else None,
            )
            return Resolved(doc.number, tuple(p.name for p in d.addressees), d.due, d.capped)

        return self._act(number, act)

    def extend(
        self, number: str, *, until: dt.date, reason: str, by: str, entered_by: str | None = None
    ) -> extension.Extended:
        """A head's reasoned decision to extend the term (АППК art. 76 p. 2); `entered_by`,
        the clerk who typed a paper decision in at the workplace."""
        who = self.staff_actor(by, "продлевать срок", Capacity.MANAGEMENT, Capacity.UNIT_HEAD)
        clerk = self.staff_actor(entered_by, "вносить решения", Capacity.CLERK) if entered_by else None

        def act(s: Session, head: ChainHead, doc: Document) -> extension.Extended:
            try:
                return extension.extend(
                    s,
                    head,
                    self.rules,
                    doc,
                    until=until,
                    reason=reason,
                    by=who,
                    sender_addr=self.sender_addr,
                    today=dt.datetime.now(KZ_TZ).date(),
                    entered_by=clerk.address if clerk and clerk.address != who.address else None,
                )
            except extension.Refused as exc:
                raise Refused(str(exc)) from None

        return self._act(number, act)

    def extension_notified(self, number: str, *, how: str, by: str) -> None:
        """The clerk records how the applicant was told of the latest extension (АППК art. 76 p. 2)."""
        who = self.staff_actor(by, "отмечать уведомления заявителей", Capacity.CLERK)

        def act(s: Session, head: ChainHead, doc: Document) -> None:
            try:
                extension.record_notice(
                    s, head, self.rules, doc, how=how, by=who, now=dt.datetime.now(dt.UTC)
                )
            except extension.Refused as exc:
                raise Refused(str(exc)) from None

        self._act(number, act)

    def close(self, number: str, *, copy: Attachment, sent: str, by: str) -> None:
        """The clerk files the paper copy of the sent answer (3.8): the case is closed."""
        who = Actor(by, CHANCELLERY.capacities)

        def act(s: Session, head: ChainHead, doc: Document) -> None:
            try:
                answering.close_by_clerk(
                    s,
                    head,
                    self.rules,
                    doc,
                    copy=copy,
                    dispatch=answering.parse_dispatch(sent),
                    by=who,
                    archive=self.archive,
                    now=dt.datetime.now(dt.UTC),
                    sender_addr=self.sender_addr,
                )
            except answering.BadDispatch as exc:
                raise Refused(str(exc)) from None

        self._act(number, act)

    def dispatch(self, number: str, *, sent: str, by: str) -> None:
        """The clerk records that the answer went out (3.7): Kazpost with its РПО, or by
        courier; the executor is asked for the copy (3.8)."""
        who = self.staff_actor(by, "отмечать отправку ответов", Capacity.CLERK)

        def act(s: Session, head: ChainHead, doc: Document) -> None:
            try:
                answering.dispatch_by_clerk(
                    s,
                    head,
                    self.rules,
                    doc,
                    dispatch=answering.parse_dispatch(sent),
                    text=sent.strip(),
                    by=who,
                    sender_addr=self.sender_addr,
                    now=dt.datetime.now(dt.UTC),
                )
            except answering.BadDispatch as exc:
                raise Refused(str(exc)) from None

        self._act(number, act)

    def may(self, address: str, action: str) -> bool:
        """Whether the staff member at `address` has `action` in rules/access.toml."""
        person = self.rules.staff.by_email(address)
        rights = self.rules.access.rights(person.roles) if person else None
        return rights is not None and action in rights.may

    def correct(
        self, number: str, values: Mapping[str, object], *, by: str, version: int | None = None
    ) -> list[correction.Change]:
        """A person corrects fields of a registered document; `version` (the case's
        last event, as they saw it) guards against overwriting someone else's change."""
        if not self.may(by, "correct"):
            raise NotAllowed(f"{by}: нет права исправлять карточки")
        try:
            clean = correction.validate(values)
        except correction.BadValue as exc:
            raise Invalid(exc.field, exc.message) from None

        def act(s: Session, head: ChainHead, doc: Document) -> list[correction.Change]:
            if version is not None and version != case_version(s, id_of(doc)):
                raise Conflict(f"{number}: карточку изменили, пока вы её смотрели; откройте её заново")
            who = actor(self.rules, by)
            changes = correction.correct(s, head, doc, clean, who)
            if any(c.field == "kind" for c in changes):  # an entry of unknown kind gets its number (2.4)
                monitoring.settle(s, head, self.rules, doc, by=who, sender_addr=self.sender_addr)
            return changes

        return self._act(number, act)

    def redirect(self, number: str, *, to: str, reason: str, by: str) -> redirect.Redirected:
        """Outside competence: to the competent body, the applicant told (АППК art. 76 p. 3)."""
        who = self.staff_actor(by, "перенаправлять обращения", Capacity.CLERK, Capacity.MANAGEMENT)

        def act(s: Session, head: ChainHead, doc: Document) -> redirect.Redirected:
            try:
                return redirect.redirect(
                    s,
                    head,
                    self.rules,
                    doc,
                    to=redirect.target(to),
                    reason=reason,
                    by=who,
                    sender_addr=self.sender_addr,
                    archive=self.archive,
                    now=dt.datetime.now(dt.UTC),
                )
            except redirect.Refused as exc:
                raise Refused(str(exc)) from None

        return self._act(number, act)

    def anonymous(self, number: str, *, consider: bool, reason: str, by: str) -> None:
        """The clerk's decision on an appeal flagged as anonymous."""
        who = self.staff_actor(by, "решать об анонимных обращениях", Capacity.CLERK)

        def act(s: Session, head: ChainHead, doc: Document) -> None:
            try:
                anonymity.decide(
                    s,
                    head,
                    self.rules,
                    doc,
                    consider=consider,
                    reason=reason,
                    by=who,
                    now=dt.datetime.now(dt.UTC),
                )
            except anonymity.Refused as exc:
                raise Refused(str(exc)) from None

        self._act(number, act)

    def repeat(self, number: str, *, of: str | None, by: str) -> str | None:
        """The clerk links a repeated appeal to its earlier case (`of`), or undoes the
        link (`of` None); returns the first case's number (or the unlinked one's)."""
        who = self.staff_actor(by, "связывать повторные обращения", Capacity.CLERK)

        def act(s: Session, head: ChainHead, doc: Document) -> str | None:
            try:
                if of is None:
                    return repeats.unlink(s, head, doc, by=who)
                earlier = s.exec(select(Document).where(Document.number == of)).first()
                if earlier is None:
                    raise NotFound(f"документ {of} не найден в журнале")
                return repeats.link(s, head, doc, earlier, by=who, automatic=False).number
            except repeats.NotRepeat as exc:
                raise Refused(str(exc)) from None

        return self._act(number, act)

    def outbox_retry(self, ids: list[int] | None, *, by: str) -> int:
        """Failed mail queued again (`None`: all failed), e.g. after the relay's login was fixed."""
        now = dt.datetime.now(dt.UTC)
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            head = journal.lock(s)
            q = select(Outbox).where(Outbox.status == "failed")
            if ids is not None:
                q = q.where(col(Outbox.id).in_(ids))
            rows = s.exec(q).all()
            if ids is not None and len(rows) != len(set(ids)):
                missing = sorted(set(ids) - {r.id for r in rows})
                raise NotFound(f"нет неотправленных писем с номерами {missing}; ничего не изменено")
            for row in rows:
                row.status, row.next_attempt_at, row.claimed_by = "pending", now, None
                for d in s.exec(select(Delivery).where(Delivery.outbox_id == row.id)).all():
                    d.failed_at = None  # the attempt's refusal stays in the journal
                    s.add(d)
                s.add(row)
                journal.append(
                    s, head, "outbox_retried", document_id=row.document_id, outbox_id=row.id, by=by
                )
        return len(rows)

    def outbox_cancel(self, ids: list[int], *, reason: str, by: str) -> int:
        """Mail that must not go (pending or failed) is cancelled, with the reason."""
        if not reason.strip():
            raise Refused("укажите причину отмены (--reason)")
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            head = journal.lock(s)
            rows = s.exec(
                select(Outbox).where(col(Outbox.id).in_(ids), col(Outbox.status).in_(("pending", "failed")))
            ).all()
            if len(rows) != len(set(ids)):
                missing = sorted(set(ids) - {r.id for r in rows})
                raise NotFound(
                    f"нет ожидающих или неотправленных писем с номерами {missing}; ничего не изменено"
                )
            for row in rows:
                row.status, row.claimed_by = "cancelled", None
                s.add(row)
                journal.append(
                    s,
                    head,
                    "outbox_cancelled",
                    document_id=row.document_id,
                    outbox_id=row.id,
                    by=by,
                    reason=reason,
                )
        return len(rows)

    def handover(self, numbers: list[str], *, unit: str, by: str) -> int:
        """Paper handed over at a unit's reporting meeting (1.13, 2.12), all or none."""
        now = dt.datetime.now(dt.UTC)
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            head = journal.lock(s)
            docs = {d.number: d for d in s.exec(select(Document).where(col(Document.number).in_(numbers)))}
            missing = [n for n in numbers if n not in docs]
            if missing:
                raise NotFound(f"не найдены в журнале: {', '.join(missing)}; ничего не отмечено")
            for n in numbers:
                s.add(Handover(document_id=id_of(docs[n]), unit=unit, at=now, by=by))
                journal.append(s, head, "handover", document_id=docs[n].id, unit=unit, by=by)
        return len(numbers)

    def print_talon(
        self, number: str, *, out: Path, font: Path | None = None, by: str = CHANCELLERY.address
    ) -> Path:
        """The case's talon as a PDF at `out`, to print and hand over to an applicant
        without e-mail (1.4); the same words as the e-mailed talon. An event records
        the file and its sha256; nothing is written when the file cannot be."""
        try:
            font_file = talon_pdf.find_font(font)
        except talon_pdf.FontMissing as exc:
            raise Invalid("talon_font", str(exc)) from None

        def act(s: Session, head: ChainHead, doc: Document) -> Path:
            facts = talon.of_document(doc)
            subject, body = talon.text(self.rules, self.rules.journal(doc.journal), facts, printed=True)
            pdf = talon_pdf.render(body, title=subject, font=font_file)
            _write_private(out, pdf)
            journal.append(
                s,
                head,
                "talon_printed",
                document_id=doc.id,
                number=doc.number,
                file=str(out),
                sha256=hashlib.sha256(pdf).hexdigest(),
                by=by,
            )
            return out

        return self._act(number, act)


def _write_private(out: Path, data: bytes) -> None:
    """`data` at `out`, whole or not at all, readable by the owner only (personal data)."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        why = _WRITE_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))
        raise Invalid("out", f"не удалось записать файл {out}: {why}") from None


_WRITE_ERRORS = {
    errno.ENOENT: "нет такой папки",
    errno.EACCES: "нет прав на запись",
    errno.EPERM: "нет прав на запись",
    errno.EISDIR: "это папка, а не файл",
    errno.ENOTDIR: "в пути не папка",
    errno.EROFS: "файловая система только для чтения",
    errno.ENOSPC: "нет места на диске",
}


def _name(rules: Rules, address: str) -> str:
    person = rules.staff.by_email(address)
    return person.name if person else address
