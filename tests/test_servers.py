"""The test servers themselves: SMTP in, LMTP into Dovecot, IMAP out."""

from __future__ import annotations

import email
import email.policy
import smtplib
import socket
from email.message import EmailMessage

import imapclient
import pytest

SUBJECT = "Жалоба: отключение электроэнергии / Шағым"


def _message(to: str, subject: str = SUBJECT, body: str = "Прошу разобраться.\nӨтініш.") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Начальник РЭС <res@example.kz>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = email.utils.make_msgid(domain="example.kz")
    msg.set_content(body)
    return msg


def test_dovecot_is_private_and_listening(dovecot):
    assert dovecot.running
    assert dovecot.imap_port != dovecot.lmtp_port
    assert "!include" not in dovecot.config_file.read_text()
    assert not str(dovecot.config_file).startswith("/etc/")
    for port in (dovecot.imap_port, dovecot.lmtp_port):
        socket.create_connection((dovecot.host, port), timeout=2).close()


def test_append_and_fetch_all(dovecot, mail_user):
    raw = _message(mail_user).as_bytes(policy=email.policy.SMTP)
    uid = dovecot.append(mail_user, raw)
    assert uid >= 1
    assert dovecot.fetch_all(mail_user) == [raw]
    assert dovecot.fetch_all(mail_user, "NoSuchFolder") == []
    dovecot.append(mail_user, raw, folder="Archive")
    assert "Archive" in dovecot.folders(mail_user)
    assert (dovecot.maildir(mail_user) / ".Archive").is_dir()


def test_smtp_with_dsn_arrives_in_imap_inbox(dovecot, smtp_server, mail_user):
    msg = _message(mail_user)
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        smtp.ehlo("client.example.kz")
        assert smtp.has_extn("dsn") and smtp.has_extn("8bitmime") and smtp.has_extn("smtputf8")
        assert "PLAIN" in smtp.esmtp_features["auth"] and "LOGIN" in smtp.esmtp_features["auth"]
        smtp.login(smtp_server.user, smtp_server.password)
        smtp.send_message(
            msg,
            from_addr="mailflow@example.kz",
            to_addrs=[mail_user],
            mail_options=["RET=HDRS", "ENVID=Case-000123.x"],
            rcpt_options=["NOTIFY=SUCCESS,FAILURE,DELAY", f"ORCPT=rfc822;{mail_user}"],
        )
        code, reply = smtp.noop()
    assert code == 250

    (env,) = smtp_server.wait_for(1)
    assert env.mail_from == "mailflow@example.kz"
    assert env.rcpt_tos == [mail_user]
    assert env.mail_params["RET"] == "HDRS"
    assert env.mail_params["ENVID"] == "Case-000123.x"  # case kept
    assert env.rcpt_params == [{"NOTIFY": "SUCCESS,FAILURE,DELAY", "ORCPT": f"rfc822;{mail_user}"}]
    assert env.auth_user == smtp_server.user
    assert env.helo == "client.example.kz"
    assert env.delivered == [mail_user]
    assert len(env.queue_id) >= 6

    (raw,) = dovecot.wait_for(mail_user, timeout=5)
    # read it back the way mailflow will: imapclient against the real server
    with imapclient.IMAPClient(dovecot.host, dovecot.imap_port, ssl=False, timeout=10) as c:
        c.login(mail_user.split("@")[0], dovecot.password(mail_user))
        c.select_folder("INBOX", readonly=True)
        (uid,) = c.search(["ALL"])
        fetched = c.fetch([uid], ["BODY.PEEK[]", "ENVELOPE"])[uid]
    got = email.message_from_bytes(fetched[b"BODY[]"], policy=email.policy.default)
    assert got["Subject"] == SUBJECT
    assert got["Message-ID"] == msg["Message-ID"]
    assert "Өтініш" in got.get_content()
    assert got["Delivered-To"] == mail_user  # went through LMTP
    assert raw == fetched[b"BODY[]"]


def test_queue_id_in_reply(smtp_server, mail_user):
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("a@example.org")
        smtp.rcpt(mail_user)
        code, reply = smtp.data(_message(mail_user).as_bytes())
    assert code == 250
    assert reply.decode().startswith("2.0.0 Ok: queued as ")
    assert reply.decode().endswith(smtp_server.received[-1].queue_id)


def test_eight_bit_body_and_smtputf8(dovecot, smtp_server, mail_user):
    raw = (
        "From: a@example.org\r\nTo: " + mail_user + "\r\nSubject: =?utf-8?b?"
        "0J/RgNC40LLQtdGC?=\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nТекст жалобы\r\n"
    ).encode()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        smtp.sendmail("a@example.org", [mail_user], raw, mail_options=["BODY=8BITMIME", "SMTPUTF8"])
    (env,) = smtp_server.wait_for(1)
    assert env.smtp_utf8 and "BODY=8BITMIME" in env.mail_options
    (got,) = dovecot.wait_for(mail_user)
    assert got.endswith("Текст жалобы\r\n".encode())


