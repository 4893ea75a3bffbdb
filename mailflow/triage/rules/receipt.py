"""A delivery report (DSN) or read receipt (MDN) that a detector in
receipts/detectors reads: a new report format needs only its detector."""

from __future__ import annotations

from ... import receipts
from ...values import Disposition
from ..message import Hit, Journal, Message

NAME = "receipt"
DISPOSITION = Disposition.DSN  # or MDN, as the report is


def check(m: Message, journal: Journal) -> Hit | None:
    found = receipts.parse(m.raw)
    if found is None:
        return None
    mdn = found.kind == "mdn"
    what = "read receipt" if mdn else "delivery status notification"
    return Hit(
        f"{what} ({found.report.detector})",
        receipt=found,
        disposition=Disposition.MDN if mdn else Disposition.DSN,
    )
