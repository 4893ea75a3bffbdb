"""Parse raw mail into a ParsedMessage, surviving what real mail does.

Real mail from district offices arrives in windows-1251 or KOI8-R, with
Cyrillic file names in RFC 2047 or RFC 2231 (or raw 8-bit), forwarded as
message/rfc822, with missing Message-IDs and broken base64. Hostile mail adds
megabyte header lines, parts nested hundreds deep, thousands of parts, lying
Content-Types and charsets, and names like "../../etc/passwd".

Nothing here raises on bad input: what cannot be read is recorded as a
defect. Every string handed on is storable (no NUL, no lone surrogates), and
every piece of work is linear in the input and bounded (header values, parts,
nesting depth, body text), so one message cannot stall the daemon.

The structure is parsed with the stdlib parser in its lenient compat32 mode,
which keeps header values raw; header text is then decoded here (8-bit bytes,
RFC 2047 words, RFC 2231 parameters), so that a bad header costs one defect,
never the message.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email
import email.message
import email.parser
import email.utils
import hashlib
import html
import re
import unicodedata
from email import policy
from email.message import EmailMessage, Message

from .values import Attachment, ParsedMessage

MAX_DEPTH = 20  # deeper nesting is never legitimate; stop walking there
MAX_PARTS = 500
MAX_HEADER_CHARS = 16_384  # of one header value; the archive keeps the rest
MAX_BODY_CHARS = 1_000_000  # of body text handed on
MAX_HTML_CHARS = 4_000_000  # of one HTML part converted to text
MAX_REPAIRS = 5  # multiparts re-read with a recovered boundary, per message
_SPACES = {c: " " for c in (0xA0, 0x2007, 0x202F, 0x2000, 0x2001, 0x2002, 0x2003, 0x2009)}
_CYR = re.compile(r"[\u0400-\u04ff]")
_ADDR = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # keeps \t \n \r


def parse(raw: bytes) -> ParsedMessage:
    """The message as intake understands it; never raises."""
    defects: list[str] = []
    try:
        return _parse(raw, defects)
    except Exception as exc:  # last resort: nothing but the fact that it failed
        defects.append(f"unparseable message: {type(exc).__name__}: {exc}"[:300])
        return ParsedMessage(
            message_id=None,
            subject="",
            from_addr="",
            from_name="",
            reply_to=None,
            to=(),
            date=None,
            in_reply_to=None,
            references=(),
            auto_submitted=None,
            precedence=None,
            content_type="application/octet-stream",
            body_text="",
            attachments=(),
            defects=tuple(dict.fromkeys(defects)),
        )


def _parse(raw: bytes, defects: list[str]) -> ParsedMessage:
    msg = _message(raw, defects)
    defects.extend(type(d).__name__ for d in msg.defects)
    body: list[str] = []
    attachments: list[Attachment] = []
    state = {"parts": 0, "repairs": 0}
    try:
        _walk(msg, 0, body, attachments, defects, state)
    except RecursionError:
        defects.append("MIME structure too deep to walk: rest ignored")
    from_name, from_addr = _address(_raw(msg, "From"))
    reply_to = _address(_raw(msg, "Reply-To"))[1] or None
    auto = _clean_line(header(msg, "Auto-Submitted")).lower()
    prec = _clean_line(header(msg, "Precedence")).lower()
    text = "\n".join(t for t in body if t.strip()).translate(_SPACES).strip()
    if len(text) > MAX_BODY_CHARS:
        defects.append(f"body text longer than {MAX_BODY_CHARS} characters: cut")
        text = text[:MAX_BODY_CHARS]
    return ParsedMessage(
        message_id=_msgid(_raw(msg, "Message-ID")),
        subject=_clean_line(header(msg, "Subject")),
        from_addr=from_addr,
        from_name=from_name,
        reply_to=reply_to,
        to=tuple(a for _, a in _addresses(msg, "To") if a),
        cc=tuple(a for _, a in _addresses(msg, "Cc") if a),
        delivered_to=tuple(
            a
            for h in ("Delivered-To", "X-Original-To", "Envelope-To")
            for v in _raw_all(msg, h)
            for a in _plain_addresses(v)
        ),
        authentication_results=tuple(v[:2000] for v in _raw_all(msg, "Authentication-Results"))[:20],
        date=_date(_raw(msg, "Date")),
        in_reply_to=_msgid(_raw(msg, "In-Reply-To")),
        references=tuple(dict.fromkeys(re.findall(r"<[^<>\s]{1,900}>", _raw(msg, "References"))))[:100],
        auto_submitted=auto or None,
        precedence=prec or None,
        content_type=_content_type(msg),
        body_text=text,
        attachments=tuple(attachments),
        defects=tuple(_storable(d)[:300] for d in dict.fromkeys(defects)),
        header_names=frozenset(
            _storable(k).strip().lower() for k, _ in _raw_items(msg) if isinstance(k, str)
        ),
        report_type=_report_type(msg),
        received_count=sum(
            1 for k, _ in _raw_items(msg) if isinstance(k, str) and k.strip().lower() == "received"
        ),
    )


def _message(raw: bytes, defects: list[str]) -> Message:
    """The parsed tree; headers only when the structure defeats the parser."""
    indent = re.match(rb"[ \t]+(?=[!-9;-~]{1,76}:)", raw)
    if indent:  # " From: ..." would be read as a continuation of nothing, and lost
        raw = raw[indent.end() :]
        defects.append("first header line indented: read as a header")
    try:
        return email.message_from_bytes(raw)
    except RecursionError:
        defects.append("MIME structure nested too deep to parse: headers only")
    except Exception as exc:
        defects.append(f"MIME structure unparseable ({type(exc).__name__}): headers only")
    try:
        return email.parser.BytesParser().parsebytes(raw, headersonly=True)
    except Exception:
        defects.append("headers unparseable")
        return Message()


def _report_type(msg: Message) -> str | None:
    """The report-type of a top-level multipart/report, inferred from its parts if unsaid."""
    if _content_type(msg) != "multipart/report":
        return None
    try:
        value = msg.get_param("report-type")
        if isinstance(value, tuple):
            value = email.utils.collapse_rfc2231_value(value)
        if value:
            return _storable(str(value)).strip().strip('"').lower()
    except Exception:
        pass
    payload = msg.get_payload() if msg.is_multipart() else []
    for sub in payload if isinstance(payload, list) else []:
        ctype = _content_type(sub)
        if ctype == "message/delivery-status":
            return "delivery-status"
        if ctype == "message/disposition-notification":
            return "disposition-notification"
    return "unknown"


# --------------------------------------------------------------------------
# headers


def _raw_items(msg: Message) -> list[tuple[str, str]]:
    try:
        return list(msg.raw_items())
    except Exception:
        return list(getattr(msg, "_headers", []))


def _raw(msg: Message, name: str) -> str:
    """The first `name` header as text: unfolded, 8-bit bytes decoded, bounded; "" if absent."""
    name = name.lower()
    for k, v in _raw_items(msg):
        if isinstance(k, str) and k.strip().lower() == name:
            v = v if isinstance(v, str) else str(v)
            return _unbyte(_unfold(v[:MAX_HEADER_CHARS]))
    return ""


def _raw_all(msg: Message, name: str) -> list[str]:
    """Every `name` header as text, in order."""
    name = name.lower()
    return [
        _unbyte(_unfold((v if isinstance(v, str) else str(v))[:MAX_HEADER_CHARS]))
        for k, v in _raw_items(msg)
        if isinstance(k, str) and k.strip().lower() == name
    ][:50]


def _plain_addresses(value: str) -> list[str]:
    found = re.findall(r"[^\s<>,;\"]+@[^\s<>,;\"]+", value)
    return [a.lower() for a in found if _is_addr(a.lower())]


def header(msg: Message, name: str) -> str:
    """A decoded header value (RFC 2047 words and raw 8-bit), "" when absent or unreadable."""
    try:
        return _storable(_decode_words(_raw(msg, name)))
    except Exception:
        return ""


def _unfold(s: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", s).replace("\r", " ").replace("\n", " ")


def _unbyte(s: str) -> str:
    """Raw 8-bit header bytes (kept by the parser as surrogate escapes) as text."""
    if not _SURROGATE.search(s):
        return s
    try:
        data = s.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # real non-ASCII mixed with escapes
        data = s.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return guess_cyrillic(data)


_EW = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")


def _decode_words(text: str) -> str:
    """RFC 2047 encoded words, wherever they are (quoted, glued to text, split mid-letter).

    Adjacent words in the same charset are joined before decoding, since some
    mailers split a multi-byte letter across two words; whitespace between
    encoded words is dropped, as the RFC says. A word that cannot be decoded
    is left as it was.
    """
    if "=?" not in text:
        return text
    out: list[str] = []
    pending: list[bytes] = []
    pending_cs: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_cs
        if pending:
            out.append(_bytes_text(b"".join(pending), pending_cs))
        pending, pending_cs = [], None

    for m in _EW.finditer(text):
        between = text[pos : m.start()]
        if between and not (pending and between.strip() == ""):
            flush()
            out.append(between)
        cs = m.group(1).split("*", 1)[0].lower()
        data = _word_bytes(m.group(2).lower(), m.group(3))
        if data is None:
            flush()
            out.append(m.group(0))
        else:
            if pending and cs != pending_cs:
                flush()
            pending.append(data)
            pending_cs = cs
        pos = m.end()
    flush()
    out.append(text[pos:])
    return "".join(out)


def _word_bytes(enc: str, text: str) -> bytes | None:
    if enc == "q":
        data = text.replace("_", " ").encode("ascii", "replace")
        return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)
    if not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", text):
        return None
    clean = text.rstrip("=")
    clean = clean[: len(clean) - len(clean) % 4] if len(clean) % 4 == 1 else clean
    try:
        return base64.b64decode(clean + "=" * (-len(clean) % 4))
    except (binascii.Error, ValueError):
        return None


def _bytes_text(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset; a wrong or unknown label falls back to a guess."""
    if charset:
        try:
            return data.decode(_charset_alias(charset))
        except (LookupError, UnicodeDecodeError, ValueError):
            pass
    return _utf8_or_guess(data)


