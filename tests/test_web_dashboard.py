"""The dashboard (/dashboard, /api/dashboard, /dashboard/report.xlsx): every
number it shows links to the journal filtered to exactly the cases it counts."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import parse_qsl, urlsplit

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from mailflow.models import Document, Monitoring
from mailflow.values import KZ_TZ
from tests.test_web import CLERK, DIRECTOR, EXECUTOR, HEAD, OTHER, PR, workplace


@pytest.fixture(params=["sqlite", "postgresql"])
def wp(request, tmp_path):
    with workplace(tmp_path, request.param) as w:
        yield w


def _due(wp, number: str, days: int) -> None:
    """Move a case's due date (the law's term would put it weeks away)."""
    with Session(wp.parts.engine) as s, s.begin():
        doc = s.exec(select(Document).where(Document.number == number)).one()
        doc.due_date = dt.datetime.now(KZ_TZ).date() + dt.timedelta(days=days)


def _listed(c, url: str) -> list[str]:
    """The case numbers the journal lists at a dashboard link (through the API)."""
    parts = urlsplit(url)
    assert parts.path == "/"
    items = c.get("/api/cases", params=parse_qsl(parts.query)).json()["items"]
    return sorted(i["incoming_number"] for i in items)


def _counts(body: dict) -> list[dict]:
    """Every {"count", "url"} in the dashboard's answer."""
    found = []

    def walk(v):
        if isinstance(v, dict):
            if "count" in v and "url" in v:
                found.append(v)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(body)
    return found


def test_overdue_and_due_this_week_by_executor_and_unit_link_to_their_cases(wp):
    _due(wp, wp.number, -3)  # Сидоренко's case, three days late
    _due(wp, wp.other, 0)  # no resolution yet, due today
    c = wp.sign_in(CLERK)
    body = c.get("/api/dashboard").json()
    assert body["overdue"]["count"] == 1 and _listed(c, body["overdue"]["url"]) == [wp.number]
    assert body["due_week"]["count"] == 1 and _listed(c, body["due_week"]["url"]) == [wp.other]
    [line] = body["by_executor"]
    assert line["email"] == EXECUTOR and "Сидоренко" in line["label"]
    assert line["overdue"]["count"] == 1 and line["due_week"]["count"] == 0
    assert _listed(c, line["overdue"]["url"]) == [wp.number]
    assert body["unassigned"] == {"overdue": 0, "due_week": 1}
    assert sum(u["overdue"]["count"] for u in body["by_unit"]) == 1
    assert sum(u["due_week"]["count"] for u in body["by_unit"]) == 1
    # whatever else it shows: each linked number is what the journal lists there
    for n in _counts(body):
        if n["url"]:
            assert len(_listed(c, n["url"])) == n["count"], n


def test_own_case_roles_see_the_board_of_their_own_cases(wp):
    """The executor and his unit head see his late case; an executor of another unit
    sees none; nobody of them sees the case without a resolution, nor the report."""
    _due(wp, wp.number, -3)  # Сидоренко's case, three days late
    _due(wp, wp.other, 0)  # no resolution: nobody's own case
    for who, mine in ((EXECUTOR, [wp.number]), (HEAD, [wp.number]), (OTHER, [])):
        c = wp.sign_in(who)
        body = c.get("/api/dashboard").json()
        assert body["scope"] == "own" and body["report"] is None and body["registers"] == [], who
        assert body["overdue"]["count"] == len(mine), who
        assert body["due_week"]["count"] == 0 and body["unassigned"] == {"overdue": 0, "due_week": 0}, who
        assert [line["email"] for line in body["by_executor"]] == ([EXECUTOR] if mine else []), who
        assert sum(u["overdue"]["count"] for u in body["by_unit"]) == len(mine), who
        if mine:
            assert _listed(c, body["overdue"]["url"]) == mine
        for n in _counts(body):  # each number is what this person's journal lists there
            if n["url"] and n["count"]:
                assert len(_listed(c, n["url"])) == n["count"], (who, n)
        # asking for more changes nothing: no scope parameter, no widening by a link
        widened = c.get("/api/dashboard", params={"scope": "all", "executor": EXECUTOR}).json()
        assert widened["scope"] == "own" and widened["overdue"]["count"] == len(mine), who
        assert _listed(c, f"/?overdue=1&executor={EXECUTOR}") == mine, who
        assert c.get("/dashboard/report.xlsx").status_code == 403, who
    # the same cases in the organisation's board
    assert wp.sign_in(CLERK).get("/api/dashboard").json()["due_week"]["count"] == 1


