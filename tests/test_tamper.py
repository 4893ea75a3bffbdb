"""Tamper evidence (issue 10.2): `journal verify` after each kind of tampering.

The journal is a real one (an appeal registered, resolved by the director,
forwarded, its delivery proven by a DSN), on SQLite and PostgreSQL; the
attacks are what someone with the database's password would do by SQL.
Row edits are found by replaying the events against the tables; a rewrite
with every hash recomputed, a truncation with `chain_head` set back and a
reset only by the signed checkpoint taken before them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import json
from email import policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mailflow import checkpoint, cli, config, daemon, db, journal, replay, status, sweeps
from mailflow import rules as rules_mod
from mailflow.config import CheckpointConfig, ConfigError
from mailflow.models import ChainHead, Delivery, Document, Event, Move
from tests import reportgen
from tests.support import DIRECTOR, REPO, Office, database_urls, deliver, fake_recognizer, text_appeal

PETROV = "petrov@sevkaz.example"
ARCHIVE = "archive@sevkaz.example"
CLERK = "kanc@sevkaz.example"


@pytest.fixture(params=["sqlite", "postgresql"])
def office(request, tmp_path):
    """A journal with a resolved case whose forward was proven delivered."""
    with database_urls(tmp_path, request.param) as url:
        o = Office(tmp_path, database=url)
        o.send(o.reply("Петрову — рассмотреть, ответить заявителю."))
        m = next(m for m in o.sent("forward") if m["To"] == PETROV)
        with _session(o) as s:
            d = s.exec(select(Delivery).where(Delivery.to_addr == PETROV)).one()
        orig = reportgen.Original(
            message_id=m["Message-ID"], subject=m["Subject"], from_="mailflow@localhost", to=PETROV
        )
        rcpt = reportgen.Rcpt(final=PETROV, action="delivered", status="2.0.0", diagnostic="smtp; 250 ok")
        o.send(reportgen.postfix_dsn([rcpt], envid=d.envelope_id, original=orig, kind="success"))
        parts = daemon.build(o.cfg, o.rules, recognize=fake_recognizer())
        try:  # a term extended by the director, an address corrected by the clerk
            parts.services.extend(
                o.number,
                until=d.created_at.date() + dt.timedelta(days=40),
                reason="выезд на место",
                by=DIRECTOR,
            )
            parts.services.correct(o.number, {"address": "г. Петропавловск, ул. Абая, 5"}, by=CLERK)
        finally:
            daemon.close(parts)
        yield o


class _session:
    """A session on the office's journal, its engine disposed of afterwards."""

    def __init__(self, o: Office):
        self.engine = db.make_engine(o.cfg.database)

    def __enter__(self) -> Session:
        self.s = Session(self.engine)
        return self.s

    def __exit__(self, *exc):
        self.s.close()
        self.engine.dispose()


def _sql(o: Office, *statements: str, **params) -> None:
    """The attacker: plain SQL, outside mailflow."""
    engine = db.make_engine(o.cfg.database)
    with engine.begin() as c:
        for st in statements:
            c.execute(sa.text(st), params)
    engine.dispose()


def _found(o: Office, cp: Path | None = None, public: Path | None = None) -> list[str]:
    """What verify finds, as short codes: chain, <kind> <table>.<column>, checkpoint <kind>."""
    with _session(o) as s:
        v = journal.verify(s)
        r = replay.compare(s)
        anchored = (
            checkpoint.check(s, checkpoint.load(cp), checkpoint.public_key(public)) if cp and public else []
        )
    out = [] if v.ok else ["chain"]
    out += [f"{m.kind} {m.table}.{m.column or '*'}" for m in r.mismatches]
    out += [f"checkpoint {f.kind}" for f in anchored]
    return out


def _descriptions(o: Office) -> list[str]:
    with _session(o) as s:
        return [m.describe() for m in replay.compare(s).mismatches]


def _anchor(o: Office, tmp_path: Path) -> tuple[CheckpointConfig, Path]:
    key = tmp_path / "keys" / "checkpoint.key"
    key.parent.mkdir(parents=True)
    pub, _ = checkpoint.keygen(key)
    return CheckpointConfig(
        dir=tmp_path / "checkpoints", archive_to=ARCHIVE, key_file=key, public_key=pub
    ), pub


