"""Regulation 1.5, 1.7, 2.1–2.4: management, the PR specialist, monitoring numbers."""

from __future__ import annotations

import email
import json
from email import policy

from sqlmodel import Session, select

from mailflow import daemon, db, journal
from mailflow.models import Document, Event, Monitoring, Token
from tests.support import deliver, fake_recognizer, home_config, load_rules, text_appeal

CLERK = "kanc-sbyt@sevkaz.example"
CHIEF = "ayyrtau-res@sevkaz.example"


def _run(tmp_path, *messages):
    cfg, rules = home_config(tmp_path), load_rules()
    for i, raw in enumerate(messages):
        deliver(cfg.home / "inbox", raw, f"m{i:02d}")
    outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    sent = [
        email.message_from_bytes(f.read_bytes(), policy=policy.default)
        for f in sorted((cfg.home / "outbox" / "new").glob("*"))
    ]
    return cfg, outcomes, sent


def _kind(sent, kind):
    return [m for m in sent if m["X-Mailflow-Kind"] == kind]


def test_complaint_goes_to_management_with_token_and_scan_and_to_pr(tmp_path):
    scan = b"%PDF-1.4 scan"
    cfg, [o], sent = _run(
        tmp_path,
        text_appeal(
            frm=CHIEF,
            body="Направляю жалобу потребителя",
            attachments=[("скан.pdf", "application/pdf", scan)],
        ),
    )
    mails = _kind(sent, "management")  # one to each manager, each with a token of their own
    assert sorted(m["To"] for m in mails) == ["deputy@sevkaz.example", "director@sevkaz.example"]
    [mgmt] = [m for m in mails if m["To"] == "director@sevkaz.example"]
    assert o.number in mgmt["Subject"] and "На резолюцию" in mgmt["Subject"]
    [att] = list(mgmt.iter_attachments())
    assert att.get_filename() == "скан.pdf" and att.get_content() == scan
    body = mgmt.get_body(("plain",)).get_content()
    assert "КАК ОТВЕТИТЬ" in body and "Срок ответа по закону" in body
    engine = db.make_engine(cfg.database)
    with Session(engine) as s:
        tokens = {t.holder: t for t in s.exec(select(Token).where(Token.purpose == "resolution"))}
        doc = s.exec(select(Document)).one()
    engine.dispose()
    assert set(tokens) == {"director@sevkaz.example", "deputy@sevkaz.example"}
    tok = tokens["director@sevkaz.example"]
    assert f"#{tok.token}" in mgmt["Subject"] and tok.message_id == mgmt["Message-ID"]
    assert tokens["deputy@sevkaz.example"].token not in mgmt.as_string()  # nobody sees another's
    assert tok.used_at is None and tok.expires_at > doc.registered_at
    assert doc.status == "on_resolution"
    [pr] = _kind(sent, "pr_copy")  # 1.7: a complaint's copy to the PR specialist
    assert pr["To"] == "pr@sevkaz.example" and o.number in pr["Subject"]


def test_review_from_a_district_is_not_copied_to_pr(tmp_path):
    _, [o], sent = _run(tmp_path, text_appeal(frm=CHIEF, body="Направляю отзыв потребителя"))
    assert _kind(sent, "pr_copy") == [] and len(_kind(sent, "management")) == 2  # director, deputy


def test_book_entries_get_monitoring_numbers_per_register(tmp_path):
    cfg, outcomes, sent = _run(
        tmp_path,
        text_appeal(frm=CLERK, subject="Книга отзывов: запись", body="Запись: отзыв о работе"),
        text_appeal(frm=CLERK, subject="Книга отзывов: запись", body="Запись: жалоба на кассира"),
        text_appeal(frm=CLERK, subject="Книга отзывов: запись", body="Запись: предложение"),
        text_appeal(frm=CLERK, subject="Книга отзывов: запись", body="Запись неразборчива"),
    )
    engine = db.make_engine(cfg.database)
    with Session(engine) as s:
        rows = {(m.register_key, m.seq) for m in s.exec(select(Monitoring))}
        unnumbered = s.exec(select(Document).where(Document.kind == None)).one()  # noqa: E711
    engine.dispose()
    assert rows == {("reviews", 1), ("complaints", 1), ("reviews", 2)}
    prs = _kind(sent, "pr_copy")
    assert len(prs) == 4  # 2.1: every Book entry reaches the PR specialist at once
    texts = [m.get_content() for m in prs]
    assert sum("Мониторинг отзывов и предложений потребителей" in t for t in texts) == 2
    assert sum("Мониторинг жалоб, претензий потребителей" in t for t in texts) == 1
    assert sum("не присвоен" in t for t in texts) == 1 and unnumbered.channel == "book"


SC = "sc2@sevkaz.example"  # a service centre's chief (2.2–2.3)


def _monitoring(cfg):
    engine = db.make_engine(cfg.database)
    with Session(engine) as s:
        rows = {
            d.number: (m.register_key, m.seq)
            for m, d in s.exec(select(Monitoring, Document).where(Monitoring.document_id == Document.id))
        }
    engine.dispose()
    return rows


