"""API tokens expire (rules/access.toml `api_tokens.days`)

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-06

Tokens made before this revision get the longest lifetime the rules allow
(access.MAX_TOKEN_DAYS) from when they were made, rather than stopping at
once in the scripts that use them; their owners see the date at /tokens.
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

import mailflow.models

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

_DAYS = 730  # access.MAX_TOKEN_DAYS when this was written: a migration does not follow later code


def upgrade() -> None:
    # plain ADD COLUMN, as 0014: no batch rebuild on SQLite
    op.add_column("api_token", sa.Column("expires_at", mailflow.models.AwareDateTime(timezone=True), nullable=True))
    token = sa.table(
        "api_token",
        sa.column("id", sa.Integer()),
        sa.column("created_at", mailflow.models.AwareDateTime(timezone=True)),
        sa.column("expires_at", mailflow.models.AwareDateTime(timezone=True)),
    )
    conn = op.get_bind()
    for row in conn.execute(sa.select(token.c.id, token.c.created_at)).all():
        conn.execute(
            token.update()
            .where(token.c.id == row.id)
            .values(expires_at=row.created_at + dt.timedelta(days=_DAYS))
        )


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.drop_column("expires_at")
