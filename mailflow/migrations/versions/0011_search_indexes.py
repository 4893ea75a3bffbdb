"""search indexes: trigram GIN on PostgreSQL, an FTS5 trigram table on SQLite

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

A search for a surname, a phone's digits or a word of an address is a
substring match on `document.search` (mailflow.case.search). PostgreSQL
answers it from a pg_trgm GIN index; SQLite from an FTS5 table with the
trigram tokenizer, kept in step with `document` by triggers. Both serve
LIKE '%…%' for terms of three characters or more.

A later migration that rebuilds `document` on SQLite (Alembic's batch mode
copies the table) drops these triggers with it and must create them again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SQLITE = (
    "CREATE VIRTUAL TABLE document_fts USING fts5(search, content='document', content_rowid='id', "
    "tokenize='trigram')",
    "INSERT INTO document_fts(rowid, search) SELECT id, search FROM document",
    "CREATE TRIGGER document_fts_ai AFTER INSERT ON document BEGIN "
    "INSERT INTO document_fts(rowid, search) VALUES (new.id, new.search); END",
    "CREATE TRIGGER document_fts_ad AFTER DELETE ON document BEGIN "
    "INSERT INTO document_fts(document_fts, rowid, search) VALUES ('delete', old.id, old.search); END",
    "CREATE TRIGGER document_fts_au AFTER UPDATE OF search ON document BEGIN "
    "INSERT INTO document_fts(document_fts, rowid, search) VALUES ('delete', old.id, old.search); "
    "INSERT INTO document_fts(rowid, search) VALUES (new.id, new.search); END",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_document_search_trgm ON document USING gin (search gin_trgm_ops)")
    else:
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_document_search_trgm")
    else:
        for name in ("document_fts_au", "document_fts_ad", "document_fts_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS document_fts")
