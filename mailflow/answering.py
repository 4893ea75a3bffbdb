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

from sqlmodel import Session, col, select

from . import journal, notices, outbox, proof, replies, resolution_text, routing, scans, substitutes
from .archive import Archive
from .case import transition
from .case.actors import Actor, actor
from .case.queries import Team, consumer_name, current_resolution, team
from .case.states import Act, IllegalTransition, State
from .models import Answer, ChainHead, Delivery, Document, Move, Resolution, Token
from .rules import Rules, StageMove
from .values import KZ_TZ, Attachment, ParsedMessage


def find_move(moves: tuple[StageMove, ...], subject: str, text: str) -> tuple[StageMove, str] | None:
    """The move the message's first words name (or words the sender put in the subject);
    None also for a word written with Latin look-alikes (see `replies.find_word`)."""
    found = replies.find_word((w for m in moves for w in m.words), subject, text)
    if found is None or found.lookalike:
        return None
    return _move_of(moves, found.word), found.word


def _move_of(moves: tuple[StageMove, ...], word: str) -> StageMove:
    return next(m for m in moves if word in (w.replace("Ё", "Е") for w in m.words))


@dataclass(frozen=True)
class Dispatch:
    channel: str | None  # kazpost | courier
    tracking: str | None
    outgoing_number: str | None
    outgoing_date: dt.date | None
    bad_date: str | None = None  # the outgoing date as written, when it is no date (31.02.2026)


def parse_dispatch(text: str) -> Dispatch:
    """«ОТПРАВЛЕНО: Казпочта, РПО № RR123456789KZ, исх. № 12-3/45 от 20.04.2026» or «нарочным»."""
    low = text.lower()
    channel = (
        "kazpost"
        if re.search(r"каз\s*почт|казпочт|kazpost|рпо|почт|қазпошта|пошта", low)
        else "courier"
        if re.search(r"нароч|курьер|қолма-қол|қолдан", low)
        else None
    )
    track = re.search(r"\b([A-Z]{2}\d{9}[A-Z]{2})\b", text.upper()) or re.search(
        r"рпо\s*(?:№|n|no)?\s*([0-9A-Za-z-]{6,})", text, re.I
    )
    out = re.search(
        r"исх\S*\s*(?:№|n|no)?\s*([0-9A-Za-zА-Яа-я/\-.]+?)\s*(?:от|,)\s*(\d{2})\.(\d{2})\.(\d{4})", text, re.I
    )
    number, date, bad = None, None, None
    if out:
        number = out.group(1).strip(".,")
        try:
            date = dt.date(int(out.group(4)), int(out.group(3)), int(out.group(2)))
        except ValueError:
            bad = f"{out.group(2)}.{out.group(3)}.{out.group(4)}"
    return Dispatch(channel, track.group(1) if track else None, number, date, bad)


def dispatch_problems(d: Dispatch, registered: dt.date, today: dt.date, *, how: bool = True) -> list[str]:
    """What a report that the answer went out (3.7) lacks or gets wrong, in Russian (pure).

    It says how (`how`: when the answer goes out now): Kazpost with its tracking
    number (РПО), or by courier (нарочным); an outgoing date is a real day, not
    after today, not before the appeal came.
    """
    problems = []
    if how and d.channel is None:
        problems.append(
            "не сказано, как отправлен ответ: «Казпочта, РПО № …» (с номером почтового отправления) "
            "или «нарочным»"
        )
    elif how and d.channel == "kazpost" and not d.tracking:
        problems.append("для Казпочты нужен номер почтового отправления: «РПО № RR123456785KZ»")
    if d.bad_date:
        problems.append(f"дата исходящего {d.bad_date} — такой даты нет")
    elif d.outgoing_date and d.outgoing_date > today:
        problems.append(f"дата исходящего {d.outgoing_date:%d.%m.%Y} ещё не наступила")
    elif d.outgoing_date and d.outgoing_date < registered:
        problems.append(
            f"дата исходящего {d.outgoing_date:%d.%m.%Y} раньше регистрации обращения ({registered:%d.%m.%Y})"
        )
    return problems


@dataclass(frozen=True)
class ReplyResult:
    status: str  # moved | contribution | unclear | refused
    number: str
    reason: str