def _utf8_or_guess(data: bytes) -> str:
    """UTF-8 when it (nearly) is, e.g. cut in the middle of a letter; else 1251/KOI8-R."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and "end of data" in exc.reason:
            return data.decode("utf-8", "replace")  # only the last letter is cut
    return guess_cyrillic(data)


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_COMMENT = re.compile(r"\(([^()]*)\)")
_ANGLE = re.compile(r"<\s*([^<>\s]+@[^<>\s]+?)\s*>")
_BARE = re.compile(r"(?:^|(?<=[\s,;:<]))([^\s<>()\[\],;:\"@]+@[^\s<>()\[\],;:\"@]+)")


def _address(value: str) -> tuple[str, str]:
    """(display name, lower-case address) of a one-mailbox header such as From.

    The address is the one in angle brackets when there is one, whatever the
    display name looks like ("chief@ours <other@theirs>" is other@theirs, not
    what the stdlib of Python 3.11.7 answers); else the one bare addr-spec.
    Two different addresses, or none that mail could be sent to, give "".
    """
    value = _storable(value or "")
    masked = _COMMENT.sub(" ", _QUOTED.sub(lambda m: '"' + "x" * (len(m.group(0)) - 2) + '"', value))
    angle = _ANGLE.findall(masked)
    if angle:
        found = {a.lower() for a in angle}
        first = masked.find("<")
        name = value[:first].strip()
    else:
        found = {a.lower().rstrip(".") for a in _BARE.findall(masked)}
        m = _COMMENT.search(value)
        name = m.group(1) if m else ""
    if len(found) != 1:
        return _display(name), ""
    addr = found.pop().strip()
    return _display(name), addr if _is_addr(addr) else ""


def _display(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return _clean_line(_decode_words(name))[:200]


def _is_addr(addr: str) -> bool:
    """An address mail can be sent to: local@domain, at most 254 characters (RFC 5321)."""
    return len(addr) <= 254 and bool(_ADDR.match(addr))


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    value = _raw(msg, name)
    if not value:
        return []
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:
        return []
    out = []
    for n, a in pairs[:200]:
        a = _storable(a).strip().lower()
        if _is_addr(a):
            out.append((_clean_line(_decode_words(n))[:200], a))
    return out


def _msgid(value: str) -> str | None:
    value = _storable(value or "")
    m = re.search(r"<[^<>\s]{1,900}>", value)
    if m:
        return m.group(0)
    value = value.strip()
    return f"<{value}>" if value and " " not in value and len(value) < 900 else None


def _date(value: str):
    try:
        d = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if d is not None and d.tzinfo is None:  # "-0000": UTC, local zone unknown (RFC 5322)
        d = d.replace(tzinfo=dt.UTC)
    return d


# --------------------------------------------------------------------------
# the MIME tree


def _walk(
    part: Message, depth: int, body: list[str], atts: list[Attachment], defects: list[str], state: dict
) -> None:
    state["parts"] += 1
    if depth > MAX_DEPTH:
        if f"nesting deeper than {MAX_DEPTH}: rest ignored" not in defects:
            defects.append(f"nesting deeper than {MAX_DEPTH}: rest ignored")
        return
    if state["parts"] > MAX_PARTS:
        if state["parts"] == MAX_PARTS + 1:
            defects.append(f"more than {MAX_PARTS} parts: rest ignored")
        return
    if depth:
        defects.extend(type(d).__name__ for d in getattr(part, "defects", []))
    part = _repaired(part, defects, state)
    ctype = _content_type(part)
    if part.is_multipart():
        payload = part.get_payload()
        if ctype in _REPORT_PARTS:  # compat32 splits these into header blocks
            body.append(
                "\n\n".join(
                    "\n".join(f"{k}: {_unbyte(_unfold(str(v)))}" for k, v in _raw_items(block))
                    for block in payload
                    if isinstance(block, Message)
                )
            )
            return
        if ctype == "multipart/report" and (part.preamble or "").strip():
            body.append(_storable(_unbyte(part.preamble[:20000])))
        if ctype == "message/rfc822" and isinstance(payload, list):
            filename = _filename(part)
            keep = bool(filename) and not state.get("in_eml")
            if keep:  # an attached .eml is kept whole as well (once: not again inside it)
                data = _as_bytes(payload[0]) if payload else b""
                atts.append(_attachment(filename, ctype, data))
                state["in_eml"] = True
            try:
                _forwarded(payload, depth, body, atts, defects, state)
            finally:
                if keep:
                    state["in_eml"] = False
            return
        for sub in payload if isinstance(payload, list) else []:
            if state["parts"] > MAX_PARTS:
                break
            _walk(sub, depth + 1, body, atts, defects, state)
        return
    filename = _filename(part)
    is_text = ctype in ("text/plain", "text/html")
    inline_text = is_text and not filename and _disposition(part) != "attachment"
    data = _payload(part, defects)
    if inline_text:
        text = decode_text(data, _charset(part))
        body.append(html_to_text(text) if ctype == "text/html" else text)
        return
    if ctype in _REPORT_PARTS:
        body.append(decode_text(data, "utf-8"))
        return
    if not data and not filename:
        return
    atts.append(_attachment(filename or f"part-{len(atts) + 1}{_ext(ctype)}", ctype, data))


_REPORT_PARTS = frozenset(
    {
        "message/delivery-status",
        "message/disposition-notification",
        "text/rfc822-headers",
        "message/global-delivery-status",
        "message/global-disposition-notification",
        "message/global-headers",
    }
)


def _attachment(filename: str, ctype: str, data: bytes) -> Attachment:
    return Attachment(
        safe_filename(filename), _sniff(_storable(ctype)[:255], data), data, hashlib.sha256(data).hexdigest()
    )


_GENERIC_TYPES = frozenset(
    {
        "application/octet-stream",
        "binary/octet-stream",
        "application/x-download",
        "application/download",
        "application/force-download",
        "application/unknown",
        "application/x-unknown",
        "application/binary",
    }
)
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def _sniff(ctype: str, data: bytes) -> str:
    """A generic declared type (mailers send scans as octet-stream) made specific
    when the bytes are plainly a PDF or a scan; a specific declared type is kept."""
    if ctype not in _GENERIC_TYPES:
        return ctype
    head = data[:1024].lstrip()  # some PDFs start after junk bytes
    for magic, real in _MAGIC:
        if head.startswith(magic) or (magic == b"%PDF-" and magic in data[:1024]):
            return real
    return ctype


def _forwarded(
    payload: list, depth: int, body: list[str], atts: list[Attachment], defects: list[str], state: dict
) -> None:
    """A forwarded message: its text joins the body, its files join ours."""
    for inner in payload:
        if not isinstance(inner, Message):
            continue
        subj = _clean_line(header(inner, "Subject"))
        frm = _clean_line(header(inner, "From"))
        body.append(f"---- Пересланное сообщение ----\nОт: {frm}\nТема: {subj}")
        _walk(inner, depth + 1, body, atts, defects, state)


def _as_bytes(msg: Message) -> bytes:
    try:
        return msg.as_bytes()
    except Exception:  # too deep or too broken to write back; the archive has it
        return b""


def _repaired(part: Message, defects: list[str], state: dict) -> Message:
    """A multipart the parser could not split, re-read with the boundary it really uses.

    Two real cases: a Content-Type with no `boundary=` parameter (or one glued
    on without ';'), and a message with several Content-Type headers whose first
    is not the multipart the body actually is. The boundary comes from the
    header text, else from the body's first `--boundary` line that recurs.
    """
    if state["repairs"] >= MAX_REPAIRS:
        return part
    if part.is_multipart() or not _content_type_values(part):
        return part
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:
        return part
    if b"\n--" not in b"\n" + data:
        return part
    payload = data.decode("latin-1")  # byte for byte, to find the boundary in
    for value in _content_type_values(part):
        m = re.match(r"\s*(multipart)\s*/\s*([A-Za-z0-9.+-]+)", value, re.I)
        if not m:
            continue
        subtype = m.group(2).lower()
        bnd = _boundary_param(value)
        if not bnd or f"--{bnd}" not in payload:
            bnd = _boundary_in_body(payload)
        if not bnd:
            continue
        state["repairs"] += 1
        try:
            fixed = email.message_from_bytes(
                b'Content-Type: multipart/%s; boundary="%s"\r\n\r\n'
                % (subtype.encode(), bnd.encode("ascii", "replace"))
                + data
            )
        except Exception:
            return part
        if not fixed.is_multipart():
            return part
        defects.append(
            f"multipart/{subtype} re-read with boundary found in the "
            f"{'header' if _boundary_param(value) == bnd else 'body'}"
        )
        return fixed
    return part


def _content_type_values(part: Message) -> list[str]:
    return [
        _unfold(v if isinstance(v, str) else str(v))[:MAX_HEADER_CHARS]
        for k, v in _raw_items(part)
        if isinstance(k, str) and k.strip().lower() == "content-type"
    ]


def _boundary_param(value: str) -> str | None:
    m = re.search(r"""boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))""", value, re.I)
    return (m.group(1) or m.group(2)) if m else None


def _boundary_in_body(text: str) -> str | None:
    """The first '--token' line that comes back later (as a part or a close)."""
    for m in re.finditer(r"(?m)^--([^\s]{1,70}?)(--)?[ \t]*\r?$", text[:200_000]):
        token = m.group(1)
        rest = text[m.end() :]
        if f"\n--{token}" in rest or m.group(2):
            return token
    return None


def _payload(part: Message, defects: list[str]) -> bytes:
    """The part's decoded bytes; broken base64 gives what can be saved of it."""
    if _raw(part, "Content-Transfer-Encoding").strip().lower() == "base64":
        return _b64_lenient(part, defects)
    known = len(getattr(part, "defects", []))
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # a part the library cannot decode at all
        defects.append(f"undecodable part: {type(exc).__name__}")
        data = None
    defects.extend(type(d).__name__ for d in getattr(part, "defects", [])[known:])
    return data if isinstance(data, bytes) else b""


