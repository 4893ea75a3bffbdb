"""triage.classify on parsed bytes: bounces, receipts, auto-replies, loops, appeals, spam."""

from __future__ import annotations

import pytest

from mailflow import mime, triage
from mailflow.values import Disposition as D
from tests import hostile as H
from tests.support import load_rules, text_appeal

RULES = load_rules()
OWN = frozenset({"kanc@sevkaz.example", "mailflow@localhost"})
STRANGER = "someone@example.kz"


def verdict(raw: bytes) -> triage.Verdict:
    msg = mime.parse(raw)
    return triage.classify(triage.Message(raw, msg, RULES.staff.by_email(msg.from_addr), RULES, OWN))


def classify(raw: bytes) -> D:
    return verdict(raw).disposition


def why(raw: bytes) -> str:
    return verdict(raw).reason


def report(
    report_type: str | None,
    part_type: str,
    fields: str,
    *,
    frm: str = "MAILER-DAEMON@mx.example.kz",
    subject: str = "Report",
) -> bytes:
    rt = f"; report-type={report_type}" if report_type else ""
    return (
        f"From: {frm}\r\nTo: kanc@sevkaz.example\r\nSubject: {subject}\r\n"
        f'MIME-Version: 1.0\r\nContent-Type: multipart/report{rt}; boundary="R"\r\n\r\n'
        f"--R\r\nContent-Type: text/plain\r\n\r\nReport.\r\n"
        f"--R\r\nContent-Type: {part_type}\r\n\r\n{fields}\r\n"
        f"--R\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: talon\r\n"
        f"Message-ID: <t1@sevkaz.example>\r\n--R--\r\n"
    ).encode()


DSN_FIELDS = (
    "Reporting-MTA: dns; mx.example.kz\r\n\r\nFinal-Recipient: rfc822; a@b.kz\r\n"
    "Action: failed\r\nStatus: 5.1.1\r\n"
)
MDN_FIELDS = (
    "Reporting-UA: mail.example.kz\r\nFinal-Recipient: rfc822; chief@sevkaz.example\r\n"
    "Original-Message-ID: <t1@sevkaz.example>\r\n"
    "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
)


# ---------------------------------------------------------------------------
# DSN


def test_multipart_report_delivery_status_is_dsn():
    assert classify(report("delivery-status", "message/delivery-status", DSN_FIELDS)) == D.DSN


def test_dsn_from_a_staff_address_is_still_dsn():
    raw = report("delivery-status", "message/delivery-status", DSN_FIELDS, frm="ayyrtau-res@sevkaz.example")
    assert classify(raw) == D.DSN


def test_report_without_report_type_parameter_is_still_dsn():
    assert classify(report(None, "message/delivery-status", DSN_FIELDS)) == D.DSN


def test_dsn_carrying_a_returned_pdf_is_never_an_appeal():
    assert classify(H.dsn_with_returned_scan().raw) == D.DSN


@pytest.mark.parametrize(
    "frm,subject,body,headers",
    [
        ("MAILER-DAEMON@mx.example.kz", "failure notice", "Hi. This is the qmail-send program", {}),
        ("postmaster@mail.example.kz", "Undeliverable: Жалоба", "Delivery has failed", {}),
        ("postmaster@mail.example.kz", "Уведомление о недоставке сообщения", "Не доставлено", {}),
        ("noreply@mail.example.kz", "Ошибка доставки", "Ваше сообщение не может быть доставлено", {}),
        (
            "robot@mail.example.kz",
            "Mail delivery failed",
            "This message was created automatically by mail delivery software.",
            {},
        ),
        ("robot@mail.example.kz", "Returned", "x", {"X-Failed-Recipients": "a@b.kz"}),
    ],
)
def test_plain_text_bounces_are_never_appeals(frm, subject, body, headers):
    """Bounce wording without a recipient to read: no detector can make it proof,
    so the clerk reads it (rule unreadable_report); it is never registered."""
    v = verdict(text_appeal(frm=frm, subject=subject, body=body, headers=headers))
    assert (v.rule, v.disposition) == ("unreadable_report", D.REVIEW)
    assert "could not be read" in v.reason


