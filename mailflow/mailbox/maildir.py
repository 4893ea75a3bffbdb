"""A local Maildir as a mailbox (the embedded default and the demo).

UIDVALIDITY is fixed ("maildir"); the UID is the Maildir unique name (the file
name before ":2,"), which stays the message's for its whole life. Processed and
Quarantine are Maildir++ subfolders (`.Processed`), so an IMAP server serving
the same Maildir shows them as folders.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from ..config import MailboxConfig
from ..values import Source
from . import Fetched, MessageGone


class MaildirMailbox:
    def __init__(self, cfg: MailboxConfig):
        self.name = cfg.name
        self.path = Path(cfg.endpoint.path)
        self.poll_interval = min(cfg.poll_interval, 5.0)

    def open(self) -> None:
        for sub in ("cur", "new", "tmp"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        pass

    def _files(self) -> dict[str, Path]:
        found = {}
        for sub in ("new", "cur"):
            with os.scandir(self.path / sub) as it:
                for entry in it:
                    if entry.is_file() and not entry.name.startswith("."):
                        found[entry.name.split(":2,")[0]] = Path(entry.path)
        return found

    def _file(self, uid: str) -> Path | None:
        for sub in ("new", "cur"):
            plain = self.path / sub / uid
            if plain.exists():
                return plain
        return self._files().get(uid)

    def pending(self) -> list[Source]:
        waiting = []
        for uid, path in self._files().items():
            try:
                waiting.append((path.stat().st_mtime, uid))
            except FileNotFoundError:
                continue  # moved away meanwhile
        return [Source(self.name, "maildir", uid) for _, uid in sorted(waiting)]

    def fetch(self, source: Source) -> Fetched:
        file = self._file(source.uid)
        if file is None:
            raise MessageGone(f"{self.path}: message {source.uid} is gone")
        try:
            mtime = dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC)
            raw = file.read_bytes()
        except FileNotFoundError:
            raise MessageGone(f"{self.path}: message {source.uid} is gone") from None
        return Fetched(source, raw, mtime)

    def fetch_many(self, sources: Sequence[Source], budget: int) -> dict[Source, Fetched | None]:
        """One at a time: a file costs no round trip."""
        out: dict[Source, Fetched | None] = {}
        try:
            out[sources[0]] = self.fetch(sources[0])
        except MessageGone:
            out[sources[0]] = None
        return out

    def move(self, sources: Source | Sequence[Source], folder: str, *, unread: bool = False) -> None:
        target = self.path / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (target / sub).mkdir(parents=True, exist_ok=True)
        for source in [sources] if isinstance(sources, Source) else sources:
            file = self._file(source.uid)
            if file is None:
                continue  # already moved: moving is idempotent
            if unread:  # as delivered: new/, no flags, for a person's mail client to show
                place = target / ("new" if ":2," not in file.name else "cur") / file.name
            else:
                place = target / "cur" / (file.name if ":2," in file.name else f"{file.name}:2,S")
            try:
                os.replace(file, place)
            except FileNotFoundError:
                pass  # another daemon moved it first

    def wait(self, timeout: float, stop: threading.Event) -> None:
        stop.wait(min(timeout, self.poll_interval))
