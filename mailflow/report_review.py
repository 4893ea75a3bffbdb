"""The weekly report's review and sign-off (regulation 2.13), and the PR specialist's
decisions on suggestions (2.14), by reply.

On the report day the report goes first to the reviewers (`[weekly_report] review_by`:
the PR specialist), each with a one-time code. Their reply «СОГЛАСОВАНО» (Kazakh
«КЕЛІСІЛДІ»), or a reply with the corrected report attached (XLSX or PDF), approves
it: the sweep then sends it to the organisation's management (`chasing`), each
manager with a code of their own, whose «ОЗНАКОМЛЕН» («ТАНЫСТЫМ») is the sign-off.
A report not reviewed by `review_until` goes to management marked «не проверено
PR-специалистом». In the same reply, or in any later reply in the thread of the
current report, the PR specialist writes one line per suggestion:

    ВХ-2026-000123: ПРИНЯТО: установим терминал в ЦОН до 01.06
    ВХ-2026-000124: ОТКЛОНЕНО: тариф утверждает регулятор
    ВХ-2026-000125: ЗАПЛАНИРОВАНО: в плане работ на III квартал

The words are `vocabulary.DECISIONS`; separators `:`, `-`, `—`; the comment is
required. Every reply the reviewer sends in the thread is answered with a fresh
code, so they can go on deciding during the week.

Refused, with a clear reply in the thread to a staff member (a stranger is never
written to) and nothing changed: another person's reply or code, a code used
before (a replay), a reply to an earlier week's report, an approval after the
report already went, a keyword typed with Latin look-alikes. A reply with any bad
decision line records nothing: the answer lists each bad line and why.
Deciding (`parse_decisions`, `approval_file`) is pure; `handle_reply` acts.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from . import journal, notices, replies, resolution_text, routing, substitutes
from .archive import Archive
from .extract.text import LAT2CYR
from .models import ChainHead, Document, SuggestionDecision, Token, WeeklyReport, id_of
from .rules import Rules
from .values import KZ_TZ, Attachment, ParsedMessage
from .vocabulary import DECISIONS, SUGGESTION, decision_label

REVIEW, SIGNOFF = "report_review", "report_signoff"  # the tokens' purposes (intake._reply)
PURPOSES = frozenset({REVIEW, SIGNOFF})
# a report's status: with the reviewers; approved, to go to management at the next sweep;
# with management; signed off by one of them at least
IN_REVIEW, APPROVED, SENT, SIGNED = "review", "approved", "sent", "signed"
APPROVE_WORDS = ("СОГЛАСОВАНО", "КЕЛІСІЛДІ")
NOT_APPROVE_WORDS = ("НЕ СОГЛАСОВАНО", "КЕЛІСІЛМЕДІ")
SIGN_WORDS = ("ОЗНАКОМЛЕН", "ОЗНАКОМЛЕНА", "ТАНЫСТЫМ")
NOT_REVIEWED = "не проверено PR-специалистом"
FILE_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
}

_LETTERS = "A-ZА-ЯЁӘҒҚҢӨҰҮҺІ"
_LINE = re.compile(
    r"^\s*[-•*]?\s*([" + _LETTERS + r"]{1,10}-\d{4}-\d{1,10})(?![\w-])\s*[:\-—–]?\s*(.*)$", re.I
)
_SEP = r"\s*[:\-—–.,]?\s*"


@dataclass(frozen=True)
class Decision:
    """One line «ВХ-2026-000123: ПРИНЯТО: комментарий» as written (pure)."""

    number: str
    decision: str  # vocabulary.DECISIONS key
    comment: str


@dataclass(frozen=True)
class BadLine:
    line: str
    why: str  # Russian, for the reviewer


def parse_decisions(text: str) -> tuple[list[Decision], list[BadLine], str]:
    """The decision lines of a reply's own words, the bad ones with why, and the rest
    of the text (where «СОГЛАСОВАНО» is looked for, never in a decision's comment)."""
    words = sorted(((w, code) for code, (_, ws) in DECISIONS.items() for w in ws), key=lambda x: -len(x[0]))
    good: list[Decision] = []
    bad: list[BadLine] = []
    rest: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            rest.append(line)
            continue
        number, tail = m.group(1).upper(), m.group(2).strip()
        found = _decision_word(tail, words)
        if found is None:
            looks = _decision_word(tail.upper().translate(LAT2CYR), words)
            why = (
                replies.lookalike_reason(looks[0])
                if looks
                else "после номера ожидается " + ", ".join(f"«{ws[0]}»" for _, ws in DECISIONS.values())
            )
            bad.append(BadLine(line.strip(), why))
            continue
        word, code, comment = found
        if not comment:
            bad.append(BadLine(line.strip(), f"после «{word}» нужен комментарий: почему так решено"))
        elif number in seen:
            bad.append(BadLine(line.strip(), f"решение по {number} в письме дважды"))
        else:
            seen.add(number)
            good.append(Decision(number, code, comment[:2000]))
    return good, bad, "\n".join(rest)


def _decision_word(tail: str, words: list[tuple[str, str]]) -> tuple[str, str, str] | None:
    upper = tail.upper().replace("Ё", "Е")
    for word, code in words:
        if re.match(re.escape(word) + r"(?![" + _LETTERS + r"])", upper):
            return word, code, re.sub(r"^" + _SEP, "", tail[len(word) :]).strip()
    return None


def approval_file(attachments: tuple[Attachment, ...]) -> tuple[Attachment | None, str | None]:
    """The corrected report a reviewer attached (XLSX or PDF, checked to be one), or why
    an attachment is not one (None, None: nothing but pictures, a signature's logo say)."""
    for a in attachments:
        ext = next((e for e in FILE_TYPES if a.filename.lower().endswith(e)), None)
        if ext == ".pdf" and a.data.startswith(b"%PDF"):
            return a, None
        if ext == ".xlsx" and _is_workbook(a.data):
            return a, None
        if ext or not a.content_type.startswith("image/"):
            return None, (
                f"файл «{a.filename}» — не исправленный отчёт: приложите его в XLSX (Excel) или PDF"
            )
    return None, None


def _is_workbook(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "xl/workbook.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def issue_token(
    s: Session,
    rules: Rules,
    report: WeeklyReport,
    holder: str,
    message_id: str,
    now: dt.datetime,
    token: str,
    purpose: str,
) -> None:
    """A one-time code for `holder` to answer the report's letter `message_id` with."""
    s.add(
        Token(
            token=token,
            purpose=purpose,
            report_id=id_of(report),
            message_id=message_id,
            holder=holder,
            created_at=now,
            expires_at=now + dt.timedelta(days=rules.routing.token_valid_days),
        )
    )


def latest(s: Session, journal_key: str) -> WeeklyReport | None:
    """The journal's newest report: the only one replies may still act on."""
    return s.exec(
        select(WeeklyReport)
        .where(WeeklyReport.journal == journal_key)
        .order_by(col(WeeklyReport.week).desc())
    ).first()


@dataclass(frozen=True)
class Result:
    status: str  # reviewed | decided | signed | unclear | refused
    number: str | None  # a report answers no case
    reason: str


@dataclass(frozen=True)
class _Reply:
    s: Session
    head: ChainHead
    rules: Rules
    report: WeeklyReport
    msg: ParsedMessage
    token: Token
    inbound_id: int
    sender_addr: str
    now: dt.datetime


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
) -> Result:
    """A reviewer's or a manager's reply to a weekly report's letter."""
    token = ctx.token
    report = s.get(WeeklyReport, token.report_id)
    assert report is not None  # a report's token always names it
    r = _Reply(s, head, rules, report, msg, token, inbound_id, sender_addr, now)
    if token.used_at is not None:  # a replay: each code is good for one reply
        return _refuse(
            r,
            f"на это письмо уже ответили {_t(token.used_at)}; ответьте на последнее письмо mailflow "
            f"по отчёту за неделю {report.week}",
        )
    allowed = rules.report_reviewers() if token.purpose == REVIEW else rules.report_recipients(report.journal)
    trust = replies.authorize(
        msg,
        token,
        rules.staff,
        frozenset(),
        rules.routing.trusted_authserv_ids,
        now,
        anyone=frozenset(allowed),
        stands_for=substitutes.standing_for(s, rules, now.astimezone(KZ_TZ).date()),
    )
    if not trust.ok:
        return _refuse(r, trust.reason)
    newest = latest(s, report.journal)
    if newest is not None and newest.id != report.id:
        return _refuse(
            r,
            f"это письмо с отчётом за неделю {report.week}, а действует отчёт за {newest.week}: "
            "ответьте на письмо с ним",
        )
    text = resolution_text.strip_quoted(msg.body_text)
    if token.purpose == REVIEW:
        return _review(r, text, archive)
    return _signoff(r, text)


