"""Helpers shared by the tests: a data home, messages, a stand-in recognizer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import json
import shutil
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlmodel import Session

from mailflow import config, daemon, db, export
from mailflow import rules as rules_mod
from mailflow.extract.evaluate import CONSUMER, FIELDS, expected, normalise
from mailflow.values import Consumer, Recognition

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


def home_config(tmp_path: Path, database: str | None = None) -> config.Config:
    cfg = config.embedded_default(tmp_path / "home", REPO / "rules")
    if database:
        cfg = config.Config(**{**cfg.__dict__, "database": database})
    return cfg


def load_rules():
    return rules_mod.load(REPO / "rules")


def text_appeal(
    frm: str = "ayyrtau-res@sevkaz.example",
    subject: str = "Жалоба потребителя",
    body: str = "Направляю жалобу потребителя Иванова И.И.",
    *,
    charset: str = "utf-8",
    message_id: str | None = None,
    date: dt.datetime | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
    headers: dict | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = frm
    msg["To"] = "kanc@sevkaz.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="test.example")
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body, charset=charset)
    for name, ctype, data in attachments:
        main, sub = ctype.split("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg.as_bytes()


def fake_recognizer(calls: list | None = None):
    """Stands in for OCR in tests of the flow around it: reads nothing, invents nothing."""

    def recognize(msg, sender, channel):
        if calls is not None:
            calls.append(msg.message_id)
        email = "consumer@example.kz" if "consumer@example.kz" in msg.body_text else None
        stems = {
            "жалоб": "жалоба",
            "претенз": "претензия",
            "отзыв": "отзыв",
            "предлож": "предложение",
            "заявлен": "заявление",
        }
        kind = next((k for stem, k in stems.items() if stem in msg.body_text.lower()), None)
        return Recognition(
            kind=kind,
            group=1,
            consumer=Consumer(last_name="Иванов", email=email),
            origin_unit=sender.unit if sender else None,
            needs_review=("first_name",),
            evidence={"last_name": "шапка письма: «от Иванова»", "first_name": "имя не прочитано"},
            text=msg.body_text,
        )

    return recognize


def deliver(maildir: Path, raw: bytes, name: str) -> Path:
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    path = maildir / "new" / name
    path.write_bytes(raw)
    return path


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)


PG_ADMIN = "postgresql://root@127.0.0.1:5432/postgres"


def pg_available() -> str | None:
    """None when PostgreSQL answers; otherwise why not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except Exception as exc:  # no server, no driver, no role
        return f"PostgreSQL at 127.0.0.1:5432 not available: {exc}"


class PgDatabase:
    """A throwaway database on the local PostgreSQL, dropped afterwards."""

    def __init__(self):
        import uuid

        self.name = f"mf_test_{uuid.uuid4().hex[:10]}"
        self.url = f"postgresql+psycopg://root@127.0.0.1:5432/{self.name}"

    def __enter__(self):
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc):
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def database_urls(tmp_path: Path, kind: str):
    """A context giving a fresh database URL of `kind` ("sqlite" or "postgresql")."""
    import contextlib

    import pytest

    @contextlib.contextmanager
    def ctx():
        if kind == "sqlite":
            yield f"sqlite:///{tmp_path / 'home' / 'journal.db'}"
            return
        why = pg_available()
        if why:
            pytest.skip(why)
        with PgDatabase() as db:
            yield db.url

    return ctx()


CHIEF = "ayyrtau-res@sevkaz.example"
DIRECTOR = "director@sevkaz.example"


