"""Proof of receipt through a real MTA: Postfix in front of Dovecot LMTP.

One case from start to end, every hop real: a chief's complaint → mailflow
(IMAP) → "на резолюцию" to the director's mailbox → the director's reply →
the resolution forwarded through Postfix, asking for DSNs → one addressee's
mailbox gets it and Postfix returns a "delivered" DSN; the other addressee
does not exist and Postfix returns a "failed" DSN → mailflow records both and
tells the clerk about the failure.
"""

from __future__ import annotations

import datetime as dt
import email
import shutil
import smtplib
import time
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlmodel import Session, select

from mailflow import config, daemon, db, export
from mailflow import rules as rules_mod
from mailflow.models import Delivery, Document
from tests.support import REPO, text_appeal


def _staff(dovecot) -> dict[str, str]:
    """A staff directory whose addresses are real mailboxes (but one)."""
    who = {k: dovecot.add_user() for k in ("kanc", "chief", "director", "petrov", "clerk")}
    who["sidorenko"] = f"sidorenko-{time.time_ns()}@{dovecot.domain}"  # no such mailbox
    return who


def _rules(tmp_path, who: dict[str, str]):
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    (rules_dir / "staff.toml").write_text(
        f'''
[[person]]
name = "Начальник Айыртауского РЭС"
email = "{who["chief"]}"
roles = ["res_chief"]
unit = "Айыртауский РЭС"

[[person]]
name = "Жумабаев Ерлан Серикович"
email = "{who["director"]}"
roles = ["director"]
unit = "Руководство"

[[person]]
name = "Петров Алексей Сергеевич"
email = "{who["petrov"]}"
roles = ["unit_head"]
unit = "Служба распределительных сетей"

[[person]]
name = "Сидоренко Ольга Викторовна"
email = "{who["sidorenko"]}"
roles = ["executor"]
unit = "Служба распределительных сетей"

[[person]]
name = "Канцелярия"
email = "{who["clerk"]}"
roles = ["clerk"]
unit = "Канцелярия"
''',
        encoding="utf-8",
    )
    journals = rules_dir / "journals.toml"  # the journals name none of these clerks: every clerk is told
    journals.write_text(
        "\n".join(
            line
            for line in journals.read_text(encoding="utf-8").splitlines()
            if not line.startswith("clerks")
        )
        + "\n",
        encoding="utf-8",
    )
    return rules_mod.load(rules_dir)


def _wait(dovecot, user, kind_or_pred, timeout=20.0, folder="INBOX"):
    pred = kind_or_pred if callable(kind_or_pred) else (lambda m: m["X-Mailflow-Kind"] == kind_or_pred)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msgs = [email.message_from_bytes(r, policy=policy.default) for r in dovecot.fetch_all(user, folder)]
        found = [m for m in msgs if pred(m)]
        if found:
            return found
        time.sleep(0.1)
    raise TimeoutError(f"nothing arrived for {user}")


def test_forward_through_postfix_then_delivered_and_failed_dsns_are_recorded(tmp_path, dovecot, postfix):
    who = _staff(dovecot)
    rules = _rules(tmp_path, who)
    home = tmp_path / "home"
    cfg = config.Config(
        home=home,
        database=f"sqlite:///{home / 'journal.db'}",
        rules_dir=rules.dir,
        mailboxes=(dovecot.mailbox_config(who["kanc"], name="kanc"),),
        smtp=postfix.smtp_config(sender=who["kanc"]),
    )
    smtp = smtplib.SMTP(postfix.host, postfix.port)
    smtp.sendmail(
        who["chief"],
        [who["kanc"]],
        text_appeal(frm=who["chief"], body="Направляю жалобу потребителя Омарова А."),
    )
    dovecot.wait_for(who["kanc"])
    [o] = daemon.run_once(cfg, rules)
    assert o.status == "registered"

    [mgmt] = _wait(dovecot, who["director"], "management")  # through Postfix, into the mailbox
    reply = EmailMessage()
    reply["From"], reply["To"] = who["director"], who["kanc"]
    reply["Subject"] = "Re: " + mgmt["Subject"]
    reply["Message-ID"] = make_msgid(domain=dovecot.domain)
    reply["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    reply["In-Reply-To"] = reply["References"] = mgmt["Message-ID"]
    reply.set_content("Петрову А.С., Сидоренко — рассмотреть, подготовить ответ.")
    smtp.send_message(reply)
    smtp.quit()
    _wait(dovecot, who["kanc"], lambda m: m["In-Reply-To"] == mgmt["Message-ID"])
    assert [o.status for o in daemon.run_once(cfg, rules)] == ["resolution"]

    [fwd] = _wait(dovecot, who["petrov"], "forward")  # the addressee has it
    assert fwd["Disposition-Notification-To"] == who["kanc"]
    # Postfix's DSNs come back to mailflow's mailbox: one delivered, one failed
    reports = _wait(dovecot, who["kanc"], lambda m: m.get_content_type() == "multipart/report")
    deadline = time.monotonic() + 20
    while len(reports) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        reports = _wait(dovecot, who["kanc"], lambda m: m.get_content_type() == "multipart/report")
    assert len(reports) == 2
    outcomes = daemon.run_once(cfg, rules)
    assert sorted(o.status for o in outcomes) == ["receipt", "receipt"]

    engine = db.make_engine(cfg.database)
    with Session(engine) as s:
        ok = s.exec(select(Delivery).where(Delivery.to_addr == who["petrov"])).one()
        bad = s.exec(select(Delivery).where(Delivery.to_addr == who["sidorenko"])).one()
        doc = s.exec(select(Document)).one()
        rec = export.document_record(s, doc)
    engine.dispose()
    assert ok.accepted_at and ok.queue_id and ok.smtp_code == 250
    assert ok.delivered_at and ok.status_code == "2.0.0" and not ok.relayed_at
    assert bad.failed_at and bad.status_code == "5.1.1"
    ladder = {d["to"]: d["proof"] for d in rec["deliveries"]}
    assert ladder == {who["petrov"]: "delivered", who["sidorenko"]: "failed"}
    [notice] = _wait(dovecot, who["clerk"], lambda m: "не доставлено" in str(m["Subject"]))
    assert who["sidorenko"] in notice.get_content()
