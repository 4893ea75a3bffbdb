"""Hostile and broken mail through the real pipeline: never lost, never fatal, bounded.

All the cases of tests/hostile.py (and every file of ../shared/corpus/real,
when present) are delivered into one Maildir inbox and handled by ONE
daemon.run_once, so the test also proves the daemon keeps going past each of
them. Then, case by case: the raw bytes are in the archive, the message was
registered, recorded, sent to review or quarantined with a reason, as its
case allows, and, with the real recognizer, the OCR work it caused stayed
within the limits of the rules (a test copy with small limits, so the suite
stays fast: 3 pages per message, 10 Mpx per page, 5 MB per attachment).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailflow import config, daemon, db, journal, mime
from mailflow import rules as rules_mod
from mailflow.models import DocAttachment, Document, Inbound
from tests import hostile as H
from tests.support import REPO, database_urls, deliver, fake_recognizer

TEST_LIMITS = {
    "max_message_mb": 50,
    "max_attachment_mb": 5,
    "max_pages_per_message": 3,
    "max_pixels_per_page": 10_000_000,
    "render_dpi": 100,
    "ocr_timeout_seconds": 20,
}
CORPUS_CASES = H.corpus_cases()  # [] when ../shared/corpus/real is absent
CASE_NAMES = list(H.HOSTILE) + [c.name for c in CORPUS_CASES]


def test_rules_with_small_limits(tmp_path):
    rules = small_rules(tmp_path)
    assert rules.limits.max_pages_per_message == 3
    assert rules.limits.max_attachment_bytes == 5 * 2**20


def small_rules(tmp: Path):
    """REPO/rules copied, with intake.toml's [limits] set to TEST_LIMITS."""
    target = tmp / "rules"
    shutil.copytree(REPO / "rules", target)
    path = target / "intake.toml"
    text = path.read_text(encoding="utf-8")
    for key, value in TEST_LIMITS.items():
        text, n = re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {value}", text)
        assert n == 1, f"{key} not found once in {path}"
    path.write_text(text, encoding="utf-8")
    return rules_mod.load(target)


# ---------------------------------------------------------------------------
# what the recognizer did, message by message


@dataclass
class Seen:
    recognition: object
    seconds: float
    tasks: list = field(default_factory=list)  # PageTasks sent to OCR
    results: list = field(default_factory=list)  # their PageResults


class CountingPool:
    """The real OcrPool, with every page it is asked to read written down."""

    def __init__(self, pool):
        self.pool, self.calls = pool, []

    def run(self, tasks):
        results = self.pool.run(tasks)
        self.calls.append((list(tasks), list(results)))
        return results

    def close(self):
        self.pool.close()


def real_recognizer(rules, seen: dict):
    """The real recognizer (mailflow.extract), or None while it does not exist."""
    try:
        from mailflow.extract import recognize
        from mailflow.extract.ocr import OcrPool
    except ImportError:
        return None, None
    pool = CountingPool(OcrPool(2))

    def run(msg, sender, channel):
        before = len(pool.calls)
        t0 = time.monotonic()
        rec = recognize(msg, sender=sender, channel=channel, limits=rules.limits, pool=pool)
        s = Seen(rec, time.monotonic() - t0)
        for tasks, results in pool.calls[before:]:
            s.tasks += tasks
            s.results += results
        seen[(msg.message_id, msg.subject)] = s
        return rec

    return run, pool


@dataclass
class Run:
    cfg: config.Config
    rules: object
    cases: dict[str, H.Case]
    uids: dict[str, str]
    outcomes: list
    seconds: float
    real: bool
    seen: dict
    inbound: dict[str, Inbound]
    docs: dict[int, Document]
    atts: dict[int, list[DocAttachment]]
    chain_ok: bool
    database: str  # "sqlite" | "postgresql"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def run(request, tmp_path_factory) -> Run:
    """One run over all the mail, on SQLite and (when it answers) on PostgreSQL,
    which refuses what SQLite lets through (NUL characters, for one)."""
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    with database_urls(tmp, request.param) as url:
        yield _run(tmp, url, request.param)


