"""The workplace at scale: the journal's first page, a surname search, a phone search, a card.

    .venv/bin/python bench/web.py [--pg-docs 1000000] [--sqlite-docs 100000] [--runs 40]

Fills a fresh PostgreSQL database (127.0.0.1:5432) and a SQLite file with
synthetic registered appeals (varied surnames, phones, addresses; search text
as registration writes it), attaches a 3-page scan to some, signs in as the
clerk and times the requests in process (FastAPI's TestClient, the same app
`mailflow web` serves), printing p50 and p95 and the machine. The card's first
render of its pages is excluded (they are cached after). Asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import math
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import sqlalchemy as sa
from fastapi.testclient import TestClient

from mailflow import config, daemon, db
from mailflow import rules as rules_mod
from mailflow.archive import Archive
from mailflow.case.search import search_text
from mailflow.web import signin

CLERK = "kanc@sevkaz.example"

KZ = dt.timezone(dt.timedelta(hours=5))
SURNAMES = [
    "Ахметов", "Сатпаев", "Иванов", "Петренко", "Касымова", "Нурланова", "Жумабаев", "Ким", "Ли",
    "Омаров", "Сергеев", "Бекова", "Абенов", "Королёв", "Тулегенов", "Смагулова", "Ержанов", "Попова",
]  # fmt: skip
NAMES = ["Болат", "Гульнара", "Сергей", "Елена", "Марат", "Айгерим", "Татьяна", "Ерлан"]
STREETS = ["Конституции Казахстана", "Интернациональная", "Мира", "Ленина", "Абая", "Жамбыла"]
TOWNS = ["г. Петропавловск", "с. Явленка", "с. Бесколь", "г. Тайынша", "с. Саумалколь"]
KINDS = ["заявление", "жалоба", "претензия", "отзыв", "предложение"]


class Doc:
    """Enough of a Document for `search_text`."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def machine() -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "?",
    )
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def rows(n: int, rnd: random.Random):
    start = dt.datetime(2016, 4, 20, 9, 0, tzinfo=KZ)
    for i in range(1, n + 1):
        reg = start + dt.timedelta(seconds=int(3650 * 86400 * i / n))
        last, first = rnd.choice(SURNAMES), rnd.choice(NAMES)
        if rnd.random() < 0.5:
            last = f"{last}{rnd.randint(1, 9999)}"  # many distinct surnames, as in life
        phone = f"+7705{rnd.randint(0, 9_999_999):07d}"
        address = f"{rnd.choice(TOWNS)}, ул. {rnd.choice(STREETS)}, д. {rnd.randint(1, 200)}"
        number = f"ВХ-{reg.year}-{i:07d}"
        d = Doc(
            number=number,
            last_name=last,
            first_name=first,
            patronymic=None,
            address=address,
            phone=phone,
            email=None,
            org_name=None,
            outgoing_number=None,
            text="",
        )
        status = "in_work" if rnd.random() < 0.01 else "closed"
        yield (
            i,
            "dp",
            reg.year,
            i,
            number,
            reg,
            reg,
            rnd.choice(KINDS),
            1,
            "res",
            None,
            last,
            first,
            address,
            phone,
            "0" * 64,
            "[]",
            "{}",
            status,
            True,
            "",
            search_text(d),
            (reg + dt.timedelta(days=21)).date(),
        )


COLS = (
    "id, journal, year, seq, number, registered_at, received_at, kind, grp, channel, origin_unit, last_name, "
    "first_name, address, phone, sha256, needs_review, confidence, status, talon, text, search, due_date"
)


def load(engine: sa.Engine, n: int) -> list[tuple]:
    rnd = random.Random(11)
    sample: list[tuple] = []
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur, cur.copy(f"COPY document ({COLS}) FROM STDIN") as copy:
                for r in rows(n, rnd):
                    copy.write_row(r)
                    if r[0] % 997 == 0:
                        sample.append(r)
            raw.commit()
        finally:
            raw.close()
        with engine.begin() as c:
            c.exec_driver_sql("SELECT setval('document_id_seq', (SELECT max(id) FROM document))")
            c.exec_driver_sql("ANALYZE document")
        return sample
    marks = ", ".join("?" * len(COLS.split(", ")))
    with engine.begin() as c:
        batch = []
        for r in rows(n, rnd):
            batch.append(
                tuple(
                    v.astimezone(dt.UTC).replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in r
                )
            )
            if r[0] % 997 == 0:
                sample.append(r)
            if len(batch) >= 20000:
                c.exec_driver_sql(f"INSERT INTO document ({COLS}) VALUES ({marks})", batch)
                batch = []
        if batch:
            c.exec_driver_sql(f"INSERT INTO document ({COLS}) VALUES ({marks})", batch)
        c.exec_driver_sql("ANALYZE")
    return sample


