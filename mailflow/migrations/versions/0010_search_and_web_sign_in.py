"""search text on each document; web sign-in links and sessions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

`document.search` holds the folded fields the workplace searches
(mailflow.case.search); existing rows are filled here. `web_login` keeps
one-time sign-in links (hashed), `web_session` the signed-in browsers.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mailflow.models
from mailflow.case.search import search_text

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_FIELDS = ("id", "number", "last_name", "first_name", "patronymic", "address", "phone", "email",
           "org_name", "outgoing_number", "text")


class _Row:
    def __init__(self, row):
        for k in _FIELDS:
            setattr(self, k, getattr(row, k))


def upgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search", sa.Text(), nullable=False, server_default=""))
    conn = op.get_bind()
    doc = sa.table("document", *(sa.column(k) for k in (*_FIELDS, "search")))
    last = 0
    while True:
        rows = conn.execute(sa.select(*(doc.c[k] for k in _FIELDS)).where(doc.c.id > last)
                            .order_by(doc.c.id).limit(1000)).all()
        if not rows:
            break
        for r in rows:
            conn.execute(doc.update().where(doc.c.id == r.id).values(search=search_text(_Row(r))))
        last = rows[-1].id

    op.create_table(
        "web_login",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("created_at", mailflow.models.AwareDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", mailflow.models.AwareDateTime(timezone=True), nullable=False),
        sa.Column("used_at", mailflow.models.AwareDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_web_login_email", "web_login", ["email"])
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("csrf", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("created_at", mailflow.models.AwareDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", mailflow.models.AwareDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", mailflow.models.AwareDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_web_session_email", "web_session", ["email"])


def downgrade() -> None:
    op.drop_index("ix_web_session_email", table_name="web_session")
    op.drop_table("web_session")
    op.drop_index("ix_web_login_email", table_name="web_login")
    op.drop_table("web_login")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("search")