def _review(r: _Reply, text: str, archive: Archive) -> Result:
    decided, bad, rest = parse_decisions(text)
    cases, more = _cases(r, decided)
    bad += more
    if bad:
        return _unclear(
            r,
            "ничего не записано: исправьте строки и ответьте ещё раз",
            [(b.line, b.why) for b in bad],
        )
    found = replies.find_word((*APPROVE_WORDS, *NOT_APPROVE_WORDS), r.msg.subject, rest, first=True)
    if found is not None and found.lookalike:
        return _unclear(r, replies.lookalike_reason(found.word))
    if found is not None and found.word in NOT_APPROVE_WORDS:
        return _unclear(
            r,
            "чтобы исправить отчёт, приложите исправленный файл (XLSX или PDF); "
            f"чтобы направить его руководству как есть, ответьте «{APPROVE_WORDS[0]}»",
        )
    file, why = approval_file(r.msg.attachments)
    if why:
        return _unclear(r, why)
    approve = found is not None or file is not None
    if not approve and not cases:
        return _unclear(
            r,
            f"в письме нет ни «{APPROVE_WORDS[0]}», ни исправленного отчёта во вложении, ни решений "
            "по предложениям (строки вида «ВХ-2026-000123: ПРИНЯТО: комментарий»)",
        )
    report = r.report
    if approve and report.status != IN_REVIEW:
        return _refuse(r, _already(report))
    recorded = [_decide(r, doc, d) for doc, d in cases]
    if approve:
        report.status, report.review = APPROVED, "corrected" if file else "approved"
        report.reviewed_by, report.reviewed_at = r.msg.from_addr, r.now
        if file is not None:
            report.file_name, report.file_type = file.filename, FILE_TYPES[_ext(file.filename)]
            report.file_sha256 = archive.put(file.data, suffix=".bin")
        r.s.add(report)
        journal.append(
            r.s,
            r.head,
            "weekly_report_reviewed",
            report_id=report.id,
            journal=report.journal,
            week=report.week,
            by=r.msg.from_addr,
            inbound_id=r.inbound_id,
            review=report.review,
            file_sha256=report.file_sha256,
        )
    _use(r)
    lines = [
        (
            f"{doc.number}",
            f"{decision_label(d.decision)}: {d.comment}" + ("" if new else " (уже было записано)"),
        )
        for (doc, d), new in zip(cases, recorded)
    ]
    head = (
        f"Отчёт за неделю {report.week} согласован"
        + (" (с вашим исправленным файлом)" if file else "")
        + " и будет направлен руководству."
        if approve
        else f"Решения записаны. Отчёт за неделю {report.week} ещё ждёт «{APPROVE_WORDS[0]}»."
        if report.status == IN_REVIEW
        else "Решения записаны; они войдут в следующий отчёт."
    )
    _confirm(r, head, lines, fresh=True)
    return Result("reviewed" if approve else "decided", None, f"{report.week}: {len(cases)} decision(s)")