def test_a_service_centres_reviews_and_suggestions_reach_pr_and_get_their_numbers(tmp_path):
    cfg, outcomes, sent = _run(
        tmp_path,
        text_appeal(frm=SC, subject="Отзыв", body="Направляю отзыв потребителя"),
        text_appeal(frm=SC, subject="Предложение", body="Направляю предложение потребителя"),
        text_appeal(frm=SC, subject="Жалоба", body="Направляю жалобу потребителя"),
        text_appeal(frm=SC, subject="Заявление", body="Направляю заявление потребителя"),
        text_appeal(frm=SC, subject="Скан", body="Направляю скан, неразборчиво"),
        text_appeal(frm=CLERK, subject="Книга отзывов: запись", body="Запись: отзыв о работе"),
    )
    review, suggestion, complaint, application, unknown, book = (o.number for o in outcomes)
    assert _monitoring(cfg) == {review: ("reviews", 1), suggestion: ("reviews", 2), book: ("reviews", 3)}
    copies = {m["X-Mailflow-Number"]: m.get_content() for m in _kind(sent, "pr_copy")}
    assert set(copies) == {review, suggestion, complaint, unknown, book}  # not the application
    assert "«Мониторинг отзывов и предложений потребителей»: 2/" in copies[suggestion]
    assert "не присвоен" in copies[unknown] and "Номер в базе" not in copies[complaint]


def test_show_export_and_registers_list_give_the_numbers(tmp_path, capsys):
    from mailflow import cli

    cfg, outcomes, _ = _run(
        tmp_path,
        text_appeal(frm=SC, subject="Отзыв", body="Направляю отзыв потребителя"),
        text_appeal(frm=CLERK, subject="Книга отзывов: запись", body="Запись: жалоба на кассира"),
        text_appeal(frm=SC, subject="Скан", body="Направляю скан, неразборчиво"),
    )
    review, complaint, unknown = (o.number for o in outcomes)
    home = ["--home", str(cfg.home)]
    capsys.readouterr()
    assert cli.main([*home, "journal", "show", review]) == 0
    assert (
        "Мониторинг (п. 2.4): база «Мониторинг отзывов и предложений потребителей», № 1/"
        in capsys.readouterr().out
    )
    assert cli.main([*home, "journal", "show", unknown]) == 0
    assert "номер будет присвоен, когда будет указан вид обращения" in capsys.readouterr().out
    assert cli.main([*home, "journal", "export"]) == 0
    recs = {r["incoming_number"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert recs[complaint]["monitoring"]["register"] == "complaints"
    assert recs[complaint]["monitoring"]["number"].startswith("1/") and recs[unknown]["monitoring"] is None
    assert cli.main([*home, "registers", "list", "--register", "reviews"]) == 0
    out = capsys.readouterr().out
    assert review in out and complaint not in out and "Всего: 1" in out
    year = int(recs[review]["registered_at"][:4])
    assert cli.main([*home, "registers", "list", "--year", str(year)]) == 0
    assert "Всего: 2" in capsys.readouterr().out
    assert cli.main([*home, "registers", "list", "--year", str(year - 1)]) == 0
    assert "Всего: 0" in capsys.readouterr().out
    assert cli.main([*home, "registers", "list", "--register", "жалобы"]) == 2
    assert "--register: нет такой базы мониторинга" in capsys.readouterr().err


def test_an_entry_of_unknown_kind_gets_its_number_when_the_kind_is_set(tmp_path):
    cfg, outcomes, _ = _run(
        tmp_path,
        text_appeal(frm=SC, subject="Скан", body="Направляю скан, неразборчиво"),
        text_appeal(frm=SC, subject="Скан", body="Направляю ещё скан, неразборчиво"),
        text_appeal(frm=SC, subject="Отзыв", body="Направляю отзыв потребителя"),
    )
    first, second, review = (o.number for o in outcomes)
    assert _monitoring(cfg) == {review: ("reviews", 1)}
    parts = daemon.build(cfg, load_rules(), recognize=fake_recognizer())
    try:
        parts.services.correct(second, {"kind": "заявление"}, by="kanc@sevkaz.example")
        assert _monitoring(cfg) == {review: ("reviews", 1)}  # an application is no entry
        parts.services.correct(first, {"kind": "предложение"}, by="kanc@sevkaz.example")
        assert _monitoring(cfg) == {review: ("reviews", 1), first: ("reviews", 2)}
        parts.services.correct(first, {"kind": "отзыв"}, by="kanc@sevkaz.example")  # a number stays
        assert _monitoring(cfg) == {review: ("reviews", 1), first: ("reviews", 2)}
        parts.sender.flush()
    finally:
        daemon.close(parts)
    engine = db.make_engine(cfg.database)
    with Session(engine) as s:
        events = s.exec(select(Event).where(Event.type == "monitoring_numbered")).all()
        assert journal.verify(s).ok
    engine.dispose()
    [event] = events
    assert json.loads(event.data)["monitoring_number"].startswith("2/")
    told = [
        email.message_from_bytes(f.read_bytes(), policy=policy.default)
        for f in (cfg.home / "outbox" / "new").glob("*")
    ]
    [notice] = [m for m in told if m["X-Mailflow-Number"] == first and m["X-Mailflow-Kind"] == "notice"]
    assert notice["To"] == "pr@sevkaz.example" and "2/" in notice.get_content()
