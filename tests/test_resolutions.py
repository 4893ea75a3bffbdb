"""Resolutions by reply, who may give one, forwarding with receipts, proof of receipt.

Regulation 1.5–1.8, 1.11–1.12: each test drives the daemon the way people
would: mail lands in the inbox, `run --once` handles it, and what it sent is
read back from the outbound Maildir.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mailflow import daemon, export, sweeps
from mailflow.case import ladder
from mailflow.models import Delivery, Document, Event, Receipt, Resolution, Token
from tests.support import DIRECTOR, REPO, Office, fake_recognizer, load_rules, text_appeal

reportgen = pytest.importorskip("reportgen")
KZ = dt.timezone(dt.timedelta(hours=5))


def _future(days: int = 20) -> dt.date:
    return dt.datetime.now(KZ).date() + dt.timedelta(days=days)


def _unchanged(office: Office) -> None:
    engine, s = office.db()
    with s:
        assert s.exec(select(Resolution)).all() == []
        assert s.exec(select(Delivery)).all() == []
        assert (
            s.exec(select(Token).where(Token.purpose == "resolution", Token.holder == DIRECTOR)).one().used_at
            is None
        )
    engine.dispose()
    assert office.sent("forward") == []


def test_resolution_by_reply_is_confirmed_and_forwarded_with_receipts(tmp_path):
    office = Office(tmp_path)
    due = _future(10)
    [o] = office.send(
        office.reply(f"Петрову А.С., Сидоренко — рассмотреть, подготовить ответ. Срок до {due:%d.%m.%Y}")
    )
    assert o.status == "resolution" and o.number == office.number
    [ok] = office.sent("resolution_ok")
    assert ok["To"] == DIRECTOR and ok["In-Reply-To"]
    text = ok.get_content()
    assert "Петров Алексей Сергеевич" in text and "Сидоренко Ольга Викторовна" in text
    assert f"{due:%d.%m.%Y}" in text
    forwards = {m["To"]: m for m in office.sent("forward")}
    assert set(forwards) == {"petrov@sevkaz.example", "sidorenko@sevkaz.example"}
    for m in forwards.values():
        assert m["Disposition-Notification-To"] == "mailflow@localhost"
        assert office.number in m["Subject"] and f"{due:%d.%m.%Y}" in m["Subject"]
        [scan] = list(m.iter_attachments())
        assert scan.get_content() == b"%PDF-1.4 scan"
    assert "Вы — ответственный" in forwards["petrov@sevkaz.example"].get_body(("plain",)).get_content()
    engine, s = office.db()
    with s:
        res = s.exec(select(Resolution)).one()
        assert res.due_date == due and res.due_source == "resolution" and res.author == DIRECTOR
        deliveries = s.exec(select(Delivery).order_by(Delivery.id)).all()
        assert [d.to_addr for d in deliveries] == ["petrov@sevkaz.example", "sidorenko@sevkaz.example"]
        assert all(d.accepted_at and d.smtp_code == 250 and d.envelope_id for d in deliveries)
        assert (
            s.exec(select(Token).where(Token.purpose == "resolution", Token.holder == DIRECTOR)).one().used_at
            is not None
        )
        doc = s.exec(select(Document)).one()
        rec = export.document_record(s, doc)
    engine.dispose()
    assert rec["due_date"] == due.isoformat() and rec["resolution"]["author"] == DIRECTOR
    assert [e["email"] for e in rec["executors"]] == ["petrov@sevkaz.example", "sidorenko@sevkaz.example"]
    assert rec["executors"][0]["responsible"] and rec["deliveries"][0]["proof"] == "accepted"
    # the outbound Maildir keeps the envelope id asked of the relay
    raw = next((office.cfg.home / "outbox" / "new").glob("*")).read_bytes()
    assert b"X-Envelope-From" in raw


def test_no_deadline_means_the_statutory_one_and_a_later_one_is_capped(tmp_path):
    office = Office(tmp_path)
    office.send(office.reply("Иванову. В работу."))
    engine, s = office.db()
    with s:
        res = s.exec(select(Resolution)).one()
        doc = s.exec(select(Document)).one()
    engine.dispose()
    rules = office.rules
    statutory = rules.deadlines.due(doc.kind, doc.registered_at.astimezone(KZ).date(), rules.calendar)
    assert res.due_date == statutory and "АППК" in res.due_source
    # a corrected resolution with a date past the law's is held to the law's
    office2 = Office(tmp_path / "two")
    office2.send(office2.reply(f"Иванову — срок до {_future(200):%d.%m.%Y}"))
    engine, s = office2.db()
    with s:
        assert s.exec(select(Resolution)).one().due_date <= statutory + dt.timedelta(days=3)
    engine.dispose()


def test_unclear_names_are_asked_about_and_nothing_changes(tmp_path):
    office = Office(tmp_path)
    [o] = office.send(office.reply("Петрушкину — рассмотреть."))
    assert o.status == "unclear"
    [q] = office.sent("resolution_unclear")
    assert q["To"] == DIRECTOR and "Петрушкин" in q.get_content()
    _unchanged(office)
    [o] = office.send(office.reply("Сидоренко — рассмотреть."))  # the same token still works
    assert o.status == "resolution"


@pytest.mark.parametrize(
    "forgery",
    [
        "outsider",
        "executor",
        "auto_reply",
        "used_twice",
        "expired",
        "dkim_fail",
        "no_link",
    ],
)
def test_forged_or_invalid_replies_change_nothing_and_the_clerk_is_told(tmp_path, forgery):
    rules = load_rules()
    if forgery == "dkim_fail":
        rules_dir = tmp_path / "rules"
        shutil.copytree(REPO / "rules", rules_dir)
        f = rules_dir / "routing.toml"
        f.write_text(
            f.read_text().replace("trusted_authserv_ids = []", 'trusted_authserv_ids = ["mx.sevkaz.example"]')
        )
        from mailflow import rules as rules_mod

        rules = rules_mod.load(rules_dir)
    office = Office(tmp_path / "home", rules)
    text = "Сидоренко — рассмотреть."
    if forgery == "outsider":
        raw = office.reply(text, frm="director@sevkaz-example.com")
    elif forgery == "executor":
        raw = office.reply(text, frm="ivanov@sevkaz.example")
    elif forgery == "auto_reply":
        raw = office.reply(text, headers={"Auto-Submitted": "auto-replied"})
    elif forgery == "used_twice":
        office.send(office.reply("Петрову — рассмотреть."))
        raw = office.reply(text)
    elif forgery == "expired":
        engine, s = office.db()
        with s, s.begin():
            s.execute(
                sa.update(Token)
                .where(Token.purpose == "resolution")
                .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
            )
        engine.dispose()
        raw = office.reply(text)
    elif forgery == "dkim_fail":  # our server says DKIM and SPF failed; a forged "pass" header is ignored
        raw = office.reply(
            text,
            headers={
                "Authentication-Results": "mx.sevkaz.example; dkim=fail header.d=sevkaz.example; "
                "spf=fail smtp.mailfrom=sevkaz.example"
            },
        )
        raw = b"Authentication-Results: evil.example; dkim=pass header.d=sevkaz.example\r\n" + raw
    else:  # a fresh message that only names the number: not an answer to ours, no token
        raw = office.reply(text, in_reply_to=None, subject=f"Резолюция по {office.number}")
    [o] = office.send(raw)
    if forgery == "used_twice":
        engine, s = office.db()
        with s:
            [res] = s.exec(select(Resolution)).all()  # still only the first one
            assert res.text.startswith("Петрову")
        engine.dispose()
        assert o.status == "refused"
    elif forgery == "no_link":
        assert o.status == "review"
        _unchanged(office)
    else:
        assert o.status == "refused", o
        _unchanged(office)
    notices = [m.get_content() for m in office.sent("notice") + office.sent("review")]
    assert notices, "the clerk was not told"


def test_dkim_pass_from_trusted_server_is_accepted(tmp_path):
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    f = rules_dir / "routing.toml"
    f.write_text(
        f.read_text().replace("trusted_authserv_ids = []", 'trusted_authserv_ids = ["mx.sevkaz.example"]')
    )
    from mailflow import rules as rules_mod

    office = Office(tmp_path / "home", rules_mod.load(rules_dir))
    [o] = office.send(
        office.reply(
            "Сидоренко — рассмотреть.",
            headers={"Authentication-Results": "mx.sevkaz.example; dkim=pass header.d=sevkaz.example"},
        )
    )
    assert o.status == "resolution"


def _trusting(tmp_path):
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    f = rules_dir / "routing.toml"
    f.write_text(
        f.read_text().replace("trusted_authserv_ids = []", 'trusted_authserv_ids = ["mx.sevkaz.example"]')
    )
    from mailflow import rules as rules_mod

    return rules_mod.load(rules_dir)


@pytest.mark.parametrize(
    "headers",
    [
        # our server's fail on top, the sender's own "pass" with our id right below it
        [
            "mx.sevkaz.example; dkim=fail header.d=sevkaz.example; spf=fail smtp.mailfrom=sevkaz.example",
            "mx.sevkaz.example; dkim=pass header.d=sevkaz.example",
        ],
        # our server did not stamp it at all (configured but absent): fail closed
        [],
        ["relay.example; none", "mx.sevkaz.example; dkim=pass header.d=sevkaz.example"],
    ],
)
def test_a_forged_directors_resolution_is_not_applied(tmp_path, headers):
    office = Office(tmp_path / "home", _trusting(tmp_path))
    raw = office.reply("Сидоренко — рассмотреть.")
    for h in reversed(headers):  # the first in the list ends on top, as a server prepends
        raw = f"Authentication-Results: {h}\r\n".encode() + raw
    [o] = office.send(raw)
    assert o.status == "refused", o
    _unchanged(office)


def test_a_real_opendkim_header_is_accepted(tmp_path):
    office = Office(tmp_path / "home", _trusting(tmp_path))
    raw = office.reply("Сидоренко — рассмотреть.")
    raw = (
        b"Authentication-Results: mx.sevkaz.example; dkim=pass (2048-bit key; unprotected) "
        b"header.d=sevkaz.example header.i=@sevkaz.example header.b=AbCd\r\n" + raw
    )
    [o] = office.send(raw)
    assert o.status == "resolution", o


def test_token_in_subject_alone_is_enough(tmp_path):
    office = Office(tmp_path)
    token = office.mgmt["Subject"].rsplit("#", 1)[1]
    [o] = office.send(
        office.reply("Сидоренко — рассмотреть.", in_reply_to=None, subject=f"резолюция #{token}")
    )
    assert o.status == "resolution"


def _forward(office: Office, to: str):
    m = next(m for m in office.sent("forward") if m["To"] == to)
    engine, s = office.db()
    with s:
        d = s.exec(select(Delivery).where(Delivery.to_addr == to)).one()
    engine.dispose()
    orig = reportgen.Original(
        message_id=m["Message-ID"], subject=m["Subject"], from_="mailflow@localhost", to=to
    )
    return m, d, orig


def test_delivery_reports_and_read_receipts_climb_the_proof_ladder(tmp_path):
    office = Office(tmp_path)
    office.send(office.reply("Петрову, Сидоренко, Ивановой — рассмотреть."))
    _, d1, o1 = _forward(office, "petrov@sevkaz.example")
    _, d2, o2 = _forward(office, "sidorenko@sevkaz.example")
    _, d3, o3 = _forward(office, "ivanova@sevkaz.example")
    rg = reportgen
    results = [
        office.send(
            rg.postfix_dsn(
                [rg.Rcpt(final=o1.to, action="relayed", status="2.0.0", diagnostic="smtp; 250 ok")],
                envid=d1.envelope_id,
                original=o1,
                kind="success",
            )
        ),
        office.send(
            rg.postfix_dsn(
                [rg.Rcpt(final=o1.to, action="delivered", status="2.0.0", diagnostic="smtp; 250 ok")],
                envid=d1.envelope_id,
                original=o1,
                kind="success",
            )
        ),
        office.send(rg.mdn(reader=o1.to, original=o1, original_message_id=o1.message_id)),
        # Exchange: no Original-Message-ID, no envelope id, matched by the reader and subject
        office.send(rg.outlook_receipt(reader=o2.to, original=o2, in_reply_to=False)),
        office.send(rg.postfix_dsn([rg.Rcpt(final=o3.to)], envid=None, original=o3)),
    ]
    assert [r[0].status for r in results] == ["receipt"] * 5
    engine, s = office.db()
    with s:
        d1, d2, d3 = (s.get(Delivery, d.id) for d in (d1, d2, d3))
        assert d1.relayed_at and d1.delivered_at and d1.displayed_at
        assert d2.displayed_at and not d2.delivered_at
        assert d3.failed_at and d3.status_code == "5.1.1"
        how = {r.delivery_id: r.matched_by for r in s.exec(select(Receipt))}
        assert how[d1.id] in ("envelope-id", "original-message-id")
        assert how[d2.id] == "sender-and-subject" and how[d3.id] == "original-message-id"
        rungs = [ladder.level(d) for d in (d1, d2, d3)]
        types = [e.type for e in s.exec(select(Event).order_by(Event.id))]
    engine.dispose()
    assert rungs == ["displayed", "displayed", "failed"]
    assert types.count("receipt") == 5
    undelivered = [m for m in office.sent("notice") if "не доставлено" in m["Subject"]]
    assert len(undelivered) == 1 and o3.to in undelivered[0].get_content()


def test_relayed_alone_is_not_delivery_and_unproven_deliveries_are_reported_once(tmp_path):
    office = Office(tmp_path)
    office.send(office.reply("Петрову — рассмотреть."))
    _, d, o = _forward(office, "petrov@sevkaz.example")
    rg = reportgen
    office.send(
        rg.postfix_dsn(
            [rg.Rcpt(final=o.to, action="relayed", status="2.0.0", diagnostic="smtp; 250 ok")],
            envid=d.envelope_id,
            original=o,
            kind="success",
        )
    )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)
    engine, _ = office.db()
    assert sweeps.unproven_deliveries(engine, office.rules, "mailflow@localhost", now=later) == 1
    assert sweeps.unproven_deliveries(engine, office.rules, "mailflow@localhost", now=later) == 0
    with Session(engine) as s:
        assert ladder.level(s.get(Delivery, d.id)) == "relayed"
    engine.dispose()
    daemon.run_once(office.cfg, office.rules, recognize=fake_recognizer())  # flush
    [n] = [m for m in office.sent("notice") if "Нет подтверждения" in m["Subject"]]
    assert "relayed" in n.get_content()


def test_unmatched_report_goes_to_the_clerk(tmp_path):
    office = Office(tmp_path)
    [o] = office.send(reportgen.postfix_dsn())  # about a message we never sent
    assert o.status == "review"
    [n] = [m for m in office.sent("notice") if "не сопоставлен" in m["Subject"]]
    engine, s = office.db()
    with s:
        assert s.exec(select(Receipt)).one().delivery_id is None
    engine.dispose()


def test_addressee_reply_is_the_last_rung(tmp_path):
    office = Office(tmp_path)
    office.send(office.reply("Петрову — рассмотреть."))
    fwd, d, _ = _forward(office, "petrov@sevkaz.example")
    answer = text_appeal(
        frm="petrov@sevkaz.example",
        subject="Re: " + fwd["Subject"],
        body="Принято в работу.",
        headers={"In-Reply-To": fwd["Message-ID"]},
    )
    [o] = office.send(answer)
    assert o.status == "unclear"  # an acknowledgement, not a step of the answer: he is told so
    [told] = office.sent("stage_unclear")
    assert told["To"] == "petrov@sevkaz.example" and "ПРОЕКТ" in told.get_content()
    engine, s = office.db()
    with s:
        assert ladder.level(s.get(Delivery, d.id)) == "replied"
        assert len(s.exec(select(Document)).all()) == 1  # not registered as a new appeal
    engine.dispose()


def test_paper_resolution_by_the_clerk(tmp_path):
    import subprocess
    import sys

    office = Office(tmp_path)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailflow",
            "--home",
            str(office.cfg.home),
            "resolve",
            office.number,
            "Сидоренко, Петрову — подготовить ответ",
            "--by",
            DIRECTOR,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "Сидоренко Ольга Викторовна" in r.stdout
    show = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(office.cfg.home), "journal", "show", office.number],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Сидоренко Ольга Викторовна (ответственный)" in show.stdout
    assert "sidorenko@sevkaz.example: принято сервером" in show.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailflow",
            "--home",
            str(office.cfg.home),
            "resolve",
            office.number,
            "Петрушкину",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "Петрушкин" in bad.stderr


def test_each_managers_token_answers_for_them_only(tmp_path):
    """The deputy answering the director's «на резолюцию» (a forward, a shared mailbox)
    changes nothing; answering their own, it is their resolution."""
    office = Office(tmp_path)
    deputy = "deputy@sevkaz.example"
    [own] = [m for m in office.sent("management") if m["To"] == deputy]
    [o] = office.send(office.reply("Петрову — рассмотреть.", frm=deputy))  # to the director's mail
    assert o.status != "resolution"
    _unchanged(office)
    [o] = office.send(office.reply("Петрову — рассмотреть.", frm=deputy, to_message=own))
    assert o.status == "resolution"
    engine, s = office.db()
    with s:
        assert s.exec(select(Resolution)).one().author == deputy
    engine.dispose()
