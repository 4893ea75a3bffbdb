"""Postfix notices read from their text alone (no delivery-status part:
old Postfix, or a report whose DSN part was lost on the way).

    This is the mail system at host p351355.pool.example.ne.jp.
    ...
    <r@p351355.pool.example.ne.jp> (expanded from <kijitora@example.org>): user
        unknown. Command output: ...

Failure, delay warning ("THIS IS A WARNING ONLY", "could not be delivered
for more than") and success notices ("successfully delivered"): per recipient
'delivered to mailbox/command/... service' is ``delivered``, 'alias expanded'
is ``expanded``, 'delivery via host: 250 ...' is ``relayed``.
"""

from __future__ import annotations

import re
from email.message import Message

from . import _text

NAME = "postfix_text"

_INTRO = re.compile(
    r"This is the (?:mail system|Postfix program) at host ([A-Za-z0-9.-]+?)\.?\s*$", re.I | re.M
)
_RECIPIENT = re.compile(
    r"^<(?P<addr>" + _text.ADDRESS + r")>(?:\s*\(expanded from <(?P<orig>[^>]+)>\))?"
    r":\s*(?P<rest>.*)$"
)


def _success_action(block: str) -> str:
    if re.search(r"alias expanded|expanded", block, re.I):
        return "expanded"
    if re.search(r"delivered (to|via \S+ service)|delivered to (mailbox|command|file|maildir)", block, re.I):
        return "delivered"
    return "relayed"


def detect(msg: Message):
    text = _text.notice(msg)
    intro = _INTRO.search(text)
    if not intro or not _text.is_automated(msg):
        return None
    if re.search(r"successfully delivered", text, re.I):
        kind = "success"
    elif re.search(
        r"THIS IS A WARNING ONLY|could not be delivered for more than|"
        r"will be retried until",
        text,
        re.I,
    ):
        kind = "delayed"
    else:
        kind = "failed"
    recipients = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = _RECIPIENT.match(line)
        if not m:
            continue
        block = [m.group("rest")]
        for nxt in lines[i + 1 :]:
            if not nxt.strip() or not nxt[0].isspace():
                break
            block.append(nxt.strip())
        body = " ".join(block)
        action = _success_action(body) if kind == "success" else kind
        recipients.append(_text.recipient(m.group("addr"), body, action, original=m.group("orig")))
    return _text.report(recipients, NAME, intro.group(1))
