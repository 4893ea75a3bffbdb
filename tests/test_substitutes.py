"""Substitutes (regulation 1.6, "или лицу, его заменяющему"): absences planned in
staff.toml or set by «ЗАМЕЩАЕТ …»; forwards, reminders and reply tokens go to whoever
stands in; an out-of-office answer to a forward tells the clerk and sends the case on.
Every wrong name, date or person changes nothing and is told why (strangers never)."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from sqlmodel import select

from mailflow import chasing, substitutes
from mailflow.case.queries import Addressee
from mailflow.config import ConfigError
from mailflow.models import AbsenceRow, Delivery, Event, Token
from mailflow.rules import Absence
from mailflow.rules import load as load_rules_from
from tests.support import REPO, Office, text_appeal

KZ = dt.timezone(dt.timedelta(hours=5))
PETROV, SIDORENKO, IVANOV = "petrov@sevkaz.example", "sidorenko@sevkaz.example", "ivanov@sevkaz.example"
OTHER_HEAD = "kozhakhmetov@sevkaz.example"  # the head of another unit
CLERK = "kanc@sevkaz.example"


def _today() -> dt.date:
    return dt.datetime.now(KZ).date()


def _in(days: int) -> str:
    return f"{_today() + dt.timedelta(days=days):%d.%m.%Y}"


def _rules_with(tmp_path, absence: str):
    folder = tmp_path / "rules"
    shutil.copytree(REPO / "rules", folder)
    with (folder / "staff.toml").open("a", encoding="utf-8") as f:
        f.write("\n" + absence)
    return load_rules_from(folder)


def _events(office: Office, type_: str) -> list[dict]:
    engine, s = office.db()
    with s:
        found = [json.loads(e.data) for e in s.exec(select(Event).where(Event.type == type_))]
    engine.dispose()
    return found


def _notices(office: Office, to: str) -> list[str]:
    """The notices to `to`: subject and text."""
    return [
        f"{m['Subject']}\n{m.get_body(('plain',)).get_content()}"
        for m in office.sent("notice")
        if m["To"] == to
    ]


# -- staff.toml ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "absence, key",
    [
        ('person = "nobody@x.example"\nsubstitute = "ivanov@sevkaz.example"', "absence[0].person"),
        ('person = "sidorenko@sevkaz.example"\nsubstitute = "nobody@x.example"', "absence[0].substitute"),
        (
            'person = "sidorenko@sevkaz.example"\nsubstitute = "sidorenko@sevkaz.example"',
            "absence[0].substitute",
        ),
        (
            'person = "sidorenko@sevkaz.example"\nsubstitute = "ivanov@sevkaz.example"\nsince = "2026-12-01"',
            "absence[0].since",
        ),
        (
            'person = "sidorenko@sevkaz.example"\nsubstitute = "ivanov@sevkaz.example"\nuntill = 2026-12-01',
            "absence[0].untill",
        ),
    ],
)
def test_a_bad_absence_in_staff_toml_names_its_key(tmp_path, absence, key):
    dates = "" if "since" in absence or "untill" in absence else "\nsince = 2026-12-01\nuntil = 2026-12-05"
    with pytest.raises(ConfigError) as e:
        _rules_with(tmp_path, f"[[absence]]\n{absence}{dates}\n")
    assert e.value.key == key


def test_reversed_and_overlapping_absences_are_refused(tmp_path):
    row = '[[absence]]\nperson = "sidorenko@sevkaz.example"\nsubstitute = "ivanov@sevkaz.example"\n'
    with pytest.raises(ConfigError, match="before since"):
        _rules_with(tmp_path / "a", row + "since = 2026-12-10\nuntil = 2026-12-05\n")
    with pytest.raises(ConfigError, match="overlaps"):
        _rules_with(
            tmp_path / "b",
            row
            + "since = 2026-12-01\nuntil = 2026-12-10\n"
            + row
            + "since = 2026-12-10\nuntil = 2026-12-20\n",
        )
    with pytest.raises(ConfigError, match="unknown table"):
        _rules_with(tmp_path / "c", "[[absense]]\nperson = 1\n")


def test_stand_in_follows_a_chain_but_never_a_circle():
    day = dt.date(2026, 12, 7)
    a = {
        "a": Absence("a", "b", day, day),
        "b": Absence("b", "c", day, day),
        "c": Absence("c", "a", day, day),
    }
    assert substitutes.stand_in(a, "a") == "c"  # a → b → c, and c's substitute (a) is where it began
    assert substitutes.stand_in({"a": a["a"]}, "a") == "b"
    assert substitutes.stand_in(a, "z") == "z"


# -- «ЗАМЕЩАЕТ …» by e-mail --------------------------------------------------------------


def test_the_absent_person_names_their_substitute_by_mail(tmp_path):
    office = Office(tmp_path)
    [o] = office.send(text_appeal(frm=SIDORENKO, subject="отпуск", body=f"ЗАМЕЩАЕТ Иванов С.П. ДО {_in(10)}"))
    assert o.status == "set", o.reason
    engine, s = office.db()
    with s:
        [row] = s.exec(select(AbsenceRow)).all()
        away = substitutes.in_force(s, office.rules, _today())
    engine.dispose()
    assert (row.person, row.substitute, row.since, row.set_by) == (SIDORENKO, IVANOV, _today(), SIDORENKO)
    assert away[SIDORENKO].substitute == IVANOV
    assert any("Замещение записано" in t for t in _notices(office, SIDORENKO))
    assert any("вы замещаете Сидоренко Ольга Викторовна:" in t for t in _notices(office, IVANOV))
    [ev] = _events(office, "absence_set")
    assert (ev["person"], ev["substitute"], ev["by"]) == (SIDORENKO, IVANOV, SIDORENKO)


def test_the_unit_head_sets_a_substitute_for_his_people_only(tmp_path):
    office = Office(tmp_path)
    body = f"ЗАМЕЩАЕТ Иванову ВМЕСТО Сидоренко О.В. С {_in(1)} ДО {_in(5)}"
    [o] = office.send(text_appeal(frm=PETROV, subject="замещение", body=body))
    assert o.status == "set", o.reason
    [o] = office.send(text_appeal(frm=OTHER_HEAD, subject="замещение", body=body))
    assert o.status == "refused" and "начальник подразделения или руководство" in o.reason


@pytest.mark.parametrize(
    "frm, body, why",
    [
        (SIDORENKO, "ЗАМЕЩАЕТ Пупкин В.В. ДО {d}", "Не найден сотрудник «Пупкин В.В.»"),
        (SIDORENKO, "ЗАМЕЩАЕТ Иванов С.П. ДО {past}", "уже прошла"),
        (SIDORENKO, "ЗАМЕЩАЕТ Иванов С.П. ДО 31.02.2027", "нет в календаре"),
        (SIDORENKO, "ЗАМЕЩАЕТ Иванов С.П. С {d} ДО {soon}", "раньше, чем начинается"),
        (SIDORENKO, "ЗАМЕЩАЕТ Сидоренко О.В. ДО {d}", "сам себя"),
        (SIDORENKO, "ЗАМЕЩАЕТ Иванов С.П.", "не понятно"),
        (IVANOV, "ЗАМЕЩАЕТ Иванов С.П. ВМЕСТО Сидоренко О.В. ДО {d}", "начальник подразделения"),
        (SIDORENKO, "ЗAМЕЩAЕТ Иванов С.П. ДО {d}", "латинские буквы"),  # Latin A
    ],
)
def test_a_wrong_request_is_answered_and_changes_nothing(tmp_path, frm, body, why):
    office = Office(tmp_path)
    text = body.format(d=_in(10), soon=_in(2), past=_in(-1))
    [o] = office.send(text_appeal(frm=frm, subject="замещение", body=text))
    assert o.status == "refused" and why in o.reason, o.reason
    assert any("Замещение не записано" in t and why in t for t in _notices(office, frm))
    engine, s = office.db()
    with s:
        assert s.exec(select(AbsenceRow)).all() == []
    engine.dispose()


def test_a_stranger_is_never_answered_and_sets_nothing(tmp_path):
    office = Office(tmp_path)
    before = len(office.sent())
    [o] = office.send(
        text_appeal(frm="sidorenko@sevkaz.example.evil", body=f"ЗАМЕЩАЕТ Иванов С.П. ДО {_in(3)}")
    )
    assert o.status != "set"
    told = [m for m in office.sent()[before:] if "evil" in m["To"] and m["X-Mailflow-Kind"] != "talon"]
    assert told == []  # its letter is a consumer's, answered with a talon only
    engine, s = office.db()
    with s:
        assert s.exec(select(AbsenceRow)).all() == []
    engine.dispose()


# -- forwards, tokens, out-of-office -----------------------------------------------------


def _away_sidorenko(tmp_path):
    absence = (
        f'[[absence]]\nperson = "{SIDORENKO}"\nsubstitute = "{IVANOV}"\n'
        f"since = {_today() - dt.timedelta(days=1):%Y-%m-%d}\nuntil = {_today() + dt.timedelta(days=7):%Y-%m-%d}\n"
    )
    return Office(tmp_path, rules=_rules_with(tmp_path, absence))


def test_a_forward_to_an_absent_executor_goes_to_the_substitute_who_then_acts(tmp_path):
    office = _away_sidorenko(tmp_path)
    office.send(office.reply("Сидоренко — подготовить ответ заявителю."))
    [fwd] = office.sent("forward")
    assert (
        fwd["To"] == IVANOV
        and "Вы замещаете: Сидоренко Ольга Викторовна" in fwd.get_body(("plain",)).get_content()
    )
    engine, s = office.db()
    with s:
        [d] = s.exec(select(Delivery)).all()
        tokens = [t.holder for t in s.exec(select(Token).where(Token.purpose == "answer"))]
    engine.dispose()
    assert d.to_addr == IVANOV and IVANOV in tokens
    [ev] = _events(office, "forwarded")
    assert ev["to"] == [SIDORENKO] and ev["substitutes"] == {SIDORENKO: IVANOV}
    draft = ("проект.docx", "application/octet-stream", b"draft")
    [o] = office.send(office.reply("ПРОЕКТ", frm=IVANOV, to_message=fwd, attachments=[draft]))
    assert o.status == "moved", o.reason  # the substitute acts as the executor would
    assert [m["To"] for m in office.sent("stage")] == [PETROV]


def test_someone_who_stands_in_for_nobody_still_cannot_use_a_token(tmp_path):
    office = Office(tmp_path)
    office.send(office.reply("Сидоренко — подготовить ответ заявителю."))
    [fwd] = office.sent("forward")
    [o] = office.send(office.reply("ПРОЕКТ", frm=IVANOV, to_message=fwd))
    assert o.status == "refused" and "выдан другому сотруднику" in o.reason


def test_an_out_of_office_answer_tells_the_clerk_and_sends_the_case_on(tmp_path):
    office = Office(tmp_path)
    office.send(office.reply("Сидоренко — подготовить ответ заявителю."))
    [fwd] = office.sent("forward")
    office.send(text_appeal(frm=SIDORENKO, subject="отпуск", body=f"ЗАМЕЩАЕТ Иванов С.П. ДО {_in(7)}"))
    auto = office.reply(
        "Я в отпуске до 20-го.", frm=SIDORENKO, to_message=fwd, headers={"Auto-Submitted": "auto-replied"}
    )
    office.send(auto)
    office.send(auto)  # a second auto-answer sends nothing twice
    to_sub = [m for m in office.sent("forward") if m["To"] == IVANOV]
    assert len(to_sub) == 1 and "Вы замещаете" in to_sub[0].get_body(("plain",)).get_content()
    engine, s = office.db()
    with s:
        first = s.exec(select(Delivery).where(Delivery.to_addr == SIDORENKO)).one()
    engine.dispose()
    assert first.replied_at is None  # an auto-answer is no proof that she has it
    told = [m for m in office.sent("notice") if m["To"] == CLERK and "Автоответ" in str(m["Subject"])]
    assert told and "направлено замещающему" in told[0].get_body(("plain",)).get_content()


def test_an_out_of_office_answer_without_a_substitute_asks_the_clerk(tmp_path):
    office = Office(tmp_path)
    office.send(office.reply("Сидоренко — подготовить ответ заявителю."))
    [fwd] = office.sent("forward")
    office.send(
        office.reply(
            "Out of office", frm=SIDORENKO, to_message=fwd, headers={"Auto-Submitted": "auto-replied"}
        )
    )
    assert [m["To"] for m in office.sent("forward")] == [SIDORENKO]
    [told] = [m for m in office.sent("notice") if m["To"] == CLERK and "Автоответ" in str(m["Subject"])]
    assert "Замещающий на сегодня не указан" in told.get_body(("plain",)).get_content()


# -- reminders -------------------------------------------------------------------------


def _case(stage: str | None, due: dt.date) -> chasing.OpenCase:
    line = chasing.CaseLine(
        1,
        "ВХ-2026-000001",
        "dp",
        "жалоба",
        1,
        "Иванов",
        None,
        None,
        None,
        stage,
        due,
        None,
        dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )
    return chasing.OpenCase(line, due, "Сидоренко — рассмотреть", (Addressee(SIDORENKO, "Сидоренко О.В."),))


def test_a_reminder_goes_to_whoever_holds_the_case_at_its_stage_or_stands_in(tmp_path):
    rules = load_rules_from(REPO / "rules")
    day = dt.date(2026, 12, 8)  # a Tuesday
    to = {
        stage: [p.to for p in chasing.plan_deadlines([_case(stage, day)], rules, day) if p.kind == "due"]
        for stage in (None, "draft", "head_review", "legal_review")
    }
    assert to[None] == to["draft"] == [(SIDORENKO,)]
    assert to["head_review"] == [(PETROV,)]
    assert to["legal_review"] and to["legal_review"][0] != (SIDORENKO,)
    away = {PETROV: Absence(PETROV, IVANOV, day, day)}
    [planned] = [
        p for p in chasing.plan_deadlines([_case("head_review", day)], rules, day, away) if p.kind == "due"
    ]
    assert planned.to == (IVANOV,)


def test_the_reminder_says_whose_case_it_is_and_whom_the_reader_stands_in_for():
    rules = load_rules_from(REPO / "rules")
    day = dt.date(2026, 12, 8)
    [own] = [p for p in chasing.plan_deadlines([_case(None, day)], rules, day) if p.kind == "due"]
    assert "Вы — ответственный исполнитель" in rules.render(own.template, **own.context)[1]
    away = {PETROV: Absence(PETROV, IVANOV, day, day)}
    [head] = [
        p for p in chasing.plan_deadlines([_case("head_review", day)], rules, day, away) if p.kind == "due"
    ]
    text = rules.render(head.template, **head.context)[1]
    assert "Вы замещаете: Петров Алексей Сергеевич" in text
    assert "Обращение сейчас у вас" in text and "ответственный исполнитель — Сидоренко" in text
    assert "Вы — ответственный исполнитель" not in text