class Office:
    """A data home with a registered complaint waiting for its resolution."""

    def __init__(
        self, tmp_path, rules=None, journal: str | None = None, database: str | None = None, dkim_dns=None
    ):
        self.cfg, self.rules = home_config(tmp_path, database), rules or load_rules()
        self.dkim_dns = dkim_dns  # DKIM key lookups (routing.toml verify_dkim)
        if journal:  # the mailbox registers into this journal (rules/journals.toml)
            box = dataclasses.replace(self.cfg.mailboxes[0], journal=journal)
            self.cfg = dataclasses.replace(self.cfg, mailboxes=(box,))
        self.n = 0
        self.send(
            text_appeal(
                frm=CHIEF,
                body="Направляю жалобу потребителя",
                attachments=[("скан.pdf", "application/pdf", b"%PDF-1.4 scan")],
            )
        )
        # each manager gets their own «на резолюцию», with a token of their own
        [self.mgmt] = [m for m in self.sent("management") if m["To"] == DIRECTOR]
        self.number = self.mgmt["X-Mailflow-Number"]

    def send(self, raw: bytes):
        self.n += 1
        deliver(self.cfg.home / "inbox", raw, f"m{self.n:03d}")
        return daemon.run_once(self.cfg, self.rules, recognize=fake_recognizer(), dkim_dns=self.dkim_dns)

    def sent(self, kind: str | None = None) -> list:
        folder = self.cfg.home / "outbox" / "new"
        msgs = [
            email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in sorted(folder.glob("*"))
        ]
        return [m for m in msgs if kind is None or m["X-Mailflow-Kind"] == kind]

    def reply(
        self,
        body: str,
        *,
        frm: str = DIRECTOR,
        in_reply_to: str | None = "auto",
        subject: str | None = None,
        headers: dict | None = None,
        to_message=None,
        attachments: list[tuple[str, str, bytes]] = (),
    ) -> bytes:
        """`frm` answering `to_message` (default: "на резолюцию") from a phone, quoting it."""
        original = to_message if to_message is not None else self.mgmt
        msg = email.message.EmailMessage()
        msg["From"] = frm
        msg["To"] = "mailflow@localhost"
        msg["Subject"] = subject if subject is not None else "Re: " + original["Subject"]
        msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        msg["Message-ID"] = make_msgid(domain="phone.example")
        if in_reply_to == "auto":
            in_reply_to = original["Message-ID"]
        if in_reply_to:
            msg["In-Reply-To"] = in_reply_to
            msg["References"] = in_reply_to
        for k, v in (headers or {}).items():
            msg[k] = v
        quoted = "\n".join("> " + line for line in original.get_body(("plain",)).get_content().splitlines())
        msg.set_content(f"{body}\n\nОтправлено с iPhone\n\n{quoted}\n")
        for name, ctype, data in attachments:
            main, sub = ctype.split("/")
            msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
        return msg.as_bytes()

    def db(self):
        engine = db.make_engine(self.cfg.database)
        return engine, Session(engine)


def resolved_case(
    engine,
    *,
    due: dt.date,
    registered: dt.datetime,
    executors: tuple[str, ...] = ("petrov@sevkaz.example", "sidorenko@sevkaz.example"),
    number: str = "ВХ-2026-000001",
    status: str = "in_work",
    **doc_fields,
):
    """An appeal with its resolution, written straight into the journal (the
    sweeps' input, not intake's); returns the Document."""
    from mailflow.models import Assignment, Document, Resolution

    rules = load_rules()
    with Session(engine, expire_on_commit=False) as s, s.begin():
        doc_fields.setdefault("last_name", "Омаров")
        doc = Document(
            journal="dp",
            year=registered.year,
            seq=int(number.rsplit("-", 1)[1]),
            number=number,
            registered_at=registered,
            received_at=registered,
            kind="жалоба",
            grp=1,
            channel=doc_fields.pop("channel", "res"),
            sha256="0" * 64,
            due_date=due,
            status=status,
            stage="draft" if status in ("in_work", "answered", "closed") else None,
            **doc_fields,
        )
        s.add(doc)
        s.flush()
        if executors:
            res = Resolution(
                document_id=doc.id,
                text="рассмотреть, подготовить ответ",
                due_date=due,
                due_source="resolution",
                author="director@sevkaz.example",
                source="email",
                created_at=registered,
            )
            s.add(res)
            s.flush()
            for i, e in enumerate(executors, 1):
                s.add(
                    Assignment(
                        resolution_id=res.id,
                        document_id=doc.id,
                        position=i,
                        email=e,
                        name=rules.staff.by_email(e).name,
                    )
                )
        return doc


def through_pipeline(tmp_path, folder):
    """Every message of a corpus folder through the daemon into an empty journal:
    (truths, exported records, right answers per field, wrong non-null values)."""
    cfg, rules = home_config(tmp_path), load_rules()
    inbox = cfg.home / "inbox" / "new"
    inbox.mkdir(parents=True)
    truths = {}
    for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        truths[t["message_id"]] = t
        shutil.copy(folder / t["file"], inbox / t["file"])
    outcomes = daemon.run_once(cfg, rules)
    assert [o.status for o in outcomes] == ["registered"] * len(truths)

    engine = db.make_engine(cfg.database)
    with Session(engine) as s:
        records = {r["source"]["message_id"]: r for r in export.records(s)}
    engine.dispose()
    assert set(records) == set(truths)
    right = dict.fromkeys(FIELDS, 0)
    wrong_non_null = 0
    for mid, truth in truths.items():
        rec = records[mid]
        got = {k: rec.get(k) for k in ("kind", "group", "channel", "origin_unit", "book_entry_at")}
        got.update({f: rec["consumer"].get(f) for f in CONSUMER})
        want = expected(truth)
        for f in FIELDS:
            w, g = normalise(f, want[f]), normalise(f, got[f])
            right[f] += w == g
            wrong_non_null += g is not None and w != g
    return truths, records, right, wrong_non_null
