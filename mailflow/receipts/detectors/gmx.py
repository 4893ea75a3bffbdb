"""GMX / WEB.DE (1&1 mail) plain-text bounces.

    A message that you sent could not be delivered to one or more of
    its recipients. This is a permanent error. The following address(es)
    failed:

    snaerituhaeirns@gmail.com:
    SMTP error from remote server for RCPT TO command, host: ... reason: 550-5.1.1 ...

    --- The header of the original message is following. ---

Exim-like wording, but the address sits at the start of the line with a colon.
"""

from __future__ import annotations

import re
from email.message import Message

from .. import _mime
from . import _text

NAME = "gmx"

_MARKER = re.compile(r"The header of the original message is following", re.I)
_FROM = re.compile(r"@(gmx\.[a-z.]+|web\.de|mail\.com|1und1\.de|ionos\.[a-z.]+)$", re.I)
_RECIPIENT = re.compile(r"^<?(?P<addr>" + _text.ADDRESS + r")>?:\s*(?P<rest>.*)$")


def detect(msg: Message):
    full = _mime.notification_text(msg)
    sender = _mime.address(_mime.header(msg, "From")) or ""
    if not (_MARKER.search(full) or _FROM.search(sender)) or not _text.is_automated(msg):
        return None
    text = _text.notice(msg)
    if not re.search(r"could not be delivered|has not yet been delivered|failed:", text, re.I):
        return None
    action = "delayed" if re.search(r"has not yet been delivered|will continue", text, re.I) else "failed"
    recipients = [
        _text.recipient(addr, block, action) for addr, block in _text.indented_blocks(text, _RECIPIENT)
    ]
    return _text.report(recipients, NAME)
