"""Recognition: the text of an appeal and the fields read from it.

    recognize(msg, sender=..., channel=..., limits=..., pool=...) -> Recognition

Text comes from the e-mail body, the PDF text layer (pdfplumber), or OCR of
rendered PDF pages and images (tesseract rus+kaz in an `OcrPool`). Fields are
then read from the consumer's form (Appendix 1-3 of the regulation), an
organisation's letter, or a website-form body. Each field is a value the
reader is sure of, or None with the field's name in `needs_review`.

recognize() never raises on what a message contains: unreadable, oversized,
encrypted or unknown attachments are reported in `AttachmentInfo.note`.
"""

from __future__ import annotations

import io
import logging
import re
import time
import warnings
from dataclasses import dataclass, field

from mailflow.rules import Limits, Person
from mailflow.values import (
    CONSUMER_FIELDS,
    Attachment,
    AttachmentInfo,
    Consumer,
    FieldCrop,
    ParsedMessage,
    Recognition,
)

from .fields import (
    _OUT_RE,
    Found,
    body_consumer,
    book_time,
    form_pair,
    kind_in_text,
    read_form,
    read_labelled,
    read_letter,
)
from .ocr import OcrPool, PageResult, PageTask
from .text import Tok, body_tokens, split_glued, squash

__all__ = ["recognize", "OcrPool", "ACCEPT"]
log = logging.getLogger(__name__)

# A value is kept only when its confidence reaches the field's bar.
ACCEPT = {
    "kind": 0.70,
    "group": 0.50,
    "origin_unit": 0.5,
    "book_entry_at": 0.5,
    "last_name": 0.80,
    "first_name": 0.80,
    "patronymic": 0.80,
    "address": 0.80,
    "phone": 0.80,
    "email": 0.80,
    "org_name": 0.80,
    "outgoing_number": 0.80,
    "outgoing_date": 0.80,
}
FREE_SOURCE = "письмо в свободной форме"
PERSON_FIELDS = ("last_name", "first_name", "patronymic", "address")
ORG_FIELDS = ("org_name", "outgoing_number", "outgoing_date")

_SKIP_TYPES = {
    "application/zip": "archive",
    "application/x-zip-compressed": "archive",
    "application/x-rar-compressed": "archive",
    "application/x-7z-compressed": "archive",
    "application/ms-tnef": "winmail.dat (TNEF)",
    "application/vnd.ms-tnef": "winmail.dat (TNEF)",
    "message/rfc822": "attached message (its files are read on their own)",
}


@dataclass
class _Doc:
    """One attachment's reading."""

    att: Attachment
    kind: str  # "pdf" | "image" | "text" | "skip"
    pages: int = 0
    note: list[str] = field(default_factory=list)
    tasks: list[PageTask] = field(default_factory=list)
    results: list[PageResult] = field(default_factory=list)
    text: str = ""

    def tokens(self) -> tuple[list[Tok], dict[str, float]]:
        toks: list[Tok] = []
        under: dict[str, float] = {}
        line0 = block0 = 0
        for pno, r in enumerate(self.results):
            lmax = bmax = 0
            ocr = r.source == "ocr"
            for i, w in enumerate(r.words):
                alt = r.alt.get(i)
                toks.append(
                    Tok(
                        w.text,
                        w.conf / 100.0,
                        line0 + w.line,
                        block0 + w.block,
                        (alt[0], alt[1] + 1000 * pno, alt[2], alt[3] / 100.0) if alt else None,
                        r.digits.get(i, ()) if ocr else None,
                    )
                )
                lmax, bmax = max(lmax, w.line + 1), max(bmax, w.block + 1)
            line0 += lmax + 1
            block0 += bmax + 1
            for k, v in r.underlines.items():
                under[k] = max(under.get(k, 0.0), v)
        return split_glued(toks), under


