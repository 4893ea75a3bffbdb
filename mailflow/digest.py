"""The weekly report of regulation 2.13 (and 2.14): "Мониторинг жалоб, претензий,
отзывов и предложений потребителей", for management, every Monday before 15:00.

`build` computes it from the journal: pure reads over a Session, aggregated in
SQL (GROUP BY, COUNT, LIMIT), so it stays fast on a large journal. Rendering
(HTML e-mail, plain text, XLSX) is in `digest_render`.

Definitions
-----------
- Week: an ISO week, Monday 00:00 to Sunday 24:00 in UTC+5 (`values.KZ_TZ`).
  The Monday report covers the week before (`Week.previous_of(today)`).
  "Today" is `now`'s date in UTC+5; states (status, proof) are as at `now`.
- New: documents whose `registered_at` falls in the week. They are counted by
  kind (заявление, жалоба, претензия, отзыв, предложение, обращение, then no
  kind: «не определён»; every one shown, even at 0), by channel (code), by origin unit
  (none: «—»), by status (code, as at `now`) and by consumer group (1, 2, None).
- Answered: documents whose answer was sent to the applicant (`answered_at`,
  set when the case entered the state answered, or closed without a
  dispatch report) in the week: the law's term is met at dispatch (3.7), not
  when the copy is filed. On time when answered_at's date (UTC+5) ≤
  `due_date`, else late; one with no due date in force has no term to break
  and counts as on time. answered == answered_on_time + answered_late.
- Overdue: at `now`, open cases (`case.states.OPEN`) whose `due_date` (the date
  in force: law, resolution, extension) is before today; each with the
  executor (the first Assignment, lowest position, of the current Resolution,
  or «резолюции нет»), and the working days overdue,
  `rules.calendar.working_days_between(due, today)` (0 when only days off have
  passed since the due date). Oldest due date first.
- Book 30-minute rule (2.1): documents with channel "book" registered in the
  week whose `pr_forwarded_at - book_entry_at` exceeds the limit, or whose
  `book_entry_at` is set, `pr_forwarded_at` is not, and `now - book_entry_at`
  exceeds it; delay in whole minutes. The limit is `rules.chasing.
  book_max_minutes` when the rules have it, else 30. Book entries with no
  entry time cannot be measured and are counted apart (`book_unmeasured`).
- Deliveries without proof (1.12, 2.11): forwarded resolutions (Delivery rows
  of the current resolution) with no `delivered_at`, `displayed_at` or
  `replied_at`, created at least `rules.routing.unproven_after_hours` before
  `now` (a fresh one is still waiting for its reports, as in the clerk's
  sweep), of open cases (an answer proves the executor had it); with the
  highest rung reached (`case.ladder.level`).
- Suggestions (2.14): documents of kind "предложение" registered in the week,
  and older ones still open at `now` (older first); with the consumer, the
  current resolution's text if any, executor and status.
- Decisions (2.14): each listed suggestion's latest decision by the PR specialist
  (`SuggestionDecision`: accepted, rejected, planned, with the comment, who and
  when), None before any; `decisions` counts the listed ones by decision.
- Journal: with `journal`, every figure and list is of that journal's documents
  only (each organisation's report covers its own journal, 2.6); without, of all.
- All of the week: every new document with its executor and proof: the
  weakest rung among its current resolution's deliveries ("failed" weakest,
  then queued, accepted, relayed, delivered, displayed, replied), None when
  nothing was forwarded.

Lists that grow with the whole journal (overdue, unproven, the older open
suggestions) are cut at `limit` rows; their `*_total` counts are always
complete. The week's own documents (and its suggestions) are never cut.

Queries (about a dozen, none loads the journal): one GROUP BY over the week's
`registered_at` range; one COUNT/SUM over `answered_at` in the week; COUNT and
ordered LIMIT lists of open documents past due, of unproven deliveries and
of older open suggestions; the executors, resolutions and proof of the listed
documents by their ids (PostgreSQL: a join to unnest(array)). Besides the
existing indexes (document.registered_at, assignment/delivery/resolution
.document_id) they rely on:
  document (answered_at);
  document (due_date) WHERE <open> (models.OPEN_SQL: status IN the open states);
and, for journals with many open cases or unproven deliveries:
  delivery (created_at) INCLUDE (document_id, resolution_id)
      WHERE delivered_at IS NULL AND displayed_at IS NULL AND replied_at IS NULL;
  document (id) WHERE <open>;
  document (kind, registered_at) WHERE <open>.
The open predicate is written with literal values so that PostgreSQL
matches those partial indexes under generic (prepared) plans too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col

from .case import ladder
from .case.queries import IS_CURRENT, consumer_name, is_open
from .case.states import State
from .models import Assignment, Delivery, Document, Event, Resolution, SuggestionDecision
from .values import KZ_TZ
from .vocabulary import BOOK, CHANNEL_KEYS, DECISIONS, KIND_KEYS, NO_KIND, SUGGESTION

NO_UNIT = "—"
NO_RESOLUTION = "резолюции нет"
STATUSES = tuple(s.value for s in State)
BOOK_LIMIT_MINUTES = 30
DEFAULT_LIMIT = 1000  # rows per accumulating list; the e-mail shows 50 of them, the XLSX all
_CHUNK = 900  # ids per IN (...) list (SQLite, other databases)


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week; bounds in UTC+5."""

    year: int
    week: int

    def __post_init__(self):
        try:
            dt.date.fromisocalendar(self.year, self.week, 1)
        except (ValueError, TypeError):
            raise ValueError(f"no ISO week {self.week} in {self.year}") from None

    @property
    def start(self) -> dt.date:
        """Monday."""
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def end(self) -> dt.date:
        """Sunday."""
        return self.start + dt.timedelta(days=6)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def since(self) -> dt.datetime:
        """Monday 00:00 UTC+5 (aware)."""
        return dt.datetime.combine(self.start, dt.time(0), KZ_TZ)

    @property
    def until(self) -> dt.datetime:
        """The next Monday 00:00 UTC+5 (aware), exclusive."""
        return self.since + dt.timedelta(days=7)

    def days(self) -> tuple[dt.date, ...]:
        return tuple(self.start + dt.timedelta(days=i) for i in range(7))

    def __str__(self) -> str:
        return self.label

    @classmethod
    def parse(cls, text: str) -> Week:
        """ "2026-W12" (also "2026W12", "2026-w12"); ValueError in plain words otherwise."""
        m = re.fullmatch(r"\s*(\d{4})-?[Ww](\d{1,2})\s*", text or "")
        if not m:
            raise ValueError(f"not an ISO week like 2026-W12: {text!r}")
        return cls(int(m[1]), int(m[2]))

    @classmethod
    def of(cls, day: dt.date | dt.datetime) -> Week:
        """The week containing `day` (an aware datetime is taken in UTC+5)."""
        day = _kz_date(day)
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def previous_of(cls, day: dt.date | dt.datetime) -> Week:
        """The week before the one containing `day`: what Monday's report covers."""
        return cls.of(_kz_date(day) - dt.timedelta(days=7))


