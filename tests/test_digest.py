"""Regulation 2.13–2.14: the weekly report — its numbers, the e-mail and the workbook.

A journal with known rows in ISO week 2026-W12 (16–22 March 2026, UTC+5) is
written straight into the tables (SQLite and PostgreSQL), the report is built
as on Thursday 26 March (23–25 March are Nauryz days off), and every number,
table row and cell is checked. A second test runs the real pipeline (appeal,
resolution by reply, forwarding) and reads its week back.
"""

from __future__ import annotations

import datetime as dt
import email
import io
from email import policy
from email.utils import format_datetime, make_msgid
from html.parser import HTMLParser

import pytest
from sqlmodel import Session

from mailflow import daemon, db, digest, digest_render, vocabulary
from mailflow.digest import Week
from mailflow.models import Assignment, Delivery, Document, Resolution, SuggestionDecision
from tests.support import database_urls, deliver, fake_recognizer, home_config, load_rules, text_appeal

openpyxl = pytest.importorskip("openpyxl")

KZ = dt.timezone(dt.timedelta(hours=5))
W12 = Week(2026, 12)
NOW = dt.datetime(2026, 3, 26, 10, 0, tzinfo=KZ)  # Thursday: the first working day after Nauryz


def kz(day: int, hh: int = 10, mm: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hh, mm, tzinfo=KZ)


# --- Week ---------------------------------------------------------------------------------------


def test_week_bounds_labels_and_parsing():
    w = Week.parse("2026-W12")
    assert w == W12 and w.label == "2026-W12" and str(w) == "2026-W12"
    assert (w.start, w.end) == (dt.date(2026, 3, 16), dt.date(2026, 3, 22))
    assert w.since == kz(16, 0) and w.until == kz(23, 0)
    assert w.since.astimezone(dt.UTC) == dt.datetime(2026, 3, 15, 19, tzinfo=dt.UTC)
    assert Week.parse("2026w3") == Week(2026, 3) and Week.parse(" 2020-W53 ") == Week(2020, 53)
    for bad in ("2026-12", "W12", "2026-W54", "2025-W53", "2026-W00", "", "2026-W12x"):
        with pytest.raises(ValueError):
            Week.parse(bad)
    # Monday's report covers the week before; any day of a week gives the one before it
    assert Week.previous_of(dt.date(2026, 3, 23)) == W12
    assert Week.previous_of(dt.date(2026, 3, 29)) == W12
    assert Week.previous_of(NOW) == W12
    # an aware time is taken in UTC+5: Sunday 20:00 UTC is already Monday in Kazakhstan
    assert Week.previous_of(dt.datetime(2026, 3, 22, 20, tzinfo=dt.UTC)) == W12
    assert Week.previous_of(dt.datetime(2026, 3, 22, 18, tzinfo=dt.UTC)) == Week(2026, 11)
    assert Week.previous_of(dt.date(2026, 1, 1)) == Week(2025, 52)  # across the year
    assert Week.previous_of(dt.date(2021, 1, 4)) == Week(2020, 53)
    with pytest.raises(ValueError):
        Week.previous_of(dt.datetime(2026, 3, 23, 10))  # naive


# --- a known journal ----------------------------------------------------------------------------


class Journal:
    def __init__(self, s: Session):
        self.s, self.seq = s, 0

    def doc(
        self,
        *,
        registered_at,
        kind="жалоба",
        channel="res",
        unit=None,
        grp=1,
        status="registered",
        due=None,
        answered_at=None,
        closed_at=None,
        last_name="Иванов",
        first_name=None,
        org=None,
        book_entry_at=None,
        pr_forwarded_at=None,
    ) -> Document:
        """A case in `status` (case.states); answered at `answered_at` (3.7), and a
        closed one's copy filed at `closed_at` (3.8), by default the same moment."""
        self.seq += 1
        if status == "closed":
            closed_at = closed_at or answered_at
        stage = {"in_work": "draft", "answered": "dispatched", "closed": "closed"}.get(status)
        d = Document(
            journal="dp",
            year=2026,
            seq=self.seq,
            number=f"ВХ-2026-{self.seq:06d}",
            registered_at=registered_at,
            received_at=registered_at,
            kind=kind,
            grp=grp,
            channel=channel,
            origin_unit=unit,
            last_name=last_name,
            first_name=first_name,
            org_name=org,
            sha256=f"{self.seq:064d}",
            status=status,
            stage=stage,
            due_date=due,
            answered_at=answered_at,
            closed_at=closed_at,
            book_entry_at=book_entry_at,
            pr_forwarded_at=pr_forwarded_at,
        )
        self.s.add(d)
        self.s.flush()
        return d

    def resolution(
        self, doc, people, *, text="Рассмотреть, подготовить ответ", current=True, due=None
    ) -> Resolution:
        r = Resolution(
            document_id=doc.id,
            text=text,
            due_date=due or doc.due_date or dt.date(2026, 4, 30),
            due_source="resolution",
            author="director@sevkaz.example",
            source="email",
            created_at=doc.registered_at + dt.timedelta(hours=1),
            current=current,
        )
        self.s.add(r)
        self.s.flush()
        for pos, (name, mail) in people:
            self.s.add(
                Assignment(resolution_id=r.id, document_id=doc.id, position=pos, email=mail, name=name)
            )
        return r

    def delivery(self, doc, res, to, *, created_at, **steps) -> Delivery:
        self.seq += 1
        d = Delivery(
            document_id=doc.id,
            resolution_id=res.id if res else None,
            outbox_id=self.seq,
            to_addr=to,
            envelope_id=f"env{self.seq}",
            message_id=f"<m{self.seq}@x>",
            subject="s",
            created_at=created_at,
            **steps,
        )
        self.s.add(d)
        return d