def test_a_bounce_a_detector_reads_is_dsn_with_its_detector_named():
    body = (
        "Hi. This is the qmail-send program at mx.example.kz.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "<ivanov@example.kz>:\nSorry, no mailbox here by that name. (#5.1.1)\n"
    )
    v = verdict(text_appeal(frm="MAILER-DAEMON@mx.example.kz", subject="failure notice", body=body))
    assert (v.rule, v.disposition) == ("receipt", D.DSN) and "qmail" in v.reason
    assert v.receipt.report.recipients[0].final_recipient == "ivanov@example.kz"


@pytest.mark.parametrize(
    "frm,subject,body",
    [
        ("ayyrtau-res@sevkaz.example", "Жалоба: квитанция не доставлена", "Жалоба потребителя"),
        (
            "ayyrtau-res@sevkaz.example",
            "Fwd: Undelivered Mail Returned to Sender",
            "This is the mail system at host mx.example.kz.",
        ),
        ("office1@client.example", "Претензия: счёт не доставлен", "Прошу разобраться"),
    ],
)
def test_appeals_that_mention_delivery_are_not_bounces(frm, subject, body):
    assert classify(text_appeal(frm=frm, subject=subject, body=body)) == D.APPEAL


REAL_DSN = (
    sorted(p.name for p in (H.CORPUS_REAL / "dsn").glob("*.eml")) if (H.CORPUS_REAL / "dsn").is_dir() else []
)
PLAIN_BOUNCES = [
    "sisimai__lhost-qmail-01.eml",
    "sisimai__lhost-exim-01.eml",
    "sisimai__lhost-gmail-01.eml",
    "sisimai__lhost-mailru-01.eml",
    "deltachat__gmx_ndn.eml",
]


def real(sub: str, name: str) -> bytes:
    path = H.CORPUS_REAL / sub / name
    if not path.is_file():
        pytest.skip(f"../shared/corpus/real/{sub}/{name} not present")
    return path.read_bytes()


@pytest.mark.skipif(not REAL_DSN, reason="../shared/corpus/real/dsn absent")
@pytest.mark.parametrize("name", REAL_DSN)
def test_real_bounces_are_dsn(name):
    assert classify(real("dsn", name)) == D.DSN


@pytest.mark.parametrize("name", PLAIN_BOUNCES)
def test_real_plain_text_bounces_without_delivery_status_are_dsn(name):
    raw = real("dsn", name)
    assert mime.parse(raw).report_type is None  # no delivery-status part to lean on
    assert classify(raw) == D.DSN


@pytest.mark.parametrize(
    "name",
    [
        "mimekit__delivery-status-no-blank-line.eml",
        "mimekit__delivery-status-multiple-blank-lines.eml",
        "flanker__broken-mime.eml",
    ],
)
def test_real_malformed_bounces_are_dsn(name):
    assert classify(real("malformed", name)) == D.DSN


# ---------------------------------------------------------------------------
# MDN


def test_multipart_report_disposition_notification_is_mdn():
    raw = report(
        "disposition-notification",
        "message/disposition-notification",
        MDN_FIELDS,
        frm="director@sevkaz.example",
        subject="Прочитано: на резолюцию",
    )
    assert classify(raw) == D.MDN


def test_mdn_without_report_type_parameter():
    raw = report(None, "message/disposition-notification", MDN_FIELDS, frm=STRANGER)
    assert classify(raw) == D.MDN


@pytest.mark.parametrize(
    "subject,body",
    [
        ("Прочитано: [ВХ-2026-000001] на резолюцию", "Ваше сообщение было прочитано 06.04.2026 в 10:15."),
        ("Read: [ВХ-2026-000001]", "Your message was read on Monday, April 6, 2026."),
    ],
)
def test_plain_text_read_receipts_are_mdn(subject, body):
    assert classify(text_appeal(frm="director@sevkaz.example", subject=subject, body=body)) == D.MDN


@pytest.mark.parametrize(
    "name", ["flanker__disposition-notification.eml", "mimekit__disposition-notification.eml"]
)
def test_real_mdns(name):
    assert classify(real("mdn", name)) == D.MDN


# ---------------------------------------------------------------------------
# auto-replies


@pytest.mark.parametrize(
    "headers,subject",
    [
        ({"Auto-Submitted": "auto-replied"}, "Re: Жалоба"),
        ({"Auto-Submitted": "auto-generated; owner-email=x@y.kz"}, "Уведомление"),
        ({"Precedence": "bulk"}, "Рассылка"),
        ({"Precedence": "junk"}, "x"),
        ({"Precedence": "list"}, "x"),
        ({"X-Autoreply": "yes"}, "Re: Жалоба"),
        ({"X-Autorespond": "yes"}, "x"),
        ({"List-Id": "<news.example.kz>"}, "Новости"),
        ({}, "Автоответ: Жалоба потребителя"),
        ({}, "RE: Автоответ: Жалоба"),
        ({}, "Automatic reply: Complaint"),
        ({}, "Auto Response: hello"),
        ({}, "Out of Office: back on Monday"),
        ({}, "Автоматический ответ: жалоба"),
        ({}, "Автожауап: шағым"),
    ],
)
def test_auto_replies(headers, subject):
    raw = text_appeal(frm=STRANGER, subject=subject, body="Жалоба. Я в отпуске.", headers=headers)
    assert classify(raw) == D.AUTO_REPLY


def test_auto_reply_from_a_chief_is_not_registered():
    raw = text_appeal(subject="Автоответ: [ВХ-2026-000001] Талон", headers={"Auto-Submitted": "auto-replied"})
    assert classify(raw) == D.AUTO_REPLY


def test_auto_submitted_no_is_a_person():
    raw = text_appeal(
        frm=STRANGER, subject="Жалоба", body="Прошу разобраться", headers={"Auto-Submitted": "no"}
    )
    assert classify(raw) == D.APPEAL


# ---------------------------------------------------------------------------
# loops


def _to(raw: bytes, to: str) -> bytes:
    return raw.replace(b"To: kanc@sevkaz.example", f"To: {to}".encode(), 1)


def test_own_mail_with_mailflow_kind_is_loop():
    raw = text_appeal(
        frm="talon-bot@elsewhere.example",
        subject="[ВХ-2026-000001] Талон",
        headers={"X-Mailflow-Kind": "talon"},
    )
    assert classify(_to(raw, "consumer@example.kz")) == D.LOOP


def test_our_notice_to_the_clerk_who_reads_our_mailbox_is_left_for_them():
    """kanc@ is both mailflow's mailbox and the ДП clerk's address: a notice to the
    clerk comes back into the mailbox, marked as ours; it is theirs, never acted on."""
    raw = text_appeal(
        frm="mailflow@localhost",
        subject="[mailflow] [ВХ-2026-000001] Срок продлён",
        headers={"X-Mailflow-Kind": "notice"},
    )
    v = verdict(_to(raw, "Канцелярия <kanc@sevkaz.example>, kanc-sbyt@sevkaz.example"))
    assert (v.disposition, v.rule) == (D.STAFF, "own_mail") and "kanc@sevkaz.example" in v.reason
    # the same notice from a mailflow whose sender is the clerk's own address
    raw = text_appeal(
        frm="kanc@sevkaz.example", subject="[mailflow] Уведомление", headers={"X-Mailflow-Kind": "notice"}
    )
    assert classify(raw) == D.STAFF
    # to a staff member whose address is not ours: our mail came back by a loop
    assert classify(_to(raw, "kanc-sbyt@sevkaz.example")) == D.LOOP


def test_mail_from_our_own_address_is_loop():
    assert classify(text_appeal(frm="mailflow@localhost", subject="Жалоба")) == D.LOOP


def test_the_clerk_writing_from_the_mailbox_mailflow_reads_is_the_clerk():
    """Without our mark, mail from kanc@ (an own address that a staff clerk has) is the clerk's."""
    assert classify(text_appeal(frm="kanc@sevkaz.example", subject="Жалоба")) == D.APPEAL


def test_too_many_received_headers_is_loop():
    raw = text_appeal(frm=STRANGER, subject="Жалоба")
    hops = b"".join(
        b"Received: from hop%d by hop%d; Mon, 6 Apr 2026 10:00:00 +0500\r\n" % (i, i)
        for i in range(RULES.max_received_headers + 1)
    )
    assert classify(hops + raw) == D.LOOP


# ---------------------------------------------------------------------------
# appeals and review


@pytest.mark.parametrize(
    "frm",
    [
        "ayyrtau-res@sevkaz.example",
        "mamlyut-ruse@sevkaz.example",
        "sc2@sevkaz.example",
        "kanc-sbyt@sevkaz.example",
        "noreply@sevkaz.example",
        "call-center@sevkaz.example",
        "AYYRTAU-RES@SEVKAZ.EXAMPLE",
    ],
)
def test_mail_from_intake_staff_is_an_appeal(frm):
    raw = text_appeal(frm=frm, subject="скан", body="")
    assert classify(raw) == D.APPEAL


def test_staff_in_another_role_goes_to_review():
    raw = text_appeal(frm="director@sevkaz.example", subject="Вопрос", body="Зайдите ко мне")
    assert classify(raw) == D.REVIEW


def test_stranger_with_a_scan_is_an_appeal():
    raw = text_appeal(
        frm="office1@client.example",
        subject="Исх. 12",
        attachments=[("скан.jpg", "image/jpeg", b"\xff\xd8\xff" + b"\0" * 30000)],
    )
    assert classify(raw) == D.APPEAL


def test_stranger_pdf_sent_as_octet_stream_is_an_appeal():
    raw = text_appeal(
        frm="office1@client.example",
        subject="Документ",
        body="См. вложение",
        attachments=[("письмо.pdf", "application/octet-stream", b"%PDF-1.4\n" + b"0" * 4000)],
    )
    assert classify(raw) == D.APPEAL


def test_stranger_word_letter_is_an_appeal():
    ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    raw = text_appeal(
        frm="office1@client.example",
        subject="Письмо",
        body="Во вложении",
        attachments=[("письмо.docx", ctype, b"PK\x03\x04" + b"0" * 4000)],
    )
    assert classify(raw) == D.APPEAL


def test_stranger_writing_an_appeal_in_the_body_is_an_appeal():
    raw = text_appeal(frm=STRANGER, subject="Свет", body="Прошу восстановить электроснабжение")
    assert classify(raw) == D.APPEAL


@pytest.mark.parametrize(
    "subject,body,attachments",
    [
        ("Скидки недели", "Только сегодня: всё по 990 тенге", []),
        ("You won!", "Click here to claim your prize", []),
        (
            "Налоговая задолженность",
            "Информируем Вас об имеющейся задолженности. Откройте архив.",
            [("ФНС_РФ558.zip", "application/zip", b"PK\x03\x04" + b"0" * 9000)],
        ),
        (
            "Новости",
            "<html>",
            [
                ("logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 1500),
                ("pixel.gif", "image/gif", b"GIF89a" + b"0" * 40),
            ],
        ),
    ],
)
def test_spam_from_strangers_goes_to_review(subject, body, attachments):
    raw = text_appeal(frm="news@shop.example", subject=subject, body=body, attachments=attachments)
    assert classify(raw) == D.REVIEW


@pytest.mark.parametrize(
    "name",
    [
        "imaptools__attachment_inline1.eml",
        "imaptools__base.eml",
        "spamscope__mail_test_1.eml",
        "webklex__mixed_filename.eml",
    ],
)
def test_real_newsletters_and_phishing_go_to_review(name):
    """Mail.ru/Yandex service mail with logos, a tax phishing zip, a price list."""
    assert classify(real("cyrillic", name)) == D.REVIEW


def test_no_sender_address_goes_to_review():
    assert classify(text_appeal(frm="Иван Петров", subject="Жалоба", body="Прошу")) == D.REVIEW
    assert classify(b"") == D.REVIEW


def test_classify_gives_a_reason():
    assert "delivery" in why(report("delivery-status", "message/delivery-status", DSN_FIELDS))
    assert why(text_appeal()).startswith("from res_chief")


def test_a_new_report_format_needs_only_its_detector(monkeypatch):
    """A report no wording rule knows reaches the detectors: adding a format is one file."""
    from mailflow import receipts
    from mailflow.receipts.model import DeliveryReport, RecipientStatus

    class carrier_pigeon:  # a detector module, as receipts/detectors/*.py are
        NAME = "carrier_pigeon"

        @staticmethod
        def detect(msg):
            if msg.get("X-Pigeon-Status") != "lost":
                return None
            r = RecipientStatus("ivanov@example.kz", None, "failed", "5.0.0", None, None, True)
            return DeliveryReport((r,), None, None, None, NAME)

    NAME = carrier_pigeon.NAME
    raw = text_appeal(
        frm="loft@pigeons.example",
        subject="Голубь вернулся",
        body="Прошу принять",
        headers={"X-Pigeon-Status": "lost"},
    )
    assert classify(raw) == D.APPEAL  # "прошу": without the detector it reads as an appeal
    monkeypatch.setattr(receipts, "DETECTORS", (carrier_pigeon, *receipts.DETECTORS))
    v = verdict(raw)
    assert (v.rule, v.disposition, v.receipt.report.detector) == ("receipt", D.DSN, "carrier_pigeon")
