"""The clerk's queues at the workplace: mail to look at, quarantine, the outbox and
unmatched receipts. Each item handled leaves an event naming the person and leaves
its queue; a second click, another role, another session's token, an unknown queue
or action change nothing."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from sqlmodel import Session, select

from mailflow import daemon
from mailflow.models import Delivery, Document, Inbound, Outbox
from tests import reportgen as G
from tests.support import (
    DIRECTOR,
    database_urls,
    deliver,
    fake_recognizer,
    home_config,
    load_rules,
    text_appeal,
)
from tests.test_web import CLERK, EXECUTOR, PR, Workplace

STRANGER = "someone@mail.example"


def _boom(msg, sender, channel):
    raise RuntimeError("OCR worker died")


class Desk(Workplace):
    """A home whose queues hold one of each: mail nothing matched, an unmatched delivery
    report, a quarantined appeal; and a resolved case whose forward can be proved.
    Signs in and reads events as the workplace's tests do."""

    def __init__(self, tmp_path, url):
        self.cfg, self.rules = home_config(tmp_path, url), load_rules()
        box = self.cfg.home / "inbox"
        deliver(box, text_appeal(body="Направляю жалобу потребителя"), "m1")
        daemon.run_once(self.cfg, self.rules, recognize=fake_recognizer())
        deliver(box, text_appeal(frm=STRANGER, subject="Привет", body="Как дела? Увидимся в субботу."), "m2")
        deliver(box, G.postfix_dsn([G.Rcpt(final=EXECUTOR, action="delivered", status="2.0.0")]), "m3")
        daemon.run_once(self.cfg, self.rules, recognize=fake_recognizer())
        deliver(box, text_appeal(body="Направляю заявление потребителя"), "m4")
        daemon.run_once(self.cfg, self.rules, recognize=_boom)
        self.app, self.parts = daemon.web(self.cfg, self.rules, "http://testserver")
        with Session(self.parts.engine) as s:
            self.number = s.exec(select(Document)).one().number
            by = {i.status + ":" + i.disposition: i.id for i in s.exec(select(Inbound))}
        self.review = by["review:review"]
        self.receipt = by["review:dsn"]
        self.quarantined = by["quarantined:unknown"]
        self.parts.services.resolve(self.number, "Сидоренко — рассмотреть", DIRECTOR)

    def inbound(self, i: int) -> Inbound:
        with Session(self.parts.engine) as s:
            return s.get(Inbound, i)


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request, tmp_path):
    with database_urls(tmp_path, request.param) as url:
        d = Desk(tmp_path, url)
        try:
            yield d
        finally:
            daemon.close(d.parts)


def _post(c, path, data=None):
    return c.post(path, data={"csrf": c.cookies.get("csrftoken"), **(data or {})})


def _ids(c, queue: str) -> list[int]:
    r = c.get(f"/api/queues/{queue}")
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


def test_each_queue_lists_what_waits(desk):
    c = desk.sign_in(CLERK)
    assert _ids(c, "review") == [desk.review]
    assert _ids(c, "receipts") == [desk.receipt]
    assert _ids(c, "quarantine") == [desk.quarantined]
    page = c.get("/queues?q=quarantine").text
    assert f'id="item-{desk.quarantined}"' in page and "OCR worker died" in page
    assert 'id="nav-queues"' in page
    mail = c.get(f"/queues/mail/{desk.review}").text
    assert "Увидимся в субботу" in mail and STRANGER in mail


