"""Engine and schema: SQLite (WAL) and PostgreSQL from the same code.

Migrations run at start, under a lock, so two daemons starting together do
not race. SQLite transactions begin IMMEDIATE: the writer lock is taken at the
start, as PostgreSQL's row locks would be, so a registration never fails half
way through on a lock upgrade.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATE_LOCK = 720_514  # PostgreSQL advisory lock id for migrations


READ = "mailflow_read"


def reader(engine: sa.Engine) -> sa.Engine:
    """The same engine for a transaction that only reads: on SQLite a deferred
    BEGIN (a WAL snapshot, no write lock); on PostgreSQL reads never lock anyway."""
    return engine.execution_options(**{READ: True})


def among(s: Session, column: Any, values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """`column IN values` for a long list of values. PostgreSQL gets one array
    parameter (`= ANY`): an IN list is a placeholder per value, which the
    driver and the server each parse (a few thousand ids cost more than the
    index lookups they ask for). SQLite, in-process, gets the IN list."""
    values = list(values)
    if s.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam("among", values, unique=True, type_=ARRAY(column.type)))
    return column.in_(values)


def insert_rows(
    s: Session, table: sa.Table, rows: list[dict[str, Any]], *, upsert: Sequence[str] = ()
) -> None:
    """Insert many rows of the same columns, in their order (ids follow it), in the
    session's transaction.

    PostgreSQL gets them by COPY: an executemany is a statement a row, whose
    binding costs the writer ten times the rows' writing (a sweep's thousands of
    chases and events, under the writer lock). `upsert`: the key columns of an
    ON CONFLICT … DO UPDATE of the others, which COPY cannot do: one statement
    of one array a column then. SQLite, in-process, gets SQLAlchemy's executemany."""
    if not rows:
        return
    cols = list(rows[0])
    dialect = s.get_bind().dialect
    if dialect.name != "postgresql":
        stmt: Any = sqlite_insert(table)
        if upsert:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(upsert), set_={c: stmt.excluded[c] for c in cols if c not in upsert}
            )
        s.execute(stmt, rows)
        return
    binds = [table.c[c].type.bind_processor(dialect) for c in cols]  # aware timestamps in UTC, …
    converted = [[b(r[c]) if b else r[c] for c, b in zip(cols, binds, strict=True)] for r in rows]
    prep = dialect.identifier_preparer
    names = ", ".join(prep.quote(c) for c in cols)
    if not upsert:
        raw = s.connection().connection.driver_connection  # psycopg's, in this transaction
        with raw.cursor() as cur, cur.copy(f"COPY {prep.format_table(table)} ({names}) FROM STDIN") as copy:
            for row in converted:
                copy.write_row(row)
        return
    arrays = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in cols)
    updates = ", ".join(f"{prep.quote(c)} = excluded.{prep.quote(c)}" for c in cols if c not in upsert)
    sql = (
        f"INSERT INTO {prep.format_table(table)} ({names}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(prep.quote(c) for c in upsert)}) DO UPDATE SET {updates}"
    )
    s.execute(sa.text(sql), {c: [row[i] for row in converted] for i, c in enumerate(cols)})


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60, "isolation_level": None})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # writers take SQLite's write lock up front (no upgrade deadlocks);
            # a reader's snapshot (WAL) takes none, so planning never blocks a writer
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ) else "BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def constraint_of(exc: sa.exc.IntegrityError) -> str:
    """The name of the constraint an IntegrityError broke (PostgreSQL names it;
    SQLite names the columns, which are looked up in the models' constraints)."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return str(diag.constraint_name)
    text = str(exc.orig)
    if ":" not in text:
        return text
    columns = [c.strip() for c in text.split(":", 1)[1].split(",")]
    table = columns[0].split(".", 1)[0]
    names = {c.split(".", 1)[-1] for c in columns}
    t = SQLModel.metadata.tables.get(table)
    if t is not None:
        for con in [*t.constraints, *t.indexes]:
            if isinstance(con, (sa.UniqueConstraint, sa.Index)) and {c.name for c in con.columns} == names:
                if con.name:
                    return str(con.name)
    return text.split(":", 1)[1].strip()


class NoJournal(Exception):
    """A command that only reads found no journal, or one whose schema is behind."""


def schema_revision(engine: sa.Engine) -> tuple[str | None, str]:
    """(the database's migration, the newest migration this mailflow knows)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head() or ""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision(), head


def reading_engine(url: str) -> sa.Engine:
    """The journal's engine for commands that only read: never creates or migrates it.

    A mistyped --home must not quietly make a new empty journal ("Журнал пуст").
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            raise NoJournal(f"журнала нет: {path} (проверьте --home или --config; его создаёт mailflow run)")
    engine = make_engine(url)
    try:
        current, head = schema_revision(engine)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise NoJournal(f"журнал недоступен: {exc.orig}") from None
    if current is None:
        engine.dispose()
        raise NoJournal("в базе нет журнала mailflow (его создаёт mailflow run или mailflow migrate)")
    if current != head:
        engine.dispose()
        raise NoJournal(f"схема журнала устарела ({current}, нужна {head}): выполните mailflow migrate")
    return engine


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest migration."""
    with _migration_lock(engine):
        with engine.begin() as conn:
            cfg = AlembicConfig()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")


@contextlib.contextmanager
def _migration_lock(engine: sa.Engine):
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATE_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATE_LOCK})
                conn.commit()
        return
    path = engine.url.database
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def session(engine: sa.Engine) -> Session:
    return Session(engine, expire_on_commit=False)
