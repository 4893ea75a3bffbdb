"""Evidence: what ties a report to the outbound message it is about.

Sources, strongest first: the envelope id (DSN Original-Envelope-Id), the
Original-Message-ID of an MDN (and Gmail's X-Original-Message-ID), the
Message-ID in the returned headers or enclosed original, the report's own
In-Reply-To/References, then the original's Subject/From/To/Date for
receipts that carry no identifier (Outlook/Exchange). Matching is done
elsewhere; this module only reads.

The returned headers are taken from a MIME part (text/rfc822-headers,
message/rfc822, message/global, message/global-headers) or, for plain-text
bounces, from the header block right after a "copy of the message" marker.
Only that header block counts: a Message-ID further down (in a quoted SMTP
transcript or the body) is not the original's.
"""

from __future__ import annotations

import datetime as dt
import re
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from . import _mime
from .model import DeliveryReport, Evidence, ReadReceipt

# Lines after which a text bounce quotes the original message (or its headers).
# Matched against one stripped line at a time (lines over 200 characters are
# never markers), so hostile text cannot make the search slow.
COPY_MARKER = re.compile(
    r"-+ *Below this line is a copy of the message\.?"
    r"|-+ *This is a copy of the message(?:'s headers|, including all the headers)\.? *-*"
    r"|-+ *The header of the original message is following\.? *-*"
    r"|-+ *(?:Original message|Returned message|Unsent message follows|Undelivered message"
    r"|Message header follows|Original message follows|Returned mail follows"
    r"|Original message headers|Header of the original message) *-*"
    r"|Original message follows\.?"
    r"|Original message headers:?"
    r"|-+ *(?:Исходное сообщение|Оригинальное сообщение|Копия (?:вашего |Вашего )?(?:сообщения|письма)"
    r"|Заголовки (?:исходного|оригинального) сообщения).*"
    r"|Исходные заголовки сообщения:?"
    r"|Заголовки исходного сообщения:?",
    re.I,
)


def split_copy(text: str) -> tuple[str, str | None]:
    """(notification, text after the first copy marker or None)."""
    text = text or ""
    at = 0
    for line in text.split("\n"):
        end = at + len(line) + 1
        stripped = line.strip()
        if stripped and len(stripped) <= 200 and COPY_MARKER.fullmatch(stripped):
            return text[:at], text[end:]
        at = end
    return text, None


_HEADER_LINE = re.compile(r"^[!-9;-~]+[ \t]*:")


def header_block(text: str | None) -> Message | None:
    """Parse the header block at the start of ``text`` (leading blank lines skipped)."""
    if not text:
        return None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or not _HEADER_LINE.match(lines[i]):
        return None
    block = []
    for line in lines[i:]:
        if not line.strip():
            break
        if line[0] not in " \t" and not _HEADER_LINE.match(line):
            break  # not a header any more: the block is over
        block.append(line)
    try:
        headers = HeaderParser(policy=compat32).parsestr("\n".join(block) + "\n\n")
    except Exception:  # noqa: BLE001
        return None
    return headers if len(headers.keys()) else None


def returned_headers(msg: Message) -> Message | None:
    """The original's headers, from a MIME part, else after a copy marker in the text."""
    for part in _mime.leaves(msg):
        if part is msg or _mime.real_type(part) not in _mime.RETURNED_TYPES:
            continue
        charset = "utf-8" if "global" in _mime.real_type(part) else part.get_content_charset()
        headers = header_block(_mime.bytes_to_text(_mime.part_bytes(part), charset))
        if headers is not None:
            return headers
    _, copy = split_copy(_mime.notification_text(msg))
    return header_block(copy)


# -- Outlook / Exchange receipt text -----------------------------------------

_RECEIPT_LINE = re.compile(
    r"^[ \t]*(To|Кому|Subject|Тема|Sent|Отправлено|Date|Дата|Дата отправки)[ \t]*:[ \t]*(.+)$", re.I | re.M
)
_RECEIPT_KEYS = {
    "to": "to",
    "кому": "to",
    "subject": "subject",
    "тема": "subject",
    "sent": "date",
    "отправлено": "date",
    "date": "date",
    "дата": "date",
    "дата отправки": "date",
}


def receipt_text_fields(text: str) -> dict[str, str]:
    """'To:/Subject:/Sent:' (or Russian 'Кому:/Тема:/Отправлено:') of an Outlook receipt."""
    found: dict[str, str] = {}
    for m in _RECEIPT_LINE.finditer(text[:4000]):
        key = _RECEIPT_KEYS[m.group(1).lower()]
        if m.group(2).strip():
            found.setdefault(key, m.group(2).strip())
    return found


_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
    "янв": 1,
    "фев": 2,
    "мар": 3,
    "апр": 4,
    "ма": 5,
    "июн": 6,
    "июл": 7,
    "авг": 8,
    "сен": 9,
    "окт": 10,
    "ноя": 11,
    "дек": 12,
}
_MONTH_WORD = r"([A-Za-zА-Яа-яЁё]{3,})\.?"


def _month(word: str) -> int | None:
    w = word.lower()
    for prefix in (w[:3], w[:2]):
        if prefix in _MONTHS:
            return _MONTHS[prefix]
    return None