def test_mail_nothing_matched_is_registered_once_as_an_appeal(desk):
    c = desk.sign_in(CLERK)
    r = _post(c, f"/queues/review/{desk.review}/register")
    assert r.status_code == 303, r.text
    assert "Зарегистрировано: ВХ-" in unquote(r.headers["location"].replace("+", " "))
    assert _ids(c, "review") == []
    [ev] = desk.events("requeued")
    assert (ev["by"], ev["was"], ev["outcome"], ev["as_appeal"]) == (CLERK, "review", "registered", True)
    with Session(desk.parts.engine) as s:
        doc = s.exec(select(Document).where(Document.number == ev["number"])).one()
        assert doc.email == STRANGER and "суббот" in (doc.text or "")  # a consumer's own e-mail
    again = _post(c, f"/queues/review/{desk.review}/register")
    assert again.status_code == 409 and "уже не в очереди" in again.text
    with Session(desk.parts.engine) as s:
        assert len(s.exec(select(Document)).all()) == 2  # the first case and this one, no third


def test_quarantined_mail_is_read_again_after_the_fix(desk):
    c = desk.sign_in(CLERK)
    r = _post(c, f"/queues/quarantine/{desk.quarantined}/reprocess")
    assert r.status_code == 303, r.text
    assert _ids(c, "quarantine") == []
    [ev] = desk.events("requeued")
    assert (ev["was"], ev["outcome"], ev["as_appeal"], ev["by"]) == (
        "quarantined",
        "registered",
        False,
        CLERK,
    )
    assert desk.inbound(desk.quarantined).status == "requeued"


def test_mail_is_attached_to_its_case_or_dismissed_with_a_reason(desk):
    c = desk.sign_in(CLERK)
    r = _post(c, f"/queues/review/{desk.review}/attach", {"number": "ВХ-2026-999999"})
    assert r.status_code == 404 and desk.inbound(desk.review).status == "review"
    r = _post(c, f"/queues/review/{desk.review}/attach", {"number": desk.number})
    assert r.status_code == 303
    inb = desk.inbound(desk.review)
    assert inb.status == "linked" and inb.document_id is not None
    [ev] = [e for e in desk.events("linked") if e.get("by") == CLERK]
    assert ev["number"] == desk.number

    r = _post(c, f"/queues/quarantine/{desk.quarantined}/dismiss", {"reason": "  "})
    assert r.status_code == 400 and desk.inbound(desk.quarantined).status == "quarantined"
    r = _post(c, f"/queues/quarantine/{desk.quarantined}/dismiss", {"reason": "дубль письма №4"})
    assert r.status_code == 303 and _ids(c, "quarantine") == []
    [ev] = desk.events("dismissed")
    assert (ev["was"], ev["reason"], ev["by"]) == ("quarantined", "дубль письма №4", CLERK)


def test_an_unmatched_report_is_attached_to_the_delivery_and_proves_it(desk):
    c = desk.sign_in(CLERK)
    r = _post(c, f"/queues/receipts/{desk.receipt}/attach", {"number": desk.number, "to": "nobody@x.example"})
    assert r.status_code == 404
    r = _post(c, f"/queues/receipts/{desk.review}/attach", {"number": desk.number})
    assert r.status_code == 404  # the review mail is not in the receipts queue's actions
    r = _post(c, f"/queues/receipts/{desk.receipt}/attach", {"number": desk.number})
    assert r.status_code == 303, r.text
    with Session(desk.parts.engine) as s:
        [d] = s.exec(select(Delivery)).all()
    assert d.delivered_at is not None and d.to_addr == EXECUTOR
    [ev] = [e for e in desk.events("receipt") if e.get("matched_by") == "clerk"]
    assert (ev["by"], ev["actions"], ev["delivery_id"]) == (CLERK, ["delivered"], d.id)
    assert _ids(c, "receipts") == []
    assert _post(c, f"/queues/receipts/{desk.receipt}/attach", {"number": desk.number}).status_code == 409


def test_refused_mail_is_sent_again_or_cancelled(desk):
    with Session(desk.parts.engine) as s:
        row = s.exec(select(Outbox)).first()
        row.status, row.last_error = "failed", "535 5.7.8 authentication failed"
        s.add(row)
        s.commit()
        failed = row.id
    c = desk.sign_in(CLERK)
    assert failed in _ids(c, "outbox")
    assert "535 5.7.8" in c.get("/queues?q=outbox").text
    assert _post(c, f"/queues/outbox/{failed}/cancel", {"reason": ""}).status_code == 400
    assert _post(c, f"/queues/outbox/{failed}/retry").status_code == 303
    with Session(desk.parts.engine) as s:
        assert s.get(Outbox, failed).status == "pending"
    [ev] = desk.events("outbox_retried")
    assert ev["by"] == CLERK


