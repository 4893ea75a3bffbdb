"""The contact centre (regulation 1.1) as a channel like the others: its mail is
registered with the channel contact_center, talons go back, management and the PR
specialist read «Контакт-центр», the export and the weekly report count it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from mailflow import digest, export
from mailflow.models import Document
from tests.support import DIRECTOR, Office, text_appeal

CC = "call-center@sevkaz.example"
CALL = (
    "Обращение по телефону 109, оператор Ахметова Д.\n"
    "Звонок потребителя Иванова И.И., жалоба: нет света третий день, ул. Мира, 5.\n"
    "E-mail для ответа: consumer@example.kz"
)


def _doc(office: Office, number: str) -> Document:
    engine, s = office.db()
    with s:
        doc = s.exec(select(Document).where(Document.number == number)).one()
    engine.dispose()
    return doc


def test_an_appeal_from_the_contact_centre_runs_like_any(tmp_path):
    office = Office(tmp_path)
    [o] = office.send(text_appeal(frm=CC, subject="Обращение по телефону", body=CALL))
    assert o.status == "registered", o
    doc = _doc(office, o.number)
    assert (doc.channel, doc.kind) == ("contact_center", "жалоба")
    # the talon to the contact centre and to the caller's e-mail it passed on
    talons = [m for m in office.sent("talon") if m["X-Mailflow-Number"] == o.number]
    assert sorted(m["To"] for m in talons) == [CC, "consumer@example.kz"]
    # management reads the channel as a person would, and the complaint's copy goes to PR (1.7)
    [mgmt] = [
        m for m in office.sent("management") if m["X-Mailflow-Number"] == o.number and m["To"] == DIRECTOR
    ]
    assert DIRECTOR in mgmt["To"] and "Канал: Контакт-центр" in mgmt.get_body(("plain",)).get_content()
    [pr] = [m for m in office.sent("pr_copy") if m["X-Mailflow-Number"] == o.number]
    assert "канал: Контакт-центр" in pr.get_body(("plain",)).get_content()
    engine, s = office.db()
    with s:
        rec = export.document_record(s, doc)
        report = digest.build(s, office.rules, digest.Week.of(doc.registered_at), dt.datetime.now(dt.UTC))
    engine.dispose()
    assert rec["channel"] == "contact_center" and export.csv_row(rec)[
        export.CSV_COLUMNS.index("channel")
    ] == ("contact_center")
    assert report.by_channel["contact_center"] == 1 and report.by_channel["res"] == 1


def test_a_card_the_contact_centres_system_writes_is_registered_its_out_of_office_is_not(tmp_path):
    office = Office(tmp_path)
    card = text_appeal(
        frm=CC, subject="Карточка обращения № 5512", body=CALL, headers={"Auto-Submitted": "auto-generated"}
    )
    [o] = office.send(card)
    assert o.status == "registered" and _doc(office, o.number).channel == "contact_center"
    away = text_appeal(
        frm=CC,
        subject="Автоответ: Re: талон",
        body="Оператор в отпуске",
        headers={"Auto-Submitted": "auto-replied"},
    )
    [o] = office.send(away)
    assert o.status == "recorded"
    site = text_appeal(
        frm="noreply@sevkaz.example",
        subject="Обратная связь",
        body="Отзыв: спасибо за быстрое подключение.",
        headers={"Auto-Submitted": "auto-generated", "Reply-To": "consumer@example.kz"},
    )
    [o] = office.send(site)
    assert o.status == "registered" and _doc(office, o.number).channel == "website"
