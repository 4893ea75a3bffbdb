"""Sign-in by e-mail (no passwords): a one-time link, then a session cookie.

Tokens are random (256 bits) and only their sha256 is stored, so a copy of
the database signs nobody in. A link is valid `link_minutes` and once; a
session `session_hours`. Whoever asks gets the same answer: a link goes only
to an address of rules/staff.toml whose roles may sign in (rules/access.toml).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from .. import journal, outbox
from ..access import Rights
from ..models import ChainHead, WebLogin, WebSession
from ..rules import Person, Rules

log = logging.getLogger("mailflow.web")
RESEND_AFTER = dt.timedelta(minutes=1)  # a second link to the same address, at most this often


@dataclass(frozen=True)
class Signed:
    """The person behind a request."""

    person: Person
    rights: Rights
    csrf: str
    # by an API token (Authorization: Bearer): no cookie a page of another site could
    # make the browser send, so no CSRF token to check; nor may it manage tokens
    by_token: bool = False

    @property
    def email(self) -> str:
        return self.person.email


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_link(
    engine: sa.Engine, rules: Rules, address: str, *, base_url: str, sender_addr: str, now: dt.datetime
) -> str | None:
    """Queue a sign-in link to `address` if it may sign in; the link when a mail was queued."""
    person = rules.staff.by_email(address)
    if person is None or rules.access.rights(person.roles) is None:
        log.info("sign-in asked for an address that may not sign in")
        return None
    token = secrets.token_urlsafe(32)
    with Session(engine) as s, s.begin():
        head = journal.lock(s)
        recent = s.exec(
            select(WebLogin).where(
                WebLogin.email == person.email,
                col(WebLogin.used_at).is_(None),
                WebLogin.created_at > now - RESEND_AFTER,
            )
        ).first()
        if recent is not None:
            return None  # a link went a moment ago: no mail bombing through this form
        login = WebLogin(
            token_hash=digest(token),
            email=person.email,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=rules.access.link_minutes),
        )
        s.add(login)
        s.flush()
        link = f"{base_url.rstrip('/')}/login/{token}"
        subject, body = rules.render(
            "signin",
            person=person.name,
            link=link,
            minutes=rules.access.link_minutes,
        )
        out = outbox.compose(
            sender=sender_addr,
            to=(person.email,),
            subject=subject,
            body=body,
            kind="signin",
            key=f"signin:{login.id}",
        )
        outbox.queue(s, out)
        journal.append(s, head, "signin_link", email=person.email)
    return link


def redeem(engine: sa.Engine, rules: Rules, token: str, *, now: dt.datetime) -> tuple[str, str] | None:
    """A session (cookie token, CSRF token) for a valid, unused link; None otherwise."""
    with Session(engine) as s, s.begin():
        head = journal.lock(s)
        login = s.exec(select(WebLogin).where(WebLogin.token_hash == digest(token))).first()
        if login is None or login.used_at is not None or login.expires_at <= now:
            return None
        login.used_at = now
        person = rules.staff.by_email(login.email)
        if person is None or rules.access.rights(person.roles) is None:
            return None
        return _start(s, head, rules, person, now)


def _start(
    s: Session, head: ChainHead, rules: Rules, person: Person, now: dt.datetime, **how: str
) -> tuple[str, str]:
    session_token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    s.add(
        WebSession(
            token_hash=digest(session_token),
            csrf=csrf,
            email=person.email,
            created_at=now,
            expires_at=now + dt.timedelta(hours=rules.access.session_hours),
        )
    )
    journal.append(s, head, "signed_in", email=person.email, **how)
    return session_token, csrf


def remote(engine: sa.Engine, rules: Rules, address: str, *, now: dt.datetime) -> tuple[str, str] | None:
    """A session for the person the trusted proxy's single sign-on names (`[web]
    remote_user_header`); None when the address may not sign in."""
    person = rules.staff.by_email(address)
    if person is None or rules.access.rights(person.roles) is None:
        return None
    with Session(engine) as s, s.begin():
        return _start(s, journal.lock(s), rules, person, now, via="remote_user")


def signed(engine: sa.Engine, rules: Rules, token: str | None, *, now: dt.datetime) -> Signed | None:
    """Who holds the session cookie `token`, while it lasts and they are still staff."""
    if not token:
        return None
    with Session(engine) as s:
        row = s.exec(select(WebSession).where(WebSession.token_hash == digest(token))).first()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    person = rules.staff.by_email(row.email)
    rights = rules.access.rights(person.roles) if person else None
    if person is None or rights is None:
        return None  # removed from the directory, or their role lost the right
    return Signed(person, rights, row.csrf)


def end(engine: sa.Engine, token: str | None, *, now: dt.datetime) -> None:
    if not token:
        return
    with Session(engine) as s, s.begin():
        row = s.exec(select(WebSession).where(WebSession.token_hash == digest(token))).first()
        if row is not None and row.ended_at is None:
            row.ended_at = now