def _cases(r: _Reply, decided: list[Decision]) -> tuple[list[tuple[Document, Decision]], list[BadLine]]:
    """Each decision's case: a suggestion of the report's journal, or why not."""
    good, bad = [], []
    for d in decided:
        line = f"{d.number}: {d.decision}"
        doc = r.s.exec(select(Document).where(Document.number == d.number)).first()
        if doc is None:
            folded = d.number.translate(LAT2CYR)
            if folded != d.number and r.s.exec(select(Document).where(Document.number == folded)).first():
                bad.append(BadLine(line, f"в номере {d.number} латинские буквы вместо русских: {folded}"))
            else:
                bad.append(BadLine(line, f"обращения {d.number} нет в журнале"))
        elif doc.kind != SUGGESTION:
            bad.append(BadLine(line, f"{doc.number} — не предложение (вид: {doc.kind or 'не определён'})"))
        elif doc.journal != r.report.journal:
            bad.append(BadLine(line, f"{doc.number} — из журнала другой организации, не этого отчёта"))
        else:
            good.append((doc, d))
    return good, bad


def _decide(r: _Reply, doc: Document, d: Decision) -> bool:
    """Record a decision (2.14); False when the same one stands already (a repeated line)."""
    last = r.s.exec(
        select(SuggestionDecision)
        .where(SuggestionDecision.document_id == doc.id)
        .order_by(col(SuggestionDecision.id).desc())
    ).first()
    if last is not None and (last.decision, last.comment) == (d.decision, d.comment):
        return False
    r.s.add(
        SuggestionDecision(
            document_id=id_of(doc),
            decision=d.decision,
            comment=d.comment,
            by=r.msg.from_addr,
            at=r.now,
            inbound_id=r.inbound_id,
            report_id=r.report.id,
        )
    )
    journal.append(
        r.s,
        r.head,
        "suggestion_decided",
        document_id=doc.id,
        decision=d.decision,
        comment=d.comment,
        by=r.msg.from_addr,
        inbound_id=r.inbound_id,
        previous=last.decision if last else None,
    )
    return True


