"""where each recognised field was read: the card shows it beside the value

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, not batch mode: a SQLite batch rebuild of `document`
    # would drop the search triggers of 0011
    op.add_column('document', sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default='{}'))


def downgrade() -> None:
    op.drop_column('document', 'evidence')  # SQLite's own DROP COLUMN: no rebuild, the triggers of 0011 stay