def _checkpoint(o: Office, anchor: CheckpointConfig) -> Path:
    with _session(o) as s, s.begin():
        head = journal.lock(s)
        _, path = checkpoint.issue(
            s, head, anchor, checkpoint.private_key(anchor), sender_addr="mailflow@localhost"
        )
    return path


def _rehash(o: Office, edit) -> None:
    """Rewrite the events with `edit(id, data) -> data` and recompute the whole chain and
    its head, as an attacker who read journal.py would."""
    with _session(o) as s, s.begin():
        prev = journal.GENESIS
        for ev in s.exec(select(Event).order_by(col(Event.id))).all():
            ev.data = journal.canonical(edit(ev.id, json.loads(ev.data)))
            ev.prev_hash = prev
            ev.hash = prev = journal.event_hash(prev, ev.type, ev.at, ev.document_id, ev.inbound_id, ev.data)
            s.add(ev)
        s.flush()
        last = s.exec(select(sa.func.max(Event.id))).one() or 0
        s.execute(sa.update(ChainHead).values(last_event_id=last, last_hash=prev))


def _at(o: Office, at: dt.datetime) -> dt.datetime:
    """A time as the attacker's SQL writes it: SQLite's columns hold naive UTC."""
    return at.replace(tzinfo=None) if o.cfg.database.startswith("sqlite") else at


def _ids(o: Office, table: str) -> list[int]:
    with _session(o) as s:
        return list(s.execute(sa.text(f"SELECT id FROM {table} ORDER BY id")).scalars())


# --- the tables against the events --------------------------------------------


def test_an_untouched_journal_passes_and_every_row_is_covered(office):
    assert _found(office) == []
    with _session(office) as s:
        r = replay.compare(s)
    counts = {t.table: (t.rows, t.covered, t.not_covered) for t in r.tables}
    for table in (
        "document",
        "resolution",
        "assignment",
        "delivery",
        "receipt",
        "answer",
        "attachment",
        "extension",
    ):
        rows, covered, not_covered = counts[table]
        assert rows >= 1 and covered == rows and not_covered == 0, (table, counts[table])


ROW_EDITS = [
    ("document", "last_name", "UPDATE document SET last_name = 'Подделкин'", "'Подделкин'"),
    ("document", "address", "UPDATE document SET address = 'ул. Ложная, 1'", "'ул. Ложная, 1'"),
    ("document", "text", "UPDATE document SET text = text || ' (и ещё)'", "sha256:"),
    ("resolution", "text", "UPDATE resolution SET text = 'Оставить без рассмотрения.'", "'Оставить без"),
    ("resolution", "due_date", "UPDATE resolution SET due_date = :far", "'2031-01-01'"),
    ("document", "due_date", "UPDATE document SET due_date = :far", "'2031-01-01'"),
    (
        "assignment",
        "email",
        "UPDATE assignment SET email = 'friend@sevkaz.example'",
        "'friend@sevkaz.example'",
    ),
    ("delivery", "delivered_at", "UPDATE delivery SET delivered_at = :early", "2026-01-01"),
    ("delivery", "displayed_at", "UPDATE delivery SET displayed_at = :early", "2026-01-01"),
    ("answer", "holder", "UPDATE answer SET holder = 'friend@sevkaz.example'", "'friend@sevkaz.example'"),
    ("receipt", "action", "UPDATE receipt SET action = 'failed'", "'failed'"),
    ("document", "status", "UPDATE document SET status = 'closed'", "'closed'"),
    ("extension", "new_due", "UPDATE extension SET new_due = :far", "'2031-01-01'"),
    ("extension", "reason", "UPDATE extension SET reason = 'так решили'", "'так решили'"),
]


@pytest.mark.parametrize(
    ("table", "column", "statement", "shown"), ROW_EDITS, ids=[f"{t}.{c}" for t, c, *_ in ROW_EDITS]
)
def test_a_row_edited_by_sql_is_named_with_both_values(office, table, column, statement, shown):
    _sql(
        office,
        statement,
        far=dt.date(2031, 1, 1),
        early=_at(office, dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)),
    )
    assert f"changed {table}.{column}" in _found(office)
    said = [d for d in _descriptions(office) if f"({table}): поле {column}:" in d]
    assert said and shown in said[0].split("в таблице", 1)[1].split("по событиям", 1)[0], said