def _b64_lenient(part: Message, defects: list[str]) -> bytes:
    """base64 as a forgiving reader takes it: stray characters dropped, padding mended.

    (The stdlib hands back the undecoded text when it gives up, which would be
    taken for the file itself.)
    """
    text = part.get_payload(decode=False)
    if not isinstance(text, str):
        return b""
    data = text.encode("ascii", "replace")
    if not re.search(rb"[^A-Za-z0-9+/=\s]", data):
        try:
            return base64.b64decode(data)  # the usual case, at C speed
        except (binascii.Error, ValueError):
            pass
    name = safe_filename(_filename(part) or "")
    defects.append(
        f"broken base64 in {name if name != 'file' else _content_type(part)}: what could be read was kept"
    )
    clean = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    return base64.b64decode(clean + b"=" * (-len(clean) % 4))


def _charset(part: Message) -> str | None:
    try:
        cs = part.get_param("charset")
        if isinstance(cs, tuple):
            cs = email.utils.collapse_rfc2231_value(cs)
        cs = _storable(str(cs)).strip().strip('"').lower() if cs else None
        return cs or None
    except Exception:
        return None


def _content_type(part: Message) -> str:
    try:
        value = _raw(part, "Content-Type")
        if not value:
            return part.get_default_type()
        ctype = value.split(";", 1)[0].strip().lower()
        ctype = re.split(r"\s", ctype, maxsplit=1)[0]  # 'multipart/mixed\tboundary=...'
        if ctype.count("/") != 1 or not re.fullmatch(r"[a-z0-9!#$&.+^_-]+/[a-z0-9!#$&.+^_-]+", ctype):
            return "text/plain"  # as RFC 2045 says for an unreadable type
        return ctype
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    value = _raw(part, "Content-Disposition")
    return value.split(";", 1)[0].strip().lower() or None if value else None