PETROV = ("Петров Алексей Сергеевич", "petrov@sevkaz.example")
SIDORENKO = ("Сидоренко Ольга Викторовна", "sidorenko@sevkaz.example")
IVANOVA = ("Иванова Мария Петровна", "ivanova@sevkaz.example")
PR = ("Сулейменова Айгуль Маратовна", "pr@sevkaz.example")


def fill(s: Session) -> dict[str, Document]:
    j, d = Journal(s), {}
    # --- registered in W12 -------------------------------------------------------------------
    d["A"] = j.doc(
        registered_at=kz(16, 9),
        kind="жалоба",
        channel="res",
        unit="Айыртауский РЭС",
        status="in_work",
        due=dt.date(2026, 3, 20),
        last_name="Ахметов",
        first_name="Болат",
    )
    old = j.resolution(d["A"], [(1, IVANOVA)], current=False)  # superseded: neither executor nor proof
    res_a = j.resolution(d["A"], [(2, SIDORENKO), (1, PETROV)])
    j.delivery(d["A"], old, IVANOVA[1], created_at=kz(16, 10))
    j.delivery(
        d["A"], res_a, PETROV[1], created_at=kz(16, 11), accepted_at=kz(16, 11), delivered_at=kz(16, 11, 1)
    )
    j.delivery(
        d["A"],
        res_a,
        SIDORENKO[1],
        created_at=kz(16, 11),
        accepted_at=kz(16, 11),
        relayed_at=kz(16, 11, 2),
        status_code="2.0.0",
    )
    d["B"] = j.doc(
        registered_at=kz(22, 23, 59),
        kind="претензия",
        channel="written",
        unit=None,
        grp=2,
        last_name=None,
        org='=HYPERLINK("http://evil")',
    )  # must stay text in XLSX
    d["D"] = j.doc(
        registered_at=kz(16, 0),
        kind="отзыв",
        channel="book",
        unit="Сервис-центр № 2",
        book_entry_at=kz(15, 23, 20),
        pr_forwarded_at=kz(16, 0, 5),
    )  # 45 min: breach
    d["E"] = j.doc(
        registered_at=kz(18, 10),
        kind="предложение",
        channel="book",
        unit="Сервис-центр № 2",
        status="in_work",
        due=dt.date(2026, 4, 8),
        book_entry_at=kz(18, 9, 50),
        pr_forwarded_at=kz(18, 10, 10),
        last_name="Ким",
    )
    res_e = j.resolution(d["E"], [(1, IVANOVA)], text="Рассмотреть установку терминала <оплаты> & др.")
    j.delivery(
        d["E"], res_e, IVANOVA[1], created_at=kz(18, 11), accepted_at=kz(18, 11), displayed_at=kz(18, 12)
    )
    d["F"] = j.doc(
        registered_at=kz(19, 12),
        kind=None,
        channel="book",
        unit=None,
        book_entry_at=kz(19, 11),
        pr_forwarded_at=None,
    )  # never forwarded: breach
    d["G"] = j.doc(registered_at=kz(19, 13), kind="заявление", channel="book", unit=None)
    d["Q"] = j.doc(
        registered_at=kz(20, 9),
        kind="жалоба",
        channel="res",
        unit="Айыртауский РЭС",
        status="in_work",
        due=dt.date(2026, 3, 25),
    )  # due on a day off
    res_q = j.resolution(d["Q"], [(1, SIDORENKO)])
    j.delivery(
        d["Q"],
        res_q,
        SIDORENKO[1],
        created_at=kz(20, 10),
        accepted_at=kz(20, 10),
        failed_at=kz(20, 10, 5),
        status_code="5.1.1",
    )
    # --- outside W12 ---------------------------------------------------------------------------
    d["C"] = j.doc(registered_at=kz(23, 0), kind="жалоба")  # Monday 00:00: the next week
    d["Z"] = j.doc(registered_at=kz(15, 23, 59), kind="жалоба")  # Sunday before: the week before
    d["H"] = j.doc(
        registered_at=kz(2, 9),
        status="closed",
        due=dt.date(2026, 3, 17),
        answered_at=kz(17, 15),
        closed_at=kz(19, 10),
    )  # sent on its due day: on time,
    # though its copy reached the clerk two days later (the term is met at dispatch, 3.7)
    d["I"] = j.doc(
        registered_at=kz(3, 9), status="answered", due=dt.date(2026, 3, 19), answered_at=kz(20, 10)
    )  # a day late
    d["J"] = j.doc(
        registered_at=kz(4, 9), status="closed", due=dt.date(2026, 3, 16), answered_at=kz(16, 0, 30)
    )  # still 15 March in UTC: on time in UTC+5
    d["K"] = j.doc(
        registered_at=kz(4, 9), status="closed", due=dt.date(2026, 3, 1), answered_at=kz(15, 23, 30)
    )  # closed the week before
    d["X"] = j.doc(registered_at=kz(5, 9), status="closed", due=None, answered_at=kz(21, 12))
    d["Y"] = j.doc(
        registered_at=kz(5, 9),
        status="closed",
        due=dt.date(2026, 3, 20),
        answered_at=kz(13, 9),
        closed_at=kz(18, 9),
    )  # sent the week before; only its
    # copy came in this week: not answered in this week
    d["L"] = j.doc(
        registered_at=kz(10, 9, month=2),
        kind="предложение",
        channel="website",
        status="on_resolution",
        due=dt.date(2026, 3, 3),
        last_name="Орлова",
    )  # open, overdue
    d["R"] = j.doc(
        registered_at=kz(2, 9),
        kind="предложение",
        channel="email",
        status="registered",
        due=dt.date(2026, 4, 10),
        last_name="Ли",
    )  # older, open, not yet due
    d["M"] = j.doc(
        registered_at=kz(11, 9, month=2), kind="предложение", status="closed", answered_at=kz(1, 9)
    )  # closed: gone from the list
    d["N"] = j.doc(registered_at=kz(23, 9), kind="предложение")  # after the week
    d["O"] = j.doc(
        registered_at=kz(1, 9), status="answered", due=dt.date(2026, 3, 2), answered_at=kz(12, 9)
    )  # answered late, but not overdue now
    d["P"] = j.doc(registered_at=kz(2, 9), status="in_work", due=dt.date(2026, 3, 26))  # due today
    res_p = j.resolution(d["P"], [(1, PETROV)])
    j.delivery(d["P"], res_p, PETROV[1], created_at=NOW - dt.timedelta(hours=2))  # too fresh to chase
    j.delivery(d["O"], None, PETROV[1], created_at=kz(1, 10))  # its case is answered
    # 2.14: the PR specialist's decisions; the latest stands (E), none for R
    for doc, decision, comment, at in (
        (d["E"], "rejected", "нет места", kz(19, 10)),
        (d["E"], "accepted", "установим в ЦОН", kz(20, 10)),
        (d["L"], "planned", "в плане на II квартал", kz(20, 11)),
    ):
        s.add(SuggestionDecision(document_id=doc.id, decision=decision, comment=comment, by=PR[1], at=at))
    s.commit()
    return d


