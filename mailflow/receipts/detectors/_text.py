"""Shared pieces of the plain-text bounce detectors (no delivery-status part)."""

from __future__ import annotations

import re
from email.message import Message

from .. import _mime
from ..evidence import split_copy
from ..model import DeliveryReport, RecipientStatus

_DAEMON = re.compile(
    r"^(mailer-daemon|mailerdaemon|mail-daemon|mail\.daemon|postmaster|"
    r"mail-?delivery(-?(system|subsystem))?|mdaemon|bounces?|nobody)@",
    re.I,
)
_FORWARD = re.compile(r"^\s*(fwd?|fw|пересл|пересылка|tr|wg)\s*:", re.I)

# An address in running text. The look-behind makes a match start only where a
# run of address characters starts, so a long run without '@' is scanned once.
ADDRESS = (
    r"(?<![^\s<>\"'(),;:@\[\]])[^\s<>\"'(),;:@\[\]]+"
    r"@[A-Za-z0-9\[\]][A-Za-z0-9.\-\[\]:]*[A-Za-z0-9\]]"
)

DELAY_WORDS = re.compile(
    r"has not yet been delivered|has been delayed|delivery (is |has been )?delayed|"
    r"will (keep|continue) trying|will be retried|still (trying|undelivered)|"
    r"warning message only|this is a warning|задерж|будут продолжены|повторн\w+ попытк",
    re.I,
)
PERMANENT_WORDS = re.compile(
    r"permanent(ly)? (error|failure|fatal)|failed permanently|permanent fatal|"
    r"постоянн\w+ ошибк",
    re.I,
)


def is_automated(msg: Message) -> bool:
    """Sent by a mail system, not forwarded by a person."""
    subject = _mime.header(msg, "Subject") or ""
    if _FORWARD.match(subject):
        return False
    sender = _mime.address(_mime.header(msg, "From")) or ""
    if _DAEMON.match(sender):
        return True
    return_path = _mime.header(msg, "Return-Path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        return True
    if msg.get("X-Failed-Recipients"):
        return True
    auto = (_mime.header(msg, "Auto-Submitted") or "no").split(";")[0].strip().lower()
    return auto not in ("", "no")


def from_mail_system(msg: Message) -> bool:
    """Stricter than is_automated: a daemon/postmaster sender, a null Return-Path
    or X-Failed-Recipients (Auto-Submitted alone also marks web forms and
    vacation replies)."""
    if _FORWARD.match(_mime.header(msg, "Subject") or ""):
        return False
    if _DAEMON.match(_mime.address(_mime.header(msg, "From")) or ""):
        return True
    return_path = _mime.header(msg, "Return-Path")
    return (return_path is not None and return_path.strip() in ("<>", "")) or bool(
        msg.get("X-Failed-Recipients")
    )


def notice(msg: Message) -> str:
    """The notification text without the quoted copy of the original."""
    text, _ = split_copy(_mime.notification_text(msg))
    return text


def failed_recipients_header(msg: Message) -> tuple[str, ...]:
    values = msg.get_all("X-Failed-Recipients") or []
    return _mime.addresses(", ".join(_mime.decode_words(v) for v in values))


def remote_host(text: str | None) -> str | None:
    for pattern in (
        r"\bhost:?\s+([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})\b",
        r"\bremote host\s+([A-Za-z0-9][A-Za-z0-9.:-]*[A-Za-z0-9])\s+said",
        r"\bConnected to\s+([A-Za-z0-9][A-Za-z0-9.:-]*[A-Za-z0-9])\b",
        r"\bhost\s+(\d{1,3}(?:\.\d{1,3}){3})\b",
        r"\bdelivery via\s+([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})\[",
        r"\bServer at\s+([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}) returned",
    ):
        m = re.search(pattern, text or "", re.I)
        if m:
            return m.group(1).rstrip(".")
    return None


def recipient(
    address: str, diagnostic: str | None, action: str, original: str | None = None, status: str | None = None
) -> RecipientStatus:
    diagnostic = _mime.collapse(diagnostic)
    status = status or _mime.find_status(diagnostic)
    return RecipientStatus(
        final_recipient=address.strip().strip("<>").rstrip(":").strip(),
        original_recipient=original,
        action=action,
        status=status,
        diagnostic=diagnostic,
        remote_mta=remote_host(diagnostic),
        permanent=_mime.permanent_for(action, status),
    )


def dedupe(recipients: list[RecipientStatus]) -> tuple[RecipientStatus, ...]:
    """One entry per address (case-insensitive), the first with a status preferred."""
    chosen: dict[str, RecipientStatus] = {}
    for r in recipients:
        key = (r.final_recipient or "").lower()
        old = chosen.get(key)
        if old is None or (old.status is None and r.status is not None):
            chosen[key] = r
    return tuple(chosen.values())


def report(
    recipients: list[RecipientStatus], detector: str, reporting_mta: str | None = None
) -> DeliveryReport | None:
    recipients = [r for r in recipients if r.final_recipient and "@" in r.final_recipient]
    if not recipients:
        return None
    return DeliveryReport(
        recipients=dedupe(recipients),
        envelope_id=None,
        reporting_mta=reporting_mta,
        arrival_date=None,
        detector=detector,
    )


def indented_blocks(text: str, address_line: re.Pattern[str]):
    """Yield (address, block text) for each line matching ``address_line`` and
    the more-indented (or, with ``colon`` style, following non-blank) lines under it."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = address_line.match(lines[i])
        if not m:
            i += 1
            continue
        indent = len(lines[i]) - len(lines[i].lstrip())
        body = [m.group("rest")] if "rest" in m.groupdict() and m.group("rest") else []
        j = i + 1
        while j < len(lines):
            line = lines[j]
            if not line.strip():
                break
            if len(line) - len(line.lstrip()) <= indent and address_line.match(line):
                break
            body.append(line.strip())
            j += 1
        yield m.group("addr"), "\n".join(body)
        i = j