@dataclass(frozen=True)
class OverdueCase:
    document_id: int
    number: str
    kind: str | None
    consumer: str | None
    executor: str  # the responsible executor's name, or «резолюции нет»
    executor_email: str | None
    executor_unit: str | None  # from the staff directory
    due_date: dt.date
    working_days_overdue: int
    unit: str | None  # the document's origin unit
    registered_at: dt.datetime
    status: str


@dataclass(frozen=True)
class BookBreach:
    document_id: int
    number: str
    kind: str | None
    consumer: str | None
    unit: str | None
    book_entry_at: dt.datetime
    pr_forwarded_at: dt.datetime | None  # None: not forwarded yet at `made_at`
    delay_minutes: int


@dataclass(frozen=True)
class UnprovenDelivery:
    delivery_id: int
    document_id: int
    number: str
    to: str
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    proof: str  # case.ladder.level: queued | accepted | relayed | failed
    status_code: str | None


@dataclass(frozen=True)
class SuggestionRow:
    document_id: int
    number: str
    registered_at: dt.datetime
    consumer: str | None
    unit: str | None
    channel: str
    status: str
    resolution: str | None  # the current resolution's text
    executor: str | None
    due_date: dt.date | None
    closed_at: dt.datetime | None
    in_week: bool  # registered in the week (else: an older one still open)
    decision: str | None = None  # the PR specialist's latest (vocabulary.DECISIONS); None: none yet
    decision_comment: str | None = None
    decided_by: str | None = None  # who decided: their name in the staff directory, else the address
    decided_at: dt.datetime | None = None