def test_a_correction_undone_by_sql_is_named(office):
    _sql(office, "UPDATE document SET address = 'г. Петропавловск'")
    [said] = _descriptions(office)
    assert "поле address" in said and "по событиям 'г. Петропавловск, ул. Абая, 5'" in said


def test_any_writer_through_the_orm_is_covered_without_asking(office):
    """A step of the answer written as a fixture would, with no act's event: the
    commit seals it into an event of its own, and an edit of the file's hash is found."""
    [doc] = _ids(office, "document")
    with _session(office) as s, s.begin():
        journal.lock(s)
        s.add(
            Move(
                document_id=doc,
                from_stage="draft",
                to_stage="head_review",
                word="НА СОГЛАСОВАНИЕ",
                by=PETROV,
                at=dt.datetime.now(dt.UTC),
                filename="ответ.docx",
                sha256="a" * 64,
            )
        )
    with _session(office) as s:
        last = s.exec(select(Event).order_by(col(Event.id).desc())).first()
    assert last is not None and last.type == journal.COVERED and '"move"' in last.data
    assert _found(office) == []
    _sql(office, "UPDATE move SET sha256 = :h", h="b" * 64)
    assert _found(office) == ["changed move.sha256"]


def test_a_deleted_resolution_is_missing(office):
    [res] = _ids(office, "resolution")
    _sql(
        office,
        "DELETE FROM assignment WHERE resolution_id = :r",
        "DELETE FROM resolution WHERE id = :r",
        r=res,
    )
    found = _found(office)
    assert "missing resolution.*" in found and "missing assignment.*" in found
    assert any(f"резолюция #{res}" in d and "удалена" in d for d in _descriptions(office))


def test_a_forged_resolution_inserted_by_sql_is_not_in_the_events(office):
    [doc] = _ids(office, "document")
    _sql(
        office,
        "INSERT INTO resolution (document_id, text, instruction, due_date, due_source, author, source, created_at, current)"
        " VALUES (:d, 'Отказать.', '', :due, 'resolution', 'director@sevkaz.example', 'email', :at, :cur)",
        d=doc,
        due=dt.date(2026, 12, 31),
        at=_at(office, dt.datetime(2026, 6, 1, tzinfo=dt.UTC)),
        cur=True,
    )
    [_, forged] = _ids(office, "resolution")
    assert _found(office) == ["unknown resolution.*"]
    assert any(f"#{forged}" in d and "мимо журнала" in d for d in _descriptions(office))


def test_events_from_before_they_carried_rows_are_not_covered_not_alarmed(office):
    """A journal written before this release: its events carry no rows."""
    _rehash(office, lambda _id, data: {k: v for k, v in data.items() if k != "covers"})
    assert _found(office) == []
    with _session(office) as s:
        r = replay.compare(s)
    assert r.events == 0 and r.not_covered == sum(t.rows for t in r.tables) > 0
    _sql(office, "UPDATE document SET last_name = 'Подделкин'")  # not seen: nothing recorded it
    assert _found(office) == []


# --- the chain against a signed checkpoint ------------------------------------


@pytest.fixture
def anchored(office, tmp_path):
    """The office's journal with a checkpoint taken now: (office, checkpoint file, public key)."""
    anchor, pub = _anchor(office, tmp_path)
    return office, _checkpoint(office, anchor), pub


def test_the_checkpoint_holds_for_an_untouched_journal_that_grew_since(anchored):
    o, cp, pub = anchored
    assert _found(o, cp, pub) == []
    o.send(
        o.reply(
            "Сидоренко — рассмотреть.", frm="ayyrtau-res@sevkaz.example", in_reply_to=None, subject="Жалоба"
        )
    )
    assert _found(o, cp, pub) == []


def test_a_rewrite_with_every_hash_recomputed_is_found_only_by_the_checkpoint(anchored):
    """The resolution's text changed in its table, in its event and in the rows the
    events carry, and the chain recomputed: consistent, but not what was signed."""
    o, cp, pub = anchored

    def forged(_id, data):
        text = json.dumps(data, ensure_ascii=False).replace("Петрову — рассмотреть", "Петрову — отказать")
        return json.loads(text)

    _sql(o, "UPDATE resolution SET text = REPLACE(text, 'Петрову — рассмотреть', 'Петрову — отказать')")
    _rehash(o, forged)
    with _session(o) as s:
        assert "отказать" in s.execute(sa.text("SELECT text FROM resolution")).scalar_one()
    assert _found(o) == []  # the chain and the tables agree with each other
    assert _found(o, cp, pub) == ["checkpoint rewritten"]


