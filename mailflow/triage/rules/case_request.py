"""Staff asking about a case in words (mailflow.extension): a message whose first
word is «ПРОДЛИТЬ» («ПРОДЛИТЬ ДО 25.05.2026: причина») as a reply to any mailflow message about the case (its token names the
case, used or not: the request changes nothing until management decides) or in a
new message naming the case's number; and, without our letter's token,
«УВЕДОМЛЕН» (the clerk is told which letter to answer). Answers to our
"на продление" letter or to the clerk's letter go to case_reply: they decide.

A stranger's new letter is never a request, unless its address differs from a
staff member's only by look-alike letters: then the clerk is told of it.
"""

from __future__ import annotations

from ...extension import PURPOSES, REQUEST_WORDS, TOLD_WORDS
from ...extract.text import CYR2LAT
from ...replies import find_word
from ...report_review import PURPOSES as REPORT_PURPOSES
from ...resolution_text import strip_quoted
from ...values import Disposition
from ..message import Hit, Journal, Message

NAME = "case_request"
DISPOSITION = Disposition.REQUEST


def check(m: Message, journal: Journal) -> Hit | None:
    ctx = journal.reply_token(m.parsed)
    if ctx is not None and ctx.token.purpose in PURPOSES | REPORT_PURPOSES:
        return None  # management's decision, the clerk's record, a weekly report's reply: case_reply
    if ctx is None and m.sender is None and not _looks_like_staff(m):
        return None
    words = REQUEST_WORDS if ctx else (*REQUEST_WORDS, *TOLD_WORDS)
    found = find_word(words, m.parsed.subject, strip_quoted(m.parsed.body_text), first=True)
    if found is None:
        return None
    how = f"a reply ({ctx.matched_by})" if ctx else "by the case's number"
    return Hit(f"«{found.word}» about a case, {how}", reply=ctx)


def _looks_like_staff(m: Message) -> bool:
    address = m.parsed.from_addr or ""
    return not address.isascii() and m.rules.staff.by_email(address.translate(CYR2LAT).lower()) is not None
