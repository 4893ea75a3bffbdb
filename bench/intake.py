"""Intake benchmark: latency, throughput against a floor, OCR against the CLI.

    .venv/bin/python bench/intake.py [--messages 1000] [--latency 30] [--scans 12] [--ocr-only]

Runs against a real Dovecot (IMAP, IDLE) and the tests' DSN-capable SMTP
server, both on loopback, started here. Prints numbers and the machine; it
asserts nothing (targets are in issue #2 and the closing note).

The OCR line compares CPU seconds with CPU seconds: the plain `tesseract`
reads of the scans as they came (JPEG), as many at a time as the pipeline has
workers, against the pipeline's workers on the pages; the workers' start (a
daemon pays it once, not per page) is measured on its own and given beside.
`--ocr-only` runs that part alone (no Dovecot).
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from mailflow import rules as rules_mod  # noqa: E402

# An OCR worker (multiprocessing's spawn) imports this script again, as
# __mp_main__: it needs none of the servers and the daemon (1.4 CPU-s each
# worker would spend on them, which a daemon's workers do not).
if __name__ != "__mp_main__":
    import corpusgen
    from servers import Dovecot, SmtpServer
    from support import text_appeal

    from mailflow import config, daemon
    from mailflow.mailbox import open_mailbox

CHIEF = "ayyrtau-res@sevkaz.example"


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    tess = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {tess}"
    )


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def make_config(home: Path, dc: Dovecot, user: str, smtp: SmtpServer) -> config.Config:
    return config.Config(
        home=home,
        database=f"sqlite:///{home / 'journal.db'}",
        rules_dir=REPO / "rules",
        mailboxes=(dc.mailbox_config(user, name="kanc", poll_interval=60),),
        smtp=smtp.smtp_config(sender=dc.address(user)),
    )


def scans(n: int, dpi: int = 300) -> list[bytes]:
    """n different one-page form scans (so none is linked as a copy of another)."""
    out = []
    for i in range(n):
        case = corpusgen.Case(
            doc="form",
            sender=CHIEF,
            kind=random.Random(i).choice(["жалоба", "заявление", "отзыв"]),
            fmt="jpeg",
            dpi=dpi,
            skew=1.0,
        )
        raw, _, _ = corpusgen.build(case, i, random.Random(1000 + i), dt.date(2026, 4, 1))
        out.append(raw)
    return out


# -- 1. latency ---------------------------------------------------------------


def latency(dc: Dovecot, tmp: Path, messages: list[bytes], label: str) -> list[float]:
    user = dc.add_user()
    smtp = SmtpServer(None).start()  # records only: "accepted by SMTP" is the end point
    cfg = make_config(tmp / f"lat-{label}", dc, user, smtp)
    stop = threading.Event()
    t = threading.Thread(
        target=daemon.run_forever,
        args=(cfg, rules_mod.load(REPO / "rules")),
        kwargs={"stop": stop},
        daemon=True,
    )
    t.start()
    time.sleep(3.0)  # OCR workers up, IDLE started
    out = []
    try:
        for raw in messages:
            before = len(smtp.received)
            t0 = time.time()
            dc.append(user, raw)
            smtp.wait_for(before + 1, timeout=60)
            rec = smtp.received[before]
            out.append(rec.received_at.timestamp() - t0)
            time.sleep(0.3)
    finally:
        stop.set()
        t.join(60)
        smtp.stop()
    return out


# -- 2. throughput against the floor ------------------------------------------


def throughput(dc: Dovecot, tmp: Path, n: int) -> tuple[float, float]:
    msgs = [
        text_appeal(
            frm=CHIEF,
            body=f"Направляю жалобу потребителя номер {i}.\n"
            f"Жалоба на отключение электроэнергии по ул. Абая, {i}.",
        )
        for i in range(n)
    ]
    user_a, user_b = dc.add_user(), dc.add_user()
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(lambda r: dc.append(user_a, r), msgs))
        list(ex.map(lambda r: dc.append(user_b, r), msgs))
    # mailflow: IMAP → archive → parse → triage → read → register + talon queued → MOVE
    smtp = SmtpServer(None).start()
    cfg = make_config(tmp / "tp", dc, user_a, smtp)
    parts = daemon.build(cfg, rules_mod.load(REPO / "rules"))
    box = open_mailbox(cfg.mailboxes[0])
    box.open()
    t0 = time.perf_counter()
    outcomes = daemon.drain(parts, box, cfg.mailboxes[0], threading.Event())
    t_pipeline = time.perf_counter() - t0
    box.close()
    daemon.close(parts)
    smtp.stop()
    assert sum(o.status == "registered" for o in outcomes) == n, outcomes[:3]
    # the floor: IMAP FETCH, email parse, one SQLite commit per message
    db = sqlite3.connect(tmp / "floor.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE m (uid INTEGER PRIMARY KEY, mid TEXT, subject TEXT, body BLOB)")
    c = dc.connect(user_b, "INBOX")
    t0 = time.perf_counter()
    for uid in c.search(["NOT", "DELETED"]):
        raw = c.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
        m = email.message_from_bytes(raw)
        db.execute("INSERT INTO m VALUES (?, ?, ?, ?)", (uid, m["Message-ID"], m["Subject"], raw))
        db.commit()
    t_floor = time.perf_counter() - t0
    c.logout()
    return n / t_pipeline, n / t_floor


# -- 3. OCR against the tesseract CLI -----------------------------------------


def ocr(tmp: Path, raws: list[bytes]) -> dict:
    """CPU seconds per page (and wall seconds) of the plain CLI and of the pipeline."""
    from mailflow import mime
    from mailflow.extract import recognize
    from mailflow.extract.evaluate import _PagesCpu
    from mailflow.extract.ocr import OcrPool

    rules = rules_mod.load(REPO / "rules")
    parsed = [mime.parse(r) for r in raws]
    pages = []
    for i, p in enumerate(parsed):
        path = tmp / f"page{i}.jpg"
        path.write_bytes(p.attachments[0].data)
        pages.append(path)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    workers = os.cpu_count() or 1

    def cli(path: Path) -> None:
        subprocess.run(
            ["tesseract", str(path), "-", "-l", "rus+kaz"], env=env, capture_output=True, check=True
        )

    def timed(fn) -> tuple[float, float]:
        """(wall, CPU of the children that ended) seconds per page of fn()."""
        t0, c0 = time.perf_counter(), _children_cpu()
        fn()
        return (time.perf_counter() - t0) / len(pages), (_children_cpu() - c0) / len(pages)

    def seq() -> None:
        for p in pages:
            cli(p)

    def par() -> None:
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(cli, pages))

    cli_seq, cli_seq_cpu = timed(seq)
    cli_par, cli_par_cpu = timed(par)

    def start_only() -> None:
        with OcrPool(0) as pool:
            pool.engine_name()  # every worker up with its models (warm() was queued first)

    _, start_cpu = timed(start_only)
    sender = rules.staff.by_email(CHIEF)
    self0, c0 = _self_cpu(), _children_cpu()
    with OcrPool(0) as pool:
        counted = _PagesCpu(pool)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(pool.workers) as ex:  # messages side by side, as the daemon's
            list(
                ex.map(
                    lambda p: recognize(p, sender=sender, channel="res", limits=rules.limits, pool=counted),
                    parsed,
                )
            )
        wall = time.perf_counter() - t0
    cpu = _children_cpu() - c0  # known once the pool's workers have exited
    return {
        "pages": len(pages),
        "workers": workers,
        "cli_seq": cli_seq,
        "cli_seq_cpu": cli_seq_cpu,
        "cli_par": cli_par,
        "cli_par_cpu": cli_par_cpu,
        "pipe": wall / len(pages),
        "pipe_cpu": cpu / len(pages),  # the workers, their start included
        "pipe_pages_cpu": counted.seconds / len(pages),  # the workers on the pages alone
        "pipe_self_cpu": (_self_cpu() - self0) / len(pages),  # the reading process (mail, fields)
        "start_cpu": start_cpu * len(pages),  # the workers' start, once, in all
    }


def ocr_line(o: dict, load: str) -> str:
    n, w = o["pages"], o["workers"]
    pages = o["pipe_pages_cpu"] + o["pipe_self_cpu"]
    whole = o["pipe_cpu"] + o["pipe_self_cpu"]
    return (
        f"OCR, {n} one-page 300-dpi scans (load {load}): tesseract CLI {o['cli_seq_cpu']:.2f} CPU-s/page "
        f"one at a time ({o['cli_seq']:.2f} s/page), {o['cli_par_cpu']:.2f} CPU-s/page {w} at once "
        f"({o['cli_par']:.2f} s/page); pipeline {o['pipe']:.2f} s/page wall, "
        f"{pages:.2f} CPU-s/page on the pages (workers {o['pipe_pages_cpu']:.2f} + reading process "
        f"{o['pipe_self_cpu']:.2f}) = {pages / o['cli_par_cpu']:.2f}x the CLI {w} at once (target ≤ 1.15x); "
        f"{whole:.2f} CPU-s/page with the workers' start spread over these {n} pages "
        f"= {whole / o['cli_par_cpu']:.2f}x (the start: {o['start_cpu']:.2f} CPU-s for {w} workers, "
        f"once per daemon); wall pipeline/CLI {w} at once: {o['pipe'] / o['cli_par']:.2f}x"
    )


def _children_cpu() -> float:
    r = os.times()
    return r.children_user + r.children_system


def _self_cpu() -> float:
    r = os.times()
    return r.user + r.system


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--latency", type=int, default=30)
    ap.add_argument("--scans", type=int, default=12)
    ap.add_argument("--ocr-only", action="store_true", help="only the OCR against the CLI (no Dovecot)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    print(f"machine: {machine()}")
    if args.ocr_only:
        with tempfile.TemporaryDirectory() as td:
            print(ocr_line(ocr(Path(td), scans(args.scans)), _load()))
        return 0
    with tempfile.TemporaryDirectory() as td, Dovecot() as dc:
        tmp = Path(td)
        text = [text_appeal(frm=CHIEF, body=f"Направляю жалобу потребителя {i}") for i in range(args.latency)]
        lat_text = latency(dc, tmp, text, "text")
        print(
            f"latency APPEND → talon accepted by SMTP, text appeal (IDLE), n={len(lat_text)}: "
            f"p50 {pct(lat_text, 50):.2f} s, p95 {pct(lat_text, 95):.2f} s (target p95 ≤ 2 s)"
        )
        scan_msgs = scans(args.scans + args.latency // 2)
        lat_scan = latency(dc, tmp, scan_msgs[args.scans :], "scan")
        print(
            f"latency APPEND → talon accepted by SMTP, one-page 300-dpi scan (IDLE), n={len(lat_scan)}: "
            f"p50 {pct(lat_scan, 50):.2f} s, p95 {pct(lat_scan, 95):.2f} s (target p95 ≤ 2 s, issue 13.7)"
        )
        pipe, floor = throughput(dc, tmp, args.messages)
        print(
            f"throughput, {args.messages} text appeals IMAP → registered + talon queued: "
            f"{pipe:.1f} msg/s; floor (FETCH + parse + 1 SQLite commit): {floor:.1f} msg/s; "
            f"ratio {pipe / floor:.0%} (target ≥ 50 %)"
        )
        o = ocr(tmp, scan_msgs[: args.scans])
        print(ocr_line(o, _load()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
