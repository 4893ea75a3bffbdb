"""The proof ladder of one forwarded message (regulation 1.12, 2.11), in one place.

queued → accepted (our relay said 250) → relayed (handed on, no report: not
delivery) → delivered (DSN) → displayed (MDN) → replied (the addressee
answered); failed when a report or the relay refused it. Each rung is a
timestamp column of `Delivery`, written by `climb`; `level` says the
highest reached, `weakest_sql` ranks a case's deliveries for reports.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ..models import Delivery

# The rung a delivery stands on: the first of these whose time is set.
PRECEDENCE = ("replied", "displayed", "delivered", "failed", "relayed", "accepted")
QUEUED = "queued"
# Weakest first, to show a case by its worst-proven addressee: failed is worse than queued.
STRENGTH = ("failed", "queued", "accepted", "relayed", "delivered", "displayed", "replied")
LABELS = {
    "queued": "в очереди на отправку",
    "accepted": "принято почтовым сервером",
    "relayed": "передано дальше (без отчёта)",
    "delivered": "доставлено",
    "failed": "не доставлено",
    "displayed": "прочитано",
    "replied": "получен ответ адресата",
}
# What a report's action sets (RFC 3464 actions, RFC 8098 "displayed").
_ACTION_COLUMN = {
    "delivered": "delivered_at",
    "relayed": "relayed_at",
    "expanded": "relayed_at",
    "delayed": "delayed_at",
    "failed": "failed_at",
    "displayed": "displayed_at",
}


def _column(rung: str) -> str:
    return f"{rung}_at"


def level(d: Delivery) -> str:
    """The highest rung reached; `relayed` is not delivery."""
    return next((r for r in PRECEDENCE if getattr(d, _column(r)) is not None), QUEUED)


def label(rung: str | None) -> str:
    return LABELS.get(rung, rung) if rung else "не пересылалось"


def weakest_sql() -> sa.ColumnElement[int]:
    """Per delivery, its rung's index in STRENGTH (the same precedence as `level`)."""
    return sa.case(
        *((getattr(Delivery, _column(r)).is_not(None), STRENGTH.index(r)) for r in PRECEDENCE),
        else_=STRENGTH.index(QUEUED),
    )


def climb(d: Delivery, action: str | None, status: str | None, now: dt.datetime) -> None:
    """A report says `action`: its rung gets its first time; a DSN's status code is kept."""
    attr = _ACTION_COLUMN.get(action or "")
    if attr and getattr(d, attr) is None:
        setattr(d, attr, now)
    if status and action in ("delivered", "relayed", "expanded", "delayed", "failed"):
        d.status_code = status[:32]
