"""Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from mailflow import db, models  # noqa: F401
from tests.support import database_urls


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_match_models(tmp_path, kind):
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        db.migrate(engine)  # idempotent at every start
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        engine.dispose()
        assert [d for d in diff if not _search_structure(d)] == []


def _search_structure(diff) -> bool:
    """The search index of migration 0011 lives outside the models on purpose: a
    pg_trgm GIN index, or an FTS5 table (and its shadow tables) on SQLite."""
    obj = diff[1] if isinstance(diff, tuple) and len(diff) > 1 else None
    name = getattr(obj, "name", "") or ""
    return name == "ix_document_search_trgm" or name.startswith("document_fts")


def _upgrade(engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    with engine.begin() as conn:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(db.MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_old_statuses_become_case_states(tmp_path, kind):
    """0009: resolved/forwarded → in_work, a dispatched answer → answered (at its dispatch
    time), closed stays closed; the answer's stage moves onto the document."""
    import datetime as dt

    import sqlalchemy as sa

    (tmp_path / "home").mkdir()
    t0 = dt.datetime(2026, 4, 1, 5, tzinfo=dt.UTC)
    sent = dt.datetime(2026, 4, 10, 6, tzinfo=dt.UTC)
    shut = dt.datetime(2026, 4, 12, 7, tzinfo=dt.UTC)
    # number: (old status, answer stage or None, dispatched_at, closed_at)
    old = {
        1: ("registered", None, None, None),
        2: ("on_resolution", None, None, None),
        3: ("resolved", None, None, None),
        4: ("forwarded", "head_review", None, None),
        5: ("forwarded", "dispatched", sent, None),
        6: ("closed", "closed", sent, shut),
        7: ("closed", "closed", None, shut),
        8: ("forwarded", None, None, None),
    }
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        _upgrade(engine, "0008")
        pg = engine.dialect.name == "postgresql"

        def ts(v):
            return v if v is None or pg else v.replace(tzinfo=None)

        with engine.begin() as c:
            for n, (status, stage, dispatched, closed) in old.items():
                c.execute(
                    sa.text(
                        "INSERT INTO document (id, journal, year, seq, number, registered_at, received_at, "
                        "channel, sha256, needs_review, confidence, status, closed_at, talon, text) VALUES "
                        "(:n, 'dp', 2026, :n, :num, :t, :t, 'res', 'x', '[]', '{}', :st, :closed, true, '')"
                    ),
                    dict(n=n, num=f"ВХ-2026-{n:06d}", t=ts(t0), st=status, closed=ts(closed)),
                )
                if stage:
                    c.execute(
                        sa.text(
                            "INSERT INTO answer (document_id, stage, updated_at, dispatched_at) "
                            "VALUES (:n, :stage, :t, :d)"
                        ),
                        dict(n=n, stage=stage, t=ts(t0), d=ts(dispatched)),
                    )
        db.migrate(engine)
        with engine.connect() as c:
            rows = {
                r.id: r
                for r in c.execute(sa.text("SELECT id, status, stage, answered_at, closed_at FROM document"))
            }
            answer_cols = {col["name"] for col in sa.inspect(c).get_columns("answer")}
        engine.dispose()

    def utc(v):  # SQLite gives back its text, naive UTC
        if isinstance(v, str):
            v = dt.datetime.fromisoformat(v)
        return None if v is None else (v if v.tzinfo else v.replace(tzinfo=dt.UTC))

    got = {n: (r.status, r.stage, utc(r.answered_at)) for n, r in rows.items()}
    assert got == {
        1: ("registered", None, None),
        2: ("on_resolution", None, None),
        3: ("in_work", None, None),
        4: ("in_work", "head_review", None),
        5: ("answered", "dispatched", sent),
        6: ("closed", "closed", sent),
        7: ("closed", "closed", shut),
        8: ("in_work", None, None),
    }
    assert "stage" not in answer_cols


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_extensions_before_0016_are_marked_untracked_not_chased(tmp_path, kind):
    """0016: an extension recorded before the applicant's notice was tracked is marked so
    (at its own time), so the sweep does not now chase the clerk about it; a new one is untold."""
    import datetime as dt

    import sqlalchemy as sa

    (tmp_path / "home").mkdir()
    t0 = dt.datetime(2026, 4, 1, 5, tzinfo=dt.UTC)
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        _upgrade(engine, "0013")
        t = t0 if engine.dialect.name == "postgresql" else t0.replace(tzinfo=None)
        with engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO extension (document_id, old_due, new_due, reason, author, created_at, "
                    "tell_applicant_by) VALUES (1, '2026-04-20', '2026-05-20', 'выезд', 'director@x', :t, "
                    "'2026-04-06')"
                ),
                dict(t=t),
            )
        db.migrate(engine)
        with engine.connect() as c:
            row = c.execute(sa.text("SELECT applicant_told_at, applicant_told_how FROM extension")).one()
            names = {i["name"] for i in sa.inspect(c).get_indexes("extension")}
            tables = set(sa.inspect(c).get_table_names())
        engine.dispose()
    told = row.applicant_told_at  # SQLite gives back its text, naive UTC
    told = dt.datetime.fromisoformat(told) if isinstance(told, str) else told
    assert (told if told.tzinfo else told.replace(tzinfo=dt.UTC)) == t0
    assert "не отслеживалось" in row.applicant_told_how
    assert "ix_extension_untold" in names and "extension_request" in tables


