"""The answer workflow (regulation section 3) over e-mail, and paper originals (1.13).

A case's answer moves through the stages in rules/answer.toml: the executor's
draft, the unit head's check, the legal review where needed, management's
approval, dispatch and the copy for the clerk. Each move is a reply to
mailflow's last message about the case: its first words say what it is
(«ПРОЕКТ», «СОГЛАСОВАНО», «НА ДОРАБОТКУ: …», «ОТПРАВЛЕНО: Казпочта, РПО № …»),
its token and sender are checked as for resolutions, the attached file is
archived and hashed, and the next holder gets the case with a new token.
Deciding (`find_move`, `parse_dispatch`) is pure; `handle_reply` acts.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlmodel import Session, select

from . import journal, notices, outbox, proof, replies, resolution_text, routing
from .models import Answer, Assignment, ChainHead, Delivery, Document, Move, Resolution, Token
from .rules import Person, Rules, StageMove
from .triage import DOCUMENT_TYPES
from .values import KZ_TZ, Attachment, Consumer, ParsedMessage

_LETTERS = "А-ЯЁӘҒҚҢӨҰҮҺІA-Z"


@dataclass(frozen=True)
class Team:
    """Who is who for one case."""

    executor: str  # the first in the resolution: holds the case (3.3)
    co_executors: tuple[str, ...]
    unit_head: tuple[str, ...]  # the executor's unit head; management when there is none
    legal: tuple[str, ...]
    management: tuple[str, ...]

    def of(self, holder: str) -> tuple[str, ...]:
        return {"executor": (self.executor,), "unit_head": self.unit_head, "legal": self.legal,
                "management": self.management}.get(holder, ())


def team(rules: Rules, assignments: list[Assignment]) -> Team:
    first = assignments[0].email
    executor = rules.staff.by_email(first)
    heads = tuple(p.email for p in rules.staff.with_role("unit_head")
                  if executor and p.unit == executor.unit and p.email != first)
    mgmt = tuple(p.email for p in rules.staff.people if p.roles & rules.routing.management_roles)
    return Team(first, tuple(a.email for a in assignments[1:]), heads or mgmt,
                tuple(p.email for p in rules.staff.with_role("legal")), mgmt)


def find_move(moves: tuple[StageMove, ...], subject: str, text: str) -> tuple[StageMove, str] | None:
    """The move the message's first words name (or words the sender put in the subject).

    Our own subject ("[number] stage title #token") is not the sender's words and
    is never searched. Longer phrases are tried first, so «НЕ СОГЛАСОВАНО» is
    never read as «СОГЛАСОВАНО».
    """
    ours = re.search(r"\[[^\]]*\]", subject)
    own = re.sub(r"^\s*((re|fwd?|ответ|на)\s*:\s*)+", "", subject[:ours.start()] if ours else subject,
                 flags=re.I)
    words = sorted(((w, m) for m in moves for w in m.words), key=lambda wm: -len(wm[0]))
    for place in (text.strip()[:300], own):
        place = place.upper().replace("Ё", "Е")
        for word, move in words:
            pattern = r"(?<![" + _LETTERS + r"])" + re.escape(word.replace("Ё", "Е")) + \
                r"(?![" + _LETTERS + r"])"
            if re.search(pattern, place):
                return move, word
    return None


@dataclass(frozen=True)
class Dispatch:
    channel: str | None  # kazpost | courier
    tracking: str | None
    outgoing_number: str | None
    outgoing_date: dt.date | None


def parse_dispatch(text: str) -> Dispatch:
    """«ОТПРАВЛЕНО: Казпочта, РПО № RR123456789KZ, исх. № 12-3/45 от 20.04.2026» or «нарочным»."""
    low = text.lower()
    channel = "kazpost" if re.search(r"каз\s*почт|казпочт|kazpost|рпо|почт", low) else \
        "courier" if re.search(r"нароч|курьер", low) else None
    track = re.search(r"\b([A-Z]{2}\d{9}[A-Z]{2})\b", text.upper()) or \
        re.search(r"рпо\s*(?:№|n|no)?\s*([0-9A-Za-z-]{6,})", text, re.I)
    out = re.search(r"исх\S*\s*(?:№|n|no)?\s*([0-9A-Za-zА-Яа-я/\-.]+?)\s*(?:от|,)\s*(\d{2})\.(\d{2})\.(\d{4})",
                    text, re.I)
    number, date = None, None
    if out:
        number = out.group(1).strip(".,")
        try:
            date = dt.date(int(out.group(4)), int(out.group(3)), int(out.group(2)))
        except ValueError:
            date = None
    return Dispatch(channel, track.group(1) if track else None, number, date)


@dataclass(frozen=True)
class ReplyResult:
    status: str  # moved | contribution | unclear | refused
    number: str
    reason: str


def open_case(s: Session, doc: Document, executor: str, rules: Rules, now: dt.datetime) -> None:
    """The resolution is forwarded: the executor drafts (3.1). A new resolution restarts it."""
    answer = s.exec(select(Answer).where(Answer.document_id == doc.id)).first() or \
        Answer(document_id=doc.id, stage=rules.workflow.start)
    answer.stage, answer.holder, answer.updated_at = rules.workflow.start, executor, now
    s.add(answer)


def issue_token(s: Session, rules: Rules, doc: Document, holder: str | None, message_id: str,
                now: dt.datetime, token: str) -> None:
    s.add(Token(token=token, purpose="answer", document_id=doc.id, message_id=message_id,
                holder=holder, created_at=now,
                expires_at=now + dt.timedelta(days=rules.routing.token_valid_days * 4)))


def handle_reply(s: Session, head: ChainHead, rules: Rules, *, msg: ParsedMessage,
                 ctx: replies.ReplyContext, inbound_id: int, sender_addr: str, archive,
                 now: dt.datetime) -> ReplyResult:
    doc = s.get(Document, ctx.token.document_id)
    answer = s.exec(select(Answer).where(Answer.document_id == doc.id)).first()
    res = s.exec(select(Resolution).where(Resolution.document_id == doc.id,
                                          Resolution.current == True)).first()  # noqa: E712
    if answer is None or res is None:
        return _refuse(s, head, rules, doc, msg, inbound_id, sender_addr, "по делу нет резолюции")
    people = s.exec(select(Assignment).where(Assignment.resolution_id == res.id)
                    .order_by(Assignment.position)).all()
    crew = team(rules, list(people))
    anyone = frozenset({crew.executor, *crew.co_executors, *crew.unit_head, *crew.legal,
                        *crew.management})
    trust = replies.authorize(msg, ctx.token, rules.staff, frozenset(), rules.routing.trusted_authserv_ids,
                              now, anyone=anyone)
    if not trust.ok:
        return _refuse(s, head, rules, doc, msg, inbound_id, sender_addr, trust.reason)
    _mark_replied(s, head, ctx.token, msg, inbound_id)
    sender = msg.from_addr
    text = resolution_text.strip_quoted(msg.body_text)
    files = tuple(a for a in msg.attachments if a.content_type.startswith(DOCUMENT_TYPES)
                  or a.filename.lower().endswith((".doc", ".docx", ".odt", ".rtf")))
    if sender in crew.co_executors and sender != crew.executor:
        return _contribution(s, head, rules, doc, res, answer, crew, msg, text, files, inbound_id,
                             sender_addr, archive, now)
    found = find_move(rules.workflow.moves_from(answer.stage), msg.subject, text)
    stage = rules.workflow.stages[answer.stage]
    if found is None:
        return _unclear(s, head, rules, doc, answer, msg, inbound_id, sender_addr,
                        "в начале письма нет ни одного из ожидаемых слов")
    move, word = found
    allowed = crew.of(stage.holder if move.by == "holder" else move.by)
    if sender not in allowed:
        return _refuse(s, head, rules, doc, msg, inbound_id, sender_addr,
                       f"«{word}» на этапе «{stage.title}» может написать только "
                       f"{', '.join(allowed) or 'никто'}")
    if move.file and not files:
        return _unclear(s, head, rules, doc, answer, msg, inbound_id, sender_addr,
                        f"к «{word}» нужно приложить файл (проект или скан ответа)")
    return _move(s, head, rules, doc, res, answer, crew, move, word, msg, text, files, inbound_id,
                 sender_addr, archive, ctx.token, now)


def _move(s, head, rules, doc, res, answer, crew, move, word, msg, text, files, inbound_id,
          sender_addr, archive, token, now) -> ReplyResult:
    before = answer.stage
    kept = [(a, archive.put(a.data, suffix=".bin")) for a in files]
    comment = _comment(text, word)
    # a dispatch report with the signed copy attached is the copy for the clerk (3.8)
    target = "closed" if move.to == "dispatched" and kept and "closed" in rules.workflow.stages \
        else move.to
    s.add(Move(document_id=doc.id, from_stage=before, to_stage=target, word=word, by=msg.from_addr,
               inbound_id=inbound_id, at=now, filename=kept[0][0].filename if kept else None,
               sha256=kept[0][1] if kept else None, note=comment[:2000] or None))
    if target in ("dispatched", "closed"):
        _dispatch(answer, text, now)
    answer.stage, answer.updated_at = target, now
    answer.holder = (crew.of(rules.workflow.stages[target].holder) or (None,))[0]
    token.used_at, token.used_by = now, msg.from_addr
    s.add(token)
    journal.append(s, head, "answer_move", document_id=doc.id, inbound_id=inbound_id,
                   from_stage=before, to_stage=target, word=word, by=msg.from_addr,
                   files=[{"name": a.filename, "sha256": h} for a, h in kept], comment=comment[:500])
    if target == "closed":
        _close(s, head, doc, answer, kept, now)
    elif move.forward:
        attach = tuple(a for a, _ in kept) or _last_draft(s, doc, archive)
        _send_stage(s, rules, doc, res, crew, target, crew.of(move.forward), attach, sender_addr,
                    now, comment=comment, sender_name=_name(rules, msg.from_addr))
    s.add(answer)
    return ReplyResult("moved", doc.number, f"{before} → {target} ({word})")


def _dispatch(answer: Answer, text: str, now: dt.datetime) -> None:
    d = parse_dispatch(text)
    answer.dispatched_at = answer.dispatched_at or now  # a later «КОПИЯ» keeps the first
    answer.dispatch_channel = d.channel or answer.dispatch_channel
    answer.tracking = d.tracking or answer.tracking
    answer.outgoing_number = d.outgoing_number or answer.outgoing_number
    answer.outgoing_date = d.outgoing_date or answer.outgoing_date


def _close(s: Session, head, doc: Document, answer: Answer, kept, now: dt.datetime) -> None:
    """Regulation 3.8: the copy of the sent answer reached the clerk: the case is closed."""
    answer.copy_at = now
    answer.copy_sha256 = kept[0][1] if kept else None
    doc.status, doc.closed_at = "closed", now
    s.add(doc)
    journal.append(s, head, "closed", document_id=doc.id, copy_sha256=answer.copy_sha256,
                   outgoing_number=answer.outgoing_number, channel=answer.dispatch_channel,
                   tracking=answer.tracking)


def _contribution(s, head, rules, doc, res, answer, crew, msg, text, files, inbound_id,
                  sender_addr, archive, now) -> ReplyResult:
    """Regulation 3.3: co-executors contribute; the first named holds the case."""
    kept = [(a, archive.put(a.data, suffix=".bin")) for a in files]
    s.add(Move(document_id=doc.id, from_stage=answer.stage, to_stage=answer.stage, word="ВКЛАД",
               by=msg.from_addr, inbound_id=inbound_id, at=now,
               filename=kept[0][0].filename if kept else None, sha256=kept[0][1] if kept else None,
               note=text[:2000] or None))
    journal.append(s, head, "answer_contribution", document_id=doc.id, inbound_id=inbound_id,
                   by=msg.from_addr, files=[{"name": a.filename, "sha256": h} for a, h in kept])
    _send_stage(s, rules, doc, res, crew, answer.stage, (crew.executor,), tuple(a for a, _ in kept),
                sender_addr, now, comment=text[:1000], sender_name=_name(rules, msg.from_addr),
                headline=f"Материалы соисполнителя ({_name(rules, msg.from_addr)}) для ответа")
    return ReplyResult("contribution", doc.number, f"from {msg.from_addr}")


def _send_stage(s, rules, doc, res, crew, stage_key, to, files, sender_addr, now, *, comment,
                sender_name, headline=None) -> None:
    if not to:
        return
    stage = rules.workflow.stages[stage_key]
    token = routing.new_token()
    words = [m.words[0] for m in rules.workflow.moves_from(stage_key)]
    consumer = Consumer(last_name=doc.last_name, first_name=doc.first_name,
                        patronymic=doc.patronymic, org_name=doc.org_name)
    subject, body = rules.render(
        "stage", number=doc.number, stage_title=stage.title, token=token, kind=doc.kind,
        headline=headline or f"{stage.title}. От: {sender_name}.",
        consumer_name=routing.consumer_name(consumer), resolution_text=res.text,
        due_date=doc.due_date, comment=comment, sender_name=sender_name,
        filename=", ".join(a.filename for a in files) or None, words=words)
    out = outbox.compose(sender=sender_addr, to=tuple(to), subject=subject, body=body, kind="stage",
                         key=f"stage:{doc.id}:{token}", number=doc.number, attachments=files)
    outbox.queue(s, out, document_id=doc.id)
    issue_token(s, rules, doc, to[0] if len(to) == 1 else None, out.message_id, now, token)


def _last_draft(s: Session, doc: Document, archive) -> tuple[Attachment, ...]:
    last = s.exec(select(Move).where(Move.document_id == doc.id, Move.sha256 != None)  # noqa: E711
                  .order_by(Move.id.desc())).first()
    if last is None:
        return ()
    try:
        data = archive.get(last.sha256, ".bin")
    except FileNotFoundError:
        return ()
    return (Attachment(last.filename or "проект.bin", "application/octet-stream", data, last.sha256),)


def _mark_replied(s: Session, head, token: Token, msg: ParsedMessage, inbound_id: int) -> None:
    d = s.exec(select(Delivery).where(Delivery.message_id == token.message_id)).first()
    if d is not None:
        proof.mark_replied(s, head, d, inbound_id=inbound_id, sender=msg.from_addr)


def _comment(text: str, word: str) -> str:
    body = re.sub(r"^\W*" + re.escape(word) + r"\W*", "", text.strip(), flags=re.I)
    return body.strip()


def _name(rules: Rules, email: str) -> str:
    p: Person | None = rules.staff.by_email(email)
    return p.name if p else email


def _refuse(s, head, rules, doc, msg, inbound_id, sender_addr, reason) -> ReplyResult:
    journal.append(s, head, "answer_refused", document_id=doc.id, inbound_id=inbound_id,
                   sender=msg.from_addr, reason=reason)
    notices.tell(s, rules, sender_addr=sender_addr, role="clerk", key=f"answer-refused:{inbound_id}",
                 title="Письмо по ответу не принято",
                 text=f"Письмо не изменило дело {doc.number}: {reason}.",
                 details=[("От", msg.from_addr or "—"), ("Тема", msg.subject or "—")],
                 number=doc.number, document_id=doc.id, inbound_id=inbound_id)
    return ReplyResult("refused", doc.number, reason)


def _unclear(s, head, rules, doc, answer, msg, inbound_id, sender_addr, reason) -> ReplyResult:
    stage = rules.workflow.stages[answer.stage]
    journal.append(s, head, "answer_unclear", document_id=doc.id, inbound_id=inbound_id,
                   sender=msg.from_addr, reason=reason, stage=answer.stage)
    words = [m.words[0] for m in rules.workflow.moves_from(answer.stage)]
    subject, body = rules.render("stage_unclear", number=doc.number, stage_title=stage.title,
                                 reason=reason, words=words)
    outbox.queue(s, outbox.compose(sender=sender_addr, to=(msg.from_addr,), subject=subject, body=body,
                                   kind="stage_unclear", key=f"stage_unclear:{inbound_id}",
                                   number=doc.number, in_reply_to=msg.message_id,
                                   references=msg.references), document_id=doc.id, inbound_id=inbound_id)
    return ReplyResult("unclear", doc.number, reason)


def history(s: Session, document_id: int) -> list[Move]:
    return list(s.exec(select(Move).where(Move.document_id == document_id).order_by(Move.id)))


def local(ts: dt.datetime | None) -> str | None:
    return ts.astimezone(KZ_TZ).isoformat() if ts else None


def close_by_clerk(s: Session, head, doc: Document, *, copy: Attachment, dispatch: Dispatch,
                   clerk: str, archive, now: dt.datetime) -> None:
    """The copy of the sent answer handed in on paper and scanned by the clerk (3.8)."""
    answer = s.exec(select(Answer).where(Answer.document_id == doc.id)).first() or \
        Answer(document_id=doc.id, stage="approved")
    sha = archive.put(copy.data, suffix=".bin")
    s.add(Move(document_id=doc.id, from_stage=answer.stage, to_stage="closed", word="КОПИЯ (канцелярия)",
               by=clerk, at=now, filename=copy.filename, sha256=sha))
    answer.dispatched_at = answer.dispatched_at or now
    for field in ("channel", "tracking", "outgoing_number", "outgoing_date"):
        value = getattr(dispatch, field)
        if value:
            setattr(answer, "dispatch_channel" if field == "channel" else field, value)
    journal.append(s, head, "answer_move", document_id=doc.id, from_stage=answer.stage,
                   to_stage="closed", word="КОПИЯ (канцелярия)", by=clerk,
                   files=[{"name": copy.filename, "sha256": sha}])
    answer.stage, answer.holder, answer.updated_at = "closed", None, now
    _close(s, head, doc, answer, [(copy, sha)], now)
    s.add(answer)
