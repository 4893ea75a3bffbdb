"""Parse raw mail into a ParsedMessage, surviving what real mail does.

Real mail from district offices arrives in windows-1251 or KOI8-R, with
Cyrillic file names in RFC 2047 or RFC 2231 (or raw 8-bit), forwarded as
message/rfc822, with missing Message-IDs and broken base64. Nothing here
raises on bad input: what cannot be read is recorded as a defect.
"""
from __future__ import annotations

import email
import email.utils
import hashlib
import html.parser
import re
import unicodedata
from email import policy
from email.message import EmailMessage, Message

from .values import Attachment, ParsedMessage

MAX_DEPTH = 20  # deeper nesting is never legitimate; stop walking there
MAX_PARTS = 500
_CYR = re.compile(r"[\u0400-\u04ff]")


def parse(raw: bytes) -> ParsedMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    defects: list[str] = [type(d).__name__ for d in msg.defects]
    body: list[str] = []
    attachments: list[Attachment] = []
    _walk(msg, 0, body, attachments, defects, [0])
    from_name, from_addr = _address(_header(msg, "From"))
    reply_to = _address(_header(msg, "Reply-To"))[1] or None
    return ParsedMessage(
        message_id=_msgid(_header(msg, "Message-ID")),
        subject=_clean_line(_header(msg, "Subject")),
        from_addr=from_addr,
        from_name=from_name,
        reply_to=reply_to,
        to=tuple(a for _, a in _addresses(msg, "To") if a),
        date=_date(_header(msg, "Date")),
        in_reply_to=_msgid(_header(msg, "In-Reply-To")),
        references=tuple(re.findall(r"<[^<>\s]+>", _header(msg, "References"))),
        auto_submitted=_header(msg, "Auto-Submitted").strip().lower() or None,
        precedence=_header(msg, "Precedence").strip().lower() or None,
        content_type=_content_type(msg),
        body_text="\n".join(t for t in body if t.strip()).strip(),
        attachments=tuple(attachments),
        defects=tuple(dict.fromkeys(defects)),
        header_names=frozenset(k.lower() for k in msg.keys()),
        report_type=_report_type(msg),
        received_count=len(msg.get_all("Received") or []),
    )


def _report_type(msg: Message) -> str | None:
    if _content_type(msg) != "multipart/report":
        return None
    try:
        return str(msg.get_param("report-type") or "unknown").lower()
    except Exception:
        return "unknown"


def header(raw_or_msg: Message, name: str) -> str:
    """A decoded header value, "" when absent or unreadable."""
    return _header(raw_or_msg, name)


def _walk(part: Message, depth: int, body: list[str], atts: list[Attachment],
          defects: list[str], count: list[int]) -> None:
    count[0] += 1
    if depth > MAX_DEPTH:
        defects.append(f"nesting deeper than {MAX_DEPTH}: rest ignored")
        return
    if count[0] > MAX_PARTS:
        if count[0] == MAX_PARTS + 1:
            defects.append(f"more than {MAX_PARTS} parts: rest ignored")
        return
    defects.extend(type(d).__name__ for d in getattr(part, "defects", []))
    ctype = _content_type(part)
    if part.is_multipart():
        payload = part.get_payload()
        if ctype == "message/rfc822" and isinstance(payload, list):
            if _filename(part):  # an attached .eml is kept whole as well
                data = payload[0].as_bytes() if payload else b""
                name = safe_filename(_filename(part))
                atts.append(Attachment(name, ctype, data, hashlib.sha256(data).hexdigest()))
            _forwarded(payload, depth, body, atts, defects, count)
            return
        for sub in payload if isinstance(payload, list) else []:
            _walk(sub, depth + 1, body, atts, defects, count)
        return
    filename = _filename(part)
    is_text = ctype in ("text/plain", "text/html")
    inline_text = is_text and not filename and _disposition(part) != "attachment"
    data = _payload(part, defects)
    if inline_text:
        text = decode_text(data, part.get_content_charset())
        body.append(html_to_text(text) if ctype == "text/html" else text)
        return
    if ctype in ("message/delivery-status", "message/disposition-notification",
                 "text/rfc822-headers"):
        body.append(decode_text(data, "utf-8"))
        return
    if not data and not filename:
        return
    name = safe_filename(filename or f"part-{len(atts) + 1}{_ext(ctype)}")
    atts.append(Attachment(name, ctype, data, hashlib.sha256(data).hexdigest()))


