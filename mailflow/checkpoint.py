"""The chain anchored outside the database: signed checkpoints of its head.

Whoever can write the database can also recompute every hash, cut the last
events off and set `chain_head` back, or start the journal again: the chain
alone proves nothing against them. A checkpoint is the head (event count,
last event id, its hash, the time) signed with an Ed25519 key that is not in
the database (a file, or a systemd credential), written to a file and mailed
to an archive address. A journal that no longer holds the signed event with
the signed hash, or holds a different number of events up to it, was
rewritten, truncated or reset since.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Session, col, select

from . import journal, outbox
from .config import CheckpointConfig
from .models import ChainHead, Event
from .values import KZ_TZ, Attachment

FORMAT = "mailflow-checkpoint/1"
EVENT = "checkpoint"  # the event recording that a checkpoint was made


class KeyProblem(Exception):
    """A key or checkpoint file that cannot be used (Russian, for the operator)."""


@dataclass(frozen=True)
class Checkpoint:
    events: int  # events in the journal
    last_event_id: int
    head: str  # the hash of that event
    at: dt.datetime
    key_id: str  # which key signed: the start of its public key's sha256
    signature: str = ""  # base64 Ed25519 over `signed()`

    def signed(self) -> bytes:
        """The bytes signed: canonical JSON of everything but the signature."""
        return journal.canonical(
            {
                "format": FORMAT,
                "events": self.events,
                "last_event_id": self.last_event_id,
                "head": self.head,
                "at": self.at.astimezone(dt.UTC).isoformat(),
                "key_id": self.key_id,
            }
        ).encode("utf-8")

    def text(self) -> str:
        data = json.loads(self.signed())
        data["signature"] = self.signature
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    @property
    def file_name(self) -> str:
        return f"checkpoint-{self.at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{self.last_event_id}.json"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# --- keys ---------------------------------------------------------------------


def keygen(path: Path) -> tuple[Path, str]:
    """A new private key at `path` (0600, never over an existing file) and its public
    key beside it (`path`.pub); (public key file, public key PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyProblem(f"{path}: файл уже есть — ключ не перезаписан") from None
    except OSError as exc:
        raise KeyProblem(f"{path}: не удалось создать: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    pub = Path(f"{path}.pub")
    pub.write_bytes(public)
    return pub, public.decode("ascii")


def private_key(cfg: CheckpointConfig) -> Ed25519PrivateKey:
    """The signing key: `key_file`, or the systemd credential `key_credential`."""
    if cfg.key_credential:
        creds = os.environ.get("CREDENTIALS_DIRECTORY")
        if not creds:
            raise KeyProblem(
                f"ключ — учётные данные systemd «{cfg.key_credential}», но $CREDENTIALS_DIRECTORY не задан "
                "(LoadCredential= в юните)"
            )
        path = Path(creds) / cfg.key_credential
    elif cfg.key_file:
        path = cfg.key_file
    else:
        raise KeyProblem("в [checkpoint] не указан ключ: key_file или key_credential")
    try:
        key = serialization.load_pem_private_key(_read(path, "ключ"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"{path}: не закрытый ключ Ed25519 в PEM (создайте его: mailflow journal keygen)")
    return key


def public_key(path: Path) -> Ed25519PublicKey:
    data = _read(path, "открытый ключ")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyProblem(f"{path}: не открытый ключ Ed25519 в PEM")
    return key


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyProblem(f"{path}: {what} не прочитан: {exc.strerror}") from None


# --- making one ---------------------------------------------------------------


def make(s: Session, key: Ed25519PrivateKey, now: dt.datetime | None = None) -> Checkpoint:
    """The journal's head now, signed. Read under the writer lock (the caller's), so
    the count and the head are of the same moment."""
    head = s.get(ChainHead, 1)
    count = s.exec(select(sa.func.count()).select_from(Event)).one()
    unsigned = Checkpoint(
        events=count,
        last_event_id=head.last_event_id if head else 0,
        head=head.last_hash if head else journal.GENESIS,
        at=(now or dt.datetime.now(dt.UTC)).replace(microsecond=0),
        key_id=key_id(key.public_key()),
    )
    sig = base64.b64encode(key.sign(unsigned.signed())).decode("ascii")
    return Checkpoint(**{**unsigned.__dict__, "signature": sig})


def write(cp: Checkpoint, folder: Path) -> Path:
    """The checkpoint's file in `folder`, written whole (a temporary file renamed)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / cp.file_name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(cp.text(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def record(s: Session, head: ChainHead, cp: Checkpoint, *, file: str | None, mailed_to: str | None) -> None:
    """The checkpoint's event: made after the head it signs, so it is the first event after it."""
    journal.append(
        s,
        head,
        EVENT,
        events=cp.events,
        last_event_id=cp.last_event_id,
        hash=cp.head,
        signed_at=cp.at.isoformat(),
        key_id=cp.key_id,
        signature=cp.signature,
        file=file,
        mailed_to=mailed_to,
    )


def issue(
    s: Session,
    head: ChainHead,
    cfg: CheckpointConfig,
    key: Ed25519PrivateKey,
    *,
    sender_addr: str,
    now: dt.datetime | None = None,
) -> tuple[Checkpoint, Path]:
    """Sign the head, write the file, queue the mail to the archive address and record
    the event, in the caller's transaction (which holds the writer lock)."""
    cp = make(s, key, now)
    path = write(cp, cfg.dir)
    if cfg.archive_to:
        data = cp.text().encode("utf-8")
        when = cp.at.astimezone(KZ_TZ)
        out = outbox.compose(
            sender=sender_addr,
            to=(cfg.archive_to,),
            subject=f"Контрольная точка журнала mailflow {when:%d.%m.%Y %H:%M}",
            body=(
                f"Контрольная точка журнала событий на {when:%d.%m.%Y %H:%M} (UTC+5): "
                f"событий {cp.events}, последнее #{cp.last_event_id}, хеш {cp.head}.\n"
                f"Подписана ключом {cp.key_id} (Ed25519).\n\n"
                "Храните это письмо: по вложенному файлу команда\n"
                "  mailflow journal verify --checkpoint ФАЙЛ\n"
                "обнаружит, если журнал после этой точки переписали, усекли или начали заново.\n"
            ),
            kind=EVENT,
            key=f"checkpoint:{cp.at.isoformat()}:{cp.last_event_id}",
            attachments=(
                Attachment(cp.file_name, "application/json", data, hashlib.sha256(data).hexdigest()),
            ),
        )
        outbox.queue(s, out)
    record(s, head, cp, file=str(path), mailed_to=cfg.archive_to)
    return cp, path


def last_made(s: Session) -> dt.datetime | None:
    """When the last checkpoint was made (its event), or None."""
    return s.exec(select(Event.at).where(Event.type == EVENT).order_by(col(Event.id).desc()).limit(1)).first()


def made_today(s: Session, now: dt.datetime) -> bool:
    last = last_made(s)
    return last is not None and last.astimezone(KZ_TZ).date() == now.astimezone(KZ_TZ).date()


# --- checking a journal against one -------------------------------------------


def load(path: Path) -> Checkpoint:
    try:
        data = json.loads(_read(path, "файл контрольной точки"))
        if data.get("format") != FORMAT:
            raise KeyProblem(f"{path}: не контрольная точка mailflow (format {data.get('format')!r})")
        return Checkpoint(
            events=int(data["events"]),
            last_event_id=int(data["last_event_id"]),
            head=str(data["head"]),
            at=dt.datetime.fromisoformat(data["at"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyProblem(f"{path}: файл контрольной точки не читается: {exc}") from None


@dataclass(frozen=True)
class Finding:
    kind: str  # signature | reset | truncated | rewritten
    text: str  # Russian, for the operator


def check(s: Session, cp: Checkpoint, public: Ed25519PublicKey) -> list[Finding]:
    """What the journal shows of tampering since `cp`; empty when it still holds it."""
    try:
        public.verify(base64.b64decode(cp.signature, validate=True), cp.signed())
    except (InvalidSignature, ValueError):
        other = cp.key_id != key_id(public)
        return [
            Finding(
                "signature",
                "подпись контрольной точки не сходится: "
                + ("она подписана другим ключом" if other else "файл контрольной точки изменён после подписи")
                + " — ей нельзя верить",
            )
        ]
    when = cp.at.astimezone(KZ_TZ).strftime("%d.%m.%Y %H:%M")
    signed = f"контрольная точка от {when} подписала {cp.events} событий до #{cp.last_event_id}"
    count = s.exec(select(sa.func.count()).select_from(Event)).one()
    if count == 0 and cp.events > 0:
        return [Finding("reset", f"журнал сброшен: событий в базе нет, а {signed}")]
    top = s.exec(select(sa.func.max(Event.id))).one() or 0
    head = s.get(ChainHead, 1)
    ev = s.get(Event, cp.last_event_id) if cp.last_event_id else None
    found: list[Finding] = []
    if cp.last_event_id and ev is None:
        if top < cp.last_event_id:
            found.append(
                Finding(
                    "truncated", f"журнал усечён: последнее событие в базе #{top}, в базе {count}, а {signed}"
                )
            )
        else:
            found.append(
                Finding("rewritten", f"журнал переписан: события #{cp.last_event_id} нет, а {signed}")
            )
    elif ev is not None and ev.hash != cp.head:
        found.append(
            Finding(
                "rewritten",
                f"журнал переписан: хеш события #{cp.last_event_id} не тот, что подписан "
                f"(цепочка пересчитана), {signed}",
            )
        )
    upto = s.exec(select(sa.func.count()).select_from(Event).where(col(Event.id) <= cp.last_event_id)).one()
    if ev is not None and upto != cp.events:
        found.append(
            Finding(
                "rewritten",
                f"журнал переписан: до события #{cp.last_event_id} в базе {upto} событий, а подписано {cp.events}",
            )
        )
    if (
        head is not None
        and head.last_event_id < cp.last_event_id
        and not any(f.kind == "truncated" for f in found)
    ):
        found.append(
            Finding(
                "truncated",
                f"указатель цепочки (chain_head) на событии #{head.last_event_id} — раньше контрольной точки "
                f"(#{cp.last_event_id}): конец журнала отрезан",
            )
        )
    return found
