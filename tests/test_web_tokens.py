"""Per-person API tokens: made at /tokens (CSRF), shown once, stored hashed,
accepted as `Authorization: Bearer` with the person's own roles, revoked by
their owner only; each made and revoked token is an event."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import Session, select

from mailflow.models import ApiToken
from tests.test_web import CLERK, EXECUTOR, PR, workplace


@pytest.fixture(params=["sqlite", "postgresql"])
def wp(request, tmp_path):
    with workplace(tmp_path, request.param) as w:
        yield w


def _make(c, name: str = "выгрузка в 1С") -> tuple[str, int]:
    r = c.post("/tokens", data={"csrf": c.cookies.get("csrftoken"), "name": name})
    assert r.status_code == 201, r.text
    token = re.search(r'<pre id="token">([^<]+)</pre>', r.text).group(1)
    key_id = int(re.search(r'action="/tokens/(\d+)/revoke"', r.text).group(1))
    return token, key_id


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_shown_once_stored_hashed_and_acts_as_its_person(wp):
    c = wp.sign_in(CLERK)
    token, key_id = _make(c)
    assert token.startswith("mf_") and len(token) > 40
    assert token not in c.get("/tokens").text  # only on the answer that made it
    assert "выгрузка в 1С" in c.get("/tokens").text
    with Session(wp.parts.engine) as s:
        row = s.exec(select(ApiToken)).one()
        assert row.email == CLERK and token not in row.token_hash and row.prefix == token[:10]
        made, expires = row.created_at, row.expires_at
    assert expires == made + dt.timedelta(days=90)  # rules/access.toml api_tokens.days
    [ev] = wp.events("api_token_created")
    assert ev == {
        "email": CLERK,
        "token_id": key_id,
        "name": "выгрузка в 1С",
        "prefix": token[:10],
        "expires_at": expires.isoformat(),
    }
    api = wp.client()  # no cookie: the header alone
    assert api.get("/api/cases", headers=_bearer(token)).json()["total"] == 2
    # changes need no CSRF token with a bearer token, and the event names the person
    r = api.patch(
        f"/api/cases/{wp.number}", json={"consumer": {"first_name": "Болат"}}, headers=_bearer(token)
    )
    assert r.status_code == 200, r.text
    assert wp.events("corrected")[0]["by"] == CLERK


def test_a_token_has_the_roles_of_its_person_not_more(wp):
    c = wp.sign_in(EXECUTOR)
    token, _ = _make(c)
    api = wp.client()
    assert [i["incoming_number"] for i in api.get("/api/cases", headers=_bearer(token)).json()["items"]] == [
        wp.number
    ]
    r = api.patch(f"/api/cases/{wp.number}", json={"kind": "отзыв"}, headers=_bearer(token))
    assert r.status_code == 403
    assert api.get("/api/queues/review", headers=_bearer(token)).status_code == 403
    assert api.get("/api/dashboard", headers=_bearer(token)).json()["scope"] == "own"


def test_a_revoked_or_wrong_token_is_refused(wp):
    c = wp.sign_in(CLERK)
    token, key_id = _make(c)
    api = wp.client()
    assert api.get("/api/cases", headers=_bearer(token)).status_code == 200
    r = c.post(f"/tokens/{key_id}/revoke", data={"csrf": c.cookies.get("csrftoken")})
    assert r.status_code == 303
    assert api.get("/api/cases", headers=_bearer(token)).status_code == 401
    [ev] = wp.events("api_token_revoked")
    assert ev["email"] == CLERK and ev["token_id"] == key_id
    for header in (f"Bearer {token}x", "Bearer mf_forged", f"Basic {token}", "Bearer "):
        assert api.get("/api/cases", headers={"Authorization": header}).status_code == 401
    # a wrong header is not rescued by a valid cookie
    assert c.get("/api/cases", headers={"Authorization": "Bearer mf_forged"}).status_code == 401
    # revoking twice: nothing left to revoke, no second event
    assert c.post(f"/tokens/{key_id}/revoke", data={"csrf": c.cookies.get("csrftoken")}).status_code == 404
    assert len(wp.events("api_token_revoked")) == 1


def _expire(wp, key_id: int, *, by: dt.timedelta = dt.timedelta(seconds=1)) -> None:
    with Session(wp.parts.engine) as s, s.begin():
        s.get(ApiToken, key_id).expires_at = dt.datetime.now(dt.UTC) - by


@pytest.mark.parametrize("expiry", ["past", "none"])
def test_an_expired_token_is_refused_shown_as_such_and_not_counted(wp, expiry, monkeypatch):
    c = wp.sign_in(CLERK)
    token, key_id = _make(c)
    api = wp.client()
    assert api.get("/api/cases", headers=_bearer(token)).status_code == 200
    if expiry == "past":
        _expire(wp, key_id)
    else:  # no expiry recorded (a row written by hand): refused, never "forever"
        with Session(wp.parts.engine) as s, s.begin():
            s.get(ApiToken, key_id).expires_at = None
    assert api.get("/api/cases", headers=_bearer(token)).status_code == 401
    # the cookie alongside does not rescue the expired key either
    assert c.get("/api/cases", headers=_bearer(token)).status_code == 401
    page = c.get("/tokens").text
    assert "истёк" in page and f'action="/tokens/{key_id}/revoke"' not in page
    # nothing to revoke, no event
    assert c.post(f"/tokens/{key_id}/revoke", data={"csrf": c.cookies.get("csrftoken")}).status_code == 404
    assert wp.events("api_token_revoked") == []
    # an expired key does not count against the limit of live keys
    from mailflow.web import tokens

    monkeypatch.setattr(tokens, "MAX_PER_PERSON", 1)
    new, _ = _make(c, "новый")
    assert api.get("/api/cases", headers=_bearer(new)).status_code == 200
    r = c.post("/tokens", data={"csrf": c.cookies.get("csrftoken"), "name": "третий"})
    assert r.status_code == 400 and "действующих ключей" in r.text


def test_a_token_works_until_its_last_moment(wp):
    c = wp.sign_in(CLERK)
    token, key_id = _make(c)
    with Session(wp.parts.engine) as s, s.begin():
        s.get(ApiToken, key_id).expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert wp.client().get("/api/cases", headers=_bearer(token)).status_code == 200
    assert "действует до" in c.get("/tokens").text


def test_making_and_revoking_need_the_csrf_token(wp):
    c = wp.sign_in(CLERK)
    assert c.post("/tokens", data={"name": "x"}).status_code == 403
    assert c.post("/tokens", data={"name": "x", "csrf": "wrong"}).status_code == 403
    assert wp.events("api_token_created") == []
    _, key_id = _make(c)
    assert c.post(f"/tokens/{key_id}/revoke", data={}).status_code == 403
    assert c.post(f"/tokens/{key_id}/revoke", data={"csrf": "wrong"}).status_code == 403
    assert wp.events("api_token_revoked") == []


def test_another_persons_token_cannot_be_revoked_or_seen(wp):
    clerk, pr = wp.sign_in(CLERK), wp.sign_in(PR)
    token, key_id = _make(clerk, "клерк")
    assert "клерк" not in pr.get("/tokens").text
    r = pr.post(f"/tokens/{key_id}/revoke", data={"csrf": pr.cookies.get("csrftoken")})
    assert r.status_code == 404
    assert wp.client().get("/api/cases", headers=_bearer(token)).status_code == 200
    assert wp.events("api_token_revoked") == []


def test_a_token_cannot_make_or_revoke_tokens(wp):
    c = wp.sign_in(CLERK)
    token, key_id = _make(c)
    api = wp.client()
    assert api.get("/tokens", headers=_bearer(token)).status_code == 403
    assert api.post("/tokens", data={"name": "ещё"}, headers=_bearer(token)).status_code == 403
    assert api.post(f"/tokens/{key_id}/revoke", headers=_bearer(token)).status_code == 403
    assert len(wp.events("api_token_created")) == 1 and wp.events("api_token_revoked") == []


@pytest.mark.parametrize(
    "name, why", [("", "Назовите ключ"), ("   ", "Назовите ключ"), ("x" * 101, "длиннее")]
)
def test_a_bad_name_is_refused_and_nothing_made(wp, name, why):
    c = wp.sign_in(CLERK)
    r = c.post("/tokens", data={"csrf": c.cookies.get("csrftoken"), "name": name})
    assert r.status_code == 400 and why in r.text
    assert wp.events("api_token_created") == []
