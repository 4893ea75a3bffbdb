"""Per-person API tokens: made and revoked by the person at /tokens, shown once.

A token is 256 random bits; only its sha256 is stored (with its first
characters, to tell keys apart), so a copy of the database lets nobody in.
`Authorization: Bearer <token>` acts as the person with the roles they have
at that moment in rules/staff.toml and rules/access.toml, exactly as their
session would; a revoked token, an expired one (rules/access.toml
`api_tokens.days` after it was made: a forgotten key in an old script stops
working by itself), or one whose person left the directory, is refused.
Making and revoking are events of the hash-chained journal.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from .. import journal
from ..models import ApiToken
from ..rules import Rules
from .signin import Signed, digest

log = logging.getLogger("mailflow.web")
PREFIX = "mf_"  # tells a mailflow token apart in a script's configuration (and in secret scanners)
MAX_PER_PERSON = 20
NAME_LIMIT = 100
TOUCH_EVERY = dt.timedelta(minutes=10)  # last_used_at is written at most this often


class Refused(ValueError):
    """A token that cannot be made, in words for the person."""


@dataclass(frozen=True)
class Key:
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None

    def live(self, now: dt.datetime) -> bool:
        """Neither revoked nor expired (a key with no expiry recorded is refused)."""
        return self.revoked_at is None and self.expires_at is not None and now < self.expires_at


def create(engine: sa.Engine, who: Signed, name: str, *, days: int, now: dt.datetime) -> tuple[str, Key]:
    """A new token of `who` named `name`, working for `days`: the token itself (shown
    once) and its row."""
    name = " ".join(name.split())
    if not name:
        raise Refused("Назовите ключ: для чего он (например, «выгрузка в 1С»).")
    if len(name) > NAME_LIMIT:
        raise Refused(f"Название длиннее {NAME_LIMIT} знаков.")
    token = PREFIX + secrets.token_urlsafe(32)
    with Session(engine) as s, s.begin():
        head = journal.lock(s)
        live = s.exec(
            select(sa.func.count())
            .select_from(ApiToken)
            .where(
                col(ApiToken.email) == who.email,
                col(ApiToken.revoked_at).is_(None),
                col(ApiToken.expires_at) > now,
            )
        ).one()
        if live >= MAX_PER_PERSON:
            raise Refused(f"У вас уже {MAX_PER_PERSON} действующих ключей: отзовите ненужные.")
        row = ApiToken(
            token_hash=digest(token),
            prefix=token[:10],
            name=name,
            email=who.email,
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        s.add(row)
        s.flush()
        journal.append(
            s,
            head,
            "api_token_created",
            email=who.email,
            token_id=row.id,
            name=name,
            prefix=row.prefix,
            expires_at=row.expires_at.isoformat() if row.expires_at else None,
        )
        key = _key(row)
    log.info("API token %s made by %s", key.prefix, who.email)
    return token, key


def listing(engine: sa.Engine, email: str) -> list[Key]:
    with Session(engine) as s:
        rows = s.exec(select(ApiToken).where(ApiToken.email == email).order_by(col(ApiToken.id).desc())).all()
        return [_key(r) for r in rows]


def revoke(engine: sa.Engine, who: Signed, token_id: int, *, now: dt.datetime) -> Key | None:
    """Revoke `who`'s own token `token_id`; None when they have no such live token
    (another person's token looks the same as one that does not exist; an expired
    one needs no revoking)."""
    with Session(engine) as s, s.begin():
        head = journal.lock(s)
        row = s.exec(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.email == who.email).with_for_update()
        ).first()
        if row is None or not _key(row).live(now):
            return None
        row.revoked_at = now
        journal.append(
            s, head, "api_token_revoked", email=who.email, token_id=row.id, name=row.name, prefix=row.prefix
        )
        return _key(row)


def bearer(engine: sa.Engine, rules: Rules, token: str, *, now: dt.datetime) -> Signed | None:
    """Who a bearer token acts for, with their roles as they stand now; None if it is
    unknown, revoked, expired, or its person may no longer sign in."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    with Session(engine) as s:
        row = s.exec(select(ApiToken).where(ApiToken.token_hash == digest(token))).first()
        if row is None or not _key(row).live(now):
            return None
        person = rules.staff.by_email(row.email)
        rights = rules.access.rights(person.roles) if person else None
        if person is None or rights is None:
            return None
        if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
            s.execute(sa.update(ApiToken).where(col(ApiToken.id) == row.id).values(last_used_at=now))
            s.commit()
    return Signed(person, rights, csrf="", by_token=True)


def _key(r: ApiToken) -> Key:
    return Key(r.id or 0, r.name, r.prefix, r.created_at, r.last_used_at, r.revoked_at, r.expires_at)
