"""Replies to our own mail: which case a reply belongs to, and whether to trust it.

A reply is matched to its case by In-Reply-To/References (our message ids),
then by its one-time token (in the subject, or a +token address). Whether it
may change the case is decided by `authorize`, a pure function: the token is
unexpired and unused, the sender is on the staff list in a role that may do
it, the token was sent to this very person (when it was sent to one), the
message is not auto-generated, and, where trusted servers are configured,
our own server's Authentication-Results says DKIM or SPF passed for the
sender's exact domain (`authentication`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlmodel import Session, select

from . import authentication, automatic
from .extract.text import LAT2CYR
from .models import Token
from .rules import Person, Staff
from .values import ParsedMessage

_SUBJECT_TOKEN = re.compile(r"#([a-z0-9]{16})\b")
_LETTERS = "А-ЯЁӘҒҚҢӨҰҮҺІA-Z"
_PLUS_TOKEN = re.compile(r"^[^@+]+\+([a-z0-9]{16})@")


@dataclass(frozen=True)
class ReplyContext:
    token: Token
    matched_by: str  # in-reply-to | references | subject-token | plus-address


def find(s: Session, msg: ParsedMessage) -> ReplyContext | None:
    """The token row this message answers, if any."""
    ids = [i for i in (msg.in_reply_to,) if i]
    if ids:
        tok = s.exec(select(Token).where(Token.message_id.in_(ids))).first()
        if tok:
            return ReplyContext(tok, "in-reply-to")
    if msg.references:
        tok = s.exec(select(Token).where(Token.message_id.in_(list(msg.references)))).first()
        if tok:
            return ReplyContext(tok, "references")
    for value, how in _token_candidates(msg):
        tok = s.exec(select(Token).where(Token.token == value)).first()
        if tok:
            return ReplyContext(tok, how)
    return None


def _token_candidates(msg: ParsedMessage):
    for m in _SUBJECT_TOKEN.finditer(msg.subject.lower()):
        yield m.group(1), "subject-token"
    for addr in (*msg.to, *msg.cc, *msg.delivered_to):
        m = _PLUS_TOKEN.match(addr)
        if m:
            yield m.group(1), "plus-address"


@dataclass(frozen=True)
class Trust:
    ok: bool
    reason: str  # Russian, for the clerk's notice and the journal
    person: Person | None = None


def authorize(
    msg: ParsedMessage,
    token: Token,
    staff: Staff,
    may: frozenset[str],
    trusted_authserv_ids: frozenset[str],
    now: dt.datetime,
    anyone: frozenset[str] | None = None,
    stands_for: Mapping[str, tuple[str, ...]] | None = None,
) -> Trust:
    """`may`: roles allowed to act; or `anyone`: the addresses allowed (a case's team).
    `stands_for`: whom each substitute stands in for today (substitutes.standing_for):
    a substitute acts as the absent person would, and `person` is then the absent one."""
    sender = person = staff.by_email(msg.from_addr)
    if person is not None and stands_for:
        person = _acting_for(person, token, staff, may, anyone, stands_for.get(person.email, ()))
    if token.used_at is not None:
        return Trust(False, "код ответа уже использован (резолюция уже принята)", person)
    if token.expires_at < now:
        return Trust(False, f"код ответа просрочен ({token.expires_at:%d.%m.%Y})", person)
    if person is None:
        return Trust(
            False, f"отправитель {msg.from_addr or '(без адреса)'} не найден в справочнике сотрудников", None
        )
    if token.holder and token.holder not in (person.email, sender.email if sender else None):
        # each forwarded message carries its own token: one person's cannot move the case for another
        return Trust(
            False, f"код ответа выдан другому сотруднику ({token.holder}), не {person.email}", person
        )
    if anyone is not None and person.email not in anyone:
        return Trust(False, f"отправитель ({person.name}) не участвует в работе над этим делом", person)
    if anyone is None and not person.roles & may:
        return Trust(False, f"у отправителя ({person.name}) нет права накладывать резолюцию", person)
    if automatic.why(msg):
        return Trust(False, "письмо создано автоматически (автоответ), а не человеком", person)
    verdict = authentication.verdict(
        msg.authentication_results, msg.from_addr, trusted_authserv_ids, msg.dkim_verified
    )
    if verdict is not None:
        return Trust(False, verdict, person)
    return Trust(True, "принято", person)


def _acting_for(
    person: Person,
    token: Token,
    staff: Staff,
    may: frozenset[str],
    anyone: frozenset[str] | None,
    absent: tuple[str, ...],
) -> Person:
    """The absent person `person` stands in for here, when only that one may act; else `person`."""

    def may_act(p: Person) -> bool:
        if token.holder and token.holder not in (p.email, person.email):
            return False  # the token went to someone else (neither them nor their substitute)
        return p.email in anyone if anyone is not None else bool(p.roles & may)

    if may_act(person):
        return person
    for email in absent:
        them = staff.by_email(email)
        if them is not None and may_act(them):
            return them
    return person


@dataclass(frozen=True)
class Word:
    """A keyword a person wrote (one of the words the caller expects)."""

    word: str
    lookalike: bool  # found only once Latin look-alikes were read as Cyrillic (O for О, P for Р)


def find_word(words: Iterable[str], subject: str, text: str, *, first: bool = False) -> Word | None:
    """The keyword the message's own first words name (or the words the sender put in the subject).

    Our own subject ("[number] … #token") is not the sender's words and is never
    searched. Longer words are tried first, so «НЕ СОГЛАСОВАНО» is never read as
    «СОГЛАСОВАНО». `first`: only as the very first word (a letter that merely
    mentions «продлить» is not a request). A word written with Latin look-alike
    letters is found and marked: the caller refuses it with a clear reply rather
    than guess.
    """
    start = r"^[^" + _LETTERS + r"]*" if first else r"(?<![" + _LETTERS + r"])"
    ours = re.search(r"\[[^\]]*\]", subject)
    own = re.sub(
        r"^\s*((re|fwd?|ответ|на)\s*:\s*)+", "", subject[: ours.start()] if ours else subject, flags=re.I
    )
    ordered = sorted(dict.fromkeys(w.upper().replace("Ё", "Е") for w in words), key=lambda w: -len(w))
    for place in (text.strip()[:300], own):
        plain = place.upper().replace("Ё", "Е")
        for lookalike, seen in ((False, plain), (True, plain.translate(LAT2CYR))):
            for word in ordered:
                if re.search(start + re.escape(word) + r"(?![" + _LETTERS + r"])", seen):
                    return Word(word, lookalike)
    return None


def lookalike_reason(word: str) -> str:
    """Why a keyword written with Latin look-alikes changes nothing (Russian, for the sender)."""
    return (
        f"в слове «{word}» есть латинские буквы, похожие на русские (например, O, P, T, A, E, H); "
        "наберите его русскими буквами"
    )
