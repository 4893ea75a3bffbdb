"""The one function that changes a case's state.

`apply` checks the act against `states.TABLE`, then, in the caller's
transaction (which holds the journal lock), updates the document's state
and stage and writes the act's hash-chained event with both, so the events
replayed give the row (`states.replay`). An illegal act raises
`IllegalTransition` before anything is written.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlmodel import Session, col, select

from .. import journal
from ..models import ChainHead, Document, Event
from ..rules import Workflow
from .actors import Actor
from .states import Act, State, Step, decide, replay


def apply(
    s: Session,
    head: ChainHead,
    doc: Document,
    act: Act,
    by: Actor,
    workflow: Workflow,
    *,
    now: dt.datetime,
    to_stage: str | None = None,
    inbound_id: int | None = None,
    **data: Any,
) -> Step:
    step = decide(doc.status, doc.stage, act, by.capacities, workflow, to_stage)
    doc.status, doc.stage = step.to_state.value, step.to_stage
    if step.to_state is State.ANSWERED or (step.to_state is State.CLOSED and doc.answered_at is None):
        doc.answered_at = now  # the law's term is met when the answer is sent
    if step.to_state is State.CLOSED:
        doc.closed_at = now
    s.add(doc)
    journal.append(
        s,
        head,
        step.transition.event,
        document_id=doc.id,
        inbound_id=inbound_id,
        act=act.value,
        by=by.address,
        state=[step.from_state.value, step.to_state.value],
        stage=[step.from_stage, step.to_stage],
        **data,
    )
    return step


def history(s: Session, document_id: int) -> tuple[State, str | None]:
    """The (state, stage) the document's events lead to (`states.replay`)."""
    rows = s.exec(select(Event.data).where(Event.document_id == document_id).order_by(col(Event.id)))
    return replay(json.loads(d) for d in rows)