@dataclass(frozen=True)
class CaseReply:
    """One reply about a case's answer, as `handle_reply` found it (the acting steps' input)."""

    s: Session
    head: ChainHead
    rules: Rules
    doc: Document
    answer: Answer
    resolution: Resolution
    crew: Team
    msg: ParsedMessage
    text: str  # the reply's own words, quotes removed
    files: tuple[Attachment, ...]
    inbound_id: int
    sender_addr: str
    archive: Archive
    token: Token
    now: dt.datetime
    acting: str = ""  # whom the sender acts for: themselves, or the absent one they stand in for (1.6)

    @property
    def who(self) -> str:
        return self.acting or self.msg.from_addr

    @property
    def stage(self) -> str:
        return self.doc.stage or self.rules.workflow.start


def hand_to(s: Session, doc: Document, executor: str, now: dt.datetime) -> None:
    """The resolution is forwarded: the executor holds the answer (3.1, 3.3)."""
    answer = s.exec(select(Answer).where(Answer.document_id == doc.id)).first() or Answer(document_id=doc.id)
    answer.holder, answer.updated_at = executor, now
    s.add(answer)


def issue_token(
    s: Session,
    rules: Rules,
    doc: Document,
    holder: str | None,
    message_id: str,
    now: dt.datetime,
    token: str,
    purpose: str = "answer",
) -> None:
    """A one-time reply token for `holder` (None: whoever of the message's recipients), carried
    by `message_id`; `purpose` says which handler its reply goes to (intake._reply)."""
    s.add(
        Token(
            token=token,
            purpose=purpose,
            document_id=doc.id,
            message_id=message_id,
            holder=holder,
            created_at=now,
            expires_at=now + dt.timedelta(days=rules.routing.token_valid_days * 4),
        )
    )


def handle_reply(
    s: Session,
    head: ChainHead,
    rules: Rules,
    *,
    msg: ParsedMessage,
    ctx: replies.ReplyContext,
    inbound_id: int,
    sender_addr: str,
    archive: Archive,
    now: dt.datetime,
) -> ReplyResult:
    doc = s.get(Document, ctx.token.document_id)
    assert doc is not None  # a token always names its document
    answer = s.exec(select(Answer).where(Answer.document_id == doc.id)).first()
    res, people = current_resolution(s, doc.id)
    if answer is None or res is None or not people:
        return _refuse(s, head, rules, doc, msg, inbound_id, sender_addr, "по делу нет резолюции")
    crew = team(rules, people, doc.journal)
    trust = replies.authorize(
        msg,
        ctx.token,
        rules.staff,
        frozenset(),
        rules.routing.trusted_authserv_ids,
        now,
        anyone=crew.everyone,
        stands_for=substitutes.standing_for(s, rules, now.astimezone(KZ_TZ).date()),
    )
    if not trust.ok:
        return _refuse(s, head, rules, doc, msg, inbound_id, sender_addr, trust.reason)
    _mark_replied(s, head, ctx.token, msg, inbound_id)
    files = tuple(
        a
        for a in msg.attachments
        if scans.is_scan(a.content_type) or a.filename.lower().endswith((".doc", ".docx", ".odt", ".rtf"))
    )
    r = CaseReply(
        s,
        head,
        rules,
        doc,
        answer,
        res,
        crew,
        msg,
        resolution_text.strip_quoted(msg.body_text),
        files,
        inbound_id,
        sender_addr,
        archive,
        ctx.token,
        now,
        trust.person.email if trust.person else msg.from_addr,
    )
    sender = r.who
    if sender in crew.co_executors and sender != crew.executor:
        if ctx.token.holder not in (sender, msg.from_addr):  # their material: a reply to their own forward
            return _refuse(
                s,
                head,
                rules,
                doc,
                msg,
                inbound_id,
                sender_addr,
                "это письмо было отправлено не вам, а другому сотруднику",
            )
        return _contribution(r)
    moves = rules.workflow.moves_from(r.stage)
    found = replies.find_word((w for m in moves for w in m.words), msg.subject, r.text)
    stage = rules.workflow.stages[r.stage]
    if found is None:
        return _unclear(r, "в начале письма нет ни одного из ожидаемых слов")
    if found.lookalike:
        return _unclear(r, replies.lookalike_reason(found.word))
    move, word = _move_of(moves, found.word), found.word
    allowed = crew.of(stage.holder if move.by == "holder" else move.by)
    if sender not in allowed:
        return _refuse(
            s,
            head,
            rules,
            doc,
            msg,
            inbound_id,
            sender_addr,
            f"«{word}» на этапе «{stage.title}» может написать только {', '.join(allowed) or 'никто'}",
        )
    if move.file and not files:
        return _unclear(r, f"к «{word}» нужно приложить файл (проект или скан ответа)")
    try:
        return _move(r, move, word)
    except IllegalTransition as exc:
        return _refuse(s, head, rules, doc, msg, inbound_id, sender_addr, str(exc))


