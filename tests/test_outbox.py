"""The outbox sender: retries with backoff, never drops, marks permanent refusals."""

from __future__ import annotations

import datetime as dt

import aiosmtplib
import sqlalchemy as sa
from sqlmodel import Session, select

from mailflow import db, outbox
from mailflow.models import Event, Outbox


class FlakyTransport:
    """Fake at the SMTP seam: fails `n` times with `exc`, then accepts."""

    def __init__(self, n: int, exc: Exception):
        self.n, self.exc, self.sent = n, exc, []

    def send(self, sender, recipients, raw, envelope_id=None):
        if self.n > 0:
            self.n -= 1
            raise self.exc
        self.sent.append((sender, tuple(recipients), raw))
        return outbox.SendResult(250, "2.0.0 Ok: queued as T1", "T1")


def _engine(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'j.db'}")
    db.migrate(engine)
    return engine


def _queue(engine, key="talon:1:a@example.kz"):
    out = outbox.compose(
        sender="kanc@sevkaz.example",
        to=("a@example.kz",),
        subject="[ВХ-2026-000001] Талон",
        body="Входящий номер ВХ-2026-000001",
        kind="talon",
        key=key,
        number="ВХ-2026-000001",
    )
    with Session(engine) as s, s.begin():
        outbox.queue(s, out)
    return out


def _make_due(engine):
    with engine.begin() as c:
        c.execute(sa.update(Outbox).values(next_attempt_at=dt.datetime.now(dt.UTC)))


def test_temporary_failures_back_off_then_send(tmp_path):
    engine = _engine(tmp_path)
    _queue(engine)
    t = FlakyTransport(2, ConnectionRefusedError("relay down"))
    sender = outbox.Sender(engine, t, "kanc@sevkaz.example", retry_base=60)
    assert sender.flush() == 0
    with Session(engine) as s:
        row = s.exec(select(Outbox)).one()
        assert row.status == "pending" and row.attempts == 1 and "relay down" in row.last_error
        wait = row.next_attempt_at - dt.datetime.now(dt.UTC)
        assert dt.timedelta(seconds=40) < wait < dt.timedelta(seconds=80)
    assert sender.flush() == 0  # not due yet: nothing tried
    assert t.n == 1
    _make_due(engine)
    assert sender.flush() == 0
    _make_due(engine)
    assert sender.flush() == 1
    with Session(engine) as s:
        row = s.exec(select(Outbox)).one()
        assert row.status == "sent" and row.attempts == 3 and row.smtp_reply.startswith("250")
    [(frm, to, raw)] = t.sent
    assert to == ("a@example.kz",)
    import email
    from email import policy

    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "[ВХ-2026-000001] Талон" and msg["Auto-Submitted"] == "auto-generated"


def test_permanent_refusal_is_kept_marked_and_journalled(tmp_path):
    engine = _engine(tmp_path)
    _queue(engine)
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "5.1.1 no such user", "a@example.kz")]
    )
    sender = outbox.Sender(engine, FlakyTransport(1, refused), "kanc@sevkaz.example")
    assert sender.flush() == 0
    with Session(engine) as s:
        row = s.exec(select(Outbox)).one()
        assert row.status == "failed" and "no such user" in row.last_error
        ev = s.exec(select(Event).where(Event.type == "outbox_failed")).one()
        assert str(row.id) in ev.data


def test_a_cause_cannot_queue_its_mail_twice(tmp_path):
    import pytest
    from sqlalchemy.exc import IntegrityError

    engine = _engine(tmp_path)
    _queue(engine)
    with pytest.raises(IntegrityError):
        _queue(engine)


def test_two_senders_do_not_both_send_a_row(tmp_path):
    engine = _engine(tmp_path)
    for i in range(5):
        _queue(engine, key=f"talon:{i}:a@example.kz")
    t = FlakyTransport(0, None)
    a = outbox.Sender(engine, t, "kanc@sevkaz.example")
    b = outbox.Sender(engine, t, "kanc@sevkaz.example")
    ids = a._due(100)
    assert all(a._claim(i) for i in ids)
    assert not any(b._claim(i) for i in ids)  # leased by a
    assert b.flush() == 0


def test_lease_of_a_killed_sender_is_taken_over(tmp_path):
    import socket

    engine = _engine(tmp_path)
    _queue(engine)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    with engine.begin() as c:  # leased by a process on this host that no longer exists
        c.execute(
            sa.update(Outbox).values(next_attempt_at=later, claimed_by=f"{socket.gethostname()}:999999:12345")
        )
    t = FlakyTransport(0, None)
    assert outbox.Sender(engine, t, "kanc@sevkaz.example").flush() == 1
    with engine.begin() as c:  # ...but a lease held by another host is respected
        c.execute(
            sa.update(Outbox).values(status="pending", next_attempt_at=later, claimed_by="otherhost:1:1")
        )
    assert outbox.Sender(engine, t, "kanc@sevkaz.example").flush() == 0