def _report(tmp_path, kind, **kw):
    (tmp_path / "home").mkdir(exist_ok=True)
    rules = load_rules()
    with database_urls(tmp_path, kind) as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        with Session(engine, expire_on_commit=False) as s:
            docs = fill(s)
            report = digest.build(s, rules, W12, NOW, **kw)
        engine.dispose()
    return report, docs, rules


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    cache = {}

    def get(kind):
        if kind not in cache:
            cache[kind] = _report(tmp_path_factory.mktemp(kind), kind)
        return cache[kind]

    return get


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_every_number_of_the_week(reports, kind):
    r, d, rules = reports(kind)
    assert r.week == W12 and r.made_at == NOW and r.today == dt.date(2026, 3, 26)
    assert r.new == 7
    assert r.counts_by_kind == {
        "заявление": 1,
        "жалоба": 2,
        "претензия": 1,
        "отзыв": 1,
        "предложение": 1,
        "обращение": 0,
        "не определён": 1,
    }
    assert list(r.counts_by_kind)[:6] == list(vocabulary.KIND_KEYS)
    assert r.by_channel == {"res": 2, "book": 4, "written": 1}
    assert list(r.by_channel) == ["res", "book", "written"]
    assert r.by_origin_unit == {"Айыртауский РЭС": 2, "Сервис-центр № 2": 2, "—": 3}
    assert r.by_status == {"registered": 4, "in_work": 3}
    assert r.by_group == {1: 6, 2: 1}
    # answered in the week: H on its due day, J at 00:30 Monday (UTC: Sunday), X without a
    # term — on time; I a day late. K closed before the week, O before it too.
    assert (r.answered, r.answered_on_time, r.answered_late) == (4, 3, 1)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_overdue_cases(reports, kind):
    r, d, rules = reports(kind)
    cal, today = rules.calendar, dt.date(2026, 3, 26)
    assert [c.number for c in r.overdue] == [d["L"].number, d["A"].number, d["Q"].number]
    assert r.overdue_total == 3
    L, A, Q = r.overdue
    assert (A.executor, A.executor_email, A.due_date, A.kind, A.unit, A.consumer) == (
        PETROV[0],
        PETROV[1],
        dt.date(2026, 3, 20),
        "жалоба",
        "Айыртауский РЭС",
        "Ахметов Болат",
    )
    assert A.working_days_overdue == 1 == cal.working_days_between(A.due_date, today)
    assert (L.executor, L.executor_email, L.consumer, L.status) == (
        "резолюции нет",
        None,
        "Орлова",
        "on_resolution",
    )
    # 9 March was a day off (8 March fell on a Sunday), 23–25 March are Nauryz
    assert L.working_days_overdue == cal.working_days_between(dt.date(2026, 3, 3), today) == 13
    assert (Q.executor, Q.working_days_overdue) == (SIDORENKO[0], 1)  # due on a day off
    assert all(c.registered_at.tzinfo for c in r.overdue)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_book_rule_unproven_and_suggestions(reports, kind):
    r, d, rules = reports(kind)
    assert (r.book_entries, r.book_unmeasured, r.book_limit_minutes) == (4, 1, 30)
    assert [(b.number, b.delay_minutes, b.pr_forwarded_at) for b in r.book_breaches] == [
        (d["D"].number, 45, kz(16, 0, 5)),
        (d["F"].number, int((NOW - kz(19, 11)).total_seconds() // 60), None),
    ]
    assert r.book_breaches[0].book_entry_at == kz(15, 23, 20)
    # A's relayed-only delivery, Q's failed one; not the superseded resolution's, not P's
    # (sent two hours ago), not O's (answered), not the delivered or displayed ones
    assert [(u.number, u.to, u.proof, u.status_code) for u in r.unproven] == [
        (d["A"].number, SIDORENKO[1], "relayed", "2.0.0"),
        (d["Q"].number, SIDORENKO[1], "failed", "5.1.1"),
    ]
    assert r.unproven_total == 2 and r.unproven[0].accepted_at == kz(16, 11)
    # suggestions: E of the week (resolved), L older and still open; not M (closed), N (later)
    assert [(g.number, g.in_week, g.status, g.executor) for g in r.suggestions] == [
        (d["L"].number, False, "on_resolution", None),
        (d["R"].number, False, "registered", None),
        (d["E"].number, True, "in_work", IVANOVA[0]),
    ]
    assert r.suggestions[2].resolution == "Рассмотреть установку терминала <оплаты> & др."
    assert r.suggestions[0].resolution is None and r.suggestions_total == 3
    assert [(g.decision, g.decision_comment, g.decided_by, g.decided_at) for g in r.suggestions] == [
        ("planned", "в плане на II квартал", PR[0], kz(20, 11)),
        (None, None, None, None),
        ("accepted", "установим в ЦОН", PR[0], kz(20, 10)),
    ]
    assert r.decisions == {"accepted": 1, "rejected": 0, "planned": 1, None: 1}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_all_of_the_week_with_executor_and_proof(reports, kind):
    r, d, _ = reports(kind)
    rows = {x.number: x for x in r.documents}
    assert [x.number for x in r.documents] == [d[k].number for k in "DAEFGQB"]
    a, e, q, b = rows[d["A"].number], rows[d["E"].number], rows[d["Q"].number], rows[d["B"].number]
    assert (a.executor, a.proof, a.deliveries) == (PETROV[0], "relayed", 2)  # the weaker of two
    assert (e.executor, e.proof, e.deliveries) == (IVANOVA[0], "displayed", 1)
    assert (q.proof, q.deliveries) == ("failed", 1)
    assert (b.executor, b.proof, b.deliveries, b.consumer, b.group) == (
        None,
        None,
        0,
        '=HYPERLINK("http://evil")',
        2,
    )


def test_delay_in_minutes_reads_at_a_glance():
    assert [digest_render.minutes(m) for m in (0, 31, 60, 95, 1440, 10020)] == [
        "0",
        "31",
        "60 (1 ч)",
        "95 (1 ч 35 мин)",
        "1440 (1 дн.)",
        "10020 (6 дн. 23 ч)",
    ]


def test_working_days_overdue_match_the_calendar():
    cal = load_rules().calendar
    for today in (dt.date(2026, 3, 23), dt.date(2026, 3, 26), dt.date(2026, 1, 5)):
        late = digest._working_days_since(cal, today - dt.timedelta(days=400), today)
        for back in range(0, 401):
            due = today - dt.timedelta(days=back)
            assert late(due) == cal.working_days_between(due, today), (today, due)
    # overdue on a day off only: the due date has passed, no working day has
    assert (
        digest._working_days_since(cal, dt.date(2026, 3, 20), dt.date(2026, 3, 25))(dt.date(2026, 3, 20)) == 0
    )


def test_long_lists_are_cut_at_the_limit_and_totals_stay_whole(tmp_path):
    r, d, _ = _report(tmp_path, "sqlite", limit=1)
    assert [c.number for c in r.overdue] == [d["L"].number] and r.overdue_total == 3
    assert len(r.unproven) == 1 and r.unproven_total == 2
    # older open suggestions are cut (L kept, R not); the week's own E stays
    assert [g.number for g in r.suggestions] == [d["L"].number, d["E"].number]
    assert r.suggestions_total == 3
    assert len(r.documents) == 7  # the week's own documents are never cut
    summary = _summary_text(digest_render.xlsx(r))
    assert "Лист «Просроченные»: показано 1 из 3" in summary
    assert "Лист «Без подтверждения»: показано 1 из 2" in summary
    assert "Лист «Предложения»: показано 2 из 3" in summary


def test_an_empty_week(tmp_path):
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, "sqlite") as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        with Session(engine) as s:
            r = digest.build(s, load_rules(), W12, NOW)
        engine.dispose()
    assert r.new == r.answered == r.overdue_total == r.unproven_total == r.book_entries == 0
    assert r.counts_by_kind == {**dict.fromkeys(vocabulary.KIND_KEYS, 0), "не определён": 0}
    assert r.by_channel == r.by_origin_unit == r.by_status == r.by_group == {}
    assert r.documents == r.overdue == r.suggestions == ()
    page = _parse(digest_render.html(r, load_rules()))
    assert "overdue" not in page.tables and "Просроченных нет." in page.text
    wb = openpyxl.load_workbook(io.BytesIO(digest_render.xlsx(r)))
    assert wb["Все за неделю"].max_row == 1 and wb["Все за неделю"].auto_filter.ref == "A1:K1"
    assert "0" in digest_render.text(r)


class _Rules:
    """The rules with `chasing` replaced (or taken away): read defensively."""

    def __init__(self, rules, chasing):
        self._rules, self._chasing = rules, chasing

    def __getattr__(self, name):
        if name == "chasing":
            if self._chasing is None:
                raise AttributeError(name)
            return self._chasing
        return getattr(self._rules, name)


def test_book_limit_comes_from_the_rules_when_they_have_it(tmp_path):
    from types import SimpleNamespace

    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, "sqlite") as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        with Session(engine, expire_on_commit=False) as s:
            d = fill(s)
            plain = digest.build(s, _Rules(load_rules(), None), W12, NOW)
            hour = digest.build(s, _Rules(load_rules(), SimpleNamespace(book_max_minutes=60)), W12, NOW)
        engine.dispose()
    assert plain.book_limit_minutes == 30 and len(plain.book_breaches) == 2
    assert hour.book_limit_minutes == 60  # D took 45 minutes: within an hour
    assert [b.number for b in hour.book_breaches] == [d["F"].number]


