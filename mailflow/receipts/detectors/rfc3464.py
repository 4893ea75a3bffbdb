"""RFC 3464 delivery status notifications (and RFC 6533 global ones).

A multipart/report whose message/delivery-status (or
message/global-delivery-status) part holds one per-message field group and
one group per recipient. The groups are read by hand, because real reports
bend the format: extra blank lines between groups, none at all between the
per-message and per-recipient fields, fields in any order, missing Status or
Final-Recipient, a Status with a comment after the code.
"""

from __future__ import annotations

from email.message import Message

from .. import _mime
from ..model import DeliveryReport, RecipientStatus

NAME = "rfc3464"

PER_MESSAGE = frozenset(
    {
        "original-envelope-id",
        "reporting-mta",
        "dsn-gateway",
        "received-from-mta",
        "arrival-date",
        "x-original-message-id",
    }
)
RECIPIENT_KEYS = frozenset({"final-recipient", "original-recipient", "action", "status"})


def dsn_parts(msg: Message) -> list[Message]:
    parts = [p for p in _mime.leaves(msg) if _mime.real_type(p) in _mime.DSN_TYPES]
    if parts:
        return parts
    # Mislabelled: a text part of a delivery-status report that reads like one.
    if msg.get_content_type() == "multipart/report" and (msg.get_param("report-type") or "").lower().endswith(
        "delivery-status"
    ):
        for part in _mime.leaves(msg):
            if part.get_content_maintype() != "text" or part is msg:
                continue
            names = {n for n, _ in _mime.parse_fields(_mime.part_text(part)) if n}
            if "action" in names and ("final-recipient" in names or "status" in names):
                parts.append(part)
    return parts


def field_groups(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(per-message fields, per-recipient groups), names lower-case.

    Per-message fields are recognised by name wherever they stand; a blank
    line or a field repeated within a group starts the next group; groups
    without any of Final-Recipient, Original-Recipient, Action, Status are
    dropped (vendor X- fields between groups, stray lines).
    """
    per_message: dict[str, str] = {}
    groups: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for name, value in _mime.parse_fields(text):
        if name is None:
            if current:
                groups.append(current)
                current = {}
            continue
        if name in PER_MESSAGE:
            per_message.setdefault(name, value)
            continue
        if name in current:
            groups.append(current)
            current = {}
        current[name] = value
    if current:
        groups.append(current)
    return per_message, [g for g in groups if RECIPIENT_KEYS & g.keys()]


def _action(value: str | None) -> str | None:
    if not value:
        return None
    words = value.replace("(", " ").split()
    return words[0].lower().rstrip(";,.") if words else None


def recipient(group: dict[str, str]) -> RecipientStatus:
    action = _action(group.get("action"))
    diagnostic = _mime.collapse(group.get("diagnostic-code"))
    status = _mime.find_status(group.get("status")) or _mime.find_status(diagnostic)
    return RecipientStatus(
        final_recipient=_mime.strip_type(group.get("final-recipient")),
        original_recipient=_mime.strip_type(group.get("original-recipient")),
        action=action,
        status=status,
        diagnostic=diagnostic,
        remote_mta=_mime.strip_type(group.get("remote-mta")),
        permanent=_mime.permanent_for(action, status),
    )


def read(msg: Message) -> tuple[dict[str, str], list[RecipientStatus]]:
    per_message: dict[str, str] = {}
    recipients: list[RecipientStatus] = []
    for part in dsn_parts(msg):
        charset = "utf-8" if "global" in _mime.real_type(part) else part.get_content_charset()
        pm, groups = field_groups(_mime.bytes_to_text(_mime.part_bytes(part), charset))
        for key, value in pm.items():
            per_message.setdefault(key, value)
        recipients.extend(recipient(g) for g in groups)
    return per_message, recipients


def original_message_ids(msg: Message) -> tuple[str, ...]:
    """X-Original-Message-ID of the per-message group (Gmail), if any."""
    per_message, _ = read(msg)
    return _mime.msgids(per_message.get("x-original-message-id"))


def detect(msg: Message) -> DeliveryReport | None:
    per_message, recipients = read(msg)
    if not recipients:
        return None
    return DeliveryReport(
        recipients=tuple(recipients),
        envelope_id=(per_message.get("original-envelope-id") or "").strip() or None,
        reporting_mta=_mime.strip_type(per_message.get("reporting-mta")),
        arrival_date=_mime.parse_date(per_message.get("arrival-date")),
        detector=NAME,
    )