def test_a_truncation_with_chain_head_set_back_is_found_by_the_checkpoint(anchored):
    o, cp, pub = anchored
    signed = checkpoint.load(cp)
    with _session(o) as s:
        keep = s.exec(
            select(Event).where(Event.id < signed.last_event_id - 1).order_by(col(Event.id).desc())
        ).first()
    assert keep is not None
    _sql(
        o,
        "DELETE FROM event WHERE id > :keep",
        "UPDATE chain_head SET last_event_id = :keep, last_hash = :hash",
        keep=keep.id,
        hash=keep.hash,
    )
    found = _found(o, cp, pub)
    assert "chain" not in found and "checkpoint truncated" in found, found


def test_a_reset_to_an_empty_journal_is_found_by_the_checkpoint(anchored):
    o, cp, pub = anchored
    tables = ("receipt", "delivery", "assignment", "resolution", "answer", "move", "extension", "attachment")
    _sql(
        o,
        *(f"DELETE FROM {t}" for t in tables),
        "UPDATE inbound SET document_id = NULL",
        "DELETE FROM event",
        "DELETE FROM outbox",
        "DELETE FROM token",
        "DELETE FROM monitoring",
        "DELETE FROM document",
        "UPDATE counter SET last = 0",
        "UPDATE chain_head SET last_event_id = 0, last_hash = :genesis",
        genesis=journal.GENESIS,
    )
    assert _found(o) == []  # an empty journal is a valid one
    assert _found(o, cp, pub) == ["checkpoint reset"]


def test_a_journal_reset_and_filled_again_is_found_by_the_checkpoint(anchored):
    """Reset, then new mail registered: more events than were signed, none of them it."""
    o, cp, pub = anchored
    signed = checkpoint.load(cp)
    _sql(o, "DELETE FROM event", "UPDATE chain_head SET last_event_id = 0, last_hash = :g", g=journal.GENESIS)
    for _ in range(15):  # SQLite numbers the events from 1 again; PostgreSQL's sequence goes on
        o.send(
            o.reply(
                "Петрову — рассмотреть.", frm="ayyrtau-res@sevkaz.example", in_reply_to=None, subject="Жалоба"
            )
        )
        if _ids(o, "event")[-1] > signed.last_event_id:
            break
    assert _ids(o, "event")[-1] > signed.last_event_id
    found = _found(o, cp, pub)
    assert "chain" not in found and "checkpoint rewritten" in found, found


def test_a_checkpoint_signed_by_another_key_is_refused(anchored, tmp_path):
    o, _, pub = anchored
    other, _ = _anchor(o, tmp_path / "intruder")
    forged = _checkpoint(o, dataclasses.replace(other, dir=tmp_path / "forged"))
    assert _found(o, forged, pub) == ["checkpoint signature"]
    with _session(o) as s:
        [finding] = checkpoint.check(s, checkpoint.load(forged), checkpoint.public_key(pub))
    assert "другим ключом" in finding.text


@pytest.mark.parametrize("field", ["events", "last_event_id", "head", "at"])
def test_a_checkpoint_file_edited_is_refused(anchored, field):
    o, cp, pub = anchored
    data = json.loads(cp.read_text())
    data[field] = {"events": 1, "last_event_id": 2, "head": "0" * 64, "at": "2026-01-01T00:00:00+00:00"}[
        field
    ]
    cp.write_text(json.dumps(data))
    assert _found(o, cp, pub) == ["checkpoint signature"]
    with _session(o) as s:
        [finding] = checkpoint.check(s, checkpoint.load(cp), checkpoint.public_key(pub))
    assert "изменён" in finding.text


# --- keys and the [checkpoint] section ----------------------------------------


def _config(tmp_path: Path, section: str, database: str | None = None) -> Path:
    f = tmp_path / "mailflow.toml"
    f.write_text(
        (f'database = "{database}"\n' if database else "")
        + f'home = "data"\nrules = "{REPO / "rules"}"\n[[mailbox]]\nname = "inbox"\nurl = "maildir:data/inbox"\n'
        f'[smtp]\nurl = "maildir:data/outbox"\nsender = "mailflow@sevkaz.example"\n{section}',
        encoding="utf-8",
    )
    return f