def _filename(part: Message) -> str | None:
    """The file name from Content-Disposition (else Content-Type's name), decoded.

    Handles RFC 2231 (continuations, charsets, none), RFC 2047 words even
    where the RFC forbids them (inside quotes), and raw 8-bit UTF-8 or
    windows-1251; the result is text, not yet made safe.
    """
    holder = Message()
    for k, v in _raw_items(part):
        if isinstance(k, str) and k.strip().lower() in ("content-disposition", "content-type"):
            holder[k.strip()] = _unbyte(_unfold((v if isinstance(v, str) else str(v))[:MAX_HEADER_CHARS]))
    name = None
    for param, hdr in (("filename", "content-disposition"), ("name", "content-type")):
        try:
            value = holder.get_param(param, None, hdr)
        except Exception:
            value = None
        if isinstance(value, tuple):
            value = _rfc2231(value)
        if value:
            name = str(value)
            break
    if not name:
        return None
    name = _storable(_decode_words(email.utils.unquote(name.strip())))
    return name or None


def _rfc2231(value: tuple) -> str:
    charset, _lang, text = value
    data = bytes(text, "raw-unicode-escape") if isinstance(text, str) else bytes(text)
    return _bytes_text(data, charset or None)


def safe_filename(name: str) -> str:
    """A display name that can never climb out of a folder or hide itself."""
    name = _storable(str(name or ""))
    name = unicodedata.normalize("NFC", name.replace("\\", "/").split("/")[-1])
    name = "".join(c for c in name if c.isprintable())
    name = name.strip().lstrip(".").strip() or "file"
    return name[:180]


