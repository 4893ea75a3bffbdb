"""SIGHUP reads rules/ again without stopping the daemon: new valid rules take
effect for the next message; invalid ones are logged and the old rules stay."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from sqlmodel import Session, select

from mailflow import daemon
from mailflow.models import Document
from mailflow.rules import load as load_rules_from
from tests.support import REPO, deliver, fake_recognizer, home_config, text_appeal

NEW_CHIEF = "kyzylzhar-2-res@sevkaz.example"
ADDED = f"""
[[person]]
name = "Начальник нового участка"
email = "{NEW_CHIEF}"
roles = ["res_chief"]
unit = "Кызылжарский РЭС"
"""


def _documents(cfg) -> list[Document]:
    if not (cfg.home / "journal.db").exists():
        return []  # the daemon has not made it yet
    engine = daemon.journal_engine(cfg)
    try:
        with Session(engine) as s:
            return list(s.exec(select(Document).order_by(Document.id)))
    finally:
        engine.dispose()


def _wait(cond, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_new_rules_take_effect_and_broken_ones_leave_the_old_in_force(tmp_path, caplog):
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    cfg = home_config(tmp_path)
    cfg = dataclasses.replace(cfg, rules_dir=rules_dir)
    stop, reload = threading.Event(), threading.Event()
    t = threading.Thread(
        target=daemon.run_forever,
        args=(cfg, load_rules_from(rules_dir)),
        kwargs={"stop": stop, "reload": reload, "recognize": fake_recognizer()},
        daemon=True,
    )
    t.start()
    try:
        inbox = cfg.home / "inbox"
        deliver(inbox, text_appeal(frm=NEW_CHIEF), "m1")
        _wait(lambda: len(_documents(cfg)) == 1)
        assert _documents(cfg)[0].origin_unit is None  # not in the directory yet

        with (rules_dir / "staff.toml").open("a", encoding="utf-8") as f:
            f.write(ADDED)
        reload.set()
        _wait(lambda: not reload.is_set())  # taken in hand
        deliver(inbox, text_appeal(frm=NEW_CHIEF, body="Направляю жалобу потребителя Петрова"), "m2")
        _wait(lambda: len(_documents(cfg)) == 2)
        assert _documents(cfg)[1].origin_unit == "Кызылжарский РЭС"  # the new rules

        (rules_dir / "intake.toml").write_text("[limits]\nmax_mesage_bytes = 5\n", encoding="utf-8")
        reload.set()
        _wait(lambda: "rules not reloaded" in caplog.text)
        deliver(inbox, text_appeal(frm=NEW_CHIEF, body="Направляю жалобу потребителя Сидорова"), "m3")
        _wait(lambda: len(_documents(cfg)) == 3)  # still running, on the rules in force
        assert _documents(cfg)[2].origin_unit == "Кызылжарский РЭС" and t.is_alive()
    finally:
        stop.set()
        t.join(60)
    assert not t.is_alive()


def test_sighup_to_the_daemon_process_reloads_and_sigterm_still_stops_it(tmp_path):
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    home = tmp_path / "home"
    (home / "inbox" / "new").mkdir(parents=True)
    p = subprocess.Popen(
        [sys.executable, "-m", "mailflow", "--home", str(home), "--rules", str(rules_dir), "run"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(p.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        _wait(lambda: (home / "journal.db").exists())  # made after the signal handlers are set
        p.send_signal(signal.SIGHUP)
        _wait(lambda: any("rules reloaded" in ln for ln in lines))
        assert p.poll() is None  # SIGHUP did not end it
        p.send_signal(signal.SIGTERM)
        assert p.wait(60) == 0
    finally:
        if p.poll() is None:
            p.kill()
