"""per-person API tokens made at the workplace (`Authorization: Bearer …`), kept hashed

Revision ID: 0020
Revises: 0021 (merged after the mailbox leases; 0019 came before 0018, see 0018_absences.py)
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mailflow.models

revision = "0020"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("created_at", mailflow.models.AwareDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", mailflow.models.AwareDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", mailflow.models.AwareDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_api_token_email", "api_token", ["email"])


def downgrade() -> None:
    op.drop_index("ix_api_token_email", table_name="api_token")
    op.drop_table("api_token")
