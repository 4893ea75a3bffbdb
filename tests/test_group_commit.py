"""Group commit (issue 13.6): a backlog is recorded several messages per transaction,
numbers stay gap-free, and a message that fails, or a group that does not commit,
costs nobody their registration."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mailflow import daemon, journal, replay, routing
from mailflow.models import Document, Inbound
from tests.support import database_urls, deliver, fake_recognizer, home_config, load_rules, text_appeal

KINDS = ["sqlite", "postgresql"]


class InboundCommits:
    """Counts the committed transactions that inserted an Inbound row, from the
    engine's own events (a seam outside mailflow's code)."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> InboundCommits:
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._statement)
        sa.event.listen(sa.engine.Engine, "commit", self._commit)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self._statement)
        sa.event.remove(sa.engine.Engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, params, context, executemany) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO INBOUND"):
            conn.info["inserted_inbound"] = True

    def _commit(self, conn) -> None:
        if conn.info.pop("inserted_inbound", False):
            self.count += 1


def _backlog(cfg, n: int, failing: set[int] = frozenset()) -> None:
    for i in range(n):
        mark = "СБОЙ" if i in failing else ""
        deliver(cfg.home / "inbox", text_appeal(body=f"Жалоба номер {i} {mark}"), f"m{i:03d}")


def _journal_state(cfg, rules):
    parts = daemon.build(cfg, rules, recognize=fake_recognizer())
    try:
        with Session(parts.engine) as s:
            seqs = sorted(d.seq for d in s.exec(select(Document)))
            statuses = sorted(i.status for i in s.exec(select(Inbound)))
            # the chain, and the tables rebuilt from the events: a savepoint undone leaves no trace
            replayed = replay.compare(s)
            assert replayed.ok and replayed.not_covered == 0, replayed.mismatches[:3]
            return seqs, statuses, journal.verify(s).ok
    finally:
        daemon.close(parts)


@pytest.mark.parametrize("kind", KINDS)
def test_backlog_is_recorded_in_groups_and_a_lone_message_at_once(tmp_path, monkeypatch, kind):
    monkeypatch.setattr(daemon, "GROUP_WAIT", 600.0)  # group by size only: the count below is exact
    with database_urls(tmp_path, kind) as url:
        cfg, rules = home_config(tmp_path, url), load_rules()
        _backlog(cfg, 30)
        with InboundCommits() as commits:
            outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
        assert [o.status for o in outcomes] == ["registered"] * 30
        assert commits.count == 2  # 25 + 5, not 30
        assert sorted(int(o.number.rsplit("-", 1)[1]) for o in outcomes) == list(range(1, 31))
        assert not list((cfg.home / "inbox" / "new").iterdir())  # all moved, after their commit

        deliver(cfg.home / "inbox", text_appeal(body="Жалоба одна"), "lone")
        with InboundCommits() as commits:
            outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
        assert [o.status for o in outcomes] == ["registered"]
        assert commits.count == 1
        seqs, _, ok = _journal_state(cfg, rules)
        assert seqs == list(range(1, 32)) and ok


@pytest.mark.parametrize("kind", KINDS)
def test_a_message_failing_in_its_group_is_quarantined_alone(tmp_path, monkeypatch, kind):
    monkeypatch.setattr(daemon, "GROUP_WAIT", 600.0)
    real = routing.route

    def route(session, head, rules, case, sender_addr):
        real(session, head, rules, case, sender_addr)  # its number, events and talons are written
        if "СБОЙ" in (case.recognition.text or ""):
            raise RuntimeError("маршрут сломался")

    monkeypatch.setattr(routing, "route", route)
    with database_urls(tmp_path, kind) as url:
        cfg, rules = home_config(tmp_path, url), load_rules()
        _backlog(cfg, 12, failing={3, 7})
        outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
        assert sorted(o.status for o in outcomes) == ["quarantined"] * 2 + ["registered"] * 10
        seqs, statuses, ok = _journal_state(cfg, rules)
        assert seqs == list(range(1, 11))  # the failed ones' numbers were given back
        assert statuses.count("quarantined") == 2 and ok


@pytest.mark.parametrize("kind", KINDS)
def test_a_group_that_does_not_commit_is_recorded_one_by_one(tmp_path, monkeypatch, kind):
    monkeypatch.setattr(daemon, "GROUP_WAIT", 600.0)
    failed: list[int] = []

    def count_inbound(session, flush_context) -> None:
        added = sum(isinstance(o, Inbound) for o in session.new)
        session.info["inbound"] = session.info.get("inbound", 0) + added

    def refuse_first_group(session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint's release, not the commit
        inbound = session.info.pop("inbound", 0)
        if inbound > 1 and not failed:
            failed.append(inbound)
            raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    sa.event.listen(Session, "after_flush", count_inbound)
    sa.event.listen(Session, "before_commit", refuse_first_group)
    try:
        with database_urls(tmp_path, kind) as url:
            cfg, rules = home_config(tmp_path, url), load_rules()
            _backlog(cfg, 8)
            with InboundCommits() as commits:
                outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
            assert failed == [8]
            assert [o.status for o in outcomes] == ["registered"] * 8
            assert commits.count == 8  # each alone, after the group failed
            seqs, _, ok = _journal_state(cfg, rules)
            assert seqs == list(range(1, 9)) and ok
    finally:
        sa.event.remove(Session, "before_commit", refuse_first_group)
        sa.event.remove(Session, "after_flush", count_inbound)