def _run(tmp: Path, database: str, kind: str) -> Run:
    rules = small_rules(tmp)
    cfg = config.embedded_default(tmp / "home", tmp / "rules")
    cfg = config.Config(**{**cfg.__dict__, "database": database})
    cases = {c.name: c for c in H.hostile_cases() + CORPUS_CASES}
    uids = {}
    for i, name in enumerate(cases):
        uids[name] = f"{i:03d}-{name}"
        deliver(cfg.home / "inbox", cases[name].raw, uids[name])
    seen: dict = {}
    recognize, pool = real_recognizer(rules, seen)
    t0 = time.monotonic()
    try:
        # Never an exception out of run_once, whatever the mail.
        outcomes = daemon.run_once(cfg, rules, recognize=recognize or fake_recognizer())
    finally:
        if pool is not None:
            pool.close()
    seconds = time.monotonic() - t0
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    try:
        with Session(parts.engine) as s:
            inbound = {i.uid: i for i in s.exec(select(Inbound))}
            docs = {d.id: d for d in s.exec(select(Document))}
            atts: dict[int, list[DocAttachment]] = {}
            for a in s.exec(select(DocAttachment)):
                atts.setdefault(a.document_id, []).append(a)
            chain_ok = journal.verify(s).ok
    finally:
        daemon.close(parts)
    return Run(
        cfg,
        rules,
        cases,
        uids,
        outcomes,
        seconds,
        recognize is not None,
        seen,
        inbound,
        docs,
        atts,
        chain_ok,
        kind,
    )


# ---------------------------------------------------------------------------
# the run as a whole


def test_enough_hostile_cases():
    assert len(H.HOSTILE) >= 25


def test_every_message_was_handled_in_one_run(run):
    assert len(run.outcomes) == len(run.cases)
    assert set(run.inbound) == set(run.uids.values())
    inbox = run.cfg.home / "inbox"
    assert not [p for sub in ("new", "cur") for p in (inbox / sub).iterdir()]


def test_journal_chain_intact(run):
    assert run.chain_ok


def test_no_file_escaped_the_data_home(run):
    """Names like ../../etc/passwd never become paths: everything stored is named by hash."""
    evil = {"passwd", "shadow", "evil.exe", "evil.sh", "job", "hidden.pdf", "boot.ini"}
    for p in run.cfg.home.rglob("*"):
        assert p.name not in evil, p
    for p in (run.cfg.home / "archive").rglob("*"):
        assert p.is_dir() or re.fullmatch(r"[0-9a-f]{64}\.(eml|bin)", p.name), p


def test_stored_file_names_are_safe(run):
    for rows in run.atts.values():
        for a in rows:
            assert "/" not in a.filename and "\\" not in a.filename, a.filename
            assert not a.filename.startswith(".") and a.filename.isprintable(), a.filename


# ---------------------------------------------------------------------------
# case by case


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_is_archived_and_accounted_for(run, name):
    case = run.cases[name]
    inb = run.inbound.get(run.uids[name])
    assert inb is not None, "the message was lost"
    sha = hashlib.sha256(case.raw).hexdigest()
    assert inb.sha256 == sha
    engine = db.make_engine(run.cfg.database)
    try:  # the daemon's archive: files on SQLite, the database on PostgreSQL
        assert daemon.open_archive(run.cfg, engine).get(sha) == case.raw  # byte for byte
    finally:
        engine.dispose()
    assert inb.status in case.expect.statuses, (
        f"{name}: {inb.status} ({inb.reason}); expected one of {sorted(case.expect.statuses)} "
        f"because: {case.expect.why}"
    )
    box = run.cfg.home / "inbox"
    folder = ".Quarantine" if inb.status == "quarantined" else ".Processed"
    assert any(p.name.startswith(run.uids[name]) for p in (box / folder / "cur").iterdir())
    if inb.status == "quarantined":
        assert inb.reason and inb.reason.strip()
        assert (run.cfg.quarantine_dir / f"{sha}.reason.txt").is_file()
    if inb.status == "registered":
        doc = run.docs[inb.document_id]
        assert doc.number and doc.sha256 == sha
        json.loads(doc.needs_review)
        names = [a.filename for a in run.atts.get(doc.id, [])]
        for expected in case.expect.attachments:
            assert expected in names, (expected, names)


def _need_real(run):
    if not run.real:
        # mailflow.extract.recognize is not there yet: the fake recognizer reads
        # nothing, so there is no OCR work to bound. These assertions wait for it.
        pytest.skip("OCR-bounding assertions need mailflow.extract.recognize (not present)")


def _seen(run, name) -> Seen | None:
    raw = run.cases[name].raw
    if len(raw) > run.rules.limits.max_message_bytes:
        return None  # refused unread
    p = mime.parse(raw)
    return run.seen.get((p.message_id, p.subject))


