"""Hostile and broken mail, made by the tests themselves.

Every case is a function returning a `Case`: a name (also the Maildir file
name it is delivered under), the raw bytes, and an `Expect` saying what the
pipeline may do with it. Nothing here is read from the network or the disk,
except `corpus_cases()`, which adds every file of ../shared/corpus/real when
that folder exists (and nothing when it does not).

The files inside the messages (PDFs, PNGs, JPEGs, TIFFs) are written here
too, small and deterministic, so the suite needs no fixtures and no new
dependencies: PDFs are written object by object (the encrypted one with the
standard RC4 security handler, revision 2), images with Pillow or by hand.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

CHIEF = "ayyrtau-res@sevkaz.example"  # a RES chief: triage says APPEAL, so recognition runs
TO = "kanc@sevkaz.example"
DATE = "Mon, 06 Apr 2026 10:00:00 +0500"
AUTO_ID = b"<auto-id@hostile.test>"
CORPUS_REAL = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"

# What a message may become (Inbound.status).
REGISTERED = frozenset({"registered"})
KEPT = frozenset({"registered", "quarantined"})  # read, or refused with a reason
RECORDED = frozenset({"recorded"})  # auto-replies
# Bounces and receipts: about mail we never sent, so unmatched and shown to the clerk
# (or recorded when no report can be read from them); never registered.
REPORT = frozenset({"recorded", "review"})
REVIEW = frozenset({"review"})
NOT_LOST = frozenset({"registered", "quarantined", "recorded", "review", "linked"})


@dataclass(frozen=True)
class Expect:
    """What the pipeline may do with a case.

    statuses: the acceptable Inbound.status values.
    check:    an extra check the hostile test makes with the real recognizer:
              "pages"      a many-page PDF: at most max_pages_per_message OCRed
              "pixels"     an image over max_pixels_per_page: refused, with a note
              "text_layer" a PDF with a text layer: read from it, no OCR
              "unreadable" a broken file: noted, never fatal
              "too_big"    a file over max_attachment_mb: kept, not read
    attachments: names the parsed message must show (safe names), when known.
    """

    statuses: frozenset[str]
    why: str
    check: str | None = None
    attachments: tuple[str, ...] = ()


class Case(NamedTuple):
    name: str
    raw: bytes
    expect: Expect


Made = tuple[bytes, Expect]
HOSTILE: dict[str, Callable[..., Case]] = {}  # name -> function returning the Case


def hostile(name: str):
    """Register a case: the function returns (raw, expect); the registered one a Case.

    Every Message-ID made with the default of `_hdr` becomes <name@hostile.test>,
    so no two cases look like re-sends of each other.
    """

    def register(fn: Callable[..., Made]) -> Callable[..., Case]:
        @functools.wraps(fn)
        def make(*args, **kw) -> Case:
            raw, expect = fn(*args, **kw)
            return Case(name, raw.replace(AUTO_ID, f"<{name}@hostile.test>".encode()), expect)

        HOSTILE[name] = make
        return make

    return register


def _made(raw: bytes, expect: Expect) -> Made:
    return raw, expect


# --------------------------------------------------------------------------
# building blocks


def _hdr(
    subject: str | bytes = "Жалоба потребителя",
    *,
    frm: str | bytes = CHIEF,
    msgid: str | None = "auto",
    extra: bytes = b"",
    ctype: bytes | None = None,
) -> bytes:
    """A header block (ending in the blank line when ctype is given)."""

    def b(v):
        return v if isinstance(v, bytes) else _ew(v)

    out = (
        b"From: "
        + b(frm)
        + b"\r\nTo: "
        + TO.encode()
        + b"\r\nSubject: "
        + b(subject)
        + b"\r\nDate: "
        + DATE.encode()
        + b"\r\n"
    )
    if msgid == "auto":
        msgid = AUTO_ID.decode()  # made unique per case by hostile_cases()
    if msgid:
        out += b"Message-ID: " + msgid.encode() + b"\r\n"
    out += extra
    if ctype is not None:
        out += b"MIME-Version: 1.0\r\nContent-Type: " + ctype + b"\r\n\r\n"
    return out


def _ew(s: str) -> bytes:
    """An RFC 2047 encoded word when the text is not ASCII."""
    if s.isascii():
        return s.encode()
    return b"=?utf-8?B?" + base64.b64encode(s.encode()) + b"?="


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _text_part(
    text: str = "Направляю жалобу потребителя. Прошу зарегистрировать.", charset: str = "utf-8"
) -> bytes:
    return (
        b"Content-Type: text/plain; charset="
        + charset.encode()
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(text.encode(charset))
    )


def _file_part(
    data: bytes,
    ctype: str,
    filename: bytes | str,
    *,
    encoding: str = "base64",
    disposition: bytes = b"attachment",
) -> bytes:
    fn = filename if isinstance(filename, bytes) else filename.encode()
    body = _b64(data) if encoding == "base64" else data
    return (
        b"Content-Type: "
        + ctype.encode()
        + b"\r\nContent-Disposition: "
        + disposition
        + b'; filename="'
        + fn
        + b'"\r\nContent-Transfer-Encoding: '
        + encoding.encode()
        + b"\r\n\r\n"
        + body
    )


def _multipart(
    parts: list[bytes], boundary: str = "hostile-boundary", *, subtype: str = "mixed", close: bool = True
) -> tuple[bytes, bytes]:
    """(Content-Type value, body) of a multipart."""
    bnd = boundary.encode()
    body = b"This is a multi-part message in MIME format.\r\n"
    for p in parts:
        body += b"\r\n--" + bnd + b"\r\n" + p
    if close:
        body += b"\r\n--" + bnd + b"--\r\n"
    return b"multipart/" + subtype.encode() + b'; boundary="' + bnd + b'"', body


def _mail(parts: list[bytes], subject: str | bytes = "Жалоба потребителя", **kw) -> bytes:
    ctype, body = _multipart(parts)
    return _hdr(subject, ctype=ctype, **kw) + body


def _with_file(data: bytes, ctype: str, filename: str) -> bytes:
    """A chief's covering note with one attached file."""
    return _mail([_text_part(), _file_part(data, ctype, filename)])


