"""mailbox leases with a fencing value, and the archive in the database (two machines on one PostgreSQL)

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import mailflow.models


revision = '0021'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mailbox_lease',
    sa.Column('mailbox', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('fence', sa.Integer(), nullable=False),
    sa.Column('taken_at', mailflow.models.AwareDateTime(timezone=True), nullable=False),
    sa.Column('renewed_at', mailflow.models.AwareDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', mailflow.models.AwareDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('mailbox')
    )
    op.create_table('archive_blob',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('stored_at', mailflow.models.AwareDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )


def downgrade() -> None:
    op.drop_table('archive_blob')
    op.drop_table('mailbox_lease')
