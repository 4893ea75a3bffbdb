"""Optional single sign-on: `[web] remote_user_header` is believed only when the
TCP peer is one of `trusted_proxies`; never from X-Forwarded-For."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from mailflow import config, daemon
from mailflow.config import ConfigError, WebConfig
from tests.test_web import CLERK, PR, workplace

HEADER = "X-Remote-User"
PROXY, STRANGER = ("10.0.0.5", 40000), ("192.0.2.7", 40000)


@pytest.fixture(params=["sqlite", "postgresql"])
def sso(request, tmp_path):
    with workplace(tmp_path, request.param) as w:
        daemon.close(w.parts)
        cfg = dataclasses.replace(
            w.cfg, web=WebConfig(remote_user_header=HEADER, trusted_proxies=("10.0.0.0/24", "::1"))
        )
        w.app, w.parts = daemon.web(cfg, w.rules, "http://testserver")
        yield w


def _from(w, peer) -> TestClient:
    return TestClient(w.app, follow_redirects=False, client=peer)


def test_a_trusted_proxy_names_the_person_and_a_session_starts(sso):
    c = _from(sso, PROXY)
    r = c.get("/api/cases", headers={HEADER: "KANC@sevkaz.example"})
    assert r.status_code == 200 and r.json()["total"] == 2
    assert "mf_session=" in " ".join(r.headers.get_list("set-cookie"))
    assert sso.events("signed_in") == [{"email": CLERK, "via": "remote_user"}]
    # the session carries on: no second sign-in while it lasts
    assert c.get("/api/cases", headers={HEADER: CLERK}).status_code == 200
    assert len(sso.events("signed_in")) == 1
    # another person through the same browser: their own session
    assert c.get("/api/dashboard", headers={HEADER: PR}).status_code == 200
    assert [e["email"] for e in sso.events("signed_in")] == [CLERK, PR]


def test_the_header_from_any_other_peer_is_ignored(sso):
    c = _from(sso, STRANGER)
    assert c.get("/api/cases", headers={HEADER: CLERK}).status_code == 401
    # nor does X-Forwarded-For make a stranger a proxy
    r = c.get("/api/cases", headers={HEADER: CLERK, "X-Forwarded-For": PROXY[0]})
    assert r.status_code == 401
    assert c.get("/", headers={HEADER: CLERK}).headers["location"] == "/login"
    assert sso.events("signed_in") == []


def test_an_address_outside_the_directory_signs_nobody_in(sso):
    c = _from(sso, PROXY)
    for who in ("stranger@example.com", "noreply@sevkaz.example", ""):
        assert c.get("/api/cases", headers={HEADER: who}).status_code == 401
    assert sso.events("signed_in") == []


def test_changes_still_need_the_csrf_token(sso):
    c = _from(sso, PROXY)
    url, body = f"/api/cases/{sso.number}", {"consumer": {"first_name": "Болат"}}
    # a forged cross-site request through the proxy: the header, but no token
    assert c.patch(url, json=body, headers={HEADER: CLERK}).status_code == 403
    token = c.cookies.get("csrftoken")
    assert c.patch(url, json=body, headers={HEADER: CLERK, "X-CSRF-Token": token}).status_code == 200
    assert sso.doc().first_name == "Болат"


def test_without_the_setting_the_header_means_nothing(tmp_path):
    with workplace(tmp_path, "sqlite") as w:
        c = TestClient(w.app, follow_redirects=False, client=PROXY)
        assert c.get("/api/cases", headers={HEADER: CLERK, "Remote-User": CLERK}).status_code == 401


def _load(tmp_path, web: str):
    f = tmp_path / "mailflow.toml"
    f.write_text(f'[[mailbox]]\nname="a"\nurl="maildir:/x"\n[web]\n{web}\n', encoding="utf-8")
    return config.load(f)


def test_the_web_table_is_read_and_checked(tmp_path):
    cfg = _load(
        tmp_path, 'remote_user_header = "X-Remote-User"\ntrusted_proxies = ["10.1.0.0/16", "127.0.0.1"]'
    )
    assert cfg.web.trusts("10.1.2.3") and cfg.web.trusts("127.0.0.1") and cfg.web.trusts("::ffff:10.1.0.9")
    assert not cfg.web.trusts("10.2.0.1") and not cfg.web.trusts("testclient") and not cfg.web.trusts(None)
    assert _load(tmp_path, "").web == WebConfig()


@pytest.mark.parametrize(
    "web, key",
    [
        ('remote_user_heder = "X-User"', "web.remote_user_heder"),
        ('remote_user_header = "X-User"', "web.trusted_proxies"),
        ('remote_user_header = "X User"\ntrusted_proxies = ["10.0.0.1"]', "web.remote_user_header"),
        ('remote_user_header = "X-Forwarded-For"\ntrusted_proxies = ["10.0.0.1"]', "web.remote_user_header"),
        ('remote_user_header = "X-User"\ntrusted_proxies = ["proxy.local"]', "web.trusted_proxies[0]"),
        ('remote_user_header = "X-User"\ntrusted_proxies = "10.0.0.1"', "web.trusted_proxies"),
    ],
)
def test_a_bad_web_table_names_its_key(tmp_path, web, key):
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, web)
    assert e.value.key == key, e.value