def _ext(ctype: str) -> str:
    return {
        "application/pdf": ".pdf",
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/tiff": ".tif",
        "message/rfc822": ".eml",
    }.get(ctype, ".bin")


# --------------------------------------------------------------------------
# text


def decode_text(data: bytes, charset: str | None) -> str:
    """Decode body bytes; the declared charset first, then a Cyrillic guess.

    A label of us-ascii or latin-1 on bytes that read as Russian in
    windows-1251 or KOI8-R is a common lie of old mailers and is not believed.
    """
    text = None
    if charset:
        try:
            text = data.decode(_charset_alias(charset))
        except (LookupError, UnicodeDecodeError, ValueError):
            text = None
        if text is not None and _charset_alias(charset) in _WESTERN and _looks_cyrillic(data):
            text = guess_cyrillic(data)
    if text is None:
        text = _utf8_or_guess(data)
    return _storable(text)


_WESTERN = frozenset(
    {
        "latin-1",
        "latin1",
        "iso-8859-1",
        "iso8859-1",
        "l1",
        "cp1252",
        "windows-1252",
        "us-ascii",
        "ascii",
        "iso-8859-15",
    }
)


def _looks_cyrillic(data: bytes) -> bool:
    """Mostly letters in 0xC0-0xFF, as Russian is in windows-1251 and KOI8-R, and no UTF-8."""
    high = sum(1 for b in data[:20000] if b >= 0xC0)
    if high < 8:
        return False
    try:
        data.decode("utf-8")
        return False
    except UnicodeDecodeError:
        pass
    return high >= 0.5 * sum(1 for b in data[:20000] if b >= 0x80)


