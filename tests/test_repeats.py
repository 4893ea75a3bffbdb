"""Repeated appeals: the same applicant about the same subject is linked to the
first case (both cards, the export, management's mail, the weekly report),
never merged, and the clerk can undo or make the link."""

from __future__ import annotations

import datetime as dt
import email
import json
from email import policy

import pytest
from sqlmodel import Session, select

from mailflow import cli, daemon, db, digest, repeats
from mailflow.models import Document, Event
from tests.support import deliver, home_config, load_rules, resolved_case

SITE = "noreply@sevkaz.example"  # the website's feedback form (role website_form)
CLERK = "kanc-sbyt@sevkaz.example"
KZ = dt.timezone(dt.timedelta(hours=5))


def website(fio: str, phone: str, kind: str, text: str, n: int) -> bytes:
    msg = email.message.EmailMessage()
    msg["From"] = SITE
    msg["To"] = "kanc@sevkaz.example"
    msg["Subject"] = f"Обратная связь: {kind}"
    msg["Message-ID"] = f"<site-{n}@sevkaz.example>"
    msg["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    msg.set_content(
        "Новое сообщение с сайта (раздел «Обратная связь»)\n\n"
        f"Тип обращения: {kind}\nФИО: {fio}\nАдрес: г. Петропавловск, ул. Абая, д. 12, кв. 5\n"
        f"Телефон: {phone}\n\nТекст сообщения:\n{text}\n"
    )
    return msg.as_bytes()


OUTAGE = "Третий день нет света в доме, холодильник разморозился. Прошу восстановить электроснабжение."


class Office:
    def __init__(self, tmp_path):
        self.cfg, self.rules, self.n = home_config(tmp_path), load_rules(), 0

    def send(self, raw: bytes):
        self.n += 1
        deliver(self.cfg.home / "inbox", raw, f"m{self.n:03d}")
        [out] = daemon.run_once(self.cfg, self.rules)
        assert out.status == "registered", out
        return out.number

    def doc(self, number: str) -> Document:
        engine = db.make_engine(self.cfg.database)
        with Session(engine) as s:
            d = s.exec(select(Document).where(Document.number == number)).one()
        engine.dispose()
        return d

    def management(self, number: str):
        folder = self.cfg.home / "outbox" / "new"
        for f in sorted(folder.glob("*")):
            m = email.message_from_bytes(f.read_bytes(), policy=policy.default)
            if m["X-Mailflow-Kind"] == "management" and m["X-Mailflow-Number"] == number:
                return m.get_body(("plain",)).get_content()
        raise AssertionError(f"no management mail for {number}")

    def cli(self, *args: str, capsys) -> tuple[int, str]:
        rc = cli.main(["--home", str(self.cfg.home), "--rules", str(self.rules_dir()), *args])
        out = capsys.readouterr()
        return rc, out.out + out.err

    @staticmethod
    def rules_dir():
        from tests.support import REPO

        return REPO / "rules"


def test_the_same_applicant_about_the_same_thing_is_linked_not_a_namesake(tmp_path, capsys):
    o = Office(tmp_path)
    first = o.send(website("Ахметов Болат Серикович", "+7 705 123 45 60", "жалоба", OUTAGE, 1))
    # ё for е, another way to write the phone: the same person, the same complaint
    again = o.send(website("Ахмётов Болат Серикович", "8 (705) 123-45-60", "жалоба", OUTAGE, 2))
    # his brother at the same address and phone; he himself with a suggestion
    brother = o.send(website("Ахметов Нурлан Серикович", "+7 705 123 45 60", "жалоба", OUTAGE, 3))
    other = o.send(
        website("Ахметов Болат Серикович", "+7 705 123 45 60", "предложение", "Поставьте фонарь.", 4)
    )
    third = o.send(website("Ахметов Болат Серикович", "+7 705 123 45 60", "жалоба", OUTAGE, 5))

    assert o.doc(first).repeat_of is None
    assert o.doc(again).repeat_of == o.doc(first).id
    assert o.doc(third).repeat_of == o.doc(first).id  # the chain's first, not the second
    assert o.doc(brother).repeat_of is None and o.doc(other).repeat_of is None
    # management is told where the repeat comes from
    told = o.management(again)
    assert "ПОВТОРНОЕ" in told and first in told
    assert "ПОВТОРНОЕ" not in o.management(brother)
    # both cards, and the export
    rc, card = o.cli("journal", "show", first, capsys=capsys)
    assert rc == 0 and f"Повторные обращения по этому делу: {again}, {third}" in card
    rc, card = o.cli("journal", "show", again, capsys=capsys)
    assert rc == 0 and f"Повторное обращение: ранее {first}" in card
    rc, out = o.cli("journal", "show", again, "--json", capsys=capsys)
    assert json.loads(out)["repeat_of"] == first
    # the weekly report counts them
    engine = db.make_engine(o.cfg.database)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as s:
        report = digest.build(s, o.rules, digest.Week.of(now.astimezone(KZ).date()), now)
        linked = s.exec(select(Event).where(Event.type == "repeat_linked")).all()
    engine.dispose()
    assert report.repeats == 2 and len(linked) == 2
    assert all(json.loads(e.data)["automatic"] for e in linked)