def _signoff(r: _Reply, text: str) -> Result:
    found = replies.find_word(SIGN_WORDS, r.msg.subject, text, first=True)
    if found is None:
        return _unclear(r, f"чтобы отметить, что вы ознакомились с отчётом, ответьте «{SIGN_WORDS[0]}»")
    if found.lookalike:
        return _unclear(r, replies.lookalike_reason(found.word))
    report = r.report
    first = report.signed_at is None
    if first:
        report.status, report.signed_by, report.signed_at = SIGNED, r.msg.from_addr, r.now
        r.s.add(report)
    journal.append(
        r.s,
        r.head,
        "weekly_report_signed",
        report_id=report.id,
        journal=report.journal,
        week=report.week,
        by=r.msg.from_addr,
        inbound_id=r.inbound_id,
        first=first,
    )
    _use(r)
    name = _name(r.rules, r.msg.from_addr)
    _confirm(r, f"Ознакомление с отчётом за неделю {report.week} записано.", [], fresh=False)
    for reviewer in r.rules.report_reviewers():
        notices.to_person(
            r.s,
            r.rules,
            reviewer,
            sender_addr=r.sender_addr,
            key=f"report-signed:{r.inbound_id}:{reviewer}",
            title=f"Отчёт за неделю {report.week}: руководство ознакомлено",
            text=f"{name} ознакомился(-ась) с еженедельным отчётом за неделю {report.week} (п. 2.13 Регламента).",
        )
    return Result("signed", None, f"{report.week} by {r.msg.from_addr}")


def _already(report: WeeklyReport) -> str:
    if report.status == APPROVED:
        return f"отчёт за неделю {report.week} уже согласован {_t(report.reviewed_at)}"
    how = (
        f" без проверки: срок проверки ({_t(report.review_due_at)}) прошёл"
        if report.review == "not_reviewed"
        else ""
    )
    return f"отчёт за неделю {report.week} уже направлен руководству {_t(report.sent_at)}{how}"


def _use(r: _Reply) -> None:
    r.token.used_at, r.token.used_by = r.now, r.msg.from_addr
    r.s.add(r.token)


def _confirm(r: _Reply, text: str, lines: list[tuple[str, str]], *, fresh: bool) -> None:
    """The answer in the reply's thread; to the reviewer with a fresh code to go on with."""
    token = routing.new_token() if fresh else None
    out = notices.to_person(
        r.s,
        r.rules,
        r.msg.from_addr,
        sender_addr=r.sender_addr,
        key=f"report-reply:{r.inbound_id}",
        title=f"Еженедельный отчёт за неделю {r.report.week}" + (f" #{token}" if token else ""),
        text=text
        + (
            "\n\nЧтобы записать решения по другим предложениям, ответьте на это письмо строками вида "
            "«ВХ-2026-000123: ПРИНЯТО: комментарий» (ОТКЛОНЕНО, ЗАПЛАНИРОВАНО)."
            if fresh
            else ""
        ),
        details=lines,
        reply_to=r.msg,
    )
    if token:
        issue_token(r.s, r.rules, r.report, r.msg.from_addr, out.message_id, r.now, token, REVIEW)


def _unclear(r: _Reply, reason: str, lines: Sequence[tuple[str, str]] = ()) -> Result:
    """Nothing changes; the code stays good, so the corrected reply can answer the same letter."""
    journal.append(
        r.s,
        r.head,
        "weekly_report_reply_unclear",
        report_id=r.report.id,
        sender=r.msg.from_addr,
        reason=reason,
        lines=[f"{a} — {b}" for a, b in lines],
        inbound_id=r.inbound_id,
    )
    notices.answer(
        r.s,
        r.rules,
        r.msg,
        sender_addr=r.sender_addr,
        key=f"report-unclear:{r.inbound_id}",
        title=f"Ответ по отчёту за неделю {r.report.week} не понят",
        text=f"Ваше письмо ничего не изменило: {reason}.",
        details=list(lines),
    )
    return Result("unclear", None, reason)


def _refuse(r: _Reply, reason: str) -> Result:
    journal.append(
        r.s,
        r.head,
        "weekly_report_reply_refused",
        report_id=r.report.id,
        sender=r.msg.from_addr,
        reason=reason,
        inbound_id=r.inbound_id,
    )
    notices.answer(
        r.s,
        r.rules,
        r.msg,
        sender_addr=r.sender_addr,
        key=f"report-refused:{r.inbound_id}",
        title=f"Ответ по отчёту за неделю {r.report.week} не принят",
        text=f"Ваше письмо ничего не изменило: {reason}.",
    )
    return Result("refused", None, reason)


def _ext(filename: str) -> str:
    return next(e for e in FILE_TYPES if filename.lower().endswith(e))


def _name(rules: Rules, email: str) -> str:
    p = rules.staff.by_email(email)
    return p.name if p else email


def _t(ts: dt.datetime | None) -> str:
    return ts.astimezone(KZ_TZ).strftime("%d.%m.%Y %H:%M") if ts else "—"
