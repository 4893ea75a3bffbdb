"""Ten years of journal: import, the minute sweeps, the writer lock, talons meanwhile.

    .venv/bin/python bench/journal_scale.py [--pg-docs 1000000] [--sqlite-docs 100000]

Writes the CSV a chancellery would bring (ten years of appeals, most closed, the
last month's mostly in work, a few old ones stuck and overdue), loads it with
`journal import` into a fresh SQLite file and a fresh PostgreSQL database
(127.0.0.1:5432), then prints, for each:

- import time (and rows/s);
- the first sweep of the day (today's reminders, escalations, hand-over lists,
  the weekly report, unproven deliveries) and the steady minute sweep (median of 5);
- the longest hold of the writer lock (`journal.lock` to commit) by the sweeps;
- talon latency (p95, max) of text appeals arriving every 0.25 s while the first
  sweep of the day runs in another thread of the same process (as the daemon's
  scheduler does), beside the same on an empty journal.

Asserts nothing; prints the machine.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from mailflow import chasing, daemon, db, importing, journal, sweeps  # noqa: E402
from mailflow import rules as rules_mod  # noqa: E402
from mailflow.case.queries import is_open  # noqa: E402
from mailflow.mailbox import Fetched  # noqa: E402
from mailflow.models import Document  # noqa: E402
from mailflow.values import Source  # noqa: E402
from mailflow.vocabulary import KINDS as VOCABULARY_KINDS  # noqa: E402

KZ = dt.timezone(dt.timedelta(hours=5))
NOW = dt.datetime(2026, 4, 23, 10, 30, tzinfo=KZ)  # a Thursday (two RES meet), in working hours
SENDER = "kanc@sevkaz.example"
KINDS = [k.key for k in VOCABULARY_KINDS if k.specific]  # "обращение", the general word, apart
CHANNELS = ["res", "service_center", "book", "website", "email", "written"]  # of vocabulary.CHANNEL_KEYS
UNITS = ["Айыртауский РЭС", "Тайыншинский РЭС", "Есильский РЭС", "Кызылжарский РЭС", ""]
EXECUTORS = [
    "petrov@sevkaz.example",
    "sidorenko@sevkaz.example",
    "ivanov@sevkaz.example",
    "ivanova@sevkaz.example",
]
SURNAMES = ["Ахметов", "Иванова", "Сатпаев", "Омарова", "Ким", "Петренко", "Жумабаева", "Кузнецов"]
COLUMNS = (
    "incoming_number",
    "registered_at",
    "kind",
    "channel",
    "origin_unit",
    "last_name",
    "first_name",
    "patronymic",
    "org_name",
    "address",
    "phone",
    "email",
    "resolution",
    "executors",
    "due_date",
    "closed_at",
)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )


def write_csv(path: Path, n: int, span_days: int = 3650) -> None:
    """The chancellery's journal: n appeals over ten years, numbered per year."""
    rnd = random.Random(7)
    start = NOW - dt.timedelta(days=span_days)
    seq: dict[int, int] = {}
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i in range(1, n + 1):
            reg = start + dt.timedelta(seconds=int(span_days * 86400 * i / (n + 1)))
            seq[reg.year] = seq.get(reg.year, 0) + 1
            recent = reg > NOW - dt.timedelta(days=30)
            open_ = recent and rnd.random() < 0.6 or rnd.random() < 0.0005
            due = (reg + dt.timedelta(days=21)).date()
            closed = "" if open_ else (reg + dt.timedelta(days=rnd.randint(3, 25))).isoformat()
            w.writerow(
                (
                    f"ВХ-{reg.year}-{seq[reg.year]:06d}",
                    reg.isoformat(),
                    rnd.choice(KINDS),
                    rnd.choice(CHANNELS),
                    rnd.choice(UNITS),
                    rnd.choice(SURNAMES),
                    "Болат",
                    "Серикович",
                    "",
                    f"г. Петропавловск, ул. Абая, {rnd.randint(1, 200)}",
                    f"+7 705 {rnd.randint(100, 999)} {rnd.randint(10, 99)} {rnd.randint(10, 99)}",
                    "",
                    "рассмотреть, подготовить ответ",
                    ", ".join(rnd.sample(EXECUTORS, rnd.choice([1, 1, 2]))),
                    due.isoformat(),
                    closed,
                )
            )


