"""Content-addressed, write-once store for raw messages and attachments.

Written before anything else happens to a message, so nothing received is
ever lost; never rewritten: a second write of the same bytes is a no-op.
Two stores behind one protocol, chosen by the composition root (daemon):

- FileArchive: files under the data home named by their sha256, owner-only
  (0600, folders 0700). One machine: the SQLite journal's.
- DatabaseArchive: rows of `archive_blob` keyed by sha256 in the journal's
  own database, where every daemon reaches them. A journal on PostgreSQL may
  be shared by daemons on several machines, and a scan archived by one must be
  forwarded by another. What an older mailflow archived as files under this
  machine's home is still read (and then copied into the database).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from .models import ArchiveBlob


class NotArchived(FileNotFoundError):
    """No such sha256 in the archive (a FileNotFoundError, as a missing file always was)."""


class Archive(Protocol):
    def put(self, data: bytes, suffix: str = ".eml") -> str:
        """Store `data`; return its sha256. Durable when this returns."""
        ...

    def put_all(self, items: Sequence[bytes], suffix: str = ".bin") -> list[str]:
        """Store each of `items` (a message's attachments); their sha256s, in order."""
        ...

    def get(self, sha256: str, suffix: str = ".eml") -> bytes:
        """The stored bytes; raises NotArchived."""
        ...

    def local_path(self, sha256: str, suffix: str = ".eml") -> Path | None:
        """A file holding the bytes on this machine, if the store keeps files."""
        ...


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileArchive:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str, suffix: str = ".eml") -> Path:
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}{suffix}"

    def local_path(self, sha256: str, suffix: str = ".eml") -> Path | None:
        return self.path(sha256, suffix)

    def put_all(self, items: Sequence[bytes], suffix: str = ".bin") -> list[str]:
        return [self.put(data, suffix) for data in items]

    def put(self, data: bytes, suffix: str = ".eml") -> str:
        sha = digest(data)
        target = self.path(sha, suffix)
        if target.exists() and target.stat().st_size == len(data):
            return sha
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for folder in (self.root, target.parent.parent, target.parent):
            os.chmod(folder, 0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)  # same bytes either way, so a race is harmless
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return sha

    def get(self, sha256: str, suffix: str = ".eml") -> bytes:
        try:
            return self.path(sha256, suffix).read_bytes()
        except FileNotFoundError:
            raise NotArchived(f"{sha256}{suffix} is not in the archive at {self.root}") from None


class DatabaseArchive:
    """The archive in the journal's database. The suffix names a file's kind in
    FileArchive; here the sha256 alone is the key (the same bytes are one blob).
    `files`: this machine's file archive from before, read when the database does
    not have the bytes (and copied in, so the other machines reach them too)."""

    def __init__(self, engine: sa.Engine, files: FileArchive | None = None):
        self.engine, self.files = engine, files

    def local_path(self, sha256: str, suffix: str = ".eml") -> Path | None:
        return None

    def put(self, data: bytes, suffix: str = ".eml") -> str:
        return self.put_all([data], suffix)[0]

    def put_all(self, items: Sequence[bytes], suffix: str = ".bin") -> list[str]:
        """One transaction for a message's parts; bytes already stored are not sent again."""
        shas = [digest(d) for d in items]
        if not shas:
            return shas
        with Session(self.engine) as s, s.begin():
            have = set(s.exec(select(ArchiveBlob.sha256).where(col(ArchiveBlob.sha256).in_(set(shas)))).all())
            now = dt.datetime.now(dt.UTC)
            rows = {
                sha: {"sha256": sha, "size": len(d), "data": d, "stored_at": now}
                for sha, d in zip(shas, items, strict=True)
                if sha not in have
            }
            if rows:
                insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
                # another daemon storing the same bytes at the same moment: the same row
                s.execute(
                    insert(ArchiveBlob).on_conflict_do_nothing(index_elements=["sha256"]), list(rows.values())
                )
        return shas

    def get(self, sha256: str, suffix: str = ".eml") -> bytes:
        with Session(self.engine) as s:
            data = s.exec(select(ArchiveBlob.data).where(ArchiveBlob.sha256 == sha256)).first()
        if data is not None:
            return bytes(data)
        if self.files is not None:
            try:
                old = self.files.get(sha256, suffix)
            except NotArchived:
                pass
            else:
                if digest(old) == sha256:  # a damaged file is not copied in as the original
                    self.put(old, suffix)
                    return old
        raise NotArchived(f"{sha256} is not in the database's archive")