@dataclass(frozen=True)
class DocumentRow:
    document_id: int
    number: str
    registered_at: dt.datetime
    kind: str | None
    group: int | None
    channel: str
    unit: str | None
    consumer: str | None
    status: str
    due_date: dt.date | None
    executor: str | None
    proof: str | None  # weakest rung among the current resolution's deliveries
    deliveries: int


@dataclass(frozen=True)
class WeeklyReport:
    week: Week
    made_at: dt.datetime
    counts_by_kind: dict[str, int]
    by_channel: dict[str, int]
    by_origin_unit: dict[str, int]
    by_status: dict[str, int]
    by_group: dict[int | None, int]
    new: int
    repeats: int  # of the new, linked as repeats of an earlier case
    answered: int
    answered_on_time: int
    answered_late: int
    overdue: tuple[OverdueCase, ...]
    overdue_total: int
    book_entries: int  # Book entries registered in the week
    book_unmeasured: int  # ... of which without an entry time
    book_limit_minutes: int
    book_breaches: tuple[BookBreach, ...]
    unproven: tuple[UnprovenDelivery, ...]
    unproven_total: int
    suggestions: tuple[SuggestionRow, ...]
    suggestions_total: int
    documents: tuple[DocumentRow, ...]  # every document registered in the week
    limit: int
    redirected: int = 0  # sent to the competent body in the week (АППК art. 76 p. 3)
    redirected_late: int = 0  # ... of which after their term (`redirect_days` working days)
    redirect_days: int = 3
    journal: str | None = None  # the journal it covers (None: all)
    organisation: str | None = None  # that journal's organisation, as rules/journals.toml names it

    @property
    def decisions(self) -> dict[str | None, int]:
        """The listed suggestions by their decision (2.14): each code, then None (no decision)."""
        out: dict[str | None, int] = {**dict.fromkeys(DECISIONS, 0), None: 0}
        for g in self.suggestions:
            out[g.decision] += 1
        return out

    @property
    def today(self) -> dt.date:
        return self.made_at.astimezone(KZ_TZ).date()


