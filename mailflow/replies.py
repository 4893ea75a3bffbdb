"""Replies to our own mail: which case a reply belongs to, and whether to trust it.

A reply is matched to its case by In-Reply-To/References (our message ids),
then by its one-time token (in the subject, or a +token address). Whether it
may change the case is decided by `authorize`, a pure function: the token is
unexpired and unused, the sender is on the staff list in a role that may do
it, the message is not auto-generated, and where a trusted server stamped
Authentication-Results, DKIM or SPF passed for the sender's domain.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlmodel import Session, select

from . import automatic
from .models import Token
from .rules import Person, Staff
from .values import ParsedMessage

_SUBJECT_TOKEN = re.compile(r"#([a-z0-9]{16})\b")
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
) -> Trust:
    """`may`: roles allowed to act; or `anyone`: the addresses allowed (a case's team)."""
    person = staff.by_email(msg.from_addr)
    if token.used_at is not None:
        return Trust(False, "код ответа уже использован (резолюция уже принята)", person)
    if token.expires_at < now:
        return Trust(False, f"код ответа просрочен ({token.expires_at:%d.%m.%Y})", person)
    if person is None:
        return Trust(
            False, f"отправитель {msg.from_addr or '(без адреса)'} не найден в справочнике сотрудников", None
        )
    if anyone is not None and person.email not in anyone:
        return Trust(False, f"отправитель ({person.name}) не участвует в работе над этим делом", person)
    if anyone is None and not person.roles & may:
        return Trust(False, f"у отправителя ({person.name}) нет права накладывать резолюцию", person)
    if automatic.why(msg):
        return Trust(False, "письмо создано автоматически (автоответ), а не человеком", person)
    verdict = authentication(msg, trusted_authserv_ids)
    if verdict is not None:
        return Trust(False, verdict, person)
    return Trust(True, "принято", person)


def authentication(msg: ParsedMessage, trusted: frozenset[str]) -> str | None:
    """None when acceptable; otherwise why not.

    Only Authentication-Results from a trusted authserv-id count (anyone can
    write the header; our own server's stamp is the one that matters). With
    no trusted stamp, nothing is checked.
    """
    domain = msg.from_addr.rsplit("@", 1)[-1] if "@" in msg.from_addr else ""
    stamped = [r for r in msg.authentication_results if _authserv_id(r) in trusted]
    if not stamped:
        return None
    for r in stamped:
        for method, result, props in _results(r):
            if result != "pass":
                continue
            if method == "dkim" and _same_domain(props.get("header.d") or props.get("header.i", ""), domain):
                return None
            if method == "spf" and _same_domain(props.get("smtp.mailfrom", ""), domain):
                return None
    return f"подлинность отправителя не подтверждена (DKIM/SPF не пройдены для {domain or 'домена'})"


def _authserv_id(value: str) -> str:
    return value.split(";", 1)[0].strip().split()[0].lower() if value.strip() else ""


def _results(value: str):
    """(method, result, {property: value}) of each resinfo in one header (RFC 8601)."""
    for part in value.split(";")[1:]:
        m = re.match(r"\s*([a-z0-9-]+)\s*=\s*([a-z]+)(.*)", part, re.I | re.S)
        if not m:
            continue
        props = dict(
            (k.lower(), v.strip('"').lower())
            for k, v in re.findall(r"([a-z0-9-]+\.[a-z0-9-]+)\s*=\s*(\S+)", m.group(3), re.I)
        )
        yield m.group(1).lower(), m.group(2).lower(), props


def _same_domain(value: str, domain: str) -> bool:
    """Relaxed alignment (as DMARC): the sender's domain or a subdomain of it."""
    value = value.rsplit("@", 1)[-1].strip().rstrip(".").lower()
    return bool(domain and value) and (domain == value or domain.endswith("." + value))
