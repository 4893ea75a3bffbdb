"""A real Postfix in front of Dovecot's LMTP: real success, failure and delay DSNs.

These tests pin down what mailflow will receive from a real MTA: the shape of
Postfix's RFC 3464 reports (Action, Status, Original-Envelope-Id, returned
headers), when they come, and what survives the trip (Cyrillic, SMTPUTF8).
They skip when Postfix is not installed or the tests do not run as root.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import email.utils
import re
import secrets
import smtplib
import socket
import time
from email.message import EmailMessage

import pytest
from servers import postfix_unusable

_UNUSABLE = postfix_unusable()
pytestmark = pytest.mark.skipif(
    _UNUSABLE is not None, reason=f"{_UNUSABLE}; skipping tests that need a real Postfix MTA"
)

STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
SUBJECT = "Жалоба: отключение электроэнергии / Шағым"
BODY = "Прошу разобраться с отключением.\nӨтініш, тексеріңіз.\n"


# ---------------------------------------------------------------- helpers


def _message(
    sender: str,
    to: str,
    *,
    subject: str = "Resolution 01-02/117",
    body: str = "Please see the resolution.\n",
    cte: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<mf.{secrets.token_hex(8)}@mailflow.test>"  # short: never folded
    msg["Date"] = email.utils.formatdate(localtime=False)
    if cte:
        msg.set_content(body, cte=cte)
    else:
        msg.set_content(body)
    return msg


def _envid() -> str:
    """Mixed case and a dot: Postfix must hand it back exactly (xtext)."""
    return f"Case-{secrets.token_hex(5)}.x"


def _send(
    postfix,
    sender: str,
    recipients: list[str],
    raw: bytes,
    *,
    ret: str | None = "HDRS",
    envid: str | None = None,
    notify: str | list[str | None] | None = "SUCCESS,FAILURE,DELAY",
    orcpt: bool = True,
    mail_options: tuple[str, ...] = (),
) -> str:
    """One SMTP transaction through Postfix; returns the queue id from the DATA reply.

    `notify` is one NOTIFY value for every recipient, or one per recipient
    (None: no NOTIFY parameter).
    """
    notifies = notify if isinstance(notify, list) else [notify] * len(recipients)
    with smtplib.SMTP(postfix.host, postfix.port, timeout=10) as smtp:
        smtp.ehlo("client.mailflow.test")
        opts = list(mail_options)
        if ret:
            opts.append(f"RET={ret}")
        if envid:
            opts.append(f"ENVID={envid}")
        code, reply = smtp.mail(sender, opts)
        assert code == 250, reply
        for rcpt, n in zip(recipients, notifies):
            ropts = ([f"NOTIFY={n}"] if n else []) + ([f"ORCPT=rfc822;{rcpt}"] if orcpt else [])
            code, reply = smtp.rcpt(rcpt, ropts)
            assert code == 250, (rcpt, code, reply)
        code, reply = smtp.data(raw)
        assert code == 250, reply
    m = re.search(rb"queued as ([0-9A-Za-z]+)", reply)
    assert m, reply
    return m.group(1).decode()


class Dsn:
    """An RFC 3464 report, parsed: per-message fields, per-recipient fields, returned part."""

    def __init__(self, raw: bytes):
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert self.msg.get_content_type() == "multipart/report", self.msg["Content-Type"]
        assert self.msg.get_param("report-type") == "delivery-status"
        self.parts = list(self.msg.iter_parts())
        # message/global-delivery-status (RFC 6533) when the original was SMTPUTF8
        status = next(p for p in self.parts if p.get_content_type() in STATUS_TYPES)
        self.status_type = status.get_content_type()
        # Field blocks parted by blank lines; the email package splits only
        # message/delivery-status into sub-messages, so read the text itself.
        text = status.as_bytes(policy=email.policy.compat32).decode("utf-8", "replace")
        text = text.replace("\r\n", "\n").split("\n\n", 1)[1]  # past the part's header
        blocks = [
            email.parser.HeaderParser().parsestr(b.strip("\n") + "\n")
            for b in re.split(r"\n\s*\n", text)
            if b.strip()
        ]
        self.fields = {k.lower(): " ".join(v.split()) for k, v in blocks[0].items()}
        self.recipients = [{k.lower(): " ".join(v.split()) for k, v in b.items()} for b in blocks[1:]]
        self.returned = self.parts[-1] if len(self.parts) > 2 else None

    def recipient(self, address: str) -> dict[str, str]:
        for r in self.recipients:
            if r["final-recipient"].split(";", 1)[1].strip().lower() == address.lower():
                return r
        raise KeyError(f"{address} not in {self.recipients}")

    @property
    def actions(self) -> set[str]:
        return {r["action"] for r in self.recipients}

    def returned_headers(self) -> EmailMessage:
        """The returned message (or its header only): from text/rfc822-headers,
        message/rfc822, or (SMTPUTF8 originals) message/global-headers."""
        assert self.returned is not None
        payload = self.returned.get_payload()
        if isinstance(payload, list):  # parsed as an embedded message
            return payload[0]
        raw = self.returned.get_payload(decode=True) or b""
        return email.message_from_bytes(raw, policy=email.policy.default)


def _text(s: str) -> str:
    """Line ends as Python writes them (IMAP gives the message's CRLF back)."""
    return s.replace("\r\n", "\n")


def _reports(dovecot, user: str, count: int, timeout: float = 10.0) -> list[Dsn]:
    msgs = dovecot.wait_for(user, lambda m: len(m) >= count, timeout=timeout)
    assert len(msgs) == count, f"{len(msgs)} messages for {user}, expected {count}"
    return [Dsn(raw) for raw in msgs]


@pytest.fixture
def sender(mail_user) -> str:
    """The sending mailbox (mailflow's own address in production)."""
    return mail_user


@pytest.fixture
def addressee(dovecot, mail_user) -> str:
    return dovecot.add_user(mail_user.split("@")[0] + "-to")


def _unknown(dovecot) -> str:
    return f"nobody-{secrets.token_hex(4)}@{dovecot.domain}"


# ---------------------------------------------------------------- the server


def test_postfix_is_private_and_offers_dsn(postfix, dovecot):
    assert postfix.running
    assert not str(postfix.config_dir).startswith("/etc")
    assert postfix.postconf("queue_directory")["queue_directory"] == str(postfix.queue_dir)
    settings = postfix.postconf("virtual_transport", "mydestination", "relayhost", "inet_interfaces")
    assert settings["virtual_transport"] == f"lmtp:inet:[{dovecot.host}]:{dovecot.lmtp_port}"
    assert settings["mydestination"] == "" and settings["relayhost"] == ""
    assert settings["inet_interfaces"] == "loopback-only"
    with smtplib.SMTP(postfix.host, postfix.port, timeout=10) as smtp:
        code, banner = smtp.ehlo("client.mailflow.test")
        assert code == 250 and banner.startswith(b"mx.mailflow.test")
        for ext in ("dsn", "8bitmime", "smtputf8", "enhancedstatuscodes", "pipelining"):
            assert smtp.has_extn(ext), ext
        assert not smtp.has_extn("auth")  # loopback is trusted; no AUTH
    assert postfix.smtp_config("mailflow@mailflow.test").endpoint.port == postfix.port


def test_restart_keeps_port_and_queue_dir(make_postfix):
    mta = make_postfix()
    port, pid = mta.port, mta.pid
    t = time.monotonic()
    mta.stop()
    stopped = time.monotonic() - t
    assert not mta.running and stopped < 3
    with pytest.raises(OSError):
        socket.create_connection((mta.host, port), timeout=1).close()
    mta.start()
    assert mta.port == port and mta.pid != pid and mta.running
    socket.create_connection((mta.host, port), timeout=2).close()


# ---------------------------------------------------------------- success


def test_success_dsn_says_delivered(postfix, dovecot, sender, addressee):
    msg = _message(sender, addressee)
    envid = _envid()
    queue_id = _send(
        postfix, sender, [addressee], msg.as_bytes(policy=email.policy.SMTP), ret="HDRS", envid=envid
    )

    (got,) = dovecot.wait_for(addressee, timeout=10)
    delivered = email.message_from_bytes(got, policy=email.policy.default)
    assert delivered["Message-ID"] == msg["Message-ID"]
    assert delivered["Return-Path"] == f"<{sender}>"
    assert _text(delivered.get_content()) == msg.get_content()

    (dsn,) = _reports(dovecot, sender, 1)
    assert dsn.msg["Subject"] == "Successful Mail Delivery Report"
    assert dsn.msg["From"].addresses[0].addr_spec == "MAILER-DAEMON@mx.mailflow.test"
    assert dsn.msg["Return-Path"] == "<>"  # DSNs come from the null sender
    assert dsn.msg["Auto-Submitted"] == "auto-replied"
    assert dsn.fields["reporting-mta"] == "dns; mx.mailflow.test"
    assert dsn.fields["original-envelope-id"] == envid
    assert dsn.fields["x-postfix-queue-id"] == queue_id
    rcpt = dsn.recipient(addressee)
    assert rcpt["action"] == "delivered"  # not "relayed": the lmtp transport is final
    assert rcpt["status"] == "2.0.0"
    assert rcpt["original-recipient"] == f"rfc822;{addressee}"
    assert rcpt["remote-mta"] == f"dns; {dovecot.host}"
    assert rcpt["diagnostic-code"].startswith(f"smtp; 250 2.0.0 <{addressee}>")
    assert b"relayed" not in dsn.raw
    assert dsn.returned.get_content_type() == "text/rfc822-headers"  # RET=HDRS
    returned = dsn.returned_headers()
    assert returned["Message-ID"] == msg["Message-ID"]
    assert returned["Subject"] == msg["Subject"]
    postfix.wait_queue_empty(address=sender)


def test_no_success_dsn_unless_asked(postfix, dovecot, sender, addressee):
    """Default NOTIFY (none given) and NOTIFY=FAILURE: delivered, and no report."""
    other = dovecot.add_user(addressee.split("@")[0] + "2")
    msg = _message(sender, addressee)
    _send(postfix, sender, [addressee, other], msg.as_bytes(), envid=_envid(), notify=[None, "FAILURE,DELAY"])
    dovecot.wait_for(addressee)
    dovecot.wait_for(other)
    postfix.wait_queue_empty(address=sender)
    assert dovecot.fetch_all(sender) == []


# ---------------------------------------------------------------- failure


@pytest.mark.parametrize("ret", ["HDRS", "FULL"])
def test_unknown_user_gets_a_failure_dsn(postfix, dovecot, sender, ret):
    """Postfix accepts any address of the domain at RCPT (Dovecot is the judge);
    Dovecot's LMTP answers 550 5.1.1 "User doesn't exist" to RCPT, and Postfix
    returns exactly that code as Status: 5.1.1 (bad destination mailbox)."""
    nobody = _unknown(dovecot)
    msg = _message(sender, nobody)
    envid = _envid()
    queue_id = _send(postfix, sender, [nobody], msg.as_bytes(), ret=ret, envid=envid)

    (dsn,) = _reports(dovecot, sender, 1)
    assert dsn.msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert dsn.fields["original-envelope-id"] == envid
    assert dsn.fields["x-postfix-queue-id"] == queue_id
    rcpt = dsn.recipient(nobody)
    assert rcpt["action"] == "failed"
    assert rcpt["status"] == "5.1.1"
    assert rcpt["remote-mta"] == f"dns; {dovecot.host}"
    assert rcpt["diagnostic-code"].startswith(f"smtp; 550 5.1.1 <{nobody}> User doesn't exist")
    assert rcpt["original-recipient"] == f"rfc822;{nobody}"
    if ret == "HDRS":
        assert dsn.returned.get_content_type() == "text/rfc822-headers"
        assert "Please see the resolution" not in dsn.returned.get_content()
    else:
        assert dsn.returned.get_content_type() == "message/rfc822"
        assert _text(dsn.returned_headers().get_content()).rstrip() == msg.get_content().rstrip()
    assert dsn.returned_headers()["Message-ID"] == msg["Message-ID"]
    assert "status=bounced" in postfix.maillog_text()


def test_mixed_recipients_get_one_report_each(postfix, dovecot, sender, addressee):
    """One transaction, three recipients: delivered (SUCCESS asked), unknown
    (FAILURE asked) and unknown with NOTIFY=NEVER: two reports, none for the third."""
    nobody, silent = _unknown(dovecot), _unknown(dovecot)
    msg = _message(sender, addressee)
    envid = _envid()
    _send(
        postfix,
        sender,
        [addressee, nobody, silent],
        msg.as_bytes(),
        envid=envid,
        notify=["SUCCESS,FAILURE", "SUCCESS,FAILURE,DELAY", "NEVER"],
    )
    dovecot.wait_for(addressee)
    postfix.wait_queue_empty(address=sender)
    reports = _reports(dovecot, sender, 2)
    by_action = {next(iter(r.actions)): r for r in reports}
    assert set(by_action) == {"delivered", "failed"}
    assert [r["final-recipient"] for r in by_action["delivered"].recipients] == [f"rfc822; {addressee}"]
    assert [r["final-recipient"] for r in by_action["failed"].recipients] == [f"rfc822; {nobody}"]
    for r in reports:
        assert r.fields["original-envelope-id"] == envid
        assert silent not in r.raw.decode()


def test_outside_mail_is_bounced_not_sent(postfix, dovecot, sender):
    """Other domains never leave the machine: accepted, then failed at once (5.7.1)."""
    outside = "chief@res.example.kz"
    _send(postfix, sender, [outside], _message(sender, outside).as_bytes(), envid=_envid())
    (dsn,) = _reports(dovecot, sender, 1)
    rcpt = dsn.recipient(outside)
    assert rcpt["action"] == "failed" and rcpt["status"] == "5.7.1"
    assert "no outside mail in tests" in rcpt["diagnostic-code"]
    assert "remote-mta" not in rcpt


def test_outside_mail_can_be_refused_at_rcpt(make_postfix, sender):
    mta = make_postfix(outside="refuse")
    with smtplib.SMTP(mta.host, mta.port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail(sender)
        code, reply = smtp.rcpt("chief@res.example.kz")
    assert code == 554 and b"5.7.1" in reply and b"Relay access denied" in reply


# ---------------------------------------------------------------- delay


def test_deferred_then_delivered(postfix, dovecot, sender, addressee):
    """A mailbox that answers "try later": a "delayed" report at once (the
    warning time is 1 s), then "delivered" when the mailbox is back."""
    postfix.defer(addressee, "4.2.1 mailbox busy (test)")
    try:
        msg = _message(sender, addressee)
        envid = _envid()
        _send(postfix, sender, [addressee], msg.as_bytes(), envid=envid)
        (delayed,) = _reports(dovecot, sender, 1)
        assert delayed.msg["Subject"] == "Delayed Mail (still being retried)"
        assert delayed.fields["original-envelope-id"] == envid
        rcpt = delayed.recipient(addressee)
        assert rcpt["action"] == "delayed"
        assert rcpt["status"] == "4.2.1"
        assert rcpt["diagnostic-code"] == "X-Postfix; mailbox busy (test)"
        assert "will-retry-until" in rcpt
        assert delayed.returned_headers()["Message-ID"] == msg["Message-ID"]
        (queued,) = postfix.queue(sender)
        assert queued["queue_name"] in ("deferred", "active")
        assert dovecot.fetch_all(addressee) == []
    finally:
        postfix.undefer(addressee)  # and flush
    dovecot.wait_for(addressee)
    reports = _reports(dovecot, sender, 2)
    assert reports[1].recipient(addressee)["action"] == "delivered"
    assert reports[1].fields["original-envelope-id"] == envid
    postfix.wait_queue_empty(address=sender)


def test_deferred_until_expiry_fails_with_the_last_temporary_status(make_postfix, dovecot, sender, addressee):
    """After maximal_queue_lifetime Postfix gives up: Action "failed", but Status
    stays the last 4.x.x. A reader must trust Action, not the status class."""
    mta = make_postfix(queue_lifetime="2s")
    mta.defer(addressee)
    envid = _envid()
    t = time.monotonic()
    _send(mta, sender, [addressee], _message(sender, addressee).as_bytes(), envid=envid)
    delayed, failed = _reports(dovecot, sender, 2, timeout=15)
    assert delayed.recipient(addressee)["action"] == "delayed"
    rcpt = failed.recipient(addressee)
    assert rcpt["action"] == "failed" and rcpt["status"] == "4.2.1"
    assert failed.fields["original-envelope-id"] == envid
    assert time.monotonic() - t < 10
    assert "status=expired, returned to sender" in mta.maillog_text()
    assert mta.queue_empty()


# ---------------------------------------------------------------- Cyrillic


def test_cyrillic_subject_and_8bit_body_survive(postfix, dovecot, sender, addressee):
    """RFC 2047 subject, UTF-8 body sent as 8bit with BODY=8BITMIME: byte-exact."""
    msg = _message(sender, addressee, subject=SUBJECT, body=BODY, cte="8bit")
    raw = msg.as_bytes(policy=email.policy.SMTP)
    assert raw.isascii() is False and b"=?utf-8?" in raw
    _send(
        postfix, sender, [addressee], raw, ret=None, notify=None, orcpt=False, mail_options=("BODY=8BITMIME",)
    )
    (got,) = dovecot.wait_for(addressee)
    delivered = email.message_from_bytes(got, policy=email.policy.default)
    assert delivered["Subject"] == SUBJECT
    assert _text(delivered.get_content()) == BODY
    assert raw.split(b"\r\n\r\n", 1)[1] in got  # the body's bytes, unchanged


def test_smtputf8_requested_with_ascii_headers_is_delivered(postfix, dovecot, sender, addressee):
    """SMTPUTF8 asked but not needed (headers are RFC 2047): Postfix delivers."""
    msg = _message(sender, addressee, subject=SUBJECT, body=BODY, cte="8bit")
    _send(
        postfix,
        sender,
        [addressee],
        msg.as_bytes(policy=email.policy.SMTP),
        ret=None,
        notify=None,
        mail_options=("SMTPUTF8", "BODY=8BITMIME"),
    )
    (got,) = dovecot.wait_for(addressee)
    delivered = email.message_from_bytes(got, policy=email.policy.default)
    assert delivered["Subject"] == SUBJECT and _text(delivered.get_content()) == BODY


def test_raw_utf8_headers_without_smtputf8_pass_through(postfix, dovecot, sender, addressee):
    msg = _message(sender, addressee, subject=SUBJECT, body=BODY, cte="8bit")
    raw = msg.as_bytes(policy=email.policy.SMTPUTF8)
    assert SUBJECT.encode() in raw
    _send(postfix, sender, [addressee], raw, ret=None, notify=None, mail_options=("BODY=8BITMIME",))
    (got,) = dovecot.wait_for(addressee)
    assert b"Subject: " + SUBJECT.encode() + b"\r\n" in got


def _lmtp_offers_smtputf8(dovecot) -> bool:
    with smtplib.LMTP(dovecot.host, dovecot.lmtp_port, timeout=10) as lmtp:
        lmtp.ehlo("probe")
        return lmtp.has_extn("smtputf8")


@pytest.mark.parametrize("ret", ["HDRS", "FULL"])
def test_raw_utf8_headers_with_smtputf8_bounce_at_dovecot(postfix, dovecot, sender, addressee, ret):
    """Raw UTF-8 headers *and* SMTPUTF8: now the message requires SMTPUTF8 on
    every hop, and Dovecot 2.3's LMTP does not offer it: Postfix fails it with
    5.6.7. With RET=HDRS the sender gets an RFC 6533 report
    (message/global-delivery-status + message/global-headers); with RET=FULL
    the report carries the UTF-8 message, needs SMTPUTF8 itself, bounces too,
    and is discarded: nothing arrives anywhere, only the log tells."""
    msg = _message(sender, addressee, subject=SUBJECT, body=BODY, cte="8bit")
    raw = msg.as_bytes(policy=email.policy.SMTPUTF8)
    envid = _envid()
    _send(postfix, sender, [addressee], raw, ret=ret, envid=envid, mail_options=("SMTPUTF8", "BODY=8BITMIME"))
    if _lmtp_offers_smtputf8(dovecot):  # a newer Dovecot: it just works
        (got,) = dovecot.wait_for(addressee)
        assert SUBJECT.encode() in got
        return
    postfix.wait_queue_empty(address=sender)
    postfix.wait_queue_empty(address=addressee)
    log = postfix.maillog_text()
    assert re.search(
        rf"to=<{re.escape(addressee)}>.*dsn=5\.6\.7, status=bounced "
        r"\(SMTPUTF8 is required, but was not offered by host",
        log,
    )
    assert dovecot.fetch_all(addressee) == []
    if ret == "FULL":
        assert dovecot.fetch_all(sender) == []
        deadline = time.monotonic() + 15  # the postmaster bounce is tried (and logged) a moment later
        while "undeliverable postmaster notification discarded" not in log and time.monotonic() < deadline:
            time.sleep(0.2)
            log = postfix.maillog_text()
        assert "undeliverable postmaster notification discarded" in log
        return
    (dsn,) = _reports(dovecot, sender, 1)
    assert dsn.status_type == "message/global-delivery-status"
    assert dsn.returned.get_content_type() == "message/global-headers"
    assert dsn.fields["original-envelope-id"] == envid
    rcpt = dsn.recipient(addressee)
    assert rcpt["action"] == "failed" and rcpt["status"] == "5.6.7"
    returned = dsn.returned_headers()
    assert returned["Message-ID"] == msg["Message-ID"] and returned["Subject"] == SUBJECT


# ---------------------------------------------------------------- mailflow's own sender


def test_mailflow_smtp_transport_through_postfix(postfix, dovecot, sender, addressee):
    """mailflow's SmtpTransport, configured by postfix.smtp_config(), asks for
    DSNs with its envelope id and gets Postfix's real "delivered" report."""
    from mailflow.outbox import SmtpTransport

    msg = _message(sender, addressee, subject=SUBJECT, body=BODY)
    envid = secrets.token_hex(16)
    result = SmtpTransport(postfix.smtp_config(sender)).send(
        sender, [addressee], msg.as_bytes(), envelope_id=envid
    )
    assert result.code == 250
    dovecot.wait_for(addressee)
    (dsn,) = _reports(dovecot, sender, 1)
    assert dsn.fields["original-envelope-id"] == envid
    assert dsn.fields["x-postfix-queue-id"] == result.queue_id
    assert dsn.recipient(addressee)["action"] == "delivered"
    assert dsn.returned_headers()["Message-ID"] == msg["Message-ID"]
