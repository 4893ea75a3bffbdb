"""`journal verify` on a journal of some 30,000 rows: the chain walk, the replay of
the tables from the events, a signed checkpoint made and checked.

    .venv/bin/python bench/verify.py [--docs 10000] [--events-per-doc 3] [--no-pg]

The journal: `--docs` appeals brought in by `journal import` (documents,
resolutions, addressees: about 3.3 rows a document; each import batch's event
carries its rows), and `--events-per-doc` events a case besides, each carrying
the case's document row as an act's event does, on a fresh SQLite
file and a fresh PostgreSQL database (127.0.0.1:5432). Asserts nothing;
prints the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

import sqlalchemy as sa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from journal_scale import machine, write_csv  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from mailflow import checkpoint, coverage, db, importing, journal, replay  # noqa: E402
from mailflow import rules as rules_mod  # noqa: E402
from mailflow.models import Event  # noqa: E402


def _timed(work):
    t0 = time.perf_counter()
    out = work()
    return out, time.perf_counter() - t0


def _pad_events(engine: sa.Engine, per_doc: int) -> None:
    """The cases' other events: a few each, in batches as a sweep writes them, each
    carrying its case's document row as an act's event does (the replay's real work)."""
    with Session(engine) as s:
        rows = coverage.read(s, "document")
    entries = [
        journal.Entry(
            "bench_note",
            document_id=i,
            data={
                "by": "petrov@sevkaz.example",
                "text": "Напоминание: срок ответа заявителю истекает.",
                coverage.KEY: {"document": {str(i): values}},
            },
        )
        for i, values in rows.items()
        for _ in range(per_doc)
    ]
    for k in range(0, len(entries), 5000):
        with Session(engine) as s, s.begin():
            journal.append_many(s, journal.lock(s), entries[k : k + 5000])


def run(label: str, url: str, csv_path: Path, per_doc: int) -> None:
    rules = rules_mod.load(REPO / "rules")
    engine = db.make_engine(url)
    db.migrate(engine)
    report, took = _timed(lambda: importing.run(engine, rules, csv_path))
    _pad_events(engine, per_doc)
    key = Ed25519PrivateKey.generate()
    with Session(engine) as s:
        verdict, walk = _timed(lambda: journal.verify(s))
        rebuilt, compare = _timed(lambda: replay.compare(s))
        events = s.exec(select(sa.func.count()).select_from(Event)).one()
        size = s.exec(select(sa.func.avg(sa.func.length(Event.data)))).one()
    with Session(engine) as s, s.begin():
        journal.lock(s)
        cp, make = _timed(lambda: checkpoint.make(s, key))
    with Session(engine) as s:
        found, check = _timed(lambda: checkpoint.check(s, cp, key.public_key()))
    engine.dispose()
    rows = {t.table: t.rows for t in rebuilt.tables if t.rows}
    assert verdict.ok and rebuilt.ok and not found, (verdict, rebuilt.mismatches[:3], found)
    print(
        f"{label}: {sum(rows.values())} rows ({', '.join(f'{k} {v}' for k, v in rows.items())}), "
        f"{events} events ({rebuilt.events} carrying rows, {float(size or 0):.0f} characters of data on average); "
        f"import {took:.1f} s ({report.imported} documents)"
    )
    print(f"  chain walk (journal.verify)        {walk:7.2f} s")
    print(f"  tables replayed (replay.compare)   {compare:7.2f} s")
    print(f"  checkpoint made / checked          {make * 1000:7.1f} ms / {check * 1000:.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--events-per-doc", type=int, default=3)
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "journal.csv"
        write_csv(src, args.docs)
        run("SQLite", f"sqlite:///{tmp}/journal.db", src, args.events_per_doc)
        if not args.no_pg:
            from support import PgDatabase, pg_available

            why = pg_available()
            if why:
                print(f"PostgreSQL: skipped ({why})")
                return
            with PgDatabase() as pg:
                run("PostgreSQL", pg.url, src, args.events_per_doc)


if __name__ == "__main__":
    main()
