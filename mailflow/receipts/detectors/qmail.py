"""qmail (and netqmail, qmail-ldap, vpopmail) plain-text bounces.

    Hi. This is the qmail-send program at mx4.example.jp.
    I'm afraid I wasn't able to deliver your message to the following addresses.
    This is a permanent error; I've given up. Sorry it didn't work out.

    <kijitora@example.ne.jp>:
    ... remote host 192.0.2.32 said: 550 Unknown user ... (#5.5.0)

    --- Below this line is a copy of the message.

qmail's own code '(#5.5.0)' is the status; qmail never sends delay
warnings, so every recipient here has failed.
"""

from __future__ import annotations

import re
from email.message import Message

from . import _text

NAME = "qmail"

_INTRO = re.compile(
    r"This is the qmail-send program|I'm afraid I wasn't able to deliver your "
    r"message|qmail-send program at",
    re.I,
)
_RECIPIENT = re.compile(r"^<(?P<addr>" + _text.ADDRESS + r")>:\s*(?P<rest>.*)$")
_QMAIL_CODE = re.compile(r"\(#([245]\.\d{1,3}\.\d{1,3})\)")
_HOST = re.compile(r"qmail-send program at ([A-Za-z0-9.-]+?)\.?\s*$", re.I | re.M)


def detect(msg: Message):
    text = _text.notice(msg)
    if not _INTRO.search(text) or not _text.is_automated(msg):
        return None
    recipients = []
    for addr, block in _text.indented_blocks(text, _RECIPIENT):
        code = _QMAIL_CODE.search(block)
        recipients.append(_text.recipient(addr, block, "failed", status=code.group(1) if code else None))
    host = _HOST.search(text)
    return _text.report(recipients, NAME, host.group(1) if host else None)
