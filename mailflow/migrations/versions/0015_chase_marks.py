"""chase marks: the reminder sweep's "planned today" in a narrow table of its own

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08

`document.chased_on` was written for each of the day's few thousand planned
cases by the first sweep of the day: on PostgreSQL every such update writes a
new row version into every index of `document` (the search trigrams' GIN among
them), ~0.2 ms a row at 1 M documents, most of a second a morning. The mark now
lives in `chase_mark` (one index) with the due date it was planned with, so a
new due date is planned again without resetting anything on `document`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chase_mark",
        sa.Column("document_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )
    # the last day's marks carried over (older ones would only be deleted again)
    op.execute(
        "INSERT INTO chase_mark (document_id, day, due_date) "
        "SELECT id, chased_on, due_date FROM document "
        "WHERE due_date IS NOT NULL AND chased_on = (SELECT max(chased_on) FROM document)"
    )
    # plain DROP COLUMN, not batch mode: a SQLite batch rebuild of `document`
    # would drop the search triggers of 0011 (SQLite has DROP COLUMN since 3.35)
    op.drop_column("document", "chased_on")


def downgrade() -> None:
    op.add_column("document", sa.Column("chased_on", sa.Date(), nullable=True))
    op.drop_table("chase_mark")  # unmarked: planned again, the chase keys send nothing twice
