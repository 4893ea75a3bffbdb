"""Triage: decide what a message is. Pure: no I/O, no database.

Order matters: reports and loops are recognised before anything could be
mistaken for an appeal, so a bounce or an auto-reply is never registered and
never answered. Each detector is a small function answering "why", or None
(after flufl.bounce's one-detector-per-format layout).
"""
from __future__ import annotations

import re

from .rules import Person, Rules
from .values import Attachment, Disposition, ParsedMessage, Triage

INTAKE_ROLES = frozenset({"res_chief", "ruse_chief", "service_center_chief", "clerk",
                          "website_form", "contact_center"})
DOCUMENT_TYPES = ("application/pdf", "image/")
# A stranger's picture smaller than this is a logo, an icon or a tracking pixel
# of a newsletter, not a scan: a scanned page is tens of kilobytes at least.
MIN_SCAN_BYTES = 8 * 1024
_DOCUMENT_EXTRA = ("application/msword", "application/rtf", "text/rtf",
                   "application/vnd.openxmlformats-officedocument.wordprocessingml",
                   "application/vnd.oasis.opendocument.text")
_DOCUMENT_NAME = re.compile(r"\.(pdf|jpe?g|png|tiff?|bmp|gif|heic|webp|docx?|rtf|odt)$", re.I)

_DAEMON_FROM = re.compile(r"^(mailer-daemon|mailerdaemon|mail-daemon|mail\.daemon)@", re.I)
_BOUNCE_FROM = re.compile(r"^(mailer-daemon|mailerdaemon|mail-daemon|postmaster|"
                          r"mail-?delivery(-?system)?|bounces?)@", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|non-?deliver|delivery (status|failure|has failed|failed|"
    r"notification|problem|report|delayed)|returned mail|returning message|failure notice|"
    r"mail delivery (failed|failure|system)|delivery status notification|could not send message|"
    r"mail system error|message not delivered|delayed mail|mail failure|unzustellbar|"
    r"недоставлен|не доставлен|недоставк|не может быть доставлен|не удалось доставить|"
    r"ошибка доставки|возвращ[её]нное (письмо|сообщение)|жеткізілмеді", re.I)
_BOUNCE_BODY = re.compile(
    r"this is the mail system at host|created automatically by mail delivery software|"
    r"this is the qmail-send program|i'm afraid i wasn't able to deliver|"
    r"delivery to the following recipient(s)? failed|delivery has failed to these recipients|"
    r"the following message to <[^>]*> was undeliverable|"
    r"could not be delivered to one or more recipients|"
    r"письмо создано автоматически|сообщение не (может быть|было) доставлено|"
    r"не удалось доставить", re.I)
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|пересл|пересылка|fw)\s*:", re.I)
_MDN_SUBJECT = re.compile(r"^\s*(not read|read|прочитано|прочтено|не прочитано|оқылды)\s*:", re.I)
_MDN_BODY = re.compile(r"was read on|was deleted without being read|"
                       r"(было|был[оа]?)\s+(прочитано|прочтено)|удалено без прочтения", re.I)
_AUTO_SUBJECT = re.compile(
    r"^\s*((re|ответ|aw)\s*:\s*)?(auto(matic)?[ -]?(reply|response|answer)|autoreply|autoresponse|"
    r"out of (the )?office|автоответ|автоматический ответ|автоматическое уведомление|"
    r"нет на месте|в отпуске|автожауап|автоматты жауап)", re.I)
_APPEAL_WORDS = re.compile(
    r"жалоб|претензи|заявлени|обращени|отзыв|предложени|прошу|просим|исх\.?\s*№|"
    r"шағым|арыз|өтініш|пікір|ұсыныс", re.I)


def classify(msg: ParsedMessage, sender: Person | None, rules: Rules,
             own_addresses: frozenset[str]) -> Triage:
    dsn = _dsn_reason(msg)
    if dsn:
        return Triage(Disposition.DSN, dsn)
    mdn = _mdn_reason(msg)
    if mdn:
        return Triage(Disposition.MDN, mdn)
    if msg.from_addr in own_addresses or "x-mailflow-kind" in msg.header_names:
        return Triage(Disposition.LOOP, "our own mail came back")
    if msg.received_count > rules.max_received_headers:
        return Triage(Disposition.LOOP, f"{msg.received_count} Received headers: a mail loop")
    auto = _auto_reason(msg)
    if auto:
        return Triage(Disposition.AUTO_REPLY, auto)
    if sender and sender.roles & INTAKE_ROLES:
        return Triage(Disposition.APPEAL, f"from {', '.join(sorted(sender.roles & INTAKE_ROLES))}")
    if sender:
        return Triage(Disposition.REVIEW, f"from staff ({', '.join(sorted(sender.roles))}) "
                                          "but not a reply mailflow understands")
    if not msg.from_addr:
        return Triage(Disposition.REVIEW, "no readable sender address")
    if any(is_document(a) for a in msg.attachments):
        return Triage(Disposition.APPEAL, "a document from an outside sender")
    if _APPEAL_WORDS.search(f"{msg.subject}\n{msg.body_text[:5000]}"):
        return Triage(Disposition.APPEAL, "an appeal written in the message")
    return Triage(Disposition.REVIEW, "neither a document nor the wording of an appeal")


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
    if ctype in ("application/octet-stream", "application/x-download", "binary/octet-stream",
                 "application/download", "application/force-download"):
        return bool(_DOCUMENT_NAME.search(a.filename)) and len(a.data) >= 1024
    return False


# -- detectors: each returns why, or None -----------------------------------


def _dsn_reason(msg: ParsedMessage) -> str | None:
    """Delivery status notifications, with or without a delivery-status part."""
    if msg.report_type in ("delivery-status", "global-delivery-status"):
        return "delivery status notification"
    if "x-failed-recipients" in msg.header_names:
        return "bounce (X-Failed-Recipients)"
    if _DAEMON_FROM.match(msg.from_addr or ""):
        return "bounce from the mailer daemon"
    subject_says = bool(_BOUNCE_SUBJECT.search(msg.subject)) and \
        not _FORWARD_SUBJECT.match(msg.subject)
    if not subject_says:
        return None
    if not msg.from_addr or _BOUNCE_FROM.match(msg.from_addr):
        return "bounce (plain text)"  # qmail, old Gmail, Exim, Mail.ru, GMX
    if _BOUNCE_BODY.search(msg.body_text[:10000]):
        return "bounce (plain text, mail system wording)"
    return None


def _mdn_reason(msg: ParsedMessage) -> str | None:
    if msg.report_type in ("disposition-notification", "global-disposition-notification"):
        return "read receipt (message disposition notification)"
    if _MDN_SUBJECT.match(msg.subject) and _MDN_BODY.search(msg.body_text[:5000]) \
            and not any(is_document(a) for a in msg.attachments):
        return "read receipt (plain text)"
    return None


def _auto_reason(msg: ParsedMessage) -> str | None:
    if msg.auto_submitted and msg.auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {msg.auto_submitted}"
    if msg.precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {msg.precedence}"
    for name in ("x-autoreply", "x-autorespond", "x-autogenerated", "x-auto-reply"):
        if name in msg.header_names:
            return f"{name} header"
    if "list-id" in msg.header_names or "list-unsubscribe" in msg.header_names:
        return "mailing-list message"
    if _AUTO_SUBJECT.search(msg.subject):
        return "auto-reply subject"
    return None
