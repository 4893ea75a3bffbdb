"""Outside competence (АППК art. 76 p. 3): redirected within 3 working days, the applicant told."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mailflow import chasing, daemon
from mailflow.models import Chase, Document, Event
from mailflow.redirect import parse_reply, target
from mailflow.services import NotAllowed, Refused
from tests.support import CHIEF, Office, text_appeal

CLERK = "kanc@sevkaz.example"


def _doc(office) -> Document:
    engine, s = office.db()
    with s:
        doc = s.exec(select(Document).where(Document.number == office.number)).one()
    engine.dispose()
    return doc


def _events(office, type_: str) -> list[dict]:
    engine, s = office.db()
    with s:
        out = [json.loads(e.data) for e in s.exec(select(Event).where(Event.type == type_))]
    engine.dispose()
    return out


def test_a_manager_redirects_by_reply_and_the_body_gets_the_scan(tmp_path):
    office = Office(tmp_path)
    [o] = office.send(
        office.reply(
            "ПЕРЕНАПРАВИТЬ: ТОО «Казахтелеком», info@telecom.example\nВопрос связи, не электроснабжения."
        )
    )
    assert o.status == "redirected", o
    assert _doc(office).status == "redirected"
    [cover] = office.sent("redirect_cover")
    assert cover["To"] == "info@telecom.example" and office.number in cover["Subject"]
    assert [a.get_filename() for a in cover.iter_attachments()] == ["скан.pdf"]
    assert "Вопрос связи" in cover.get_body(("plain",)).get_content()
    # no e-mail for the applicant: the clerk is told to post the notice
    notices = [m for m in office.sent("notice") if "почтой" in m["Subject"]]
    assert notices and "уведомление заявителю" in notices[0].get_body(("plain",)).get_content()
    [ev] = _events(office, "redirected")
    assert ev["to_email"] == "info@telecom.example" and ev["by"] == "director@sevkaz.example"
    assert ev["state"] == ["on_resolution", "redirected"] and ev["late"] is False
    # the token is used up, and the case left the open ones: no resolution now
    [again] = office.send(office.reply("Сидоренко — рассмотреть."))
    assert again.status == "refused"
    assert _doc(office).status == "redirected"


def test_the_applicant_is_told_by_mail_when_their_address_is_known(tmp_path, parts_of):
    office = Office(tmp_path)
    office.send(text_appeal(frm=CHIEF, body="Направляю жалобу. E-mail: consumer@example.kz"))
    engine, s = office.db()
    with s:
        number = s.exec(select(Document.number).order_by(Document.id.desc())).first()
    engine.dispose()
    parts = parts_of(office)
    done = parts.services.redirect(
        number, to="Акимат района, ул. Ленина, 5", reason="благоустройство", by=CLERK
    )
    assert done.mailed == ("consumer@example.kz",) and len(done.to_post) == 1
    parts.sender.flush()
    [notice] = office.sent("redirect_notice")
    assert (
        notice["To"] == "consumer@example.kz" and "Акимат района" in notice.get_body(("plain",)).get_content()
    )


@pytest.fixture
def parts_of():
    built = []

    def make(office):
        built.append(daemon.build(office.cfg, office.rules))
        return built[-1]

    yield make
    for p in built:
        daemon.close(p)


def test_refusals_change_nothing(tmp_path, parts_of):
    office = Office(tmp_path)
    sv = parts_of(office).services
    with pytest.raises(NotAllowed):
        sv.redirect(office.number, to="Акимат", reason="не наше", by="sidorenko@sevkaz.example")
    with pytest.raises(Refused):
        sv.redirect(office.number, to="Акимат", reason="  ", by=CLERK)
    with pytest.raises(Refused):
        sv.redirect(office.number, to="  ", reason="не наше", by=CLERK)
    with pytest.raises(Refused):
        sv.redirect("ВХ-1999-000001", to="Акимат", reason="не наше", by=CLERK)
    assert _doc(office).status == "on_resolution" and _events(office, "redirected") == []
    sv.redirect(office.number, to="Акимат", reason="не наше", by=CLERK)
    with pytest.raises(Refused, match="перенаправлено"):  # from `redirected` there is no way on
        sv.redirect(office.number, to="Акимат", reason="не наше", by=CLERK)


def test_a_late_redirect_is_recorded_as_late_and_the_case_is_not_chased(tmp_path, parts_of):
    office = Office(tmp_path)
    engine, s = office.db()
    with s, s.begin():
        s.execute(sa.update(Document).values(registered_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=20)))
    done = parts_of(office).services.redirect(
        office.number, to="info@telecom.example", reason="связь", by=CLERK
    )
    assert done.late
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=40)
    chasing.sweep(engine, office.rules, "mailflow@localhost", now=later)
    with Session(engine) as s:  # the case's chases (the week's report may fall due by then: not the case's)
        assert s.exec(select(Chase).where(Chase.kind != "weekly")).all() == []
    engine.dispose()


@pytest.mark.parametrize(
    "body, where, email, reason",
    [
        (
            "ПЕРЕНАПРАВИТЬ: ТОО «Казахтелеком», info@telecom.example\nСвязь.",
            "ТОО «Казахтелеком», info@telecom.example",
            "info@telecom.example",
            "Связь.",
        ),
        (
            "перенаправить Акимат, ул. Ленина, 5. Причина: благоустройство",
            "Акимат, ул. Ленина, 5",
            None,
            "благоустройство",
        ),
        ("Перенаправить: КГУ «Отдел ЖКХ» — причина — вопрос ЖКХ", "КГУ «Отдел ЖКХ»", None, "вопрос ЖКХ"),
    ],
)
def test_the_reply_is_read(body, where, email, reason):
    got = parse_reply(body)
    assert got is not None
    assert (got[0].text, got[0].email, got[1]) == (where, email, reason)


@pytest.mark.parametrize("body", ["Сидоренко — рассмотреть", "Прошу не перенаправлять", ""])
def test_other_replies_are_not_redirects(body):
    assert parse_reply(body) is None


def test_a_target_is_needed():
    with pytest.raises(ValueError):
        target("   ")


def test_the_weekly_report_counts_the_weeks_redirects_and_the_late_ones(tmp_path, parts_of):
    from mailflow import digest, digest_render

    office = Office(tmp_path)
    [second] = office.send(text_appeal(frm=CHIEF, body="Направляю жалобу потребителя о связи"))
    engine, s = office.db()
    with s, s.begin():  # the first came three weeks ago: its term is long past
        s.execute(
            sa.update(Document)
            .where(Document.number == office.number)
            .values(registered_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=20))
        )
    sv = parts_of(office).services
    assert sv.redirect(office.number, to="Акимат", reason="благоустройство", by=CLERK).late
    assert not sv.redirect(second.number, to="info@telecom.example", reason="связь", by=CLERK).late
    now = dt.datetime.now(dt.UTC)
    iso = now.astimezone(dt.timezone(dt.timedelta(hours=5))).isocalendar()
    with Session(engine) as s:
        report = digest.build(s, office.rules, digest.Week(iso.year, iso.week), now)
    engine.dispose()
    assert (report.redirected, report.redirected_late) == (2, 1)
    shown = {label.strip(): (n, alert) for label, n, alert in digest_render.figures(report)}
    assert shown["Перенаправлено по компетенции (ст. 76 АППК)"] == (2, False)
    assert shown["позже 3 рабочих дней"] == (1, True)


def _line(engine, office) -> chasing.CaseLine:
    with Session(engine) as s:
        return chasing._unresolved(s, dt.date.today())[0]


def test_on_the_terms_last_day_management_is_asked_to_decide_once(tmp_path):
    """АППК art. 76 p. 3: an appeal still without a resolution on the last of its
    3 working days is put to management (once), with how to redirect it."""
    office = Office(tmp_path)
    engine, s = office.db()
    with s:
        doc = s.exec(select(Document)).one()
    term = office.rules.calendar.add_working_days(
        doc.registered_at.astimezone(dt.timezone(dt.timedelta(hours=5))).date(),
        office.rules.deadlines.redirect_days,
    )
    noon = dt.datetime.combine(term, dt.time(11, 0), dt.timezone(dt.timedelta(hours=5)))
    before = noon - dt.timedelta(days=1)
    if office.rules.calendar.is_working_day(before.date()):
        assert not [
            p for p in chasing.plan_redirect_terms([_line(engine, office)], office.rules, before.date())
        ]  # not before the last day
    chasing.sweep(engine, office.rules, "mailflow@localhost", now=noon)
    chasing.sweep(engine, office.rules, "mailflow@localhost", now=noon + dt.timedelta(hours=1))
    engine.dispose()
    office.send(text_appeal(frm=CHIEF, body="Направляю отзыв потребителя"))  # the outbox goes out
    asked = [m for m in office.sent() if "перенаправить по компетенции" in str(m["Subject"])]
    assert sorted(m["To"] for m in asked) == ["deputy@sevkaz.example", "director@sevkaz.example"]
    text = asked[0].get_body(("plain",)).get_content()
    assert office.number in text and "ПЕРЕНАПРАВИТЬ:" in text and f"{term:%d.%m.%Y}" in text
