"""Journal at scale: the overdue sweep, the weekly report and `journal list --overdue`.

    .venv/bin/python bench/journal_scale.py [--pg-docs 1000000] [--sqlite-docs 100000]

Fills a fresh PostgreSQL database (127.0.0.1:5432) and a SQLite file with
synthetic documents, resolutions, executors and deliveries (bulk-loaded, ten
years of traffic, most cases closed, a few thousand open), then times each
operation a few times and prints the median and the machine. Asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from mailflow import chasing, db  # noqa: E402
from mailflow import rules as rules_mod
from mailflow.models import Document  # noqa: E402

KZ = dt.timezone(dt.timedelta(hours=5))
NOW = dt.datetime(2026, 4, 20, 10, 30, tzinfo=KZ)  # a Monday, in working hours
KINDS = ["заявление", "жалоба", "претензия", "отзыв", "предложение"]
CHANNELS = ["res", "service_center", "book", "website", "email", "written"]
UNITS = ["Айыртауский РЭС", "Тайыншинский РЭС", "Есильский РЭС", "Кызылжарский РЭС", None]
EXECUTORS = [
    ("petrov@sevkaz.example", "Петров Алексей Сергеевич"),
    ("sidorenko@sevkaz.example", "Сидоренко Ольга Викторовна"),
    ("ivanov@sevkaz.example", "Иванов Сергей Петрович"),
    ("ivanova@sevkaz.example", "Иванова Марина Александровна"),
]


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def rows(n: int, rnd: random.Random):
    """(document, resolution, assignments, deliveries) tuples, as plain column tuples."""
    start = NOW - dt.timedelta(days=3650)
    for i in range(1, n + 1):
        reg = start + dt.timedelta(seconds=int(3650 * 86400 * i / n))
        # the last month's appeals are mostly in work; a few old ones are stuck, overdue
        open_ = reg > NOW - dt.timedelta(days=30) and rnd.random() < 0.6 or rnd.random() < 0.0005
        due = (reg + dt.timedelta(days=21)).date()
        status = "in_work" if open_ else "closed"  # case.states
        closed = None if open_ else reg + dt.timedelta(days=rnd.randint(3, 25))
        kind, channel = rnd.choice(KINDS), rnd.choice(CHANNELS)
        book = reg - dt.timedelta(minutes=rnd.randint(5, 50)) if channel == "book" else None
        pr = reg + dt.timedelta(minutes=1) if channel == "book" else None
        doc = (
            i,
            "dp",
            reg.year,
            i,
            f"ВХ-{reg.year}-{i:07d}",
            reg,
            reg,
            kind,
            rnd.choice([1, 2]),
            channel,
            rnd.choice(UNITS),
            "Фамилия",
            "Имя",
            None,
            "г. Петропавловск",
            None,
            None,
            None,
            None,
            None,
            book,
            None,
            None,
            None,
            "0" * 64,
            "[]",
            "{}",
            status,
            True,
            "",
            due,
            closed,
            pr,
        )
        res = (
            i,
            i,
            "рассмотреть, подготовить ответ",
            "",
            due,
            "resolution",
            "director@sevkaz.example",
            "Жумабаев Е.С.",
            "email",
            None,
            reg,
            True,
        )
        people = rnd.sample(EXECUTORS, rnd.choice([1, 1, 2]))
        assigns = [(i, i, pos, e, name) for pos, (e, name) in enumerate(people, 1)]
        dels = [
            (
                i,
                i,
                i,
                e,
                uuid.uuid4().hex,
                f"<{uuid.uuid4().hex}@sevkaz.example>",
                "s",
                reg,
                250,
                "ok",
                None,
                reg,
                None,
                reg if rnd.random() < 0.9 else None,
                None,
                None,
                reg if rnd.random() < 0.6 else None,
                None,
                None,
                None,
            )
            for _, _, _, e, _ in assigns
        ]
        yield doc, res, assigns, dels


DOC_COLS = (
    "id, journal, year, seq, number, registered_at, received_at, kind, grp, channel, "
    "origin_unit, last_name, first_name, patronymic, address, phone, email, org_name, "
    "outgoing_number, outgoing_date, book_entry_at, source_message_id, source_from, "
    "source_subject, sha256, needs_review, confidence, status, talon, text, due_date, "
    "closed_at, pr_forwarded_at"
)
RES_COLS = (
    "id, document_id, text, instruction, due_date, due_source, author, author_name, "
    "source, inbound_id, created_at, current"
)
ASG_COLS = "resolution_id, document_id, position, email, name"
DEL_COLS = (
    "document_id, resolution_id, outbox_id, to_addr, envelope_id, message_id, subject, "
    "created_at, smtp_code, smtp_reply, queue_id, accepted_at, relayed_at, delivered_at, "
    "delayed_at, failed_at, displayed_at, replied_at, status_code, unproven_reported_at"
)


def load(engine: sa.Engine, n: int) -> None:
    rnd = random.Random(7)
    if engine.dialect.name == "postgresql":
        return _copy(engine, n, rnd)
    batch: dict[str, list] = {"document": [], "resolution": [], "assignment": [], "delivery": []}
    with engine.begin() as c:
        for doc, res, assigns, dels in rows(n, rnd):
            batch["document"].append(_sqlite(doc))
            batch["resolution"].append(_sqlite(res))
            batch["assignment"] += assigns
            batch["delivery"] += [_sqlite(d) for d in dels]
            if len(batch["document"]) >= 20000:
                _flush_sqlite(c, batch)
        _flush_sqlite(c, batch)


def _sqlite(row):
    return tuple(v.astimezone(dt.UTC).replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in row)


def _flush_sqlite(c, batch):
    for table, cols in (
        ("document", DOC_COLS),
        ("resolution", RES_COLS),
        ("assignment", ASG_COLS),
        ("delivery", DEL_COLS),
    ):
        if batch[table]:
            marks = ", ".join("?" * len(cols.split(", ")))
            c.exec_driver_sql(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch[table])
            batch[table].clear()


def _copy(engine: sa.Engine, n: int, rnd: random.Random) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        # one COPY at a time: the same seeded rows are generated again for each table
        for table, cols, pick in (
            ("document", DOC_COLS, lambda r: [r[0]]),
            ("resolution", RES_COLS, lambda r: [r[1]]),
            ("assignment", ASG_COLS, lambda r: r[2]),
            ("delivery", DEL_COLS, lambda r: r[3]),
        ):
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
                for r in rows(n, random.Random(7)):
                    for row in pick(r):
                        cp.write_row(row)
        for table in ("document", "resolution"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def timed(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(label: str, url: str, n: int) -> None:
    engine = db.make_engine(url)
    db.migrate(engine)
    t0 = time.perf_counter()
    load(engine, n)
    loaded = time.perf_counter() - t0
    rules = rules_mod.load(REPO / "rules")
    with Session(engine) as s:
        open_n = s.exec(select(sa.func.count()).select_from(Document).where(chasing.IS_OPEN)).one()
    first = timed(lambda: chasing.sweep(engine, rules, "kanc@sevkaz.example", now=NOW), repeat=1)
    steady = timed(lambda: chasing.sweep(engine, rules, "kanc@sevkaz.example", now=NOW))
    today = NOW.date()

    def overdue_list():
        with Session(engine) as s:
            docs = s.exec(
                select(Document)
                .where(chasing.IS_OPEN, Document.due_date < today)
                .order_by(Document.due_date, Document.id)
            ).all()
            return len(docs)

    listing = timed(overdue_list)
    print(
        f"[{label}] {n:,} documents (loaded in {loaded:.0f} s), {open_n:,} open, {overdue_list():,} overdue"
    )
    print(
        f"[{label}] overdue sweep: first run (queues today's reminders) {first:.2f} s; "
        f"steady state {steady:.3f} s"
    )
    print(f"[{label}] journal list --overdue (query + rows): {listing:.3f} s")
    try:
        from mailflow import digest
    except ImportError:
        print(f"[{label}] weekly report: mailflow.digest not available")
    else:
        week = digest.Week.previous_of(today)

        def report():
            with Session(engine) as s:
                return digest.build(s, rules, week, NOW)

        print(f"[{label}] weekly report {week.label}: {timed(report):.3f} s")
    engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-docs", type=int, default=1_000_000)
    ap.add_argument("--sqlite-docs", type=int, default=100_000)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    from support import PgDatabase, pg_available

    with tempfile.TemporaryDirectory() as td:
        measure("sqlite", f"sqlite:///{td}/journal.db", args.sqlite_docs)
    why = pg_available()
    if why:
        print(f"[postgresql] skipped: {why}")
        return 0
    with PgDatabase() as pg:
        measure("postgresql", pg.url, args.pg_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