def test_a_closed_case_is_neither_overdue_nor_due(wp):
    _due(wp, wp.number, -3)
    with Session(wp.parts.engine) as s, s.begin():
        s.exec(select(Document).where(Document.number == wp.number)).one().status = "closed"
    body = wp.sign_in(CLERK).get("/api/dashboard").json()
    assert body["overdue"]["count"] == 0 and body["by_executor"] == []


def test_the_weekly_report_and_registers_with_their_numbers(wp):
    with Session(wp.parts.engine) as s, s.begin():
        doc = s.exec(select(Document).where(Document.number == wp.other)).one()
        s.add(
            Monitoring(
                register_key="reviews",
                year=doc.year,
                seq=7,
                document_id=doc.id,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    c = wp.sign_in(PR)
    body = c.get("/api/dashboard").json()
    report = body["report"]
    assert report["new"]["count"] == 2 and _listed(c, report["new"]["url"]) == sorted([wp.number, wp.other])
    assert report["figures"][0] == {"label": "Поступило за неделю", "value": 2, "attention": False}
    reviews = [r for r in body["registers"] if r["register"] == "reviews"]
    assert reviews[0]["entries"]["count"] == 1 and reviews[0]["last_number"] == f"7/{wp.doc().year}"
    assert _listed(c, reviews[0]["entries"]["url"]) == [wp.other]
    html = c.get("/dashboard").text
    assert 'id="registers"' in html and f"7/{wp.doc().year}" in html and 'id="report-xlsx"' in html


def test_the_report_downloads_as_the_monday_workbook(wp):
    r = wp.sign_in(DIRECTOR).get("/dashboard/report.xlsx")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    assert len(wb.sheetnames) > 1


def test_the_dashboard_page_links_each_number(wp):
    _due(wp, wp.number, -1)
    html = wp.sign_in(CLERK).get("/dashboard").text
    assert 'id="overdue"><a href="/?overdue=1">1</a>' in html
    assert f"executor={EXECUTOR.replace('@', '%40')}&amp;overdue=1" in html
    # a director sees the report but no registers (not in their rights)
    body = wp.sign_in(DIRECTOR).get("/api/dashboard").json()
    assert body["report"] is not None and body["registers"] == []


def test_a_due_by_filter_on_the_journal(wp):
    _due(wp, wp.number, 2)
    _due(wp, wp.other, 20)
    c = wp.sign_in(CLERK)
    by = (dt.datetime.now(KZ_TZ).date() + dt.timedelta(days=5)).isoformat()
    assert [i["incoming_number"] for i in c.get("/api/cases", params={"due_by": by}).json()["items"]] == [
        wp.number
    ]
    html = c.get("/", params={"due_by": by}).text
    assert 'id="board-filter"' in html and f'name="due_by" value="{by}"' in html


def test_a_book_breach_links_to_its_case(wp):
    with Session(wp.parts.engine) as s, s.begin():
        doc = s.exec(select(Document).where(Document.number == wp.other)).one()
        doc.channel, doc.book_entry_at = "book", doc.registered_at - dt.timedelta(minutes=5)
        doc.pr_forwarded_at = doc.registered_at + dt.timedelta(minutes=50)  # 55 minutes after the entry
    c = wp.sign_in(CLERK)
    breaches = c.get("/api/dashboard").json()["report"]["book_breaches"]
    assert breaches["count"] == 1 and breaches["items"][0]["delay_minutes"] == 55
    assert _listed(c, breaches["url"]) == [wp.other]
    assert f"number={wp.other}" in c.get("/dashboard").text.replace("%D0%92%D0%A5", "ВХ")


def test_the_journal_counts_only_when_the_first_page_is_full(wp, monkeypatch):
    from mailflow.web import cases

    c = wp.sign_in(CLERK)
    one = c.get("/api/cases", params={"q": wp.number}).json()
    assert (one["total"], one["pages"], one["more"]) == (1, 1, False)
    monkeypatch.setattr(cases, "PAGE_SIZE", 1)
    first, second = c.get("/api/cases").json(), c.get("/api/cases", params={"page": 2}).json()
    assert (first["total"], first["pages"], second["page"]) == (2, 2, 2)
    assert {first["items"][0]["incoming_number"], second["items"][0]["incoming_number"]} == {
        wp.number,
        wp.other,
    }
    beyond = c.get("/api/cases", params={"page": 9}).json()
    assert beyond["page"] == 2 and beyond["items"] == second["items"]
    narrow = c.get("/api/cases", params={"q": wp.number, "page": 3}).json()
    assert narrow["page"] == 1 and [i["incoming_number"] for i in narrow["items"]] == [wp.number]
