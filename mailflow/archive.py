"""Content-addressed, write-once store for raw messages and attachments.

Written before anything else happens to a message, so nothing received is
ever lost. Files are named by their sha256, owner-only (0600, folders 0700),
and never rewritten: a second write of the same bytes is a no-op.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class Archive:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str, suffix: str = ".eml") -> Path:
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}{suffix}"

    def put(self, data: bytes, suffix: str = ".eml") -> str:
        """Store `data`; return its sha256. Durable when this returns."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest, suffix)
        if target.exists() and target.stat().st_size == len(data):
            return digest
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
        return digest

    def get(self, sha256: str, suffix: str = ".eml") -> bytes:
        return self.path(sha256, suffix).read_bytes()