def recognize(
    msg: ParsedMessage, *, sender: Person | None, channel: str, limits: Limits, pool: OcrPool
) -> Recognition:
    docs = [_plan(a, limits) for a in msg.attachments]
    budget = limits.max_pages_per_message
    over_limit = False
    tasks: list[PageTask] = []
    for d in docs:
        if d.kind not in ("pdf", "image"):
            continue
        n = min(d.pages, max(0, budget))
        if n < d.pages:
            over_limit = True
            d.note.append(
                f"pages {n + 1}-{d.pages} not read: limit of {limits.max_pages_per_message} pages per message"
            )
        budget -= n
        d.tasks = [
            PageTask(
                d.kind,
                d.att.data,
                i,
                limits.render_dpi,
                limits.ocr_languages,
                limits.ocr_timeout_seconds,
                limits.max_pixels_per_page,
            )
            for i in range(n)
        ]
        tasks.extend(d.tasks)
    t0 = time.monotonic()
    results = pool.run(tasks) if tasks else []
    ocr_seconds = time.monotonic() - t0 if tasks else 0.0
    pos = 0
    for d in docs:
        d.results = results[pos : pos + len(d.tasks)]
        pos += len(d.tasks)
        for r in d.results:
            if r.note:
                d.note.append(r.note)
        if d.results:
            d.text = "\n\n".join(r.text for r in d.results if r.words)

    infos = tuple(_info(d) for d in docs)
    try:
        rec = _read_fields(msg, docs, sender=sender, channel=channel)
    except Exception:  # a reader's bug must not lose the message: a clerk reads it
        log.exception("field reading failed for %s", msg.message_id)
        rec = {
            "kind": None,
            "group": None,
            "consumer": Consumer(),
            "origin_unit": None,
            "book_entry_at": None,
            "confidence": {},
            "evidence": {},
            "_review": ["kind", "group", "last_name", "first_name", "address", "phone"],
        }
    review = list(rec.pop("_review"))
    crops = _crops(docs, rec["evidence"])
    if over_limit and "attachments" not in review:
        review.append("attachments")
    texts = [msg.body_text] + [d.text for d in docs if d.text]
    return Recognition(
        kind=rec["kind"],
        group=rec["group"],
        consumer=rec["consumer"],
        book_entry_at=rec["book_entry_at"],
        origin_unit=rec["origin_unit"],
        attachments=infos,
        text="\n\n".join(t for t in texts if t),
        confidence=rec["confidence"],
        evidence=rec["evidence"],
        needs_review=tuple(review),
        ocr_seconds=ocr_seconds,
        crops=crops,
    )


def _crops(docs: list[_Doc], evidence: dict[str, str]) -> dict[str, FieldCrop]:
    """The piece of the handwritten page each field left unread is written on, for
    the card to show beside its input box: the first such page's head (see head_box)."""
    unread = [f for f, why in evidence.items() if why == ILLEGIBLE and f in CONSUMER_FIELDS]
    if not unread:
        return {}
    from .page import head_box

    for d in docs:
        for page, r in enumerate(d.results):
            box = head_box(r) if illegible(r) else None
            if box:
                return {f: FieldCrop(d.att.sha256, page, box) for f in unread}
    return {}


# --- attachments ---------------------------------------------------------


ILLEGIBLE = "текст скана не распознан: похоже, написан от руки; поля заполняет человек по изображению"


def illegible(r: PageResult) -> bool:
    """A page with writing the OCR could not read with confidence: handwriting,
    a faint or smudged copy. A clean typed page reads at a mean above 80."""
    long = [w for w in r.words if len(w.text) >= 2]
    return r.source == "ocr" and len(long) >= 8 and (r.mean_conf or 0.0) < 60


def _sniff(data: bytes, ctype: str, name: str) -> str:
    head = data[:16]
    if data[:1024].lstrip().startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(
        (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"GIF87a", b"GIF89a", b"BM")
    ) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\x78\x9f\x3e\x22") or name.lower() == "winmail.dat":
        return "tnef"
    if ctype in ("text/plain", "text/html", "text/csv"):
        return "text"
    return "unknown"


def _plan(att: Attachment, limits: Limits) -> _Doc:
    ctype = (att.content_type or "").lower()
    name = att.filename or ""
    if len(att.data) > limits.max_attachment_bytes:
        mb = limits.max_attachment_bytes / (1024 * 1024)
        return _Doc(
            att,
            "skip",
            note=[f"not read: {len(att.data) / 1048576:.1f} MB is over the {mb:g} MB attachment limit"],
        )
    kind = _sniff(att.data, ctype, name)  # the bytes decide, not the declared type
    if kind == "pdf":
        return _plan_pdf(att)
    if kind == "image":
        return _plan_image(att, limits)
    if ctype in _SKIP_TYPES and kind not in ("zip", "tnef"):
        return _Doc(att, "skip", note=[f"not read: {_SKIP_TYPES[ctype]}"])
    if kind == "unknown" and (ctype.startswith("image/") or ctype == "application/pdf"):
        return _Doc(att, "skip", note=[f"not read: the data is not a readable {ctype}"])
    if kind == "zip":
        what = (
            "Office document"
            if re.search(r"\.(docx|xlsx|pptx|odt|ods)$", name, re.I)
            or "officedocument" in ctype
            or "opendocument" in ctype
            else "archive"
        )
        return _Doc(att, "skip", note=[f"not read: {what}"])
    if kind == "tnef":
        return _Doc(att, "skip", note=["not read: winmail.dat (TNEF)"])
    if kind == "text":
        from mailflow.mime import decode_text, html_to_text

        text = decode_text(att.data, None)
        if ctype == "text/html":
            text = html_to_text(text)
        return _Doc(att, "text", text=text.strip())
    return _Doc(att, "skip", note=[f"not read: unsupported type {ctype or 'unknown'}"])


