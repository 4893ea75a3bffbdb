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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from .models import ArchiveBlob


class NotArchived(FileNotFoundError):
    """No such sha256 in the archive (a FileNotFoundError, as a missing file always was)."""


@dataclass(frozen=True)
class Staged:
    """Bytes written by `stage`, not yet durable nor under their name: `settle` makes
    them both. `tmp` None: nothing was left to do (stored before, or a store whose
    writes are durable at once)."""

    sha256: str
    tmp: Path | None = None
    target: Path | None = None


class Archive(Protocol):
    def put(self, data: bytes, suffix: str = ".eml") -> str:
        """Store `data`; return its sha256. Durable when this returns."""
        ...

    def stage(self, data: bytes, suffix: str = ".eml") -> Staged:
        """Write `data` without waiting for the disk; durable only after `settle`."""
        ...

    def settle(self, staged: Sequence[Staged]) -> None:
        """Make staged writes durable and readable, with one wait on the disk for all
        (a group of messages pays about one fsync, not one each)."""
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
        staged = [self.stage(data, suffix) for data in items]
        self.settle(staged)
        return [st.sha256 for st in staged]

    def put(self, data: bytes, suffix: str = ".eml") -> str:
        return self.put_all([data], suffix)[0]

    def stage(self, data: bytes, suffix: str = ".eml") -> Staged:
        """The bytes under a temporary name in their folder; the name is theirs only
        once they are on disk (`settle`), so a crash never leaves a torn file named."""
        sha = digest(data)
        target = self.path(sha, suffix)
        if target.exists() and target.stat().st_size == len(data):
            return Staged(sha)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for folder in (self.root, target.parent.parent, target.parent):
            os.chmod(folder, 0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o600)
        except BaseException:
            _unlink(Path(tmp))
            raise
        return Staged(sha, Path(tmp), target)

    def settle(self, staged: Sequence[Staged]) -> None:
        """fsync every file, rename it, fsync every folder. The fsyncs of a group run
        side by side: the file system commits them together."""
        todo = [st for st in staged if st.tmp is not None and st.target is not None]
        if not todo:
            return
        try:
            _fsync_all([st.tmp for st in todo if st.tmp is not None])
            for st in todo:
                assert st.tmp is not None and st.target is not None
                os.replace(st.tmp, st.target)  # same bytes either way, so a race is harmless
        except BaseException:
            for st in todo:
                if st.tmp is not None:
                    _unlink(st.tmp)
            raise
        _fsync_all(sorted({st.target.parent for st in todo if st.target is not None}))

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

    def stage(self, data: bytes, suffix: str = ".eml") -> Staged:
        return Staged(self.put(data, suffix))  # a commit: durable at once

    def settle(self, staged: Sequence[Staged]) -> None:
        return None

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


FSYNC_THREADS = 8  # fsyncs waiting on the disk at once (they cost no CPU)


def _fsync_all(paths: Sequence[Path]) -> None:
    if len(paths) == 1:
        _fsync(paths[0])
        return
    with ThreadPoolExecutor(min(FSYNC_THREADS, len(paths))) as ex:
        list(ex.map(_fsync, paths))  # the first failure is raised


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
