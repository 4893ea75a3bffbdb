"""The composition root: builds every part from config and rules, and runs them.

Nothing else in mailflow constructs engines, pools, mailboxes or transports;
they are made here and handed to the steps that use them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from . import chasing, db, leases, notices, outbox, status, sweeps
from .archive import Archive, DatabaseArchive, FileArchive
from .config import Config, MailboxConfig
from .intake import Incoming, Intake, Outcome, Recognizer
from .mailbox import Fetched, Mailbox, open_mailbox
from .queues import Queues
from .rules import Rules
from .services import Services
from .signatures import DnsTxt
from .values import KZ_TZ, Source

log = logging.getLogger("mailflow.daemon")


@dataclass
class Parts:
    engine: sa.Engine
    archive: Archive
    intake: Intake
    sender: outbox.Sender
    services: Services
    queues: Queues
    closers: list
    holdings: leases.Holdings  # the mailboxes this process reads, checked by intake's fence
    lease_timings: leases.Timings = leases.TIMINGS


def build(
    cfg: Config,
    rules: Rules,
    recognize: Recognizer | None = None,
    transport: outbox.Transport | None = None,
    dkim_dns: DnsTxt | None = None,
    lease_timings: leases.Timings = leases.TIMINGS,
) -> Parts:
    cfg.home.mkdir(parents=True, exist_ok=True)
    os.chmod(cfg.home, 0o700)
    engine = db.make_engine(cfg.database)
    db.migrate(engine)
    archive = open_archive(cfg, engine)
    closers: list = [engine.dispose]
    if recognize is None:
        recognize, close = _recognizer(cfg, rules)
        closers.append(close)
    own = frozenset(m.endpoint.user.lower() for m in cfg.mailboxes if "@" in m.endpoint.user)
    holdings = leases.Holdings()
    intake = Intake(
        engine=engine,
        rules=rules,
        archive=archive,
        recognize=recognize,
        sender_addr=cfg.smtp.sender,
        own_addresses=own,
        quarantine_dir=cfg.quarantine_dir,
        dns=dkim_dns,
        holdings=holdings,
    )

    def refused(s, delivery, error):  # a forward the relay refused for good: the clerk acts
        notices.tell(
            s,
            rules,
            sender_addr=cfg.smtp.sender,
            role="clerk",
            key=f"refused-smtp:{delivery.id}",
            title="Письмо с резолюцией не отправлено",
            text=f"Сервер отказался принять письмо для {delivery.to_addr}: {error}",
            document_id=delivery.document_id,
        )

    sender = outbox.Sender(
        engine, transport or outbox.make_transport(cfg.smtp), cfg.smtp.sender, on_refused=refused
    )
    services = Services(engine, rules, archive, cfg.smtp.sender)
    queues = Queues(engine, rules, intake, archive, services, {m.name: m.journal for m in cfg.mailboxes})
    return Parts(engine, archive, intake, sender, services, queues, closers, holdings, lease_timings)


def open_archive(cfg: Config, engine: sa.Engine) -> Archive:
    """Where scans and raw messages live: in the journal's database when it is
    PostgreSQL (daemons on several machines share it, and each must reach what
    another archived), under the data home when it is SQLite (one machine). Files
    archived there before the journal moved to PostgreSQL are still read."""
    if engine.dialect.name == "postgresql":
        return DatabaseArchive(engine, files=FileArchive(cfg.archive_dir))
    return FileArchive(cfg.archive_dir)


def web(cfg: Config, rules: Rules, base_url: str):
    """The workplace's ASGI app and the parts it runs on (close them when it stops)."""
    from .web.app import Web, create_app

    parts = build(cfg, rules)
    app = create_app(
        Web(
            engine=parts.engine,
            rules=rules,
            services=parts.services,
            archive=parts.archive,
            cache=cfg.home / "cache" / "pages",
            talons=cfg.talons_dir,
            talon_font=cfg.talon_font,
            queues=parts.queues,
            cfg=cfg,
            sender_addr=cfg.smtp.sender,
            base_url=base_url,
            flush=parts.sender.flush,
        )
    )
    return app, parts