class LockHolds:
    """Times each writing transaction from `journal.lock` to its end."""

    def __init__(self) -> None:
        self.holds: list[float] = []
        self.callers: list[str] = []  # the function that took the lock, beside each hold
        self._real = journal.lock

    def __enter__(self) -> LockHolds:
        real, holds, callers = self._real, self.holds, self.callers

        def lock(session):
            head = real(session)
            t0 = time.perf_counter()
            caller = f"{threading.current_thread().name}:{sys._getframe(1).f_code.co_name}"

            def done(_s, *_a):
                holds.append(time.perf_counter() - t0)
                callers.append(caller)

            sa.event.listen(session, "after_commit", done, once=True)
            sa.event.listen(session, "after_rollback", done, once=True)
            return head

        journal.lock = lock
        return self

    def __exit__(self, *exc) -> None:
        journal.lock = self._real


def sweep_all(engine: sa.Engine, rules, now: dt.datetime) -> int:
    return sweeps.unproven_deliveries(engine, rules, SENDER, now=now) + chasing.sweep(
        engine, rules, SENDER, now=now
    )


def talons_meanwhile(cfg, rules, work, label: str) -> list[float]:
    """Appeals arriving every 0.25 s while `work()` runs; each one's seconds to its talon."""
    from support import fake_recognizer, text_appeal

    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    latencies: list[float] = []
    running = threading.Event()
    running.set()
    worker = threading.Thread(target=lambda: (work(), running.clear()), name="sweep")
    worker.start()
    i = 0
    next_at = time.perf_counter()
    while running.is_set() or i < 4:
        time.sleep(max(0.0, next_at - time.perf_counter()))
        arrived = time.perf_counter()
        raw = text_appeal(body=f"Жалоба {label} {i}: нет света третий день")
        out = parts.intake.process(
            Fetched(Source("bench", "1", f"{label}-{i}"), raw, dt.datetime.now(dt.UTC))
        )
        assert out.status == "registered", out
        latencies.append(time.perf_counter() - arrived)
        i += 1
        next_at = arrived + 0.25
    worker.join()
    daemon.close(parts)
    return latencies


