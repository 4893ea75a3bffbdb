"""The clerk of the case's own journal is told, even where that clerk reads mailflow's
own mailbox (kanc@ keeps the ДП journal and is the mailbox mailflow reads), and the
notice that comes back into the mailbox is left for the clerk, never acted on."""

from __future__ import annotations

import dataclasses
import email
import json
from email import policy

from sqlmodel import select

from mailflow import daemon
from mailflow.models import Event, Inbound, Outbox
from tests import reportgen
from tests.support import Office, fake_recognizer, load_rules, text_appeal

DP_CLERK, SBYT_CLERK = "kanc@sevkaz.example", "kanc-sbyt@sevkaz.example"


def _to(m) -> list[str]:
    return [a.strip() for a in m["To"].split(",")]


def _refused_reply(office: Office) -> list:
    """A stranger answers "на резолюцию": nothing changes, and the clerk is told."""
    [o] = office.send(office.reply("Сидоренко — рассмотреть.", frm="someone@evil.example"))
    assert o.status == "refused"
    return [m for m in office.sent("notice") if "не принят" in m["Subject"]]


def test_the_dp_cases_clerk_is_told_though_kanc_is_our_own_mailbox(tmp_path):
    office = Office(tmp_path)
    assert office.number.startswith("ВХ-")
    [notice] = _refused_reply(office)
    assert _to(notice) == [DP_CLERK]  # the clerk of the case's journal, not the other one


def test_the_sbyt_cases_clerk_is_told_and_not_the_dp_one(tmp_path):
    office = Office(tmp_path, journal="sbyt")
    assert office.number.startswith("ВХС-")
    [notice] = _refused_reply(office)
    assert _to(notice) == [SBYT_CLERK]


def test_a_notice_coming_back_into_our_mailbox_is_left_unread_for_the_clerk(tmp_path):
    office = Office(tmp_path)
    [notice] = _refused_reply(office)
    before = len(office.sent())
    raw = (office.cfg.home / "outbox" / "new").glob("*")
    [path] = [p for p in raw if b"X-Mailflow-Kind: notice" in p.read_bytes()]
    # the relay delivers it to kanc@, which is the mailbox mailflow reads
    [o] = office.send(path.read_bytes())
    assert o.status == "recorded" and o.move_to == "staff"
    assert len(office.sent()) == before  # nothing answered, nothing announced
    notices = office.cfg.home / "inbox" / ".Notices"
    [kept] = list((notices / "new").iterdir())  # unread, as delivered
    assert email.message_from_bytes(kept.read_bytes(), policy=policy.default)["Subject"] == notice["Subject"]
    assert list((office.cfg.home / "inbox" / "new").iterdir()) == []
    engine, s = office.db()
    with s:
        inb = s.exec(select(Inbound).order_by(Inbound.id.desc())).first()
        assert (inb.disposition, inb.status) == ("staff", "recorded")
        assert s.exec(select(Event).where(Event.type == "received_staff")).one()
    engine.dispose()
    assert daemon.run_once(office.cfg, office.rules, recognize=fake_recognizer()) == []  # nothing left


def test_the_clerk_writing_from_our_own_mailbox_is_the_clerk(tmp_path):
    """kanc@'s own mail (no mark of ours) is the clerk's: a Book entry is registered."""
    office = Office(tmp_path)
    [o] = office.send(
        text_appeal(
            frm=DP_CLERK,
            subject="Запись в Книге отзывов",
            body="Запись в Книге жалоб и предложений, жалоба на отключение",
            attachments=[("книга.pdf", "application/pdf", b"%PDF-1.4 book")],
        )
    )
    assert o.status == "registered", o
    engine, s = office.db()
    with s:
        from mailflow.models import Document

        doc = s.exec(select(Document).where(Document.number == o.number)).one()
        assert doc.channel == "book"
    engine.dispose()


