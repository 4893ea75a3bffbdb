"""The operator's view: `mailflow status [--json]` and the workplace's Prometheus /metrics,
read from the journal and the home (no mail server contacted)."""

from __future__ import annotations

import json
import subprocess
import sys

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from mailflow import daemon
from mailflow.models import Event
from tests.support import REPO, deliver, fake_recognizer, home_config, load_rules, text_appeal


def _home(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()
    box = cfg.home / "inbox"
    deliver(box, text_appeal(), "m1")
    deliver(box, text_appeal(frm="someone@mail.example", subject="Привет", body="Как дела?"), "m2")
    daemon.run_once(cfg, rules, recognize=fake_recognizer())
    deliver(box, text_appeal(body="Направляю заявление"), "m3")  # not fetched yet: waits
    return cfg, rules


def test_status_says_what_waits_and_where_the_chain_stands(tmp_path):
    cfg, rules = _home(tmp_path)
    r = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(cfg.home), "status", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    engine = daemon.journal_engine(cfg)
    with Session(engine) as s:
        events = s.exec(select(func.count()).select_from(Event)).one()
    engine.dispose()
    # the daemon gave the mailbox up when it stopped: nobody reads it
    assert st["mailboxes"] == [
        {"name": "inbox", "kind": "maildir", "waiting": 1, "reader": None, "reader_until": None}
    ]
    assert st["queues"] == {"review": 1, "quarantine": 0, "outbox": 0, "receipts": 0}  # all mail went out
    assert st["chain_events"] == events and len(st["chain_head"]) == 64
    assert st["last_sweep_at"] and st["last_inbound_at"]
    text = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(cfg.home), "status"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert text.returncode == 0 and "Ящик inbox (maildir): ждут 1" in text.stdout


def test_status_of_a_home_without_a_journal_creates_nothing(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(tmp_path / "typo"), "status"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and not (tmp_path / "typo" / "journal.db").exists()


def test_metrics_for_a_scraper_on_this_machine_only(tmp_path):
    cfg, rules = _home(tmp_path)
    app, parts = daemon.web(cfg, rules, "http://testserver")
    try:
        local = TestClient(app, client=("127.0.0.1", 40000))
        r = local.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
        samples = dict(
            line.rsplit(" ", 1) for line in r.text.splitlines() if line and not line.startswith("#")
        )
        assert samples['mailflow_queue_items{queue="review"}'] == "1"
        assert samples['mailflow_mailbox_waiting{mailbox="inbox"}'] == "1"
        assert float(samples["mailflow_chain_events"]) > 0
        assert "# TYPE mailflow_outbox_messages gauge" in r.text
        assert TestClient(app, client=("192.0.2.7", 40000)).get("/metrics").status_code == 403
        proxied = local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
        assert proxied.status_code == 403  # through the proxy: not a local scraper
    finally:
        daemon.close(parts)
