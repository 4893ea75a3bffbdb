"""How the installation is doing, for the operator: `mailflow status [--json]` and the
workplace's Prometheus `/metrics`.

With daemons on several machines, each mailbox says which daemon reads it now
(its lease's holder) and until when, unless renewed.

Read from the journal and the home only (no mail server is contacted, so the
command answers while a server is down): what waits in each Maildir, each
queue, the outbox, the last sweep, the chain's head and its last checkpoint. Counting is bounded
work on indexed columns, so a scrape every few seconds costs little.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from . import leases
from .checkpoint import last_made
from .config import Config
from .mailbox import open_mailbox
from .models import ChainHead, Inbound, MailboxLease, Outbox
from .queues import waiting

SWEEP_MARK = Path("state") / "last-sweep"  # under the home: touched by each finished sweep


@dataclass(frozen=True)
class MailboxState:
    name: str
    kind: str  # maildir | imap | imaps
    waiting: int | None  # messages not yet handled; None: not counted (a server's mailbox)
    reader: str | None = None  # the daemon whose lease on it is current (leases.node_id)
    reader_until: dt.datetime | None = None  # when that lease runs out unless renewed


@dataclass(frozen=True)
class Status:
    at: dt.datetime
    mailboxes: tuple[MailboxState, ...]
    queues: dict[str, int]
    outbox_pending: int
    outbox_failed: int
    last_inbound_at: dt.datetime | None
    last_sweep_at: dt.datetime | None
    chain_events: int
    chain_head: str
    checkpoint_at: dt.datetime | None = None  # the last signed checkpoint (checkpoint.py)

    def as_json(self) -> dict[str, object]:
        out = asdict(self)
        for key in ("at", "last_inbound_at", "last_sweep_at", "checkpoint_at"):
            v = getattr(self, key)
            out[key] = v.isoformat() if v else None
        for box in out["mailboxes"]:
            box["reader_until"] = box["reader_until"].isoformat() if box["reader_until"] else None
        return out


def mark_sweep(home: Path) -> None:
    """The sweeps ran to the end now (read by `status` as the last sweep's time)."""
    path = home / SWEEP_MARK
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch()


def read(cfg: Config, engine: sa.Engine) -> Status:
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as s:
        clock = leases.db_now(s)  # the clock the leases are kept by
        held = {
            r.mailbox: r
            for r in s.exec(
                select(MailboxLease).where(col(MailboxLease.mailbox).in_([m.name for m in cfg.mailboxes]))
            ).all()
            if r.expires_at > clock
        }
    boxes = []
    for m in cfg.mailboxes:
        counted = None
        if m.endpoint.scheme == "maildir" and Path(m.endpoint.path).exists():
            counted = len(open_mailbox(m).pending())
        lease = held.get(m.name)
        reader, until = (lease.holder, lease.expires_at) if lease else (None, None)
        boxes.append(MailboxState(m.name, m.endpoint.scheme, counted, reader, until))
    with Session(engine) as s:
        queues = {q.value: n for q, n in waiting(s).items()}
        by_status = dict(
            s.exec(
                select(Outbox.status, func.count())
                .where(col(Outbox.status).in_(("pending", "failed")))
                .group_by(Outbox.status)
            ).all()
        )
        last = s.exec(select(Inbound.fetched_at).order_by(col(Inbound.id).desc()).limit(1)).first()
        head = s.get(ChainHead, 1)
        checkpoint_at = last_made(s)
    mark = cfg.home / SWEEP_MARK
    swept = dt.datetime.fromtimestamp(mark.stat().st_mtime, dt.UTC) if mark.exists() else None
    return Status(
        at=now,
        mailboxes=tuple(boxes),
        queues=queues,
        outbox_pending=by_status.get("pending", 0),
        outbox_failed=by_status.get("failed", 0),
        last_inbound_at=last,
        last_sweep_at=swept,
        chain_events=head.last_event_id if head else 0,
        chain_head=head.last_hash if head else "",
        checkpoint_at=checkpoint_at,
    )


def prometheus(st: Status) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    lines: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
        lines.extend((f"# HELP {name} {help_}", f"# TYPE {name} {kind}"))
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    metric(
        "mailflow_mailbox_waiting",
        "gauge",
        "Messages waiting in a Maildir mailbox.",
        [(f'{{mailbox="{_label(m.name)}"}}', m.waiting) for m in st.mailboxes if m.waiting is not None],
    )
    metric(
        "mailflow_mailbox_lease_expiry_timestamp_seconds",
        "gauge",
        "When the lease of the daemon reading a mailbox runs out unless renewed (absent: nobody reads it).",
        [
            (f'{{mailbox="{_label(m.name)}",holder="{_label(m.reader)}"}}', m.reader_until.timestamp())
            for m in st.mailboxes
            if m.reader is not None and m.reader_until is not None
        ],
    )
    metric(
        "mailflow_queue_items",
        "gauge",
        "Items waiting for a person in each queue.",
        [(f'{{queue="{q}"}}', n) for q, n in st.queues.items()],
    )
    metric(
        "mailflow_outbox_messages",
        "gauge",
        "Outgoing mail not sent yet.",
        [('{status="pending"}', st.outbox_pending), ('{status="failed"}', st.outbox_failed)],
    )
    metric("mailflow_chain_events", "counter", "Events in the hash-chained journal.", [("", st.chain_events)])
    for name, at, help_ in (
        ("mailflow_last_inbound_timestamp_seconds", st.last_inbound_at, "When the last message was fetched."),
        ("mailflow_last_sweep_timestamp_seconds", st.last_sweep_at, "When the sweeps last ran to the end."),
        (
            "mailflow_last_checkpoint_timestamp_seconds",
            st.checkpoint_at,
            "When the chain's head was last signed.",
        ),
    ):
        if at is not None:
            metric(name, "gauge", help_, [("", at.timestamp())])
    return "\n".join(lines) + "\n"


def _label(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