def test_the_checkpoint_section_resolves_its_files_and_refuses_typos(tmp_path):
    cfg = config.load(
        _config(
            tmp_path,
            '[checkpoint]\ndir = "data/checkpoints"\narchive_to = "archive@sevkaz.example"\n'
            'key_file = "keys/cp.key"\npublic_key = "keys/cp.key.pub"\n',
        )
    )
    assert cfg.checkpoint == CheckpointConfig(
        dir=tmp_path / "data" / "checkpoints",
        archive_to="archive@sevkaz.example",
        key_file=tmp_path / "keys" / "cp.key",
        public_key=tmp_path / "keys" / "cp.key.pub",
    )
    assert config.load(_config(tmp_path, "")).checkpoint is None
    for section, key in (
        ('[checkpoint]\ndir = "c"\nkey_flie = "k"\n', "checkpoint.key_flie"),
        ('[checkpoint]\ndir = "c"\nkey_file = "k"\nkey_credential = "k"\n', "checkpoint.key_credential"),
        ('[checkpoint]\ndir = "c"\narchive_to = "archive"\n', "checkpoint.archive_to"),
        ('[checkpoint]\nkey_file = "k"\n', "checkpoint.dir"),
    ):
        with pytest.raises(ConfigError) as exc:
            config.load(_config(tmp_path, section))
        assert exc.value.key == key, section


def test_the_key_comes_from_a_file_or_a_systemd_credential(tmp_path, monkeypatch):
    key = tmp_path / "cp.key"
    pub, pem = checkpoint.keygen(key)
    assert key.stat().st_mode & 0o777 == 0o600 and pub.read_text() == pem
    with pytest.raises(checkpoint.KeyProblem, match="уже есть"):
        checkpoint.keygen(key)  # never over a key in use
    signing = checkpoint.private_key(CheckpointConfig(dir=tmp_path, key_file=key))
    assert checkpoint.key_id(signing.public_key()) == checkpoint.key_id(checkpoint.public_key(pub))
    by_credential = CheckpointConfig(dir=tmp_path, key_credential="cp.key")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(checkpoint.KeyProblem, match="CREDENTIALS_DIRECTORY"):
        checkpoint.private_key(by_credential)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert checkpoint.key_id(checkpoint.private_key(by_credential).public_key()) == checkpoint.key_id(
        signing.public_key()
    )
    with pytest.raises(checkpoint.KeyProblem, match="Ed25519"):
        checkpoint.private_key(CheckpointConfig(dir=tmp_path, key_file=pub))  # the public half
    with pytest.raises(checkpoint.KeyProblem, match="Ed25519"):
        checkpoint.public_key(key)  # the private half


# --- the commands, the daily sweep, the status ---------------------------------


class Installed:
    """A home run from a config file with a [checkpoint] section, through the CLI."""

    def __init__(self, tmp_path: Path, capsys, database: str | None = None):
        self.tmp, self.capsys = tmp_path, capsys
        self.file = _config(
            tmp_path,
            '[checkpoint]\ndir = "data/checkpoints"\narchive_to = "archive@sevkaz.example"\n'
            'key_file = "keys/cp.key"\npublic_key = "keys/cp.key.pub"\n',
            database,
        )
        self.cfg = config.load(self.file)
        self.rules = rules_mod.load(self.cfg.rules_dir)
        deliver(self.cfg.home / "inbox", text_appeal(body="Направляю жалобу потребителя"), "m1")
        daemon.run_once(self.cfg, self.rules, recognize=fake_recognizer())

    def mf(self, *args: str) -> tuple[int, str, str]:
        rc = cli.main(["--config", str(self.file), *args])
        out = self.capsys.readouterr()
        return rc, out.out, out.err

    def archived(self) -> list:
        folder = self.cfg.home / "outbox" / "new"
        mails = [
            email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in sorted(folder.glob("*"))
        ]
        return [m for m in mails if m["To"] == ARCHIVE]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_keygen_checkpoint_and_verify_from_the_command_line(tmp_path, capsys, kind):
    with database_urls(tmp_path, kind) as url:
        _command_line(Installed(tmp_path, capsys, url if kind == "postgresql" else None), tmp_path)


