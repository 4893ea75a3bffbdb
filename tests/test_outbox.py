"""The outbox sender: retries with backoff, never drops, marks permanent refusals."""

from __future__ import annotations

import datetime as dt
import time

import aiosmtplib
import pytest
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
    sender.paused_until = 0.0  # as if the backoff had passed
    assert sender.flush() == 0
    _make_due(engine)
    sender.paused_until = 0.0
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
    assert len(a._claim_batch(100)) == 5  # the sender's own batch claim, as flush makes it
    assert b._claim_batch(100) == []  # leased by a
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


@pytest.mark.parametrize(
    "exc",
    [
        aiosmtplib.SMTPAuthenticationError(535, "5.7.8 Error: authentication failed"),
        aiosmtplib.SMTPSenderRefused(553, "5.7.1 sender not owned by user", "kanc@sevkaz.example"),
        aiosmtplib.SMTPConnectError("connection refused"),
        aiosmtplib.SMTPServerDisconnected("lost"),
        aiosmtplib.SMTPHeloError(501, "bad helo"),
        ConnectionRefusedError("relay down"),
    ],
)
def test_a_relay_that_refuses_us_marks_nothing_failed_and_is_told_once(tmp_path, caplog, exc, monkeypatch):
    import types

    clock = [1000.0]  # the sender's pause, on a clock of the test's (a loaded machine's is not)
    monkeypatch.setattr(
        outbox, "time", types.SimpleNamespace(monotonic=lambda: clock[0], time_ns=time.time_ns)
    )
    engine = _engine(tmp_path)
    for i in range(3):
        _queue(engine, key=f"talon:{i}:a@example.kz")
    t = FlakyTransport(2, exc)
    sender = outbox.Sender(engine, t, "kanc@sevkaz.example", retry_base=0.05)
    with caplog.at_level("ERROR", logger="mailflow.outbox"):
        assert sender.flush() == 0
        with Session(engine) as s:
            rows = s.exec(select(Outbox).order_by(Outbox.id)).all()
            assert [r.status for r in rows] == ["pending"] * 3
            assert [r.attempts for r in rows] == [1, 0, 0]  # one try, then the sender pauses
            assert s.exec(select(Event).where(Event.type == "outbox_failed")).all() == []
        assert sender.flush() == 0  # paused: nothing tried
        assert t.n == 1
        clock[0] += 0.06
        _make_due(engine)
        assert sender.flush() == 0
        clock[0] += 0.12
        _make_due(engine)
        assert sender.flush() == 3
    assert len([r for r in caplog.records if r.levelname == "ERROR"]) == 1


def test_a_message_the_relay_refuses_for_its_content_is_failed_for_good(tmp_path):
    engine = _engine(tmp_path)
    _queue(engine)
    sender = outbox.Sender(engine, FlakyTransport(1, aiosmtplib.SMTPDataError(554, "5.7.1 spam")), "k@x.kz")
    assert sender.flush() == 0
    with Session(engine) as s:
        assert s.exec(select(Outbox)).one().status == "failed"


def test_failed_mail_is_queued_again_or_cancelled_with_a_reason(tmp_path):
    from mailflow.archive import FileArchive
    from mailflow.services import NotFound, Refused, Services
    from tests.support import load_rules

    engine = _engine(tmp_path)
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@example.kz")]
    )
    for i in range(3):
        _queue(engine, key=f"talon:{i}:a@example.kz")
    t = FlakyTransport(1, refused)
    sender = outbox.Sender(engine, t, "kanc@sevkaz.example")
    assert sender.flush() == 2  # the first is refused for good, the others go
    sv = Services(engine, load_rules(), FileArchive(tmp_path / "archive"), "kanc@sevkaz.example")
    with pytest.raises(NotFound):
        sv.outbox_retry([2], by="operator")  # sent, not failed: nothing changes
    assert sv.outbox_retry(None, by="operator") == 1
    assert sender.flush() == 1
    with Session(engine) as s:
        assert [r.status for r in s.exec(select(Outbox).order_by(Outbox.id))] == ["sent"] * 3
        assert len(s.exec(select(Event).where(Event.type == "outbox_retried")).all()) == 1
    _queue(engine, key="talon:9:a@example.kz")
    with pytest.raises(Refused):
        sv.outbox_cancel([4], reason=" ", by="operator")
    with pytest.raises(NotFound):
        sv.outbox_cancel([4, 1], reason="дубль", by="operator")  # 1 was sent: all or nothing
    assert sv.outbox_cancel([4], reason="дубль", by="operator") == 1
    assert sender.flush() == 0
    with Session(engine) as s:
        assert s.get(Outbox, 4).status == "cancelled"
        [ev] = s.exec(select(Event).where(Event.type == "outbox_cancelled")).all()
        assert "дубль" in ev.data


def _own_address() -> str | None:
    """An address of this machine that is not loopback (the route out), if it has one."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: only the route is chosen
            return s.getsockname()[0]
        except OSError:
            return None


def test_no_password_in_clear_to_a_relay_that_is_not_loopback(make_smtp_server):
    """The relay offers AUTH but no STARTTLS, on an address that is not loopback: the
    password is not sent, the relay is treated as unusable (not this message's fault),
    and allow_plaintext lets it go."""
    import dataclasses

    from mailflow.config import SmtpConfig

    host = _own_address()
    if host is None or host.startswith("127."):
        pytest.skip("this machine has no address but loopback")
    server = make_smtp_server(host=host, dovecot=None)
    cfg = server.smtp_config()
    transport = outbox.SmtpTransport(cfg)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as refused:
        transport.send(cfg.sender, ["a@example.kz"], b"Subject: x\r\n\r\nx\r\n")
    assert refused.value.code == 530 and "password is not sent in clear" in str(refused.value)
    assert not outbox._permanent(refused.value) and server.received == []
    allowed = SmtpConfig(dataclasses.replace(cfg.endpoint, allow_plaintext=True), cfg.sender)
    outbox.SmtpTransport(allowed).send(cfg.sender, ["a@example.kz"], b"Subject: x\r\n\r\nx\r\n")
    assert len(server.received) == 1