def journal_engine(cfg: Config) -> sa.Engine:
    """The journal's engine for commands that only read it: not created, not migrated."""
    return db.reading_engine(cfg.database)


def migrate(cfg: Config) -> str:
    """Create or bring the journal's schema up to date (`mailflow migrate`); the revision."""
    cfg.home.mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(cfg.database)
    try:
        db.migrate(engine)
        return db.schema_revision(engine)[0] or ""
    finally:
        engine.dispose()


def _recognizer(cfg: Config, rules: Rules):
    """Recognition with an OCR process pool started on the first scan, not before:
    a command that never reads a scan (`mailflow resolve`) starts no processes."""
    from .extract import recognize
    from .extract.ocr import OcrPool

    pools: list[OcrPool] = []
    lock = threading.Lock()

    def run(msg, sender, channel):
        with lock:
            if not pools:
                pools.append(OcrPool(cfg.ocr_workers))
        return recognize(msg, sender=sender, channel=channel, limits=rules.limits, pool=pools[0])

    def close():
        with lock:
            for pool in pools:
                pool.close()

    return run, close


def close(parts: Parts) -> None:
    for fn in reversed(parts.closers):
        fn()


MOVE_BATCH = 50
MOVE_EVERY = 2.0  # seconds
GROUP_MAX = 25  # messages recorded in one transaction when the inbox holds a backlog
GROUP_WAIT = 0.5  # seconds: the first of a group is not held back longer (scans read slowly)
FETCH_BYTES = 8 * 2**20  # read ahead in one IMAP round: up to a group, within this many bytes


def drain(
    parts: Parts, box: Mailbox, cfg: MailboxConfig, stop: threading.Event, kick: threading.Event | None = None
) -> list[Outcome]:
    """Handle every message waiting in one mailbox; stop between messages if asked.

    A backlog is recorded in groups (one transaction for several messages); a
    message arriving alone is recorded at once. Messages are moved out of the
    inbox in batches (one IMAP round for many), always after their own
    transaction committed, and before returning. `kick` is set after each group
    commits, so its talons go while the rest of a backlog is still being read.
    """
    outcomes: list[Outcome] = []
    folders = {
        "processed": cfg.processed_folder,
        "quarantine": cfg.quarantine_folder,
        "staff": cfg.notices_folder,  # a person's to read: moved unread
    }
    moves: dict[str, list] = {folder: [] for folder in folders.values()}
    last_move = time.monotonic()
    group: list[Incoming] = []
    started = 0.0

    def record() -> None:
        nonlocal last_move
        for m, outcome in zip(group, parts.intake.record_group(group), strict=True):
            source = m.fetched.source
            if outcome.move_to:
                moves[folders.get(outcome.move_to, cfg.processed_folder)].append(source)
            outcomes.append(outcome)
            log.info("%s %s: %s %s", cfg.name, source.uid, outcome.status, outcome.number or outcome.reason)
        group.clear()
        if kick is not None:
            kick.set()
        if sum(map(len, moves.values())) >= MOVE_BATCH or time.monotonic() - last_move > MOVE_EVERY:
            _move(box, moves, cfg.notices_folder)
            last_move = time.monotonic()

    try:
        pending = box.pending()
        ahead: dict[
            Source, Fetched | None
        ] = {}  # read, not yet prepared; what is left when we stop stays in the mailbox
        for i, source in enumerate(pending):
            if stop.is_set():
                break
            if source not in ahead:
                ahead = box.fetch_many(pending[i : i + GROUP_MAX], FETCH_BYTES)
            fetched = ahead.pop(source)  # None: gone (another daemon has it)
            if fetched is not None:
                if not group:
                    started = time.monotonic()
                group.append(parts.intake.prepare(fetched, cfg.journal))
            last = i == len(pending) - 1
            if group and (last or len(group) >= GROUP_MAX or time.monotonic() - started >= GROUP_WAIT):
                record()
    finally:
        if group:
            record()
        _move(box, moves, cfg.notices_folder)
    return outcomes


