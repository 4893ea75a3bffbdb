"""Exports of the journal's current filter (CSV for Excel, XLSX) over HTTP, and
the streaming XLSX writer on its own."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from mailflow import export, xlsx_stream
from tests.test_web import CLERK, EXECUTOR, OTHER, csrf, workplace


@pytest.fixture(params=["sqlite", "postgresql"])
def wp(request, tmp_path):
    with workplace(tmp_path, request.param) as w:
        yield w


HOSTILE = '=HYPERLINK("http://evil.example","x")'


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would read cp1251"
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8")), delimiter=";"))


def _col(name: str) -> int:
    return export.CSV_COLUMNS.index(name)


def test_csv_export_is_the_current_filter_with_bom_semicolons_and_neutral_cells(wp):
    c = wp.sign_in(CLERK)
    r = c.patch(
        f"/api/cases/{wp.number}",
        json={"consumer": {"address": HOSTILE, "phone": "8 705 123 45 60"}},
        headers=csrf(c),
    )
    assert r.status_code == 200, r.text
    r = c.get("/api/cases.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = _csv(r.content)
    assert rows[0] == list(export.CSV_COLUMNS)
    assert {row[0] for row in rows[1:]} == {wp.number, wp.other}
    mine = next(row for row in rows[1:] if row[0] == wp.number)
    assert mine[_col("address")] == "'" + HOSTILE  # OWASP: a formula becomes text
    assert mine[_col("phone")] == "'+77051234560"
    assert export.unneutral(mine[_col("address")]) == HOSTILE
    # the filter narrows the export as it narrows the page
    only = _csv(c.get("/api/cases.csv", params={"kind": "заявление"}).content)
    assert [row[0] for row in only[1:]] == [wp.other]


def test_xlsx_export_writes_text_cells_that_excel_never_evaluates(wp):
    c = wp.sign_in(CLERK)
    c.patch(f"/api/cases/{wp.number}", json={"consumer": {"address": HOSTILE}}, headers=csrf(c))
    r = c.get("/api/cases.xlsx", params={"q": wp.number})
    assert r.status_code == 200 and r.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["Журнал"]
    rows = list(ws.iter_rows())
    assert [x.value for x in rows[0]][: len(export.CSV_COLUMNS)] == list(export.CSV_COLUMNS)
    assert len(rows) == 2 and rows[1][0].value == wp.number
    cell = rows[1][_col("address")]
    assert cell.value == HOSTILE and cell.data_type == "s"  # text, not a formula ("f")
    assert rows[1][_col("group")].data_type == "n"


def test_an_export_shows_only_the_cases_the_person_sees(wp):
    for who, seen in ((EXECUTOR, {wp.number}), (OTHER, set())):
        c = wp.sign_in(who)
        rows = _csv(c.get("/api/cases.csv").content)
        assert {row[0] for row in rows[1:]} == seen
        wb = load_workbook(io.BytesIO(c.get("/api/cases.xlsx").content))
        assert {r[0] for r in wb["Журнал"].iter_rows(min_row=2, values_only=True)} == seen
    assert wp.client().get("/api/cases.csv").status_code == 401
    assert wp.client().get("/api/cases.xlsx").status_code == 401


def test_the_journal_page_links_its_filter_to_both_exports(wp):
    c = wp.sign_in(CLERK)
    html = c.get("/", params={"q": "иванов", "kind": "жалоба"}).text
    assert 'href="/api/cases.xlsx?q=%D0%B8%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2&amp;kind=' in html
    assert 'id="export-csv"' in html


def test_the_streaming_workbook_comes_out_in_pieces_and_opens_in_openpyxl():
    rows = ([i, f"строка {i}", "=1+1" if i % 2 else None, "a\x01b<&>"] for i in range(2000))
    pieces = list(xlsx_stream.stream(["n", "текст", "формула", "xml"], rows, sheet="Лист", batch=100))
    assert len(pieces) > 10  # bytes left before the last row was read
    wb = load_workbook(io.BytesIO(b"".join(pieces)), read_only=True)
    got = list(wb["Лист"].iter_rows(values_only=True))
    assert got[0] == ("n", "текст", "формула", "xml")
    assert got[1] == (0, "строка 0", None, "ab<&>")
    assert got[2] == (1, "строка 1", "=1+1", "ab<&>")
    assert len(got) == 2001


@pytest.mark.parametrize(
    "value, shown",
    [
        ("=1+1", "'=1+1"),
        ("+7 705", "'+7 705"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Иванов", "Иванов"),
        (None, ""),
        (5, 5),
    ],
)
def test_one_rule_neutralises_formula_looking_cells(value, shown):
    assert export.neutral(value) == shown
    if isinstance(value, str):
        assert export.unneutral(str(shown)) == value


def test_the_cli_csv_export_uses_the_same_rule(tmp_path):
    recs = [
        {
            "incoming_number": "ВХ-1",
            "consumer": {"address": "=cmd|' /C calc'!A0"},
            "source": {"from": "@x", "subject": "-1"},
            "needs_review": [],
        }
    ]
    row = next(csv.reader(io.StringIO(export.to_csv(recs).splitlines()[1])))
    assert row[_col("address")] == "'=cmd|' /C calc'!A0"
    assert row[_col("from")] == "'@x" and row[_col("subject")] == "'-1"
