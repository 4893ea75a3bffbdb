"""End to end through real servers: SMTP → Dovecot → mailflow → SMTP → Dovecot.

A district chief's scanned complaint is sent by SMTP into the chancellery's
IMAP mailbox; mailflow registers it (real OCR) and the talon, with its number,
is fetched by IMAP from the chief's own inbox.
"""

from __future__ import annotations

import datetime as dt
import email
import random
import smtplib
import threading
import time
from email import policy

import pytest
from sqlmodel import Session, select

from mailflow import config, daemon, db
from mailflow.models import Document
from tests.support import REPO, load_rules, text_appeal

corpusgen = pytest.importorskip("corpusgen")
CHIEF = "ayyrtau-res@sevkaz.example"  # in rules/staff.toml: Айыртауский РЭС


def _config(tmp_path, dovecot, kanc, smtp, **box):
    home = tmp_path / "home"
    return config.Config(
        home=home,
        database=f"sqlite:///{home / 'journal.db'}",
        rules_dir=REPO / "rules",
        mailboxes=(dovecot.mailbox_config(kanc, name="kanc", **box),),
        smtp=smtp.smtp_config(sender=dovecot.address(kanc)),
    )


def _send(smtp, raw: bytes, to: str) -> None:
    with smtplib.SMTP(smtp.host, smtp.port) as c:
        c.sendmail(CHIEF, [to], raw)


def _mail(dovecot, user, kind: str = "talon"):
    msgs = [email.message_from_bytes(r, policy=policy.default) for r in dovecot.fetch_all(user)]
    return [m for m in msgs if m["X-Mailflow-Kind"] == kind]


def _talons(dovecot, user):
    return _mail(dovecot, user, "talon")


def test_scanned_complaint_registered_and_talon_fetched_by_imap(tmp_path, dovecot, make_smtp_server):
    kanc, chief_box = dovecot.add_user(), dovecot.add_user()
    smtp = make_smtp_server(catch_all=chief_box)  # mail for @sevkaz.example lands here
    case = corpusgen.Case(
        doc="form", sender=CHIEF, kind="жалоба", fmt="pdf", dpi=200, family="DejaVu Serif", skew=0.8
    )
    raw, truth, _ = corpusgen.build(case, 0, random.Random(5), dt.date(2026, 4, 1))
    _send(smtp, raw, kanc)
    dovecot.wait_for(kanc)

    outcomes = daemon.run_once(_config(tmp_path, dovecot, kanc, smtp), load_rules())
    assert [o.status for o in outcomes] == ["registered"]
    number = outcomes[0].number

    talons = {m["To"]: m for m in _talons(dovecot, chief_box)}
    talon = talons[CHIEF]
    assert number in talon["Subject"] and number in talon.get_content()
    if truth["consumer"].get("email"):  # the consumer's own address gets one too
        assert number in talons[truth["consumer"]["email"]]["Subject"]
    assert talon["In-Reply-To"] == email.message_from_bytes(raw)["Message-ID"]
    # the appeal left the inbox for Processed, after it was registered
    assert dovecot.fetch_all(kanc) == []
    assert len(dovecot.fetch_all(kanc, "Processed")) == 1
    engine = db.make_engine(f"sqlite:///{tmp_path / 'home' / 'journal.db'}")
    with Session(engine) as s:
        doc = s.exec(select(Document)).one()
    engine.dispose()
    assert doc.number == number and doc.channel == "res" and doc.origin_unit == "Айыртауский РЭС"
    assert doc.kind == "жалоба" and doc.last_name == truth["consumer"]["last_name"]


def test_daemon_with_idle_answers_new_mail_while_running(tmp_path, dovecot, make_smtp_server):
    kanc, chief_box = dovecot.add_user(), dovecot.add_user()
    smtp = make_smtp_server(catch_all=chief_box)
    cfg = _config(tmp_path, dovecot, kanc, smtp, poll_interval=60)  # so only IDLE can be quick
    stop = threading.Event()
    t = threading.Thread(
        target=daemon.run_forever, args=(cfg, load_rules()), kwargs={"stop": stop}, daemon=True
    )
    t.start()
    try:
        time.sleep(1.5)  # connected and idling
        for i in range(3):
            dovecot.append(kanc, text_appeal(frm=CHIEF, body=f"Направляю жалобу потребителя {i}"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(_talons(dovecot, chief_box)) < 3:
            time.sleep(0.2)
        subjects = sorted(m["Subject"] for m in _talons(dovecot, chief_box))
        assert len(subjects) == 3, subjects
        assert len({s.split("]")[0] for s in subjects}) == 3  # three different numbers
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()
