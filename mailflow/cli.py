"""The `mailflow` command. Exit codes: 0 ok, 1 runtime failure, 2 usage/config error.

Messages for the clerk are in Russian; errors name the file and key at fault.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import mimetypes
import os
import sys
from pathlib import Path

from sqlmodel import Session, select

from . import config as config_mod
from . import coverage, export, journal
from . import rules as rules_mod
from .case import ladder
from .case.queries import consumer_name
from .case.states import State
from .config import ConfigError
from .db import NoJournal
from .models import Document, Event
from .queues import Queue, Queues
from .values import KZ_TZ, Consumer
from .vocabulary import FIELD_LABELS, PAPER_CHANNELS, WRITTEN

log = logging.getLogger("mailflow")


class JournalFormatter(logging.Formatter):
    """sd-daemon(3) priority prefixes, on every line, so `journalctl -p err` also finds
    an error's traceback (journald reads each line as an entry of its own)."""

    PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}

    def format(self, record: logging.LogRecord) -> str:
        level = max((lv for lv in self.PRIORITY if lv <= record.levelno), default=logging.DEBUG)
        prefix = f"<{self.PRIORITY[level]}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):  # under systemd: journald stamps the time, we the priority
        handler.setFormatter(JournalFormatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    for noisy in ("alembic", "apscheduler", "fontTools"):  # their INFO lines say nothing about the mail
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if args.command == "eval":
            from .extract import evaluate

            return evaluate.main(args.corpus, workers=args.workers)
        if args.command == "rules" and args.rules_command == "init":  # there are no rules yet
            return cmd_rules_init(args)
        cfg = config_mod.load(args.config, args.home, args.rules)
        rules = rules_mod.load(cfg.rules_dir)
        return args.func(args, cfg, rules)
    except ConfigError as exc:
        print(
            f"mailflow: ошибка настройки / config error: {exc.file}: {exc.key}: {exc.message}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 1
    except NoJournal as exc:
        print(f"mailflow: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `mailflow journal export | head`: the reader had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return 0
    except Exception as exc:
        log.exception("failed")
        print(f"mailflow: ошибка / error: {exc}", file=sys.stderr)
        return 1


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mailflow")
    except PackageNotFoundError:
        return "(not installed)"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mailflow", description="Consumer appeals over e-mail.")
    p.add_argument("--config", help="TOML config file (or $MAILFLOW_CONFIG)")
    p.add_argument("--home", help="data home for the embedded default (or $MAILFLOW_HOME)")
    p.add_argument("--rules", help="rules folder (default ./rules)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--version", action="version", version=f"mailflow {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run the daemon")
    r.add_argument("--once", action="store_true", help="handle what is waiting, flush the outbox, exit")
    r.set_defaults(func=cmd_run)

    j = sub.add_parser("journal", help="the journal of incoming documents")
    jsub = j.add_subparsers(dest="journal_command", required=True)
    jl = jsub.add_parser("list", help="registered documents as a table")
    jl.add_argument("--journal")
    jl.add_argument("--overdue", action="store_true", help="only open cases past their due date")
    jl.add_argument("--stage", help="only cases at this stage of the answer, e.g. head_review")
    jl.set_defaults(func=cmd_list)
    js = jsub.add_parser("show", help="one document in full")
    js.add_argument("number")
    js.add_argument("--json", action="store_true", help="the export record as JSON")
    js.set_defaults(func=cmd_show)
    je = jsub.add_parser("export", help="export the journal")
    je.add_argument("--format", choices=("jsonl", "csv", "xlsx"), default="jsonl")
    je.add_argument("--out", help="write to this file (required for xlsx at a terminal)")
    je.add_argument("--journal")
    je.set_defaults(func=cmd_export)
    ji = jsub.add_parser("import", help="bring an existing journal in (CSV or XLSX)")
    ji.add_argument("file", type=Path, help="CSV (, or ;) or XLSX: the export's columns, or mapped by --map")
    ji.add_argument("--map", type=Path, dest="map_file", help="TOML: the file's headers -> columns")
    ji.add_argument("--skip-bad", action="store_true", help="import the good rows, list the bad ones")
    ji.add_argument("--journal", help="every number must be of this journal")
    ji.set_defaults(func=cmd_import)
    jc = jsub.add_parser("continue", help="number on after a journal kept on paper")
    jc.add_argument("--journal", required=True)
    jc.add_argument("--year", required=True, type=int)
    jc.add_argument("--after", required=True, type=int, help="the last number given on paper")
    jc.set_defaults(func=cmd_continue)
    jv = jsub.add_parser(
        "verify", help="check the hash chain, the tables against the events, and a signed checkpoint"
    )
    jv.add_argument(
        "--checkpoint", type=Path, help="a checkpoint file (default: the newest in [checkpoint] dir, if set)"
    )
    jv.add_argument("--public-key", type=Path, help="the checkpoint key's public half (PEM)")
    jv.set_defaults(func=cmd_verify)
    jk = jsub.add_parser("keygen", help="a new Ed25519 key for checkpoints: PATH (0600) and PATH.pub")
    jk.add_argument("path", type=Path)
    jk.set_defaults(func=cmd_keygen)
    jp = jsub.add_parser("checkpoint", help="sign the chain's head now: a file, a mail, an event")
    jp.set_defaults(func=cmd_checkpoint)
    jq = jsub.add_parser("inbound", help="every message received and what became of it")
    jq.add_argument("--status", help="e.g. quarantined, review, recorded")
    jq.set_defaults(func=cmd_inbound)

    g = sub.add_parser("register", help="register paper mail scanned in the chancellery")
    g.add_argument("files", nargs="+", type=Path)
    g.add_argument("--journal")
    g.add_argument(
        "--channel", choices=PAPER_CHANNELS, default=WRITTEN, help="posted, handed in at a visit, written"
    )
    g.add_argument("--received", help="the day it came (ДД.ММ.ГГГГ or YYYY-MM-DD), if not today")
    g.set_defaults(func=cmd_register)

    tl = sub.add_parser("talon", help="print a registered case's talon again (PDF, Russian and Kazakh)")
    tl.add_argument("number", help="incoming number, e.g. ВХ-2026-000001")
    tl.add_argument("--out", type=Path, help="the PDF to write (default: talons/NUMBER.pdf under the home)")
    tl.set_defaults(func=cmd_talon)

    rv = sub.add_parser("resolve", help="enter or correct a resolution (a paper one)")
    rv.add_argument("number", help="incoming number, e.g. ВХ-2026-000001")
    rv.add_argument("text", nargs="+", help="«Петрову А.С., Сидоренко — рассмотреть. Срок до 15.04.2026»")
    rv.add_argument("--by", help="e-mail of the manager who signed it (from the staff directory)")
    rv.set_defaults(func=cmd_resolve)

    ex = sub.add_parser(
        "extend",
        help="record a head's decision to extend the term, or (--notified) that the applicant was told",
    )
    ex.add_argument("number")
    ex.add_argument("--until", type=_date_arg, help="new due date, DD.MM.YYYY or YYYY-MM-DD")
    ex.add_argument("--reason", help="the reasoned decision, in words")
    ex.add_argument(
        "--notified",
        metavar="HOW",
        help="the clerk: how the applicant was told («Казпочта, РПО № …, исх. № … от …»)",
    )
    ex.add_argument(
        "--by", required=True, help="e-mail of the head who decided, or of the clerk (staff directory)"
    )
    ex.set_defaults(func=cmd_extend)

    rp = sub.add_parser("report", help="reports")
    rpsub = rp.add_subparsers(dest="report_command", required=True)
    rw = rpsub.add_parser("weekly", help="«Мониторинг жалоб, претензий, отзывов и предложений»")
    rw.add_argument("--week", help="ISO week, e.g. 2026-W12 (default: the last finished week)")
    rw.add_argument("--out", type=Path, help="write the XLSX workbook here")
    rw.add_argument("--html", type=Path, help="write the HTML e-mail body here")
    rw.add_argument("--journal", help="one organisation's journal (rules/journals.toml key; default: all)")
    rw.set_defaults(func=cmd_report_weekly)

    dp = sub.add_parser("dispatch", help="the clerk records that the answer went out (3.7)")
    dp.add_argument("number")
    dp.add_argument(
        "--sent", required=True, help="«Казпочта, РПО № …, исх. № … от …» or «нарочным, исх. № … от …»"
    )
    dp.add_argument("--by", required=True, help="the clerk of the case's journal (e-mail)")
    dp.set_defaults(func=cmd_dispatch)

    cl = sub.add_parser("close", help="register the copy of a sent answer handed in on paper (3.8)")
    cl.add_argument("number")
    cl.add_argument("--copy", required=True, type=Path, help="the scanned copy of the sent answer")
    cl.add_argument(
        "--sent",
        default="",
        help="how it went: «Казпочта, РПО № …, исх. № … от …» or «нарочным»"
        " (needed unless «ОТПРАВЛЕНО» was already recorded)",
    )
    cl.add_argument("--by", default="канцелярия")
    cl.set_defaults(func=cmd_close)

    ho = sub.add_parser("handover", help="record paper handed over at a unit's reporting meeting")
    ho.add_argument("numbers", nargs="+")
    ho.add_argument("--to", required=True, dest="unit", help="the unit, e.g. «Айыртауский РЭС»")
    ho.add_argument("--by", default="канцелярия", help="who handed it over")
    ho.set_defaults(func=cmd_handover)

    ru = sub.add_parser("rules", help="policy files")
    rsub = ru.add_subparsers(dest="rules_command", required=True)
    rc = rsub.add_parser("check", help="validate rules/ and the config")
    rc.set_defaults(func=cmd_rules_check)
    ri = rsub.add_parser("init", help="write the default rules into a new directory, to edit")
    ri.add_argument("dir", type=Path)
    ri.set_defaults(func=cmd_rules_init)

    rd = sub.add_parser("redirect", help="outside competence: send the appeal to the competent body")
    rd.add_argument("number")
    rd.add_argument("--to", required=True, help="the organisation, its address or e-mail")
    rd.add_argument("--reason", required=True)
    rd.add_argument("--by", required=True, help="the clerk or manager deciding it (e-mail)")
    rd.set_defaults(func=cmd_redirect)

    an = sub.add_parser("anonymous", help="decide on an appeal flagged as anonymous")
    an.add_argument("number")
    how = an.add_mutually_exclusive_group(required=True)
    how.add_argument("--not-considered", action="store_true", help="anonymous: not considered")
    how.add_argument("--exception", action="store_true", help="a report of a crime or a threat: considered")
    an.add_argument("--reason", required=True)
    an.add_argument("--by", required=True, help="the clerk (e-mail)")
    an.set_defaults(func=cmd_anonymous)

    rp = sub.add_parser("repeat", help="link a repeated appeal to its earlier case, or undo the link")
    rp.add_argument("number")
    which = rp.add_mutually_exclusive_group(required=True)
    which.add_argument("--of", help="the earlier case's number")
    which.add_argument("--not", dest="unlink", action="store_true", help="not a repeat: undo the link")
    rp.add_argument("--by", required=True, help="the clerk (e-mail)")
    rp.set_defaults(func=cmd_repeat)

    rg = sub.add_parser("registers", help="the PR specialist's monitoring registers (2.4)")
    rgsub = rg.add_subparsers(dest="registers_command", required=True)
    rgl = rgsub.add_parser("list", help="the entries of the monitoring registers, in order of their numbers")
    rgl.add_argument("--register", help="a register's key from rules/routing.toml: complaints, reviews")
    rgl.add_argument("--year", type=int, help="the registers' year (default: every year)")
    rgl.set_defaults(func=cmd_registers_list)

    st = sub.add_parser("status", help="what waits, the outbox, the last sweep, the chain's head")
    st.add_argument("--json", action="store_true", help="as one JSON object")
    st.set_defaults(func=cmd_status)

    qu = sub.add_parser("queue", help="the clerk's queues: mail to look at, quarantine, outbox, receipts")
    qusub = qu.add_subparsers(dest="queue_command", required=True)
    qul = qusub.add_parser("list", help="what waits in a queue (all queues' counts without NAME)")
    qul.add_argument("name", nargs="?", choices=[q.value for q in Queue])
    qul.set_defaults(func=cmd_queue_list)
    qud = qusub.add_parser("do", help="handle one item: register, reprocess, attach, dismiss, retry, cancel")
    qud.add_argument("name", choices=[q.value for q in Queue])
    qud.add_argument("item", type=int, help="the item's number, as `queue list` shows it")
    qud.add_argument("action", choices=sorted({a for acts in Queues.ACTIONS.values() for a in acts}))
    qud.add_argument("--number", default="", help="attach: the case's incoming number")
    qud.add_argument("--to", default="", help="attach a receipt: the addressee, when the case has several")
    qud.add_argument("--reason", default="", help="dismiss, cancel: why")
    qud.add_argument("--by", required=True, help="who handles it (e-mail, for the journal)")
    qud.set_defaults(func=cmd_queue_do)

    qa = sub.add_parser("quarantine", help="mail that could not be handled (the quarantine queue)")
    qasub = qa.add_subparsers(dest="quarantine_command", required=True)
    qasub.add_parser("list", help="what is in quarantine").set_defaults(
        func=cmd_queue_list, name="quarantine"
    )
    for action, help_ in (
        ("reprocess", "read it again through the whole pipeline (after a fix)"),
        ("register", "register it as an appeal"),
        ("dismiss", "take it out of the queue (kept in the archive); --reason"),
    ):
        qa_act = qasub.add_parser(action, help=help_)
        qa_act.add_argument("item", type=int)
        qa_act.add_argument("--reason", default="")
        qa_act.add_argument("--by", required=True, help="who (e-mail, for the journal)")
        qa_act.set_defaults(func=cmd_queue_do, name="quarantine", action=action, number="", to="")

    ob = sub.add_parser("outbox", help="mail waiting to be sent, sent, failed")
    obsub = ob.add_subparsers(dest="outbox_command", required=True)
    obl = obsub.add_parser("list", help="the outbox as a table")
    obl.add_argument("--status", choices=("pending", "failed", "sent", "cancelled"))
    obl.set_defaults(func=cmd_outbox_list)
    obr = obsub.add_parser("retry", help="queue failed mail again (after fixing the relay)")
    obr.add_argument("ids", nargs="*", type=int, help="outbox numbers; none with --failed")
    obr.add_argument("--failed", action="store_true", help="every failed message")
    obr.add_argument("--by", default="operator", help="who asks (for the journal)")
    obr.set_defaults(func=cmd_outbox_retry)
    obc = obsub.add_parser("cancel", help="cancel mail that must not go")
    obc.add_argument("ids", nargs="+", type=int)
    obc.add_argument("--reason", required=True)
    obc.add_argument("--by", default="operator")
    obc.set_defaults(func=cmd_outbox_cancel)

    w = sub.add_parser("web", help="the workplace: journal, case cards, REST API")
    w.add_argument("--listen", default="127.0.0.1:8025", help="HOST:PORT (default 127.0.0.1:8025)")
    w.add_argument(
        "--base-url",
        help="the address people open, for sign-in links (behind TLS: https://…); default http://LISTEN",
    )
    w.add_argument(
        "--print-link",
        metavar="EMAIL",
        help="mail a sign-in link to EMAIL, print it too, and exit (the demo, or a relay that is down)",
    )
    w.set_defaults(func=cmd_web)

    mg = sub.add_parser("migrate", help="create the journal or bring its schema up to date")
    mg.set_defaults(func=cmd_migrate)

    d = sub.add_parser("doctor", help="check the database, mailboxes and SMTP relay")
    d.set_defaults(func=cmd_doctor)

    e = sub.add_parser("eval", help="measure recognition on a corpus with truth.jsonl")
    e.add_argument("corpus")
    e.add_argument("--workers", type=int, default=0)
    return p


def cmd_run(args, cfg, rules) -> int:
    from . import daemon

    cfg.read_secrets()  # at start, with the file and key named, not at the first login
    if args.once:
        outcomes = daemon.run_once(cfg, rules)
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "нет новых писем"
        print(f"Обработано писем: {len(outcomes)} ({summary})")
        return 0
    daemon.run_forever(cfg, rules)
    return 0


def cmd_redirect(args, cfg, rules) -> int:
    def act(services) -> str:
        done = services.redirect(args.number, to=args.to, reason=args.reason, by=args.by)
        lines = [
            f"{done.number} перенаправлено"
            + (f" (срок {done.due:%d.%m.%Y} пропущен)" if done.late else "")
            + "."
        ]
        if done.mailed:
            lines.append("По e-mail: " + ", ".join(done.mailed) + ".")
        if done.to_post:
            lines.append("Отправить почтой: " + "; ".join(done.to_post) + ".")
        return "\n".join(lines)

    return _acting(cfg, rules, act)


def cmd_anonymous(args, cfg, rules) -> int:
    def act(services) -> str:
        services.anonymous(args.number, consider=args.exception, reason=args.reason, by=args.by)
        return (
            f"{args.number}: рассматривается как обычное обращение (исключение для анонимных)."
            if args.exception
            else f"{args.number}: не рассматривается (анонимное)."
        )

    return _acting(cfg, rules, act)


def cmd_repeat(args, cfg, rules) -> int:
    def act(services) -> str:
        first = services.repeat(args.number, of=None if args.unlink else args.of, by=args.by)
        if args.unlink:
            return f"{args.number}: больше не считается повторным к {first}."
        return f"{args.number}: повторное к {first}."

    return _acting(cfg, rules, act)


def cmd_migrate(args, cfg, rules) -> int:
    from . import daemon

    print(f"Схема журнала актуальна: {daemon.migrate(cfg)}")
    return 0


def cmd_outbox_list(args, cfg, rules) -> int:
    from .models import Outbox

    with _session(cfg) as s:
        q = select(Outbox).order_by(Outbox.id)
        if args.status:
            q = q.where(Outbox.status == args.status)
        rows = [
            (
                r.id,
                r.kind,
                r.status,
                r.attempts,
                ", ".join(json.loads(r.recipients)),
                r.created_at.astimezone(KZ_TZ).strftime("%d.%m.%Y %H:%M"),
                (r.last_error or r.smtp_reply or "")[:60],
            )
            for r in s.exec(q)
        ]
    if not rows:
        print("Писем нет.")
        return 0
    print(_table(("№", "Вид", "Состояние", "Попыток", "Кому", "Создано", "Ответ сервера"), rows))
    return 0


def cmd_rules_init(args, cfg=None, rules=None) -> int:
    """The rules shipped inside the package, copied to edit (never over existing files)."""
    import shutil

    target: Path = args.dir
    if target.exists() and any(target.iterdir()):
        print(
            f"{target}: каталог не пуст — правила не записаны (ничего не перезаписывается)", file=sys.stderr
        )
        return 1
    shutil.copytree(config_mod.DEFAULT_RULES, target, dirs_exist_ok=True)
    n = sum(1 for p in target.rglob("*") if p.is_file())
    print(f"Записано файлов правил: {n} в {target}. Заполните staff.toml и journals.toml, затем:")
    print(f"  mailflow --rules {target} rules check")
    return 0


def cmd_status(args, cfg, rules) -> int:
    from . import status
    from .daemon import journal_engine

    engine = journal_engine(cfg)
    try:
        st = status.read(cfg, engine)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(st.as_json(), ensure_ascii=False, indent=2))
        return 0

    def when(at) -> str:
        return at.astimezone(KZ_TZ).strftime("%d.%m.%Y %H:%M:%S") if at else "—"

    for m in st.mailboxes:
        waiting = "не считается (почтовый сервер)" if m.waiting is None else str(m.waiting)
        reader = f"читает {m.reader} (до {when(m.reader_until)})" if m.reader else "никто не читает"
        print(f"Ящик {m.name} ({m.kind}): ждут {waiting}; {reader}")
    print("Очереди: " + ", ".join(f"{q} {n}" for q, n in st.queues.items()))
    print(f"Исходящие: ждут {st.outbox_pending}, не отправлены {st.outbox_failed}")
    print(f"Последнее письмо получено: {when(st.last_inbound_at)}; последний обход: {when(st.last_sweep_at)}")
    print(f"Журнал событий: {st.chain_events}, голова цепочки {st.chain_head[:16]}…")
    if st.checkpoint_at is None:
        print("Контрольная точка: не делалась")
    else:
        hours = (st.at - st.checkpoint_at).total_seconds() / 3600
        print(f"Контрольная точка: {when(st.checkpoint_at)} ({hours:.1f} ч назад)")
    return 0


def cmd_queue_list(args, cfg, rules) -> int:
    from . import daemon

    parts = daemon.build(cfg, rules)
    try:
        if args.name is None:
            counts = parts.queues.counts()
            print(_table(("Очередь", "Ждут"), [(f"{q.value} ({q.label})", n) for q, n in counts.items()]))
            return 0
        items = parts.queues.items(Queue(args.name))
    finally:
        daemon.close(parts)
    if not items:
        print("Очередь пуста.")
        return 0
    rows = [
        (
            i.id,
            i.at.astimezone(KZ_TZ).strftime("%d.%m.%Y %H:%M"),
            i.who,
            i.what[:50],
            i.why[:60],
            i.number or "",
        )
        for i in items
    ]
    print(_table(("№", "Когда", "От кого / кому", "Тема / вид", "Почему", "Дело"), rows))
    return 0


def cmd_queue_do(args, cfg, rules) -> int:
    from . import daemon
    from .services import Refused

    given = {"number": args.number, "to": args.to, "reason": args.reason}
    parts = daemon.build(cfg, rules)
    try:
        try:
            said = parts.queues.do(Queue(args.name), args.item, args.action, given, by=args.by)
        except Refused as exc:
            print(f"Не выполнено: {exc}.", file=sys.stderr)
            return 1
        parts.sender.flush()
    finally:
        daemon.close(parts)
    print(said)
    return 0


def cmd_outbox_retry(args, cfg, rules) -> int:
    if bool(args.ids) == args.failed:
        print("Укажите номера писем или --failed (одно из двух).", file=sys.stderr)
        return 2
    return _acting(
        cfg,
        rules,
        lambda sv: f"Снова в очереди: {sv.outbox_retry(args.ids or None, by=args.by)}.",
    )


def cmd_outbox_cancel(args, cfg, rules) -> int:
    return _acting(
        cfg, rules, lambda sv: f"Отменено: {sv.outbox_cancel(args.ids, reason=args.reason, by=args.by)}."
    )


def cmd_web(args, cfg, rules) -> int:
    import uvicorn

    from . import daemon

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        print(f"--listen: ожидается HOST:PORT, получено {args.listen!r}", file=sys.stderr)
        return 2
    base = args.base_url or f"http://{args.listen}"
    if args.print_link:
        return _print_link(cfg, rules, args.print_link, base)
    app, parts = daemon.web(cfg, rules, base)
    from .morphology import analyzer

    analyzer()  # its dictionaries loaded now (~1.5 s), not in the first search's answer
    log.info("the workplace at %s (sign-in links point there)", base)
    try:
        uvicorn.run(
            app,
            host=host,
            port=int(port),
            log_level="warning",
            # the client stays the TCP peer: `[web] trusted_proxies` is checked against it,
            # and X-Forwarded-For (anyone can write one) never stands in for it
            proxy_headers=False,
        )
    finally:
        daemon.close(parts)
    return 0


def _print_link(cfg, rules, address: str, base: str) -> int:
    import datetime as dt

    from . import daemon
    from .web import signin

    parts = daemon.build(cfg, rules)
    try:
        link = signin.request_link(
            parts.engine,
            rules,
            address,
            base_url=base,
            sender_addr=cfg.smtp.sender,
            now=dt.datetime.now(dt.UTC),
        )
        if link is None:
            print(
                f"{address}: ссылка не выдана — адреса нет в справочнике с правом входа "
                "(rules/staff.toml, rules/access.toml), или ссылка уже отправлена менее минуты назад",
                file=sys.stderr,
            )
            return 2
        parts.sender.flush()
    finally:
        daemon.close(parts)
    print(link)
    return 0


def _session(cfg) -> Session:
    from .daemon import journal_engine

    return Session(journal_engine(cfg))


def _acting(cfg, rules, act) -> int:
    """Run `act(services)` with the parts built by the composition root; send what
    it queued. A refusal is printed in Russian: exit 2 for a person without the
    right, 1 otherwise."""
    from . import daemon
    from .services import NotAllowed, Refused

    parts = daemon.build(cfg, rules)
    try:
        try:
            message = act(parts.services)
        except Refused as exc:
            print(f"Не выполнено: {exc}.", file=sys.stderr)
            return 2 if isinstance(exc, NotAllowed) else 1
        parts.sender.flush()
    finally:
        daemon.close(parts)
    print(message)
    return 0


def cmd_list(args, cfg, rules) -> int:
    import datetime as dt

    from .case.queries import is_open

    with _session(cfg) as s:
        q = select(Document).order_by(Document.id)
        if args.journal:
            q = q.where(Document.journal == args.journal)
        if args.overdue:
            today = dt.datetime.now(KZ_TZ).date()
            q = (
                select(Document)
                .where(is_open(), Document.due_date < today)
                .order_by(Document.due_date, Document.id)
            )
        if args.stage:
            if args.stage not in rules.workflow.stages:
                print(
                    f"Нет такого этапа: {args.stage} (есть: {', '.join(rules.workflow.stages)})",
                    file=sys.stderr,
                )
                return 2
            q = q.where(Document.stage == args.stage)
        docs = list(s.exec(q))
    if not docs:
        print(
            "Просроченных нет." if args.overdue else "Таких документов нет." if args.stage else "Журнал пуст."
        )
        return 0
    head = (
        "Вх. номер",
        "Дата",
        "Вид",
        "Канал",
        "Заявитель",
        "Подразделение",
        "Состояние",
        "Срок",
        "Проверить",
    )
    rows = [
        (
            d.number,
            d.registered_at.astimezone(KZ_TZ).strftime("%d.%m.%Y %H:%M"),
            d.kind or "?",
            d.channel,
            consumer_name(d) or "—",
            d.origin_unit or "",
            State(d.status).label,
            d.due_date.strftime("%d.%m.%Y") if d.due_date else "",
            ", ".join(json.loads(d.needs_review)),
        )
        for d in docs
    ]
    print(_table(head, rows))
    print(f"Всего: {len(docs)}")
    return 0


def _document(s: Session, number: str) -> Document | None:
    doc = s.exec(select(Document).where(Document.number == number)).first()
    if doc is None:
        print(f"Документ {number} не найден в журнале.", file=sys.stderr)
    return doc


def _table(head, rows, width: int = 40) -> str:
    cells = [[str(c)[:width] for c in r] for r in [head, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def cmd_show(args, cfg, rules) -> int:
    with _session(cfg) as s:
        doc = _document(s, args.number)
        if doc is None:
            return 1
        rec = export.document_record(s, doc)
        events = s.exec(select(Event).where(Event.document_id == doc.id).order_by(Event.id)).all()
    if args.json:
        print(json.dumps(rec, ensure_ascii=False, indent=2))
        return 0
    lines = _describe(rec)
    lines.insert(3, _monitoring_line(rules, rec, doc))
    if rec["decision"]:
        d = rec["decision"]
        lines.insert(
            4, f"Решение по предложению (п. 2.14): {d['label']} — {d['comment']} ({d['by']}, {d['at'][:10]})"
        )
    print("\n".join(line for line in lines if line))
    print("\nСобытия:")
    for e in events:
        print(
            f"  {e.at.astimezone(KZ_TZ):%d.%m.%Y %H:%M:%S}  {e.type}  {journal.canonical(coverage.facts(e.data))}"
        )
    return 0


def _monitoring_line(rules, r: dict, doc: Document) -> str:
    from . import monitoring

    m = r["monitoring"]
    if m:
        title = next((g.title for g in rules.routing.registers if g.key == m["register"]), m["register"])
        return f"Мониторинг (п. 2.4): база «{title}», № {m['number']}"
    if monitoring.pending(rules, doc):
        return "Мониторинг (п. 2.4): номер будет присвоен, когда будет указан вид обращения"
    return ""


def cmd_registers_list(args, cfg, rules) -> int:
    from . import monitoring

    titles = {g.key: g.title for g in rules.routing.registers}
    if args.register and args.register not in titles:
        print(
            f"--register: нет такой базы мониторинга {args.register!r}; есть: {', '.join(titles)}",
            file=sys.stderr,
        )
        return 2
    with _session(cfg) as s:
        rows = monitoring.entries(s, args.register, args.year)
    head = ("База", "№", "Вх. номер", "Дата", "Вид", "Канал", "Заявитель", "Подразделение", "Состояние")
    print(
        _table(
            head,
            [
                (
                    titles.get(m.register_key, m.register_key),
                    f"{m.seq}/{m.year}",
                    d.number,
                    d.registered_at.astimezone(KZ_TZ).strftime("%d.%m.%Y %H:%M"),
                    d.kind or "?",
                    d.channel,
                    consumer_name(d) or "—",
                    d.origin_unit or "",
                    State(d.status).label,
                )
                for m, d in rows
            ],
            width=50,
        )
    )
    print(f"Всего: {len(rows)}")
    return 0


def _describe(r: dict) -> list[str]:
    c = r["consumer"]
    who = consumer_name(
        Consumer(c["last_name"], c["first_name"], c["patronymic"], org_name=c["org_name"]), r["group"]
    )
    out = [
        f"{r['incoming_number']} от {r['registered_at'][:16].replace('T', ' ')} — "
        f"{r['kind'] or 'вид не определён'}, канал {r['channel']}, "
        f"состояние: {State(r['status']).label}",
        f"Заявитель: {who or '—'}; {c['address'] or ''} {c['phone'] or ''} {c['email'] or ''}".rstrip(),
        f"Проверить: {', '.join(FIELD_LABELS.get(f, f) for f in r['needs_review']) or '—'}",
    ]
    out += [f"  {FIELD_LABELS.get(field, field)} — откуда: {why}" for field, why in r["evidence"].items()]
    if r["repeat_of"]:
        out.append(f"Повторное обращение: ранее {r['repeat_of']} (связь снимает: mailflow repeat … --not)")
    if r["repeats"]:
        out.append(f"Повторные обращения по этому делу: {', '.join(r['repeats'])}")
    if r["resolution"]:
        res = r["resolution"]
        out.append(f"Резолюция ({res['author_name'] or res['author']}, {res['source']}): {res['text']}")
        out.append(
            "Исполнители: "
            + ", ".join(e["name"] + (" (ответственный)" if e["responsible"] else "") for e in r["executors"])
        )
        out.append(f"Срок: {r['due_date']}")
        out.append("Подтверждение получения (п. 1.12):")
        for d in r["deliveries"]:
            steps = []
            if d["smtp"] and d["smtp"]["accepted_at"]:
                steps.append(f"принято сервером {d['smtp']['accepted_at'][:16]} ({d['smtp']['code']})")
            if d["dsn"]:
                label = ladder.label(d["dsn"]["action"])
                steps.append(f"{label} {d['dsn']['at'][:16]} ({d['dsn']['status'] or ''})")
            if d["mdn"]:
                steps.append(f"прочитано {d['mdn']['at'][:16]}")
            if d["replied_at"]:
                steps.append(f"ответ {d['replied_at'][:16]}")
            out.append(f"  {d['to']}: " + (" → ".join(steps) or "в очереди на отправку"))
    else:
        out.append("Резолюции ещё нет.")
    for e in r.get("extensions") or ():
        asked = f" по запросу {e['requested_by']}" if e["requested_by"] else ""
        told = (
            f"{e['applicant_told_at'][:10]}, {e['applicant_told_how']}"
            if e["applicant_told_at"]
            else f"нет (сообщить до {e['tell_applicant_by']})"
        )
        out.append(
            f"Продление {e['at'][:10]}: {e['old_due']} → {e['new_due']} ({e['by']}{asked}): {e['reason']}; "
            f"заявитель уведомлён: {told}"
        )
    a = r["answer"]
    if a:
        out.append(f"Ответ (раздел 3): этап «{a['stage']}», у {a['holder'] or '—'}")
        for m in a["history"]:
            f = f", файл {m['file']} (sha256 {m['sha256'][:12]}…)" if m["file"] else ""
            out.append(
                f"  {m['at'][:16].replace('T', ' ')}  {m['from']} → {m['to']}  «{m['word']}» {m['by']}{f}"
            )
        if a["dispatched_at"]:
            out.append(
                f"  Отправлено {a['dispatched_at'][:10]}: {a['dispatch_channel'] or '?'} "
                f"{a['tracking'] or ''}; исх. № {a['outgoing_number'] or '?'} "
                f"от {a['outgoing_date'] or '?'}; копия: {a['copy_received_at'] or 'нет'}"
            )
        for h in a["handed_over"]:
            out.append(f"  Передано на совещании: {h['unit']} {h['at'][:10]} ({h['by']})")
    return out


def cmd_export(args, cfg, rules) -> int:
    if args.format == "xlsx" and not args.out and sys.stdout.isatty():
        print("xlsx — двоичный файл: укажите --out FILE или перенаправьте вывод", file=sys.stderr)
        return 2
    with (
        _session(cfg) as s,
        open(args.out, "wb") if args.out else contextlib.nullcontext(sys.stdout.buffer) as out,
    ):
        recs = export.records(s, args.journal)
        if args.format == "xlsx":
            for piece in export.xlsx_chunks(recs):
                out.write(piece)
        elif args.format == "csv":
            for chunk in export.csv_chunks(recs):
                out.write(chunk.encode("utf-8"))
        else:
            for line in export.jsonl(recs):  # streamed: a journal of years is not held in memory
                out.write(line.encode("utf-8") + b"\n")
        out.flush()  # a closed pipe is found here, inside main, not at interpreter exit
    if args.out:
        print(f"Записано: {args.out}")
    return 0


def _writing_engine(cfg):
    """The journal's engine for a command that writes: created and migrated if need be."""
    from . import db

    cfg.home.mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(cfg.database)
    db.migrate(engine)
    return engine


def cmd_import(args, cfg, rules) -> int:
    from . import importing

    mapping = importing.load_mapping(args.map_file) if args.map_file else None
    tty = sys.stderr.isatty()

    def progress(what: str, rows: int) -> None:
        print(f"\r{what}: {rows:,} строк".replace(",", " "), end="", file=sys.stderr, flush=True)

    engine = _writing_engine(cfg)
    try:
        report = importing.run(
            engine,
            rules,
            args.file,
            mapping=mapping,
            skip_bad=args.skip_bad,
            journal_key=args.journal,
            progress=progress if tty else None,
        )
    except importing.FileProblem as exc:
        print(f"mailflow: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if tty:
        print(file=sys.stderr)
    for bad in report.bad:
        print(f"{args.file.name}: строка {bad.line}: {bad.number or '—'}: {bad.reason}", file=sys.stderr)
    if report.bad_count > len(report.bad):
        print(f"… и ещё {report.bad_count - len(report.bad)} строк с ошибками", file=sys.stderr)
    if report.bad_count and not args.skip_bad:
        print(
            f"Ничего не импортировано: строк с ошибками {report.bad_count} из {report.rows}. "
            "Исправьте их или повторите с --skip-bad, чтобы загрузить остальные.",
            file=sys.stderr,
        )
        return 2
    print(
        f"Импортировано: {report.imported}; уже были в журнале: {report.already}; "
        f"пропущено с ошибками: {report.bad_count}; всего строк: {report.rows}"
    )
    for key, last in report.counters.items():
        print(f"  журнал {key}: следующий номер после {last}")
    return 0


def cmd_continue(args, cfg, rules) -> int:
    from . import importing

    engine = _writing_engine(cfg)
    try:
        before, after = importing.continue_after(engine, rules, args.journal, args.year, args.after)
    except importing.Backwards as exc:
        print(f"Не выполнено: {exc}.", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    j = rules.journals[args.journal]
    if before == after:
        print(f"Счётчик уже {after}: следующий номер {j.number(args.year, after + 1)}")
    else:
        print(f"Журнал продолжен: следующий номер {j.number(args.year, after + 1)} (было {before})")
    return 0


def cmd_verify(args, cfg, rules) -> int:
    """The chain, the tables against the events, and the newest (or given) checkpoint:
    exit 1 with what was found, 2 when a key or checkpoint file cannot be used."""
    from . import checkpoint, replay

    anchor = cfg.checkpoint
    try:
        cp_file = args.checkpoint or (_newest_checkpoint(anchor.dir) if anchor else None)
        cp = checkpoint.load(cp_file) if cp_file else None
        key_file = args.public_key or (anchor.public_key if anchor else None)
        if cp is not None and key_file is None:
            raise checkpoint.KeyProblem(
                "нужен открытый ключ: --public-key ФАЙЛ или public_key в [checkpoint]"
            )
        public = checkpoint.public_key(key_file) if cp is not None and key_file else None
    except checkpoint.KeyProblem as exc:
        print(f"Проверка не выполнена: {exc}.", file=sys.stderr)
        return 2
    from . import db
    from .daemon import journal_engine

    engine = journal_engine(cfg)
    # one snapshot for the chain, the tables and the checkpoint, so a daemon writing
    # meanwhile is neither blocked (SQLite: a WAL reader) nor seen half way (PostgreSQL)
    snapshot = db.reader(engine)
    if engine.dialect.name == "postgresql":
        snapshot = snapshot.execution_options(isolation_level="REPEATABLE READ")
    try:
        with Session(snapshot) as s:
            v = journal.verify(s)
            r = replay.compare(s)
            found = checkpoint.check(s, cp, public) if cp is not None and public is not None else []
    finally:
        engine.dispose()
    bad = False
    if v.ok:
        print(f"Журнал цел: проверено событий — {v.checked}.")
    else:
        bad = True
        print(
            f"Журнал повреждён: событие #{v.first_bad_id}: {v.reason} "
            f"(до него проверено событий — {v.checked})."
        )
    rows = sum(t.rows for t in r.tables)
    if r.ok:
        print(f"Таблицы сходятся с событиями: строк {rows}, из них не покрыты событиями — {r.not_covered}.")
    else:
        bad = True
        print(f"Таблицы не сходятся с событиями — расхождений {len(r.mismatches)}:")
        for m in r.mismatches[:200]:
            print("  " + m.describe())
        if len(r.mismatches) > 200:
            print(f"  … и ещё {len(r.mismatches) - 200}")
    if cp is not None:
        if found:
            bad = True
            print(f"Контрольная точка {cp_file}: журнал изменён после неё:")
            for f in found:
                print("  " + f.text)
        else:
            print(
                f"Контрольная точка {cp_file} сходится: событие #{cp.last_event_id} и всё до него на месте."
            )
    return 1 if bad else 0


def _newest_checkpoint(folder: Path) -> Path | None:
    files = sorted(folder.glob("checkpoint-*.json")) if folder.is_dir() else []
    return files[-1] if files else None


def cmd_keygen(args, cfg, rules) -> int:
    from . import checkpoint

    try:
        pub, pem = checkpoint.keygen(args.path)
    except checkpoint.KeyProblem as exc:
        print(f"Ключ не создан: {exc}.", file=sys.stderr)
        return 2
    print(f"Закрытый ключ: {args.path} (только владельцу; в базу журнала не кладите).")
    print(f"Открытый ключ: {pub}")
    print(pem, end="")
    return 0


def cmd_checkpoint(args, cfg, rules) -> int:
    from . import checkpoint, daemon

    if cfg.checkpoint is None:
        print("Контрольные точки не настроены: нужен раздел [checkpoint] в файле настроек.", file=sys.stderr)
        return 2
    try:
        key = checkpoint.private_key(cfg.checkpoint)
    except checkpoint.KeyProblem as exc:
        print(f"Контрольная точка не сделана: {exc}.", file=sys.stderr)
        return 2
    parts = daemon.build(cfg, rules)
    try:
        with Session(parts.engine) as s, s.begin():
            head = journal.lock(s)
            cp, path = checkpoint.issue(s, head, cfg.checkpoint, key, sender_addr=cfg.smtp.sender)
        parts.sender.flush()
    finally:
        daemon.close(parts)
    print(f"Контрольная точка: событий {cp.events}, последнее #{cp.last_event_id}, хеш {cp.head[:16]}…")
    print(
        f"Файл: {path}"
        + (f"; отправлена на {cfg.checkpoint.archive_to}" if cfg.checkpoint.archive_to else "")
    )
    return 0


def cmd_inbound(args, cfg, rules) -> int:
    with _session(cfg) as s:
        rows = export.inbound_rows(s, args.status)
    head = ("#", "Получено", "Ящик", "От", "Тема", "Статус", "Правило", "Причина")
    print(
        _table(
            head,
            [
                (
                    r.id,
                    r.received_at.astimezone(KZ_TZ).strftime("%d.%m.%Y %H:%M"),
                    r.mailbox,
                    r.from_addr or "",
                    r.subject or "",
                    r.status,
                    r.rule or "",
                    r.reason or "",
                )
                for r in rows
            ],
        )
    )
    return 0


def cmd_register(args, cfg, rules) -> int:
    import datetime as dt
    import hashlib

    from . import daemon
    from .mailbox import Fetched
    from .values import Source

    received = None
    if args.received:
        try:
            day = _day(args.received)
        except ValueError:
            print(f"--received: дата в виде ДД.ММ.ГГГГ, получено {args.received!r}", file=sys.stderr)
            return 2
        if day > dt.datetime.now(KZ_TZ).date():
            print(f"--received: {day:%d.%m.%Y} ещё не наступило", file=sys.stderr)
            return 2
        received = dt.datetime.combine(day, dt.time(9, 0), KZ_TZ)  # the working day's start
    parts = daemon.build(cfg, rules)
    failed = 0
    try:
        for path in args.files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                print(f"{path}: не удалось прочитать файл: {exc.strerror}", file=sys.stderr)
                failed += 1
                continue
            if path.suffix.lower() == ".eml":
                sha = hashlib.sha256(data).hexdigest()
                fetched = Fetched(Source("paper", "eml", sha), data, dt.datetime.now(dt.UTC))
                out = parts.intake.process(fetched, args.journal)
            else:
                ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                out = parts.intake.register_paper(
                    path.name, data, ctype, args.journal, channel=args.channel, received_at=received
                )
            if out.number:
                print(f"{path}: зарегистрировано, входящий номер {out.number}")
                if out.status == "registered" and path.suffix.lower() != ".eml":
                    failed += _desk_talon(cfg, parts, out.number)
            else:
                print(f"{path}: {out.status} — {out.reason}")
                failed += out.status == "quarantined"
        parts.sender.flush()
    finally:
        daemon.close(parts)
    return 1 if failed else 0


def _desk_talon(cfg, parts, number: str) -> int:
    """Paper from an applicant without e-mail: the talon to hand over, as a PDF (1.4).
    1 when it could not be written (the case stays registered; `mailflow talon` retries)."""
    from .services import Refused

    with Session(parts.engine) as s:
        doc = s.exec(select(Document).where(Document.number == number)).one()
        if doc.email:
            return 0  # the talon went by e-mail
    try:
        pdf = parts.services.print_talon(number, out=_talon_path(cfg, number), font=cfg.talon_font)
    except Refused as exc:
        print(f"  талон не напечатан: {exc}. Повторить: mailflow talon {number}", file=sys.stderr)
        return 1
    print(f"  талон для выдачи заявителю: {pdf}")
    return 0


def _talon_path(cfg, number: str) -> Path:
    cfg.talons_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return cfg.talons_dir / f"{number}.pdf"


def cmd_talon(args, cfg, rules) -> int:
    from .daemon import journal_engine, open_archive
    from .services import Invalid, NotFound, Services

    engine = journal_engine(cfg)
    try:
        with Session(engine) as s:
            if _document(s, args.number) is None:
                return 1
        services = Services(engine, rules, open_archive(cfg, engine), cfg.smtp.sender)
        out = args.out or _talon_path(cfg, args.number)
        pdf = services.print_talon(args.number, out=out.absolute(), font=cfg.talon_font)
    except NotFound as exc:
        print(f"Не выполнено: {exc}.", file=sys.stderr)
        return 1
    except Invalid as exc:
        flag = "--out" if exc.field == "out" else exc.field
        print(f"Не выполнено: {flag}: {str(exc).split(': ', 1)[1]}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(pdf)
    return 0


def _day(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return dt.datetime.strptime(text, "%d.%m.%Y").date()


def cmd_doctor(args, cfg, rules) -> int:
    from .mailbox import open_mailbox

    checks = [
        ("база данных / database", lambda: _session(cfg).close()),
        (
            f"tesseract ({rules.limits.ocr_languages}, osd, eng)",
            lambda: _tesseract_probe(rules.limits.ocr_languages),
        ),
    ]
    for m in cfg.mailboxes:
        checks.append((f"ящик / mailbox {m.name}", lambda m=m: _open_close(open_mailbox(m))))
    if cfg.smtp.endpoint.scheme != "maildir":
        checks.append(("SMTP", lambda: _smtp_probe(cfg.smtp)))
    bad = 0
    for name, check in checks:
        try:
            check()
            print(f"  ok    {name}")
        except Exception as exc:
            bad += 1
            print(f"  СБОЙ  {name}: {exc}")
    return 1 if bad else 0


def _tesseract_probe(languages: str) -> None:
    """The OCR program and every language data file recognition uses."""
    import subprocess

    try:
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise RuntimeError("tesseract не установлен (apt-get install tesseract-ocr)") from None
    have = set(out.stdout.split()[1:] if out.stdout else ())
    missing = [lang for lang in (*languages.split("+"), "osd", "eng") if lang not in have]
    if missing:
        raise RuntimeError(
            "нет языковых данных: "
            + ", ".join(missing)
            + " (apt-get install "
            + " ".join(f"tesseract-ocr-{m}" for m in missing)
            + ")"
        )


def _open_close(box) -> None:
    box.open()
    box.pending()
    box.close()


def _smtp_probe(smtp_cfg) -> None:
    import asyncio

    import aiosmtplib

    ep = smtp_cfg.endpoint

    async def probe():
        c = aiosmtplib.SMTP(
            hostname=ep.host,
            port=ep.port,
            use_tls=ep.scheme == "smtps",
            start_tls=smtp_cfg.starttls,
            timeout=smtp_cfg.timeout,
        )
        await c.connect()
        if ep.user:
            await c.login(ep.user, ep.login_password() or "")
        await c.quit()

    asyncio.run(probe())


def cmd_resolve(args, cfg, rules) -> int:
    def act(services) -> str:
        done = services.resolve(args.number, " ".join(args.text), args.by)
        return (
            f"Резолюция по {done.number} внесена: {', '.join(done.executors)}; срок {done.due:%d.%m.%Y}"
            f"{' (ограничен сроком по закону)' if done.capped else ''}. Письма исполнителям отправлены."
        )

    return _acting(cfg, rules, act)


def cmd_report_weekly(args, cfg, rules) -> int:
    import datetime as dt

    from . import digest, digest_render

    now = dt.datetime.now(KZ_TZ)
    try:
        week = digest.Week.parse(args.week) if args.week else digest.Week.previous_of(now.date())
    except ValueError as exc:
        print(f"mailflow: {exc}", file=sys.stderr)
        return 2
    if args.journal is not None and args.journal not in rules.journals:
        print(f"mailflow: нет журнала {args.journal!r} (есть: {', '.join(rules.journals)})", file=sys.stderr)
        return 2
    with _session(cfg) as s:
        report = digest.build(s, rules, week, now, journal=args.journal)
    print(digest_render.text(report))
    if args.out:
        args.out.write_bytes(digest_render.xlsx(report))
        print(f"\nXLSX: {args.out}")
    if args.html:
        args.html.write_text(digest_render.html(report, rules), encoding="utf-8")
        print(f"HTML: {args.html}")
    return 0


def _date_arg(value: str):
    import datetime as dt

    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"не дата: {value!r} (ДД.ММ.ГГГГ)")


def cmd_extend(args, cfg, rules) -> int:
    if args.notified is not None:
        if args.until or args.reason:
            print(
                "--notified отмечает уведомление; --until и --reason с ним не указываются.", file=sys.stderr
            )
            return 2

        def notified(services) -> str:
            services.extension_notified(args.number, how=args.notified, by=args.by)
            return f"{args.number}: отмечено, что заявитель уведомлён о продлении срока."

        return _acting(cfg, rules, notified)
    if not args.until or not args.reason:
        print("Укажите --until и --reason (или --notified).", file=sys.stderr)
        return 2

    def act(services) -> str:
        done = services.extend(args.number, until=args.until, reason=args.reason, by=args.by)
        return f"Срок по {args.number} продлён: {done.old_due:%d.%m.%Y} → {done.new_due:%d.%m.%Y}. " + (
            "Заявителю отправлено письмо."
            if done.applicant_mailed
            else f"Сообщите заявителю не позднее {done.tell_applicant_by:%d.%m.%Y}."
        )

    return _acting(cfg, rules, act)


def cmd_dispatch(args, cfg, rules) -> int:
    def act(services) -> str:
        services.dispatch(args.number, sent=args.sent, by=args.by)
        return f"{args.number}: отправка ответа отмечена; исполнителю направлен запрос копии (п. 3.8)."

    return _acting(cfg, rules, act)


def cmd_close(args, cfg, rules) -> int:
    import hashlib

    from .values import Attachment

    try:
        data = args.copy.read_bytes()
    except OSError as exc:
        print(f"{args.copy}: не удалось прочитать файл: {exc.strerror}", file=sys.stderr)
        return 1
    copy = Attachment(
        args.copy.name,
        mimetypes.guess_type(args.copy.name)[0] or "application/octet-stream",
        data,
        hashlib.sha256(data).hexdigest(),
    )

    def act(services) -> str:
        services.close(args.number, copy=copy, sent=args.sent, by=args.by)
        return f"{args.number}: копия ответа зарегистрирована, дело закрыто."

    return _acting(cfg, rules, act)


def cmd_handover(args, cfg, rules) -> int:
    def act(services) -> str:
        n = services.handover(args.numbers, unit=args.unit, by=args.by)
        return f"Отмечена передача {n} док. — {args.unit}."

    return _acting(cfg, rules, act)


def cmd_rules_check(args, cfg, rules) -> int:
    print(f"Правила в порядке: {rules.dir}")
    print(
        f"  сотрудников: {len(rules.staff.people)}; журналов: {len(rules.journals)} "
        f"(по умолчанию {rules.default_journal})"
    )
    print(f"  конфигурация: {cfg.file or 'встроенная по умолчанию'}; данные: {cfg.home}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