def assign_open(engine: sa.Engine, staff: list[tuple[str, str]]) -> int:
    """A resolution in force with one executor for every open case (the dashboard's rows)."""
    with engine.begin() as c:
        open_ids = [
            r[0] for r in c.exec_driver_sql("SELECT id, due_date FROM document WHERE status = 'in_work'")
        ]
        now = dt.datetime.now(dt.UTC)
        for start in range(0, len(open_ids), 5000):
            ids = open_ids[start : start + 5000]
            c.execute(
                sa.text(
                    "INSERT INTO resolution (id, document_id, text, instruction, due_date, due_source, author, "
                    "source, created_at, current) VALUES (:id, :id, 'рассмотреть', '', :due, 'resolution', "
                    "'director@sevkaz.example', 'email', :now, :cur)"
                ),
                [{"id": i, "due": dt.date.today(), "now": now, "cur": True} for i in ids],
            )
            c.execute(
                sa.text(
                    "INSERT INTO assignment (resolution_id, document_id, position, email, name) "
                    "VALUES (:id, :id, 1, :email, :name)"
                ),
                [{"id": i, "email": staff[i % len(staff)][0], "name": staff[i % len(staff)][1]} for i in ids],
            )
        if engine.dialect.name == "postgresql":
            c.exec_driver_sql("SELECT setval('resolution_id_seq', (SELECT max(id) FROM resolution))")
        # a third due today (this week, whatever the weekday), the rest long overdue
        c.execute(
            sa.text("UPDATE document SET due_date = :d WHERE status = 'in_work' AND id % 3 = 0"),
            {"d": dt.datetime.now(KZ).date()},
        )
    return len(open_ids)


def attach_scans(engine: sa.Engine, archive: Archive, ids: list[int]) -> None:
    from PIL import Image, ImageDraw

    pages = []
    for p in range(3):
        img = Image.new("RGB", (2480, 3508), "white")  # A4 at 300 dpi
        ImageDraw.Draw(img).text((200, 200 + p * 40), f"page {p + 1}", fill="black")
        pages.append(img)
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", resolution=300, save_all=True, append_images=pages[1:])
    sha = archive.put(buf.getvalue(), suffix=".bin")
    with engine.begin() as c:
        for i in ids:
            c.execute(
                sa.text(
                    "INSERT INTO attachment (document_id, filename, sha256, content_type, pages, text_source) "
                    "VALUES (:d, 'скан.pdf', :s, 'application/pdf', 3, 'ocr')"
                ),
                {"d": i, "s": sha},
            )


class Counter:
    """SQL statements sent, counted at the engine (how many queries a request costs)."""

    def __init__(self, engine: sa.Engine):
        self.n = 0
        sa.event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *args) -> None:
        self.n += 1


def timed(client: TestClient, urls: list[str], counter: Counter | None = None) -> tuple[float, float, float]:
    """p50, p95 (ms) and queries per request."""
    times = []
    before = counter.n if counter else 0
    for url in urls:
        t = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
    queries = ((counter.n - before) / len(urls)) if counter else 0.0
    times.sort()
    # nearest rank: with few runs (a smoke run) the p95 is the slowest, never below the median
    return statistics.median(times), times[max(0, math.ceil(len(times) * 0.95) - 1)], queries


