"""The workplace in a real browser: Debian's chromium driven by Selenium.

Signs in through the mailed link, searches a surname, opens the card, sees
the scan, corrects a field and finds the change in the history; opens the
dashboard and follows a number to its cases. Screenshots of the journal, the
card and the dashboard go to tests/output/screenshots/ (or
$MAILFLOW_SCREENSHOTS) to be looked at; with $MAILFLOW_README_SHOTS set to a
folder (`docs`), the README's three are written there too.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.test_web import CLERK, EXECUTOR, Workplace

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SHOTS = Path(os.environ.get("MAILFLOW_SCREENSHOTS", Path(__file__).parent / "output" / "screenshots"))
README_SHOTS = os.environ.get("MAILFLOW_README_SHOTS")

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(DRIVER).exists()) or shutil.which("chromium") is None,
    reason="chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    import uvicorn

    from mailflow import daemon

    port = _free_port()
    w = Workplace(tmp_path, None)
    daemon.close(w.parts)
    w.app, w.parts = daemon.web(w.cfg, w.rules, f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(w.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    w.url = f"http://127.0.0.1:{port}"
    try:
        yield w
    finally:
        server.should_exit = True
        thread.join(10)
        daemon.close(w.parts)


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1500,1000",
        "--lang=ru-RU",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def _navigates(browser, act) -> None:
    """Do what loads a new page, and wait until the old one is gone: the old
    page has the same ids (#total, #history), and reading them before the new
    page replaced it read the old values (one run in four under load)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    old = browser.find_element(By.TAG_NAME, "html")
    act()
    WebDriverWait(browser, 10).until(EC.staleness_of(old))


def _mailed_link(w, to: str = CLERK) -> str:
    """A person's sign-in link (the clerk's by default), from the mail in outbox/."""
    deadline = time.monotonic() + 10  # the mail goes out just after the page (a background task)
    while not (mails := [m for m in w.link_mails() if m["To"] == to]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert mails, "the sign-in link was not mailed into outbox/"
    text = mails[-1].get_body(("plain",)).get_content()
    return next(word for word in text.split() if word.startswith(w.url + "/login/"))


def test_clerk_signs_in_finds_a_case_and_corrects_it(served, browser):
    from selenium.webdriver.common.by import By

    SHOTS.mkdir(parents=True, exist_ok=True)
    w = served
    browser.get(w.url + "/")
    assert "Вход в журнал" in browser.page_source  # not signed in: the sign-in form
    browser.find_element(By.NAME, "email").send_keys(CLERK)
    browser.find_element(By.CSS_SELECTOR, "form button").click()
    deadline = time.monotonic() + 10  # the form's answer page, once it has loaded
    while "Проверьте почту" not in browser.page_source and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Проверьте почту" in browser.page_source
    browser.get(_mailed_link(w))
    assert browser.find_element(By.ID, "journal")
    browser.save_screenshot(str(SHOTS / "journal.png"))

    box = browser.find_element(By.NAME, "q")
    box.send_keys("иванов")
    _navigates(browser, box.submit)
    assert browser.find_element(By.ID, "total").text == "2"
    _navigates(browser, browser.find_element(By.LINK_TEXT, w.number).click)

    img = browser.find_element(By.CSS_SELECTOR, ".scans img")
    deadline = time.monotonic() + 10
    while (
        browser.execute_script("return arguments[0].naturalWidth", img) == 0 and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert browser.execute_script("return arguments[0].naturalWidth", img) > 0, "the scan did not load"
    assert "needs" in browser.find_element(By.ID, "field-first_name").find_element(
        By.XPATH, ".."
    ).get_attribute("class")
    # where the reader found the surname, shown under the value
    assert browser.find_element(By.ID, "why-last_name").text == "шапка письма: «от Иванова»"
    browser.save_screenshot(str(SHOTS / "card.png"))

    field = browser.find_element(By.ID, "field-first_name")
    field.clear()
    field.send_keys("Болат")
    _navigates(browser, browser.find_element(By.ID, "save").click)
    assert "Исправления сохранены" in browser.find_element(By.ID, "saved").text
    history = browser.find_element(By.ID, "history").text
    assert "corrected" in history and "Болат" in history and CLERK in history
    browser.save_screenshot(str(SHOTS / "card-corrected.png"))
    assert w.doc().first_name == "Болат"


def test_a_repeat_shows_on_both_cards_and_links_them(served, browser):
    from selenium.webdriver.common.by import By

    SHOTS.mkdir(parents=True, exist_ok=True)
    w = served
    w.parts.services.repeat(w.other, of=w.number, by="kanc-sbyt@sevkaz.example")
    assert w.client().post("/api/login", json={"email": CLERK}).status_code == 202
    browser.get(_mailed_link(w))
    browser.get(f"{w.url}/cases/{w.other}")
    block = browser.find_element(By.ID, "repeats")
    assert "Повторное: тот же заявитель" in block.text and w.number in block.text
    browser.execute_script("arguments[0].scrollIntoView()", block)
    browser.save_screenshot(str(SHOTS / "card-repeat.png"))
    _navigates(browser, block.find_element(By.LINK_TEXT, w.number).click)  # to the first case
    assert w.other in browser.find_element(By.ID, "repeats").text
    assert unquote(browser.current_url).endswith(f"/cases/{w.number}")


def test_the_clerk_records_the_dispatch_from_the_card(served, browser):
    from selenium.webdriver.common.by import By

    SHOTS.mkdir(parents=True, exist_ok=True)
    w = served
    assert w.client().post("/api/login", json={"email": CLERK}).status_code == 202
    browser.get(_mailed_link(w))
    browser.get(f"{w.url}/cases/{w.number}")
    acts = browser.find_element(By.ID, "acts")
    browser.execute_script("arguments[0].scrollIntoView()", acts)
    browser.find_element(By.CSS_SELECTOR, "#act-dispatch summary").click()  # <details>: no script needed
    box = browser.find_element(By.CSS_SELECTOR, "#act-dispatch input[name=sent]")
    box.send_keys("Казпочта, РПО № RR123456785KZ")
    browser.save_screenshot(str(SHOTS / "card-acts.png"))
    _navigates(browser, browser.find_element(By.ID, "do-dispatch").click)
    assert "Отправка ответа отмечена" in browser.find_element(By.ID, "done").text
    assert "ответ отправлен" in browser.find_element(By.TAG_NAME, "h1").text
    assert w.doc().status == "answered"


def test_the_clerk_works_the_review_queue(served, browser):
    from selenium.webdriver.common.by import By

    from mailflow import daemon
    from tests.support import deliver, fake_recognizer, text_appeal

    SHOTS.mkdir(parents=True, exist_ok=True)
    w = served
    stranger = text_appeal(
        frm="someone@mail.example", subject="Вопрос", body="Когда включат свет на ул. Мира?"
    )
    deliver(w.cfg.home / "inbox", stranger, "q1")
    daemon.run_once(w.cfg, w.rules, recognize=fake_recognizer())
    assert w.client().post("/api/login", json={"email": CLERK}).status_code == 202
    browser.get(_mailed_link(w))
    _navigates(browser, browser.find_element(By.ID, "nav-queues").click)
    assert "1" in browser.find_element(By.ID, "tab-review").text
    row = browser.find_element(By.CSS_SELECTOR, "#items tr[id^=item-]")
    assert "someone@mail.example" in row.text
    browser.save_screenshot(str(SHOTS / "queues.png"))
    _navigates(browser, row.find_element(By.XPATH, ".//button[contains(., 'Зарегистрировать')]").click)
    assert "Зарегистрировано: ВХ-" in browser.find_element(By.ID, "done").text
    assert "Очередь пуста" in browser.find_element(By.ID, "items").text


def test_a_handwritten_entry_shows_the_crop_beside_each_unread_field(served, browser):
    from selenium.webdriver.common.by import By
    from sqlmodel import Session, select

    from mailflow import daemon
    from mailflow.models import Document
    from tests.support import deliver
    from tests.test_handwriting import PERSON, handwritten_entry

    SHOTS.mkdir(parents=True, exist_ok=True)
    w = served
    deliver(w.cfg.home / "inbox", handwritten_entry()[0], "handwritten")
    [outcome] = daemon.run_once(w.cfg, w.rules)  # the real reader
    assert outcome.status == "registered"
    with Session(w.parts.engine) as s:
        number = s.exec(select(Document).where(Document.channel == "book")).one().number
    assert w.client().post("/api/login", json={"email": CLERK}).status_code == 202
    browser.get(_mailed_link(w))
    browser.get(f"{w.url}/cases/{number}")
    for f in PERSON:
        img = browser.find_element(By.ID, f"crop-{f}")
        deadline = time.monotonic() + 10
        while (
            browser.execute_script("return arguments[0].naturalWidth", img) == 0
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert browser.execute_script("return arguments[0].naturalWidth", img) > 0, (
            f"the crop of {f} did not load"
        )
        box = browser.find_element(By.ID, f"field-{f}")
        assert box.get_attribute("value") == ""
        assert "needs" in box.find_element(By.XPATH, "..").get_attribute("class")
        assert img.location["y"] > box.location["y"]  # under its own input box
    browser.save_screenshot(str(SHOTS / "card-handwritten.png"))


def test_the_dashboard_shows_the_late_cases_and_links_to_them(served, browser):
    """The managers' dashboard in the browser; the README's screenshots of the
    journal, the card and the dashboard are taken here, on a few dated cases."""
    import datetime as dt

    from selenium.webdriver.common.by import By
    from sqlmodel import Session, select

    from mailflow.models import Document
    from mailflow.values import KZ_TZ

    SHOTS.mkdir(parents=True, exist_ok=True)
    w = served
    sv = w.parts.services
    # the first name stays unread: the card shows what needs review
    sv.correct(
        w.number, {"phone": "8 705 123 45 60", "address": "г. Петропавловск, ул. Абая, д. 12"}, by=CLERK
    )
    sv.correct(
        w.other, {"phone": "+7 777 555 11 22", "last_name": "Сәтпаева", "first_name": "Айгерим"}, by=CLERK
    )
    today = dt.datetime.now(KZ_TZ).date()
    with Session(w.parts.engine) as s, s.begin():
        for number, days in ((w.number, -4), (w.other, 0)):  # today: within any week
            s.exec(select(Document).where(Document.number == number)).one().due_date = today + dt.timedelta(
                days=days
            )
    assert w.client().post("/api/login", json={"email": CLERK}).status_code == 202
    browser.get(_mailed_link(w))
    assert browser.find_element(By.ID, "export-xlsx")
    shots = {"journal": SHOTS / "journal-dated.png"}
    browser.save_screenshot(str(shots["journal"]))
    browser.get(f"{w.url}/cases/{w.number}")
    img = browser.find_element(By.CSS_SELECTOR, ".scans img")
    deadline = time.monotonic() + 10
    while (
        browser.execute_script("return arguments[0].naturalWidth", img) == 0 and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    shots["card"] = SHOTS / "card-dated.png"
    browser.save_screenshot(str(shots["card"]))

    _navigates(browser, browser.find_element(By.ID, "nav-dashboard").click)
    assert browser.find_element(By.ID, "overdue").text == "1", browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_element(By.ID, "due-week").text == "1"
    executors = browser.find_element(By.ID, "by-executor").text
    assert "Сидоренко" in executors
    assert browser.find_element(By.ID, "report-xlsx").get_attribute("href").endswith("/dashboard/report.xlsx")
    shots["dashboard"] = SHOTS / "dashboard.png"
    browser.set_window_size(1500, 1350)  # the report and the registers too
    browser.save_screenshot(str(shots["dashboard"]))
    browser.set_window_size(1500, 1000)

    _navigates(browser, browser.find_element(By.CSS_SELECTOR, "#overdue a").click)
    assert browser.find_element(By.ID, "total").text == "1"
    assert w.number in browser.find_element(By.ID, "journal").text
    assert w.other not in browser.find_element(By.ID, "journal").text

    # the executor's own board: his late case, no report, no registers
    browser.delete_all_cookies()
    assert w.client().post("/api/login", json={"email": EXECUTOR}).status_code == 202
    browser.get(_mailed_link(w, EXECUTOR))
    _navigates(browser, browser.find_element(By.ID, "nav-dashboard").click)
    assert browser.find_element(By.ID, "own-scope")
    assert browser.find_element(By.ID, "overdue").text == "1"
    assert browser.find_element(By.ID, "due-week").text == "0"  # the other case has no resolution
    assert not browser.find_elements(By.ID, "report-xlsx") and not browser.find_elements(By.ID, "registers")
    shots["dashboard-own"] = SHOTS / "dashboard-own.png"
    browser.save_screenshot(str(shots["dashboard-own"]))
    if README_SHOTS:
        for name, path in shots.items():
            shutil.copyfile(path, Path(README_SHOTS) / f"workplace-{name}.png")