ACT_FOR = {State.IN_WORK: Act.MOVE, State.ANSWERED: Act.DISPATCH, State.CLOSED: Act.FILE_COPY}


def _move(r: CaseReply, move: StageMove, word: str) -> ReplyResult:
    wf = r.rules.workflow
    before, target = r.stage, move.to
    kept = [(a, r.archive.put(a.data, suffix=".bin")) for a in r.files]
    # a dispatch report with the signed copy attached is the copy for the clerk (3.8)
    if wf.stages[target].state is State.ANSWERED and kept:
        target = wf.stage_of(State.CLOSED)
    state = wf.stages[target].state
    sent = None if state is State.IN_WORK else _merged(r.answer, parse_dispatch(r.text))
    if sent is not None:  # how the answer went out (3.7): said, and said right, or nothing changes
        problems = dispatch_problems(
            sent,
            r.doc.registered_at.astimezone(KZ_TZ).date(),
            r.now.astimezone(KZ_TZ).date(),
            how=r.doc.status == State.IN_WORK.value,  # a later «КОПИЯ» adds to the report before it
        )
        if problems:
            return _unclear(r, "; ".join(problems))
    copy = kept[0][1] if kept and state is State.CLOSED else None
    comment = _comment(r.text, word)
    # first the transition: an illegal one raises before anything is written
    transition.apply(
        r.s,
        r.head,
        r.doc,
        ACT_FOR[state],
        actor(r.rules, r.who, r.crew),
        wf,
        now=r.now,
        to_stage=target if state is State.IN_WORK else None,
        inbound_id=r.inbound_id,
        word=word,
        **({"substitute": r.msg.from_addr} if r.who != r.msg.from_addr else {}),
        files=[{"name": a.filename, "sha256": h} for a, h in kept],
        comment=comment[:500],
        **(_facts(sent, copy) if sent else {}),
    )
    if sent:
        _record_dispatch(r.answer, sent, r.now, copy)
    r.s.add(
        Move(
            document_id=r.doc.id,
            from_stage=before,
            to_stage=target,
            word=word,
            by=r.msg.from_addr,
            inbound_id=r.inbound_id,
            at=r.now,
            filename=kept[0][0].filename if kept else None,
            sha256=kept[0][1] if kept else None,
            note=comment[:2000] or None,
        )
    )
    r.answer.updated_at = r.now
    r.answer.holder = (r.crew.of(wf.stages[target].holder) or (None,))[0]
    r.token.used_at, r.token.used_by = r.now, r.msg.from_addr
    r.s.add(r.token)
    r.s.add(r.answer)
    if state is State.CLOSED and kept:  # the copy of the sent answer to the PR specialist (2.9)
        routing.copy_answer(r.s, r.head, r.rules, r.doc, r.answer, kept[0][0], r.crew.executor, r.sender_addr)
    if state is State.CLOSED and move.forward:  # the copy of the sent answer to them (3.8)
        _send_stage(
            r,
            target,
            r.crew.of(move.forward),
            tuple(a for a, _ in kept),
            comment=comment,
            headline=f"Копия отправленного ответа (п. 3.8). От: {_name(r.rules, r.msg.from_addr)}.",
        )
    elif move.forward:
        attach = tuple(a for a, _ in kept) or _last_draft(r.s, r.doc, r.archive)
        _send_stage(r, target, r.crew.of(move.forward), attach, comment=comment)
    return ReplyResult("moved", r.doc.number, f"{before} → {target} ({word})")


def _merged(answer: Answer, d: Dispatch) -> Dispatch:
    """What a dispatch report says, over what an earlier one said (a later «КОПИЯ» adds to it)."""
    return Dispatch(
        d.channel or answer.dispatch_channel,
        d.tracking or answer.tracking,
        d.outgoing_number or answer.outgoing_number,
        d.outgoing_date or answer.outgoing_date,
        d.bad_date,
    )


