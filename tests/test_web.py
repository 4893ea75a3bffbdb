"""The workplace over HTTP (FastAPI's TestClient): sign-in by mailed link,
sessions, CSRF, roles, search, correcting a card, page images."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import io
import json
import re
from email import policy

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mailflow import daemon
from mailflow.models import (
    DocAttachment,
    Document,
    Event,
    Handover,
    Resolution,
    WebLogin,
    WebSession,
)
from tests.support import database_urls, deliver, fake_recognizer, home_config, load_rules, text_appeal

CLERK = "kanc@sevkaz.example"
PR = "pr@sevkaz.example"
DIRECTOR = "director@sevkaz.example"
EXECUTOR = "sidorenko@sevkaz.example"  # named in the resolution below
HEAD = "petrov@sevkaz.example"  # Sidorenko's unit head
OTHER = "ivanov@sevkaz.example"  # an executor of another unit


def _pdf_scan() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (800, 1100), "white")
    ImageDraw.Draw(img).text((60, 60), "ZHALOBA", fill="black")
    out = io.BytesIO()
    img.save(out, "PDF", resolution=100)
    return out.getvalue()


class Workplace:
    def __init__(self, tmp_path, url):
        self.cfg, self.rules = home_config(tmp_path, url), load_rules()
        for i, (body, atts) in enumerate(
            [
                ("Направляю жалобу потребителя", [("скан.pdf", "application/pdf", _pdf_scan())]),
                ("Направляю заявление потребителя", []),
            ]
        ):
            deliver(self.cfg.home / "inbox", text_appeal(body=body, attachments=atts), f"m{i}")
        daemon.run_once(self.cfg, self.rules, recognize=fake_recognizer())
        self.app, self.parts = daemon.web(self.cfg, self.rules, "http://testserver")
        with Session(self.parts.engine) as s:
            docs = s.exec(select(Document).order_by(Document.id)).all()
        self.number, self.other = docs[0].number, docs[1].number
        self.parts.services.resolve(self.number, "Сидоренко — рассмотреть", DIRECTOR)

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def link_mails(self) -> list:
        folder = self.cfg.home / "outbox" / "new"
        msgs = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in folder.glob("*")]
        return [m for m in msgs if m["X-Mailflow-Kind"] == "signin"]

    def link_for(self, address: str) -> str:
        mails = [m for m in self.link_mails() if m["To"] == address]
        assert mails, f"no sign-in mail to {address}"
        text = mails[-1].get_body(("plain",)).get_content()
        return re.search(r"http://testserver(/login/\S+)", text).group(1)

    def sign_in(self, address: str) -> TestClient:
        c = self.client()
        assert c.post("/api/login", json={"email": address}).status_code == 202
        r = c.get(self.link_for(address))
        assert r.status_code == 303 and r.headers["location"] == "/"
        return c

    def doc(self, number: str | None = None) -> Document:
        with Session(self.parts.engine) as s:
            return s.exec(select(Document).where(Document.number == (number or self.number))).one()

    def events(self, type_: str) -> list[dict]:
        with Session(self.parts.engine) as s:
            return [json.loads(e.data) for e in s.exec(select(Event).where(Event.type == type_))]


@contextlib.contextmanager
def workplace(tmp_path, database: str):
    with database_urls(tmp_path, database) as url:
        w = Workplace(tmp_path, url)
        try:
            yield w
        finally:
            daemon.close(w.parts)


@pytest.fixture(params=["sqlite", "postgresql"])
def wp(request, tmp_path):
    with workplace(tmp_path, request.param) as w:
        yield w


def csrf(c: TestClient) -> dict:
    return {"X-CSRF-Token": c.cookies.get("csrftoken")}


# -- sign-in ------------------------------------------------------------------------


def test_sign_in_by_mailed_link_sets_a_strict_http_only_session(wp):
    c = wp.client()
    r = c.post("/api/login", json={"email": CLERK})
    assert r.status_code == 202
    r = c.get(wp.link_for(CLERK))
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookies = r.headers.get_list("set-cookie")
    session = next(h for h in cookies if h.startswith("mf_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session.replace("Strict", "strict")
    assert "csrftoken=" in " ".join(cookies)
    assert c.get("/").status_code == 200
    assert wp.events("signed_in") == [{"email": CLERK}]
    # only the hash of the token is stored
    token = wp.link_for(CLERK).rsplit("/", 1)[1]
    with Session(wp.parts.engine) as s:
        assert all(token not in row.token_hash for row in s.exec(select(WebLogin)))


@pytest.mark.parametrize(
    "address", ["stranger@example.com", "ayyrtau-res@sevkaz.example", "noreply@sevkaz.example"]
)
def test_addresses_that_may_not_sign_in_get_the_same_answer_and_no_mail(wp, address):
    r = wp.client().post("/api/login", json={"email": address})
    assert r.status_code == 202
    assert r.json() == wp.client().post("/api/login", json={"email": CLERK}).json()
    assert [m["To"] for m in wp.link_mails()] == [CLERK]


def test_a_link_works_once(wp):
    c = wp.client()
    c.post("/api/login", json={"email": CLERK})
    link = wp.link_for(CLERK)
    assert c.get(link).status_code == 303
    again = wp.client().get(link)
    assert again.status_code == 400 and "недействительна" in again.text
    assert "mf_session" not in again.headers.get("set-cookie", "")


def test_an_expired_link_is_refused(wp):
    c = wp.client()
    c.post("/api/login", json={"email": CLERK})
    with Session(wp.parts.engine) as s, s.begin():
        for row in s.exec(select(WebLogin)):
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert c.get(wp.link_for(CLERK)).status_code == 400
    assert c.get("/api/cases").status_code == 401


@pytest.mark.parametrize("token", ["", "x", "../../etc/passwd", "A" * 500])
def test_made_up_links_are_refused(wp, token):
    r = wp.client().get(f"/login/{token}")
    assert r.status_code in (307, 400, 404)  # 307: "/login/" is the form at "/login"
    assert "mf_session" not in r.headers.get("set-cookie", "")


def test_asking_again_at_once_sends_no_second_mail(wp):
    c = wp.client()
    for _ in range(3):
        c.post("/api/login", json={"email": CLERK})
    assert len(wp.link_mails()) == 1


def test_address_case_does_not_matter_but_a_look_alike_is_a_stranger(wp):
    wp.client().post("/api/login", json={"email": "KANC@Sevkaz.Example"})
    wp.client().post("/api/login", json={"email": "kаnc@sevkaz.example"})  # Cyrillic а
    assert [m["To"] for m in wp.link_mails()] == [CLERK]


def test_a_link_from_a_mail_client_page_opens_the_journal_from_our_own_page(wp):
    c = wp.client()
    c.post("/api/login", json={"email": CLERK})
    r = c.get(wp.link_for(CLERK), headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 200 and 'http-equiv="refresh"' in r.text
    assert "mf_session=" in " ".join(r.headers.get_list("set-cookie"))


def test_an_expired_or_ended_session_is_refused(wp):
    c = wp.sign_in(CLERK)
    assert c.get("/api/cases").status_code == 200
    with Session(wp.parts.engine) as s, s.begin():
        for row in s.exec(select(WebSession)):
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert c.get("/api/cases").status_code == 401
    assert c.get("/").status_code == 303


def test_logout_needs_the_token_and_ends_the_session(wp):
    c = wp.sign_in(CLERK)
    assert c.post("/logout", data={"csrf": "wrong"}).status_code == 403
    assert c.get("/api/cases").status_code == 200
    assert c.post("/logout", data={"csrf": c.cookies.get("csrftoken")}).status_code == 303
    c.cookies.clear()
    assert c.get("/api/cases").status_code == 401


def test_without_a_session_nothing_is_shown(wp):
    c = wp.client()
    assert c.get("/api/cases").status_code == 401
    assert c.get(f"/api/cases/{wp.number}").status_code == 401
    assert c.patch(f"/api/cases/{wp.number}", json={"kind": "отзыв"}).status_code == 401
    assert c.get("/").headers["location"] == "/login"
    c.cookies.set("mf_session", "forged")
    assert c.get("/api/cases").status_code == 401


# -- the journal and search ---------------------------------------------------------


def test_the_journal_lists_and_searches(wp):
    c = wp.sign_in(CLERK)
    body = c.get("/api/cases").json()
    assert body["total"] == 2 and {i["incoming_number"] for i in body["items"]} == {wp.number, wp.other}
    assert all(i["state"] for i in body["items"])
    assert c.get("/api/cases", params={"q": "иванов"}).json()["total"] == 2  # any case
    assert c.get("/api/cases", params={"q": "ИВАНОВ"}).json()["total"] == 2
    assert c.get("/api/cases", params={"q": wp.number}).json()["total"] == 1
    assert c.get("/api/cases", params={"q": "Петренко"}).json()["total"] == 0
    assert c.get("/api/cases", params={"state": "in_work"}).json()["total"] == 1
    assert c.get("/api/cases", params={"kind": "заявление"}).json()["total"] == 1
    assert c.get("/api/cases", params={"needs_review": "1"}).json()["total"] == 2
    assert c.get("/api/cases", params={"executor": EXECUTOR}).json()["total"] == 1
    html = c.get("/", params={"q": "иванов"}).text
    assert wp.number in html and "Найдено" in html


def test_a_phone_is_found_in_any_format(wp):
    c = wp.sign_in(CLERK)
    r = c.patch(f"/api/cases/{wp.number}", json={"consumer": {"phone": "8 (705) 123-45-60"}}, headers=csrf(c))
    assert r.status_code == 200 and r.json()["consumer"]["phone"] == "+77051234560"
    for q in ("+7 705 123 45 60", "87051234560", "7051234560", "705 123 45 60", "123-45-60"):
        found = c.get("/api/cases", params={"q": q}).json()
        assert [i["incoming_number"] for i in found["items"]] == [wp.number], q


def test_search_folds_yo_and_kazakh_letters(wp):
    c = wp.sign_in(CLERK)
    c.patch(
        f"/api/cases/{wp.other}",
        json={"consumer": {"last_name": "Сәтпаев", "address": "ул. Пушкина, 5"}},
        headers=csrf(c),
    )
    c.patch(f"/api/cases/{wp.number}", json={"consumer": {"last_name": "Королёв"}}, headers=csrf(c))
    assert [i["incoming_number"] for i in c.get("/api/cases", params={"q": "сатпаев"}).json()["items"]] == [
        wp.other
    ]
    assert [i["incoming_number"] for i in c.get("/api/cases", params={"q": "королев"}).json()["items"]] == [
        wp.number
    ]
    assert c.get("/api/cases", params={"q": "пушкина 5"}).json()["total"] == 1
    assert c.get("/api/cases", params={"q": "%"}).json()["total"] == 0  # LIKE wildcards are text


def test_a_word_is_found_in_any_of_its_forms(wp):
    """Russian words are looked for by their stem, on both databases alike: a
    caller's surname in another case, a word of the letter in another form;
    a short stem does not widen a search («Мира» stays «мира»)."""
    c = wp.sign_in(CLERK)
    c.patch(
        f"/api/cases/{wp.other}",
        json={"consumer": {"last_name": "Ахметова", "address": "ул. Мирная, 3"}},
        headers=csrf(c),
    )
    c.patch(f"/api/cases/{wp.number}", json={"consumer": {"last_name": "Жумабаев"}}, headers=csrf(c))

    def found(q: str) -> list[str]:
        return sorted(i["incoming_number"] for i in c.get("/api/cases", params={"q": q}).json()["items"])

    assert found("Ахметовой") == [wp.other] and found("ахметову") == [wp.other]
    assert found("Жумабаеву") == [wp.number] and found("жумабаевым") == [wp.number]
    assert found("мира") == [] and found("мирная") == [wp.other]
    assert found("Ахметовой 3") == [wp.other] and found("Ахметовой 4") == []


# -- correcting a card ---------------------------------------------------------------


def test_a_correction_is_an_event_with_old_and_new_values_and_leaves_review(wp):
    c = wp.sign_in(CLERK)
    before = c.get(f"/api/cases/{wp.number}").json()
    assert "first_name" in before["needs_review"]
    r = c.patch(
        f"/api/cases/{wp.number}",
        json={
            "consumer": {"first_name": "болат", "email": "Bolat@Example.kz"},
            "kind": "претензия",
            "version": before["version"],
        },
        headers=csrf(c),
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["consumer"]["first_name"] == "Болат" and after["kind"] == "претензия"
    assert after["consumer"]["email"] == "bolat@example.kz"
    assert "first_name" not in after["needs_review"] and after["version"] > before["version"]
    [ev] = wp.events("corrected")
    assert ev["by"] == CLERK
    assert {"field": "first_name", "old": None, "new": "Болат"} in ev["changes"]
    assert {"field": "kind", "old": "жалоба", "new": "претензия"} in ev["changes"]
    history = c.get(f"/api/cases/{wp.number}").json()["events"]
    assert history[-1]["type"] == "corrected"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"consumer": {"phone": "12345"}}, "phone"),
        ({"consumer": {"phone": "+1 212 555 0100"}}, "phone"),
        ({"consumer": {"email": "not-an-address"}}, "email"),
        ({"consumer": {"outgoing_date": "31.02.2026"}}, "outgoing_date"),
        ({"consumer": {"last_name": "Иванов2"}}, "last_name"),
        ({"consumer": {"last_name": ["Иванов"]}}, "last_name"),
        ({"kind": "кляуза"}, "kind"),
        ({"group": 7}, "group"),
        ({"consumer": {"password": "x"}}, "consumer.password"),
        ({"status": "closed"}, "status"),
        ({"version": "1"}, "version"),
        ([1, 2], "body"),
    ],
)
def test_a_bad_value_names_its_field_and_changes_nothing(wp, body, field):
    c = wp.sign_in(CLERK)
    before = c.get(f"/api/cases/{wp.number}").json()
    r = c.patch(f"/api/cases/{wp.number}", json=body, headers=csrf(c))
    assert r.status_code == 400 and r.json()["field"] == field, r.text
    assert c.get(f"/api/cases/{wp.number}").json() == {**before}
    assert wp.events("corrected") == []


def test_a_stale_version_is_a_conflict(wp):
    c = wp.sign_in(CLERK)
    v = c.get(f"/api/cases/{wp.number}").json()["version"]
    assert (
        c.patch(
            f"/api/cases/{wp.number}",
            json={"consumer": {"first_name": "Болат"}, "version": v},
            headers=csrf(c),
        ).status_code
        == 200
    )
    r = c.patch(
        f"/api/cases/{wp.number}", json={"consumer": {"first_name": "Бахыт"}, "version": v}, headers=csrf(c)
    )
    assert r.status_code == 409
    assert wp.doc().first_name == "Болат"


def test_changes_need_the_sessions_own_csrf_token(wp):
    clerk, pr = wp.sign_in(CLERK), wp.sign_in(PR)
    url, body = f"/api/cases/{wp.number}", {"consumer": {"first_name": "Болат"}}
    assert clerk.patch(url, json=body).status_code == 403
    assert clerk.patch(url, json=body, headers={"X-CSRF-Token": "x"}).status_code == 403
    assert clerk.patch(url, json=body, headers=csrf(pr)).status_code == 403  # another person's token
    assert wp.doc().first_name is None
    assert clerk.patch(url, json=body, headers=csrf(clerk)).status_code == 200


# -- roles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, sees, may_correct",
    [
        (CLERK, {"mine", "other"}, True),
        (PR, {"mine", "other"}, False),
        (DIRECTOR, {"mine", "other"}, False),
        (EXECUTOR, {"mine"}, False),
        (HEAD, {"mine"}, False),
        (OTHER, set(), False),
    ],
)
def test_each_role_sees_and_does_what_rules_access_says(wp, who, sees, may_correct):
    c = wp.sign_in(who)
    numbers = {"mine": wp.number, "other": wp.other}
    listed = {i["incoming_number"] for i in c.get("/api/cases").json()["items"]}
    assert listed == {numbers[k] for k in sees}
    for key, number in numbers.items():
        assert c.get(f"/api/cases/{number}").status_code == (200 if key in sees else 404)
        assert (number in c.get(f"/cases/{number}").text) is True  # the card or "not found"
    r = c.patch(f"/api/cases/{wp.number}", json={"consumer": {"first_name": "Болат"}}, headers=csrf(c))
    if "mine" not in sees:
        assert r.status_code == 404
    else:
        assert r.status_code == (200 if may_correct else 403)
    assert (wp.doc().first_name == "Болат") is may_correct


# -- the card in HTML and its pages --------------------------------------------------


def test_the_card_form_corrects_and_shows_the_change_in_the_history(wp):
    c = wp.sign_in(CLERK)
    card = c.get(f"/cases/{wp.number}")
    assert card.status_code == 200 and 'class="needs' in card.text
    version = re.search(r'name="version" value="(\d+)"', card.text).group(1)
    form = {
        "csrf": c.cookies.get("csrftoken"),
        "version": version,
        "first_name": "Болат",
        "last_name": "Иванов",
        "kind": "жалоба",
        "group": "1",
        "phone": "",
    }
    r = c.post(f"/cases/{wp.number}", data=form)
    assert r.status_code == 303, r.text
    page = c.get(r.headers["location"]).text
    assert "Исправления сохранены" in page and "«» → «Болат»" in page
    # a bad value comes back with the field marked and nothing stored
    bad = c.post(f"/cases/{wp.number}", data={**form, "version": "", "phone": "123"})
    assert bad.status_code == 400 and "phone" in bad.text and 'value="123"' in bad.text
    assert wp.doc().phone is None
    assert c.post(f"/cases/{wp.number}", data={**form, "csrf": ""}).status_code == 403


def test_the_card_says_where_each_field_was_read_and_why_a_scan_was_not(wp):
    with Session(wp.parts.engine) as s:
        att = s.exec(select(DocAttachment).where(DocAttachment.document_id == wp.doc().id)).one()
        att.note = "текст скана не распознан: похоже, написан от руки"
        s.add(att)
        s.commit()
    c = wp.sign_in(CLERK)
    card = c.get(f"/cases/{wp.number}").text
    why = re.search(r'id="why-last_name">([^<]*)<', card)
    assert why and why.group(1) == "шапка письма: «от Иванова»"
    assert re.search(r'id="note-1">скан.pdf: текст скана не распознан: похоже, написан от руки<', card)
    # a person's correction replaces the reader's evidence with who corrected it
    version = re.search(r'name="version" value="(\d+)"', card).group(1)
    form = {
        "csrf": c.cookies.get("csrftoken"),
        "version": version,
        "first_name": "Болат",
        "last_name": "Иванов",
    }
    assert c.post(f"/cases/{wp.number}", data=form).status_code == 303
    card = c.get(f"/cases/{wp.number}").text
    assert re.search(rf'id="why-first_name">исправлено: {re.escape(CLERK)}<', card)
    assert re.search(r'id="why-last_name">шапка письма', card)  # unchanged field keeps its evidence


def test_scan_pages_are_rendered_cached_and_only_for_those_who_see_the_case(wp):
    c = wp.sign_in(CLERK)
    [url] = c.get(f"/api/cases/{wp.number}").json()["pages"]
    r = c.get(url)
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((wp.cfg.home / "cache" / "pages").rglob("*.png"))
    assert c.get(url.replace("/1.png", "/2.png")).status_code == 404
    assert c.get("/pages/" + "0" * 64 + "/1.png").status_code == 404
    assert wp.sign_in(OTHER).get(url).status_code == 404
    assert wp.client().get(url).status_code == 401


def test_pages_carry_a_strict_content_security_policy(wp):
    r = wp.client().get("/login")
    assert "script-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_huge_result_is_counted_up_to_a_cap(wp, monkeypatch):
    from mailflow.web import cases

    monkeypatch.setattr(cases, "COUNT_CAP", 1)
    c = wp.sign_in(CLERK)
    body = c.get("/api/cases").json()
    assert body["total"] == 1 and body["more"] is True and len(body["items"]) == 2  # the page still shows
    assert "более 1" in c.get("/").text
    narrow = c.get("/api/cases", params={"q": wp.number}).json()
    assert narrow["total"] == 1 and narrow["more"] is False


def test_a_page_reads_only_the_tables_holding_rows_of_its_cases_and_shows_the_same(wp, monkeypatch):
    from mailflow import export

    wp.parts.services.repeat(wp.other, of=wp.number, by="kanc-sbyt@sevkaz.example")
    with Session(wp.parts.engine) as s:
        docs = s.exec(select(Document).order_by(Document.id)).all()
        present = export._present(s, [d.id for d in docs])
        assert Resolution in present and DocAttachment in present and Handover not in present
        assert not {Resolution, DocAttachment} & export._present(s, [docs[1].id])
        probed = export.document_records(s, docs)
        monkeypatch.setattr(export, "_present", lambda s, ids: set(export._BY_DOCUMENT))
        assert probed == export.document_records(s, docs)
        assert probed[0]["attachments"] and probed[0]["resolution"] and probed[0]["repeats"] == [wp.other]


def test_both_cards_show_a_repeat_link(wp):
    wp.parts.services.repeat(wp.other, of=wp.number, by="kanc-sbyt@sevkaz.example")
    c = wp.sign_in(CLERK)
    first, again = c.get(f"/cases/{wp.number}").text, c.get(f"/cases/{wp.other}").text
    assert 'id="repeats"' in first and f'<a href="/cases/{wp.other}">{wp.other}</a>' in first
    assert "Повторное: тот же заявитель" in again and f'<a href="/cases/{wp.number}">' in again
    api = c.get(f"/api/cases/{wp.other}").json()
    assert api["repeat_of"] == wp.number
