"""indexes that keep the sweeps to today's work: deliveries awaiting proof, answers sent lately

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

AWAITING = (
    "delivered_at IS NULL AND displayed_at IS NULL AND replied_at IS NULL"
    " AND failed_at IS NULL AND unproven_reported_at IS NULL"
)
def upgrade() -> None:
    # plain CREATE INDEX, not batch mode: a SQLite batch rebuild of `document`
    # would drop the search triggers of 0011
    op.create_index(
        'ix_delivery_awaiting_proof',
        'delivery',
        ['accepted_at'],
        unique=False,
        postgresql_where=sa.text(AWAITING),
        sqlite_where=sa.text(AWAITING),
    )
    op.create_index('ix_document_status_answered_at', 'document', ['status', 'answered_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_document_status_answered_at', table_name='document')
    op.drop_index('ix_delivery_awaiting_proof', table_name='delivery')