def _charset_alias(cs: str) -> str:
    cs = cs.strip().strip('"').lower()
    return {
        "cp-1251": "cp1251",
        "win-1251": "cp1251",
        "x-cp1251": "cp1251",
        "windows-1251": "cp1251",
        "koi8r": "koi8-r",
        "unknown-8bit": "cp1251",
        "utf8": "utf-8",
        "ks_c_5601-1987": "cp949",
    }.get(cs, cs)


def guess_cyrillic(data: bytes) -> str:
    """windows-1251 or KOI8-R: Russian prose is mostly lower case.

    The same bytes read in the wrong one of the two come out mostly upper case,
    so the decoding with more lower-case Cyrillic letters wins.
    """
    best, score = data.decode("cp1251", "replace"), -1
    for cs in ("cp1251", "koi8-r"):
        text = data.decode(cs, "replace")
        s = sum(1 for c in text if "\u0430" <= c <= "\u044f") - sum(
            1 for c in text if "\u0410" <= c <= "\u042f"
        )
        if s > score:
            best, score = text, s
    return best


def _storable(s: str) -> str:
    """Text any database takes: no NUL or other C0 controls, no lone surrogates."""
    if _SURROGATE.search(s):
        s = s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        s = _SURROGATE.sub("\ufffd", s)
    return _CONTROL.sub("", s) if _CONTROL.search(s) else s


