"""Two machines on one PostgreSQL: two daemons with homes of their own (so
nothing on one's disk helps the other) share one journal and one IMAP mailbox.
One is SIGKILLed in the middle of a burst of appeals: every message is
registered once, the other takes the mailbox over within 30 s, and resolutions
applied by either daemon forward the scans that the other archived."""

from __future__ import annotations

import collections
import datetime as dt
import email
import os
import signal
import subprocess
import sys
import time
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from mailflow import db, journal
from mailflow.models import ChainHead, Document, Inbound, MailboxLease, Outbox, Resolution
from tests.support import CHIEF, DIRECTOR, REPO, database_urls, text_appeal

N = 60  # appeals in the burst
SCAN_EVERY = 5  # every fifth carries a scan: 12 resolutions to forward
KILL_AFTER = 20  # registered before the first daemon is killed
DELAY = 0.15  # seconds of "reading" per appeal: the burst lasts long enough to be cut
MAILBOX = "kanc"


class Machine:
    """One daemon with its own home and config, standing for one machine."""

    def __init__(self, tmp: Path, name: str, url: str, imap_url: str, password: str):
        self.name, self.home = name, tmp / name
        self.home.mkdir()
        self.config = self.home / "mailflow.toml"
        self.config.write_text(
            f'home = "{self.home}"\n'
            f'database = "{url}"\n'
            f'rules = "{REPO / "rules"}"\n'
            "[[mailbox]]\n"
            f'name = "{MAILBOX}"\n'
            f'url = "{imap_url}"\n'
            'password_env = "TEST_IMAP_PASSWORD"\n'
            "poll_interval = 1\n"
            "[smtp]\n"
            f'url = "maildir:{self.home / "outbox"}"\n'
            'sender = "mailflow@localhost"\n',
            encoding="utf-8",
        )
        self.env = {**os.environ, "MAILFLOW_NODE": name, "TEST_IMAP_PASSWORD": password}
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        log = open(self.home / f"daemon-{self.runs}.log", "wb")  # noqa: SIM115 (the process keeps it)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.procs", "config", str(self.config), str(DELAY)],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        self.proc.wait(timeout=60)

    def sent(self) -> list[EmailMessage]:
        folder = self.home / "outbox" / "new"
        files = sorted(folder.iterdir()) if folder.is_dir() else []
        return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.home.glob("daemon-*.log"))
        )


def _wait(what: str, check, timeout: float, machines=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    pytest.fail(f"not within {timeout:.0f} s: {what}\n" + "\n".join(m.logs() for m in machines))


def _holder(engine) -> str | None:
    with Session(engine) as s:
        row = s.exec(select(MailboxLease).where(MailboxLease.mailbox == MAILBOX)).first()
        return row.holder if row else None


def _registered(engine) -> int:
    with Session(engine) as s:
        return len(s.exec(select(Document.id)).all())


def _reply(original: EmailMessage, body: str) -> bytes:
    """The director answering «на резолюцию» from a phone, quoting it."""
    msg = EmailMessage()
    msg["From"] = DIRECTOR
    msg["To"] = "mailflow@localhost"
    msg["Subject"] = "Re: " + original["Subject"]
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain="phone.example")
    msg["In-Reply-To"] = msg["References"] = original["Message-ID"]
    quoted = "\n".join("> " + line for line in original.get_body(("plain",)).get_content().splitlines())
    msg.set_content(f"{body}\n\nОтправлено с iPhone\n\n{quoted}\n")
    return msg.as_bytes()


def _by_number(machines, kind: str) -> dict[str, list[EmailMessage]]:
    out: dict[str, list[EmailMessage]] = collections.defaultdict(list)
    for m in machines:
        for msg in m.sent():
            if msg["X-Mailflow-Kind"] == kind:
                out[str(msg["X-Mailflow-Number"])].append(msg)
    return out


