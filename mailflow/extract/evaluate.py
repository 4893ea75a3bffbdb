"""Measure recognition against a corpus with ground truth (`mailflow eval DIR`).

DIR holds `*.eml` files and `truth.jsonl` (one object per message, keyed by
`message_id`, with the journal export's key names, like shared/corpus/appeals).
Prints per-field exact-match accuracy, the share of wrong non-null values
among all fields, seconds per page and the machine. Returns 0 (a measurement,
not a test), 2 when the folder cannot be read.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import os
import platform
import re
import sys
import threading
import time
from pathlib import Path

FIELDS = (
    "kind",
    "group",
    "channel",
    "last_name",
    "first_name",
    "patronymic",
    "phone",
    "address",
    "email",
    "org_name",
    "outgoing_number",
    "outgoing_date",
    "origin_unit",
    "book_entry_at",
)
CONSUMER = (
    "last_name",
    "first_name",
    "patronymic",
    "phone",
    "address",
    "email",
    "org_name",
    "outgoing_number",
    "outgoing_date",
)


def _rules_dir() -> Path:
    here = Path(__file__).resolve().parents[2] / "rules"
    return here if here.is_dir() else Path("rules")


def normalise(field: str, value):
    """The comparable form of a value (truth or prediction); None for empty."""
    if value is None or value == "":
        return None
    if field == "phone":
        return re.sub(r"\D", "", str(value)) or None
    if field == "book_entry_at":
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).isoformat()
        return value.isoformat() if isinstance(value, dt.datetime) else value
    if field == "outgoing_date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if field == "email":
        return str(value).strip().lower()
    if field == "group":
        return int(value)
    if isinstance(value, str):
        return re.sub(r"\s+", " ", value).strip()
    return value


def predicted(rec, channel: str) -> dict:
    out = {
        "kind": rec.kind,
        "group": rec.group,
        "channel": channel,
        "origin_unit": rec.origin_unit,
        "book_entry_at": rec.book_entry_at,
    }
    for f in CONSUMER:
        out[f] = getattr(rec.consumer, f)
    return out


def expected(truth: dict) -> dict:
    out = {k: truth.get(k) for k in ("kind", "group", "channel", "origin_unit", "book_entry_at")}
    cons = truth.get("consumer") or {}
    for f in CONSUMER:
        out[f] = cons.get(f)
    return out


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def evaluate(
    corpus_dir: str | Path,
    *,
    workers: int = 0,
    rules_dir: Path | None = None,
    pool=None,
    engine: str | None = None,
    only=None,
) -> dict:
    """Run recognize() over the corpus; the numbers as a dict (see main for printing).
    `only(truth) -> bool` reads only the messages whose truth it accepts."""
    from mailflow import mime
    from mailflow import rules as rules_mod
    from mailflow.extract import OcrPool, recognize

    corpus = Path(corpus_dir)
    truth = {}
    for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            t = json.loads(line)
            truth[t.get("file") or t["message_id"]] = t
    rules = rules_mod.load(rules_dir or _rules_dir())
    files = sorted(corpus.glob("*.eml"))
    if only is not None:
        files = [f for f in files if f.name in truth and only(truth[f.name])]
    own_pool = pool is None
    import resource

    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    pool = pool or OcrPool(workers, engine)
    pages_cpu = _PagesCpu(pool)

    def one(path: Path):
        msg = mime.parse(path.read_bytes())
        person = rules.staff.by_email(msg.from_addr)
        channel = rules.channel_for(person)
        t0 = time.monotonic()
        rec = recognize(msg, sender=person, channel=channel, limits=rules.limits, pool=pages_cpu)
        return path, msg, rec, channel, time.monotonic() - t0

    try:
        if own_pool:
            pool.run([])  # nothing; the workers were started in the background
        t0 = time.monotonic()
        with cf.ThreadPoolExecutor(max(1, pool.workers)) as ex:
            runs = list(ex.map(one, files))
        wall = time.monotonic() - t0
        engine_used = _engine_name(pool)
    finally:
        if own_pool:
            pool.close()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    # CPU time of the workers and their tesseract runs (known once they have
    # exited, so only when this function made the pool): the cost of a page
    # whatever else the machine is doing
    cpu = (cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime) if own_pool else None
    # and of this process: parsing the mail, planning the pages, reading the fields
    cpu_self = self1.ru_utime - self0.ru_utime + self1.ru_stime - self0.ru_stime

    per_field = {f: [0, 0] for f in FIELDS}  # correct, total
    wrong_nonnull = total_slots = wrong_rec = 0
    errors: list[str] = []
    pages = 0
    for path, msg, rec, channel, _secs in runs:
        t = truth.get(path.name) or truth.get(msg.message_id or "")
        if t is None:
            errors.append(f"{path.name}: no truth")
            continue
        pages += sum(a.pages for a in rec.attachments if a.text_source in ("ocr", "text-layer"))
        exp, got = expected(t), predicted(rec, channel)
        for f in FIELDS:
            e, g = normalise(f, exp[f]), normalise(f, got[f])
            per_field[f][1] += 1
            total_slots += 1
            if e == g:
                per_field[f][0] += 1
            else:
                if g is not None:
                    wrong_nonnull += 1
                    if f != "channel":
                        wrong_rec += 1
                    errors.append(f"{path.name}: {f}: WRONG {got[f]!r} (truth {exp[f]!r})")
                else:
                    errors.append(
                        f"{path.name}: {f}: none (truth {exp[f]!r})"
                        f"{' [review]' if f in rec.needs_review else ''}"
                    )
    return {
        "messages": len(runs),
        "pages": pages,
        "wall": wall,
        "per_field": {f: (c / n if n else 0.0) for f, (c, n) in per_field.items()},
        "counts": per_field,
        "wrong_nonnull": wrong_nonnull,
        "wrong_recognition": wrong_rec,
        "slots": total_slots,
        "errors": errors,
        "workers": pool.workers,
        "machine": machine(),
        "latency": [r[4] for r in runs],
        "cpu_seconds": cpu,
        "cpu_self_seconds": cpu_self,
        "cpu_pages_seconds": pages_cpu.seconds,
        "engine": engine_used,
        "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


class _PagesCpu:
    """The pool, adding up the CPU time its workers spent on the pages
    themselves (without starting up: a daemon starts its pool once)."""

    def __init__(self, pool) -> None:
        self.pool = pool
        self.workers = pool.workers
        self.seconds = 0.0
        self._lock = threading.Lock()

    def run(self, tasks):
        results = self.pool.run(tasks)
        with self._lock:
            self.seconds += sum(r.cpu_seconds for r in results)
        return results


def _engine_name(pool) -> str:
    """Which engine the pool's workers read with (they log it; this asks one)."""
    try:
        return pool.engine_name()
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"