def _record_dispatch(answer: Answer, d: Dispatch, now: dt.datetime, copy_sha256: str | None) -> None:
    answer.dispatched_at = answer.dispatched_at or now  # the first report's time stands
    answer.dispatch_channel, answer.tracking = d.channel, d.tracking
    answer.outgoing_number, answer.outgoing_date = d.outgoing_number, d.outgoing_date
    if copy_sha256:
        answer.copy_at, answer.copy_sha256 = now, copy_sha256


def _facts(d: Dispatch, copy_sha256: str | None) -> dict:
    """What the journal keeps of how the answer went out (3.6–3.8)."""
    return dict(
        channel=d.channel,
        tracking=d.tracking,
        outgoing_number=d.outgoing_number,
        outgoing_date=d.outgoing_date.isoformat() if d.outgoing_date else None,
        copy_sha256=copy_sha256,
    )


def _contribution(r: CaseReply) -> ReplyResult:
    """Regulation 3.3: co-executors contribute; the first named holds the case."""
    kept = [(a, r.archive.put(a.data, suffix=".bin")) for a in r.files]
    r.s.add(
        Move(
            document_id=r.doc.id,
            from_stage=r.stage,
            to_stage=r.stage,
            word="ВКЛАД",
            by=r.msg.from_addr,
            inbound_id=r.inbound_id,
            at=r.now,
            filename=kept[0][0].filename if kept else None,
            sha256=kept[0][1] if kept else None,
            note=r.text[:2000] or None,
        )
    )
    journal.append(
        r.s,
        r.head,
        "answer_contribution",
        document_id=r.doc.id,
        inbound_id=r.inbound_id,
        by=r.msg.from_addr,
        files=[{"name": a.filename, "sha256": h} for a, h in kept],
    )
    name = _name(r.rules, r.msg.from_addr)
    _send_stage(
        r,
        r.stage,
        (r.crew.executor,),
        tuple(a for a, _ in kept),
        comment=r.text[:1000],
        headline=f"Материалы соисполнителя ({name}) для ответа",
    )
    # every token is good for one act: the co-executor gets a fresh one to add more
    r.token.used_at, r.token.used_by = r.now, r.msg.from_addr
    r.s.add(r.token)
    _send_stage(
        r,
        r.stage,
        (r.msg.from_addr,),
        (),
        comment="Ваши материалы переданы ответственному исполнителю. Чтобы дополнить их, ответьте на это письмо.",
        headline="Материалы приняты",
    )
    return ReplyResult("contribution", r.doc.number, f"from {r.msg.from_addr}")


def _send_stage(
    r: CaseReply,
    stage_key: str,
    to: tuple[str, ...],
    files: tuple[Attachment, ...],
    *,
    comment: str,
    headline: str | None = None,
) -> None:
    send_stage(
        r.s,
        r.rules,
        r.doc,
        r.resolution,
        stage_key=stage_key,
        to=to,
        files=files,
        comment=comment,
        sender_name=_name(r.rules, r.msg.from_addr),
        sender_addr=r.sender_addr,
        now=r.now,
        headline=headline,
    )


def send_stage(
    s: Session,
    rules: Rules,
    doc: Document,
    resolution: Resolution,
    *,
    stage_key: str,
    to: tuple[str, ...],
    files: tuple[Attachment, ...],
    comment: str,
    sender_name: str,
    sender_addr: str,
    now: dt.datetime,
    headline: str | None = None,
) -> None:
    """The case at `stage_key` to its next holders, with the file, and a one-time token
    to answer with the stage's words (none for a stage nothing moves on from). Each
    holder gets a mail and a token of their own: a token answers for one person only."""
    if not to:
        return
    stage = rules.workflow.stages[stage_key]
    words = [m.words[0] for m in rules.workflow.moves_from(stage_key)]
    for group in [(a,) for a in to] if words else [tuple(to)]:
        tag = routing.new_token()
        token = tag if words else None
        subject, body = rules.render(
            "stage",
            number=doc.number,
            stage_title=stage.title,
            token=token,
            kind=doc.kind,
            headline=headline or f"{stage.title}. От: {sender_name}.",
            consumer_name=consumer_name(doc),
            resolution_text=resolution.text,
            due_date=doc.due_date,
            comment=comment,
            sender_name=sender_name,
            filename=", ".join(a.filename for a in files) or None,
            words=words,
        )
        out = outbox.compose(
            sender=sender_addr,
            to=group,
            subject=subject,
            body=body,
            kind="stage",
            key=f"stage:{doc.id}:{tag}",
            number=doc.number,
            attachments=files,
        )
        outbox.queue(s, out, document_id=doc.id)
        if token:
            issue_token(s, rules, doc, group[0], out.message_id, now, token)


