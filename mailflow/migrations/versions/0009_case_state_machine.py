"""the case as one state machine: document.stage and answered_at, states mapped

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Old statuses map to the states of mailflow.case.states: resolved and
forwarded become in_work; a case whose answer was dispatched (answer stage
"dispatched") becomes answered, the law's term met at its dispatch time;
closed stays closed, answered at its dispatch time or, without one, when it
was closed. The answer's stage moves from answer.stage to document.stage, so
the case's state is one row. The open-cases index is rebuilt on the open
states (the old one tested for "answered", which nothing wrote). Inbound
messages keep the triage rule that decided what they were.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import mailflow.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OLD_OPEN = "status NOT IN ('answered', 'closed')"
NEW_OPEN = "status IN ('in_work', 'on_resolution', 'registered')"


def upgrade() -> None:
    with op.batch_alter_table('inbound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('answered_at', mailflow.models.AwareDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_document_stage'), ['stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_answered_at'), ['answered_at'], unique=False)
        batch_op.drop_index('ix_document_open_due', postgresql_where=sa.text(OLD_OPEN),
                            sqlite_where=sa.text(OLD_OPEN))

    answer = "FROM answer WHERE answer.document_id = document.id"
    for sql in (
        f"UPDATE document SET stage = (SELECT answer.stage {answer})",
        "UPDATE document SET status = 'in_work' WHERE status IN ('resolved', 'forwarded')",
        "UPDATE document SET status = 'answered' WHERE status = 'in_work' AND stage = 'dispatched'",
        "UPDATE document SET stage = 'dispatched' WHERE status = 'answered' AND stage IS NULL",
        "UPDATE document SET stage = 'closed' WHERE status = 'closed'",
        "UPDATE document SET stage = NULL WHERE status NOT IN ('in_work', 'answered', 'closed')",
        f"UPDATE document SET answered_at = (SELECT answer.dispatched_at {answer}) "
        "WHERE status IN ('answered', 'closed')",
        "UPDATE document SET answered_at = closed_at WHERE status = 'closed' AND answered_at IS NULL",
    ):
        op.execute(sql)

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index('ix_document_open_due', ['due_date'], unique=False,
                              postgresql_where=sa.text(NEW_OPEN), sqlite_where=sa.text(NEW_OPEN))
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_stage'))
        batch_op.drop_column('stage')


def downgrade() -> None:
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=False, server_default='draft'))
        batch_op.create_index(batch_op.f('ix_answer_stage'), ['stage'], unique=False)
    op.execute("UPDATE answer SET stage = COALESCE((SELECT document.stage FROM document "
               "WHERE document.id = answer.document_id), 'draft')")
    op.execute("UPDATE document SET status = 'forwarded' WHERE status IN ('in_work', 'answered')")
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index('ix_document_open_due', postgresql_where=sa.text(NEW_OPEN),
                            sqlite_where=sa.text(NEW_OPEN))
        batch_op.create_index('ix_document_open_due', ['due_date'], unique=False,
                              postgresql_where=sa.text(OLD_OPEN), sqlite_where=sa.text(OLD_OPEN))
        batch_op.drop_index(batch_op.f('ix_document_answered_at'))
        batch_op.drop_index(batch_op.f('ix_document_stage'))
        batch_op.drop_column('answered_at')
        batch_op.drop_column('stage')
    with op.batch_alter_table('inbound', schema=None) as batch_op:
        batch_op.drop_column('rule')