def test_a_missing_template_is_named(reports, tmp_path):
    """Rules are checked at start-up: a missing or broken weekly template names the file."""
    import shutil

    from mailflow import rules as rules_mod
    from mailflow.config import ConfigError
    from tests.support import REPO

    r, _, rules = reports("sqlite")
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    other = rules_mod.load(tmp_path / "rules")
    (tmp_path / "rules" / "templates" / "weekly.html.j2").unlink()
    with pytest.raises(ConfigError) as exc:  # rendering with rules edited since they were loaded
        digest_render.html(r, other)
    assert "weekly.html.j2" in str(exc.value)
    with pytest.raises(ConfigError) as exc:
        rules_mod.load(tmp_path / "rules")
    assert "weekly.html.j2" in str(exc.value)
    digest_render.check(rules)  # the shipped rules are fine
    (tmp_path / "rules" / "templates" / "weekly.html.j2").write_text("{% if %}")
    with pytest.raises(ConfigError) as exc:
        rules_mod.load(tmp_path / "rules")
    assert "line 1" in str(exc.value)
    assert digest_render.filename(r) == "monitoring-2026-W12.xlsx"


def test_naive_now_is_refused(tmp_path):
    with pytest.raises(ValueError):
        digest.build(None, load_rules(), W12, dt.datetime(2026, 3, 26, 10))