def _move(box: Mailbox, moves: dict[str, list], unread_folder: str) -> None:
    for folder, sources in moves.items():
        if sources:
            box.move(sources, folder, unread=folder == unread_folder)
            sources.clear()


def run_once(cfg: Config, rules: Rules, **kw) -> list[Outcome]:
    """Handle what is waiting in every mailbox, flush the outbox, exit."""
    parts = build(cfg, rules, **kw)
    stop = threading.Event()
    outcomes: list[Outcome] = []
    try:
        with _sigterm_sets(stop):
            for mcfg in cfg.mailboxes:
                keeper = leases.Keeper(parts.engine, mcfg.name, parts.holdings, stop, parts.lease_timings)
                t = parts.lease_timings
                if not keeper.wait_for(t.ttl + t.retry_every):  # a dead holder's lease runs out
                    log.warning("mailbox %s is read by another daemon; left to it", mcfg.name)
                    continue
                box = open_mailbox(mcfg)
                try:
                    box.open()
                    outcomes += drain(parts, box, mcfg, keeper.halt)
                finally:
                    keeper.release()
                    box.close()
            parts.sender.flush()
            run_sweeps(parts, cfg, rules)
            parts.sender.flush()
    finally:
        close(parts)
    return outcomes


def run_forever(
    cfg: Config,
    rules: Rules,
    stop: threading.Event | None = None,
    reload: threading.Event | None = None,
    **kw,
) -> None:
    """The daemon: one watcher thread per mailbox; the main thread sends mail.

    Runs until SIGTERM/SIGINT, or until `stop` is set (tests, benchmarks).
    SIGHUP (or `reload`) reads rules/ again: valid rules replace the old ones
    after the messages in hand are finished (the parts are rebuilt from the
    composition root); invalid ones are logged and the old rules stay.
    """
    stop, reload = stop or threading.Event(), reload or threading.Event()
    with _signals(stop, reload):
        while not stop.is_set():
            _serve(cfg, rules, stop, reload, **kw)
            if stop.is_set():
                break
            rules = _reloaded(cfg, rules)


def _reloaded(cfg: Config, rules: Rules) -> Rules:
    from .config import ConfigError
    from .rules import load as load_rules

    try:
        new = load_rules(cfg.rules_dir)
    except ConfigError as exc:
        log.error("rules not reloaded, the rules in force stay: %s: %s: %s", exc.file, exc.key, exc.message)
        return rules
    log.info("rules reloaded from %s", cfg.rules_dir)
    return new


def _serve(cfg: Config, rules: Rules, stop: threading.Event, reload: threading.Event, **kw) -> None:
    """One run of the daemon on one set of rules, until `stop` or `reload`."""
    parts = build(cfg, rules, **kw)
    done, kick = threading.Event(), threading.Event()  # `done`: this run's watchers finish
    threads = [
        threading.Thread(target=_watch, args=(parts, m, done, kick), name=f"watch-{m.name}", daemon=True)
        for m in cfg.mailboxes
    ]
    try:
        for t in threads:
            t.start()
        notify("READY=1\nSTATUS=watching " + ", ".join(m.name for m in cfg.mailboxes))
        scheduler = _scheduler(parts, cfg, rules, kick)
        scheduler.start()
        while not (stop.is_set() or reload.is_set()):
            kick.clear()
            parts.sender.flush(budget=20.0)
            notify("WATCHDOG=1")
            kick.wait(2.0)  # new mail queued wakes us at once
        reload.clear()
        notify("STOPPING=1" if stop.is_set() else "RELOADING=1")
        done.set()
        scheduler.shutdown(wait=True)
        kick.set()
        for t in threads:
            t.join(timeout=120)  # a message in hand is finished, not abandoned half-way
        parts.sender.flush(budget=20.0)
    finally:
        close(parts)