def report(res: dict, out=sys.stdout) -> None:
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"messages: {res['messages']}, pages read: {res['pages']}")
    for f in FIELDS:
        c, n = res["counts"][f]
        p(f"  {f:16s} {100 * c / n if n else 0:6.1f}%  ({c}/{n})")
    share = res["wrong_nonnull"] / res["slots"] if res["slots"] else 0.0
    p(
        f"wrong non-null: {res['wrong_nonnull']}/{res['slots']} = {100 * share:.2f}% of all fields "
        f"({res['wrong_recognition']} of them outside `channel`, which the staff directory decides)"
    )
    spp = res["wall"] / res["pages"] if res["pages"] else 0.0
    lat = sorted(res["latency"])
    med = lat[len(lat) // 2] if lat else 0.0
    p(
        f"time: {res['wall']:.1f} s wall, {spp:.2f} s/page end to end "
        f"({res['workers']} OCR workers, messages read {res['workers']} at a time; "
        f"median {med:.2f} s per message)"
    )
    if res.get("cpu_seconds") and res["pages"]:
        n = res["pages"]
        p(
            f"cpu: {res['cpu_seconds'] / n:.2f} CPU-s per page in the OCR workers and "
            f"tesseract (so {res['cpu_seconds'] / n / res['workers']:.2f} s/page on "
            f"{res['workers']} idle cores), {(res['cpu_seconds'] + res['cpu_self_seconds']) / n:.2f} "
            f"with the reading process (mail, fields); {res['cpu_pages_seconds'] / n:.2f} on the pages "
            f"alone, without the workers' start; engine: {res['engine']}"
        )
    load = f", load average {res['load']:.1f} during the run" if res.get("load") is not None else ""
    p(f"machine: {res['machine']}{load}")
    if res["errors"]:
        p("misses and errors:")
        for e in res["errors"]:
            p("  " + e)


def main(corpus_dir: str, *, workers: int = 0) -> int:
    corpus = Path(corpus_dir)
    if not (corpus / "truth.jsonl").is_file():
        print(f"{corpus}: no truth.jsonl here", file=sys.stderr)
        return 2
    report(evaluate(corpus, workers=workers))
    return 0


if __name__ == "__main__":  # python -m mailflow.extract.evaluate DIR
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/appeals"))