@pytest.mark.slow
def test_two_daemons_on_one_postgresql_survive_a_sigkill_mid_burst(tmp_path, dovecot, mail_user):
    with database_urls(tmp_path, "postgresql") as url:
        imap_url = dovecot.url(mail_user)
        a, b = (
            Machine(tmp_path, n, url, imap_url, dovecot.password(mail_user))
            for n in ("machine-a", "machine-b")
        )
        machines = (a, b)
        engine = db.make_engine(url)
        db.migrate(engine)  # as `mailflow migrate` before the daemons (which also migrate, under a lock)
        try:
            a.start()  # a first, so it is a that holds the mailbox when the burst comes
            _wait(
                "machine-a holds the mailbox",
                lambda: (_holder(engine) or "").startswith("machine-a:"),
                90,
                machines,
            )
            b.start()
            time.sleep(3)  # b started, found the mailbox taken, stands by
            scans: dict[str, bytes] = {}  # Message-ID -> the scan it carries
            ids = []
            for i in range(N):
                attachments = []
                if i % SCAN_EVERY == 0:
                    pdf = f"%PDF-1.4 scan of appeal {i}".encode()
                    attachments = [(f"скан-{i}.pdf", "application/pdf", pdf)]
                raw = text_appeal(
                    frm=CHIEF, body=f"Направляю жалобу потребителя номер {i}", attachments=attachments
                )
                mid = email.message_from_bytes(raw)["Message-ID"]
                ids.append(mid)
                if attachments:
                    scans[mid] = attachments[0][2]
                dovecot.append(mail_user, raw)
            _wait(
                f"{KILL_AFTER} registered by machine-a",
                lambda: _registered(engine) >= KILL_AFTER,
                120,
                machines,
            )
            assert (_holder(engine) or "").startswith("machine-a:")
            a.signal(signal.SIGKILL)
            killed, at_kill = time.monotonic(), _registered(engine)
            assert at_kill < N, "machine-a did the whole burst before the kill: the test proved nothing"
            _wait(
                "machine-b takes the mailbox",
                lambda: (_holder(engine) or "").startswith("machine-b:"),
                30,
                machines,
            )
            lease_taken = time.monotonic() - killed
            _wait("machine-b registers", lambda: _registered(engine) > at_kill, 30, machines)
            first_registration = time.monotonic() - killed
            _wait("the whole burst registered", lambda: _registered(engine) == N, 180, machines)

            with Session(engine) as s:
                docs = s.exec(select(Document)).all()
                number_of = {d.source_message_id: d.number for d in docs}
                by_seq = {d.number: d.seq for d in docs}
            assert collections.Counter(d.source_message_id for d in docs) == collections.Counter(ids), (
                "a message lost or registered twice"
            )
            assert sorted(d.seq for d in docs) == list(range(1, N + 1)), "gap in numbers"
            with_scans = sorted((number_of[m] for m in scans), key=by_seq.get)
            by_a = [n for n in with_scans if by_seq[n] <= at_kill]
            by_b = [n for n in with_scans if by_seq[n] > at_kill]
            assert by_a and by_b  # scans archived by each machine

            a.start()  # machine-a again: b holds the mailbox, so it stands by
            mgmt = _wait(
                "«на резолюцию» for every appeal with a scan",
                lambda: (
                    (found := _by_number(machines, "management"))
                    and all(any(m["To"] == DIRECTOR for m in found.get(n, [])) for n in with_scans)
                    and found
                ),
                90,
                machines,
            )

            def resolve(numbers: list[str]) -> None:
                for n in numbers:
                    original = next(m for m in mgmt[n] if m["To"] == DIRECTOR)
                    dovecot.append(mail_user, _reply(original, "Петрову А.С. — рассмотреть."))

            def resolved(count: int) -> bool:
                with Session(engine) as s:
                    return len(s.exec(select(Resolution.id)).all()) >= count

            # under machine-b: half of a's scans and half of b's
            first = by_a[: len(by_a) // 2 + 1] + by_b[: len(by_b) // 2]
            resolve(first)
            _wait("machine-b applies the first resolutions", lambda: resolved(len(first)), 60, machines)
            assert (_holder(engine) or "").startswith("machine-b:")
            b.signal(signal.SIGTERM)  # a graceful stop gives the mailbox up at once
            stopped = time.monotonic()
            _wait(
                "machine-a takes the mailbox back",
                lambda: (_holder(engine) or "").startswith("machine-a:"),
                30,
                machines,
            )
            handed_over = time.monotonic() - stopped
            rest = [n for n in with_scans if n not in first]
            resolve(rest)
            _wait("machine-a applies the other resolutions", lambda: resolved(len(with_scans)), 60, machines)

            forwards = _wait(
                "every resolution forwarded",
                lambda: (f := _by_number(machines, "forward")) and all(n in f for n in with_scans) and f,
                90,
                machines,
            )
            scan_of = {number_of[m]: data for m, data in scans.items()}
            for n in with_scans:
                for fwd in forwards[n]:
                    got = [p.get_content() for p in fwd.iter_attachments()]
                    assert got == [scan_of[n]], f"{n}: forwarded without its scan ({fwd['To']})"

            with Session(engine) as s:
                talons = s.exec(select(Outbox).where(Outbox.kind == "talon")).all()
                per_doc = collections.Counter(t.document_id for t in talons)
                assert len(per_doc) == N and max(per_doc.values()) == 1, "a talon queued twice"
                assert all(t.status == "sent" for t in talons)
                assert len(s.exec(select(Inbound).where(col(Inbound.status) == "registered")).all()) == N
                assert journal.verify(s).ok
            sent_talons = collections.Counter(
                (m["X-Mailflow-Number"], m["To"])
                for x in machines
                for m in x.sent()
                if m["X-Mailflow-Kind"] == "talon"
            )
            assert len(sent_talons) == N
            twice = sum(1 for c in sent_talons.values() if c > 1)
            a.signal(signal.SIGTERM)
            print(
                f"\n[two daemons] {N} appeals, machine-a SIGKILLed after {at_kill} registrations: all registered "
                f"once, numbers gap-free; take-over: lease {lease_taken:.1f} s after the kill, first registration "
                f"by machine-b {first_registration:.1f} s after it; hand-over on SIGTERM {handed_over:.1f} s; "
                f"{len(with_scans)} resolutions forwarded with their scans ({len(first)} by machine-b, "
                f"{len(rest)} by machine-a); talons sent twice: {twice}; load {os.getloadavg()[0]:.1f} "
                f"on {os.cpu_count()} CPUs"
            )
            assert lease_taken < 30 and first_registration < 30
        finally:
            for m in machines:
                if m.proc is not None and m.proc.poll() is None:
                    m.proc.kill()
                    m.proc.wait()
            engine.dispose()


def test_the_journal_lock_reads_the_head_another_writer_left(tmp_path):
    """Two writers on PostgreSQL: a chain head this session read before it locked
    (as the commit's seal does) must not be chained onto once it is locked."""
    with database_urls(tmp_path, "postgresql") as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        try:
            with Session(engine) as s1, s1.begin():
                stale = s1.get(ChainHead, 1)  # read, not locked
                assert stale is not None
                with Session(engine) as s2, s2.begin():  # another daemon writes meanwhile
                    journal.append(s2, journal.lock(s2), "test_other_writer")
                head = journal.lock(s1)
                journal.append(s1, head, "test_this_writer")
            with Session(engine) as s:
                assert journal.verify(s).ok
        finally:
            engine.dispose()
