"""Last resort for plain-text bounces no other detector knows, in English or
Russian: a message from a mail system (daemon or postmaster sender, null
Return-Path or X-Failed-Recipients; Auto-Submitted alone is not enough, web
forms send it too) whose subject or text says delivery failed (or is delayed). Recipients come from X-Failed-Recipients, else from
the addresses in the notice (before the copy of the original), leaving out
the report's own sender and addressee and mail-system addresses.
"""

from __future__ import annotations

import re
from email.message import Message

from .. import _mime
from ..evidence import returned_headers
from . import _text

NAME = "generic_text"

_SAYS_BOUNCE = re.compile(
    r"undeliver|undelivered|non-?deliver|delivery (status|failure|has failed|failed|problem|"
    r"report|delayed)|returned mail|returning message|failure notice|mail delivery failed|"
    r"could not be delivered|couldn't be delivered|delivery failed|unable to deliver|"
    r"message not delivered|mail failure|unzustellbar|"
    r"недоставлен|не доставлен|недоставк|не может быть доставлен|не удалось доставить|"
    r"ошибка доставки|возвращ[её]нное (письмо|сообщение)|доставка задерживается|жеткізілмеді",
    re.I,
)
_SYSTEM = re.compile(
    r"^(mailer-daemon|mailerdaemon|postmaster|mail-daemon|noreply|no-reply|"
    r"bounces?|root|abuse|hostmaster)@",
    re.I,
)
_ADDRESS_RE = re.compile(_text.ADDRESS)


def detect(msg: Message):
    if not _text.from_mail_system(msg):
        return None
    subject = _mime.header(msg, "Subject") or ""
    text = _text.notice(msg)
    if not (_SAYS_BOUNCE.search(subject) or _SAYS_BOUNCE.search(text[:5000])):
        return None
    delayed = bool(_text.DELAY_WORDS.search(text)) and not _text.PERMANENT_WORDS.search(text)
    action = "delayed" if delayed else "failed"
    addresses = list(_text.failed_recipients_header(msg))
    if not addresses:
        exclude = {
            a.lower()
            for a in _mime.addresses(
                ", ".join(
                    filter(
                        None,
                        (
                            _mime.header(msg, "From"),
                            _mime.header(msg, "To"),
                            _mime.header(msg, "Cc"),
                            _mime.header(msg, "Sender"),
                        ),
                    )
                )
            )
        }
        original = returned_headers(msg)
        if original is not None:
            exclude |= {a.lower() for a in _mime.addresses(_mime.header(original, "From"))}
        for found in _ADDRESS_RE.findall(text):
            found = found.strip(".")
            if found.lower() not in exclude and not _SYSTEM.match(found):
                addresses.append(found)
        addresses = list(dict.fromkeys(addresses))
        if len(addresses) > 20:
            return None  # a list of addresses is not a bounce notice
    paragraphs = re.split(r"\n\s*\n", text)
    recipients = []
    for addr in addresses:
        at = next((i for i, p in enumerate(paragraphs) if addr in p), None)
        said = "\n".join(paragraphs[at : at + 2]) if at is not None else ""
        recipients.append(_text.recipient(addr, said[:600], action, status=_mime.find_status(said)))
    return _text.report(recipients, NAME)
