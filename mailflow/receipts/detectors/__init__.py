"""One small detector per report format (after flufl.bounce).

Each module has ``NAME`` and ``detect(msg) -> DeliveryReport | ReadReceipt |
None``; ``msg`` is the report parsed by ``mailflow.receipts._mime.parse_bytes``.
``DETECTORS`` is the order they are tried in: the machine-readable formats
first, then the plain-text bounces of particular mail systems, then the
generic fallback.
"""

from __future__ import annotations

from . import (
    exchange_text,
    exim,
    generic_text,
    gmail_text,
    gmx,
    outlook_text,
    postfix_text,
    qmail,
    rfc3464,
    rfc8098,
)

DETECTORS = (
    rfc8098,
    rfc3464,
    outlook_text,
    qmail,
    gmx,
    exim,
    gmail_text,
    postfix_text,
    exchange_text,
    generic_text,
)

__all__ = ["DETECTORS"]