def build(
    s: Session,
    rules,
    week: Week,
    now: dt.datetime,
    *,
    limit: int = DEFAULT_LIMIT,
    journal: str | None = None,
) -> WeeklyReport:
    """The report for `week` as the journal stands at `now` (aware); of one journal's
    documents with `journal` (2.6), else of all."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    today = now.astimezone(KZ_TZ).date()
    # the journal as a value, not an index: the (journal, year, seq) index would have the
    # planner walk the whole journal instead of the week's dates or the open cases
    scope = sa.func.coalesce(Document.journal, "") == journal if journal is not None else sa.true()
    in_week = sa.and_(Document.registered_at >= week.since, Document.registered_at < week.until, scope)
    counts = _counts(s, in_week)
    answered, on_time = _answered(s, week, scope)
    overdue, overdue_total = _overdue(s, rules, today, limit, scope)
    book_limit = _book_limit(rules)
    book_entries, unmeasured, breaches = _book(s, in_week, now, book_limit)
    unproven, unproven_total = _unproven(s, rules, now, limit, scope)
    suggestions, suggestions_total = _suggestions(s, rules, week, in_week, limit, scope)
    redirected, redirected_late = _redirected(s, week, scope)
    journals = getattr(rules, "journals", None) or {}
    return WeeklyReport(
        journal=journal,
        organisation=journals[journal].organisation if journal in journals else None,
        week=week,
        made_at=now,
        **counts,
        answered=answered,
        answered_on_time=on_time,
        answered_late=answered - on_time,
        overdue=overdue,
        overdue_total=overdue_total,
        book_entries=book_entries,
        book_unmeasured=unmeasured,
        book_limit_minutes=book_limit,
        book_breaches=breaches,
        unproven=unproven,
        unproven_total=unproven_total,
        suggestions=suggestions,
        suggestions_total=suggestions_total,
        documents=_documents(s, in_week),
        limit=limit,
        redirected=redirected,
        redirected_late=redirected_late,
        redirect_days=rules.deadlines.redirect_days,
    )


def _redirected(s: Session, week: Week, scope) -> tuple[int, int]:
    """Redirects recorded in the week, and how many of them came after the term."""
    rows = s.execute(
        sa.select(Event.data)
        .join(Document, col(Document.id) == col(Event.document_id))
        .where(Event.type == "redirected", Event.at >= week.since, Event.at < week.until, scope)
    ).scalars()
    late = [bool(json.loads(d).get("late")) for d in rows]
    return len(late), sum(late)


# --- new documents: one GROUP BY over the week's index range -------------------------------


def _counts(s: Session, in_week) -> dict:
    cols = (Document.kind, Document.channel, Document.origin_unit, Document.status, Document.grp)
    rows = s.execute(sa.select(*cols, sa.func.count()).where(in_week).group_by(*cols)).all()
    kinds = dict.fromkeys((*KIND_KEYS, NO_KIND), 0)
    channels: dict[str, int] = {}
    units: dict[str, int] = {}
    statuses: dict[str, int] = {}
    groups: dict[int | None, int] = {}
    for kind, channel, unit, status, grp, n in rows:
        key = kind or NO_KIND
        kinds[key] = kinds.get(key, 0) + n
        channels[channel] = channels.get(channel, 0) + n
        units[unit or NO_UNIT] = units.get(unit or NO_UNIT, 0) + n
        statuses[status] = statuses.get(status, 0) + n
        groups[grp] = groups.get(grp, 0) + n
    return dict(
        counts_by_kind=kinds,
        by_channel=_ordered(channels, CHANNEL_KEYS),
        by_origin_unit=dict(sorted(units.items(), key=lambda kv: (kv[0] == NO_UNIT, -kv[1], kv[0]))),
        by_status=_ordered(statuses, STATUSES),
        by_group=dict(sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))),
        new=sum(n for *_, n in rows),
        repeats=s.execute(
            sa.select(sa.func.count())
            .select_from(Document)
            .where(in_week, col(Document.repeat_of).is_not(None))
        ).scalar_one(),
    )


def _ordered(counts: dict[str, int], order: Sequence[str]) -> dict[str, int]:
    known = [k for k in order if k in counts]
    return {
        **{k: counts[k] for k in known},
        **dict(
            sorted((kv for kv in counts.items() if kv[0] not in order), key=lambda kv: (-kv[1], str(kv[0])))
        ),
    }


# --- answered in the week: on time per day of dispatch, all in SQL ---------------------------


def _answered(s: Session, week: Week, scope) -> tuple[int, int]:
    # sent on day d (UTC+5) is on time iff due_date >= d: one branch per day of the week
    per_day = [
        sa.and_(
            Document.answered_at >= week.since + dt.timedelta(days=i),
            Document.answered_at < week.since + dt.timedelta(days=i + 1),
            Document.due_date >= day,
        )
        for i, day in enumerate(week.days())
    ]
    on_time = sa.or_(Document.due_date.is_(None), *per_day)
    total, ok = s.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((on_time, 1), else_=0)), 0)).where(
            Document.answered_at >= week.since, Document.answered_at < week.until, scope
        )
    ).one()
    return int(total), int(ok)


# --- overdue at now ----------------------------------------------------------------------------


def _overdue(s: Session, rules, today: dt.date, limit: int, scope) -> tuple[tuple[OverdueCase, ...], int]:
    where = sa.and_(is_open(), Document.due_date.is_not(None), Document.due_date < today, scope)
    total = s.execute(sa.select(sa.func.count()).select_from(Document).where(where)).scalar_one()
    if not total:
        return (), 0
    rows = s.execute(
        sa.select(*_DOC_COLS).where(where).order_by(Document.due_date, Document.id).limit(limit)
    ).all()
    executors = _first_executors(s, [r.id for r in rows])
    late = _working_days_since(rules.calendar, min(r.due_date for r in rows), today)
    out = []
    for r in rows:
        name, email = executors.get(r.id, (NO_RESOLUTION, None))
        person = rules.staff.by_email(email) if email else None
        out.append(
            OverdueCase(
                document_id=r.id,
                number=r.number,
                kind=r.kind,
                consumer=consumer_name(r),
                executor=name,
                executor_email=email,
                executor_unit=person.unit if person else None,
                due_date=r.due_date,
                working_days_overdue=late(r.due_date),
                unit=r.origin_unit,
                registered_at=r.registered_at,
                status=r.status,
            )
        )
    return tuple(out), int(total)


def _working_days_since(cal, earliest: dt.date, today: dt.date):
    """f(due) == cal.working_days_between(due, today) for earliest <= due <= today, in O(1)."""
    span = (today - earliest).days
    cum = [0] * (span + 1)  # cum[i]: working days in (earliest, earliest + i]
    for i in range(1, span + 1):
        cum[i] = cum[i - 1] + cal.is_working_day(earliest + dt.timedelta(days=i))
    return lambda due: cum[span] - cum[(due - earliest).days]


# --- the Book's 30 minutes (2.1) ----------------------------------------------------------------


def _book_limit(rules) -> int:
    minutes = getattr(getattr(rules, "chasing", None), "book_max_minutes", None)
    return int(minutes) if isinstance(minutes, (int, float)) and minutes > 0 else BOOK_LIMIT_MINUTES


def _book(s: Session, in_week, now: dt.datetime, limit_minutes: int):
    rows = s.execute(
        sa.select(*_DOC_COLS, Document.book_entry_at, Document.pr_forwarded_at)
        .where(in_week, Document.channel == BOOK)
        .order_by(Document.registered_at, Document.id)
    ).all()
    limit = dt.timedelta(minutes=limit_minutes)
    breaches = []
    for r in rows:
        if r.book_entry_at is None:
            continue
        delay = (r.pr_forwarded_at or now) - r.book_entry_at
        if delay > limit:
            breaches.append(
                BookBreach(
                    document_id=r.id,
                    number=r.number,
                    kind=r.kind,
                    consumer=consumer_name(r),
                    unit=r.origin_unit,
                    book_entry_at=r.book_entry_at,
                    pr_forwarded_at=r.pr_forwarded_at,
                    delay_minutes=int(delay.total_seconds() // 60),
                )
            )
    unmeasured = sum(1 for r in rows if r.book_entry_at is None)
    return len(rows), unmeasured, tuple(breaches)


# --- deliveries without proof (1.12) --------------------------------------------------------------


def _unproven(s: Session, rules, now: dt.datetime, limit: int, scope):
    hours = getattr(getattr(rules, "routing", None), "unproven_after_hours", 0) or 0
    cutoff = now - dt.timedelta(hours=float(hours))
    where = sa.and_(
        Delivery.delivered_at.is_(None),
        Delivery.displayed_at.is_(None),
        Delivery.replied_at.is_(None),
        Delivery.created_at <= cutoff,
        is_open(),
        scope,
        sa.or_(Delivery.resolution_id.is_(None), IS_CURRENT),
    )

    def q(*cols):
        return (
            sa.select(*cols)
            .select_from(Delivery)
            .join(Document, Document.id == Delivery.document_id)
            .outerjoin(Resolution, Resolution.id == Delivery.resolution_id)
            .where(where)
        )

    # counted apart: with the indexes below the count reads indexes only, and the
    # list walks the delivery index in order and stops at `limit`
    total = s.execute(q(sa.func.count())).scalar_one()
    if not total:
        return (), 0
    rows = s.execute(
        q(
            Delivery.id,
            Delivery.document_id,
            Document.number,
            Delivery.to_addr,
            Delivery.created_at,
            Delivery.accepted_at,
            Delivery.relayed_at,
            Delivery.delivered_at,
            Delivery.failed_at,
            Delivery.displayed_at,
            Delivery.replied_at,
            Delivery.status_code,
        )
        .order_by(Delivery.created_at, Delivery.id)
        .limit(limit)
    ).all()
    return tuple(
        UnprovenDelivery(
            delivery_id=r.id,
            document_id=r.document_id,
            number=r.number,
            to=r.to_addr,
            created_at=r.created_at,
            accepted_at=r.accepted_at,
            proof=ladder.level(r),
            status_code=r.status_code,
        )
        for r in rows
    ), int(total)


# --- suggestions (2.14) -------------------------------------------------------------------------


def _suggestions(s: Session, rules, week: Week, in_week, limit: int, scope):
    # two queries, not one with OR: each has its index (registered_at; open by kind)
    older = sa.and_(Document.kind == SUGGESTION, Document.registered_at < week.since, is_open(), scope)
    older_total = s.execute(sa.select(sa.func.count()).select_from(Document).where(older)).scalar_one()
    rows = (
        list(
            s.execute(
                sa.select(*_DOC_COLS, Document.closed_at)
                .where(older)
                .order_by(Document.registered_at, Document.id)
                .limit(limit)
            )
        )
        if older_total
        else []
    )
    rows += s.execute(
        sa.select(*_DOC_COLS, Document.closed_at)
        .where(in_week, Document.kind == SUGGESTION)
        .order_by(Document.registered_at, Document.id)
    ).all()
    if not rows:
        return (), 0
    ids = [r.id for r in rows]
    executors = _first_executors(s, ids)
    texts = {}
    current = sa.select(Resolution.document_id, Resolution.text).where(IS_CURRENT).order_by(Resolution.id)
    for q in _restrict(s, current, Resolution.document_id, ids):
        texts.update((doc_id, text) for doc_id, text in s.execute(q))
    decided = _decisions(s, rules, ids)
    return tuple(
        SuggestionRow(
            document_id=r.id,
            number=r.number,
            registered_at=r.registered_at,
            consumer=consumer_name(r),
            unit=r.origin_unit,
            channel=r.channel,
            status=r.status,
            resolution=texts.get(r.id),
            executor=executors.get(r.id, (None, None))[0],
            due_date=r.due_date,
            closed_at=r.closed_at,
            in_week=r.registered_at >= week.since,
            **decided.get(r.id, {}),
        )
        for r in rows
    ), int(older_total) + sum(1 for r in rows if r.registered_at >= week.since)


def _decisions(s: Session, rules, ids: Sequence[int]) -> dict[int, dict]:
    """document id -> its latest decision (2.14), as SuggestionRow's fields (who: by name)."""
    staff = getattr(rules, "staff", None)
    q = sa.select(
        SuggestionDecision.document_id,
        SuggestionDecision.decision,
        SuggestionDecision.comment,
        SuggestionDecision.by,
        SuggestionDecision.at,
    ).order_by(SuggestionDecision.id)
    out: dict[int, dict] = {}
    for chunk in _restrict(s, q, SuggestionDecision.document_id, ids):
        for doc_id, decision, comment, by, at in s.execute(chunk):
            person = staff.by_email(by) if staff else None
            who = person.name if person else by
            out[doc_id] = dict(decision=decision, decision_comment=comment, decided_by=who, decided_at=at)
    return out


