"""Receipts: delivery reports (DSN, RFC 3464) and read receipts (MDN, RFC 8098).

Pure parsing: raw bytes in, typed facts out. ``parse(raw)`` tries each
detector in ``detectors.DETECTORS`` and returns the first report found, with
the evidence that ties it to the outbound message; matching that evidence to
a delivery is someone else's job.

    >>> receipt = parse(raw)
    >>> receipt.kind, receipt.report.recipients[0].action, receipt.evidence.original_message_ids
    ('dsn', 'failed', ('<id@host>',))
"""

from __future__ import annotations

import logging

from . import _mime
from .detectors import DETECTORS, rfc3464
from .evidence import extract
from .model import ACTIONS, DISPOSITIONS, DeliveryReport, Evidence, ReadReceipt, Receipt, RecipientStatus

__all__ = [
    "parse",
    "detect",
    "ACTIONS",
    "DISPOSITIONS",
    "DeliveryReport",
    "Evidence",
    "ReadReceipt",
    "Receipt",
    "RecipientStatus",
    "DETECTORS",
]

log = logging.getLogger(__name__)


def detect(msg) -> DeliveryReport | ReadReceipt | None:
    """Run the detectors on a message parsed by ``_mime.parse_bytes``; first hit wins.

    A detector that raises is logged and counts as no answer.
    """
    for detector in DETECTORS:
        try:
            found = detector.detect(msg)
        except Exception:  # noqa: BLE001 - one bad detector must not hide the others
            log.debug("receipt detector %s failed", detector.__name__, exc_info=True)
            continue
        if found is not None:
            return found
    return None


def parse(raw: bytes) -> Receipt | None:
    """The receipt in ``raw`` (a whole message), or None when it is not one. Never raises."""
    try:
        msg = _mime.parse_bytes(bytes(raw))
    except Exception:  # noqa: BLE001
        return None
    report = detect(msg)
    if report is None:
        return None
    dsn_ids: tuple[str, ...] = ()
    if isinstance(report, DeliveryReport):
        try:
            dsn_ids = rfc3464.original_message_ids(msg)
        except Exception:  # noqa: BLE001
            dsn_ids = ()
    try:
        evidence = extract(msg, report, dsn_ids)
    except Exception:  # noqa: BLE001 - a report without evidence is still a report
        log.debug("receipt evidence failed", exc_info=True)
        evidence = Evidence(
            envelope_id=getattr(report, "envelope_id", None),
            original_message_ids=(),
            in_reply_to=None,
            references=(),
            original_subject=None,
            original_from=None,
            original_to=(),
            original_date=None,
        )
    kind = "mdn" if isinstance(report, ReadReceipt) else "dsn"
    return Receipt(kind=kind, report=report, evidence=evidence)
