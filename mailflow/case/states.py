"""The case's states and the acts that move them, as one table (pure: no I/O).

    registered ──route──▶ on_resolution ──resolve──▶ in_work ──dispatch──▶ answered ──file_copy──▶ closed
        │                      │                       │  ▲ move (a stage of rules/answer.toml)
        └──────── resolve ─────┴───────────────────────┘  └ resolve (a correction restarts the answer)
    open states ──redirect──▶ redirected      (outside competence, АППК art. 76)
    open states ──withdraw──▶ withdrawn       (the applicant withdrew it)
    open states ──not_consider──▶ not_considered   (anonymous, confirmed by the clerk)
    registered, on_resolution ──merge──▶ merged                  (a repeat of another case)
    in_work ──file_copy──▶ closed             (dispatch with the signed copy, or the clerk's copy)

`in_work`, `answered` and `closed` carry a stage of the answer workflow
(rules/answer.toml): the stage names where the answer is, the state what it
means for the law. A stage says which state it belongs to (`state = …` in
answer.toml, in_work when absent), so a new plain stage needs no code.

`decide` checks one act against the table and returns the step (from, to,
stages); `transition.apply` writes it. Each row names who may act (as a
Capacity, relative to the case) and the event type it writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..rules import Workflow


class State(str, Enum):
    REGISTERED = "registered"  # in the journal; not routed (backlog, or nobody to resolve)
    ON_RESOLUTION = "on_resolution"  # with management for a resolution (1.5, 2.5)
    IN_WORK = "in_work"  # resolved and forwarded; the answer is being made (section 3)
    ANSWERED = "answered"  # the answer went to the applicant (3.7): the law's term is met
    CLOSED = "closed"  # the copy of the sent answer is filed (3.8)
    REDIRECTED = "redirected"  # sent to the competent body (АППК art. 76)
    NOT_CONSIDERED = "not_considered"  # anonymous, not considered (the law's exceptions aside)
    WITHDRAWN = "withdrawn"  # the applicant withdrew it
    MERGED = "merged"  # a repeat, linked to its first case

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS: dict[State, str] = {
    State.REGISTERED: "зарегистрировано",
    State.ON_RESOLUTION: "на резолюции",
    State.IN_WORK: "в работе у исполнителя",
    State.ANSWERED: "ответ отправлен",
    State.CLOSED: "закрыто",
    State.REDIRECTED: "перенаправлено по компетенции",
    State.NOT_CONSIDERED: "не рассматривается",
    State.WITHDRAWN: "отозвано заявителем",
    State.MERGED: "объединено с повторным",
}
# Deadlines run, reminders go, the case counts as overdue when late.
OPEN: frozenset[State] = frozenset({State.REGISTERED, State.ON_RESOLUTION, State.IN_WORK})
# States that carry a stage of the answer workflow.
STAGED: frozenset[State] = frozenset({State.IN_WORK, State.ANSWERED, State.CLOSED})


class Act(str, Enum):
    ROUTE = "route"
    RESOLVE = "resolve"
    MOVE = "move"
    DISPATCH = "dispatch"
    FILE_COPY = "file_copy"
    EXTEND = "extend"
    REDIRECT = "redirect"
    NOT_CONSIDER = "not_consider"
    WITHDRAW = "withdraw"
    MERGE = "merge"


class Capacity(str, Enum):
    """Who acts, as the table names them: relative to the case where it matters."""

    SYSTEM = "system"  # mailflow itself
    CLERK = "clerk"
    MANAGEMENT = "management"  # may resolve (rules/routing.toml management.may_resolve)
    UNIT_HEAD = "unit_head"  # the responsible executor's unit head
    EXECUTOR = "executor"  # the first named in the current resolution (3.3)
    LEGAL = "legal"


@dataclass(frozen=True)
class Transition:
    act: Act
    sources: frozenset[State]
    target: State | None  # None: the state stays (an extension, a move between stages)
    by: frozenset[Capacity]
    event: str  # the hash-chained event it writes
    title: str  # Russian, for the journal and error messages


def _t(
    act: Act, sources: Iterable[State], target: State | None, by: Iterable[Capacity], event: str, title: str
) -> Transition:
    return Transition(act, frozenset(sources), target, frozenset(by), event, title)


C, S = Capacity, State
TABLE: tuple[Transition, ...] = (
    _t(Act.ROUTE, {S.REGISTERED}, S.ON_RESOLUTION, {C.SYSTEM}, "routed", "передача на резолюцию"),
    _t(Act.RESOLVE, OPEN, S.IN_WORK, {C.MANAGEMENT, C.CLERK}, "resolution", "резолюция"),
    _t(
        Act.MOVE,
        {S.IN_WORK},
        None,
        {C.EXECUTOR, C.UNIT_HEAD, C.LEGAL, C.MANAGEMENT},
        "answer_move",
        "этап подготовки ответа",
    ),
    _t(
        Act.DISPATCH,
        {S.IN_WORK},
        S.ANSWERED,
        {C.EXECUTOR, C.CLERK},
        "dispatched",
        "отправка ответа заявителю",
    ),
    _t(
        Act.FILE_COPY,
        {S.IN_WORK, S.ANSWERED},
        S.CLOSED,
        {C.EXECUTOR, C.CLERK},
        "closed",
        "копия ответа в канцелярии",
    ),
    _t(Act.EXTEND, OPEN, None, {C.MANAGEMENT, C.UNIT_HEAD}, "extension", "продление срока"),
    _t(
        Act.REDIRECT,
        OPEN,
        S.REDIRECTED,
        {C.CLERK, C.MANAGEMENT},
        "redirected",
        "перенаправление по компетенции",
    ),
    _t(
        Act.NOT_CONSIDER,
        OPEN,  # the clerk's confirmation may come after a manager already resolved it
        S.NOT_CONSIDERED,
        {C.CLERK},
        "not_considered",
        "оставление без рассмотрения",
    ),
    _t(Act.WITHDRAW, OPEN, S.WITHDRAWN, {C.CLERK}, "withdrawn", "отзыв обращения"),
    _t(
        Act.MERGE,
        {S.REGISTERED, S.ON_RESOLUTION},
        S.MERGED,
        {C.CLERK},
        "merged",
        "объединение с первым обращением",
    ),
)
BY_ACT: dict[Act, Transition] = {t.act: t for t in TABLE}


class IllegalTransition(ValueError):
    """The act is not allowed now; the message says why, in Russian."""


@dataclass(frozen=True)
class Step:
    transition: Transition
    from_state: State
    to_state: State
    from_stage: str | None
    to_stage: str | None


def decide(
    state: State | str,
    stage: str | None,
    act: Act,
    by: frozenset[Capacity],
    workflow: Workflow,
    to_stage: str | None = None,
) -> Step:
    """The step `act` makes from (state, stage), or IllegalTransition.

    `to_stage` names the answer stage a MOVE goes to; DISPATCH and FILE_COPY
    go to the stage of their target state, RESOLVE to the workflow's start.
    """
    t = BY_ACT[act]
    state = State(state)
    if state not in t.sources:
        raise IllegalTransition(f"«{t.title}» невозможно: дело в состоянии «{state.label}»")
    if not by & t.by:
        raise IllegalTransition(
            f"«{t.title}» может выполнить только: " + ", ".join(sorted(c.value for c in t.by))
        )
    target = t.target or state
    current = (stage or workflow.start) if state in STAGED else None
    if act is Act.MOVE:
        if to_stage is None or to_stage not in workflow.stages:
            raise IllegalTransition(f"нет такого этапа: {to_stage}")
        if workflow.stages[to_stage].state is not State.IN_WORK:
            raise IllegalTransition(
                f"этап «{to_stage}» означает «{workflow.stages[to_stage].state.label}»,"
                " это не переход между этапами"
            )
        if not any(current in m.from_stages and m.to == to_stage for m in workflow.moves):
            raise IllegalTransition(f"из этапа «{current}» нельзя перейти в «{to_stage}»")
        new_stage: str | None = to_stage
    elif act is Act.RESOLVE:
        new_stage = workflow.start
    elif target in STAGED and target is not state:
        new_stage = workflow.stage_of(target)
    else:
        new_stage = current
    return Step(t, state, target, current, new_stage if target in STAGED else None)


def replay(events: Iterable[dict[str, Any]]) -> tuple[State, str | None]:
    """The (state, stage) a case's recorded steps lead to, from registration.

    `events`: the data of the case's events in order; those `transition.apply`
    wrote carry "state": [from, to] and "stage": [from, to]. A step that does
    not start where the one before ended means the history and the row parted.
    """
    state, stage = State.REGISTERED, None
    for data in events:
        if "state" not in data:
            continue
        (frm, to), (stage_from, stage_to) = data["state"], data["stage"]
        if State(frm) is not state or (stage is not None and stage_from != stage):
            raise ValueError(
                f"step {frm}/{stage_from} -> {to}/{stage_to} does not follow {state.value}/{stage}"
            )
        state, stage = State(to), stage_to
    return state, stage