def _plan_pdf(att: Attachment) -> _Doc:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(att.data)
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            return _Doc(att, "skip", note=["not read: the PDF is encrypted (password required)"])
        return _Doc(att, "skip", note=[f"not read: broken PDF ({msg[:120]})"])
    except Exception as exc:
        return _Doc(att, "skip", note=[f"not read: broken PDF ({type(exc).__name__})"])
    try:
        n = len(pdf)
    finally:
        pdf.close()
    if n == 0:
        return _Doc(att, "skip", note=["not read: the PDF has no pages"])
    return _Doc(att, "pdf", pages=n)


def _plan_image(att: Attachment, limits: Limits) -> _Doc:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(att.data))
            w, h = im.size
            frames = getattr(im, "n_frames", 1) or 1
    except Image.DecompressionBombError:
        return _Doc(att, "skip", note=["not read: image exceeds the pixel limit"])
    except Exception as exc:
        return _Doc(att, "skip", note=[f"not read: broken image ({type(exc).__name__})"])
    if w * h > limits.max_pixels_per_page:
        return _Doc(
            att,
            "skip",
            pages=frames,
            note=[f"not read: {w}x{h} px is over the limit of {limits.max_pixels_per_page} px per page"],
        )
    return _Doc(att, "image", pages=frames)


def _info(d: _Doc) -> AttachmentInfo:
    a = d.att
    if d.kind == "skip":
        source = "skipped"
    elif d.kind == "text":
        source = "body" if d.text else "none"
    else:
        read = [r for r in d.results if r.source in ("ocr", "text-layer")]
        if any(r.source == "ocr" for r in read):
            source = "ocr"
        elif read:
            source = "text-layer"
        else:
            source = "none"
        if read and not any(r.words for r in read):
            source = "none"
            d.note.append("no text found")
        elif any(illegible(r) for r in read):
            d.note.append(ILLEGIBLE)
    confs = [r.mean_conf for r in d.results if r.source == "ocr" and r.mean_conf is not None]
    return AttachmentInfo(
        filename=a.filename,
        sha256=a.sha256,
        content_type=a.content_type,
        pages=d.pages,
        ocr_confidence=round(sum(confs) / len(confs), 1) if confs else None,
        text_source=source,
        note="; ".join(dict.fromkeys(d.note)) or None,
    )


# --- fields --------------------------------------------------------------


