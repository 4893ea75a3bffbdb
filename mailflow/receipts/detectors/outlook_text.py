"""Read receipts with no disposition-notification part (Outlook, Exchange,
or a receipt converted to plain text on the way).

    Subject: Read: Резолюция [ВХ-2026-000123]        (or 'Прочитано:', 'Not read:')

    Your message
      To: Ivanov Ivan
      Subject: Резолюция [ВХ-2026-000123]
      Sent: Monday, March 16, 2026 10:15:00 AM (UTC+05:00) Astana
    was read on Monday, March 16, 2026 10:20:00 AM (UTC+05:00) Astana.

Russian: 'Ваше сообщение ... было прочитано ...'; deleted unread: 'was
deleted without being read' / 'было удалено без прочтения'. Both the subject
prefix and the "Your message / Ваше сообщение" wording are required, so a
person's reply that happens to say "was read" is not a receipt. The mode and
sending mode are unknown (None); the reader is the receipt's From address.
"""

from __future__ import annotations

import re
from email.message import Message

from .. import _mime
from ..model import ReadReceipt

NAME = "outlook_text"

_SUBJECT = re.compile(r"^\s*(not read|read|прочитано|прочтено|не прочитано|оқылды)\s*:", re.I)
_READ = re.compile(r"\bwas read on\b|было прочитано|было прочтено", re.I)
_DELETED = re.compile(r"deleted without being read|удалено без прочтения|было удалено", re.I)


def detect(msg: Message) -> ReadReceipt | None:
    subject = _mime.header(msg, "Subject") or ""
    text = _mime.notification_text(msg)[:6000]
    deleted = bool(_DELETED.search(text))
    if not (deleted or _READ.search(text)):
        return None
    if not _SUBJECT.match(subject) or not re.search(
        r"^\s*(Your message|Ваше сообщение)\b", text, re.I | re.M
    ):
        return None  # both the receipt's subject and its wording, or a person's reply
    return ReadReceipt(
        disposition="deleted" if deleted else "displayed",
        mode=None,
        sending=None,
        final_recipient=_mime.address(_mime.header(msg, "From")),
        original_recipient=None,
        original_message_id=None,
        reporting_ua=_mime.collapse(_mime.header(msg, "X-Mailer") or _mime.header(msg, "User-Agent")),
        detector=NAME,
    )
