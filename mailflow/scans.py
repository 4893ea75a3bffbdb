"""The scans that travel with an appeal: to management, the PR specialist and
the executors (regulation 1.8, 1.11), within a sane total size."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from .archive import Archive
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


def of_document(s: Session, archive: Archive, doc: Document) -> tuple[Attachment, ...]:
    """The registered document's scans, from the archive (a missing file is left out)."""
    rows = s.exec(
        select(DocAttachment).where(DocAttachment.document_id == doc.id).order_by(col(DocAttachment.id))
    ).all()
    found = []
    for a in rows:
        if not is_scan(a.content_type):
            continue
        try:
            found.append(Attachment(a.filename, a.content_type, archive.get(a.sha256, ".bin"), a.sha256))
        except FileNotFoundError:
            continue
    return forwardable(found)