def run_sweeps(parts: Parts, cfg: Config, rules: Rules) -> int:
    """The periodic checks; each is idempotent, so running one twice sends nothing twice."""
    n = 0
    checks: tuple[tuple[str, Callable[[], int]], ...] = (
        ("unproven_deliveries", lambda: sweeps.unproven_deliveries(parts.engine, rules, cfg.smtp.sender)),
        # the archive: a reviewer's corrected weekly report goes to management as they sent it
        ("chasing", lambda: chasing.sweep(parts.engine, rules, cfg.smtp.sender, archive=parts.archive)),
    )
    anchor = cfg.checkpoint
    if anchor is not None:  # last: the day's checkpoint signs what the other sweeps wrote
        checks += (("checkpoint", lambda: sweeps.checkpoint(parts.engine, anchor, cfg.smtp.sender)),)
    for name, sweep in checks:
        try:
            n += sweep()
        except Exception:  # one failing check must not stop the others or the daemon
            log.exception("sweep %s failed", name)
    status.mark_sweep(cfg.home)
    return n


def _scheduler(parts: Parts, cfg: Config, rules: Rules, kick: threading.Event):
    """APScheduler 3 only triggers the stateless sweeps; the database says what is due."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    def job():
        if run_sweeps(parts, cfg, rules):
            kick.set()

    sched = BackgroundScheduler(timezone=KZ_TZ)
    sched.add_job(
        job,
        IntervalTrigger(seconds=60),
        id="sweeps",
        coalesce=True,
        max_instances=1,
        next_run_time=dt.datetime.now(KZ_TZ),
        misfire_grace_time=None,
    )
    return sched


def _watch(parts: Parts, cfg: MailboxConfig, stop: threading.Event, kick: threading.Event) -> None:
    """Read one mailbox while this daemon holds its lease; stand by while another does."""
    backoff, waiting = 1.0, False
    timings = parts.lease_timings
    while not stop.is_set():
        keeper = leases.Keeper(parts.engine, cfg.name, parts.holdings, stop, timings)
        try:
            taken = keeper.take()
        except Exception:  # the database is away: as for the mailbox, back off
            log.exception("mailbox %s: the lease could not be asked for", cfg.name)
            stop.wait(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, 60.0)
            continue
        if not taken:
            if not waiting:
                log.info("mailbox %s is read by another daemon; standing by", cfg.name)
                waiting = True
            stop.wait(timings.retry_every)
            continue
        waiting = False
        box = open_mailbox(cfg)
        try:
            box.open()
            backoff = 1.0
            while not keeper.halt.is_set():  # the daemon stops, or the lease is lost
                drain(parts, box, cfg, keeper.halt, kick)
                box.wait(cfg.poll_interval, keeper.halt)
        except leases.LeaseLost as exc:  # a commit was refused: the message waits for the new holder
            log.warning("%s; standing by", exc)
        except Exception:  # network and server trouble: back off, reconnect, go on
            log.exception("mailbox %s failed; retrying in %.0f s", cfg.name, backoff)
            keeper.release()  # another daemon may reach the server meanwhile
            stop.wait(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, 60.0)
        finally:
            keeper.release()
            try:
                box.close()
            except Exception:
                pass


class _sigterm_sets:
    """While inside, SIGTERM/SIGINT set `stop` so the current message finishes."""

    def __init__(self, stop: threading.Event):
        self.stop, self.saved = stop, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.saved[sig] = signal.signal(sig, lambda *_: self.stop.set())
        return self

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


class _signals(_sigterm_sets):
    """…and SIGHUP sets `reload`."""

    def __init__(self, stop: threading.Event, reload: threading.Event):
        super().__init__(stop)
        self.reload = reload

    def __enter__(self):
        super().__enter__()
        if threading.current_thread() is threading.main_thread():
            self.saved[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: self.reload.set())
        return self


def notify(state: str) -> None:
    """sd_notify(3) without a dependency: one datagram to $NOTIFY_SOCKET."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(path)
            s.sendall(state.encode())
    except OSError:
        log.debug("sd_notify failed", exc_info=True)
