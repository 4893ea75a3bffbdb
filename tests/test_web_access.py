"""Every role × the workplace's newer endpoints (dashboard, weekly report,
registers, queues, exports, tokens): allowed and refused, as rules/access.toml
says; unsigned requests are refused before anything is read."""

from __future__ import annotations

import pytest

from tests.test_web import CLERK, DIRECTOR, EXECUTOR, HEAD, OTHER, PR, workplace

ROLES = {CLERK: "clerk", PR: "pr", DIRECTOR: "director", EXECUTOR: "executor", HEAD: "head", OTHER: "other"}
MANAGERS = {CLERK, PR, DIRECTOR}  # see every case, have "report" (and some "registers")
# endpoint → who may (everyone else: 403)
ALLOWED = {
    "/dashboard": set(ROLES),  # own-case roles: the board of their own cases
    "/api/dashboard": set(ROLES),
    "/dashboard/report.xlsx": MANAGERS,
    "/queues": {CLERK},
    "/api/queues/review": {CLERK},
    "/api/queues/outbox": {CLERK},
    "/api/cases.csv": set(ROLES),  # each their own cases (tests/test_web_exports.py)
    "/api/cases.xlsx": set(ROLES),
    "/tokens": set(ROLES),
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def signed(request, tmp_path_factory):
    """One workplace per database, every role signed in once (the matrix only reads)."""
    with workplace(tmp_path_factory.mktemp(request.param), request.param) as w:
        yield w, {who: w.sign_in(who) for who in ROLES}


@pytest.mark.parametrize("url", sorted(ALLOWED))
@pytest.mark.parametrize("who", sorted(ROLES), ids=lambda w: ROLES[w])
def test_each_role_is_allowed_or_refused(signed, who, url):
    w, clients = signed
    r = clients[who].get(url)
    assert r.status_code == (200 if who in ALLOWED[url] else 403), (who, url, r.text[:200])


@pytest.mark.parametrize("who", sorted(ROLES), ids=lambda w: ROLES[w])
def test_registers_and_the_report_follow_their_own_rights(signed, who):
    w, clients = signed
    body = clients[who].get("/api/dashboard").json()
    if who not in MANAGERS:  # their own cases' board, without the organisation's report
        assert body["scope"] == "own" and body["report"] is None and body["registers"] == []
        return
    assert body["scope"] == "all"
    assert body["report"] is not None  # all three have "report"
    assert bool(body["registers"]) is (who in {CLERK, PR})  # the director has no "registers"
    html = clients[who].get("/").text
    assert ('id="nav-dashboard"' in html) is True and ('id="nav-queues"' in html) is (who == CLERK)


@pytest.mark.parametrize("who", sorted(set(ROLES) - MANAGERS), ids=lambda w: ROLES[w])
def test_own_case_roles_get_their_board_but_no_queues(signed, who):
    w, clients = signed
    html = clients[who].get("/").text
    assert 'id="nav-dashboard"' in html and 'id="nav-queues"' not in html
    board = clients[who].get("/dashboard").text
    assert 'id="own-scope"' in board and 'id="report-xlsx"' not in board and 'id="registers"' not in board


@pytest.mark.parametrize("url", sorted(ALLOWED))
def test_without_a_session_nothing_is_read(signed, url):
    w, _ = signed
    r = w.client().get(url)
    if url.startswith("/api/"):
        assert r.status_code == 401
    else:
        assert r.status_code == 303 and r.headers["location"] == "/login"