def _downgrade(engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    with engine.begin() as conn:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(db.MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_chase_marks_leave_the_document_table(tmp_path, kind):
    """0015: document.chased_on becomes rows of chase_mark (the last day's, with the
    due date in force); on SQLite the column goes without a rebuild of `document`,
    so the search triggers of 0011 stay; back down, the column returns, empty."""
    import datetime as dt

    import sqlalchemy as sa

    (tmp_path / "home").mkdir()
    day1, day2 = dt.date(2026, 4, 22), dt.date(2026, 4, 23)
    # id: (chased_on, due_date)
    old = {1: (day1, dt.date(2026, 5, 1)), 2: (day2, dt.date(2026, 5, 4)), 3: (None, dt.date(2026, 5, 5))}
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        _upgrade(engine, "0013")
        with engine.begin() as c:
            for n, (chased, due) in old.items():
                c.execute(
                    sa.text(
                        "INSERT INTO document (id, journal, year, seq, number, registered_at, received_at, "
                        "channel, sha256, needs_review, confidence, status, talon, text, search, due_date, "
                        "chased_on) VALUES (:n, 'dp', 2026, :n, :num, :t, :t, 'res', 'x', '[]', '{}', "
                        "'in_work', true, '', :search, :due, :chased)"
                    ),
                    dict(
                        n=n,
                        num=f"ВХ-2026-{n:06d}",
                        t=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
                        search=f"ахметов {n}",
                        due=due,
                        chased=chased,
                    ),
                )
        db.migrate(engine)
        with engine.connect() as c:
            marks = set(c.execute(sa.text("SELECT document_id, day, due_date FROM chase_mark")).all())
            columns = {col["name"] for col in sa.inspect(c).get_columns("document")}
            if kind == "sqlite":
                c.execute(sa.text("UPDATE document SET search = 'сатпаев' WHERE id = 3"))
                found = c.execute(
                    sa.text("SELECT rowid FROM document_fts WHERE document_fts MATCH 'сатпаев'")
                ).all()
                c.commit()
        _downgrade(engine, "0013")
        with engine.connect() as c:
            columns_down = {col["name"] for col in sa.inspect(c).get_columns("document")}
            tables_down = set(sa.inspect(c).get_table_names())
        engine.dispose()

    def day(v):  # SQLite gives back its text
        return dt.date.fromisoformat(v) if isinstance(v, str) else v

    assert {(i, day(d), day(due)) for i, d, due in marks} == {(2, day2, dt.date(2026, 5, 4))}
    assert "chased_on" not in columns
    if kind == "sqlite":
        assert [tuple(r) for r in found] == [(3,)]  # the search triggers still keep the index
    assert "chased_on" in columns_down and "chase_mark" not in tables_down


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_field_crops_column_up_and_down(tmp_path, kind):
    """0019: document.crops arrives empty ('{}') on the rows already there, without a
    rebuild of `document` on SQLite (the search triggers of 0011 stay); down, it goes."""
    import datetime as dt

    import sqlalchemy as sa

    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        _upgrade(engine, "0016")
        with engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO document (id, journal, year, seq, number, registered_at, received_at, "
                    "channel, sha256, needs_review, confidence, status, talon, text, search) VALUES "
                    "(1, 'dp', 2026, 1, 'ВХ-2026-000001', :t, :t, 'book', 'x', '[]', '{}', 'registered', "
                    "true, '', 'ахметов')"
                ),
                dict(t=dt.datetime(2026, 4, 1, tzinfo=dt.UTC)),
            )
        _upgrade(engine, "0019")
        with engine.connect() as c:
            crops = c.execute(sa.text("SELECT crops FROM document WHERE id = 1")).scalar_one()
            if kind == "sqlite":
                c.execute(sa.text("UPDATE document SET search = 'сатпаев' WHERE id = 1"))
                found = c.execute(
                    sa.text("SELECT rowid FROM document_fts WHERE document_fts MATCH 'сатпаев'")
                ).all()
                c.commit()
        _downgrade(engine, "0016")
        with engine.connect() as c:
            columns_down = {col["name"] for col in sa.inspect(c).get_columns("document")}
        engine.dispose()
    assert crops == "{}"
    if kind == "sqlite":
        assert [tuple(r) for r in found] == [(1,)]
    assert "crops" not in columns_down


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_0017_weekly_reports_and_decisions_up_and_down(tmp_path, kind):
    """0017: a token answers a case or a weekly report; down again, the reports' tokens go
    with the reports and the cases' stay."""
    import datetime as dt

    import sqlalchemy as sa

    (tmp_path / "home").mkdir()
    t = dt.datetime(2026, 4, 1, 5)
    row = "INSERT INTO token (token, purpose, document_id, message_id, created_at, expires_at) "
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        _upgrade(engine, "0016")
        with engine.begin() as c:
            c.execute(sa.text(row + "VALUES ('a', 'answer', 1, '<a@x>', :t, :t)"), dict(t=t))
        db.migrate(engine)
        with engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO token (token, purpose, report_id, message_id, created_at, expires_at) "
                    "VALUES ('r', 'report_review', 7, '<r@x>', :t, :t)"
                ),
                dict(t=t),
            )
            tables = set(sa.inspect(c).get_table_names())
        assert {"weekly_report", "suggestion_decision"} <= tables
        _downgrade(engine, "0016")
        with engine.connect() as c:
            kept = c.execute(sa.text("SELECT token, document_id FROM token")).all()
            tables = set(sa.inspect(c).get_table_names())
            columns = {col["name"]: col for col in sa.inspect(c).get_columns("token")}
        assert [tuple(k) for k in kept] == [("a", 1)]
        assert "weekly_report" not in tables and "report_id" not in columns
        assert columns["document_id"]["nullable"] is False
        db.migrate(engine)  # and up again
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_0018_absences_up_and_down(tmp_path, kind):
    """0018: the absences set by e-mail get their table; down, it goes, and up again."""
    import sqlalchemy as sa

    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        _upgrade(engine, "0019")
        with engine.connect() as c:
            assert "absence" not in sa.inspect(c).get_table_names()
        _upgrade(engine, "0018")
        with engine.connect() as c:
            columns = {col["name"] for col in sa.inspect(c).get_columns("absence")}
        _downgrade(engine, "0019")
        with engine.connect() as c:
            gone = "absence" not in sa.inspect(c).get_table_names()
        db.migrate(engine)
        engine.dispose()
    assert {"person", "substitute", "since", "until", "set_by", "set_at", "inbound_id"} <= columns and gone


