"""`mailflow journal import`: an existing journal brought in, and the export read back."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import email
import email.policy
import io
import json

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mailflow import chasing, cli, daemon, db, export, importing, journal
from mailflow.case.search import Filter, where
from mailflow.config import ConfigError
from mailflow.models import Assignment, Chase, Counter, Document, Event, Outbox, Resolution
from mailflow.values import KZ_TZ
from tests.support import REPO, database_urls, deliver, fake_recognizer, home_config, load_rules, text_appeal

KINDS = ["sqlite", "postgresql"]
RULES = load_rules()
SENDER = "kanc@sevkaz.example"


@contextlib.contextmanager
def journal_db(tmp_path, kind: str, name: str = "home"):
    """(cfg, engine) of a fresh, migrated journal."""
    with database_urls(tmp_path / name, kind) as url:
        cfg = home_config(tmp_path / name, url)
        cfg.home.mkdir(parents=True, exist_ok=True)
        engine = db.make_engine(url)
        db.migrate(engine)
        try:
            yield cfg, engine
        finally:
            engine.dispose()


def write_csv(path, header, rows, *, delimiter=",", bom=False):
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def export_csv(engine) -> str:
    with Session(engine) as s:
        return export.to_csv(export.records(s))


def docs(engine) -> dict[str, Document]:
    with Session(engine) as s:
        return {d.number: d for d in s.exec(select(Document))}


def mf(cfg, *args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["--home", str(cfg.home), "--rules", str(REPO / "rules"), *args])
    return code, out.getvalue(), err.getvalue()


HISTORY_HEADER = [
    "incoming_number",
    "registered_at",
    "kind",
    "channel",
    "origin_unit",
    "last_name",
    "first_name",
    "patronymic",
    "org_name",
    "address",
    "phone",
    "email",
    "resolution",
    "executors",
    "due_date",
    "answered_at",
    "closed_at",
]
HISTORY = [
    # closed, with a resolution by name and an e-mail; a value that looks like a formula
    [
        "ВХ-2025-000007",
        "03.03.2025 10:15",
        "Жалоба",
        "written",
        "Айыртауский РЭС",
        "=HYPERLINK(1)",
        "Иван",
        "Иванович",
        "",
        "ул. Ленина, 1\nкв. 2, «угловая»",
        "8 705 123 45 60",
        "ivanov.ii@mail.kz",
        "Рассмотреть, ответить",
        "Петров А.С., sidorenko@sevkaz.example",
        "2025-03-20",
        "2025-03-18T16:00",
        "19.03.2025",
    ],
    # answered, not yet closed
    ["ВХ-2026-000041", "2026-10-01", "претензия", "post", "", "Ахметова", "", "", "", "", "", "", "", "ivanov@sevkaz.example", "2026-10-30", "2026-10-20T12:00:00+05:00", ""],
    # in work and overdue
    ["ВХ-2026-000042", "2026-10-05T09:00:00+05:00", "заявление", "email", "", "Сергеев", "", "", "", "", "+77011112233", "", "", "Сидоренко О.В.", "2026-10-26", "", ""],
    # registered, an organisation, another journal
    ["ВХС-2026-000005", "02.11.2026", "", "res", "", "", "", "", "ТОО «Ромашка»", "", "", "", "", "", "", "", ""],
]  # fmt: skip


def history_file(tmp_path):
    return write_csv(tmp_path / "history.csv", HISTORY_HEADER, HISTORY)


# --- the round trip -------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_export_import_export_gives_the_same_rows(tmp_path, kind):
    with journal_db(tmp_path, kind, "one") as (cfg, one):
        # one appeal registered by mail (its own states, sender, subject), and history imported
        deliver(cfg.home / "inbox", text_appeal(subject="'=Жалоба, «с кавычками»"), "m1")
        [o] = daemon.run_once(cfg, RULES, recognize=fake_recognizer())
        assert o.status == "registered"
        report = importing.run(one, RULES, history_file(tmp_path))
        assert (report.imported, report.bad_count) == (4, 0), report.bad
        first = export_csv(one)
        (tmp_path / "first.csv").write_text(first, encoding="utf-8")
        with Session(one) as s:
            xlsx_first = export.to_xlsx(export.records(s))
        (tmp_path / "first.xlsx").write_bytes(xlsx_first)
    assert "'=HYPERLINK(1)" in first and "''=Жалоба" in first  # neutralised once more, and undone exactly
    with journal_db(tmp_path, kind, "two") as (_, two):
        report = importing.run(two, RULES, tmp_path / "first.csv")
        assert (report.imported, report.already, report.bad_count) == (5, 0, 0), report.bad
        assert export_csv(two) == first  # byte for byte
        got = docs(two)
        assert got[o.number].status == "on_resolution" and got[o.number].source_subject.startswith("'=Жалоба")
    with journal_db(tmp_path, kind, "three") as (_, three):
        report = importing.run(three, RULES, tmp_path / "first.xlsx")
        assert (report.imported, report.bad_count) == (5, 0), report.bad
        with Session(three) as s:
            xlsx_again = export.to_xlsx(export.records(s))
        assert _cells(xlsx_again) == _cells(xlsx_first)
        assert export_csv(three) == first


def _cells(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data))["Журнал"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert len(rows) > 1
    return rows


def test_imported_cases_have_their_states_resolutions_and_search(tmp_path):
    with journal_db(tmp_path, "sqlite") as (_, engine):
        report = importing.run(engine, RULES, history_file(tmp_path))
        assert report.states == {"closed": 1, "answered": 1, "in_work": 1, "registered": 1}
        got = docs(engine)
        closed, answered = got["ВХ-2025-000007"], got["ВХ-2026-000041"]
        work, org = got["ВХ-2026-000042"], got["ВХС-2026-000005"]
        assert (closed.status, closed.stage) == ("closed", RULES.workflow.stage_of(closed_state()))
        assert closed.registered_at == dt.datetime(2025, 3, 3, 10, 15, tzinfo=KZ_TZ)
        assert closed.closed_at == dt.datetime(2025, 3, 19, tzinfo=KZ_TZ)
        assert closed.phone == "+77051234560" and closed.last_name == "=HYPERLINK(1)"
        assert closed.talon is False and closed.year == 2025 and closed.seq == 7
        assert (answered.status, work.status, work.stage) == ("answered", "in_work", RULES.workflow.start)
        assert (org.status, org.journal, org.org_name, org.kind) == (
            "registered",
            "sbyt",
            "ТОО «Ромашка»",
            None,
        )
        with Session(engine) as s:
            res = s.exec(select(Resolution).where(Resolution.document_id == closed.id)).one()
            people = s.exec(
                select(Assignment)
                .where(Assignment.document_id == closed.id)
                .order_by(col(Assignment.position))
            ).all()
            assert (
                res.current and res.text == "Рассмотреть, ответить" and res.due_date == dt.date(2025, 3, 20)
            )
            assert [(a.email, a.name) for a in people] == [
                ("petrov@sevkaz.example", "Петров Алексей Сергеевич"),
                ("sidorenko@sevkaz.example", "Сидоренко Ольга Викторовна"),
            ]
            [who] = s.exec(select(Assignment.email).where(Assignment.document_id == work.id)).all()
            assert who == "sidorenko@sevkaz.example"  # «Сидоренко О.В.» through the staff directory
            found = s.exec(
                select(Document.number).where(
                    *where(Filter(q="сергеев"), today=dt.date.today(), tz=KZ_TZ, dialect="sqlite")
                )
            ).all()
            assert found == ["ВХ-2026-000042"]
            counters = {(c.journal, c.year): c.last for c in s.exec(select(Counter))}
            assert counters == {("dp", 2025): 7, ("dp", 2026): 42, ("sbyt", 2026): 5}
            [ev] = s.exec(select(Event).where(Event.type == "journal_import")).all()
            data = json.loads(ev.data)
            assert data["rows"] == 4 and data["file"] == "history.csv" and data["sha256"] == report.sha256
            assert data["states"] == {"answered": 1, "closed": 1, "in_work": 1, "registered": 1}
            assert journal.verify(s).ok


def closed_state():
    from mailflow.case.states import State

    return State.CLOSED


# --- a legacy journal through a map -------------------------------------------


LEGACY_HEADER = [
    "№ п/п",
    "Вх. №",
    "Дата поступления",
    "Ф.И.О.",
    "Адрес",
    "Вид обращения",
    "Исполнитель",
    "Срок исполнения",
    "Дата ответа",
    "Примечание",
]
LEGACY = [
    ["1", "ВХ-2026-000011", "12.01.2026", "Иванов Пётр Сергеевич", "с. Айыртау", "Жалоба", "Петров А.С.", "26.01.2026", "20.01.2026", ""],
    ["2", "ВХ-2026-000012", "13.01.2026 11:40", "Сейткали Айгерим Бекболат кызы", "", "Жалоба на качество", "Петров Алексей Сергеевич, Иванова М.А.", "27.01.2026", "", "на контроле"],
    ["3", "ВХ-2026-000013", "14.01.2026 15:00", "ТОО «Ромашка»", "", "Заявка", "", "", "14.01.2026", ""],
]  # fmt: skip


def test_legacy_journal_with_russian_headers_semicolons_and_bom_through_a_map(tmp_path):
    path = write_csv(tmp_path / "журнал.csv", LEGACY_HEADER, LEGACY, delimiter=";", bom=True)
    cfg = home_config(tmp_path)
    code, out, err = mf(
        cfg, "journal", "import", str(path), "--map", str(REPO / "docs" / "import-map.example.toml")
    )
    assert code == 0, err
    assert "Импортировано: 3" in out
    engine = db.make_engine(cfg.database)
    got = docs(engine)
    first, second, org = got["ВХ-2026-000011"], got["ВХ-2026-000012"], got["ВХ-2026-000013"]
    assert (first.last_name, first.first_name, first.patronymic) == ("Иванов", "Пётр", "Сергеевич")
    assert (second.last_name, second.first_name, second.patronymic) == (
        "Сейткали",
        "Айгерим",
        "Бекболат кызы",
    )
    assert org.org_name == "ТОО «Ромашка»" and org.last_name is None and org.kind == "заявление"
    assert second.kind == "жалоба" and first.channel == "written" and first.journal == "dp"
    # answered_closes: the answer date closed the paper case
    assert first.status == "closed" and first.closed_at == dt.datetime(2026, 1, 20, tzinfo=KZ_TZ)
    assert second.status == "in_work" and second.due_date == dt.date(2026, 1, 27)
    assert second.registered_at == dt.datetime(2026, 1, 13, 11, 40, tzinfo=KZ_TZ)
    assert org.status == "closed"  # answered the same day: a day without an hour is not before 15:00
    with Session(engine) as s:
        people = s.exec(
            select(Assignment.email)
            .where(Assignment.document_id == second.id)
            .order_by(col(Assignment.position))
        ).all()
        assert people == ["petrov@sevkaz.example", "ivanova@sevkaz.example"]
    engine.dispose()


def test_a_map_with_an_unknown_key_or_column_is_refused(tmp_path):
    bad = tmp_path / "map.toml"
    bad.write_text('colums = {"Вх. №" = "incoming_number"}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        importing.load_mapping(bad)
    assert e.value.key == "colums" and "unknown key" in e.value.message and "columns" in e.value.message
    bad.write_text('[columns]\n"Вх. №" = "number"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        importing.load_mapping(bad)
    assert "no such column" in e.value.message and "'number'" in e.value.message
    cfg = home_config(tmp_path)
    path = write_csv(tmp_path / "j.csv", LEGACY_HEADER, LEGACY, delimiter=";")
    code, _, err = mf(cfg, "journal", "import", str(path), "--map", str(bad))
    assert code == 2 and "map.toml" in err
    code, _, err = mf(cfg, "journal", "import", str(path))  # Russian headers and no map
    assert code == 2 and "неизвестный столбец «№ п/п»" in err


# --- bad rows -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_bad_rows_are_listed_with_line_and_reason_and_nothing_is_imported(tmp_path, kind):
    with journal_db(tmp_path, kind) as (_, engine):
        header = ["incoming_number", "registered_at", "kind", "channel", "last_name", "closed_at"]
        importing.run(
            engine,
            RULES,
            write_csv(
                tmp_path / "before.csv",
                header,
                [["ВХ-2026-000001", "2026-02-01", "жалоба", "written", "Первый"]],
            ),
        )
        rows = [
            ["ВХ-2026-000002", "2026-02-02", "жалоба", "written", "Хороший"],  # line 2
            ["ВХ-2026-000003", "31.02.2026", "жалоба", "written", "Датов"],  # 3: no such day
            ["ВХ-2026-000004", "2026-02-04", "кляуза", "written", "Видов"],  # 4
            ["ИСХ-2026-000005", "2026-02-04", "жалоба", "written", "Номеров"],  # 5: no journal numbers so
            ["ВХ-2026-000002", "2026-02-05", "жалоба", "written", "Двойной"],  # 6: twice in the file
            ["ВХ-2026-000001", "2026-02-01", "жалоба", "written", "Другой"],  # 7: another row under it
            ["ВХ-2026-6", "2026-02-06", "жалоба", "written", "Короткий"],  # 8: not the journal's format
            ["ВХ-2026-000009", "2026-02-06", "отзыв", "written", "Второй хороший"],  # 9
            ["ВХ-2026-000010", "2026-02-06", "отзыв", "written", "Ранний", "2026-02-05"],  # 10: closed before it came
        ]  # fmt: skip
        path = write_csv(tmp_path / "bad.csv", header, rows)
        before = export_csv(engine)
        report = importing.run(engine, RULES, path)
        reasons = {b.line: b.reason for b in report.bad}
        assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 10] and report.bad_count == 7
        assert "«31.02.2026» — не дата" in reasons[3]
        assert "вид обращения «кляуза» неизвестен" in reasons[4]
        assert "не подходит ни к одному журналу" in reasons[5] and "ВХ-2026-000001" in reasons[5]
        assert "уже встречался выше в файле" in reasons[6]
        assert "уже есть в журнале с другим содержанием" in reasons[7]
        assert "не подходит ни к одному журналу" in reasons[8]
        assert "дата закрытия 05.02.2026 раньше даты регистрации 06.02.2026" in reasons[10]
        assert not report.written and export_csv(engine) == before  # nothing at all
        with Session(engine) as s:
            assert (
                s.exec(select(Counter.last).where(Counter.journal == "dp", Counter.year == 2026)).one() == 1
            )

        report = importing.run(engine, RULES, path, skip_bad=True)
        assert (report.imported, report.bad_count) == (2, 7) and report.written
        got = docs(engine)
        assert got["ВХ-2026-000001"].last_name == "Первый"  # never overwritten
        assert got["ВХ-2026-000002"].last_name == "Хороший" and "ВХ-2026-000009" in got
        assert len(got) == 3
        with Session(engine) as s:
            ev = s.exec(
                select(Event).where(Event.type == "journal_import").order_by(col(Event.id).desc())
            ).first()
            assert json.loads(ev.data)["skipped"] == 7 and json.loads(ev.data)["rows"] == 2
            assert journal.verify(s).ok


def test_bad_rows_from_the_command_line_exit_2_and_with_skip_bad_0(tmp_path):
    cfg = home_config(tmp_path)
    header = ["incoming_number", "registered_at", "kind", "channel"]
    path = write_csv(
        tmp_path / "j.csv",
        header,
        [
            ["ВХ-2026-000010", "2026-03-01", "жалоба", "written"],
            ["ВХ-2026-000011", "вчера", "жалоба", "written"],
        ],
    )
    code, out, err = mf(cfg, "journal", "import", str(path))
    assert code == 2 and "j.csv: строка 3: ВХ-2026-000011: «вчера» — не дата" in err
    assert "Ничего не импортировано" in err
    code, out, err = mf(cfg, "journal", "import", str(path), "--skip-bad")
    assert code == 0 and "Импортировано: 1" in out and "строка 3" in err
    code, out, _ = mf(cfg, "journal", "verify")
    assert code == 0 and "Журнал цел" in out


# --- numbering ------------------------------------------------------------------


def test_numbering_continues_after_the_import_and_after_paper(tmp_path):
    cfg = home_config(tmp_path)
    year = dt.datetime.now(KZ_TZ).year
    header = ["incoming_number", "registered_at", "channel"]
    rows = [[f"ВХ-{year}-{n:06d}", f"{year}-01-{n % 28 + 1:02d}", "written"] for n in (5, 1234, 17)]
    code, _, err = mf(cfg, "journal", "import", str(write_csv(tmp_path / "j.csv", header, rows)))
    assert code == 0, err
    deliver(cfg.home / "inbox", text_appeal(body="Жалоба"), "m1")
    [o] = daemon.run_once(cfg, RULES, recognize=fake_recognizer())
    assert o.number == f"ВХ-{year}-001235"  # the highest imported, plus one

    code, out, err = mf(cfg, "journal", "continue", "--journal", "dp", "--year", str(year), "--after", "2000")
    assert code == 0 and f"ВХ-{year}-002001" in out, err
    deliver(cfg.home / "inbox", text_appeal(body="Жалоба 2"), "m2")
    [o] = daemon.run_once(cfg, RULES, recognize=fake_recognizer())
    assert o.number == f"ВХ-{year}-002001"

    code, _, err = mf(cfg, "journal", "continue", "--journal", "dp", "--year", str(year), "--after", "1500")
    assert code == 2 and f"уже есть номер ВХ-{year}-002001" in err
    code, _, err = mf(cfg, "journal", "continue", "--journal", "dp", "--year", "2024", "--after", "30")
    assert code == 0
    code, _, err = mf(cfg, "journal", "continue", "--journal", "dp", "--year", "2024", "--after", "20")
    assert code == 2 and "номера назад не идут" in err  # the counter, though no document has 30
    engine = db.make_engine(cfg.database)
    with Session(engine) as s:
        last = {(c.journal, c.year): c.last for c in s.exec(select(Counter))}
        assert last[("dp", year)] == 2001 and last[("dp", 2024)] == 30
        assert journal.verify(s).ok
    engine.dispose()


# --- twice ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_file_twice_adds_nothing(tmp_path, kind):
    with journal_db(tmp_path, kind) as (_, engine):
        path = history_file(tmp_path)
        assert importing.run(engine, RULES, path).imported == 4
        with Session(engine) as s:
            events = s.exec(select(sa.func.count()).select_from(Event)).one()
        before = export_csv(engine)
        again = importing.run(engine, RULES, path)
        assert (again.imported, again.already, again.bad_count, again.written) == (0, 4, 0, False)
        exported = tmp_path / "exported.csv"
        exported.write_text(before, encoding="utf-8")
        third = importing.run(engine, RULES, exported)  # its export: other columns, the same rows
        assert (third.imported, third.already, third.bad_count) == (0, 4, 0), third.bad
        assert export_csv(engine) == before
        with Session(engine) as s:
            assert s.exec(select(sa.func.count()).select_from(Event)).one() == events
            assert journal.verify(s).ok


# --- chasing --------------------------------------------------------------------


def test_imported_history_is_not_chased_but_an_open_overdue_case_is(tmp_path):
    with journal_db(tmp_path, "sqlite") as (_, engine):
        header = [
            "incoming_number",
            "registered_at",
            "kind",
            "channel",
            "origin_unit",
            "last_name",
            "executors",
            "due_date",
            "closed_at",
        ]
        rows = [
            ["ВХ-2026-000100", "2026-10-01", "жалоба", "written", "Айыртауский РЭС", "Закрытов", "Петров А.С.", "2026-10-15", "2026-10-14"],
            ["ВХ-2026-000101", "2026-10-01", "жалоба", "written", "", "Закрытова", "", "2026-10-15", "2026-10-20"],
            ["ВХ-2026-000102", "2026-10-02", "жалоба", "written", "Айыртауский РЭС", "Открытов", "Сидоренко О.В.", "2026-10-16", ""],
        ]  # fmt: skip
        assert importing.run(engine, RULES, write_csv(tmp_path / "j.csv", header, rows)).imported == 3
        now = dt.datetime(2026, 11, 27, 10, 0, tzinfo=KZ_TZ)  # a Friday: Айыртауский РЭС's meeting day
        assert chasing.working_now(RULES, now)
        assert chasing.sweep(engine, RULES, SENDER, now=now) > 0
        got = docs(engine)
        with Session(engine) as s:
            chased = {(c.document_id, c.kind) for c in s.exec(select(Chase))}
            handover = s.exec(select(Outbox).where(Outbox.kind == "handover")).all()
        open_id = got["ВХ-2026-000102"].id
        assert (open_id, "overdue") in chased and (open_id, "escalation") in chased
        closed_ids = {got["ВХ-2026-000100"].id, got["ВХ-2026-000101"].id}
        assert not {d for d, _ in chased} & closed_ids
        [mail] = handover  # the open case's paper is listed, the closed one's is not
        body = (
            email.message_from_bytes(mail.raw, policy=email.policy.default).get_body(("plain",)).get_content()
        )
        assert "ВХ-2026-000102" in body and "ВХ-2026-000100" not in body


def test_export_csv_has_the_import_columns():
    for column in ("resolution", "executors", "due_date", "answered_at", "closed_at", "status", "subject"):
        assert column in export.CSV_COLUMNS
    assert export.unneutral(export.neutral("''=1")) == "''=1" and export.neutral("'x") == "'x"