def parse_loose_date(value: str | None) -> dt.datetime | None:
    """Dates as mail clients print them: RFC 5322, or Outlook's localised
    'Monday, March 16, 2026 10:15:00 AM (UTC+05:00) Astana' /
    '16 марта 2026 г. 10:15:00 (UTC+05:00) Астана' / '16.03.2026 10:15'.
    Naive when no zone is given."""
    if not value:
        return None
    text = value.strip()[:200]
    if re.search(
        r"(?:[+-]\d{4}|\b(?:GMT|UT|UTC|[ECMP][SD]T|Z))\s*(?:\([^()]*\))?\s*$", text
    ) and not re.search(r"\((?:UTC|GMT)[^)]*\)", text):
        rfc = _mime.parse_date(text)  # an RFC 5322 date: 'Mon, 16 Mar 2026 10:15:00 +0500'
        if rfc is not None:
            return rfc
    tz = None
    m = re.search(r"(?:UTC|GMT)\s*([+-])\s*(\d{1,2}):?(\d{2})", text)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    elif re.search(r"\((?:UTC|GMT)\)", text):
        tz = dt.UTC
    date = None
    for pattern, order in (
        (_MONTH_WORD + r"\s+(\d{1,2}),?\s+(\d{4})", "mdy"),
        (r"(\d{1,2})\s+" + _MONTH_WORD + r"\s+(\d{4})", "dmy"),
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"),
        (r"(\d{1,2})\.(\d{1,2})\.(\d{4})", "dmy"),
        (r"(\d{1,2})/(\d{1,2})/(\d{4})", "mdy"),
    ):
        m = re.search(pattern, text)
        if not m:
            continue
        parts = dict(zip(order, m.groups()))
        month = int(parts["m"]) if parts["m"].isdigit() else _month(parts["m"])
        if month is None:
            continue
        try:
            date = dt.date(int(parts["y"]), month, int(parts["d"]))
        except ValueError:
            continue
        rest = text[m.end() :]
        break
    if date is None:
        return _mime.parse_date(text)
    hour = minute = second = 0
    t = re.search(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?", rest)
    if t:
        hour, minute, second = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
        ampm = (t.group(4) or "").lower().replace(".", "")
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
    try:
        return dt.datetime(date.year, date.month, date.day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None


# -- subjects ----------------------------------------------------------------

_MDN_SUBJECT = re.compile(
    r"^\s*(?:(?:not read|read|прочитано|прочтено|не прочитано|оқылды|gelesen|lu)\s*:"
    r"|return receipt\s*(?:\([^)]*\))?\s*-"
    r"|(?:уведомление о прочтении|read receipt|read-receipt)\s*(?:\([^)]*\))?\s*[-:])\s*(.+)$",
    re.I,
)
_DSN_SUBJECT = re.compile(
    r"^\s*(?:undeliverable|undelivered|недоставляемое|недоставленное сообщение|не доставлено"
    r"|unzustellbar|non remis|delivery delayed|доставка задерживается|delayed)\s*:\s*(.+)$",
    re.I,
)


def _original_subject_from_report(msg: Message, kind: str) -> str | None:
    topic = _mime.header(msg, "Thread-Topic")
    if topic:
        return topic
    subject = _mime.header(msg, "Subject") or ""
    m = (_MDN_SUBJECT if kind == "mdn" else _DSN_SUBJECT).match(subject)
    return m.group(1).strip() if m else None


# -- the whole ---------------------------------------------------------------


def extract(msg: Message, report: DeliveryReport | ReadReceipt, dsn_message_ids=()) -> Evidence:
    ids: list[str] = []
    envelope_id = None
    if isinstance(report, ReadReceipt):
        if report.original_message_id:
            ids.append(report.original_message_id)
        kind = "mdn"
    else:
        envelope_id = report.envelope_id
        kind = "dsn"
    ids.extend(dsn_message_ids)
    returned = returned_headers(msg)
    subject = from_ = date = None
    to: tuple[str, ...] = ()
    if returned is not None:
        mid = _mime.first_msgid(_mime.header(returned, "Message-ID"))
        if mid:
            ids.append(mid)
        subject = _mime.header(returned, "Subject")
        from_ = _mime.address(_mime.header(returned, "From"))
        to = _mime.addresses(
            ", ".join(filter(None, (_mime.header(returned, "To"), _mime.header(returned, "Cc"))))
        )
        date = _mime.parse_date(_mime.header(returned, "Date"))
    if kind == "mdn" and (subject is None or not to or date is None):
        fields = receipt_text_fields(_mime.notification_text(msg))
        subject = subject or fields.get("subject")
        if not to and fields.get("to"):
            to = (
                _mime.addresses(fields["to"])
                if "@" in fields["to"]
                else tuple(n.strip() for n in fields["to"].split(";") if n.strip())
            )
        date = date or parse_loose_date(fields.get("date"))
    subject = subject or _original_subject_from_report(msg, kind)
    return Evidence(
        envelope_id=envelope_id,
        original_message_ids=tuple(dict.fromkeys(ids)),
        in_reply_to=_mime.first_msgid(_mime.header(msg, "In-Reply-To")),
        references=_mime.msgids(_mime.header(msg, "References")),
        original_subject=subject,
        original_from=from_,
        original_to=to,
        original_date=date,
        report_from=_mime.address(_mime.header(msg, "From")),
        report_date=_mime.parse_date(_mime.header(msg, "Date")),
    )
