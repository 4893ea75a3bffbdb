"""The PR specialist's loop (regulation 2.6, 2.7, 2.9, 2.13, 2.14) over the embedded
Maildir default: copies of each resolution and sent answer; the weekly report first to
the PR specialist, whose «СОГЛАСОВАНО» (or corrected file) sends it to management, whose
«ОЗНАКОМЛЕН» signs it off, or unreviewed at 14:00; decisions per suggestion by reply;
each organisation's report of its own journal. The sweeps run only when a test says,
at a pinned time on the report day (`daemon.run_sweeps` is switched off: the clock of
the machine running the tests must not send a report)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import shutil

import openpyxl
import pytest
from sqlmodel import select

from mailflow import chasing, daemon, db, export
from mailflow import rules as rules_mod
from mailflow.config import Endpoint
from mailflow.digest import Week
from mailflow.models import Document, Event, SuggestionDecision, Token, WeeklyReport
from tests.support import DIRECTOR, REPO, Office, deliver, fake_recognizer, text_appeal
from tests.test_dispatch import CLERK, SCAN, Approved, today

KZ = dt.timezone(dt.timedelta(hours=5))
PR, DEPUTY, CHIEF = "pr@sevkaz.example", "deputy@sevkaz.example", "ayyrtau-res@sevkaz.example"
SBYT_CLERK = "kanc-sbyt@sevkaz.example"
DP_ORG = "АО «СЕВКАЗЭНЕРГО»"


@pytest.fixture(autouse=True)
def sweeps_only_when_asked(monkeypatch):
    monkeypatch.setattr(daemon, "run_sweeps", lambda *a, **k: 0)


def to(m) -> str:
    return m["To"]


def body(m) -> str:
    return m.get_body(("plain",)).get_content()


def events(c: Office, type_: str) -> list[dict]:
    engine, s = c.db()
    with s:
        out = [json.loads(e.data) for e in s.exec(select(Event).where(Event.type == type_))]
    engine.dispose()
    return out


def reports(c: Office) -> dict[str, WeeklyReport]:
    engine, s = c.db()
    with s:
        out = {r.journal: r for r in s.exec(select(WeeklyReport))}
    engine.dispose()
    return out


def decisions(c: Office) -> list[tuple[str, str, str]]:
    engine, s = c.db()
    with s:
        out = [(d.decision, d.comment, d.by) for d in s.exec(select(SuggestionDecision))]
    engine.dispose()
    return out


# --- 2.7, 2.9: copies to the PR specialist ---------------------------------------------------


def test_the_pr_specialist_gets_the_resolution_and_the_sent_answer_once(tmp_path):
    c = Approved(tmp_path)  # a complaint: copied to PR at registration (1.7), resolved, approved
    [copy] = c.sent("pr_resolution")
    assert to(copy) == PR and copy["X-Mailflow-Number"] == c.number
    text = body(copy)
    assert "Сидоренко — подготовить ответ заявителю." in text and "Сидоренко Ольга Викторовна" in text
    assert "п. 2.7" in text
    assert [a.get_filename() for a in copy.iter_attachments()] == ["скан.pdf"]  # the document with it
    assert c.sent("pr_answer") == []  # nothing sent yet
    o = c.step(CLERK, c.last("stage", CLERK), f"ОТПРАВЛЕНО нарочным, исх. № 7 от {today():%d.%m.%Y}", [SCAN])
    assert o.status == "moved" and c.state()[0] == "closed"
    [answer] = c.sent("pr_answer")
    assert to(answer) == PR and "нарочным" in body(answer) and "№ 7" in body(answer)
    [scan] = list(answer.iter_attachments())
    assert (scan.get_filename(), scan.get_content()) == (SCAN[0], SCAN[2])  # the signed copy itself
    to_pr = sorted(m["X-Mailflow-Kind"] for m in c.sent() if PR in to(m))
    assert to_pr == ["pr_answer", "pr_copy", "pr_resolution"]  # one of each, nothing twice
    assert [(e["what"], e["to"]) for e in events(c, "pr_copy_sent")] == [
        ("resolution", [PR]),
        ("answer", [PR]),
    ]


def test_no_copy_of_a_case_the_pr_specialist_does_not_follow(tmp_path):
    c = Office(tmp_path)
    c.send(text_appeal(body="Направляю заявление потребителя о переоформлении договора"))
    mgmt = [m for m in c.sent("management") if m["To"] == DIRECTOR][-1]  # each manager has their own
    assert c.send(c.reply("Сидоренко — рассмотреть.", to_message=mgmt))[0].status == "resolution"
    numbers = {m["X-Mailflow-Number"] for m in c.sent("pr_resolution")}
    assert mgmt["X-Mailflow-Number"] not in numbers  # an application (заявление) from a RES is no PR case


def test_copies_can_be_switched_off_in_the_rules(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(REPO / "rules", folder)
    routing = folder / "routing.toml"
    routing.write_text(
        routing.read_text().replace("resolutions = true", "resolutions = false"), encoding="utf-8"
    )
    c = Office(tmp_path, rules=rules_mod.load(folder))
    c.send(c.reply("Сидоренко — рассмотреть."))
    assert c.sent("pr_resolution") == [] and len(c.sent("pr_copy")) == 1


# --- 2.13: review, management, sign-off -------------------------------------------------------


class Week_(Office):
    """A complaint and two suggestions of this week, in the ДП journal; the sweeps at a pinned
    time on this week's report day (next Monday, or the working day after)."""

    def __init__(self, tmp_path, rules=None):
        super().__init__(tmp_path, rules=rules)
        self.suggestion = self.appeal("Направляю предложение потребителя: установить терминал оплаты")
        self.other = self.appeal("Направляю предложение потребителя: продлить часы приёма")
        self.week = Week.of(dt.datetime.now(KZ))
        self.day = chasing.report_day(self.rules, self.week)

    def appeal(self, text: str, frm: str = CHIEF) -> str:
        self.send(text_appeal(frm=frm, body=text))
        return self.sent("management")[-1]["X-Mailflow-Number"]

    def at(self, hh: int, mm: int = 0) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time(hh, mm), KZ)

    def sweep(self, when: dt.datetime) -> int:
        """The sweeps at `when`, and what they queued sent (a pass with no new mail)."""
        engine = db.make_engine(self.cfg.database)
        try:
            archive = daemon.open_archive(self.cfg, engine)
            n = chasing.sweep(engine, self.rules, self.cfg.smtp.sender, now=when, archive=archive)
        finally:
            engine.dispose()
        assert daemon.run_once(self.cfg, self.rules, recognize=fake_recognizer()) == []
        return n

    def letter(self, kind: str, person: str, org: str = DP_ORG):
        found = [m for m in self.sent(kind) if to(m) == person and org in str(m["Subject"])]
        return found[-1]

    def answer(self, frm: str, message, text: str, files=()):
        [o] = self.send(self.reply(text, frm=frm, to_message=message, attachments=list(files)))
        return o

    def answers_to(self, person: str, after: int) -> list:
        return [m for m in self.sent()[after:] if to(m) == person]


