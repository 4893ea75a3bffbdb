"""Pure helpers shared by the detectors: parsing, decoding, field groups.

Nothing here raises on bad input where a value can simply be unknown: the
helpers return None or empty values instead, so detectors stay short.
"""

from __future__ import annotations

import datetime as dt
import re
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

# Parts the detectors read by hand. The stdlib parser would split
# message/delivery-status into header blocks (dropping the blank-line
# structure and any transfer encoding) and parse message/* parts as nested
# messages (losing a returned copy that starts with a blank line); these types
# are therefore parsed as opaque leaves and read from their decoded bytes.
OPAQUE_TYPES = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "message/global-disposition-notification",
        "message/rfc822",
        "message/global",
        "message/global-headers",
    }
)
_OPAQUE_STANDIN = "application/x-mailflow-report-body"

DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
MDN_TYPES = ("message/disposition-notification", "message/global-disposition-notification")
# A notice is read up to this many characters: the wording, the recipients and
# the start of the returned copy are near the top; the rest is the original.
MAX_TEXT = 256 * 1024

RETURNED_TYPES = (
    "text/rfc822-headers",
    "message/rfc822",
    "message/global",
    "message/global-headers",
    "text/rfc822-header",
)


class ReportMessage(Message):
    """A compat32 Message whose report and message/* bodies stay undecoded text.

    Only the parser is fooled: use ``real_type(part)`` for the declared type.
    """

    def get_content_type(self) -> str:
        ctype = super().get_content_type()
        return _OPAQUE_STANDIN if ctype in OPAQUE_TYPES else ctype


def real_type(part: Message) -> str:
    return Message.get_content_type(part)


def parse_bytes(raw: bytes) -> Message:
    return BytesParser(_class=ReportMessage, policy=compat32).parsebytes(raw)


# -- decoding ---------------------------------------------------------------

_CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "utf8": "utf-8",
    "win-1251": "cp1251",
    "windows-1251": "cp1251",
    "ks_c_5601-1987": "cp949",
    "x-user-defined": "cp1251",
}


def bytes_to_text(data: bytes, charset: str | None = None) -> str:
    tried = []
    if charset:
        cs = charset.strip().strip('"').lower()
        tried.append(_CHARSET_ALIASES.get(cs, cs))
    tried += ["utf-8", "cp1251"]
    for cs in tried:
        try:
            return data.decode(cs)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("latin-1")


def decode_words(value: object) -> str:
    """A header value as text: RFC 2047 words decoded, raw 8-bit guessed, unfolded."""
    if value is None:
        return ""
    try:
        chunks = decode_header(value if isinstance(value, Header) else str(value))
    except Exception:  # noqa: BLE001 - malformed encoded words: keep the raw text
        chunks = [(str(value), None)]
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            try:
                chunk.encode("utf-8")
                out.append(chunk)
            except UnicodeEncodeError:  # surrogate-escaped raw 8-bit bytes
                out.append(bytes_to_text(chunk.encode("utf-8", "surrogateescape"), charset))
        else:
            out.append(bytes_to_text(chunk, charset))
    text = "".join(out)
    return re.sub(r"\r?\n[ \t]+", " ", text).strip()


def header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001
        return None
    if value is None:
        return None
    text = decode_words(value)
    return text or None


def part_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    text = bytes_to_text(part_bytes(part), charset)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def html_to_text(markup: str) -> str:
    """Text of an HTML part: the intake's linear reader (no backtracking on hostile markup)."""
    from ..mime import html_to_text as visible_text

    return visible_text(markup)


def leaves(msg: Message):
    """Every non-multipart part, the root included when it is one."""
    try:
        for part in msg.walk():
            if not part.is_multipart():
                yield part
    except Exception:  # noqa: BLE001 - a broken tree: what was walked is enough
        return


def is_attachment(part: Message) -> bool:
    disposition = part.get("Content-Disposition") or ""
    return str(disposition).strip().lower().startswith("attachment")


def notification_text(msg: Message) -> str:
    """The human-readable notice: first text/plain leaf, else the first HTML one as text."""
    html_part = None
    for part in leaves(msg):
        ctype = real_type(part)
        if ctype in RETURNED_TYPES or (is_attachment(part) and part is not msg):
            continue
        if ctype == "text/plain":
            return part_text(part)[:MAX_TEXT]
        if ctype == "text/html" and html_part is None:
            html_part = part
    return html_to_text(part_text(html_part)[:MAX_TEXT]) if html_part is not None else ""


# -- fields -----------------------------------------------------------------

_FIELD = re.compile(r"^([!-9;-~]+)[ \t]*:[ \t]*(.*)$")


def parse_fields(text: str) -> list[tuple[str | None, str]]:
    """RFC 822-style fields, unfolded; ``(None, '')`` marks each blank line.

    Lines that are neither a field, a continuation nor blank are skipped.
    """
    raw: list[tuple[str | None, list[str]]] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            raw.append((None, []))
            continue
        if line[0] in " \t":
            if raw and raw[-1][0] is not None:
                raw[-1][1].append(line.strip())
            continue
        m = _FIELD.match(line)
        if m:
            raw.append((m.group(1).lower(), [m.group(2).strip()]))
    return [(name, " ".join(p for p in parts if p)) for name, parts in raw]


def strip_type(value: str | None) -> str | None:
    """'rfc822; a@b' -> 'a@b'; 'utf-8; \\x{430}@b' -> 'а@b'; 'dns; mx' -> 'mx'."""
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    if sep and re.fullmatch(r"\s*[A-Za-z0-9][A-Za-z0-9.+-]*\s*", kind):
        value = rest
        if kind.strip().lower() == "utf-8":
            value = re.sub(r"\\x\{([0-9A-Fa-f]{1,6})\}", lambda m: chr(int(m.group(1), 16)), value)
    value = value.strip()
    if value.endswith(")") and "(" in value:  # a trailing comment: 'a@b (Jane)'
        value = value[: value.rindex("(")].rstrip()
    value = value.strip("<>").strip()
    return value or None


_MSGID = re.compile(r"<[^<>\s]+>")


def msgids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    found = _MSGID.findall(value)
    if found:
        return tuple(dict.fromkeys(found))
    token = value.strip().split()[0] if value.strip() else ""
    return (f"<{token.strip('<>')}>",) if "@" in token else ()


def first_msgid(value: str | None) -> str | None:
    ids = msgids(value)
    return ids[0] if ids else None


def parse_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    cleaned = re.sub(r"\([^()]*\)", " ", value)
    try:
        return parsedate_to_datetime(cleaned)
    except Exception:  # noqa: BLE001
        return None


def address(value: str | None) -> str | None:
    found = addresses(value)
    return found[0] if found else None


def addresses(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    try:
        pairs = getaddresses([value])
    except Exception:  # noqa: BLE001
        return ()
    return tuple(dict.fromkeys(addr for _, addr in pairs if addr))


ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")


def find_status(text: str | None) -> str | None:
    m = ENHANCED.search(text or "")
    return m.group(0) if m else None


def permanent_for(action: str | None, status: str | None) -> bool | None:
    if action == "failed":
        return True
    if action == "delayed":
        return False
    if action:
        return None
    if status and status[0] == "5":
        return True
    if status and status[0] == "4":
        return False
    return None


def collapse(text: str | None) -> str | None:
    if not text:
        return None
    return re.sub(r"\s+", " ", text).strip() or None