def once(client: TestClient, url: str) -> tuple[float, int, float]:
    """One streamed download: seconds, bytes, and the growth of this process's peak RSS (MB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    size = 0
    with client.stream("GET", url) as r:
        assert r.status_code == 200, (url, r.status_code)
        for chunk in r.iter_bytes():
            size += len(chunk)
    return time.perf_counter() - t, size, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024


def line(name: str, p50: float, p95: float, queries: float) -> None:
    print(f"  {name:40} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   {queries:5.1f} queries", flush=True)


def run(url: str, n: int, runs: int, label: str, home: Path) -> None:

    engine = db.make_engine(url)
    db.migrate(engine)
    t = time.perf_counter()
    sample = load(engine, n)
    print(f"{label}: {n:,} documents loaded in {time.perf_counter() - t:.0f} s", flush=True)
    rules = rules_mod.load(REPO / "rules")
    staff = [(p.email, p.name) for p in rules.staff.people if p.unit][:12]
    print(f"  {assign_open(engine, staff):,} open cases given a resolution and an executor")
    home.mkdir(parents=True, exist_ok=True)
    cfg = dataclasses.replace(config.embedded_default(home, REPO / "rules"), database=url)
    archive = daemon.open_archive(cfg, engine)
    card_ids = [r[0] for r in sample[:runs]]
    attach_scans(engine, archive, card_ids)
    engine.dispose()
    app, parts = daemon.web(cfg, rules, "http://testserver")
    counter = Counter(parts.engine)
    client = TestClient(app)
    now = dt.datetime.now(dt.UTC)
    link = signin.request_link(parts.engine, rules, CLERK, base_url="", sender_addr="m@l", now=now)
    assert link
    got = signin.redeem(parts.engine, rules, link.rsplit("/", 1)[1], now=now)
    assert got
    client.cookies.set("mf_session", got[0])
    rnd = random.Random(5)
    picks = [rnd.choice(sample) for _ in range(runs)]
    cases = {
        "journal, first page (HTML)": ["/"] * runs,
        "journal, first page (JSON API)": ["/api/cases"] * runs,
        "search by surname (HTML)": [f"/?q={p[11]}" for p in picks],
        "search by surname (JSON API)": [f"/api/cases?q={p[11]}" for p in picks],
        "search by phone, 8 7xx … (HTML)": [
            f"/?q=8{p[14][2:5]} {p[14][5:8]} {p[14][8:10]} {p[14][10:]}" for p in picks
        ],
        "search by address (HTML)": [f"/?q=Абая {rnd.randint(1, 200)}" for _ in picks],
        "dashboard (HTML)": ["/dashboard"] * max(5, runs // 4),
        "dashboard (JSON API)": ["/api/dashboard"] * max(5, runs // 4),
    }
    for name, urls in cases.items():
        line(name, *timed(client, urls, counter))
    numbers = [r[4] for r in sample[:runs]]
    with parts.engine.connect() as c:
        sha = c.exec_driver_sql("SELECT sha256 FROM attachment LIMIT 1").scalar()
    page_urls = [f"/pages/{sha}/{p}.png" for p in (1, 2, 3)]
    timed(client, page_urls)  # render once: cached after
    line("card with a 3-page scan (HTML)", *timed(client, [f"/cases/{n}" for n in numbers], counter))
    line("card (JSON API)", *timed(client, [f"/api/cases/{n}" for n in numbers], counter))
    line("a cached page image", *timed(client, [u for _ in range(max(1, runs // 3)) for u in page_urls]))
    # exports of 100,000 cases (on a bigger journal: the newest 100,000, by date)
    with parts.engine.connect() as c:
        since = c.execute(
            sa.text("SELECT registered_at FROM document ORDER BY registered_at DESC LIMIT 1 OFFSET :k"),
            {"k": min(n, 100_000) - 1},
        ).scalar()
    day = since.astimezone(KZ) if isinstance(since, dt.datetime) and since.tzinfo else since
    day = dt.date.fromisoformat(str(day)[:10])
    query = f"?since={day + dt.timedelta(days=1)}" if n > 100_000 else ""
    for kind in ("csv", "xlsx"):
        before = counter.n
        secs, size, grew = once(client, f"/api/cases.{kind}{query}")
        print(
            f"  export {kind.upper()} {'of ~100,000' if query else f'of {n:,}'}: {secs:6.1f} s, "
            f"{size / 2**20:6.1f} MB, {counter.n - before} queries, peak RSS +{grew:.0f} MB",
            flush=True,
        )
    daemon.close(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-docs", type=int, default=1_000_000)
    ap.add_argument("--sqlite-docs", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        if args.sqlite_docs:
            run(f"sqlite:///{tmp}/journal.db", args.sqlite_docs, args.runs, "SQLite", Path(tmp) / "s")
        if args.pg_docs:
            from support import PgDatabase, pg_available

            why = pg_available()
            if why:
                print(f"PostgreSQL skipped: {why}")
                return
            with PgDatabase() as pg:
                run(pg.url, args.pg_docs, args.runs, "PostgreSQL", Path(tmp) / "p")


if __name__ == "__main__":
    main()