def _command_line(home: Installed, tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    rc, out, _ = home.mf("journal", "keygen", str(tmp_path / "keys" / "cp.key"))
    assert (
        rc == 0
        and "BEGIN PUBLIC KEY" in out
        and (tmp_path / "keys" / "cp.key").stat().st_mode & 0o777 == 0o600
    )
    assert home.mf("journal", "keygen", str(tmp_path / "keys" / "cp.key"))[0] == 2  # not over it
    rc, out, _ = home.mf("journal", "checkpoint")
    assert rc == 0, out
    [cp] = sorted((home.cfg.home / "checkpoints").glob("checkpoint-*.json"))
    [mail] = home.archived()  # mailed at once, the file attached
    [part] = [p for p in mail.iter_attachments()]
    assert part.get_filename() == cp.name and part.get_content() == cp.read_bytes()

    with _session(home) as s:
        number = s.exec(select(Document.number)).one()
    rc, out, _ = home.mf("journal", "show", number)  # the rows events carry are not the history's
    assert rc == 0 and "routed" in out and '"covers"' not in out and "sha256:" not in out, out

    rc, out, _ = home.mf("journal", "verify")  # the newest checkpoint of [checkpoint] dir, its public key
    assert rc == 0 and "сходится" in out, out

    _sql(home, "UPDATE document SET last_name = 'Подделкин'")
    rc, out, _ = home.mf("journal", "verify", "--checkpoint", str(cp))
    assert rc == 1 and "Подделкин" in out and "поле last_name" in out, out

    with _session(home) as s:
        first = s.exec(select(Event).order_by(col(Event.id))).first()
    assert first is not None
    _sql(
        home,
        "DELETE FROM event WHERE id > :id",
        "UPDATE chain_head SET last_event_id = :id, last_hash = :h",
        id=first.id,
        h=first.hash,
    )
    rc, out, _ = home.mf("journal", "verify")
    assert rc == 1 and "усечён" in out, out


def test_verify_exits_2_on_a_key_or_checkpoint_file_it_cannot_use(tmp_path, capsys):
    home = Installed(tmp_path, capsys)
    (tmp_path / "keys").mkdir()
    home.mf("journal", "keygen", str(tmp_path / "keys" / "cp.key"))
    assert home.mf("journal", "checkpoint")[0] == 0
    [cp] = sorted((home.cfg.home / "checkpoints").glob("checkpoint-*.json"))
    garbled = tmp_path / "garbled.json"
    garbled.write_text("{not json")
    for args, said in (
        (("--checkpoint", str(garbled)), "не читается"),
        (("--checkpoint", str(tmp_path / "none.json")), "не прочитан"),
        (("--checkpoint", str(cp), "--public-key", str(tmp_path / "keys" / "cp.key")), "Ed25519"),
    ):
        rc, _, err = home.mf("journal", "verify", *args)
        assert rc == 2 and said in err, (args, err)
    (tmp_path / "keys" / "cp.key").unlink()
    rc, _, err = home.mf("journal", "checkpoint")
    assert rc == 2 and "не прочитан" in err


def test_the_daily_sweep_makes_one_checkpoint_a_day_and_status_shows_its_age(tmp_path, capsys):
    home = Installed(tmp_path, capsys)
    (tmp_path / "keys").mkdir()
    home.mf("journal", "keygen", str(tmp_path / "keys" / "cp.key"))
    assert home.cfg.checkpoint is not None
    engine = db.make_engine(home.cfg.database)
    try:
        assert status.read(home.cfg, engine).checkpoint_at is None
        now = dt.datetime.now(dt.UTC)
        made = [
            sweeps.checkpoint(engine, home.cfg.checkpoint, "mailflow@sevkaz.example", now) for _ in range(2)
        ]
        assert made == [1, 0]
        tomorrow = now + dt.timedelta(days=1)
        assert sweeps.checkpoint(engine, home.cfg.checkpoint, "mailflow@sevkaz.example", tomorrow) == 1
        st = status.read(home.cfg, engine)
    finally:
        engine.dispose()
    assert st.checkpoint_at is not None and (dt.datetime.now(dt.UTC) - st.checkpoint_at).total_seconds() < 600
    assert "mailflow_last_checkpoint_timestamp_seconds" in status.prometheus(st)
    assert len(list((home.cfg.home / "checkpoints").glob("checkpoint-*.json"))) == 2
    daemon.run_once(home.cfg, home.rules, recognize=fake_recognizer())  # today's is made: none more
    assert len(home.archived()) == 2
    rc, out, _ = home.mf("status")
    assert rc == 0 and "Контрольная точка:" in out and "ч назад" in out