def _read_fields(msg: ParsedMessage, docs: list[_Doc], *, sender: Person | None, channel: str) -> dict:
    found: dict[str, Found] = {}
    group: Found = Found(None, 0.0, True)
    pair = None
    free: dict[str, Found] | None = None  # the free reader's reading, made once when asked for
    source = ""  # for the card: what the fields were read from
    body = msg.body_text or ""
    labelled = read_labelled(body)
    # a form's fields as "Метка: значение" lines; "Адрес:" and "Тел.:" under a signature are no form
    is_webform = channel == "website" or (
        "last_name" in labelled and sum(k in labelled for k in ("address", "phone")) >= 1
    )
    if is_webform and labelled:
        found.update(labelled)
        source = "поля формы в тексте письма"
        group = Found(2, 1.0) if labelled.get("org_name") and labelled["org_name"].value else Found(1, 1.0)
    else:
        # The readable attachments, in order, as one document: a letter scanned
        # as two JPEGs has its contact phone on the second.
        toks, under = [], {}
        for d in docs:
            if d.kind == "text" and d.text:
                t, u = body_tokens(d.text), {}
            elif d.results:
                t, u = d.tokens()
            else:
                continue
            shift = (toks[-1].line + 2) if toks else 0
            bshift = (toks[-1].block + 2) if toks else 0
            toks.extend(
                Tok(
                    x.text,
                    x.conf,
                    x.line + shift,
                    x.block + bshift,
                    (x.alt[0], x.alt[1] + 100000 * (shift + 1), x.alt[2], x.alt[3]) if x.alt else None,
                    x.check,
                )
                for x in t
            )
            for k, v in u.items():
                under[k] = max(under.get(k, 0.0), v)
        if toks:
            letter = read_letter(toks)
            form = read_form(toks, under)
            if form and not form.get("last_name", Found()).value:
                # a form's labels but not its name: a free letter says "от …" and "адрес:" too
                free = _read_free(msg, docs, sender=sender)
                if free.get("last_name", Found()).value:
                    form = None
            if form and (not letter or not letter.get("outgoing_number", Found()).value):
                found.update(form)
                group = Found(1, 0.95)
                pair = form_pair(toks)
                source = "бланк обращения (Приложение 1–3)"
            elif letter:
                found.update(letter)
                group = Found(2, 0.95)
                source = "письмо организации"
        if not found and not (channel == "email" and _OUT_RE.search(msg.subject or "")):
            free = free if free is not None else _read_free(msg, docs, sender=sender)
            if any(f.value for f in free.values()):
                found.update(free)
                person = any(free[f].value for f in ("last_name", "address"))
                group = Found(1, 0.9) if person else Found(None, 0.0, True)
                source = FREE_SOURCE
        if not found and labelled:
            found.update(labelled)
            group = Found(1, 0.9)
            source = "поля «название: значение» в тексте письма"
        if not found and channel == "email" and _OUT_RE.search(msg.subject or ""):
            # an organisation's letter we could not read: its subject names it
            found.update({f: Found(None, 0.0, True) for f in ("org_name", "phone", "kind")})
            found["outgoing_number"] = Found(None, 0.0, True)
            found["outgoing_date"] = Found(None, 0.0, True)
            group = Found(2, 0.8)
    structured = bool(found)

    # The covering e-mail: its wording of the kind, the consumer's surname,
    # the letter's number in the subject.
    wording = msg.subject + "\n" + ("" if is_webform else body)
    body_kind, _ = kind_in_text(wording)
    kind = found.get("kind", Found(None, 0.0, True))
    if not is_webform and source != FREE_SOURCE:  # the free reader weighed subject and body itself
        said = f"сопроводительное письмо: «{body_kind}»"
        if kind.value and body_kind and kind.value != body_kind:
            kind = Found(None, 0.0, True, f"{source}: «{kind.value}», но {said}")
        elif kind.value and body_kind == kind.value:
            kind = Found(kind.value, max(kind.conf, 0.99), where=f"{source}; совпадает {said}")
        elif not kind.value and body_kind and (pair is None or body_kind in pair):
            kind = Found(body_kind, 0.85 if pair else 0.75, where=said)
    found["kind"] = kind

    if group.value == 1 and not is_webform:
        surname, initial = body_consumer(msg.subject + "\n" + body)
        ln = found.get("last_name")
        if surname and ln and ln.value:
            if _same_surname(ln.value, surname):
                ln.conf = max(ln.conf, 0.97)
                fn = found.get("first_name")
                if initial and fn and fn.value and fn.value[0] != initial:
                    fn.conf, fn.review = 0.0, True
            else:
                ln.conf, ln.review = 0.0, True
    if group.value == 2:
        _check_subject_number(msg.subject, found)
        for f in PERSON_FIELDS + ("patronymic",):
            found.pop(f, None)
    elif group.value == 1:
        for f in ORG_FIELDS:
            found.pop(f, None)

    if channel in ("res", "service_center"):
        origin = Found(sender.unit, 1.0) if sender and sender.unit else Found(None, 0.0, True)
    else:
        origin = Found(None, 1.0)
    if channel == "book":
        at, c, rv = book_time(msg.subject, body, msg.date)
        book = Found(at, c, rv)
    else:
        book = Found(None, 1.0)

    if msg.reply_to and channel == "website" and not (found.get("email") and found["email"].value):
        from .fields import clean_email

        e = clean_email(msg.reply_to)
        if e:
            found["email"] = Found(e, 0.9)
    has_org, has_email = (bool(found.get(n) and found[n].value) for n in ("org_name", "email"))
    if (
        sender is None
        and msg.from_addr
        and group.value != 2
        and not has_org
        and not has_email
        and not _organisation_writes(msg.from_name, body)
    ):
        # a consumer writing from their own mailbox: that address is theirs to be answered at
        # (an organisation's letter is not a person's e-mail)
        from .fields import clean_email

        e = clean_email(msg.from_addr)
        if e:
            found["email"] = Found(e, 0.95)

    values: dict[str, object] = {}
    confidence: dict[str, float] = {}
    evidence: dict[str, str] = {}
    review: list[str] = []
    everything = dict(found, group=group, origin_unit=origin, book_entry_at=book)
    for name in ("kind", "group", "origin_unit", "book_entry_at") + CONSUMER_FIELDS:
        f = everything.get(name)
        if f is None:
            values[name] = None
            continue
        ok = f.value is not None and f.conf >= ACCEPT.get(name, 0.8) and not f.review
        values[name] = f.value if ok else None
        confidence[name] = round(float(f.conf), 3)
        if f.where or (
            source and (f.value is not None or f.review) and name in CONSUMER_FIELDS + ("kind", "group")
        ):
            evidence[name] = f.where or source
        if (f.value is not None and not ok) or (f.value is None and f.review):
            review.append(name)
    unread = any(illegible(r) for d in docs for r in d.results)
    if not structured:  # nothing recognisable was read: all of 1.2's fields need a person
        for name in ("kind", "group", "last_name", "first_name", "address", "phone"):
            if values.get(name) is None and name not in review:
                review.append(name)
    if unread:
        for name in review:
            if values.get(name) is None and name in CONSUMER_FIELDS + ("kind", "group"):
                evidence[name] = ILLEGIBLE
    consumer = Consumer(**{f: values[f] for f in CONSUMER_FIELDS})
    return {
        "kind": values["kind"],
        "group": values["group"],
        "consumer": consumer,
        "origin_unit": values["origin_unit"],
        "book_entry_at": values["book_entry_at"],
        "confidence": confidence,
        "evidence": evidence,
        "_review": review,
    }


