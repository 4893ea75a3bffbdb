"""A document (scan, PDF, Word/RTF/ODT letter) from an outside sender is an appeal."""

from __future__ import annotations

import re

from ...values import Attachment, Disposition
from ..message import Journal, Message

NAME = "document"
DISPOSITION = Disposition.APPEAL

# A stranger's picture smaller than this is a logo, an icon or a tracking pixel
# of a newsletter, not a scan: a scanned page is tens of kilobytes at least.
MIN_SCAN_BYTES = 8 * 1024
_DOCUMENT_EXTRA = (
    "application/msword",
    "application/rtf",
    "text/rtf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml",
    "application/vnd.oasis.opendocument.text",
)
_DOCUMENT_NAME = re.compile(r"\.(pdf|jpe?g|png|tiff?|bmp|gif|heic|webp|docx?|rtf|odt)$", re.I)
_GENERIC = (
    "application/octet-stream",
    "application/x-download",
    "binary/octet-stream",
    "application/download",
    "application/force-download",
)


def check(m: Message, journal: Journal) -> str | None:
    return "a document from an outside sender" if any(map(is_document, m.parsed.attachments)) else None


def is_document(a: Attachment) -> bool:
    """A file that can carry an appeal: a scan, a PDF, a Word/RTF/ODT letter.

    Pictures under MIN_SCAN_BYTES are decoration; a generic type with a
    document's file name extension (mailers send PDFs as octet-stream) counts.
    """
    ctype = a.content_type.lower()
    if ctype.startswith("image/"):
        return len(a.data) >= MIN_SCAN_BYTES
    if ctype.startswith(("application/pdf",) + _DOCUMENT_EXTRA):
        return True
    if ctype in _GENERIC:
        return bool(_DOCUMENT_NAME.search(a.filename)) and len(a.data) >= 1024
    return False