# --- the workbook -------------------------------------------------------------------------------


def _summary_text(data: bytes) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(
        " | ".join("" if v is None else str(v) for v in row)
        for row in wb["Сводка"].iter_rows(values_only=True)
    )


def test_xlsx_sheets_headers_filters_and_cells(reports):
    r, d, _ = reports("sqlite")
    wb = openpyxl.load_workbook(io.BytesIO(digest_render.xlsx(r)))
    assert wb.sheetnames == [
        "Сводка",
        "Просроченные",
        "Все за неделю",
        "Книга — 30 минут",
        "Без подтверждения",
        "Предложения",
    ]
    headers = {
        "Просроченные": [
            "Вх. номер",
            "Дата регистрации",
            "Вид",
            "Потребитель / организация",
            "Исполнитель",
            "Подразделение исполнителя",
            "Срок ответа",
            "Просрочено, раб. дней",
            "Подразделение (поступило из)",
            "Состояние",
        ],
        "Все за неделю": [
            "Вх. номер",
            "Дата регистрации",
            "Вид",
            "Группа",
            "Канал",
            "Подразделение",
            "Потребитель / организация",
            "Состояние",
            "Срок ответа",
            "Исполнитель",
            "Подтверждение получения",
        ],
        "Книга — 30 минут": [
            "Вх. номер",
            "Запись в Книге",
            "Передано ПР-специалисту",
            "Задержка, мин",
            "Вид",
            "Потребитель / организация",
            "Подразделение",
        ],
        "Без подтверждения": [
            "Вх. номер",
            "Адресат",
            "Отправлено",
            "Принято сервером",
            "Достигнуто",
            "Код статуса",
        ],
        "Предложения": [
            "Вх. номер",
            "Дата регистрации",
            "Потребитель / организация",
            "Подразделение",
            "Канал",
            "Состояние",
            "Резолюция",
            "Исполнитель",
            "Срок ответа",
            "Закрыто",
            "Поступило за неделю",
            "Решение (п. 2.14)",
            "Комментарий к решению",
            "Решение записал",
            "Дата решения",
        ],
    }
    rows_expected = {
        "Просроченные": 3,
        "Все за неделю": 7,
        "Книга — 30 минут": 2,
        "Без подтверждения": 2,
        "Предложения": 3,
    }
    for name, hdr in headers.items():
        ws = wb[name]
        assert [c.value for c in ws[1]] == hdr, name
        assert ws.freeze_panes == "A2", name
        last = openpyxl.utils.get_column_letter(len(hdr))
        assert ws.auto_filter.ref == f"A1:{last}{rows_expected[name] + 1}", name
        assert ws.max_row == rows_expected[name] + 1, name
        assert all(c.font.bold for c in ws[1])
        assert ws.column_dimensions["A"].width >= 15
    ws = wb["Все за неделю"]
    row = {h: c for h, c in zip(headers["Все за неделю"], ws[3])}  # A, second of the week
    assert row["Вх. номер"].value == d["A"].number
    assert row["Дата регистрации"].value == dt.datetime(2026, 3, 16, 9, 0)  # local time
    assert row["Дата регистрации"].number_format == "DD.MM.YYYY HH:MM"
    assert (row["Вид"].value, row["Группа"].value, row["Канал"].value) == ("жалоба", 1, "РЭС / РУСЭ")
    assert row["Подразделение"].value == "Айыртауский РЭС"
    assert row["Потребитель / организация"].value == "Ахметов Болат"
    assert row["Состояние"].value == "в работе у исполнителя"
    assert row["Срок ответа"].value.date() == dt.date(2026, 3, 20)
    assert row["Исполнитель"].value == PETROV[0]
    assert row["Подтверждение получения"].value == "передано дальше (без отчёта)"
    evil = ws[8]  # B: the organisation's name is text, not a formula
    assert evil[0].value == d["B"].number and evil[6].value == '=HYPERLINK("http://evil")'
    assert evil[6].data_type == "s"
    assert (evil[9].value, evil[10].value) == ("резолюции нет", "не пересылалось")
    over = wb["Просроченные"]
    assert [c.value for c in over[2]][:1] == [d["L"].number]
    assert over.cell(2, 5).value == "резолюции нет" and over.cell(2, 8).value == 13
    assert over.cell(3, 5).value == PETROV[0] and over.cell(3, 8).value == 1
    assert over.cell(3, 7).value.date() == dt.date(2026, 3, 20)
    book = wb["Книга — 30 минут"]
    assert [c.value for c in book[2]][:4] == [
        d["D"].number,
        dt.datetime(2026, 3, 15, 23, 20),
        dt.datetime(2026, 3, 16, 0, 5),
        45,
    ]
    assert book.cell(3, 3).value == "не передано"
    unp = wb["Без подтверждения"]
    assert [c.value for c in unp[3]] == [
        d["Q"].number,
        SIDORENKO[1],
        dt.datetime(2026, 3, 20, 10),
        dt.datetime(2026, 3, 20, 10),
        "не доставлено",
        "5.1.1",
    ]
    sug = wb["Предложения"]
    assert [c.value for c in sug[4]] == [
        d["E"].number,
        dt.datetime(2026, 3, 18, 10),
        "Ким",
        "Сервис-центр № 2",
        "Книга отзывов и предложений",
        "в работе у исполнителя",
        "Рассмотреть установку терминала <оплаты> & др.",
        IVANOVA[0],
        dt.datetime(2026, 4, 8),
        None,
        "да",
        "принято",
        "установим в ЦОН",
        PR[0],
        dt.datetime(2026, 3, 20, 10),
    ]
    assert [c.value for c in sug[3]][11:] == ["без решения", None, None, None]
    assert [c.value for c in sug[2]][11:] == [
        "запланировано",
        "в плане на II квартал",
        PR[0],
        dt.datetime(2026, 3, 20, 11),
    ]
    assert (sug.cell(2, 7).value, sug.cell(2, 11).value, sug.cell(3, 5).value) == (
        "резолюции нет",
        "нет",
        "Электронная почта",
    )
    summary = {row[0]: row[1] for row in wb["Сводка"].iter_rows(values_only=True) if row[0]}
    assert summary["Неделя"] == "2026-W12" and summary["Период"] == "16.03.2026 – 22.03.2026"
    assert summary["Поступило за неделю"] == 7 and summary["Отвечено за неделю"] == 4
    assert summary["— в срок"] == 3 and summary["— с нарушением срока"] == 1
    assert summary["Просрочено на 26.03.2026"] == 3
    assert summary["Резолюций без подтверждения получения"] == 2
    assert summary["жалоба"] == 2 and summary["не определён"] == 1
    assert summary["Книга отзывов и предложений"] == 4 and summary["I — физические лица"] == 6


