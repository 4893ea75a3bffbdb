"""SIGKILL the daemon at random moments while it works; nothing lost, nothing twice."""

from __future__ import annotations

import collections
import contextlib
import email
import os
import random
import signal
import subprocess
import sys
import time
from email import policy

import pytest
from sqlmodel import Session, select

from mailflow import db, journal
from mailflow.models import Document, Inbound, Outbox
from tests.support import REPO, database_urls, deliver, home_config, text_appeal

N_MESSAGES = 100
N_KILLS = 10


def _wait_for_progress(inbox, timeout: float) -> None:
    def waiting():
        return len(list((inbox / "new").iterdir())) + len(list((inbox / "cur").iterdir()))

    before, deadline = waiting(), time.monotonic() + timeout
    while waiting() == before and before and time.monotonic() < deadline:
        time.sleep(0.02)


def _wait_for_first_record(journal_db, timeout: float) -> None:
    import sqlite3

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with contextlib.closing(sqlite3.connect(f"file:{journal_db}?mode=ro", uri=True)) as c:
                if c.execute("SELECT count(*) FROM inbound").fetchone()[0]:
                    return
        except sqlite3.Error:  # not created or not migrated yet
            pass
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_sigkill_loop_registers_each_message_exactly_once(tmp_path, kind):
    rnd = random.Random(20261127)
    with database_urls(tmp_path, kind) as url:
        cfg = home_config(tmp_path, url)
        ids = []
        for i in range(N_MESSAGES):
            raw = text_appeal(body=f"Жалоба потребителя номер {i}")
            ids.append(email.message_from_bytes(raw)["Message-ID"])
            deliver(cfg.home / "inbox", raw, f"m{i:03d}")
        kills = 0
        for _ in range(N_KILLS):
            p = subprocess.Popen(
                [sys.executable, "-m", "tests.procs", "daemon", str(cfg.home), url, "0.02"],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if rnd.random() < 0.5:  # at any moment, start-up and migrations included
                time.sleep(rnd.uniform(0.1, 1.6))
            else:  # in the middle of the work (start-up is slow on a busy machine)
                _wait_for_progress(cfg.home / "inbox", timeout=20)
                time.sleep(rnd.uniform(0.0, 0.6))
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                kills += 1
            p.wait()
        # a last, uninterrupted pass finishes whatever is left
        done = subprocess.run(
            [sys.executable, "-m", "tests.procs", "once", str(cfg.home), url],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        last_pass = done.stdout.split().count("registered")
        assert last_pass < N_MESSAGES, "the killed daemons did no work: the test proved nothing"
        engine = db.make_engine(url)
        with Session(engine) as s:
            docs = s.exec(select(Document)).all()
            by_msg = collections.Counter(d.source_message_id for d in docs)
            assert set(by_msg) == set(ids), "a message was lost"
            assert max(by_msg.values()) == 1, "a message was registered twice"
            assert sorted(d.seq for d in docs) == list(range(1, N_MESSAGES + 1)), "gap in numbers"
            assert len(s.exec(select(Inbound)).all()) == N_MESSAGES
            talons = s.exec(select(Outbox).where(Outbox.kind == "talon")).all()
            assert len(talons) == N_MESSAGES and all(t.status == "sent" for t in talons)
            assert journal.verify(s).ok
        engine.dispose()
        assert not list((cfg.home / "inbox" / "new").iterdir())
        assert not list((cfg.home / "inbox" / "cur").iterdir())
        sent = collections.Counter()
        for f in (cfg.home / "outbox" / "new").iterdir():
            m = email.message_from_bytes(f.read_bytes(), policy=policy.default)
            if m["X-Mailflow-Kind"] == "talon":
                sent[(m["X-Mailflow-Number"], m["To"])] += 1
        assert len(sent) == N_MESSAGES, "a talon was never sent"
        twice = sum(1 for c in sent.values() if c > 1)
        print(
            f"\n[{kind}] {kills} SIGKILLs during {N_MESSAGES} messages: all registered once, "
            f"numbers gap-free ({N_MESSAGES - last_pass} before the last pass); "
            f"talons sent twice: {twice}"
        )


def test_sigterm_finishes_the_message_in_hand_and_exits(tmp_path):
    with database_urls(tmp_path, "sqlite") as url:
        cfg = home_config(tmp_path, url)
        for i in range(30):
            deliver(cfg.home / "inbox", text_appeal(body=f"Жалоба {i}"), f"m{i:03d}")
        p = subprocess.Popen(
            [sys.executable, "-m", "tests.procs", "daemon", str(cfg.home), url, "0.2"],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_first_record(cfg.home / "journal.db", timeout=60)  # a fixed pause: a loaded machine
        p.send_signal(signal.SIGTERM)  # is still importing, before the handler (and dies of the signal)
        _, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        engine = db.make_engine(url)
        with Session(engine) as s:
            inbound = s.exec(select(Inbound)).all()
            registered = s.exec(select(Document)).all()
        engine.dispose()
        assert 0 < len(inbound) < 30
        assert len(registered) == len(inbound)  # nothing half-done
        left = len(list((cfg.home / "inbox" / "new").iterdir()))
        assert left + len(inbound) == 30  # every recorded message was moved, the rest wait