def _att_rows(run, name, filename=None) -> list[DocAttachment]:
    inb = run.inbound[run.uids[name]]
    rows = run.atts.get(inb.document_id, []) if inb.document_id else []
    return [a for a in rows if filename is None or a.filename == filename]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_ocr_work_is_bounded_by_the_limits(run, name):
    """Pages, pixels and time of every message, whatever it carried."""
    _need_real(run)
    seen = _seen(run, name)
    if seen is None:
        return  # not recognized at all (bounce, review, quarantined before reading)
    lim = run.rules.limits
    assert len(seen.tasks) <= lim.max_pages_per_message
    for t in seen.tasks:
        assert t.max_pixels == lim.max_pixels_per_page and t.render_dpi == lim.render_dpi
        assert t.timeout == lim.ocr_timeout_seconds
    for r in seen.results:
        assert r.width * r.height <= lim.max_pixels_per_page, (r.width, r.height)
    assert seen.seconds <= lim.max_pages_per_message * lim.ocr_timeout_seconds + 10


CHECKED = {
    c.name: c.expect.check
    for c in (H.HOSTILE[n]() for n in H.HOSTILE if n not in ("attachment_40mb",))
    if c.expect.check
}


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_limit_case(run, name):
    _need_real(run)
    check, inb = CHECKED[name], run.inbound[run.uids[name]]
    if inb.status == "quarantined":
        assert inb.reason
        return
    seen = _seen(run, name)
    assert seen is not None, "an appeal with a file was never recognized"
    rows = [a for a in _att_rows(run, name) if a.content_type != "text/plain"]
    assert rows, "the file is not in the journal"
    lim = run.rules.limits
    if check == "pages":
        [row] = rows
        assert row.pages == 200
        assert len(seen.tasks) == lim.max_pages_per_message  # read up to the limit, no further
        assert row.note and str(lim.max_pages_per_message) in row.note
        assert "attachments" in seen.recognition.needs_review
    elif check == "pixels":
        [row] = rows
        assert row.text_source == "skipped" and row.note and "limit" in row.note
        assert not seen.tasks  # refused before a single pixel was decoded
    elif check == "too_big":
        [row] = rows
        assert row.text_source == "skipped" and "limit" in (row.note or "")
        assert not seen.tasks
    elif check == "unreadable":
        [row] = rows
        assert row.text_source in ("skipped", "none") and row.note, (row.text_source, row.note)
    elif check == "text_layer":
        [row] = rows
        assert row.text_source == "text-layer"
        assert all(r.source != "ocr" for r in seen.results)
        assert "TEXTLAYER-OK" in seen.recognition.text
    else:  # pragma: no cover
        pytest.fail(f"unknown check {check}")


def test_encrypted_pdf_says_so(run):
    _need_real(run)
    rows = _att_rows(run, "encrypted_pdf", "secret.pdf")
    if run.inbound[run.uids["encrypted_pdf"]].status == "registered":
        assert rows and "encrypt" in (rows[0].note or "").lower()


def test_tiff_pages_are_read(run):
    _need_real(run)
    [row] = _att_rows(run, "tiff", "fax.tif")
    assert row.pages == 2 and row.text_source in ("ocr", "none")


def test_bounces_among_hostile_mail_are_never_registered(run):
    for name in ("dsn_with_returned_scan", "plain_bounce_ru", "auto_reply"):
        assert run.inbound[run.uids[name]].status in ("recorded", "review")
        assert run.inbound[run.uids[name]].document_id is None


def test_text_layer_with_nul_is_registered(run):
    """NUL in a PDF's text layer must not cost the registration (PostgreSQL refuses NUL)."""
    inb = run.inbound[run.uids["pdf_text_layer_nul"]]
    assert inb.status == "registered", inb.reason
    assert "\x00" not in run.docs[inb.document_id].text


def test_spoofed_display_name_is_not_taken_for_the_chief(run):
    inb = run.inbound[run.uids["spoofed_display_name"]]
    assert inb.from_addr == "attacker@evil.example"
    doc = run.docs[inb.document_id]
    assert doc.channel == "email" and doc.origin_unit is None


def test_content_left_unread_is_flagged_for_review(run):
    """Parts past the nesting or part limits were not read: the clerk must look."""
    for name in ("nested_multipart_100", "parts_2000"):
        inb = run.inbound[run.uids[name]]
        assert inb.status == "registered", inb.reason
        assert "attachments" in json.loads(run.docs[inb.document_id].needs_review), name