# --- the e-mail ---------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Tables by id: lists of rows of cell texts (lines of a cell joined by " / ");
    and everything the page says."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []
        self._stack: list[str | None] = []
        self._cell: list[str] | None = None
        self._chunks: list[str] = []

    @property
    def text(self) -> str:
        return " ".join(" ".join(self._chunks).split())

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += attrs
        if tag == "table":
            tid = dict(attrs).get("id")
            self._stack.append(tid)
            if tid:
                self.tables[tid] = []
        elif tag == "tr" and self._stack and self._stack[-1]:
            self.tables[self._stack[-1]].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag == "table":
            self._stack.pop()
        elif tag in ("td", "th") and self._cell is not None:
            if self._stack and self._stack[-1]:
                lines = (" ".join(x.split()) for x in "".join(self._cell).split("\n"))
                self.tables[self._stack[-1]][-1].append(" / ".join(lines))
            self._cell = None

    def handle_data(self, data):
        self._chunks.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _parse(markup: str) -> _Page:
    p = _Page()
    p.feed(markup)
    p.close()
    return p


def test_html_email_tables(reports):
    r, d, rules = reports("sqlite")
    markup = digest_render.html(r, rules)
    page = _parse(markup)
    assert "script" not in page.tags and "img" not in page.tags and "style" not in page.tags
    assert not any(k.startswith("on") for k, _ in page.attrs)  # no event handlers
    assert not any(k == "class" for k, _ in page.attrs)  # inline styles only
    assert "Мониторинг жалоб, претензий, отзывов и предложений потребителей" in page.text
    assert "16.03.2026 – 22.03.2026" in page.text and "2026-W12" in page.text
    summary = dict((a, b) for a, b in page.tables["summary"])
    assert summary["Поступило за неделю"] == "7" and summary["Отвечено за неделю"] == "4"
    assert summary["в срок"] == "3" and summary["с нарушением срока"] == "1"
    assert summary["Просрочено на 26.03.2026"] == "3"
    assert summary["Резолюций без подтверждения получения"] == "2"
    assert dict(page.tables["kinds"]) == {
        "заявление": "1",
        "жалоба": "2",
        "претензия": "1",
        "отзыв": "1",
        "предложение": "1",
        "обращение": "0",
        "не определён": "1",
    }
    assert dict(page.tables["channels"]) == {
        "РЭС / РУСЭ": "2",
        "Книга отзывов и предложений": "4",
        "Письменно (канцелярия)": "1",
    }
    assert dict(page.tables["units"]) == {"Айыртауский РЭС": "2", "Сервис-центр № 2": "2", "—": "3"}
    assert dict(page.tables["statuses"]) == {"зарегистрировано": "4", "в работе у исполнителя": "3"}
    over = page.tables["overdue"]
    assert over[0] == ["Вх. номер, вид", "Потребитель, откуда", "Исполнитель", "Срок, просрочено"]
    assert over[1] == [
        f"{d['L'].number} / предложение",
        "Орлова / —",
        "резолюции нет",
        "03.03.2026 / 13 раб. дн.",
    ]
    assert over[2] == [
        f"{d['A'].number} / жалоба",
        "Ахметов Болат / Айыртауский РЭС",
        f"{PETROV[0]} / Служба распределительных сетей",
        "20.03.2026 / 1 раб. дн.",
    ]
    assert len(over) == 4
    assert page.tables["book"][1:] == [
        [f"{d['D'].number} / Сервис-центр № 2", "15.03.2026 23:20", "16.03.2026 00:05", "45"],
        [f"{d['F'].number} / —", "19.03.2026 11:00", "не передано", "10020 (6 дн. 23 ч)"],
    ]
    assert page.tables["unproven"][1:] == [
        [d["A"].number, SIDORENKO[1], "16.03.2026 11:00", "передано дальше (без отчёта)"],
        [d["Q"].number, SIDORENKO[1], "20.03.2026 10:00", "не доставлено"],
    ]
    sug = page.tables["suggestions"]
    assert sug[0][3] == "Состояние, исполнитель, решение (п. 2.14)"
    assert sug[1] == [
        f"{d['L'].number} / 10.02.2026",
        "Орлова",
        "резолюции нет",
        "на резолюции / Решение: запланировано: в плане на II квартал",
    ]
    assert sug[2][3] == "зарегистрировано / Решение: без решения"
    assert sug[3] == [
        f"{d['E'].number} / 18.03.2026",
        "Ким",
        "Рассмотреть установку терминала <оплаты> & др.",
        f"в работе у исполнителя / {IVANOVA[0]} / Решение: принято: установим в ЦОН",
    ]
    assert (summary["решение: принято"], summary["решение: отклонено"], summary["без решения"]) == (
        "1",
        "0",
        "1",
    )
    assert "<оплаты>" not in markup and "&lt;оплаты&gt; &amp; др." in markup  # escaped
    assert "Сулейменова Айгуль Маратовна" in page.text  # prepared by the PR specialist
    subject = digest_render.subject(r, rules)
    assert subject == (
        "Мониторинг жалоб, претензий, отзывов и предложений потребителей — "
        "неделя 2026-W12 (16.03.2026 – 22.03.2026)"
    )


