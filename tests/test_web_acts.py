"""The card's acts at the workplace: offered by right and state, done through the
services (the same events as by e-mail or the command line), refused clearly with
nothing changed — wrong person, wrong state, another session's token, a forged
choice, a file too large."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlmodel import Session, select

from mailflow.models import Answer, Document, Handover
from mailflow.web import app as web_app
from tests.test_web import CLERK, DIRECTOR, EXECUTOR, OTHER, PR, workplace


@pytest.fixture(params=["sqlite", "postgresql"])
def wp(request, tmp_path):
    with workplace(tmp_path, request.param) as w:
        yield w


def _form(c, path: str, data: dict, files: dict | None = None):
    return c.post(path, data={"csrf": c.cookies.get("csrftoken"), **data}, files=files)


def _acts(html: str) -> set[str]:
    return set(re.findall(r'id="act-([a-z_]+)"', html))


def _state(wp, number=None) -> tuple[str, str | None]:
    doc = wp.doc(number)
    return doc.status, doc.stage


def test_each_person_is_offered_the_acts_of_their_rights_and_the_cases_state(wp):
    clerk, director, pr = wp.sign_in(CLERK), wp.sign_in(DIRECTOR), wp.sign_in(PR)
    in_work = clerk.get(f"/cases/{wp.number}").text
    assert _acts(in_work) == {"resolve", "extend", "notified", "dispatch", "close", "redirect", "repeat"} | {
        "handover"
    }
    assert 'id="print-talon"' in in_work
    waiting = clerk.get(f"/cases/{wp.other}").text  # not resolved yet: nothing to send or file
    assert not _acts(waiting) & {"dispatch", "close", "handover"} and "resolve" in _acts(waiting)
    assert _acts(director.get(f"/cases/{wp.number}").text) == {"resolve", "extend", "redirect"}
    shown = pr.get(f"/cases/{wp.number}").text
    assert 'id="acts"' not in shown and 'id="print-talon"' not in shown


def test_the_clerk_records_the_dispatch_and_then_files_the_copy(wp):
    c = wp.sign_in(CLERK)
    r = _form(c, f"/cases/{wp.number}/acts/dispatch", {"sent": "Казпочта"})  # no tracking number
    assert r.status_code == 400 and "номер почтового отправления" in r.text
    assert 'id="act-dispatch" open' in r.text and 'value="Казпочта"' in r.text  # what was typed stays
    assert _state(wp)[0] == "in_work"

    r = _form(c, f"/cases/{wp.number}/acts/dispatch", {"sent": "Казпочта, РПО № RR123456785KZ"})
    assert r.status_code == 303 and unquote(r.headers["location"]) == f"/cases/{wp.number}?done=dispatch"
    assert "Отправка ответа отмечена" in c.get(r.headers["location"]).text
    assert _state(wp)[0] == "answered"
    [ev] = wp.events("dispatched")
    assert ev["by"] == CLERK and ev["state"] == ["in_work", "answered"]

    copy = ("копия ответа.pdf", b"%PDF-1.4 the signed copy", "application/pdf")
    r = _form(c, f"/cases/{wp.number}/acts/close", {}, files={"copy": copy})
    assert r.status_code == 303
    assert _state(wp)[0] == "closed"
    [ev] = wp.events("closed")
    assert ev["by"] == CLERK and ev["files"][0]["name"] == "копия ответа.pdf"
    assert wp.parts.archive.get(ev["files"][0]["sha256"], ".bin") == copy[1]
    with Session(wp.parts.engine) as s:
        a = s.exec(select(Answer)).one()
        assert (a.dispatch_channel, a.tracking) == ("kazpost", "RR123456785KZ")


def test_a_copy_needs_its_file_and_a_file_too_large_is_refused_whole(wp, monkeypatch):
    c = wp.sign_in(CLERK)
    r = _form(c, f"/cases/{wp.number}/acts/close", {"sent": "нарочным"})
    assert r.status_code == 400 and "Скан копии ответа" in r.text
    monkeypatch.setattr(web_app, "MAX_UPLOAD", 10)
    big = ("копия.pdf", b"%PDF-1.4 " + b"x" * 100, "application/pdf")
    r = _form(c, f"/cases/{wp.number}/acts/close", {"sent": "нарочным"}, files={"copy": big})
    assert r.status_code == 400 and "файл больше" in r.text
    assert _state(wp)[0] == "in_work" and wp.events("closed") == []


def test_a_paper_decision_entered_by_the_clerk_names_who_signed_and_who_entered_it(wp):
    c = wp.sign_in(CLERK)
    r = _form(c, f"/cases/{wp.number}/acts/extend", {"until": "2099-01-01", "reason": "нужна экспертиза"})
    assert r.status_code == 400 and "кто принял решение" in r.text  # the clerk cannot extend alone
    until = wp.doc().due_date
    assert until is not None
    new = wp.rules.calendar.add_working_days(until, 5)
    r = _form(
        c,
        f"/cases/{wp.number}/acts/extend",
        {"until": new.isoformat(), "reason": "нужна экспертиза прибора учёта", "signer": DIRECTOR},
    )
    assert r.status_code == 303, r.text
    [ev] = wp.events("extension")
    assert (ev["by"], ev["entered_by"], ev["new_due"]) == (DIRECTOR, CLERK, new.isoformat())
    assert wp.doc().due_date == new

    r = _form(c, f"/cases/{wp.other}/acts/resolve", {"text": "Иванову — рассмотреть"})
    assert r.status_code == 303, r.text
    [ev] = [e for e in wp.events("resolution") if e.get("source") == "paper" and e["by"] == CLERK]
    assert "entered_by" not in ev  # the clerk's own entry: named as the one who acted
    assert wp.doc(wp.other).status == "in_work"


def test_a_director_extends_as_themselves(wp):
    c = wp.sign_in(DIRECTOR)
    new = wp.rules.calendar.add_working_days(wp.doc().due_date, 3)
    r = _form(c, f"/cases/{wp.number}/acts/extend", {"until": new.isoformat(), "reason": "выезд на место"})
    assert r.status_code == 303, r.text
    [ev] = wp.events("extension")
    assert ev["by"] == DIRECTOR and "entered_by" not in ev


@pytest.mark.parametrize(
    "who, key, data, status",
    [
        (PR, "dispatch", {"sent": "нарочным"}, 403),  # the PR specialist reads, never acts
        (DIRECTOR, "dispatch", {"sent": "нарочным"}, 403),  # management resolves; the clerk sends
        (CLERK, "dispatch_all", {"sent": "нарочным"}, 404),  # no such act
        (CLERK, "not_considered", {"reason": "аноним"}, 409),  # not flagged as anonymous
        (CLERK, "handover", {"unit": "Министерство"}, 400),  # not a unit of the directory
        (CLERK, "extend", {"until": "01.02.2027", "reason": "x", "signer": DIRECTOR}, 400),  # not a date
        (CLERK, "resolve", {"text": "рассмотреть", "signer": PR}, 403),  # not someone who resolves
    ],
)
def test_acts_refused_change_nothing(wp, who, key, data, status):
    before = (_state(wp), wp.doc().due_date, len(wp.events("extension")), len(wp.events("resolution")))
    c = wp.sign_in(who)
    r = _form(c, f"/cases/{wp.number}/acts/{key}", data)
    assert r.status_code == status, r.text
    assert 'id="error"' in r.text
    after = (_state(wp), wp.doc().due_date, len(wp.events("extension")), len(wp.events("resolution")))
    assert after == before
    with Session(wp.parts.engine) as s:
        assert s.exec(select(Handover)).all() == []


def test_an_act_on_a_case_in_the_wrong_state_is_a_conflict(wp):
    c = wp.sign_in(CLERK)
    r = _form(c, f"/cases/{wp.other}/acts/dispatch", {"sent": "нарочным"})  # nothing resolved yet
    assert r.status_code == 409 and "сейчас невозможно" in r.text
    assert _state(wp, wp.other)[0] != "answered"


def test_a_case_one_may_not_see_is_not_found_and_acts_need_the_sessions_own_token(wp):
    other = wp.sign_in(OTHER)  # an executor of another unit: the case is not theirs
    r = _form(other, f"/cases/{wp.number}/acts/dispatch", {"sent": "нарочным"})
    assert r.status_code == 404
    clerk, executor = wp.sign_in(CLERK), wp.sign_in(EXECUTOR)
    stolen = executor.cookies.get("csrftoken")
    for token in (None, "", stolen):
        data = {"sent": "нарочным"} | ({"csrf": token} if token is not None else {})
        r = clerk.post(f"/cases/{wp.number}/acts/dispatch", data=data)
        assert r.status_code == 403
    r = _form(clerk, "/cases/ВХ-2026-999999/acts/dispatch", {"sent": "нарочным"})
    assert r.status_code == 404
    assert _state(wp)[0] == "in_work" and wp.events("dispatched") == []


def test_handover_and_repeat_links_from_the_card(wp):
    c = wp.sign_in(CLERK)
    r = _form(c, f"/cases/{wp.number}/acts/handover", {"unit": "Айыртауский РЭС"})
    assert r.status_code == 303
    with Session(wp.parts.engine) as s:
        [h] = s.exec(select(Handover)).all()
    assert (h.unit, h.by) == ("Айыртауский РЭС", CLERK)

    r = _form(c, f"/cases/{wp.other}/acts/repeat", {"of": wp.other})
    assert r.status_code == 400  # not a repeat of itself
    r = _form(c, f"/cases/{wp.other}/acts/repeat", {"of": wp.number})
    assert r.status_code == 303
    assert wp.doc(wp.other).repeat_of == wp.doc().id
    assert "not_repeat" in _acts(c.get(f"/cases/{wp.other}").text)
    assert _form(c, f"/cases/{wp.other}/acts/not_repeat", {}).status_code == 303
    assert wp.doc(wp.other).repeat_of is None


def test_an_anonymous_appeal_is_decided_from_the_card(wp):
    with Session(wp.parts.engine) as s:
        doc = s.exec(select(Document).where(Document.number == wp.other)).one()
        doc.needs_review = json.dumps(["anonymous"])
        s.add(doc)
        s.commit()
    c = wp.sign_in(CLERK)
    assert {"not_considered", "exception"} <= _acts(c.get(f"/cases/{wp.other}").text)
    r = _form(c, f"/cases/{wp.other}/acts/not_considered", {"reason": "нет фамилии и адреса"})
    assert r.status_code == 303
    assert wp.doc(wp.other).status == "not_considered"
    [ev] = wp.events("not_considered")
    assert ev["by"] == CLERK


def test_the_api_does_the_same_acts(wp):
    c = wp.sign_in(CLERK)
    token = {"X-CSRF-Token": c.cookies.get("csrftoken")}
    r = c.post(f"/api/cases/{wp.number}/acts/redirect", json={"to": "акимат@example.kz"}, headers=token)
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = c.post(f"/api/cases/{wp.number}/acts/redirect", json={"to": 5, "reason": "x"}, headers=token)
    assert r.status_code == 400 and r.json()["field"] == "body"
    r = c.post(
        f"/api/cases/{wp.number}/acts/redirect",
        json={
            "to": "ГУ «Управление энергетики», energy@akimat.example",
            "reason": "тарифы — не наша компетенция",
        },
    )
    assert r.status_code == 403  # no token
    r = c.post(
        f"/api/cases/{wp.number}/acts/redirect",
        json={
            "to": "ГУ «Управление энергетики», energy@akimat.example",
            "reason": "тарифы — не наша компетенция",
        },
        headers=token,
    )
    assert r.status_code == 200, r.text
    assert wp.doc().status == "redirected"
    [ev] = wp.events("redirected")
    assert ev["by"] == CLERK


def test_the_talon_is_printed_for_those_who_may(wp):
    c = wp.sign_in(CLERK)
    assert c.post(f"/cases/{wp.number}/talon.pdf", data={}).status_code == 403  # no token
    r = _form(c, f"/cases/{wp.number}/talon.pdf", {})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and "attachment" in r.headers["content-disposition"]
    [ev] = wp.events("talon_printed")
    assert (ev["number"], ev["by"]) == (wp.number, CLERK)
    assert Path(ev["file"]).read_bytes() == r.content
    pr = wp.sign_in(PR)
    assert _form(pr, f"/cases/{wp.number}/talon.pdf", {}).status_code == 403
    assert len(wp.events("talon_printed")) == 1