# --- every document of the week, with executor and proof ----------------------------------------


def _documents(s: Session, in_week) -> tuple[DocumentRow, ...]:
    rows = s.execute(sa.select(*_DOC_COLS).where(in_week).order_by(Document.registered_at, Document.id)).all()
    if not rows:
        return ()
    ids = [r.id for r in rows]
    executors = _first_executors(s, ids)
    proofs = _proofs(s, ids)
    return tuple(
        DocumentRow(
            document_id=r.id,
            number=r.number,
            registered_at=r.registered_at,
            kind=r.kind,
            group=r.grp,
            channel=r.channel,
            unit=r.origin_unit,
            consumer=consumer_name(r),
            status=r.status,
            due_date=r.due_date,
            executor=executors.get(r.id, (None, None))[0],
            proof=proofs.get(r.id, (None, 0))[0],
            deliveries=proofs.get(r.id, (None, 0))[1],
        )
        for r in rows
    )


def _proofs(s: Session, ids) -> dict[int, tuple[str, int]]:
    """document id -> (weakest proof rung of the current resolution's deliveries, how many)."""
    q = (
        sa.select(Delivery.document_id, sa.func.min(ladder.weakest_sql()), sa.func.count())
        .join(Resolution, Resolution.id == Delivery.resolution_id)
        .where(IS_CURRENT)
        .group_by(Delivery.document_id)
    )
    return {
        doc_id: (ladder.STRENGTH[r], n)
        for chunk in _restrict(s, q, Delivery.document_id, ids)
        for doc_id, r, n in s.execute(chunk)
    }


