"""Worded like a bounce or a read receipt, but no detector could read it: not
proof of anything, so the clerk looks at it (never registered as an appeal)."""

from __future__ import annotations

import re

from ...values import Disposition, ParsedMessage
from ..message import Journal, Message
from .document import is_document

NAME = "unreadable_report"
DISPOSITION = Disposition.REVIEW

_DAEMON_FROM = re.compile(r"^(mailer-daemon|mailerdaemon|mail-daemon|mail\.daemon)@", re.I)
_BOUNCE_FROM = re.compile(
    r"^(mailer-daemon|mailerdaemon|mail-daemon|postmaster|"
    r"mail-?delivery(-?system)?|bounces?)@",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|non-?deliver|delivery (status|failure|has failed|failed|"
    r"notification|problem|report|delayed)|returned mail|returning message|failure notice|"
    r"mail delivery (failed|failure|system)|delivery status notification|could not send message|"
    r"mail system error|message not delivered|delayed mail|mail failure|unzustellbar|"
    r"недоставлен|не доставлен|недоставк|не может быть доставлен|не удалось доставить|"
    r"ошибка доставки|возвращ[её]нное (письмо|сообщение)|жеткізілмеді",
    re.I,
)
_BOUNCE_BODY = re.compile(
    r"this is the mail system at host|created automatically by mail delivery software|"
    r"this is the qmail-send program|i'm afraid i wasn't able to deliver|"
    r"delivery to the following recipient(s)? failed|delivery has failed to these recipients|"
    r"the following message to <[^>]*> was undeliverable|"
    r"could not be delivered to one or more recipients|"
    r"письмо создано автоматически|сообщение не (может быть|было) доставлено|"
    r"не удалось доставить",
    re.I,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|пересл|пересылка|fw)\s*:", re.I)
_MDN_SUBJECT = re.compile(r"^\s*(not read|read|прочитано|прочтено|не прочитано|оқылды)\s*:", re.I)
_MDN_BODY = re.compile(
    r"was read on|was deleted without being read|"
    r"(было|был[оа]?)\s+(прочитано|прочтено)|удалено без прочтения",
    re.I,
)


def check(m: Message, journal: Journal) -> str | None:
    why = _dsn(m.parsed) or _mdn(m.parsed)
    return f"{why} that could not be read" if why else None


def _dsn(msg: ParsedMessage) -> str | None:
    if msg.report_type in ("delivery-status", "global-delivery-status"):
        return "delivery status notification"
    if "x-failed-recipients" in msg.header_names:
        return "bounce (X-Failed-Recipients)"
    if _DAEMON_FROM.match(msg.from_addr or ""):
        return "bounce from the mailer daemon"
    if not _BOUNCE_SUBJECT.search(msg.subject) or _FORWARD_SUBJECT.match(msg.subject):
        return None
    if not msg.from_addr or _BOUNCE_FROM.match(msg.from_addr):
        return "bounce (plain text)"
    if _BOUNCE_BODY.search(msg.body_text[:10000]):
        return "bounce (plain text, mail system wording)"
    return None


def _mdn(msg: ParsedMessage) -> str | None:
    if msg.report_type in ("disposition-notification", "global-disposition-notification"):
        return "read receipt (message disposition notification)"
    if (
        _MDN_SUBJECT.match(msg.subject)
        and _MDN_BODY.search(msg.body_text[:5000])
        and not any(is_document(a) for a in msg.attachments)
    ):
        return "read receipt (plain text)"
    return None