def _last_draft(s: Session, doc: Document, archive: Archive) -> tuple[Attachment, ...]:
    last = s.exec(
        select(Move).where(Move.document_id == doc.id, col(Move.sha256).is_not(None)).order_by(Move.id.desc())
    ).first()  # type: ignore[union-attr]
    if last is None or last.sha256 is None:
        return ()
    try:
        data = archive.get(last.sha256, ".bin")
    except FileNotFoundError:
        return ()
    return (Attachment(last.filename or "проект.bin", "application/octet-stream", data, last.sha256),)


def _mark_replied(s: Session, head: ChainHead, token: Token, msg: ParsedMessage, inbound_id: int) -> None:
    d = s.exec(select(Delivery).where(Delivery.message_id == token.message_id)).first()
    if d is not None:
        proof.mark_replied(s, head, d, inbound_id=inbound_id, sender=msg.from_addr)


def _comment(text: str, word: str) -> str:
    body = re.sub(r"^\W*" + re.escape(word) + r"\W*", "", text.strip(), flags=re.I)
    return body.strip()


def _name(rules: Rules, email: str) -> str:
    p = rules.staff.by_email(email)
    return p.name if p else email


def _refuse(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    msg: ParsedMessage,
    inbound_id: int,
    sender_addr: str,
    reason: str,
) -> ReplyResult:
    journal.append(
        s,
        head,
        "answer_refused",
        document_id=doc.id,
        inbound_id=inbound_id,
        sender=msg.from_addr,
        reason=reason,
    )
    # a staff member is told why (never a stranger, nor an auto-responder); the clerks look at it
    answered = notices.answer(
        s,
        rules,
        msg,
        sender_addr=sender_addr,
        key=f"answer-refused-reply:{inbound_id}",
        title="Письмо не принято",
        text=f"Ваше письмо по {doc.number} ничего не изменило: {reason}.",
        number=doc.number,
        document_id=doc.id,
        inbound_id=inbound_id,
    )
    notices.tell(
        s,
        rules,
        sender_addr=sender_addr,
        role="clerk",
        key=f"answer-refused:{inbound_id}",
        title="Письмо по ответу не принято",
        text=f"Письмо не изменило дело {doc.number}: {reason}.",
        details=[("От", msg.from_addr or "—"), ("Тема", msg.subject or "—")],
        number=doc.number,
        document_id=doc.id,
        inbound_id=inbound_id,
        exclude=(msg.from_addr,) if answered else (),
    )
    return ReplyResult("refused", doc.number, reason)


def _unclear(r: CaseReply, reason: str) -> ReplyResult:
    stage = r.rules.workflow.stages[r.stage]
    journal.append(
        r.s,
        r.head,
        "answer_unclear",
        document_id=r.doc.id,
        inbound_id=r.inbound_id,
        sender=r.msg.from_addr,
        reason=reason,
        stage=r.stage,
    )
    words = [m.words[0] for m in r.rules.workflow.moves_from(r.stage)]
    subject, body = r.rules.render(
        "stage_unclear", number=r.doc.number, stage_title=stage.title, reason=reason, words=words
    )
    outbox.queue(
        r.s,
        outbox.compose(
            sender=r.sender_addr,
            to=(r.msg.from_addr,),
            subject=subject,
            body=body,
            kind="stage_unclear",
            key=f"stage_unclear:{r.inbound_id}",
            number=r.doc.number,
            in_reply_to=r.msg.message_id,
            references=r.msg.references,
        ),
        document_id=r.doc.id,
        inbound_id=r.inbound_id,
    )
    return ReplyResult("unclear", r.doc.number, reason)


def history(s: Session, document_id: int) -> list[Move]:
    return list(s.exec(select(Move).where(Move.document_id == document_id).order_by(Move.id)))