def test_the_migrations_are_one_line():
    """Branches merged side by side leave two heads; `upgrade head` then refuses to start."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1, script.get_heads()
    revisions = list(script.walk_revisions())
    assert all(len(r._all_down_revisions) <= 1 for r in revisions), "a merge revision: re-chain instead"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_0020_api_tokens_up_and_down(tmp_path, kind):
    """0020: per-person API tokens get their table (hashes only); down, it goes, and up again."""
    import sqlalchemy as sa

    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        _upgrade(engine, "0018")
        with engine.connect() as c:
            assert "api_token" not in sa.inspect(c).get_table_names()
        _upgrade(engine, "0020")
        with engine.connect() as c:
            columns = {col["name"] for col in sa.inspect(c).get_columns("api_token")}
        _downgrade(engine, "0018")
        with engine.connect() as c:
            gone = "api_token" not in sa.inspect(c).get_table_names()
        db.migrate(engine)
        engine.dispose()
    assert {"token_hash", "prefix", "name", "email", "created_at", "revoked_at"} <= columns and gone
    assert "token" not in columns  # the token itself is never stored


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_0022_tokens_made_before_expire_at_the_longest_lifetime(tmp_path, kind):
    """0022: API tokens get `expires_at`; one made before it works for the longest
    lifetime the rules allow from when it was made (not forever, not stopped at once)."""
    import datetime as dt

    import sqlalchemy as sa
    from sqlmodel import Session, select

    from mailflow import access

    made = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        _upgrade(engine, "0020")
        token = sa.table(
            "api_token",
            *(sa.column(k) for k in ("token_hash", "prefix", "name", "email")),
            sa.column("created_at", models.AwareDateTime()),
        )
        with engine.begin() as c:
            c.execute(
                token.insert().values(
                    token_hash="h", prefix="mf_x", name="старый", email="kanc@sevkaz.example", created_at=made
                )
            )
        _upgrade(engine, "0022")
        with Session(engine) as s:
            row = s.exec(select(models.ApiToken)).one()
            expires = row.expires_at
        _downgrade(engine, "0020")
        with engine.connect() as c:
            gone = "expires_at" not in {col["name"] for col in sa.inspect(c).get_columns("api_token")}
        db.migrate(engine)
        engine.dispose()
    assert expires == made + dt.timedelta(days=access.MAX_TOKEN_DAYS) and gone