def test_html_cuts_long_lists_and_points_to_the_workbook(reports, monkeypatch, tmp_path):
    r, d, rules = reports("sqlite")
    monkeypatch.setattr(digest_render, "EMAIL_ROWS", 2)
    page = _parse(digest_render.html(r, rules))
    assert len(page.tables["overdue"]) == 3  # header + 2
    assert "Показано 2 из 3; полный список — в приложенном файле XLSX." in page.text
    assert "… ещё 1; полный список — в приложенном файле XLSX" in digest_render.text(r)
    short, *_ = _report(tmp_path, "sqlite", limit=1)  # the workbook holds only the oldest one
    text = " ".join(_parse(digest_render.html(short, rules)).text.split())
    assert "Показано 1 из 3; в приложенном файле XLSX — первые 1." in text


def test_plain_text_alternative(reports):
    r, d, _ = reports("sqlite")
    t = digest_render.text(r)
    assert t.startswith("Мониторинг жалоб, претензий, отзывов и предложений потребителей\n")
    assert "Неделя 2026-W12: 16.03.2026 – 22.03.2026" in t
    lines = t.splitlines()
    assert any(line.startswith("Поступило за неделю") and line.rstrip().endswith(" 7") for line in lines)
    assert "ПРОСРОЧЕННЫЕ на 26.03.2026: 3" in t
    assert (
        f"  {d['A'].number}, жалоба · Ахметов Болат, Айыртауский РЭС · {PETROV[0]}, "
        "Служба распределительных сетей · 20.03.2026, 1 раб. дн."
    ) in t
    assert "  жалоба: 2" in t and "  не определён: 1" in t
    assert "<" not in t.replace("<оплаты>", "")


