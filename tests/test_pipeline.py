"""The flow from a Maildir to a registered appeal and a talon, on SQLite."""

from __future__ import annotations

import datetime as dt
import email
import json
from email import policy

import pytest
from sqlmodel import Session, select

from mailflow import daemon, journal
from mailflow.models import Document, Event, Inbound, Outbox
from tests.support import deliver, fake_recognizer, home_config, load_rules, text_appeal


def _outbox_files(cfg, kind: str | None = None):
    folder = cfg.home / "outbox" / "new"
    files = sorted(folder.glob("*")) if folder.exists() else []
    return [f for f in files if kind is None or f"X-Mailflow-Kind: {kind}".encode() in f.read_bytes()]


def test_text_appeal_is_registered_with_talon(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()
    deliver(cfg.home / "inbox", text_appeal(body="Жалоба. Почта заявителя consumer@example.kz"), "m1")
    outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    assert [o.status for o in outcomes] == ["registered"]
    number = outcomes[0].number
    assert number.startswith("ВХ-") and number.endswith("000001")
    files = _outbox_files(cfg, "talon")
    assert len(files) == 2  # to the RES chief and to the consumer's own address
    talons = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert {t["To"] for t in talons} == {"ayyrtau-res@sevkaz.example", "consumer@example.kz"}
    for t in talons:
        assert number in t["Subject"]
        assert number in t.get_content()
        assert "Өтініш" in t["Subject"]  # Kazakh beside Russian
    # the message left the inbox only after it was recorded
    assert not list((cfg.home / "inbox" / "new").iterdir())
    assert len(list((cfg.home / "inbox" / ".Processed" / "cur").iterdir())) == 1


def test_numbers_are_sequential_and_rerun_registers_nothing(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()
    for i in range(5):
        deliver(cfg.home / "inbox", text_appeal(body=f"Жалоба номер {i}"), f"m{i}")
    daemon.run_once(cfg, rules, recognize=fake_recognizer())
    assert daemon.run_once(cfg, rules, recognize=fake_recognizer()) == []
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    with Session(parts.engine) as s:
        seqs = sorted(d.seq for d in s.exec(select(Document)))
        assert seqs == [1, 2, 3, 4, 5]
        assert journal.verify(s).ok
    daemon.close(parts)


def test_resent_copy_is_linked_not_registered(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()
    scan = b"%PDF-1.4 fake scan bytes"
    first = text_appeal(body="Жалоба", attachments=[("скан.pdf", "application/pdf", scan)])
    again = text_appeal(
        subject="Fwd: Жалоба", body="Пересылаю ещё раз", attachments=[("скан.pdf", "application/pdf", scan)]
    )
    deliver(cfg.home / "inbox", first, "a")
    deliver(cfg.home / "inbox", first, "b")  # the very same bytes twice
    deliver(cfg.home / "inbox", again, "c")  # the same scan in a new message
    outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    assert sorted(o.status for o in outcomes) == ["linked", "linked", "registered"]
    assert len({o.number for o in outcomes}) == 1


def test_crash_before_move_only_moves_next_time(tmp_path):
    """The transaction committed but the message stayed in the inbox."""
    cfg, rules = home_config(tmp_path), load_rules()
    raw = text_appeal(body="Жалоба")
    deliver(cfg.home / "inbox", raw, "x")
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    from mailflow.mailbox import open_mailbox

    box = open_mailbox(cfg.mailboxes[0])
    box.open()
    [src] = box.pending()
    first = parts.intake.process(box.fetch(src))  # ...and no move: the "crash"
    second = parts.intake.process(box.fetch(src))
    assert first.status == "registered" and second.status == "already"
    assert second.move_to == "processed"
    with Session(parts.engine) as s:
        assert len(s.exec(select(Document)).all()) == 1
        sent = sorted((o.kind, o.recipients) for o in s.exec(select(Outbox)))
        assert [k for k, _ in sent] == ["management", "management", "pr_copy", "talon"]  # not twice
        assert len(set(sent)) == 4  # «на резолюцию» once to each manager
    daemon.close(parts)


def test_auto_reply_and_our_own_mail_are_recorded_not_answered(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()
    deliver(
        cfg.home / "inbox",
        text_appeal(
            frm="someone@example.kz", subject="Автоответ: жалоба", headers={"Auto-Submitted": "auto-replied"}
        ),
        "1",
    )
    deliver(
        cfg.home / "inbox",
        text_appeal(
            frm="kanc@sevkaz.example", subject="[ВХ-2026-000001] Талон", headers={"X-Mailflow-Kind": "talon"}
        ).replace(b"To: kanc@sevkaz.example", b"To: consumer@example.kz"),  # a talon came back
        "2",
    )
    outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    assert sorted(o.status for o in outcomes) == ["recorded", "recorded"]
    assert [f for k in ("talon", "review", "quarantine") for f in _outbox_files(cfg, k)] == []
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    with Session(parts.engine) as s:
        types = sorted(e.type for e in s.exec(select(Event).where(Event.inbound_id != None)))  # noqa: E711
        assert types == ["received_auto_reply", "received_loop"]
    daemon.close(parts)


def test_unrecognisable_mail_goes_to_clerk_review(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()
    deliver(
        cfg.home / "inbox",
        text_appeal(frm="news@shop.example", subject="Скидки недели", body="Только сегодня"),
        "1",
    )
    [o] = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    assert o.status == "review"
    [notice] = _outbox_files(cfg, "review")
    msg = email.message_from_bytes(notice.read_bytes(), policy=policy.default)
    assert "kanc" in msg["To"] and "Скидки недели" in msg.get_content()


def test_recognizer_crash_quarantines_and_tells_clerk(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()

    def broken(msg, sender, channel):
        raise RuntimeError("OCR engine exploded")

    deliver(cfg.home / "inbox", text_appeal(body="Жалоба"), "1")
    [o] = daemon.run_once(cfg, rules, recognize=broken)
    assert o.status == "quarantined" and "exploded" in o.reason
    assert len(list((cfg.home / "inbox" / ".Quarantine" / "cur").iterdir())) == 1
    parts = daemon.build(cfg, rules, recognize=broken)
    with Session(parts.engine) as s:
        inb = s.exec(select(Inbound)).one()
        assert inb.status == "quarantined" and "RuntimeError" in inb.traceback
        assert s.exec(select(Outbox).where(Outbox.kind == "quarantine")).one()
    daemon.close(parts)
    # the original is archived, byte for byte
    assert (cfg.home / "quarantine" / f"{inb.sha256}.eml").read_bytes().startswith(b"From:")


def test_backlog_mail_is_registered_without_talon(tmp_path):
    import os
    import time

    cfg, rules = home_config(tmp_path), load_rules()
    path = deliver(cfg.home / "inbox", text_appeal(body="Жалоба"), "old")  # nothing is sent for it
    old = time.time() - 90 * 86400
    os.utime(path, (old, old))
    [o] = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    assert o.status == "registered"
    assert [f for k in ("talon", "management", "pr_copy") for f in _outbox_files(cfg, k)] == []
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    with Session(parts.engine) as s:
        ev = s.exec(select(Event).where(Event.type == "registered")).one()
        assert json.loads(ev.data)["backlog"] is True
    daemon.close(parts)


def test_quarantine_survives_headers_the_database_refuses(tmp_path, monkeypatch):
    """If even the quarantine record fails with the parsed headers, it is kept without them."""
    cfg, rules = home_config(tmp_path), load_rules()
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    calls = []
    real = parts.intake._record_quarantine

    def flaky(fetched, sha, parsed, reason, tb, journal_key):
        calls.append(parsed is not None)
        if parsed is not None:
            raise ValueError("value too long for the column")
        return real(fetched, sha, parsed, reason, tb, journal_key)

    monkeypatch.setattr(parts.intake, "_record_quarantine", flaky)
    import datetime as dt

    from mailflow import mime
    from mailflow.mailbox import Fetched
    from mailflow.values import Source

    raw = text_appeal(body="Жалоба")
    out = parts.intake.quarantine(
        Fetched(Source("inbox", "maildir", "q1"), raw, dt.datetime.now(dt.UTC)),
        parts.archive.put(raw),
        mime.parse(raw),
        "test reason",
    )
    assert out.status == "quarantined" and calls == [True, False]
    with Session(parts.engine) as s:
        inb = s.exec(select(Inbound)).one()
        assert inb.status == "quarantined" and inb.subject is None
    daemon.close(parts)


def test_a_thank_you_to_the_talon_is_not_a_new_appeal(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()
    deliver(cfg.home / "inbox", text_appeal(body="Жалоба потребителя"), "1")
    daemon.run_once(cfg, rules, recognize=fake_recognizer())
    [talon] = [
        email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in _outbox_files(cfg, "talon")
    ]
    thanks = text_appeal(
        subject="Re: " + talon["Subject"],
        body="Спасибо, жалобу получили.",
        headers={"In-Reply-To": talon["Message-ID"]},
    )
    with_scan = text_appeal(
        subject="Re: " + talon["Subject"],
        body="Ещё одна жалоба во вложении",
        headers={"In-Reply-To": talon["Message-ID"]},
        attachments=[("скан2.pdf", "application/pdf", b"%PDF-1.4 other")],
    )
    deliver(cfg.home / "inbox", thanks, "2")
    deliver(cfg.home / "inbox", with_scan, "3")
    outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    assert [o.status for o in outcomes] == ["review", "registered"]


def test_an_appeal_costs_two_database_sessions(tmp_path):
    """One read session (seen before? what is it? a copy of a scan?) and one write
    transaction (number, document, event, talon, routing), whatever the appeal carries."""
    import datetime as dt

    import sqlalchemy as sa

    from mailflow.mailbox import Fetched
    from mailflow.values import Source

    cfg, rules = home_config(tmp_path), load_rules()
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    checkouts = []
    sa.event.listen(parts.engine, "checkout", lambda *a: checkouts.append(1))
    for i, raw in enumerate(
        [
            text_appeal(body="Жалоба на отключение"),
            text_appeal(
                body="Жалоба, скан во вложении",
                attachments=[("скан.pdf", "application/pdf", b"%PDF-1.4 scan")],
            ),
            text_appeal(
                subject="Re: [ВХ-2026-000001]", body="Ещё жалоба", headers={"In-Reply-To": "<unknown@x>"}
            ),
        ]
    ):
        checkouts.clear()
        out = parts.intake.process(Fetched(Source("inbox", "1", str(i)), raw, dt.datetime.now(dt.UTC)))
        assert out.status == "registered"
        assert len(checkouts) == 2, (i, len(checkouts))
    daemon.close(parts)


def test_a_counter_behind_the_journal_quarantines_and_tells_the_clerk(tmp_path, caplog):
    """Only the inbound key's IntegrityError is a lost race; any other is named,
    logged at ERROR, and the message goes to quarantine with the reason."""
    import logging

    import sqlalchemy as sa

    from mailflow.models import Counter

    cfg, rules = home_config(tmp_path), load_rules()
    deliver(cfg.home / "inbox", text_appeal(body="Жалоба номер 1"), "m1")
    [first] = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    with Session(parts.engine) as s, s.begin():  # as if the year's counter had been reset
        s.execute(sa.update(Counter).values(last=0))
    daemon.close(parts)
    deliver(cfg.home / "inbox", text_appeal(body="Жалоба номер 2"), "m2")
    with caplog.at_level(logging.ERROR, logger="mailflow"):
        [second] = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    assert first.status == "registered" and second.status == "quarantined"
    assert "uq_document_number" in second.reason or "document.number" in second.reason
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "constraint" in r.getMessage()]
    assert errors and any(n in errors[0].getMessage() for n in ("uq_document_number", "document.number"))
    # out of the inbox, into quarantine; the clerk is told; the next pass does not retry it
    assert not list((cfg.home / "inbox" / "new").iterdir())
    assert _outbox_files(cfg, "quarantine")
    assert daemon.run_once(cfg, rules, recognize=fake_recognizer()) == []


def test_the_same_message_recorded_by_another_process_is_a_lost_race(tmp_path, monkeypatch):
    import datetime as dt

    from mailflow import intake
    from mailflow.mailbox import Fetched
    from mailflow.values import Source

    cfg, rules = home_config(tmp_path), load_rules()
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    fetched = Fetched(Source("inbox", "1", "7"), text_appeal(body="Жалоба"), dt.datetime.now(dt.UTC))
    assert parts.intake.process(fetched).status == "registered"
    monkeypatch.setattr(intake, "_inbound", lambda s, source: None)  # the other process's row unseen
    monkeypatch.setattr(intake, "seen", lambda intake_, m: None)
    out = parts.intake.process(fetched)
    daemon.close(parts)
    assert (out.status, out.reason) == ("lost-race", "another process took it")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_constraints_are_named_on_both_databases(tmp_path, kind):
    import sqlalchemy as sa

    from mailflow import db
    from mailflow.models import INBOUND_KEY, Inbound
    from tests.support import database_urls

    at = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    row = dict(
        mailbox="inbox",
        uidvalidity="1",
        uid="5",
        sha256="0" * 64,
        status="received",
        disposition="appeal",
        received_at=at,
        fetched_at=at,
    )
    with database_urls(tmp_path, kind) as url:
        (tmp_path / "home").mkdir(exist_ok=True)
        engine = db.make_engine(url)
        db.migrate(engine)
        with engine.begin() as c:
            c.execute(sa.insert(Inbound), [row])
        with pytest.raises(sa.exc.IntegrityError) as caught, engine.begin() as c:
            c.execute(sa.insert(Inbound), [row])
        engine.dispose()
    assert db.constraint_of(caught.value) == INBOUND_KEY