# --------------------------------------------------------------------------
# files: PDF


def _pdf(objects: list[bytes], *, trailer: bytes = b"") -> bytes:
    """A PDF whose object i (from 1) is objects[i-1]; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _cyr_pdf_string(text: str) -> bytes:
    """A PDF literal string in windows-1251 bytes (see the font's /Differences)."""
    raw = text.encode("cp1251")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


# Helvetica with windows-1251 codes 0xC0..0xFF named as the Adobe glyph list's
# Cyrillic letters (afii100xx): text extractors map them back to Unicode.
_UPPER = [f"/afii{n}" for n in list(range(10017, 10023)) + list(range(10024, 10050))]
_LOWER = [f"/afii{n}" for n in list(range(10065, 10071)) + list(range(10072, 10098))]
_FONT = (
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
    b"/BaseEncoding /WinAnsiEncoding /Differences [192 " + " ".join(_UPPER + _LOWER).encode() + b"] >> >>"
)


def text_pdf(lines: list[str]) -> bytes:
    """One A4 page with a real text layer (no OCR should be needed)."""
    ops = [b"BT /F1 12 Tf 72 770 Td 16 TL"]
    for ln in lines:
        ops.append(_cyr_pdf_string(ln) + b" Tj T*")
    ops.append(b"ET")
    content = b"\n".join(ops)
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(content),
            _FONT,
        ]
    )


def many_page_pdf(pages: int, tag: str = "") -> bytes:
    """`pages` A4 pages with a drawing and no text layer: each would need OCR.

    One shared content stream keeps the file a few kilobytes however many pages.
    """
    content = (
        b"q 0 0 0 RG 4 w 72 700 m 523 700 l S 72 650 m 400 650 l S "
        b"72 600 300 20 re f Q % " + tag.encode("ascii", "replace")
    )
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        _stream(content),
    ]
    for _ in range(pages):
        objs.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R /Resources << >> >>"
        )
    return _pdf(objs)


# RC4 and the standard security handler, revision 2 (PDF 1.7, 7.6.3).
_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) & 0xFF])
    return bytes(out)


def encrypted_pdf(user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """A text PDF RC4-encrypted with a user password: nobody reads it without one."""
    pad = lambda pw: (pw + _PAD)[:32]  # noqa: E731
    o = _rc4(hashlib.md5(pad(owner_password)).digest()[:5], pad(user_password))
    perms = -44
    file_id = hashlib.md5(b"hostile encrypted pdf").digest()
    key = hashlib.md5(pad(user_password) + o + struct.pack("<i", perms) + file_id).digest()[:5]
    u = _rc4(key, _PAD)

    def enc(num: int, data: bytes) -> bytes:
        k = hashlib.md5(key + struct.pack("<I", num)[:3] + b"\0\0").digest()[:10]
        return _rc4(k, data)

    content = b"BT /F1 14 Tf 72 770 Td (Encrypted appeal: consumer Ivanov, phone 87771234567) Tj ET"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(enc(4, content)),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Filter /Standard /V 1 /R 2 /O <"
            + o.hex().encode()
            + b"> /U <"
            + u.hex().encode()
            + b"> /P %d >>" % perms,
        ],
        trailer=b"/Encrypt 6 0 R /ID [<" + file_id.hex().encode() + b"> <" + file_id.hex().encode() + b">] ",
    )


