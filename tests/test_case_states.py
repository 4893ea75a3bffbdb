"""The case's state table: every allowed act applied, every other one refused with
nothing changed, and random sequences of acts whose events replay to the row."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, func, select

from mailflow import journal
from mailflow.case import transition
from mailflow.case.actors import Actor
from mailflow.case.states import (
    BY_ACT,
    OPEN,
    STAGED,
    TABLE,
    Act,
    Capacity,
    IllegalTransition,
    State,
    decide,
    replay,
)
from mailflow.models import ChainHead, Document, Event
from tests.support import load_rules

pytestmark = pytest.mark.unit

RULES = load_rules()
WF = RULES.workflow
EVERYONE = Actor("all@sevkaz.example", frozenset(Capacity))
NOW = dt.datetime(2026, 4, 20, 10, tzinfo=dt.UTC)


def _engine() -> sa.Engine:
    engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(ChainHead())
        s.commit()
    return engine


def _doc(s: Session, state: State, stage: str | None = None) -> Document:
    if stage is None and state in STAGED:
        stage = {
            State.IN_WORK: WF.start,
            State.ANSWERED: WF.stage_of(State.ANSWERED),
            State.CLOSED: WF.stage_of(State.CLOSED),
        }[state]
    doc = Document(
        journal="dp",
        year=2026,
        seq=1,
        number="ВХ-2026-000001",
        registered_at=NOW,
        received_at=NOW,
        channel="res",
        sha256="0" * 64,
        status=state.value,
        stage=stage,
    )
    s.add(doc)
    s.commit()
    return doc


def _apply(engine, doc_id: int, act: Act, by: Actor = EVERYONE, to_stage: str | None = None):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        head = journal.lock(s)
        doc = s.get(Document, doc_id)
        return transition.apply(s, head, doc, act, by, WF, now=NOW, to_stage=to_stage)


def _snapshot(engine, doc_id: int):
    with Session(engine) as s:
        d = s.get(Document, doc_id)
        return (
            d.status,
            d.stage,
            d.answered_at,
            d.closed_at,
            s.exec(select(func.count()).select_from(Event)).one(),
        )


def _first_move_from(stage: str) -> str | None:
    return next((m.to for m in WF.moves_from(stage) if WF.stages[m.to].state is State.IN_WORK), None)


ALLOWED = [(t.act, source) for t in TABLE for source in sorted(t.sources, key=lambda x: x.value)]


@pytest.mark.parametrize("act,source", ALLOWED, ids=[f"{a.value}-{s.value}" for a, s in ALLOWED])
def test_every_allowed_transition(act, source):
    engine = _engine()
    with Session(engine, expire_on_commit=False) as s:
        doc = _doc(s, source)
    to_stage = _first_move_from(WF.start) if act is Act.MOVE else None
    step = _apply(engine, doc.id, act, to_stage=to_stage)
    t = BY_ACT[act]
    status, stage, answered_at, closed_at, events = _snapshot(engine, doc.id)
    assert status == (t.target or source).value == step.to_state.value
    assert (stage is not None) == (State(status) in STAGED)
    if act is Act.RESOLVE:
        assert stage == WF.start  # a new resolution (or a correction) starts the answer afresh
    if act is Act.MOVE:
        assert stage == to_stage
    if State(status) in (State.ANSWERED, State.CLOSED):
        assert answered_at == NOW  # the term is met when the answer is sent
    assert (closed_at is not None) == (status == State.CLOSED.value)
    with Session(engine) as s:
        # the document written straight in above has its own event (journal.COVERED)
        [ev] = s.exec(select(Event).where(Event.type != journal.COVERED)).all()
    data = json.loads(ev.data)
    assert ev.type == t.event and ev.document_id == doc.id
    assert data["state"] == [source.value, status] and data["stage"][1] == stage
    assert data["act"] == act.value and data["by"] == EVERYONE.address


ILLEGAL = [(act, state) for act in Act for state in State if state not in BY_ACT[act].sources]


@pytest.mark.parametrize("act,source", ILLEGAL, ids=[f"{a.value}-{s.value}" for a, s in ILLEGAL])
def test_every_illegal_transition_is_refused_and_changes_nothing(act, source):
    engine = _engine()
    with Session(engine, expire_on_commit=False) as s:
        doc = _doc(s, source)
    before = _snapshot(engine, doc.id)
    with pytest.raises(IllegalTransition, match=source.label):
        _apply(engine, doc.id, act, to_stage=_first_move_from(WF.start))
    assert _snapshot(engine, doc.id) == before


@pytest.mark.parametrize("act", list(Act))
def test_who_may_act_is_in_the_table(act):
    t = BY_ACT[act]
    source = sorted(t.sources, key=lambda x: x.value)[0]
    stage = WF.start if source in STAGED else None
    to_stage = _first_move_from(WF.start)
    for cap in Capacity:
        by = frozenset({cap})
        if cap in t.by:
            decide(source, stage, act, by, WF, to_stage)
        else:
            with pytest.raises(IllegalTransition, match="может выполнить только"):
                decide(source, stage, act, by, WF, to_stage)
    with pytest.raises(IllegalTransition):  # a stranger has no capacity at all
        decide(source, stage, act, frozenset(), WF, to_stage)


def test_a_move_follows_the_answer_workflow():
    engine = _engine()
    with Session(engine, expire_on_commit=False) as s:
        doc = _doc(s, State.IN_WORK)
    before = _snapshot(engine, doc.id)
    for bad in ("approved", "closed", "dispatched", "no_such_stage", None):
        with pytest.raises(IllegalTransition):  # not one move away, or not a stage of in_work
            _apply(engine, doc.id, Act.MOVE, to_stage=bad)
    assert _snapshot(engine, doc.id) == before
    nxt = _first_move_from(WF.start)
    _apply(engine, doc.id, Act.MOVE, to_stage=nxt)
    assert _snapshot(engine, doc.id)[:2] == ("in_work", nxt)


def test_replay_refuses_a_history_that_does_not_follow():
    ok = [
        {"state": ["registered", "on_resolution"], "stage": [None, None]},
        {"type": "not a step"},
        {"state": ["on_resolution", "in_work"], "stage": [None, "draft"]},
    ]
    assert replay(ok) == (State.IN_WORK, "draft")
    with pytest.raises(ValueError):
        replay([ok[0], {"state": ["in_work", "answered"], "stage": ["approved", "dispatched"]}])


REACHABLE = {State.REGISTERED} | {t.target for t in TABLE if t.target}
ACTS = st.sampled_from(list(Act))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(ACTS, st.integers(0, 5)), min_size=1, max_size=25))
def test_random_sequences_of_acts_replay_to_the_row(steps):
    """Resolve, move, extend, dispatch, copy, redirect, withdraw, merge… in any order:
    the row is always in a reachable state of the table, and its events replay to it."""
    engine = _engine()
    with Session(engine, expire_on_commit=False) as s:
        doc = _doc(s, State.REGISTERED)
    for act, pick in steps:
        status, stage = _snapshot(engine, doc.id)[:2]
        moves = [m.to for m in WF.moves_from(stage or WF.start)] + list(WF.stages)
        before = _snapshot(engine, doc.id)
        try:
            _apply(engine, doc.id, act, to_stage=moves[pick % len(moves)])
        except IllegalTransition:
            assert _snapshot(engine, doc.id) == before
        status, stage = _snapshot(engine, doc.id)[:2]
        assert State(status) in REACHABLE
        assert (stage is None) == (State(status) not in STAGED)
        with Session(engine) as s:
            assert transition.history(s, doc.id) == (State(status), stage)
    engine.dispose()


def test_open_states_are_the_ones_deadlines_run_for():
    assert OPEN == {State.REGISTERED, State.ON_RESOLUTION, State.IN_WORK}
    assert not OPEN & {State.ANSWERED, State.CLOSED}  # a sent answer stops the reminders
