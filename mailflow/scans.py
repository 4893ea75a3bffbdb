"""The scans that travel with an appeal: to management, the PR specialist and
the executors (regulation 1.8, 1.11), within a sane total size."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from .archive import Archive, NotArchived
from .models import DocAttachment, Document
from .values import Attachment

DOCUMENT_TYPES = ("application/pdf", "image/")  # what a scan is sent as
FORWARD_LIMIT = 20 * 2**20  # bytes of scans per message; the rest stays in the archive


def is_scan(content_type: str) -> bool:
    return content_type.startswith(DOCUMENT_TYPES)


def forwardable(files: Iterable[Attachment]) -> tuple[Attachment, ...]:
    """The scans among `files`, in order, as long as they fit FORWARD_LIMIT together."""
    out, total = [], 0
    for a in files:
        if is_scan(a.content_type) and total + len(a.data) <= FORWARD_LIMIT:
            out.append(a)
            total += len(a.data)
    return tuple(out)


class MissingScan(Exception):
    """A registered document's scan is not in the archive: what would be forwarded
    without it is refused instead (the message waits in quarantine with this reason)."""

    def __init__(self, number: str | None, filename: str, sha256: str):
        self.number, self.filename, self.sha256 = number, filename, sha256
        super().__init__(
            f"скан «{filename}» дела {number or '?'} (sha256 {sha256}) не найден в архиве: "
            "письмо с ним не отправлено; верните файл в архив и обработайте письмо заново"
        )


def of_document(s: Session, archive: Archive, doc: Document) -> tuple[Attachment, ...]:
    """The registered document's scans, from the archive; MissingScan when one is not there."""
    rows = s.exec(
        select(DocAttachment).where(DocAttachment.document_id == doc.id).order_by(col(DocAttachment.id))
    ).all()
    found = []
    for a in rows:
        if not is_scan(a.content_type):
            continue
        try:
            data = archive.get(a.sha256, ".bin")
        except NotArchived:
            raise MissingScan(doc.number, a.filename, a.sha256) from None
        found.append(Attachment(a.filename, a.content_type, data, a.sha256))
    return forwardable(found)