def _xlsx(m) -> openpyxl.Workbook:
    [a] = [a for a in m.iter_attachments() if a.get_filename().endswith(".xlsx")]
    return openpyxl.load_workbook(io.BytesIO(a.get_content()))


def test_the_pr_specialist_approves_management_signs_off(tmp_path):
    c = Week_(tmp_path)
    assert c.sweep(c.at(8, 59)) == 0 and c.sent("weekly_review") == []  # not before 09:00
    c.sweep(c.at(9, 30))
    review = c.letter("weekly_review", PR)
    assert {to(m) for m in c.sent("weekly_review")} == {PR}  # the ДП's and the Севказэнергосбыт's
    assert len(c.sent("weekly_review")) == 2 and c.sent("weekly") == []  # management waits
    text = body(review)
    assert "СОГЛАСОВАНО" in text and "14:00" in text and "ВХ-2026-000123: ПРИНЯТО: комментарий" in text
    assert f"неделя {c.week.label}" in str(review["Subject"]) and "#" in str(review["Subject"])
    assert reports(c)["dp"].status == "review"
    c.sweep(c.at(10))  # nothing to do until the PR specialist answers
    assert c.sent("weekly") == []

    n = len(c.sent())
    o = c.answer(PR, review, f"СОГЛАСОВАНО\n\n{c.suggestion}: ПРИНЯТО: установим терминал в ЦОН до 01.06")
    assert o.status == "reviewed", o
    [ok] = c.answers_to(PR, n)
    assert ok["In-Reply-To"] and "согласован" in body(ok) and "принято: установим терминал" in body(ok)
    r = reports(c)["dp"]
    assert (r.status, r.review, r.reviewed_by) == ("approved", "approved", PR)
    assert decisions(c) == [("accepted", "установим терминал в ЦОН до 01.06", PR)]
    engine, s = c.db()
    with s:  # the case's own record says so too: the export, `journal show`, the card
        doc = s.exec(select(Document).where(Document.number == c.suggestion)).one()
        rec = export.document_record(s, doc)
    engine.dispose()
    assert (rec["decision"]["decision"], rec["decision"]["label"], rec["decision"]["by"]) == (
        "accepted",
        "принято",
        PR,
    )

    c.sweep(c.at(10, 1))
    mgmt = [m for m in c.sent("weekly") if DP_ORG in str(m["Subject"])]
    assert sorted(to(m) for m in mgmt) == [DEPUTY, DIRECTOR]  # each their own letter and code
    assert PR not in {to(m) for m in c.sent("weekly")}  # the reviewer had it already
    letter = c.letter("weekly", DIRECTOR)
    assert "НЕ ПРОВЕРЕНО" not in str(letter["Subject"]) and "ОЗНАКОМЛЕН" in body(letter)
    wb = _xlsx(letter)
    sheet = wb["Предложения"]
    header = [x.value for x in sheet[1]]
    rows = {row[0]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[c.suggestion]["Решение (п. 2.14)"] == "принято"
    assert rows[c.suggestion]["Комментарий к решению"] == "установим терминал в ЦОН до 01.06"
    assert rows[c.suggestion]["Решение записал"] == "Сулейменова Айгуль Маратовна"
    assert isinstance(rows[c.suggestion]["Дата решения"], dt.datetime)
    assert (
        rows[c.other]["Решение (п. 2.14)"] == "без решения" and rows[c.other]["Комментарий к решению"] is None
    )
    summary = dict(wb["Сводка"].iter_rows(values_only=True, max_col=2))
    assert summary["Организация"] == DP_ORG
    assert summary["Поступило за неделю"] == 3 and summary["Предложений (за неделю и в работе)"] == 2
    assert summary["— решение: принято"] == 1 and summary["— без решения"] == 1
    assert summary["— решение: отклонено"] == 0 and summary["— решение: запланировано"] == 0
    assert reports(c)["dp"].status == "sent"

    n = len(c.sent())
    o = c.answer(DIRECTOR, letter, "Ознакомлен")
    assert o.status == "signed", o
    r = reports(c)["dp"]
    assert (r.status, r.signed_by) == ("signed", DIRECTOR) and r.signed_at is not None
    assert "Ознакомление" in body(c.answers_to(DIRECTOR, n)[0])
    assert "руководство ознакомлено" in str(c.answers_to(PR, n)[0]["Subject"])
    # a replay of the same letter's code, the deputy with the director's letter: nothing changes
    for frm in (DIRECTOR, DEPUTY):
        n = len(c.sent())
        o = c.answer(frm, letter, "ОЗНАКОМЛЕН")
        assert o.status == "refused", o
        [why] = c.answers_to(frm, n)
        assert "ничего не изменило" in body(why) and why["In-Reply-To"]
    assert reports(c)["dp"].signed_at == r.signed_at
    signed = events(c, "weekly_report_signed")
    assert [(e["by"], e["first"]) for e in signed] == [(DIRECTOR, True)]


def test_not_reviewed_by_the_configured_time_goes_marked(tmp_path):
    c = Week_(tmp_path)
    c.sweep(c.at(9, 30))
    review = c.letter("weekly_review", PR)
    c.sweep(c.at(13, 59))
    assert c.sent("weekly") == []
    c.sweep(c.at(14))
    letter = c.letter("weekly", DIRECTOR)
    assert str(letter["Subject"]).startswith("[НЕ ПРОВЕРЕНО PR-СПЕЦИАЛИСТОМ]")
    assert "НЕ ПРОВЕРЕНО PR-СПЕЦИАЛИСТОМ" in letter.get_body(("html",)).get_content()
    r = reports(c)["dp"]
    assert (r.status, r.review, r.reviewed_by) == ("sent", "not_reviewed", None)
    told = [m for m in c.sent("notice") if to(m) == PR and "без проверки" in str(m["Subject"])]
    assert len(told) == 2  # both organisations' reports
    # the PR specialist's «СОГЛАСОВАНО» at 14:30 is too late: refused, nothing changes
    n = len(c.sent())
    o = c.answer(PR, review, "СОГЛАСОВАНО")
    assert o.status == "refused" and "без проверки" in o.reason
    assert "уже направлен руководству" in body(c.answers_to(PR, n)[0])
    assert reports(c)["dp"].review == "not_reviewed"
    c.sweep(c.at(15))
    assert len([m for m in c.sent("weekly") if to(m) == DIRECTOR]) == 2  # nothing twice


def test_a_daemon_down_until_the_afternoon_sends_it_to_management_at_once(tmp_path):
    c = Week_(tmp_path)
    c.sweep(c.at(14, 30))
    assert c.sent("weekly_review") == []
    assert str(c.letter("weekly", DIRECTOR)["Subject"]).startswith("[НЕ ПРОВЕРЕНО")


def test_a_corrected_file_goes_to_management_instead(tmp_path):
    c = Week_(tmp_path)
    c.sweep(c.at(9, 30))
    review = c.letter("weekly_review", PR)
    fake = ("отчёт.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"not a zip")
    o = c.answer(PR, review, "Исправленный отчёт во вложении", [fake])
    assert o.status == "unclear" and "XLSX" in o.reason
    assert reports(c)["dp"].status == "review"
    wb = _xlsx(review)
    wb["Сводка"]["B20"] = "исправлено PR"
    buf = io.BytesIO()
    wb.save(buf)
    fixed = ("отчёт исправленный.xlsx", fake[1], buf.getvalue())
    o = c.answer(PR, review, "Исправленный отчёт во вложении", [fixed])  # the same letter: its code stood
    assert o.status == "reviewed", o
    r = reports(c)["dp"]
    assert (r.review, r.file_sha256) == ("corrected", hashlib.sha256(fixed[2]).hexdigest())
    c.sweep(c.at(10))
    [a] = list(c.letter("weekly", DIRECTOR).iter_attachments())
    assert (a.get_filename(), a.get_content()) == (fixed[0], fixed[2])


def test_bad_decision_lines_are_answered_and_record_nothing(tmp_path):
    c = Week_(tmp_path)
    c.sweep(c.at(9, 30))
    review = c.letter("weekly_review", PR)
    latin = c.suggestion.replace("ВХ", "BX")  # Latin B and X
    lines = [
        f"{c.suggestion}: ПРИНЯТО: установим терминал",  # good, but the reply has bad ones
        "ВХ-2026-999999: ПРИНЯТО: нет такого",
        f"{c.number}: ОТКЛОНЕНО: это жалоба",
        f"{c.other}: ПОДУМАЕМ: не знаю",
        f"{c.other}: ПPИНЯТО: латинская P",
        f"{c.other}: ЗАПЛАНИРОВАНО",
        f"{latin}: ПРИНЯТО: номер латиницей",
    ]
    n = len(c.sent())
    o = c.answer(PR, review, "СОГЛАСОВАНО\n" + "\n".join(lines))
    assert o.status == "unclear", o
    [why] = c.answers_to(PR, n)
    text = body(why)
    assert "ничего не записано" in text
    assert "обращения ВХ-2026-999999 нет в журнале" in text
    assert f"{c.number} — не предложение (вид: жалоба)" in text
    assert "ожидается «ПРИНЯТО», «ОТКЛОНЕНО», «ЗАПЛАНИРОВАНО»" in text
    assert "латинские буквы, похожие на русские" in text
    assert "нужен комментарий" in text
    assert f"в номере {latin} латинские буквы вместо русских" in text
    assert decisions(c) == [] and reports(c)["dp"].status == "review"
    # fixed, to the same letter: recorded, without approving (the report still waits)
    o = c.answer(
        PR,
        review,
        f"{c.suggestion}: ОТКЛОНЕНО: тариф утверждает регулятор\n{c.other} — запланировано — в плане на III квартал",
    )
    assert o.status == "decided", o
    assert sorted(decisions(c)) == [
        ("planned", "в плане на III квартал", PR),
        ("rejected", "тариф утверждает регулятор", PR),
    ]
    assert reports(c)["dp"].status == "review"
    # that letter's code is spent: a replay is refused; the confirmation carries a fresh one
    assert c.answer(PR, review, "СОГЛАСОВАНО").status == "refused"
    [confirmation] = [m for m in c.sent("notice") if to(m) == PR and "Решения записаны" in body(m)]
    assert "ещё ждёт «СОГЛАСОВАНО»" in body(confirmation) and "#" in str(confirmation["Subject"])
    assert c.answer(PR, confirmation, "СОГЛАСОВАНО").status == "reviewed"


def test_the_wrong_person_a_stranger_and_last_weeks_report_are_refused(tmp_path):
    c = Week_(tmp_path)
    c.sweep(c.at(9, 30))
    review = c.letter("weekly_review", PR)
    n = len(c.sent())
    o = c.answer(DIRECTOR, review, f"СОГЛАСОВАНО\n{c.suggestion}: ПРИНЯТО: да")
    assert o.status == "refused" and "другому сотруднику" in o.reason
    assert "ничего не изменило" in body(c.answers_to(DIRECTOR, n)[0])
    n = len(c.sent())
    o = c.answer("pr@sevkaz-example.kz", review, "СОГЛАСОВАНО")
    assert o.status == "refused" and c.answers_to("pr@sevkaz-example.kz", n) == []  # never to a stranger
    o = c.answer(PR, review, "CОГЛАСОВАНО")  # a Latin C
    assert o.status == "unclear" and "латинские" in o.reason
    assert reports(c)["dp"].status == "review" and decisions(c) == []
    # a week later the next report is out: a reply to this one is refused
    next_day = chasing.report_day(c.rules, Week.of(c.day + dt.timedelta(days=7)))
    c.sweep(dt.datetime.combine(next_day, dt.time(9, 30), KZ))
    n = len(c.sent())
    o = c.answer(PR, review, f"{c.suggestion}: ПРИНЯТО: поздно")
    assert o.status == "refused" and f"за неделю {c.week.label}" in o.reason
    assert "действует отчёт за" in body(c.answers_to(PR, n)[0])
    assert decisions(c) == []


def test_decisions_after_the_report_went_count_in_the_next(tmp_path):
    c = Week_(tmp_path)
    c.sweep(c.at(9, 30))
    c.answer(PR, c.letter("weekly_review", PR), "СОГЛАСОВАНО")
    confirmation = [m for m in c.sent("notice") if to(m) == PR][-1]
    c.sweep(c.at(10))
    o = c.answer(PR, confirmation, f"{c.other}: ПРИНЯТО: часы продлены с 1 числа")
    assert o.status == "decided" and "следующий отчёт" in body(
        [m for m in c.sent("notice") if to(m) == PR][-1]
    )
    o = c.answer(PR, confirmation, "СОГЛАСОВАНО")
    assert o.status == "refused"  # its code is spent


# --- 2.6: each organisation's report of its own journal -----------------------------------------


def _org_rules(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(REPO / "rules", folder)
    journals = folder / "journals.toml"
    text = journals.read_text(encoding="utf-8")
    text = text.replace(
        'clerks = ["kanc@sevkaz.example"]',
        'clerks = ["kanc@sevkaz.example"]\nmanagement = ["director@sevkaz.example"]\nreport_to = ["director@sevkaz.example"]',
    ).replace(
        'clerks = ["kanc-sbyt@sevkaz.example"]',
        'clerks = ["kanc-sbyt@sevkaz.example"]\nmanagement = ["deputy@sevkaz.example"]\nreport_to = ["deputy@sevkaz.example"]',
    )
    journals.write_text(text, encoding="utf-8")
    return rules_mod.load(folder)


def test_each_organisation_has_its_management_and_its_report(tmp_path):
    c = Week_(tmp_path, rules=_org_rules(tmp_path))
    assert to(c.mgmt) == DIRECTOR  # the ДП's appeal "на резолюцию" to its own management
    # the Севказэнергосбыт chancellery's own mailbox registers into its journal
    box = dataclasses.replace(
        c.cfg.mailboxes[0],
        name="sbyt",
        journal="sbyt",
        endpoint=Endpoint("maildir", path=str(tmp_path / "sbyt")),
    )
    c.cfg = dataclasses.replace(c.cfg, mailboxes=(*c.cfg.mailboxes, box))
    deliver(tmp_path / "sbyt", text_appeal(frm=SBYT_CLERK, body="Запись: предложение потребителя"), "s1")
    daemon.run_once(c.cfg, c.rules, recognize=fake_recognizer())
    sbyt = c.sent("management")[-1]
    assert to(sbyt) == DEPUTY and sbyt["X-Mailflow-Number"].startswith("ВХС-")
    c.sweep(c.at(14, 30))  # unreviewed: straight to each organisation's management
    [dp] = [m for m in c.sent("weekly") if to(m) == DIRECTOR]
    [other] = [m for m in c.sent("weekly") if to(m) == DEPUTY]
    assert DP_ORG in str(dp["Subject"]) and "Севказэнергосбыт" in str(other["Subject"])
    dp_sum = dict(_xlsx(dp)["Сводка"].iter_rows(values_only=True, max_col=2))
    other_sum = dict(_xlsx(other)["Сводка"].iter_rows(values_only=True, max_col=2))
    assert (dp_sum["Поступило за неделю"], other_sum["Поступило за неделю"]) == (3, 1)
    assert (
        dp_sum["Предложений (за неделю и в работе)"],
        other_sum["Предложений (за неделю и в работе)"],
    ) == (2, 1)
    [row] = list(_xlsx(other)["Все за неделю"].iter_rows(min_row=2, values_only=True))
    assert row[0] == sbyt["X-Mailflow-Number"]
    # the ДП's manager cannot sign the other organisation's report
    o = c.answer(DIRECTOR, other, "ОЗНАКОМЛЕН")
    assert o.status == "refused" and reports(c)["sbyt"].signed_at is None
    assert c.answer(DEPUTY, other, "ОЗНАКОМЛЕН").status == "signed"


def test_tokens_of_a_report_answer_no_case(tmp_path):
    c = Week_(tmp_path)
    c.sweep(c.at(9, 30))
    engine, s = c.db()
    with s:
        tokens = s.exec(select(Token).where(Token.purpose == "report_review")).all()
    engine.dispose()
    assert len(tokens) == 2 and all(t.document_id is None and t.holder == PR for t in tokens)


# --- the rules that drive it, validated --------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new", "key"),
    [
        (
            "journals.toml",
            'clerks = ["kanc@sevkaz.example"]',
            'management = ["pr@sevkaz.example"]',
            "management",
        ),
        (
            "journals.toml",
            'clerks = ["kanc@sevkaz.example"]',
            'report_to = ["boss@elsewhere.kz"]',
            "report_to",
        ),
        (
            "journals.toml",
            'clerks = ["kanc@sevkaz.example"]',
            'managment = ["director@sevkaz.example"]',
            "managment",
        ),
        ("reminders.toml", 'review_until = "14:00"', 'review_until = "15:30"', "review_until"),
        ("reminders.toml", 'review_until = "14:00"', 'review_until = "08:00"', "review_until"),
        ("reminders.toml", 'review_by = ["pr_specialist"]', 'review_by = ["press"]', "review_by"),
        ("reminders.toml", 'review_until = "14:00"', 'review_untill = "14:00"', "review_untill"),
        ("routing.toml", "answers = true", 'answers = "yes"', "answers"),
    ],
)
def test_bad_rules_are_named(tmp_path, file, old, new, key):
    folder = tmp_path / "rules"
    shutil.copytree(REPO / "rules", folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(rules_mod.ConfigError) as exc:
        rules_mod.load(folder)
    assert file in str(exc.value) and key in str(exc.value)


def test_the_default_rules_review_first_and_send_each_journal(tmp_path):
    r = rules_mod.load(REPO / "rules")
    assert r.report_reviewers() == (PR,)
    assert r.report_recipients("dp") == r.report_recipients("sbyt") == (DIRECTOR, DEPUTY)
    assert r.management("dp") == r.management("sbyt") == (DIRECTOR, DEPUTY)
    assert r.chasing.weekly_review_until == dt.time(14) and r.routing.pr_copy_answers


def test_the_report_on_demand_for_one_organisation(tmp_path, capsys):
    from mailflow import cli

    c = Week_(tmp_path)
    args = [
        "--home",
        str(c.cfg.home),
        "--rules",
        str(REPO / "rules"),
        "report",
        "weekly",
        "--week",
        c.week.label,
    ]
    assert cli.main([*args, "--journal", "nope"]) == 2
    assert "нет журнала 'nope'" in capsys.readouterr().err
    out = tmp_path / "dp.xlsx"
    assert cli.main([*args, "--journal", "dp", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(
        "Мониторинг жалоб, претензий, отзывов и предложений потребителей\nАО «СЕВКАЗЭНЕРГО»\n"
    )
    summary = dict(openpyxl.load_workbook(out)["Сводка"].iter_rows(values_only=True, max_col=2))
    assert summary["Организация"] == DP_ORG and summary["Поступило за неделю"] == 3
    assert cli.main([*args, "--journal", "sbyt"]) == 0
    assert "Поступило за неделю" in (t := capsys.readouterr().out) and "ТОО «Севказэнергосбыт»" in t


def test_a_week_reported_before_the_upgrade_is_not_reported_again(tmp_path):
    from mailflow.models import Chase

    c = Week_(tmp_path)
    engine, s = c.db()
    with s, s.begin():
        s.add(Chase(key=f"weekly:{c.week.label}", kind="weekly", slot=c.week.label, created_at=c.at(9)))
    engine.dispose()
    assert c.sweep(c.at(9, 30)) == 0 and reports(c) == {} and c.sent("weekly_review") == []