def _clean_line(s: str) -> str:
    return re.sub(r"\s+", " ", _storable(s or "")).strip()


_BLOCK_TAGS = frozenset(
    {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote", "pre", "hr"}
)
_SKIP_TAGS = ("script", "style", "head", "title")
_TAG = re.compile(r"\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]{0,20})")


def html_to_text(text: str) -> str:
    """Visible text of an HTML body, in one linear pass (the stdlib HTMLParser is
    quadratic on some inputs, e.g. thousands of unclosed tags)."""
    text = text[:MAX_HTML_CHARS]
    low = text.lower()
    out: list[str] = []
    unclosed: set[str] = set()
    i, n = 0, len(text)
    while i < n:
        lt = text.find("<", i)
        if lt < 0:
            out.append(text[i:])
            break
        out.append(text[i:lt])
        nxt = text[lt + 1 : lt + 2]
        if not (nxt.isascii() and (nxt.isalpha() or nxt in "/!?")):
            out.append("<")  # "a < b": a character, not a tag
            i = lt + 1
            continue
        if text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            i = n if end < 0 else end + 3
            continue
        gt = text.find(">", lt + 1)
        if gt < 0:
            break  # an unclosed tag runs to the end: nothing visible after it
        m = _TAG.match(text, lt + 1, gt)
        i = gt + 1
        if not m:
            continue
        closing, tag = m.group(1), m.group(2).lower()
        if tag in _BLOCK_TAGS:
            out.append("\n")
        if not closing and tag in _SKIP_TAGS and tag not in unclosed:
            end = low.find(f"</{tag}", i)
            if end < 0:  # never closed: show what follows rather than lose it
                unclosed.add(tag)  # and never search again (that would be quadratic)
                continue
            gt = text.find(">", end)
            i = n if gt < 0 else gt + 1
    joined = html.unescape("".join(out))
    return re.sub(r"[ \t]+", " ", joined)


def has_cyrillic(s: str) -> bool:
    return bool(_CYR.search(s))


def as_email(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)
