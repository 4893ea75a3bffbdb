"""Regulation 1.5, 1.7, 2.1–2.4: management, the PR specialist, monitoring numbers."""

from __future__ import annotations

import email
from email import policy

from sqlmodel import Session, select

from mailflow import daemon, db
from mailflow.models import Document, Monitoring, Token
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
    [mgmt] = _kind(sent, "management")
    assert set(a.strip() for a in mgmt["To"].split(",")) == {
        "director@sevkaz.example",
        "deputy@sevkaz.example",
    }
    assert o.number in mgmt["Subject"] and "На резолюцию" in mgmt["Subject"]
    [att] = list(mgmt.iter_attachments())
    assert att.get_filename() == "скан.pdf" and att.get_content() == scan
    body = mgmt.get_body(("plain",)).get_content()
    assert "КАК ОТВЕТИТЬ" in body and "Срок ответа по закону" in body
    engine = db.make_engine(cfg.database)
    with Session(engine) as s:
        tok = s.exec(select(Token).where(Token.purpose == "resolution")).one()
        doc = s.exec(select(Document)).one()
    engine.dispose()
    assert f"#{tok.token}" in mgmt["Subject"] and tok.message_id == mgmt["Message-ID"]
    assert tok.used_at is None and tok.expires_at > doc.registered_at
    assert doc.status == "on_resolution"
    [pr] = _kind(sent, "pr_copy")  # 1.7: a complaint's copy to the PR specialist
    assert pr["To"] == "pr@sevkaz.example" and o.number in pr["Subject"]


def test_review_from_a_district_is_not_copied_to_pr(tmp_path):
    _, [o], sent = _run(tmp_path, text_appeal(frm=CHIEF, body="Направляю отзыв потребителя"))
    assert _kind(sent, "pr_copy") == [] and len(_kind(sent, "management")) == 1


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
