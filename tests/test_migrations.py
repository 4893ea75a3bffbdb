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
        assert diff == []