def test_unknown_local_user_is_refused_and_other_domains_recorded(smtp_server, mail_user):
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
            smtp.sendmail("a@example.org", ["nobody-here@mailflow.test"], b"Subject: x\r\n\r\nx\r\n")
        assert info.value.recipients["nobody-here@mailflow.test"][0] == 550
        refused = smtp.sendmail(
            "a@example.org", [mail_user, "consumer@example.kz"], b"Subject: x\r\n\r\nx\r\n"
        )
    assert refused == {}
    (env,) = smtp_server.received
    assert env.rcpt_tos == [mail_user, "consumer@example.kz"]
    assert env.delivered == [mail_user]  # the outside address is only recorded


def test_bad_dsn_parameters_are_rejected(smtp_server):
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.mail("a@example.org", ["RET=SOME"])[0] == 501
        assert smtp.mail("a@example.org", ["XFOO=1"])[0] == 555  # still unknown to aiosmtpd
        assert smtp.mail("a@example.org", ["RET=FULL"])[0] == 250
        assert smtp.rcpt("b@example.org", ["NOTIFY=SOMETIMES"])[0] == 501
        assert smtp.rcpt("b@example.org", ["NOTIFY=NEVER"])[0] == 250


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_fail_next_is_temporary(smtp_server, mail_user, stage):
    smtp_server.fail_next(2, code=451, stage=stage)
    for _ in range(2):
        with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
            with pytest.raises(smtplib.SMTPException) as info:
                smtp.sendmail("a@example.org", [mail_user], b"Subject: x\r\n\r\nx\r\n")
            err = info.value
            code = err.smtp_code if hasattr(err, "smtp_code") else next(iter(err.recipients.values()))[0]
            assert code == 451
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        smtp.sendmail("a@example.org", [mail_user], b"Subject: x\r\n\r\nx\r\n")
    assert len(smtp_server.received) == 1


def test_auth_can_be_required(make_smtp_server, mail_user):
    server = make_smtp_server(auth=("robot", "pa55"), require_auth=True)
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.ehlo()
        with pytest.raises(smtplib.SMTPSenderRefused):
            smtp.sendmail("a@example.org", [mail_user], b"Subject: x\r\n\r\nx\r\n")
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("robot", "wrong")
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.login("robot", "pa55")
        smtp.sendmail("a@example.org", [mail_user], b"Subject: x\r\n\r\nx\r\n")
    assert server.received[0].auth_user == "robot"


def test_success_dsn_is_returned_to_a_local_sender(dovecot, make_smtp_server, mail_user):
    sender = dovecot.add_user()
    server = make_smtp_server(send_dsn=True)
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.sendmail(
            sender,
            [mail_user],
            _message(mail_user).as_bytes(),
            mail_options=["RET=HDRS", "ENVID=q1"],
            rcpt_options=["NOTIFY=SUCCESS", f"ORCPT=rfc822;{mail_user}"],
        )
    (raw,) = dovecot.wait_for(sender)
    report = email.message_from_bytes(raw, policy=email.policy.default)
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    status = report.get_payload()[1]
    assert status.get_content_type() == "message/delivery-status"
    text = status.as_string()
    assert "Original-Envelope-Id: q1" in text
    assert f"Final-Recipient: rfc822; {mail_user}" in text
    assert "Action: delivered" in text


def test_private_dovecot_restart_keeps_ports_and_mail(make_dovecot):
    server = make_dovecot()
    user = server.add_user("keeper", "pw")
    server.deliver(user, b"Subject: before restart\r\n\r\nx\r\n")
    port = server.imap_port
    server.restart()
    assert server.imap_port == port
    assert len(server.fetch_all(user)) == 1


def test_dovecot_with_tls(make_dovecot):
    server = make_dovecot(tls=True)
    user = server.add_user("tlsuser", "pw")
    server.deliver(user, b"Subject: over tls\r\n\r\nx\r\n")
    with server.connect(user, "INBOX", tls=True) as c:
        assert c.search(["ALL"]) == [1]


def test_mailflow_configs_point_at_the_servers(dovecot, smtp_server, mail_user):
    box = dovecot.mailbox_config(mail_user, "INBOX", idle=False)
    assert (box.endpoint.scheme, box.endpoint.port, box.endpoint.user) == (
        "imap",
        dovecot.imap_port,
        mail_user.split("@")[0],
    )
    assert box.endpoint.login_password() == dovecot.password(mail_user) and box.idle is False
    out = smtp_server.smtp_config("robot@mailflow.test")
    assert (out.endpoint.host, out.endpoint.port) == (smtp_server.host, smtp_server.port)
    assert (out.endpoint.user, out.endpoint.login_password()) == smtp_server.auth
    assert out.sender == "robot@mailflow.test"


def test_wait_for_times_out_with_a_clear_message(dovecot, mail_user):
    with pytest.raises(TimeoutError, match="0 message"):
        dovecot.wait_for(mail_user, timeout=0.2)