def _first_executors(s: Session, ids) -> dict[int, tuple[str, str]]:
    """document id -> (name, email) of the first addressee of its current resolution."""
    q = (
        sa.select(Assignment.document_id, Assignment.name, Assignment.email)
        .join(Resolution, Resolution.id == Assignment.resolution_id)
        .where(IS_CURRENT)
        .order_by(Assignment.document_id, Assignment.position.desc(), Assignment.id.desc())
    )
    out: dict[int, tuple[str, str]] = {}
    for chunk in _restrict(s, q, Assignment.document_id, ids):
        for doc_id, name, email in s.execute(chunk):
            out[doc_id] = (name, email)  # the lowest position comes last and stays
    return out


# --- helpers ----------------------------------------------------------------------------------

_DOC_COLS = (
    Document.id,
    Document.number,
    Document.registered_at,
    Document.kind,
    Document.grp,
    Document.channel,
    Document.origin_unit,
    Document.status,
    Document.due_date,
    Document.last_name,
    Document.first_name,
    Document.patronymic,
    Document.org_name,
)


def _restrict(s: Session, q, column, ids: Sequence[int]) -> Iterable:
    """`q` restricted to rows whose `column` is in `ids`, as one or more queries.

    PostgreSQL: joined to unnest(one array parameter), which it runs as index
    lookups; an IN list of thousands of parameters costs more to render than to
    run, and both IN (SELECT ...) and = ANY(array) were planned as scans of the
    whole table. Elsewhere (SQLite): IN lists, a chunk at a time.
    """
    if not ids:
        return
    if s.get_bind().dialect.name == "postgresql":
        arr = sa.bindparam(None, list(ids), type_=postgresql.ARRAY(sa.Integer))
        wanted = sa.func.unnest(arr).table_valued("id").render_derived(name="wanted")
        yield q.join(wanted, column == wanted.c.id)
        return
    for chunk in _chunks(ids):
        yield q.where(column.in_(chunk))


def _chunks(ids: Sequence[int]):
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i : i + _CHUNK])


def _kz_date(day: dt.date | dt.datetime) -> dt.date:
    if isinstance(day, dt.datetime):
        if day.tzinfo is None:
            raise ValueError("a naive datetime is ambiguous; give a date or an aware datetime")
        return day.astimezone(KZ_TZ).date()
    return day
