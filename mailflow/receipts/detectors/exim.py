"""Exim plain-text bounces and delay warnings, Mail.ru's Russian variant included.

    This message was created automatically by mail delivery software.

    A message that you sent could not be delivered to one or more of its
    recipients. This is a permanent error. The following address(es) failed:

      kijitora@example.ed.jp
        SMTP error from remote mail server after RCPT TO:<...>:
        host mx.example.jp [192.0.2.20]: 550 5.7.0 ...

    ------ This is a copy of the message, including all the headers. ------

Mail.ru puts a Russian paragraph ("К сожалению, Ваше письмо не может быть
доставлено ...") with the same address blocks before the English one; the
address is reported once. A delay warning ("has not yet been delivered ...
Delivery attempts will continue") gives Action delayed.
"""

from __future__ import annotations

import re
from email.message import Message

from . import _text

NAME = "exim"

_INTRO = re.compile(
    r"This message was created automatically by mail delivery software|"
    r"письмо создано автоматически|"
    r"(Ваше|ваше) (письмо|сообщение) не может быть доставлено",
    re.I,
)
_RECIPIENT = re.compile(r"^[ \t]{1,8}<?(?P<addr>" + _text.ADDRESS + r")>?:?[ \t]*$")
_GENERATED = re.compile(r"\(?generated (?:from|by) <?(" + _text.ADDRESS + r")>?\)?", re.I)


def detect(msg: Message):
    text = _text.notice(msg)
    if not _INTRO.search(text) or not _text.is_automated(msg):
        return None
    delayed = bool(
        re.search(
            r"has not yet been delivered|Delivery attempts will continue|"
            r"ещё не доставлено|еще не доставлено",
            text,
            re.I,
        )
    )
    action = "delayed" if delayed else "failed"
    recipients = []
    for addr, block in _text.indented_blocks(text, _RECIPIENT):
        gen = _GENERATED.search(block)
        recipients.append(_text.recipient(addr, block, action, original=gen.group(1) if gen else None))
    if not recipients:
        recipients = [_text.recipient(a, None, action) for a in _text.failed_recipients_header(msg)]
    return _text.report(recipients, NAME)