def measure(
    label: str,
    url: str,
    empty_url: str,
    n: int,
    work_dir: Path,
    span_days: int = 3650,
    imported_already: bool = False,
    keep: Callable[[], None] | None = None,
) -> None:
    """`url` gets the imported journal; `empty_url`, a journal of the same kind left
    empty, gives the talon latency to compare with. `imported_already`: `url` is a
    copy of a journal imported before (--pg-keep), so the import is not timed;
    `keep`, called after the import, keeps a copy of it for the next runs."""
    from support import home_config

    rules = rules_mod.load(REPO / "rules")
    blank = db.make_engine(empty_url)
    db.migrate(blank)
    empty_cfg = home_config(work_dir / f"{label}-empty", database=empty_url)
    empty = talons_meanwhile(empty_cfg, rules, lambda: sweep_all(blank, rules, NOW), "empty")
    blank.dispose()
    cfg = home_config(work_dir / label, database=url)
    engine = db.make_engine(url)
    db.migrate(engine)

    if not imported_already:
        src = work_dir / f"journal-{label}.csv"
        t0 = time.perf_counter()
        write_csv(src, n, span_days)
        written = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = importing.run(engine, rules, src)
        imported = time.perf_counter() - t0
        assert report.imported == n, report
        if keep:
            engine.dispose()
            keep()
    with Session(engine) as s:
        n = s.exec(select(sa.func.count()).select_from(Document)).one()
        open_n = s.exec(select(sa.func.count()).select_from(Document).where(is_open())).one()
        overdue = s.exec(
            select(sa.func.count()).select_from(Document).where(is_open(), Document.due_date < NOW.date())
        ).one()
    if imported_already:
        print(f"[{label}] import: not timed (a copy of the kept journal); {n:,} rows, ", end="")
    else:
        print(
            f"[{label}] import: {n:,} rows in {imported:.1f} s ({n / imported:,.0f} rows/s; "
            f"CSV of {src.stat().st_size / 1e6:.0f} MB written in {written:.1f} s); ",
            end="",
        )
    print(f"{open_n:,} open, {overdue:,} overdue")
    # the weekly report (due on this day of a never-reported journal), timed apart:
    # built from a read, it is queued in one short transaction
    with LockHolds() as weekly_holds:
        t0 = time.perf_counter()
        chasing.sweep_weekly(engine, rules, SENDER, NOW)
        weekly = time.perf_counter() - t0
    queued: list[int] = []
    took: list[float] = []

    def first_sweep() -> None:  # timed alone, in its thread, while appeals arrive
        t0 = time.perf_counter()
        queued.append(sweep_all(engine, rules, NOW))
        took.append(time.perf_counter() - t0)

    with LockHolds() as first_holds:
        during = talons_meanwhile(cfg, rules, first_sweep, "sweep")
        first = took[0]
    steady_times = []
    with LockHolds() as steady_holds:
        for k in range(5):
            t0 = time.perf_counter()
            sweep_all(engine, rules, NOW + dt.timedelta(minutes=k + 1))
            steady_times.append(time.perf_counter() - t0)
    with Session(engine) as s:
        letters = s.exec(
            sa.text("SELECT count(*) FROM outbox WHERE kind NOT IN ('talon', 'management', 'forward')")
        ).one()[0]
        chases = s.exec(sa.text("SELECT count(*) FROM chase")).one()[0]
    print(
        f"[{label}] first sweep of the day: {first:.2f} s, while appeals arrive "
        f"({queued[0]} chases and notices; {letters} letters queued in all, reminders, notices and the weekly report; {chases} chase rows); "
        f"steady sweep: median {statistics.median(steady_times) * 1000:.1f} ms, "
        f"max {max(steady_times) * 1000:.1f} ms"
    )
    print(
        f"[{label}] weekly report: {weekly:.2f} s (built from a read; queued holding the lock "
        f"{max(weekly_holds.holds, default=0) * 1000:.1f} ms)"
    )
    every = [
        (h, who) for lh in (first_holds, steady_holds, weekly_holds) for h, who in zip(lh.holds, lh.callers)
    ]
    # the sweeps' own transactions (the first sweep's thread is "sweep", the others run
    # here); the appeals' registrations meanwhile are shown apart: their holds include
    # waiting for the interpreter while the sweep's thread computes
    ours = [(h, who) for h, who in every if not who.startswith("MainThread:_write")]
    theirs = [h for h, who in every if who.startswith("MainThread:_write")]
    holds = [h for h, _ in ours]
    longest = sorted(ours, reverse=True)[:3]
    print(
        f"[{label}] writer lock held by the sweeps: longest {max(holds) * 1000:.1f} ms over "
        f"{len(holds)} transactions; longest in "
        + ", ".join(f"{who} {h * 1000:.0f} ms" for h, who in longest)
        + f"; registrations meanwhile held it up to {max(theirs, default=0) * 1000:.0f} ms"
    )
    print(
        f"[{label}] talon latency while the first sweep runs: p95 {p95(during) * 1000:.0f} ms, "
        f"max {max(during) * 1000:.0f} ms (n={len(during)}); on an empty journal: "
        f"p95 {p95(empty) * 1000:.0f} ms, max {max(empty) * 1000:.0f} ms (n={len(empty)})"
    )
    print(f"[{label}] load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    engine.dispose()


def kept_copy(kept: str, into: str) -> bool:
    """Fill the fresh database `into` from the kept journal `kept`, if there is one."""
    import psycopg
    from support import PG_ADMIN

    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (kept,)).fetchone():
            return False
        c.execute(f'DROP DATABASE "{into}"')
        c.execute(f'CREATE DATABASE "{into}" TEMPLATE "{kept}"')  # a file copy, statistics too
    return True


def keep_copy(src: str, kept: str) -> None:
    import psycopg
    from support import PG_ADMIN

    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{kept}" TEMPLATE "{src}"')


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-docs", type=int, default=1_000_000)
    ap.add_argument("--sqlite-docs", type=int, default=100_000)
    ap.add_argument(
        "--span-days", type=int, default=3650, help="history's length (shorter: a big open set at a small n)"
    )
    ap.add_argument(
        "--pg-keep",
        metavar="NAME",
        help="keep the imported PostgreSQL journal as database NAME; when NAME exists, "
        "measure a copy of it instead of importing again (the import is then not timed)",
    )
    args = ap.parse_args()
    print(f"machine: {machine()}")
    from support import PgDatabase, pg_available

    with tempfile.TemporaryDirectory() as td:
        if args.sqlite_docs:
            measure(
                "sqlite",
                f"sqlite:///{td}/sqlite/journal.db",
                f"sqlite:///{td}/sqlite-empty/journal.db",
                args.sqlite_docs,
                Path(td),
                args.span_days,
            )
        why = pg_available()
        if why:
            print(f"[postgresql] skipped: {why}")
            return 0
        if args.pg_docs:
            with PgDatabase() as pg, PgDatabase() as empty:
                kept = args.pg_keep and kept_copy(args.pg_keep, pg.name)
                keep = (lambda: keep_copy(pg.name, args.pg_keep)) if args.pg_keep and not kept else None
                measure(
                    "postgresql", pg.url, empty.url, args.pg_docs, Path(td), args.span_days, bool(kept), keep
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
