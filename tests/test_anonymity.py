"""Anonymous appeals: flagged at registration, not considered only by the clerk's decision."""

from __future__ import annotations

import datetime as dt
import email
import json
from email import policy

import pytest
from sqlmodel import Session, select

from mailflow import anonymity, chasing, daemon
from mailflow.models import Chase, Document, Event
from mailflow.rules import Anonymity
from mailflow.services import NotAllowed, Refused
from mailflow.values import Consumer, Recognition
from tests.support import deliver, home_config, load_rules, text_appeal

CLERK = "kanc@sevkaz.example"


@pytest.mark.parametrize(
    "consumer, review, when, flagged",
    [
        (Consumer(), (), "both", True),
        (Consumer(last_name="Ахметов"), (), "both", False),
        (Consumer(address="г. Петропавловск"), (), "both", False),
        (Consumer(org_name="ТОО «Береке»"), (), "both", False),
        (Consumer(), ("last_name",), "both", False),  # the reader was unsure: not the applicant's silence
        (Consumer(), ("address",), "both", False),
        (Consumer(last_name="Ахметов"), (), "either", True),  # a name, but nowhere to answer
        (Consumer(last_name="Ахметов", email="a@example.kz"), (), "either", False),
        (Consumer(phone="+77051234560"), (), "both", True),  # a phone is not an address to answer to
    ],
)
def test_when_an_appeal_is_flagged(consumer, review, when, flagged):
    assert anonymity.is_anonymous(Anonymity(flag_when=when), consumer, review) is flagged


def _nobody(msg, sender, channel):
    return Recognition(kind="жалоба", group=1, consumer=Consumer(), origin_unit=None, needs_review=())


@pytest.fixture
def flagged(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()
    deliver(cfg.home / "inbox", text_appeal(body="Жалоба без подписи"), "m1")
    [o] = daemon.run_once(cfg, rules, recognize=_nobody)
    parts = daemon.build(cfg, rules)
    yield cfg, parts, o.number
    daemon.close(parts)


def _doc(parts, number) -> Document:
    with Session(parts.engine) as s:
        return s.exec(select(Document).where(Document.number == number)).one()


def test_the_clerk_is_asked_and_confirms_it_is_not_considered(flagged):
    cfg, parts, number = flagged
    doc = _doc(parts, number)
    assert "anonymous" in json.loads(doc.needs_review)
    mails = [
        email.message_from_bytes(f.read_bytes(), policy=policy.default)
        for f in (cfg.home / "outbox" / "new").glob("*")
    ]
    [asked] = [m for m in mails if "Анонимное обращение" in m["Subject"]]
    assert "kanc" in asked["To"] and number in asked.get_body(("plain",)).get_content()
    with pytest.raises(NotAllowed):
        parts.services.anonymous(number, consider=False, reason="без подписи", by="ivanov@sevkaz.example")
    with pytest.raises(Refused):
        parts.services.anonymous(number, consider=False, reason=" ", by=CLERK)
    parts.services.anonymous(number, consider=False, reason="нет фамилии и адреса", by=CLERK)
    doc = _doc(parts, number)
    assert doc.status == "not_considered" and "anonymous" not in json.loads(doc.needs_review)
    with pytest.raises(Refused, match="не отмечено"):
        parts.services.anonymous(number, consider=True, reason="передумали", by=CLERK)
    # no reminders for it, ever
    chasing.sweep(
        parts.engine, parts.services.rules, "m@l", now=dt.datetime.now(dt.UTC) + dt.timedelta(days=60)
    )
    with Session(parts.engine) as s:
        assert s.exec(select(Chase).where(Chase.document_id == doc.id)).all() == []
        [ev] = s.exec(select(Event).where(Event.type == "not_considered")).all()
        assert json.loads(ev.data)["by"] == CLERK


def test_the_laws_exception_runs_as_a_normal_case(flagged):
    cfg, parts, number = flagged
    before = _doc(parts, number).status
    parts.services.anonymous(number, consider=True, reason="сообщение об угрозе безопасности", by=CLERK)
    doc = _doc(parts, number)
    assert doc.status == before and "anonymous" not in json.loads(doc.needs_review)
    with Session(parts.engine) as s:
        assert s.exec(select(Event).where(Event.type == "anonymous_exception")).one()


def test_a_signed_appeal_is_not_flagged(tmp_path):
    from tests.support import fake_recognizer

    cfg, rules = home_config(tmp_path), load_rules()
    deliver(cfg.home / "inbox", text_appeal(body="Жалоба"), "m1")
    [o] = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    parts = daemon.build(cfg, rules)
    try:
        assert "anonymous" not in json.loads(_doc(parts, o.number).needs_review)
        with pytest.raises(Refused, match="не отмечено"):
            parts.services.anonymous(o.number, consider=False, reason="x", by=CLERK)
    finally:
        daemon.close(parts)