# --------------------------------------------------------------------------
# files: images


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, rows: int | None = None) -> bytes:
    """An 8-bit grey PNG of width x height; only `rows` rows of data (all, if None).

    50000 x 50000 declares 2.5 gigapixels in a few kilobytes: a decompression
    bomb for anyone who decodes before checking the size.
    """
    rows = height if rows is None else rows
    comp = zlib.compressobj(9)
    line = b"\0" + b"\xff" * width
    idat = b"".join(comp.compress(line) for _ in range(rows)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _picture(tag: str, size=(480, 340), mode: str = "L"):
    """A small page-like picture with a few lines of text and some rules."""
    from PIL import Image, ImageDraw

    img = Image.new(mode, size, "white")
    d = ImageDraw.Draw(img)
    d.text((20, 20), "ZHALOBA / COMPLAINT", fill="black")
    d.text((20, 50), f"case {tag}", fill="black")
    d.text((20, 80), "tel. +7 777 123 45 67", fill="black")
    d.line((20, 120, size[0] - 20, 120), fill="black", width=2)
    d.rectangle((20, 150, 200, 170), outline="black")
    return img


def jpeg(tag: str) -> bytes:
    buf = io.BytesIO()
    _picture(tag, mode="RGB").save(buf, "JPEG", quality=80)
    return buf.getvalue()


def png(tag: str) -> bytes:
    buf = io.BytesIO()
    _picture(tag).save(buf, "PNG")
    return buf.getvalue()


def tiff(tag: str, frames: int = 2) -> bytes:
    """A multi-page bilevel TIFF, as fax and MFP scanners make them."""
    imgs = [_picture(f"{tag} p{i + 1}").convert("1") for i in range(frames)]
    buf = io.BytesIO()
    try:
        imgs[0].save(buf, "TIFF", save_all=True, append_images=imgs[1:], compression="group4")
    except Exception:  # Pillow without libtiff
        buf = io.BytesIO()
        imgs[0].save(buf, "TIFF", save_all=True, append_images=imgs[1:])
    return buf.getvalue()


def tnef() -> bytes:
    """The start of a winmail.dat: TNEF signature, key, one attribute."""
    attr = b"\x01" + struct.pack("<I", 0x00069007) + struct.pack("<I", 4) + b"\x00\x00\x00\x00"
    return struct.pack("<IH", 0x223E9F78, 0x1234) + attr + struct.pack("<H", 0) + b"\x00" * 64


# --------------------------------------------------------------------------
# the cases


@hostile("empty")
def empty() -> Made:
    return _made(b"", Expect(REVIEW, "0 bytes: no sender, nothing to read"))


@hostile("headers_only")
def headers_only() -> Made:
    raw = _hdr("Жалоба без текста")  # no blank line, no body
    return _made(raw, Expect(REGISTERED, "headers and no body at all"))


@hostile("no_message_id")
def no_message_id() -> Made:
    raw = (
        _hdr("Жалоба без Message-ID", msgid=None, ctype=b"text/plain; charset=utf-8")
        + "Жалоба потребителя Сидорова, без идентификатора письма.\r\n".encode()
    )
    return _made(raw, Expect(REGISTERED, "no Message-ID: still registered"))


@hostile("corrupt_base64")
def corrupt_base64() -> Made:
    good = _b64(png("corrupt-b64"))
    bad = good[:200] + b"!!!***@@@ not base64 at all ***\r\n" + good[200:400] + b"=\r\nA\r\n"
    part = (
        b'Content-Type: image/png; name="scan.png"\r\nContent-Disposition: attachment; '
        b'filename="scan.png"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + bad
    )
    return _made(
        _mail([_text_part(), part]),
        Expect(KEPT, "an attachment whose base64 is broken", "unreadable", ("scan.png",)),
    )


@hostile("truncated_pdf")
def truncated_pdf() -> Made:
    pdf = text_pdf(["Жалоба потребителя Петрова", "Обрезанный файл"])
    return _made(
        _with_file(pdf[: len(pdf) // 2], "application/pdf", "обрезан.pdf"),
        Expect(KEPT, "a PDF cut in half", "unreadable"),
    )


@hostile("encrypted_pdf")
def encrypted() -> Made:
    return _made(
        _with_file(encrypted_pdf(), "application/pdf", "secret.pdf"),
        Expect(KEPT, "a password-protected PDF: noted, not read", "unreadable", ("secret.pdf",)),
    )


@hostile("png_bomb")
def png_bomb() -> Made:
    bomb = png_declaring(50_000, 50_000, rows=64)
    return _made(
        _with_file(bomb, "image/png", "bomb.png"),
        Expect(KEPT, "a PNG declaring 50000x50000 pixels in a few KB", "pixels", ("bomb.png",)),
    )


@hostile("png_over_pixel_limit")
def png_over_pixel_limit() -> Made:
    """Under Pillow's own bomb limit, over the (test) rules' max_pixels_per_page."""
    img = png_declaring(4_000, 4_000)
    return _made(
        _with_file(img, "image/png", "big.png"),
        Expect(KEPT, "16 Mpx, only the rules' limit refuses it", "pixels"),
    )


@hostile("attachment_40mb")
def attachment_40mb() -> Made:
    data = bytes(range(256)) * (40 * 2**20 // 256)
    return _made(
        _with_file(data, "application/pdf", "huge.pdf"),
        Expect(frozenset({"quarantined"}), "40 MB of attachment: over max_message_mb once encoded"),
    )


@hostile("attachment_over_limit")
def attachment_over_limit() -> Made:
    """Over max_attachment_mb (5 MB in the test rules), under max_message_mb."""
    data = b"%PDF-1.4\n" + bytes(range(256)) * (6 * 2**20 // 256)
    return _made(
        _with_file(data, "application/pdf", "big-scan.pdf"),
        Expect(KEPT, "a 6 MB file: kept, not read", "too_big"),
    )


@hostile("pdf_200_pages")
def pdf_200_pages() -> Made:
    return _made(
        _with_file(many_page_pdf(200, "200"), "application/pdf", "200.pdf"),
        Expect(KEPT, "200 image-only pages: OCR stops at max_pages_per_message", "pages"),
    )


@hostile("zip_attachment")
def zip_attachment() -> Made:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("скан.pdf", text_pdf(["Жалоба в архиве"]))
        z.writestr("../../evil.sh", "rm -rf /\n")
    return _made(
        _with_file(buf.getvalue(), "application/zip", "скан.zip"),
        Expect(REGISTERED, "a zip (with a zip-slip entry) is kept, never unpacked"),
    )


@hostile("html_only")
def html_only() -> Made:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Жалоба потребителя <b>Иванова</b></p><p>Прошу принять меры&nbsp;&mdash; "
        "нет света</p></body></html>"
    )
    raw = _hdr("Жалоба (HTML)", ctype=b"text/html; charset=utf-8") + html.encode()
    return _made(raw, Expect(REGISTERED, "HTML body only: read as text"))


@hostile("winmail_dat")
def winmail_dat() -> Made:
    part = (
        b'Content-Type: application/ms-tnef; name="winmail.dat"\r\n'
        b'Content-Disposition: attachment; filename="winmail.dat"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + _b64(tnef())
    )
    return _made(
        _mail([_text_part(), part]),
        Expect(REGISTERED, "Outlook's TNEF: kept as a file", attachments=("winmail.dat",)),
    )


@hostile("path_traversal_names")
def path_traversal_names() -> Made:
    parts = [_text_part()]
    for i, name in enumerate(
        [
            b"../../../../etc/passwd",
            b"/etc/shadow",
            b"..\\..\\Windows\\System32\\evil.exe",
            b".htaccess",
            b"....//....//hidden.pdf",
        ]
    ):
        parts.append(_file_part(b"payload %d" % i, "application/octet-stream", name))
    parts.append(
        b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        b"filename*=utf-8''..%2F..%2Fetc%2Fcron.d%2Fjob\r\n\r\nx\r\n"
    )
    return _made(_mail(parts), Expect(REGISTERED, "file names with ../, absolute paths, backslashes"))


@hostile("control_char_names")
def control_char_names() -> Made:
    parts = [
        _text_part(),
        _file_part(b"a", "application/octet-stream", b"nul\x00byte.pdf"),
        _file_part(b"b", "application/octet-stream", b"esc\x1b[31mred\x07.txt"),
        _file_part(b"c", "application/octet-stream", b"del\x7f\x08.txt"),
        b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        b"filename*=utf-8''evil%00name%0D%0ASubject%3A%20x.pdf\r\n\r\nd\r\n",
        _file_part(b"e", "application/octet-stream", "=?utf-8?Q?a=00b=0D=0A.pdf?="),
    ]
    return _made(_mail(parts), Expect(REGISTERED, "NUL, ESC, DEL, CR/LF inside file names"))


@hostile("raw_utf8_headers")
def raw_utf8_headers() -> Made:
    ctype, body = _multipart(
        [_text_part(), _file_part(png("utf8"), "image/png", "Жалоба Петрова.png".encode())]
    )
    raw = _hdr("Жалоба на отключение".encode(), frm=f"Начальник РЭС <{CHIEF}>".encode(), ctype=ctype) + body
    return _made(
        raw, Expect(REGISTERED, "8-bit UTF-8 in Subject/From/filename", attachments=("Жалоба Петрова.png",))
    )


@hostile("cp1251_headers")
def cp1251_headers() -> Made:
    ctype, body = _multipart(
        [
            _text_part("Жалоба в windows-1251", "windows-1251"),
            _file_part(png("cp1251"), "image/png", "Скан жалобы.png".encode("cp1251")),
        ]
    )
    raw = (
        _hdr(
            "Жалоба потребителя Ахметова".encode("cp1251"),
            frm=f"Начальник РЭС <{CHIEF}>".encode("cp1251"),
            ctype=ctype,
        )
        + body
    )
    return _made(raw, Expect(REGISTERED, "raw windows-1251 header bytes", attachments=("Скан жалобы.png",)))


@hostile("nested_multipart_100")
def nested_multipart(depth: int = 100) -> Made:
    inner = _text_part("Жалоба на самом дне вложенности")
    for i in range(depth):
        ctype, body = _multipart([inner], f"level{i}")
        inner = b"Content-Type: " + ctype + b"\r\n\r\n" + body
    raw = _hdr("Жалоба (100 вложений)") + b"MIME-Version: 1.0\r\n" + inner
    return _made(raw, Expect(REGISTERED, "multipart nested 100 deep: walked to a limit"))


@hostile("nested_rfc822_60")
def nested_rfc822(depth: int = 60) -> Made:
    inner = (
        _hdr("Жалоба, исходное письмо", ctype=b"text/plain; charset=utf-8")
        + "Текст исходной жалобы.\r\n".encode()
    )
    for i in range(depth):
        inner = _hdr(f"Fwd{i}: Жалоба", ctype=b"message/rfc822") + inner
    raw = inner
    return _made(raw, Expect(REGISTERED, "message/rfc822 nested 60 deep"))


@hostile("nested_named_rfc822")
def nested_named_rfc822(depth: int = 8) -> Made:
    """Each level an attached .eml with a 2 MB scan at the bottom: keeping every level
    whole would store the scan `depth` times over."""
    inner = _mail(
        [
            _text_part("Исходная жалоба"),
            _file_part(b"%PDF-1.4\n" + bytes(range(256)) * 8192, "application/pdf", "deep.pdf"),
        ],
        "Жалоба, исходное письмо",
    )
    for i in range(depth):
        ctype, body = _multipart(
            [
                _text_part(f"Пересылаю ({i})"),
                b"Content-Type: message/rfc822\r\nContent-Disposition: "
                b'attachment; filename="level%d.eml"\r\n\r\n' % i + inner,
            ],
            f"eml{i}",
        )
        inner = _hdr(f"Fwd{i}: Жалоба", ctype=ctype) + body
    return _made(
        inner,
        Expect(
            KEPT,
            "attached .eml in attached .eml, 8 deep, a 2 MB scan at the bottom",
            attachments=("level7.eml", "deep.pdf"),
        ),
    )


@hostile("missing_boundary")
def missing_boundary() -> Made:
    _, body = _multipart([_text_part(), _file_part(png("noboundary"), "image/png", "скан.png")])
    raw = _hdr("Жалоба (нет boundary)", ctype=b"multipart/mixed") + body
    return _made(raw, Expect(KEPT, "multipart without a boundary parameter"))


@hostile("unclosed_boundary")
def unclosed_boundary() -> Made:
    ctype, body = _multipart(
        [_text_part(), _file_part(png("unclosed"), "image/png", "незакрыт.png")], close=False
    )
    return _made(
        _hdr("Жалоба (граница не закрыта)", ctype=ctype) + body,
        Expect(REGISTERED, "last boundary never closed", attachments=("незакрыт.png",)),
    )


@hostile("conflicting_content_type")
def conflicting_content_type() -> Made:
    ctype, body = _multipart([_text_part(), _file_part(png("dupct"), "image/png", "dup.png")])
    raw = _hdr("Жалоба (два Content-Type)", ctype=b"text/plain; charset=koi8-r") + b""
    raw = (
        raw.replace(
            b"\r\n\r\n", b"\r\nContent-Type: " + ctype + b"\r\nContent-Type: application/pdf\r\n\r\n", 1
        )
        + body
    )
    return _made(raw, Expect(KEPT, "three Content-Type headers"))


@hostile("unknown_charset")
def unknown_charset() -> Made:
    raw = _hdr(
        "=?x-unknown?B?0JbQsNC70L7QsdCw?= потребителя".encode(), ctype=b"text/plain; charset=x-unknown"
    ) + "Жалоба: нет напряжения в сети.\r\n".encode("cp1251")
    return _made(raw, Expect(REGISTERED, 'charset="x-unknown" in body and subject'))


@hostile("charset_lies")
def charset_lies() -> Made:
    raw = _hdr(
        "Жалоба (кодировка врёт)", ctype=b"text/plain; charset=utf-8"
    ) + "Жалоба потребителя: счёт выставлен неверно, прошу пересчитать.\r\n".encode("cp1251")
    return _made(raw, Expect(REGISTERED, "says utf-8, bytes are windows-1251"))


@hostile("huge_header_1mb")
def huge_header() -> Made:
    long = b"X-Garbage: " + b"a" * (2**20) + b"\r\n"
    long_subject = b"Subject-Comment: " + ("Жалоба " * 20000).encode() + b"\r\n"
    raw = (
        _hdr("Жалоба (огромный заголовок)", extra=long + long_subject, ctype=b"text/plain; charset=utf-8")
        + "Текст жалобы.\r\n".encode()
    )
    return _made(raw, Expect(KEPT, "one header line of 1 MB"))


@hostile("huge_subject")
def huge_subject() -> Made:
    words = [_ew("Жалоба очень") for _ in range(40000)]  # folded encoded words, ~1.3 MB
    raw = _hdr(b"\r\n ".join(words), ctype=b"text/plain; charset=utf-8") + "Текст жалобы.\r\n".encode()
    return _made(raw, Expect(KEPT, "a Subject of 1 MB of encoded words"))


@hostile("parts_2000")
def many_parts(n: int = 2000) -> Made:
    parts = [_text_part()] + [
        b"Content-Type: text/plain; charset=us-ascii\r\nContent-Disposition: attachment; "
        b'filename="note-%d.txt"\r\n\r\nnote %d\r\n' % (i, i)
        for i in range(n)
    ]
    return _made(_mail(parts, "Жалоба (2000 частей)"), Expect(KEPT, "2000 parts: the walk stops at a limit"))


@hostile("binary_garbage")
def binary_garbage() -> Made:
    rnd = random.Random(1251)
    return _made(
        rnd.randbytes(64 * 1024), Expect(NOT_LOST - {"registered", "linked"}, "64 KB of random bytes")
    )


@hostile("long_body_line")
def long_body_line() -> Made:
    raw = (
        _hdr("Жалоба (одна строка 4 МБ)", ctype=b"text/plain; charset=utf-8")
        + ("жалоба " * (4 * 2**20 // 13)).encode()
    )
    return _made(raw, Expect(KEPT, "4 MB body with no line break"))


@hostile("from_no_address")
def from_without_address() -> Made:
    raw = (
        _hdr("Жалоба", frm="Иван Петров".encode(), ctype=b"text/plain; charset=utf-8")
        + "Прошу разобраться.\r\n".encode()
    )
    return _made(raw, Expect(REVIEW, "From: a name and no address"))


@hostile("oversized_ids")
def oversized_ids() -> Made:
    """Addresses and ids longer than any column holds (PostgreSQL enforces VARCHAR(n))."""
    long_addr = "a" * 5000 + "@example.kz"
    raw = (
        _hdr(
            "Жалоба",
            frm=long_addr.encode(),
            msgid="<" + "m" * 5000 + "@x>",
            extra=b"Reply-To: "
            + long_addr.encode()
            + b"\r\nIn-Reply-To: <"
            + b"r" * 5000
            + b"@x>\r\nReferences: "
            + b" ".join(b"<%d-%s@x>" % (i, b"q" * 50) for i in range(2000))
            + b"\r\n",
            ctype=b"text/plain; charset=utf-8",
        )
        + "Прошу разобраться.\r\n".encode()
    )
    return _made(raw, Expect(REVIEW, "a 5000-character From address: not an address"))


@hostile("spoofed_display_name")
def spoofed_display_name() -> Made:
    """A chief's address as the display name of a stranger's: the stranger it is."""
    raw = (
        _hdr("Жалоба", frm=f"{CHIEF} <attacker@evil.example>".encode(), ctype=b"text/plain; charset=utf-8")
        + "Прошу принять жалобу.\r\n".encode()
    )
    return _made(raw, Expect(REGISTERED, "registered as a stranger's appeal, not a chief's"))


@hostile("broken_encoded_words")
def broken_encoded_words() -> Made:
    subj = (
        b"=?utf-8?B?!!!not-base64?= =?utf-8?Q?=D0=96=D0?= =?koi8-r?B?6sHMz8LB?= "
        b"=?utf-8?X?unknown-encoding?= =?utf-8?B?0JbQsNC70L7QsdCw"
    )
    raw = _hdr(subj, ctype=b"text/plain; charset=utf-8") + "Текст.\r\n".encode()
    return _made(raw, Expect(REGISTERED, "malformed RFC 2047 words"))


@hostile("dsn_with_returned_scan")
def dsn_with_returned_scan() -> Made:
    """A bounce of our own mail that carries a PDF back: never registered."""
    returned = _mail(
        [_text_part(), _file_part(text_pdf(["Жалоба возвращена"]), "application/pdf", "скан.pdf")],
        "[ВХ-2026-000001] Талон",
    )
    report = (
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.kz\r\n"
        b"\r\nFinal-Recipient: rfc822; nobody@example.kz\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\n"
    )
    ctype, body = _multipart(
        [_text_part("Сообщение не доставлено."), report, b"Content-Type: message/rfc822\r\n\r\n" + returned],
        "dsn-b",
        subtype="report",
    )
    ctype += b"; report-type=delivery-status"
    raw = _hdr("Undelivered Mail Returned to Sender", frm="MAILER-DAEMON@mx.example.kz", ctype=ctype) + body
    return _made(raw, Expect(REPORT, "a DSN, with a PDF inside"))


@hostile("plain_bounce_ru")
def plain_bounce_ru() -> Made:
    raw = (
        _hdr(
            "Уведомление о недоставке сообщения",
            frm="mailer-daemon@mail.example.kz",
            ctype=b"text/plain; charset=utf-8",
            extra=b"X-Failed-Recipients: nobody@example.kz\r\n",
        )
        + "Ваше письмо не может быть доставлено. Жалоба потребителя не доставлена.\r\n".encode()
    )
    return _made(raw, Expect(REPORT, "a Russian plain-text bounce"))


@hostile("auto_reply")
def auto_reply() -> Made:
    raw = (
        _hdr(
            "Автоответ: Жалоба потребителя",
            frm="someone@example.kz",
            ctype=b"text/plain; charset=utf-8",
            extra=b"X-Autoreply: yes\r\n",
        )
        + "Я в отпуске до 20 апреля. Жалобы направляйте заместителю.\r\n".encode()
    )
    return _made(raw, Expect(RECORDED, "an out-of-office reply"))


@hostile("rfc2231_cyrillic_name")
def rfc2231_cyrillic_name() -> Made:
    name = "Жалоба Иванова Ивана Ивановича от 06.04.2026.png".encode()
    quoted = "".join(f"%{b:02X}" for b in name)
    chunks = [quoted[i : i + 60] for i in range(0, len(quoted), 60)]
    params = b";\r\n".join(
        b" filename*%d*=%s%s" % (i, b"utf-8''" if i == 0 else b"", c.encode()) for i, c in enumerate(chunks)
    )
    part = (
        b"Content-Type: image/png\r\nContent-Disposition: attachment;\r\n"
        + params
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(png("rfc2231"))
    )
    return _made(
        _mail([_text_part(), part]),
        Expect(
            REGISTERED,
            "RFC 2231 continued Cyrillic file name",
            attachments=("Жалоба Иванова Ивана Ивановича от 06.04.2026.png",),
        ),
    )


def _unlabelled(charset: str) -> Made:
    text = (
        "Жалоба потребителя. Прошу разобраться с начислением за электроэнергию, счёт завышен в три раза.\r\n"
    )
    raw = _hdr(
        f"Жалоба ({charset} без метки)", ctype=b"text/plain\r\nContent-Transfer-Encoding: 8bit"
    ) + text.encode(charset)
    return _made(raw, Expect(REGISTERED, f"{charset} body with no charset label"))


@hostile("cp1251_body_unlabelled")
def cp1251_body() -> Made:
    return _unlabelled("cp1251")


@hostile("koi8r_body_unlabelled")
def koi8r_body() -> Made:
    return _unlabelled("koi8-r")


@hostile("truncated_jpeg")
def truncated_jpeg() -> Made:
    data = jpeg("truncated")
    return _made(
        _with_file(data[: len(data) * 3 // 5], "image/jpeg", "photo.jpg"),
        Expect(KEPT, "a JPEG cut short", "unreadable", ("photo.jpg",)),
    )


@hostile("tiff")
def tiff_scan() -> Made:
    return _made(
        _with_file(tiff("tiff"), "image/tiff", "fax.tif"),
        Expect(REGISTERED, "a 2-page group-4 TIFF from a fax", attachments=("fax.tif",)),
    )


@hostile("pdf_text_layer")
def pdf_with_text_layer() -> Made:
    pdf = text_pdf(
        [
            "Zhaloba potrebitelya TEXTLAYER-OK",
            "Жалоба потребителя Иванова",
            "Адрес: г. Петропавловск, ул. Абая 1",
            "Тел. +7 777 123 45 67",
        ]
    )
    return _made(
        _with_file(pdf, "application/pdf", "текст.pdf"),
        Expect(REGISTERED, "a PDF with a text layer: read, not OCRed", "text_layer", ("текст.pdf",)),
    )


@hostile("pdf_text_layer_nul")
def pdf_with_nul_in_text_layer() -> Made:
    """A text layer whose font maps codes to U+0000 and U+0001: NUL reaches the text."""
    font = _FONT.replace(b"/Differences [192", b"/Differences [0 /uni0000 1 /uni0001 192")
    content = (
        b"BT /F1 12 Tf 72 770 Td 16 TL (Zhaloba potrebitelya NUL\\000inside\\001 "
        b"TEXTLAYER-NUL) Tj T* " + _cyr_pdf_string("Жалоба потребителя Петрова") + b" Tj ET"
    )
    pdf = _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(content),
            font,
        ]
    )
    return _made(
        _with_file(pdf, "application/pdf", "nul.pdf"),
        Expect(KEPT, "NUL characters in a PDF's text layer (PostgreSQL refuses NUL)"),
    )


@hostile("nul_in_body")
def nul_in_body() -> Made:
    raw = (
        _hdr("Жалоба\x00с NUL".encode(), ctype=b"text/plain; charset=utf-8")
        + "Жалоба\x00 потребителя\x00\r\n".encode()
        + b"\x00" * 100
    )
    return _made(raw, Expect(REGISTERED, "NUL bytes in Subject and body"))


@hostile("mixed_line_endings")
def bare_lf_and_cr() -> Made:
    raw = (
        _hdr("Жалоба (смешанные переводы строк)", ctype=b"text/plain; charset=utf-8")
        + "строка 1\rстрока 2\nстрока 3\r\n".encode()
    ).replace(b"\r\nTo:", b"\nTo:")
    return _made(raw, Expect(REGISTERED, "bare CR, bare LF and CRLF mixed"))


def hostile_cases() -> list[Case]:
    """Every case, built (the 40 MB one takes about a second)."""
    return [make() for make in HOSTILE.values()]


# --------------------------------------------------------------------------
# ../shared/corpus/real


_CORPUS_EXPECT = {
    "dsn": Expect(REPORT, "a real bounce"),
    "mdn": Expect(REPORT, "a real read receipt"),
    "cyrillic": Expect(NOT_LOST - {"quarantined"}, "real Cyrillic mail"),
    "malformed": Expect(NOT_LOST - {"quarantined"}, "real malformed mail"),
}


def corpus_files() -> list[Path]:
    if not CORPUS_REAL.is_dir():
        return []
    return sorted(p for p in CORPUS_REAL.glob("*/*") if p.is_file() and p.suffix == ".eml")


def corpus_cases() -> list[Case]:
    """Every file of ../shared/corpus/real, as delivered; [] when it is absent."""
    out = []
    for p in corpus_files():
        exp = _CORPUS_EXPECT.get(p.parent.name, Expect(NOT_LOST, "real mail"))
        out.append(Case(f"real-{p.parent.name}-{p.stem}", p.read_bytes(), exp))
    return out


def manifest() -> list[dict[str, str]]:
    """Rows of ../shared/corpus/real/MANIFEST.tsv ([] when absent)."""
    path = CORPUS_REAL / "MANIFEST.tsv"
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, ln.split("\t"))) for ln in lines[1:] if ln.strip()]