def test_the_clerk_undoes_and_makes_the_link_and_bad_requests_change_nothing(tmp_path, capsys):
    o = Office(tmp_path)
    first = o.send(website("Омарова Дана Ерлановна", "+7 701 555 44 33", "претензия", OUTAGE, 1))
    again = o.send(website("Омарова Дана Ерлановна", "+7 701 555 44 33", "претензия", OUTAGE, 2))
    assert o.doc(again).repeat_of == o.doc(first).id

    rc, out = o.cli("repeat", again, "--not", "--by", CLERK, capsys=capsys)
    assert rc == 0 and first in out and o.doc(again).repeat_of is None
    for args, why in (
        ((again, "--not", "--by", CLERK), "не связано"),  # nothing to undo
        ((again, "--of", again, "--by", CLERK), "самому себе"),
        ((again, "--of", "ВХ-2026-999999", "--by", CLERK), "не найден"),
        ((again, "--of", first, "--by", "petrov@sevkaz.example"), "нет в справочнике"),  # not a clerk
        ((again, "--of", first, "--by", "stranger@evil.example"), "нет в справочнике"),
        ((again, "--of", first, "--by", "pr@sevkaz.example"), "нет в справочнике"),  # staff, not a clerk
        ((again, "--of", first, "--by", "kаnc-sbyt@sevkaz.example"), "нет в справочнике"),  # Cyrillic а
        ((again, "--of", first, "--by", "kanc-sbyt@sevkaz.example.evil.kz"), "нет в справочнике"),
    ):
        rc, out = o.cli("repeat", *args, capsys=capsys)
        assert rc != 0 and why in out, (args, out)
        assert o.doc(again).repeat_of is None
    rc, out = o.cli("repeat", again, "--of", first, "--by", CLERK, capsys=capsys)
    assert rc == 0 and o.doc(again).repeat_of == o.doc(first).id
    rc, out = o.cli("repeat", first, "--of", again, "--by", CLERK, capsys=capsys)  # a loop
    assert rc != 0 and "уже повторное" in out and o.doc(first).repeat_of is None
    engine = db.make_engine(o.cfg.database)
    with Session(engine) as s:
        types = [e.type for e in s.exec(select(Event).where(Event.document_id == o.doc(again).id))]
        manual = json.loads(s.exec(select(Event).where(Event.type == "repeat_linked")).all()[-1].data)
    engine.dispose()
    assert types.count("repeat_linked") == 2 and types.count("repeat_unlinked") == 1
    assert manual == {**manual, "automatic": False, "by": CLERK, "repeat_of": first}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_only_open_cases_and_those_closed_lately_are_repeated(tmp_path, kind):
    from tests.support import database_urls

    now = dt.datetime(2026, 4, 20, 10, tzinfo=KZ)
    policy = load_rules().repeats
    with database_urls(tmp_path, kind) as url:
        (tmp_path / "home").mkdir(exist_ok=True)
        engine = db.make_engine(url)
        db.migrate(engine)
        common = dict(executors=(), first_name="Болат", phone="+7 705 123 45 60", last_name="Ахметов")
        old = resolved_case(
            engine,
            number="ВХ-2026-000001",
            due=dt.date(2026, 2, 1),
            registered=now - dt.timedelta(days=90),
            status="closed",
            closed_at=now - dt.timedelta(days=60),
            **common,
        )
        recent = resolved_case(
            engine,
            number="ВХ-2026-000002",
            due=dt.date(2026, 4, 1),
            registered=now - dt.timedelta(days=40),
            status="closed",
            closed_at=now - dt.timedelta(days=10),
            **common,
        )
        new = resolved_case(
            engine,
            number="ВХ-2026-000003",
            due=dt.date(2026, 5, 1),
            registered=now,
            status="registered",
            **common,
        )
        with Session(engine) as s:
            for d in (old, recent, new):  # as registration writes them
                row = s.get(Document, d.id)
                from mailflow.case.search import index_fields

                index_fields(row)
                s.add(row)
            s.commit()
            found = repeats.find(s, policy, s.get(Document, new.id), now)
            later = repeats.find(s, policy, s.get(Document, new.id), now + dt.timedelta(days=25))
        engine.dispose()
    assert found is not None and found.number == "ВХ-2026-000002"  # not the one closed 60 days ago
    assert later is None  # 35 days after the last was closed: a new matter
