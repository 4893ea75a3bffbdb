"""`journal import` at scale: a legacy journal of N rows into an empty journal.

    .venv/bin/python bench/journal_import.py [--rows 100000] [--sqlite] [--pg] [--xlsx]

Writes a synthetic journal (export columns; ten years of appeals, most
closed with an executor, some answered, a few in work) as CSV, imports it
into a fresh SQLite file and/or a throwaway PostgreSQL database
(127.0.0.1:5432), and prints rows per second and the peak memory. Imports the
same file a second time to time "already imported". Asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from journal_scale import machine  # noqa: E402

from mailflow import db, importing  # noqa: E402
from mailflow import rules as rules_mod  # noqa: E402
from mailflow.vocabulary import KINDS as VOCABULARY_KINDS  # noqa: E402

KZ = dt.timezone(dt.timedelta(hours=5))
KINDS = [k.key for k in VOCABULARY_KINDS if k.specific]  # "обращение", the general word, apart
CHANNELS = ["res", "service_center", "book", "website", "email", "written"]  # of vocabulary.CHANNEL_KEYS
EXECUTORS = ["petrov@sevkaz.example", "sidorenko@sevkaz.example", "ivanov@sevkaz.example"]
HEADER = [
    "incoming_number",
    "registered_at",
    "kind",
    "channel",
    "origin_unit",
    "last_name",
    "first_name",
    "patronymic",
    "address",
    "phone",
    "executors",
    "due_date",
    "answered_at",
    "closed_at",
]


def write(path: Path, n: int) -> None:
    rnd = random.Random(7)
    end = dt.datetime(2026, 11, 30, 17, 0, tzinfo=KZ)
    start = end - dt.timedelta(days=3650)
    seq: dict[int, int] = {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n):
            reg = start + dt.timedelta(seconds=int(3650 * 86400 * i / n))
            seq[reg.year] = seq.get(reg.year, 0) + 1
            fate = rnd.random()
            answered = reg + dt.timedelta(days=rnd.randint(3, 25)) if fate < 0.97 else None
            closed = answered + dt.timedelta(days=1) if answered and fate < 0.9 else None
            if answered and answered > end:
                answered = closed = None
            w.writerow(
                [
                    f"ВХ-{reg.year}-{seq[reg.year]:06d}",
                    reg.isoformat(),
                    rnd.choice(KINDS),
                    rnd.choice(CHANNELS),
                    "Айыртауский РЭС" if fate < 0.3 else "",
                    f"Фамилия{i % 5000}",
                    "Иван",
                    "Петрович",
                    f"г. Петропавловск, ул. Абая, д. {i % 300}, кв. {i % 90}",
                    f"+7705{i % 10_000_000:07d}",
                    rnd.choice(EXECUTORS) if fate < 0.99 else "",
                    (reg + dt.timedelta(days=21)).date().isoformat(),
                    answered.isoformat() if answered else "",
                    closed.isoformat() if closed else "",
                ]
            )


def run(label: str, url: str, path: Path, n: int) -> None:
    rules = rules_mod.load(REPO / "rules")
    engine = db.make_engine(url)
    db.migrate(engine)
    t = time.perf_counter()
    report = importing.run(engine, rules, path)
    took = time.perf_counter() - t
    assert report.imported == n, report.bad[:5]
    print(f"{label}: {n} rows in {took:.1f} s = {n / took:,.0f} rows/s; states {report.states}")
    t = time.perf_counter()
    again = importing.run(engine, rules, path)
    took = time.perf_counter() - t
    print(f"{label}: the same file again: {again.already} already, {took:.1f} s = {n / took:,.0f} rows/s")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--sqlite", action="store_true")
    ap.add_argument("--pg", action="store_true")
    args = ap.parse_args()
    both = not (args.sqlite or args.pg)
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.csv"
        t = time.perf_counter()
        write(path, args.rows)
        print(
            f"file: {args.rows} rows, {path.stat().st_size / 1e6:.0f} MB, written in {time.perf_counter() - t:.1f} s"
        )
        if args.sqlite or both:
            run("SQLite", f"sqlite:///{tmp}/journal.db", path, args.rows)
        if args.pg or both:
            from support import PgDatabase

            with PgDatabase() as pg:
                run("PostgreSQL", pg.url, path, args.rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
