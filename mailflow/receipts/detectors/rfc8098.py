"""RFC 8098 message disposition notifications (read receipts).

A multipart/report whose message/disposition-notification (or RFC 6533
message/global-disposition-notification) part carries
``Disposition: manual-action/MDN-sent-manually; displayed``. Exchange and
Outlook leave out Original-Message-ID; the evidence module then falls back to
In-Reply-To/References and the human-readable text.
"""

from __future__ import annotations

import re
from email.message import Message

from .. import _mime
from ..model import ReadReceipt

NAME = "rfc8098"

_MODES = {"manual-action": "manual-action", "automatic-action": "automatic-action"}
_SENDING = {"mdn-sent-manually": "MDN-sent-manually", "mdn-sent-automatically": "MDN-sent-automatically"}


def parse_disposition(value: str) -> tuple[str | None, str | None, str | None, tuple[str, ...]]:
    """'manual-action/MDN-sent-manually; displayed/error' ->
    ('manual-action', 'MDN-sent-manually', 'displayed', ('error',))."""
    mode_part, sep, type_part = value.partition(";")
    if not sep:  # 'displayed' alone, or the parts swapped
        mode_part, type_part = (
            ("", value) if "/" not in value or "action" not in value.lower() else (value, "")
        )
    mode_words = [w.strip() for w in mode_part.split("/")]
    mode = _MODES.get(mode_words[0].lower(), mode_words[0] or None) if mode_words else None
    sending = None
    if len(mode_words) > 1 and mode_words[1]:
        sending = _SENDING.get(mode_words[1].lower(), mode_words[1])
    type_part = re.sub(r"\([^()]*\)", " ", type_part)
    dtype, _, mods = type_part.partition("/")
    dtype = dtype.strip().lower() or None
    modifiers = tuple(m.strip().lower() for m in re.split(r"[,/]", mods) if m.strip())
    return mode, sending, dtype, modifiers


def detect(msg: Message) -> ReadReceipt | None:
    for part in _mime.leaves(msg):
        if _mime.real_type(part) not in _mime.MDN_TYPES:
            continue
        charset = "utf-8" if "global" in _mime.real_type(part) else part.get_content_charset()
        fields: dict[str, str] = {}
        for name, value in _mime.parse_fields(_mime.bytes_to_text(_mime.part_bytes(part), charset)):
            if name:
                fields.setdefault(name, value)
        if "disposition" not in fields:
            continue
        mode, sending, dtype, modifiers = parse_disposition(fields["disposition"])
        if not dtype:
            continue
        return ReadReceipt(
            disposition=dtype,
            mode=mode,
            sending=sending,
            final_recipient=_mime.strip_type(fields.get("final-recipient")),
            original_recipient=_mime.strip_type(fields.get("original-recipient")),
            original_message_id=_mime.first_msgid(fields.get("original-message-id")),
            reporting_ua=_mime.collapse(fields.get("reporting-ua")),
            detector=NAME,
            modifiers=modifiers,
        )
    return None