class BadDispatch(ValueError):
    """The dispatch cannot be recorded as asked; the message says why, in Russian."""


def dispatch_by_clerk(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    *,
    dispatch: Dispatch,
    text: str,
    by: Actor,
    sender_addr: str,
    now: dt.datetime,
) -> None:
    """The clerk records that the answer went out (3.7) at the workplace or the command
    line, as their «ОТПРАВЛЕНО» reply would: the executor is asked for the copy (3.8).

    Raises BadDispatch or IllegalTransition, with nothing written.
    """
    res, people = current_resolution(s, doc.id)
    if res is None or not people:
        raise BadDispatch(f"{doc.number}: по делу нет резолюции — отправлять нечего")
    crew = team(rules, people, doc.journal)
    if by.address not in crew.clerks:
        raise BadDispatch(
            f"ответ по {doc.number} отправляет канцелярия журнала «{doc.journal}»: {', '.join(crew.clerks)}"
        )
    answer = s.exec(select(Answer).where(Answer.document_id == doc.id)).first() or Answer(document_id=doc.id)
    sent = _merged(answer, dispatch)
    problems = dispatch_problems(
        sent, doc.registered_at.astimezone(KZ_TZ).date(), now.astimezone(KZ_TZ).date()
    )
    if problems:
        raise BadDispatch("; ".join(problems))
    before = doc.stage
    word = "ОТПРАВЛЕНО (канцелярия)"
    step = transition.apply(
        s,
        head,
        doc,
        Act.DISPATCH,
        by,
        rules.workflow,
        now=now,
        word=word,
        comment=text[:500],
        **_facts(sent, None),
    )
    _record_dispatch(answer, sent, now, None)
    s.add(
        Move(
            document_id=doc.id,
            from_stage=before or "",
            to_stage=step.to_stage or "",
            word=word,
            by=by.address,
            at=now,
            note=text[:2000] or None,
        )
    )
    answer.holder, answer.updated_at = crew.executor, now
    s.add(answer)
    send_stage(
        s,
        rules,
        doc,
        res,
        stage_key=step.to_stage or rules.workflow.stage_of(State.ANSWERED),
        to=(crew.executor,),
        files=(),
        comment=text,
        sender_name=_name(rules, by.address),
        sender_addr=sender_addr,
        now=now,
    )


def close_by_clerk(
    s: Session,
    head: ChainHead,
    rules: Rules,
    doc: Document,
    *,
    copy: Attachment,
    dispatch: Dispatch,
    by: Actor,
    archive: Archive,
    now: dt.datetime,
    sender_addr: str,
) -> None:
    """The copy of the sent answer handed in on paper and scanned by the clerk (3.8).

    Raises IllegalTransition unless the case is in work or answered, and BadDispatch
    when a copy of an answer not yet recorded as sent does not say how it went (3.7),
    or names an outgoing date that cannot be; nothing is written then.
    """
    answer = s.exec(select(Answer).where(Answer.document_id == doc.id)).first() or Answer(document_id=doc.id)
    before = doc.stage
    sent = _merged(answer, dispatch)
    problems = dispatch_problems(
        sent,
        doc.registered_at.astimezone(KZ_TZ).date(),
        now.astimezone(KZ_TZ).date(),
        how=doc.status == State.IN_WORK.value,  # as a «КОПИЯ» by e-mail: said once, at dispatch
    )
    if problems:
        raise BadDispatch(f"{doc.number}: " + "; ".join(problems))
    sha = archive.put(copy.data, suffix=".bin")
    step = transition.apply(
        s,
        head,
        doc,
        Act.FILE_COPY,
        by,
        rules.workflow,
        now=now,
        word="КОПИЯ (канцелярия)",
        files=[{"name": copy.filename, "sha256": sha}],
        **_facts(sent, sha),
    )
    _record_dispatch(answer, sent, now, sha)
    s.add(
        Move(
            document_id=doc.id,
            from_stage=before or "",
            to_stage=step.to_stage or "",
            word="КОПИЯ (канцелярия)",
            by=by.address,
            at=now,
            filename=copy.filename,
            sha256=sha,
        )
    )
    answer.holder, answer.updated_at = None, now
    s.add(answer)
    _, people = current_resolution(s, doc.id)
    routing.copy_answer(
        s, head, rules, doc, answer, copy, people[0].email if people else None, sender_addr
    )  # 2.9
