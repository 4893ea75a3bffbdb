"""Old Gmail plain-text bounces (before Gmail sent RFC 3464 reports).

    Delivery to the following recipient failed permanently:

         userunknown@example.jp

    Technical details of permanent failure:
    ...
    The error that the other server returned was:
    550 5.1.1 <userunknown@example.jp>... User Unknown

    ----- Original message -----

"has been delayed" / "temporary failure" gives Action delayed.
"""

from __future__ import annotations

import re
from email.message import Message

from . import _text

NAME = "gmail_text"

_INTRO = re.compile(
    r"Delivery to the following recipients? (?:failed permanently|has been delayed|"
    r"failed temporarily|failed)\s*:?",
    re.I,
)
_ADDRESS_LINE = re.compile(r"^\s+<?(" + _text.ADDRESS + r")>?\s*$")
_ERROR = re.compile(r"The error that the other server returned was:\s*\n(.*?)(?:\n\s*\n|\Z)", re.I | re.S)


def detect(msg: Message):
    text = _text.notice(msg)
    intro = _INTRO.search(text)
    if not intro or not _text.is_automated(msg):
        return None
    delayed = bool(
        re.search(r"has been delayed|temporary failure|failed temporarily|will be retried", text, re.I)
    )
    action = "delayed" if delayed else "failed"
    addresses = []
    for line in text[intro.end() :].split("\n"):
        m = _ADDRESS_LINE.match(line)
        if m:
            addresses.append(m.group(1))
        elif line.strip() and addresses:
            break  # the address list is over
    error = _ERROR.search(text)
    details = error.group(1) if error else None
    if details is None:
        tech = re.search(r"Technical details of \w+ failure:\s*\n(.*?)(?:\n\s*\n|\Z)", text, re.I | re.S)
        details = tech.group(1) if tech else None
    recipients = [_text.recipient(a, details, action) for a in addresses]
    if not recipients:
        recipients = [_text.recipient(a, details, action) for a in _text.failed_recipients_header(msg)]
    return _text.report(recipients, NAME)
