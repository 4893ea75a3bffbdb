"""A whole case over real IMAP and SMTP: every person's mail is a real message.

The chancellery mailbox is a Dovecot user read over IMAP; mailflow sends
through the DSN-capable SMTP server, which delivers the staff's mail into a
Dovecot mailbox the test reads like each person's inbox. Each step is the
person's reply sent by SMTP into the chancellery mailbox, and the journal is
checked after it.
"""

from __future__ import annotations

import datetime as dt
import email
import smtplib
import time
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlmodel import Session, select

from mailflow import config, daemon, db
from mailflow.models import Answer, Document
from mailflow.values import KZ_TZ
from tests.support import CHIEF, DIRECTOR, REPO, load_rules, text_appeal

SIDORENKO, PETROV, LEGAL = "sidorenko@sevkaz.example", "petrov@sevkaz.example", "office@korgau.example"
CLERK = "kanc@sevkaz.example"  # the clerk of the ДП journal


class Post:
    def __init__(self, tmp_path, dovecot, smtp):
        self.dovecot, self.smtp = dovecot, smtp
        self.kanc, self.staff = dovecot.address(dovecot.add_user()), None
        self.rules = load_rules()
        home = tmp_path / "home"
        self.cfg = config.Config(
            home=home,
            database=f"sqlite:///{home / 'journal.db'}",
            rules_dir=REPO / "rules",
            mailboxes=(dovecot.mailbox_config(self.kanc, name="kanc"),),
            smtp=smtp.smtp_config(sender=self.kanc),
        )

    def send(self, raw: bytes, frm: str) -> None:
        before = len(self.dovecot.fetch_all(self.kanc))
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # smtplib sends bytes as they are
        with smtplib.SMTP(self.smtp.host, self.smtp.port) as c:
            c.sendmail(frm, [self.kanc], raw)
        self.dovecot.wait_for(self.kanc, lambda msgs: len(msgs) > before)

    def run(self) -> list:
        return daemon.run_once(self.cfg, self.rules)

    def inbox(self, who: str, kind: str):
        """The newest message of `kind` that mailflow sent to `who` (the staff's mailbox)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msgs = [
                email.message_from_bytes(r, policy=policy.default) for r in self.dovecot.fetch_all(self.staff)
            ]
            found = [m for m in msgs if m["X-Mailflow-Kind"] == kind and who in m["To"]]
            if found:
                return found[-1]
            time.sleep(0.1)
        raise AssertionError(f"no {kind} for {who}")

    def reply(self, frm: str, to, text: str, files=()) -> list:
        msg = EmailMessage()
        msg["From"], msg["To"] = frm, self.kanc
        msg["Subject"] = "Re: " + to["Subject"]
        msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        msg["Message-ID"] = make_msgid(domain="phone.example")
        msg["In-Reply-To"] = msg["References"] = to["Message-ID"]
        msg.set_content(f"{text}\n\nОтправлено с iPhone\n")
        for name, ctype, data in files:
            main, sub = ctype.split("/")
            msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
        self.send(msg.as_bytes(), frm)
        return self.run()

    def stage(self) -> str:
        engine = db.make_engine(self.cfg.database)
        with Session(engine) as s:
            stage = s.exec(select(Document)).one().stage
        engine.dispose()
        return stage


def test_whole_case_over_imap_and_smtp(tmp_path, dovecot, make_smtp_server):
    staff = dovecot.add_user()
    smtp = make_smtp_server(catch_all=staff)  # everyone @sevkaz.example reads this mailbox
    p = Post(tmp_path, dovecot, smtp)
    p.staff = staff
    p.send(text_appeal(frm=CHIEF, body="Направляю жалобу потребителя Омарова А."), CHIEF)
    assert [o.status for o in p.run()] == ["registered"]

    mgmt = p.inbox(DIRECTOR, "management")
    assert [o.status for o in p.reply(DIRECTOR, mgmt, "Сидоренко — подготовить ответ.")] == ["resolution"]
    assert p.stage() == "draft"

    docx = (
        "проект.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Проект ответа".encode(),
    )
    steps = [
        (SIDORENKO, "forward", "ПРОЕКТ", [docx], "head_review"),
        (PETROV, "stage", "НА ДОРАБОТКУ: приложите акт", [], "draft"),
        (SIDORENKO, "stage", "ПРОЕКТ, акт приложен", [docx], "head_review"),
        ("stranger@evil.example", None, "СОГЛАСОВАНО", [], "head_review"),  # forged: nothing
        (PETROV, "stage", "СОГЛАСОВАНО", [], "head_approved"),
        (SIDORENKO, "stage", "ЮРИСТУ", [], "legal_review"),
        (LEGAL, "stage", "СОГЛАСОВАНО", [], "management_approval"),
        (DIRECTOR, "stage", "УТВЕРЖДАЮ", [], "approved"),
        # 3.7: the clerk of the case's journal sends it; the executor may not say it went
        (SIDORENKO, None, "ОТПРАВЛЕНО нарочным", [], "approved"),
        (
            CLERK,
            "stage",
            f"ОТПРАВЛЕНО: Казпочта, РПО № RR987654321KZ, исх. № 7/1 от {dt.datetime.now(KZ_TZ):%d.%m.%Y}",
            [("копия.pdf", "application/pdf", b"%PDF-1.4 signed")],
            "closed",
        ),
    ]
    holder_msg = None
    for who, kind, text, files, want in steps:
        to = p.inbox(who, kind) if kind else holder_msg
        if kind:
            holder_msg = to
        outcomes = p.reply(who, to, text, files)
        assert p.stage() == want, (who, text, outcomes)
    engine = db.make_engine(p.cfg.database)
    with Session(engine) as s:
        doc = s.exec(select(Document)).one()
        answer = s.exec(select(Answer)).one()
    engine.dispose()
    assert doc.status == "closed" and doc.closed_at and answer.tracking == "RR987654321KZ"
    assert answer.outgoing_number == "7/1" and answer.copy_sha256
