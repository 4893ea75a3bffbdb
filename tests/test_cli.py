"""The `mailflow` command as a clerk uses it."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
import json
import random
import subprocess
import sys

import pytest

from tests.support import REPO, text_appeal

corpusgen = pytest.importorskip("corpusgen")
EXPORT_KEYS = {
    "incoming_number",
    "journal",
    "registered_at",
    "received_at",
    "kind",
    "group",
    "channel",
    "origin_unit",
    "consumer",
    "book_entry_at",
    "monitoring",
    "source",
    "attachments",
    "needs_review",
    "status",
    "resolution",
    "executors",
    "due_date",
    "deliveries",
    "answer",
}


def mf(home, *args, check=True):
    r = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(home), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_register_paper_scan_and_eml_then_list_show_export_verify(tmp_path):
    home = tmp_path / "home"
    case = corpusgen.Case(doc="form", sender="kanc@sevkaz.example", kind="заявление", fmt="jpeg", dpi=200)
    raw, truth, _ = corpusgen.build(case, 0, random.Random(11), dt.date(2026, 4, 1))
    from mailflow import mime

    scan = tmp_path / "скан заявления.jpg"
    scan.write_bytes(mime.parse(raw).attachments[0].data)
    eml = tmp_path / "letter.eml"
    eml.write_bytes(
        text_appeal(
            frm="office@client.example",
            subject="Исх. № 12/3 от 01.04.2026",
            body="Просим произвести перерасчёт. ТОО «Ромашка»",
        )
    )

    r = mf(home, "register", str(scan), str(eml))
    numbers = [line.rsplit(" ", 1)[-1] for line in r.stdout.splitlines() if "входящий номер" in line]
    assert len(numbers) == 2 and numbers[0] != numbers[1]

    again = mf(home, "register", str(scan))  # the same paper scanned twice is not a new appeal
    assert "already" in again.stdout and "входящий номер" not in again.stdout

    listing = mf(home, "journal", "list").stdout
    assert numbers[0] in listing and numbers[1] in listing and "Всего: 2" in listing

    lines = mf(home, "journal", "export", "--format", "jsonl").stdout.splitlines()
    recs = [json.loads(x) for x in lines]
    assert len(recs) == 2 and all(set(r) >= EXPORT_KEYS for r in recs)
    paper = next(r for r in recs if r["incoming_number"] == numbers[0])
    assert paper["channel"] == "written" and paper["attachments"][0]["filename"] == scan.name
    assert paper["consumer"]["last_name"] in (truth["consumer"]["last_name"], None)
    letter = next(r for r in recs if r["incoming_number"] == numbers[1])
    assert letter["source"]["subject"] == "Исх. № 12/3 от 01.04.2026"

    rows = list(csv.DictReader(io.StringIO(mf(home, "journal", "export", "--format", "csv").stdout)))
    assert {r["incoming_number"] for r in rows} == set(numbers)

    show = mf(home, "journal", "show", numbers[0]).stdout
    assert numbers[0] in show and "registered" in show
    # where each value was read: the form, in Russian, per field
    assert "Фамилия — откуда: бланк обращения (Приложение 1–3)" in show
    assert paper["evidence"]["last_name"] == "бланк обращения (Приложение 1–3)"
    assert "Журнал цел" in mf(home, "journal", "verify").stdout


def test_unknown_number_and_missing_file_are_clear_errors(tmp_path):
    home = tmp_path / "home"
    mf(home, "migrate")
    r = mf(home, "journal", "show", "ВХ-1999-000001", check=False)
    assert r.returncode == 1 and "не найден" in r.stderr
    r = mf(home, "register", str(tmp_path / "нет такого.pdf"), check=False)
    assert r.returncode == 1 and "не удалось прочитать" in r.stderr


def test_read_only_commands_never_create_or_migrate_a_journal(tmp_path):
    import sqlite3

    home = tmp_path / "hmoe"  # a typo in --home
    for args in (("journal", "list"), ("journal", "export"), ("journal", "verify"), ("outbox", "list")):
        r = mf(home, *args, check=False)
        assert r.returncode == 2 and "журнала нет" in r.stderr, (args, r.stderr)
    assert not (home / "journal.db").exists()
    assert "Схема журнала актуальна" in mf(home, "migrate").stdout
    assert "Журнал пуст" in mf(home, "journal", "list").stdout
    with sqlite3.connect(home / "journal.db") as c:
        c.execute("UPDATE alembic_version SET version_num = '0010'")
    r = mf(home, "journal", "list", check=False)
    assert r.returncode == 2 and "mailflow migrate" in r.stderr


def test_usage_error_exits_2(tmp_path):
    r = mf(tmp_path, "journal", "frobnicate", check=False)
    assert r.returncode == 2


def test_web_serves_the_sign_in_page_and_mails_a_link_into_the_outbox(tmp_path):
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path / "home"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailflow", "--home", str(home), "web", "--listen", f"127.0.0.1:{port}"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline, page = time.monotonic() + 30, None
        while time.monotonic() < deadline and page is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).read().decode()
            except OSError:
                time.sleep(0.2)
        assert page is not None and "Вход в журнал обращений" in page, proc.stderr.read1().decode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/login",
            data=json.dumps({"email": "kanc@sevkaz.example"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert urllib.request.urlopen(req, timeout=5).status == 202
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not list((home / "outbox" / "new").glob("*")):
            time.sleep(0.1)
        [mail] = list((home / "outbox" / "new").glob("*"))
        msg = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
        assert f"http://127.0.0.1:{port}/login/" in msg.get_body(("plain",)).get_content()
    finally:
        proc.terminate()
        proc.wait(15)
    assert proc.returncode in (0, -15)


def test_web_print_link_mails_and_prints_a_link_for_staff_only(tmp_path):
    home = tmp_path / "home"
    r = mf(home, "web", "--print-link", "kanc@sevkaz.example")
    assert r.stdout.startswith("http://127.0.0.1:8025/login/")
    [mail] = list((home / "outbox" / "new").glob("*"))
    msg = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert r.stdout.strip() in msg.get_body(("plain",)).get_content()
    refused = mf(home, "web", "--print-link", "stranger@example.com", check=False)
    assert refused.returncode == 2 and "/login/" not in refused.stdout


def test_web_refuses_a_bad_listen_address(tmp_path):
    r = mf(tmp_path / "home", "web", "--listen", "8025", check=False)
    assert r.returncode == 2 and "HOST:PORT" in r.stderr


def test_export_into_a_closed_pipe_ends_quietly(tmp_path, capsys):
    import os

    from mailflow import cli, daemon
    from tests.support import deliver, fake_recognizer, home_config, load_rules

    cfg = home_config(tmp_path)
    for i in range(3):
        deliver(cfg.home / "inbox", text_appeal(body=f"Жалоба {i}"), f"m{i}")
    daemon.run_once(cfg, load_rules(), recognize=fake_recognizer())
    r, w = os.pipe()
    os.close(r)  # `| head` that has already gone
    saved = sys.stdout
    sys.stdout = os.fdopen(w, "w")
    try:
        code = cli.main(["--home", str(cfg.home), "--rules", str(REPO / "rules"), "journal", "export"])
    finally:
        sys.stdout = saved
    assert code == 0
    assert "Traceback" not in capsys.readouterr().err


def test_outbox_list_retry_and_cancel_from_the_command_line(tmp_path):
    home = tmp_path / "home"
    mf(home, "web", "--print-link", "kanc@sevkaz.example")  # one mail in the outbox, sent
    listed = mf(home, "outbox", "list").stdout
    assert "signin" in listed and "sent" in listed and "kanc@sevkaz.example" in listed
    assert "Писем нет" in mf(home, "outbox", "list", "--status", "failed").stdout
    assert "Снова в очереди: 0" in mf(home, "outbox", "retry", "--failed").stdout
    both = mf(home, "outbox", "retry", "1", "--failed", check=False)
    assert both.returncode == 2
    sent = mf(home, "outbox", "cancel", "1", "--reason", "по ошибке", check=False)
    assert sent.returncode == 1 and "ничего не изменено" in sent.stderr


def test_redirect_from_the_command_line(tmp_path):
    from mailflow import daemon
    from tests.support import deliver, fake_recognizer, home_config, load_rules

    cfg = home_config(tmp_path)
    deliver(cfg.home / "inbox", text_appeal(body="Жалоба на связь"), "m1")
    [o] = daemon.run_once(cfg, load_rules(), recognize=fake_recognizer())
    home = cfg.home
    r = mf(
        home,
        "redirect",
        o.number,
        "--to",
        "Акимат, ул. Ленина, 5",
        "--reason",
        "не электроснабжение",
        "--by",
        "kanc@sevkaz.example",
    )
    assert "перенаправлено" in r.stdout and "Отправить почтой" in r.stdout
    assert "перенаправлено по компетенции" in mf(home, "journal", "list").stdout
    again = mf(
        home,
        "redirect",
        o.number,
        "--to",
        "Акимат",
        "--reason",
        "x",
        "--by",
        "kanc@sevkaz.example",
        check=False,
    )
    assert again.returncode == 1 and "невозможно" in again.stderr
    wrong = mf(
        home,
        "redirect",
        o.number,
        "--to",
        "Акимат",
        "--reason",
        "x",
        "--by",
        "ivanov@sevkaz.example",
        check=False,
    )
    assert wrong.returncode == 2


def test_export_as_xlsx_keeps_text_as_text(tmp_path):
    from openpyxl import load_workbook

    from mailflow import daemon
    from tests.support import deliver, fake_recognizer, home_config, load_rules

    cfg = home_config(tmp_path)
    deliver(cfg.home / "inbox", text_appeal(subject='=HYPERLINK("http://evil.example","жми")'), "m1")
    [o] = daemon.run_once(cfg, load_rules(), recognize=fake_recognizer())
    out = tmp_path / "journal.xlsx"
    assert "Записано" in mf(cfg.home, "journal", "export", "--format", "xlsx", "--out", str(out)).stdout
    ws = load_workbook(out)["Журнал"]
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2])}
    assert row["incoming_number"].value == o.number and row["last_name"].value == "Иванов"
    assert row["subject"].value.startswith("=HYPERLINK") and row["subject"].data_type == "s"
    jsonl = mf(cfg.home, "journal", "export").stdout.splitlines()
    assert len(jsonl) == 1 and o.number in jsonl[0]


def test_register_a_visit_or_posted_letter_with_its_day(tmp_path):
    from PIL import Image

    home = tmp_path / "home"
    scan = tmp_path / "заявление.pdf"
    Image.new("RGB", (850, 1100), "white").save(scan, "PDF", resolution=100)
    out = mf(home, "register", str(scan), "--channel", "visit", "--received", "01.12.2026").stdout
    assert "входящий номер" in out
    [rec] = [json.loads(line) for line in mf(home, "journal", "export").stdout.splitlines()]
    assert rec["channel"] == "visit" and rec["received_at"].startswith("2026-12-01T09:00")
    for bad in ("31.02.2026", "вчера", "01.01.2099"):
        r = mf(home, "register", str(scan), "--received", bad, check=False)
        assert r.returncode == 2 and "--received" in r.stderr
    r = mf(home, "register", str(scan), "--channel", "pigeon", check=False)
    assert r.returncode == 2


def test_paper_without_an_e_mail_gets_a_printed_talon_and_any_case_can_print_it_again(tmp_path):
    import os

    import pdfplumber
    from PIL import Image

    home = tmp_path / "home"
    scan = tmp_path / "заявление.pdf"
    Image.new("RGB", (850, 1100), "white").save(scan, "PDF", resolution=100)
    out = mf(home, "register", str(scan), "--channel", "visit", "--received", "01.12.2026").stdout
    number = out.split("входящий номер ")[1].split()[0]
    pdf = home / "talons" / f"{number}.pdf"
    assert f"талон для выдачи заявителю: {pdf}" in out and pdf.is_file()
    again = tmp_path / "талон.pdf"
    assert mf(home, "talon", number, "--out", str(again)).stdout.strip() == str(again)
    with pdfplumber.open(again) as doc:
        text = doc.pages[0].extract_text()
    assert number in text and "Өтініштің тіркелгені туралы ТАЛОН" in text and "01.12.2026" in text
    assert "talon_printed" in mf(home, "journal", "show", number).stdout

    r = mf(home, "talon", "ВХ-2026-999999", check=False)
    assert r.returncode == 1 and "ВХ-2026-999999 не найден" in r.stderr
    r = mf(home, "talon", number, "--out", str(tmp_path / "нет" / "t.pdf"), check=False)
    assert (
        r.returncode == 2 and "--out: не удалось записать файл" in r.stderr and "нет такой папки" in r.stderr
    )
    r = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(home), "talon", number],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "MAILFLOW_TALON_FONT": str(tmp_path / "нет.ttf")},
    )
    assert r.returncode == 2 and "нет шрифта с кириллицей и казахскими буквами" in r.stderr
    assert mf(home, "journal", "verify").returncode == 0


def test_version_and_doctor_checks_the_ocr_languages(tmp_path):
    import shutil

    r = subprocess.run(
        [sys.executable, "-m", "mailflow", "--version"], cwd=REPO, capture_output=True, text=True
    )
    assert r.returncode == 0 and r.stdout.startswith("mailflow ")
    home = tmp_path / "home"
    mf(home, "migrate")
    assert "ok    tesseract (rus+kaz" in mf(home, "doctor").stdout
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    f = rules / "intake.toml"
    f.write_text(f.read_text().replace('ocr_languages = "rus+kaz"', 'ocr_languages = "rus+xyz"'))
    r = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(home), "--rules", str(rules), "doctor"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "СБОЙ  tesseract" in r.stdout and "tesseract-ocr-xyz" in r.stdout


def test_under_journald_every_log_line_carries_its_priority(tmp_path):
    """`journalctl -p err` finds errors and their tracebacks; INFO is not an error."""
    import logging
    import os

    from mailflow.cli import JournalFormatter

    fmt = JournalFormatter("%(levelname)s %(name)s: %(message)s")
    try:
        raise ValueError("скан не читается")
    except ValueError:
        record = logging.LogRecord(
            "mailflow.intake", logging.ERROR, __file__, 1, "quarantining %s", ("m1",), None
        )
        record.exc_info = sys.exc_info()
    lines = fmt.format(record).splitlines()
    assert len(lines) > 3 and all(line.startswith("<3>") for line in lines)
    assert lines[-1] == "<3>ValueError: скан не читается"
    for level, prefix in (
        (logging.WARNING, "<4>"),
        (logging.INFO, "<6>"),
        (logging.DEBUG, "<7>"),
        (25, "<6>"),
    ):
        rec = logging.LogRecord("x", level, __file__, 1, "a\nb", None, None)
        assert [line[:3] for line in fmt.format(rec).splitlines()] == [prefix, prefix]

    home = tmp_path / "home"
    (home / "inbox" / "new").mkdir(parents=True)
    (home / "inbox" / "new" / "m1").write_bytes(text_appeal())
    r = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(home), "run", "--once"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "JOURNAL_STREAM": "8:12345"},
    )
    assert r.returncode == 0, r.stderr
    logged = r.stderr.splitlines()
    assert logged and all(line[:3] in ("<6>", "<4>", "<7>") for line in logged), logged
    assert any("registered ВХ-" in line for line in logged) and not any(
        line[3:7].isdigit() for line in logged
    )
