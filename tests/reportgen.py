"""Make delivery reports and read receipts, byte for byte, for the receipts tests.

Each builder returns the raw bytes of one report as the named mail system
writes it (layout and wording copied from real ones): RFC 3464 DSNs as
Postfix sends them (failure, delay, success with Action delivered or
relayed, several recipients, ENVID), RFC 6533 global DSNs, RFC 8098 MDNs as
Thunderbird sends them, Outlook/Exchange read receipts without
Original-Message-ID (English and Russian, with or without the
disposition-notification part), and plain-text bounces of qmail, Exim,
Mail.ru, old Gmail, GMX, Postfix, Exchange and a Russian mail system.

    python tests/reportgen.py OUT_DIR     writes one .eml per builder
"""

from __future__ import annotations

import base64
import datetime as dt
import sys
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

KZ = dt.timezone(dt.timedelta(hours=5))
WHEN = dt.datetime(2026, 3, 16, 10, 15, 0, tzinfo=KZ)
SENDER = "kanc@sevkaz.example"
BOUNDARY = "REPORT.1773638100/mx.sevkaz.example"


@dataclass(frozen=True)
class Original:
    """The outbound message a report is about."""

    message_id: str = "<res-000123.1773638100@sevkaz.example>"
    subject: str = "[ВХ-2026-000123] Резолюция по обращению"
    from_: str = SENDER
    to: str = "ivanov@res-north.example"
    date: dt.datetime = WHEN

    def headers(self, *, with_message_id: bool = True) -> str:
        lines = [
            "Return-Path: <kanc@sevkaz.example>",
            "Received: from mail.sevkaz.example (mail.sevkaz.example [192.0.2.10])",
            "\tby mx.sevkaz.example (Postfix) with ESMTPS id 4F2B686dbVz",
            f"\tfor <{self.to}>; {format_datetime(self.date)}",
            f"From: Канцелярия <{self.from_}>",
            f"To: {self.to}",
            f"Subject: {Header(self.subject, 'utf-8').encode()}",
            f"Date: {format_datetime(self.date)}",
        ]
        if with_message_id:
            lines.append(f"Message-ID: {self.message_id}")
        lines += [
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        return "\n".join(lines) + "\n"

    def message(self, *, with_message_id: bool = True) -> str:
        return self.headers(with_message_id=with_message_id) + "\nТекст резолюции.\n"


ORIGINAL = Original()


@dataclass(frozen=True)
class Rcpt:
    """One per-recipient group of a DSN."""

    final: str | None = "ivanov@res-north.example"
    action: str | None = "failed"
    status: str | None = "5.1.1"
    diagnostic: str | None = (
        "smtp; 550 5.1.1 <ivanov@res-north.example>: Recipient address rejected: User unknown"
    )
    original: str | None = None
    remote_mta: str | None = "mx.res-north.example"

    def fields(self) -> str:
        out = []
        if self.final:
            out.append(f"Final-Recipient: rfc822; {self.final}")
        if self.original:
            out.append(f"Original-Recipient: rfc822;{self.original}")
        if self.action:
            out.append(f"Action: {self.action}")
        if self.status:
            out.append(f"Status: {self.status}")
        if self.remote_mta:
            out.append(f"Remote-MTA: dns; {self.remote_mta}")
        if self.diagnostic:
            out.append(f"Diagnostic-Code: {self.diagnostic}")
        return "\n".join(out) + "\n"


def _to_bytes(text: str, crlf: bool) -> bytes:
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text.encode("utf-8")


def _report_headers(
    *, subject: str, frm: str, report_type: str, extra: str = "", to: str = SENDER, boundary: str = BOUNDARY
) -> str:
    return (
        f"Return-Path: <>\n"
        f"Date: {format_datetime(WHEN + dt.timedelta(minutes=1))}\n"
        f"From: {frm}\n"
        f"Subject: {subject}\n"
        f"To: {to}\n"
        f"Auto-Submitted: auto-replied\n"
        f"MIME-Version: 1.0\n"
        f"Content-Type: multipart/report; report-type={report_type};\n"
        f'\tboundary="{boundary}"\n'
        f"Message-Id: <20260316051600.A9F481A0089@mx.sevkaz.example>\n"
        f"{extra}"
    )


# -- RFC 3464 ------------------------------------------------------------------

_POSTFIX_TEXT = {
    "failed": (
        "Undelivered Mail Returned to Sender",
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n",
    ),
    "delayed": (
        "Delayed Mail (still being retried)",
        "####################################################################\n"
        "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
        "####################################################################\n\n"
        "Your message could not be delivered for more than 4 hour(s).\n"
        "It will be retried until it is 5 day(s) old.\n",
    ),
    "success": (
        "Successful Mail Delivery Report",
        "Your message was successfully delivered to the destination(s)\n"
        "listed below. If the message was delivered to mailbox you will\n"
        "receive no further notifications. Otherwise you may still receive\n"
        "notifications of mail delivery errors from other systems.\n",
    ),
}


def postfix_dsn(
    recipients: list[Rcpt] | None = None,
    *,
    envid: str | None = "RES-000123-1",
    returned: str = "headers",
    original: Original = ORIGINAL,
    kind: str | None = None,
    dsn_body: str | None = None,
    dsn_cte: str | None = None,
    crlf: bool = False,
    close: bool = True,
    preamble: str = "This is a MIME-encapsulated message.\n",
    report_type: str = "delivery-status",
    part_type: str = "message/delivery-status",
    in_reply_to: str | None = None,
) -> bytes:
    """An RFC 3464 report laid out as Postfix writes it.

    ``returned``: 'headers' (text/rfc822-headers), 'message' (message/rfc822),
    'global' (message/global-headers), 'empty' (an empty message/rfc822) or 'none'.
    ``dsn_body`` replaces the generated delivery-status text (to test odd layouts).
    """
    recipients = recipients if recipients is not None else [Rcpt()]
    if kind is None:
        actions = {r.action for r in recipients}
        kind = "failed" if "failed" in actions else "delayed" if "delayed" in actions else "success"
    subject, notice = _POSTFIX_TEXT[kind]
    per_message = [
        "Reporting-MTA: dns; mx.sevkaz.example",
        "X-Postfix-Queue-ID: 4F2B686dbVz",
        f"X-Postfix-Sender: rfc822; {original.from_}",
    ]
    if envid:
        per_message.insert(0, f"Original-Envelope-Id: {envid}")
    per_message.append(f"Arrival-Date: {format_datetime(original.date)}")
    body = (
        dsn_body
        if dsn_body is not None
        else "\n".join(per_message) + "\n\n" + "\n".join(r.fields() for r in recipients)
    )
    dsn_headers = f"Content-Description: Delivery report\nContent-Type: {part_type}\n"
    if dsn_cte == "base64":
        dsn_headers += "Content-Transfer-Encoding: base64\n"
        body = base64.encodebytes(body.encode("utf-8")).decode("ascii")
    elif dsn_cte:
        dsn_headers += f"Content-Transfer-Encoding: {dsn_cte}\n"
    lines = "\n".join(f"<{r.final or r.original}>: {r.diagnostic or ''}" for r in recipients)
    extra = f"In-Reply-To: {in_reply_to}\n" if in_reply_to else ""
    text = _report_headers(
        subject=subject,
        frm="MAILER-DAEMON@mx.sevkaz.example (Mail Delivery System)",
        report_type=report_type,
        extra=extra,
    )
    text += (
        f"\n{preamble}\n--{BOUNDARY}\nContent-Description: Notification\n"
        f"Content-Type: text/plain; charset=us-ascii\n\n"
        f"This is the mail system at host mx.sevkaz.example.\n\n{notice}\n"
        f"                   The mail system\n\n{lines}\n\n"
        f"--{BOUNDARY}\n{dsn_headers}\n{body}\n"
    )
    if returned == "headers":
        text += (
            f"--{BOUNDARY}\nContent-Description: Message Headers\nContent-Type: text/rfc822-headers\n\n"
            f"{original.headers()}\n"
        )
    elif returned == "message":
        text += (
            f"--{BOUNDARY}\nContent-Description: Undelivered Message\nContent-Type: message/rfc822\n"
            f"Content-Transfer-Encoding: 8bit\n\n{original.message()}\n"
        )
    elif returned == "global":
        text += (
            f"--{BOUNDARY}\nContent-Type: message/global-headers\n\n"
            f"{original.headers().replace(Header(original.subject, 'utf-8').encode(), original.subject)}\n"
        )
    elif returned == "empty":
        text += f"--{BOUNDARY}\nContent-Description: Undelivered Message\nContent-Type: message/rfc822\n\n"
    if close:
        text += f"--{BOUNDARY}--\n"
    return _to_bytes(text, crlf)


def global_dsn() -> bytes:
    """RFC 6533: message/global-delivery-status with a UTF-8 address, message/global-headers."""
    original = Original(to="иванов@сев-рэс.example")
    body = (
        "Reporting-MTA: dns; mx.sevkaz.example\nOriginal-Envelope-Id: RES-000777-1\n\n"
        "Final-Recipient: utf-8; иванов@сев-рэс.example\n"
        "Original-Recipient: utf-8; \\x{438}\\x{432}\\x{430}\\x{43D}\\x{43E}\\x{432}@сев-рэс.example\n"
        "Action: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 Пользователь не найден\n"
    )
    return postfix_dsn(
        [Rcpt(final=original.to)],
        dsn_body=body,
        returned="global",
        original=original,
        report_type="global-delivery-status",
        part_type="message/global-delivery-status",
        dsn_cte="8bit",
        kind="failed",
    )


# -- RFC 8098 ------------------------------------------------------------------


def mdn(
    *,
    disposition: str = "manual-action/MDN-sent-manually; displayed",
    reader: str = "ivanov@res-north.example",
    original: Original = ORIGINAL,
    original_message_id: str | None = ORIGINAL.message_id,
    enclose: str = "headers",
    reporting_ua: str = "mail.res-north.example; Thunderbird 128.5.0",
    crlf: bool = False,
) -> bytes:
    """A read receipt as Thunderbird sends it (``enclose``: 'headers', 'message', 'none')."""
    fields = [
        f"Reporting-UA: {reporting_ua}",
        f"Original-Recipient: rfc822;{reader}",
        f"Final-Recipient: rfc822;{reader}",
    ]
    if original_message_id:
        fields.append(f"Original-Message-ID: {original_message_id}")
    fields.append(f"Disposition: {disposition}")
    text = _report_headers(
        subject=f"Return Receipt (displayed) - {Header(original.subject, 'utf-8').encode()}",
        frm=f"Иванов И.И. <{reader}>",
        report_type="disposition-notification",
        extra=f"In-Reply-To: {original.message_id}\n",
    )
    text += (
        f"\nThis is a multi-part message in MIME format.\n--{BOUNDARY}\n"
        f"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n"
        f"This is a Return Receipt for the mail that you sent to {reader}.\n\n"
        f"Note: This Return Receipt only acknowledges that the message was displayed on the "
        f"recipient's computer.\n\n"
        f'--{BOUNDARY}\nContent-Type: message/disposition-notification; name="MDNPart2.txt"\n'
        f"Content-Disposition: inline\nContent-Transfer-Encoding: 7bit\n\n" + "\n".join(fields) + "\n\n"
    )
    if enclose == "headers":
        text += (
            f'--{BOUNDARY}\nContent-Type: text/rfc822-headers; name="MDNPart3.txt"\n'
            f"Content-Disposition: inline\n\n{original.headers()}\n"
        )
    elif enclose == "message":
        text += f"--{BOUNDARY}\nContent-Type: message/rfc822\n\n{original.message()}\n"
    text += f"--{BOUNDARY}--\n"
    return _to_bytes(text, crlf)


_OUTLOOK = {
    "en": {
        "prefix": "Read: ",
        "deleted_prefix": "Not read: ",
        "your": "Your message",
        "to": "To",
        "subject": "Subject",
        "sent": "Sent",
        "sent_at": "Monday, March 16, 2026 10:15:00 AM (UTC+05:00) Astana",
        "read": "was read on Monday, March 16, 2026 10:20:31 AM (UTC+05:00) Astana.",
        "deleted": "was deleted without being read on Monday, March 16, 2026 10:20:31 AM (UTC+05:00) Astana.",
    },
    "ru": {
        "prefix": "Прочитано: ",
        "deleted_prefix": "Не прочитано: ",
        "your": "Ваше сообщение",
        "to": "Кому",
        "subject": "Тема",
        "sent": "Отправлено",
        "sent_at": "16 марта 2026 г. 10:15:00 (UTC+05:00) Астана",
        "read": "было прочитано 16 марта 2026 г. 10:20:31 (UTC+05:00) Астана.",
        "deleted": "было удалено без прочтения 16 марта 2026 г. 10:20:31 (UTC+05:00) Астана.",
    },
}


def outlook_receipt(
    *,
    lang: str = "ru",
    reader: str = "ivanov@res-north.example",
    reader_name: str = "Иванов Иван Иванович",
    original: Original = ORIGINAL,
    in_reply_to: bool = True,
    references: bool = False,
    mdn_part: bool = True,
    deleted: bool = False,
    automatic: bool = False,
) -> bytes:
    """An Outlook/Exchange read receipt: no Original-Message-ID anywhere.

    Only the subject ('Прочитано: …' / 'Read: …'), In-Reply-To and/or
    References, and the original's To/Subject/Sent in the text part tie it to
    the message. ``mdn_part=False`` gives the plain-text form.
    """
    w = _OUTLOOK[lang]
    subject = (w["deleted_prefix"] if deleted else w["prefix"]) + original.subject
    extra = (
        f"Thread-Topic: {Header(original.subject, 'utf-8').encode()}\n"
        f"Thread-Index: AQHaeJ3kbm9Zz0J6R0qT7Q1l2k4x0w==\n"
        f"X-MS-Has-Attach:\nX-MS-TNEF-Correlator:\n"
    )
    if in_reply_to:
        extra += f"In-Reply-To: {original.message_id}\n"
    if references:
        extra += f"References: {original.message_id}\n"
    text_part = (
        f"{w['your']}\r\n\r\n  {w['to']}: {reader_name}\r\n"
        f"  {w['subject']}: {original.subject}\r\n  {w['sent']}: {w['sent_at']}\r\n\r\n"
        f"{w['deleted'] if deleted else w['read']}\r\n"
    )
    encoded = base64.encodebytes(text_part.encode("utf-8")).decode("ascii")
    head = (
        f"From: {Header(reader_name, 'utf-8').encode()} <{reader}>\n"
        f"To: Канцелярия <{original.from_}>\n"
        f"Subject: {Header(subject, 'utf-8').encode()}\n"
        f"Date: {format_datetime(WHEN + dt.timedelta(minutes=5))}\n"
        f"Message-ID: <b9a1c2d3e4f5a6b7c8d9@EX01.res-north.example>\n{extra}"
        f"Content-Language: ru-RU\nX-MS-Exchange-Organization-SCL: -1\nMIME-Version: 1.0\n"
    )
    if not mdn_part:
        return _to_bytes(
            head + 'Content-Type: text/plain; charset="utf-8"\n'
            "Content-Transfer-Encoding: base64\n\n" + encoded,
            crlf=True,
        )
    mode = "automatic-action/MDN-sent-automatically" if automatic else "manual-action/MDN-sent-manually"
    dtype = "deleted" if deleted else "displayed"
    b = "_000_b9a1c2d3e4f5a6b7c8d9EX01resnorthexample_"
    return _to_bytes(
        head + f'Content-Type: multipart/report; boundary="{b}";\n'
        f'\treport-type="disposition-notification"\n\n'
        f'--{b}\nContent-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: base64\n\n'
        f"{encoded}\n--{b}\nContent-Type: message/disposition-notification\n\n"
        f"Final-recipient: RFC822; {reader}\nDisposition: {mode}; {dtype}\n"
        f"X-MSExch-Correlation-Key: LKSCyoxhxEqUd5/Bmj6gWA==\n"
        f"X-Display-Name: {reader_name}\n\n--{b}--\n",
        crlf=True,
    )


# -- plain-text bounces --------------------------------------------------------


def qmail_bounce(rcpt: str = "ivanov@res-north.example", *, original: Original = ORIGINAL) -> bytes:
    return _to_bytes(
        f"Return-Path: <>\nDate: 16 Mar 2026 05:16:00 -0000\nFrom: MAILER-DAEMON@mx.res-north.example\n"
        f"To: {SENDER}\nSubject: failure notice\n\n"
        f"Hi. This is the qmail-send program at mx.res-north.example.\n"
        f"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        f"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{rcpt}>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
        f"--- Below this line is a copy of the message.\n\n{original.message()}",
        crlf=False,
    )


def exim_bounce(
    rcpt: str = "ivanov@res-north.example",
    *,
    original: Original = ORIGINAL,
    delayed: bool = False,
    mailru: bool = False,
    headers_only: bool = False,
    transcript_message_id: str | None = "<distractor.123@attacker.example>",
) -> bytes:
    """Exim failure (or delay warning), optionally Mail.ru's Russian+English form.

    ``transcript_message_id`` puts a second Message-Id in the body after the
    returned header block, where no parser should take it from.
    """
    if delayed:
        subject = "Warning: message 1vF4Ab-000Abc-7Q delayed 24 hours"
        notice = (
            f"This message was created automatically by mail delivery software.\n"
            f"A message that you sent has not yet been delivered to one or more of its\n"
            f"recipients after more than 24 hours on the queue on mx.sevkaz.example.\n\n"
            f"The message identifier is:     1vF4Ab-000Abc-7Q\n"
            f"The subject of the message is: {original.subject}\n\n"
            f"The address to which the message has not yet been delivered is:\n\n"
            f"  {rcpt}\n    Delay reason: SMTP error from remote mail server after RCPT TO:<{rcpt}>:\n"
            f"    host mx.res-north.example [192.0.2.25]: 451 4.7.1 Greylisted, try again later\n\n"
            f"No action is required on your part. Delivery attempts will continue for\n"
            f"some time, and this warning may be repeated at intervals if the message\n"
            f"remains undelivered. Eventually the mail delivery software will give up,\n"
            f"and when that happens, the message will be returned to you.\n"
        )
    else:
        subject = "Mail delivery failed: returning message to sender"
        block = (
            f"  {rcpt}\n    SMTP error from remote mail server after RCPT TO:<{rcpt}>:\n"
            f"    host mx.res-north.example [192.0.2.25]: 550 5.1.1 <{rcpt}>: User unknown\n"
        )
        notice = (
            f"This message was created automatically by mail delivery software.\n\n"
            f"A message that you sent could not be delivered to one or more of its\n"
            f"recipients. This is a permanent error. The following address(es) failed:\n\n{block}"
        )
        if mailru:
            subject = (
                "=?UTF-8?B?"
                + base64.b64encode("Ваше сообщение не доставлено".encode()).decode()
                + "?=. Mail failure."
            )
            notice = (
                f"Это письмо создано автоматически сервером Mail.Ru, отвечать на него не нужно.\n\n"
                f"К сожалению, Ваше письмо не может быть доставлено одному или нескольким "
                f"получателям:\n\n{block}\nРекомендуем Вам проверить корректность указания "
                f"адресов получателей.\n\n**********************\n\n\n" + notice
            )
    marker = (
        "------ This is a copy of the message's headers. ------"
        if headers_only
        else "------ This is a copy of the message, including all the headers. ------"
    )
    copy = original.headers() + "\n"
    if transcript_message_id:
        copy += (
            f'data\n354 Enter mail, end with "." on a line by itself\nMessage-Id: {transcript_message_id}\n'
            f"From: someone@attacker.example\n\ntest\n"
        )
    return _to_bytes(
        f"Return-path: <>\nX-Failed-Recipients: {rcpt}\nAuto-Submitted: auto-replied\n"
        f"From: Mail Delivery System <Mailer-Daemon@mx.sevkaz.example>\nTo: {SENDER}\n"
        f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
        f"Subject: {subject}\nMessage-Id: <E1vF4Ab-000Abc-7Q@mx.sevkaz.example>\n"
        f"Date: {format_datetime(WHEN + dt.timedelta(minutes=1))}\n\n{notice}\n{marker}\n\n{copy}",
        crlf=False,
    )


def gmail_text_bounce(
    rcpt: str = "ivanov@res-north.example", *, original: Original = ORIGINAL, delayed: bool = False
) -> bytes:
    if delayed:
        notice = (
            f"This is an automatically generated Delivery Status Notification\n\n"
            f"THIS IS A WARNING MESSAGE ONLY.\n\nYOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\n"
            f"Delivery to the following recipient has been delayed:\n\n     {rcpt}\n\n"
            f"Message will be retried for 2 more day(s)\n\n"
            f"Technical details of temporary failure:\n"
            f"The recipient server did not accept our requests to connect. [mx.res-north.example. "
            f"(10): Connection timed out]\n"
        )
        subject = "Delivery Status Notification (Delay)"
    else:
        notice = (
            f"Delivery to the following recipient failed permanently:\n\n     {rcpt}\n\n"
            f"Technical details of permanent failure:\nGoogle tried to deliver your message, but "
            f"it was rejected by the server for the recipient domain res-north.example by "
            f"mx.res-north.example. [192.0.2.25].\n\nThe error that the other server returned was:\n"
            f"550 5.1.1 <{rcpt}>... User Unknown\n"
        )
        subject = "Delivery Status Notification (Failure)"
    return _to_bytes(
        f"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nTo: {SENDER}\n"
        f"X-Failed-Recipients: {rcpt}\nSubject: {subject}\n"
        f"Message-ID: <047d7bdca0c250c6c004fe72bd32@google.com>\nDate: Mon, 16 Mar 2026 05:16:02 +0000\n"
        f"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n"
        f"{notice}\n----- Original message -----\n\n{original.message()}",
        crlf=False,
    )


def gmx_bounce(rcpt: str = "ivanov@res-north.example", *, original: Original = ORIGINAL) -> bytes:
    return _to_bytes(
        f'Return-Path: <>\nDate: {format_datetime(WHEN)}\nFrom: "GMX Mailer Daemon" <mailer-daemon@gmx.de>\n'
        f"To: {SENDER}\nSubject: Mail delivery failed: returning message to sender\n"
        f"Auto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: 8bit\n\n"
        f"This message was created automatically by mail delivery software.\n\n"
        f"A message that you sent could not be delivered to one or more of\nits recipients. This is a "
        f"permanent error. The following address(es)\nfailed:\n\n{rcpt}:\n"
        f"SMTP error from remote server for RCPT TO command, host: mx.res-north.example (192.0.2.25) "
        f"reason: 550-5.1.1 The email account that you tried to reach does not exist.\n"
        f"550 5.1.1  Learn more\n\n\n\n--- The header of the original message is following. ---\n\n"
        f"{original.headers()}",
        crlf=False,
    )


def postfix_text_bounce(
    rcpt: str = "ivanov@res-north.example", *, kind: str = "failed", original: Original = ORIGINAL
) -> bytes:
    """A Postfix notice with its text only (the delivery-status part lost)."""
    subject, notice = _POSTFIX_TEXT[kind]
    said = {
        "failed": f"host mx.res-north.example[192.0.2.25] said: 550 5.1.1 <{rcpt}>:\n"
        f"    Recipient address rejected: User unknown (in reply to RCPT TO command)",
        "delayed": "connect to mx.res-north.example[192.0.2.25]:25: Connection timed out",
        "success": "delivered to mailbox",
    }[kind]
    return _to_bytes(
        f"Return-Path: <>\nFrom: MAILER-DAEMON@mx.sevkaz.example (Mail Delivery System)\nTo: {SENDER}\n"
        f"Subject: {subject}\nAuto-Submitted: auto-replied\nDate: {format_datetime(WHEN)}\n"
        f"Content-Type: text/plain; charset=us-ascii\n\n"
        f"This is the mail system at host mx.sevkaz.example.\n\n{notice}\n"
        f"                   The mail system\n\n<{rcpt}>: {said}\n",
        crlf=False,
    )


def exchange_text_bounce(
    rcpt: str = "ivanov@res-north.example", *, lang: str = "en", original: Original = ORIGINAL
) -> bytes:
    """Exchange NDR text only (no delivery-status part), English or Russian."""
    if lang == "ru":
        notice = (
            f"Не удалось доставить сообщение следующим получателям или группам:\n\n"
            f"Иванов И.И. <mailto:{rcpt}>\nАдрес электронной почты, который вы ввели, не найден.\n\n"
            f"Диагностические сведения для администраторов:\n\nСоздающий сервер: EX01.sevkaz.example\n\n"
            f"{rcpt}\n#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n\n"
            f"Исходные заголовки сообщения:\n\n"
        )
        subject = "Недоставляемое: " + original.subject
    else:
        notice = (
            f"Delivery has failed to these recipients or groups:\n\n"
            f"Ivanov<mailto:{rcpt}>\nThe email address you entered couldn't be found.\n\n"
            f"Diagnostic information for administrators:\n\nGenerating server: EX01.sevkaz.example\n\n"
            f"{rcpt}\nRemote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'\n\n"
            f"Original message headers:\n\n"
        )
        subject = "Undeliverable: " + original.subject
    return _to_bytes(
        f"From: Microsoft Outlook <postmaster@sevkaz.example>\nTo: {SENDER}\n"
        f"Date: {format_datetime(WHEN)}\nSubject: {Header(subject, 'utf-8').encode()}\n"
        f"Auto-Submitted: auto-replied\nX-MS-Exchange-Message-Is-Ndr:\n"
        f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        f"{notice}{original.headers()}",
        crlf=True,
    )


def russian_bounce(
    rcpt: str = "ivanov@res-north.example", *, original: Original = ORIGINAL, charset: str = "koi8-r"
) -> bytes:
    """A Russian mail system's own wording, in KOI8-R: only the generic detector knows it."""
    body = (
        f"Уважаемый пользователь!\n\nВаше письмо не удалось доставить по адресу {rcpt}.\n"
        f"Ответ сервера получателя: 550 5.2.1 Почтовый ящик заблокирован.\n\n"
        f"----- Исходное сообщение -----\n\n{original.headers()}"
    )
    head = (
        f"Return-Path: <>\nFrom: postmaster@mail.example.kz\nTo: {SENDER}\n"
        f"Subject: {Header('Сообщение не доставлено', 'utf-8').encode()}\n"
        f"Date: {format_datetime(WHEN)}\nContent-Type: text/plain; charset={charset}\n"
        f"Content-Transfer-Encoding: 8bit\n\n"
    )
    # the copy's headers are ASCII / RFC 2047, so the whole body encodes
    return head.encode("ascii") + body.encode(charset)


BUILDERS = {
    "postfix-failed": lambda: postfix_dsn(),
    "postfix-delivered": lambda: postfix_dsn(
        [Rcpt(action="delivered", status="2.0.0", diagnostic="smtp; 250 2.0.0 Ok: queued as 4F2B6")]
    ),
    "postfix-relayed": lambda: postfix_dsn(
        [Rcpt(action="relayed", status="2.0.0", diagnostic="smtp; 250 Requested mail action okay")]
    ),
    "postfix-delayed": lambda: postfix_dsn(
        [Rcpt(action="delayed", status="4.4.1", diagnostic="X-Postfix; connect to mx: Connection timed out")]
    ),
    "global-dsn": global_dsn,
    "mdn-thunderbird": lambda: mdn(),
    "outlook-receipt-ru": lambda: outlook_receipt(lang="ru"),
    "outlook-receipt-en": lambda: outlook_receipt(lang="en", references=True, in_reply_to=False),
    "outlook-text-receipt": lambda: outlook_receipt(mdn_part=False),
    "qmail": lambda: qmail_bounce(),
    "exim": lambda: exim_bounce(),
    "exim-delayed": lambda: exim_bounce(delayed=True),
    "mailru": lambda: exim_bounce(mailru=True),
    "gmail-text": lambda: gmail_text_bounce(),
    "gmx": lambda: gmx_bounce(),
    "postfix-text": lambda: postfix_text_bounce(),
    "exchange-text-ru": lambda: exchange_text_bounce(lang="ru"),
    "russian-generic": lambda: russian_bounce(),
}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        (out / f"{name}.eml").write_bytes(build())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