@pytest.mark.parametrize("who", [PR, EXECUTOR])
def test_only_those_who_keep_the_queues_see_or_touch_them(desk, who):
    c = desk.sign_in(who)
    assert c.get("/queues").status_code == 403
    assert c.get("/api/queues/review").status_code == 403
    assert c.get(f"/queues/mail/{desk.review}").status_code == 404
    assert _post(c, f"/queues/review/{desk.review}/register").status_code == 403
    assert desk.inbound(desk.review).status == "review" and 'id="nav-queues"' not in c.get("/").text


def test_unknown_queues_actions_and_tokens_change_nothing(desk):
    c, other = desk.sign_in(CLERK), desk.sign_in(EXECUTOR)
    assert c.get("/api/queues/spam").status_code == 404
    assert _post(c, f"/queues/review/{desk.review}/reprocess").status_code == 404  # quarantine only
    assert _post(c, f"/queues/outbox/{desk.review}/dismiss", {"reason": "x"}).status_code == 404
    for token in (None, other.cookies.get("csrftoken")):
        data = {} if token is None else {"csrf": token}
        assert c.post(f"/queues/review/{desk.review}/register", data=data).status_code == 403
    headers = {"X-CSRF-Token": c.cookies.get("csrftoken")}
    r = c.post(f"/api/queues/review/{desk.review}/dismiss", json={"reason": 5}, headers=headers)
    assert r.status_code == 400
    assert desk.inbound(desk.review).status == "review" and desk.events("requeued") == []
    r = c.post(f"/api/queues/review/{desk.review}/dismiss", json={"reason": "реклама"}, headers=headers)
    assert r.status_code == 200 and desk.inbound(desk.review).status == "dismissed"


def test_the_command_line_handles_the_same_queues(desk):
    import subprocess
    import sys

    from tests.support import REPO

    if not desk.cfg.database.startswith("sqlite"):
        pytest.skip("the command line reads the home's embedded journal here; the queues are the same")

    def mailflow(*args):
        return subprocess.run(
            [sys.executable, "-m", "mailflow", "--home", str(desk.cfg.home), *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )

    listed = mailflow("queue", "list", "review")
    assert listed.returncode == 0 and STRANGER in listed.stdout, listed.stderr
    r = mailflow("queue", "do", "review", str(desk.review), "dismiss", "--by", CLERK)
    assert r.returncode == 1 and "укажите причину" in r.stderr
    r = mailflow("queue", "do", "review", str(desk.review), "dismiss", "--reason", "реклама", "--by", CLERK)
    assert r.returncode == 0, r.stderr
    assert desk.inbound(desk.review).status == "dismissed"
    assert "Очередь пуста" in mailflow("queue", "list", "review").stdout


def test_mailflow_quarantine_is_the_quarantine_queue(desk):
    import subprocess
    import sys

    from tests.support import REPO

    if not desk.cfg.database.startswith("sqlite"):
        pytest.skip("the command line reads the home's embedded journal here")

    def mailflow(*args):
        return subprocess.run(
            [sys.executable, "-m", "mailflow", "--home", str(desk.cfg.home), "quarantine", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert "OCR worker died" in mailflow("list").stdout
    r = mailflow("reprocess", str(desk.quarantined), "--by", CLERK)
    assert r.returncode == 0 and "registered" in r.stdout, r.stderr
    assert desk.inbound(desk.quarantined).status == "requeued"
    assert mailflow("reprocess", str(desk.quarantined), "--by", CLERK).returncode == 1  # once