# --- through the real pipeline ------------------------------------------------------------------

DIRECTOR = "director@sevkaz.example"


def _outbox(cfg):
    return [
        email.message_from_bytes(f.read_bytes(), policy=policy.default)
        for f in sorted((cfg.home / "outbox" / "new").glob("*"))
    ]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_report_over_a_journal_the_daemon_wrote(tmp_path, kind):
    with database_urls(tmp_path, kind) as url:
        cfg, rules = home_config(tmp_path, url), load_rules()
        recognize = fake_recognizer()
        deliver(
            cfg.home / "inbox",
            text_appeal(frm="ayyrtau-res@sevkaz.example", body="Направляю жалобу потребителя"),
            "m1",
        )
        deliver(
            cfg.home / "inbox",
            text_appeal(
                frm="kanc-sbyt@sevkaz.example", subject="Книга отзывов: запись", body="Запись: предложение"
            ),
            "m2",
        )
        daemon.run_once(cfg, rules, recognize=recognize)
        mgmt = next(
            m for m in _outbox(cfg) if m["X-Mailflow-Kind"] == "management" and "жалоба" in m["Subject"]
        )
        reply = email.message.EmailMessage()
        reply["From"], reply["To"] = DIRECTOR, "mailflow@localhost"
        reply["Subject"] = "Re: " + mgmt["Subject"]
        reply["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        reply["Message-ID"] = make_msgid(domain="phone.example")
        reply["In-Reply-To"] = reply["References"] = mgmt["Message-ID"]
        reply.set_content("Петрову А.С., Сидоренко — рассмотреть, подготовить ответ.")
        deliver(cfg.home / "inbox", reply.as_bytes(), "m3")
        daemon.run_once(cfg, rules, recognize=recognize)

        now = dt.datetime.now(dt.UTC)
        week = Week.of(now)
        later = now + dt.timedelta(days=2)  # past the 24 h a delivery report may take
        engine = db.make_engine(url)
        with Session(engine) as s:
            r = digest.build(s, rules, week, later)
        engine.dispose()
    assert r.new == 2 and r.counts_by_kind["жалоба"] == 1 and r.counts_by_kind["предложение"] == 1
    assert r.by_channel == {"res": 1, "book": 1}
    assert r.by_origin_unit == {"Айыртауский РЭС": 1, "Севказэнергосбыт": 1}
    complaint = next(x for x in r.documents if x.kind == "жалоба")
    assert complaint.number == mgmt["X-Mailflow-Number"]
    assert complaint.executor == "Петров Алексей Сергеевич" and complaint.status == "in_work"
    assert complaint.proof == "accepted" and complaint.deliveries == 2
    assert {u.to for u in r.unproven} == {"petrov@sevkaz.example", "sidorenko@sevkaz.example"}
    assert {u.proof for u in r.unproven} == {"accepted"}
    [sugg] = r.suggestions
    assert sugg.in_week and sugg.resolution is None and sugg.channel == "book"
    assert r.book_entries == 1
    page = _parse(digest_render.html(r, rules))
    assert page.tables["suggestions"][1][0].startswith(sugg.number + " / ")
    wb = openpyxl.load_workbook(io.BytesIO(digest_render.xlsx(r)))
    assert wb["Все за неделю"].max_row == 3