def test_our_own_mail_that_cannot_be_handled_is_not_announced_to_our_mailbox(tmp_path):
    """A quarantined notice of ours would be announced to kanc@, come back and fail again:
    the loop is cut by never announcing our own mail to our own addresses."""
    rules = load_rules()
    small = dataclasses.replace(rules, limits=dataclasses.replace(rules.limits, max_message_bytes=2000))
    office = Office(tmp_path, rules=small)
    before = len(office.sent("quarantine"))
    big = text_appeal(frm="mailflow@localhost", body="x" * 3000, headers={"X-Mailflow-Kind": "notice"})
    [o] = office.send(big)
    assert o.status == "quarantined"
    assert len(office.sent("quarantine")) == before  # the only clerk of "dp" is our own mailbox
    # a stranger's message over the limit is announced to the clerk as always
    [o] = office.send(text_appeal(frm="someone@example.kz", body="y" * 3000))
    assert o.status == "quarantined"
    [told] = office.sent("quarantine")[before:]
    assert _to(told) == [DP_CLERK]


def test_a_bounce_of_our_notice_to_our_own_mailbox_is_not_announced_there(tmp_path):
    office = Office(tmp_path)
    rcpt = reportgen.Rcpt(final=DP_CLERK, diagnostic="smtp; 552 5.2.2 mailbox full")
    [o] = office.send(reportgen.postfix_dsn([rcpt], envid=None))
    assert o.status == "review"
    assert [m for m in office.sent("notice") if "не сопоставлен" in m["Subject"]] == []
    # a bounce about anyone else's address still is
    [o] = office.send(reportgen.postfix_dsn(envid=None))
    [told] = [m for m in office.sent("notice") if "не сопоставлен" in m["Subject"]]
    assert _to(told) == [DP_CLERK]


def test_chase_letters_reach_the_clerk_of_the_case(tmp_path):
    """A missing copy (3.8) is chased with the clerk of the case's journal."""
    import datetime as dt

    from sqlmodel import Session

    from mailflow import chasing
    from mailflow.models import Answer, Document
    from tests.support import resolved_case

    office = Office(tmp_path)
    engine, _ = office.db()
    kz = dt.timezone(dt.timedelta(hours=5))
    sent = dt.datetime(2026, 4, 13, 10, tzinfo=kz)  # a Monday
    doc = resolved_case(
        engine, due=dt.date(2026, 4, 30), registered=sent - dt.timedelta(days=3), number="ВХ-2026-000099"
    )
    with Session(engine) as s, s.begin():
        d = s.get(Document, doc.id)
        d.status, d.stage, d.answered_at = "answered", "dispatched", sent
        s.add(Answer(document_id=doc.id, holder="petrov@sevkaz.example", dispatched_at=sent, updated_at=sent))
    chasing.sweep(engine, office.rules, "mailflow@localhost", now=sent + dt.timedelta(days=2))
    with Session(engine) as s:
        mails = s.exec(select(Outbox).where(Outbox.kind == "copy_missing")).all()
    engine.dispose()
    assert sorted(r for m in mails for r in json.loads(m.recipients)) == [DP_CLERK, "petrov@sevkaz.example"]


def test_journals_name_clerks_from_the_staff_directory(tmp_path):
    import shutil

    import pytest

    from mailflow import rules as rules_mod
    from mailflow.config import ConfigError
    from tests.support import REPO

    shutil.copytree(REPO / "rules", tmp_path / "rules")
    path = tmp_path / "rules" / "journals.toml"
    path.write_text(path.read_text().replace('clerks = ["kanc-sbyt@', 'clerks = ["pr@'), encoding="utf-8")
    with pytest.raises(ConfigError, match="journal\\[1\\].clerks.*not a clerk"):
        rules_mod.load(tmp_path / "rules")
    assert load_rules().clerks("sbyt") == (SBYT_CLERK,) and load_rules().clerks(None) == (DP_CLERK,)