def _read_free(msg: ParsedMessage, docs: list[_Doc], *, sender: Person | None) -> dict[str, Found]:
    """A letter or e-mail not on the forms. A chief's covering e-mail is not the
    consumer's words (only its wording of the kind counts); a consumer's own is."""
    from mailflow.resolution_text.quoted import strip_quoted

    from .free import Part, read_free
    from .text import lines_of

    parts: list[Part] = []
    for d in docs:
        if d.kind == "text" and d.text:
            parts.append(Part(tuple(tuple(x) for x in lines_of(body_tokens(d.text))), "текст вложения", True))
        elif d.results:
            toks, _ = d.tokens()
            typed = all(r.source != "ocr" for r in d.results)
            parts.append(Part(tuple(tuple(x) for x in lines_of(toks)), "скан письма", typed))
    body = strip_quoted(msg.body_text or "", keep_signature=True)
    covering = ""
    if sender is None or not parts:
        parts.insert(0, Part(tuple(tuple(x) for x in lines_of(body_tokens(body))), "текст e-mail", True))
    else:
        covering = body
    return read_free(parts, subject=msg.subject or "", from_name=msg.from_name or "", covering=covering)


def _organisation_writes(from_name: str, body: str) -> bool:
    """An organisation's letter (ТОО «…», ИП …) rather than a person's own e-mail."""
    from .fields import ORG_TYPES, OWN_ORGS

    words = from_name.replace("«", " ").replace('"', " ").split()
    if words and words[0].upper() in ORG_TYPES:
        return True
    kinds = "|".join(ORG_TYPES)
    for m in re.finditer(rf"(?<!\w)(?:{kinds})\s*[«\"“]\s*([^»\"”]{{0,60}})", body[:1500]):
        if m.group(1).strip().lower() not in OWN_ORGS:  # "Генеральному директору АО «СЕВКАЗЭНЕРГО»" is us
            return True
    return False


def _same_surname(ocr: str, body: str) -> bool:
    """The form's surname against the covering e-mail's (possibly declined) one."""
    a, b = squash(ocr), squash(body)
    if a == b:
        return True
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n >= max(4, min(len(a), len(b)) - 2) and abs(len(a) - len(b)) <= 2


def _check_subject_number(subject: str, found: dict[str, Found]) -> None:
    """The letter's "Исх. № … от …" against the same words in the subject
    (which may give the number alone)."""
    from .fields import _OUT_NUM_RE, parse_date

    m = _OUT_RE.search(subject or "")
    if m:
        num, date = m.group(1).strip(".,"), parse_date(m.group(2))
    else:
        m = _OUT_NUM_RE.search(subject or "")
        if not m:
            return
        num, date = m.group(1).strip(".,"), None
    on = found.get("outgoing_number")
    od = found.get("outgoing_date")
    if on is not None:
        if on.value is None:
            found["outgoing_number"] = Found(num, 0.9)
        elif squash(on.value) == squash(num):
            on.conf = max(on.conf, 0.99)
        else:
            on.conf, on.review = 0.0, True
    if od is not None and date:
        if od.value is None:
            found["outgoing_date"] = Found(date, 0.9)
        elif od.value == date:
            od.conf = max(od.conf, 0.99)
        else:
            od.conf, od.review = 0.0, True