def _forwarded(payload: list, depth: int, body: list[str], atts: list[Attachment],
               defects: list[str], count: list[int]) -> None:
    """A forwarded message: its text joins the body, its files join ours."""
    for inner in payload:
        subj = _clean_line(_header(inner, "Subject"))
        frm = _header(inner, "From")
        body.append(f"---- Пересланное сообщение ----\nОт: {frm}\nТема: {subj}")
        _walk(inner, depth + 1, body, atts, defects, count)


def _payload(part: Message, defects: list[str]) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # a part the library cannot decode at all
        defects.append(f"undecodable part: {exc}")
        return b""
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return data


def decode_text(data: bytes, charset: str | None) -> str:
    """Decode body bytes; the declared charset first, then a Cyrillic guess."""
    if charset:
        try:
            return data.decode(_charset_alias(charset))
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return guess_cyrillic(data)


def _charset_alias(cs: str) -> str:
    cs = cs.strip().strip('"').lower()
    return {"cp-1251": "cp1251", "win-1251": "cp1251", "x-cp1251": "cp1251",
            "koi8r": "koi8-r", "unknown-8bit": "cp1251"}.get(cs, cs)


def guess_cyrillic(data: bytes) -> str:
    """windows-1251 or KOI8-R: Russian prose is mostly lower case.

    The same bytes read in the wrong one of the two come out mostly upper case,
    so the decoding with more lower-case Cyrillic letters wins.
    """
    best, score = data.decode("cp1251", "replace"), -1
    for cs in ("cp1251", "koi8-r"):
        text = data.decode(cs, "replace")
        s = sum(1 for c in text if "\u0430" <= c <= "\u044f") - sum(
            1 for c in text if "\u0410" <= c <= "\u042f")
        if s > score:
            best, score = text, s
    return best


def _fix_8bit(s: str) -> str:
    """Headers with raw 8-bit bytes come back with surrogate escapes."""
    if not any("\udc80" <= c <= "\udcff" for c in s):
        return s
    raw = s.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return guess_cyrillic(raw)


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # malformed header the policy cannot parse
        value = None
        for k, v in getattr(msg, "_headers", []):
            if k.lower() == name.lower():
                value = v
                break
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:
        text = _decode_words(text)
    return _fix_8bit(text)


def _decode_words(text: str) -> str:
    """Encoded words the policy left alone (inside quotes, glued to text)."""
    out = []
    for chunk, cs in email.header.decode_header(text):
        if isinstance(chunk, bytes):
            try:
                chunk = chunk.decode(_charset_alias(cs or "ascii"))
            except (LookupError, UnicodeDecodeError):
                chunk = chunk.decode("utf-8", "surrogateescape")
        out.append(chunk)
    return "".join(out)


def _address(value: str) -> tuple[str, str]:
    name, addr = email.utils.parseaddr(value)
    return _clean_line(name), addr.strip().lower()


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    values = [_header(msg, name)] if _header(msg, name) else []
    return [(n, a.lower()) for n, a in email.utils.getaddresses(values)]


def _msgid(value: str) -> str | None:
    m = re.search(r"<[^<>\s]+>", value or "")
    if m:
        return m.group(0)
    value = (value or "").strip()
    return f"<{value}>" if value and " " not in value else None


def _date(value: str):
    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        try:
            name = part.get_param("name")
            if isinstance(name, tuple):
                name = email.utils.collapse_rfc2231_value(name)
        except Exception:
            name = None
    if not name:
        return None
    name = str(name)
    if "=?" in name:
        name = _decode_words(name)
    return _fix_8bit(name)


def safe_filename(name: str) -> str:
    """A display name that can never climb out of a folder or hide itself."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").split("/")[-1])
    name = "".join(c for c in name if c.isprintable() and c not in "\x00")
    name = name.strip().lstrip(".").strip() or "file"
    return name[:180]


def _ext(ctype: str) -> str:
    return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png",
            "image/tiff": ".tif", "message/rfc822": ".eml"}.get(ctype, ".bin")


def _clean_line(s: str) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


class _HTMLText(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(text: str) -> str:
    p = _HTMLText()
    try:
        p.feed(text)
        p.close()
    except Exception:
        return re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"[ \t]+", " ", "".join(p.parts))


def has_cyrillic(s: str) -> bool:
    return bool(_CYR.search(s))


def as_email(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)
