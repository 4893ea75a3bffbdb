"""Shared pytest fixtures.

Mail servers (code in tests/servers.py), all on free 127.0.0.1 ports:
  dovecot        session-wide Dovecot (IMAP + LMTP); skips when not installed
  make_dovecot   factory for private Dovecot instances (restart, TLS), per test
  mail_user      a fresh Dovecot user for this test; its address
  smtp_server    per-test SMTP server delivering into `dovecot` over LMTP
  make_smtp_server  factory for SMTP servers with other options
  postfix        session-wide real Postfix MTA delivering `dovecot`'s domain over
                 LMTP, with real DSNs; skips when Postfix is missing or not root
  make_postfix   factory for private Postfix instances (other lifetimes, refuse
                 outside mail, restart), per test
"""

from __future__ import annotations

import itertools
import re

import pytest
from servers import Dovecot, Postfix, SmtpServer, dovecot_binary, postfix_unusable

NO_DOVECOT = (
    "dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd); "
    "skipping tests that need a real IMAP server"
)


def _require_dovecot() -> None:
    if dovecot_binary() is None:
        pytest.skip(NO_DOVECOT)


@pytest.fixture(scope="session")
def dovecot():
    """One Dovecot for the session; tests keep apart by using their own users."""
    _require_dovecot()
    server = Dovecot()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def make_dovecot():
    """make_dovecot(**kw) -> a started private Dovecot, stopped after the test.

    Keywords go to servers.Dovecot (e.g. tls=True, domain=...).
    """
    _require_dovecot()
    started: list[Dovecot] = []

    def make(**kw) -> Dovecot:
        server = Dovecot(**kw)
        started.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in started:
            server.cleanup()


_user_seq = itertools.count(1)


@pytest.fixture
def mail_user(request, dovecot) -> str:
    """Address of a new user of the session Dovecot, named after the test."""
    stem = re.sub(r"[^a-z0-9]+", "", request.node.name.lower().removeprefix("test_"))[:24]
    return dovecot.add_user(f"{stem or 'user'}-{next(_user_seq)}")


@pytest.fixture
def make_smtp_server(request):
    """make_smtp_server(**kw) -> a started SmtpServer, stopped after the test.

    Delivers into the session `dovecot` unless `dovecot=` is given (None:
    record only). Other keywords go to servers.SmtpServer.
    """
    started: list[SmtpServer] = []

    def make(**kw) -> SmtpServer:
        if "dovecot" not in kw:
            kw["dovecot"] = request.getfixturevalue("dovecot") if dovecot_binary() else None
        server = SmtpServer(**kw)
        started.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def smtp_server(make_smtp_server) -> SmtpServer:
    """An SMTP server for this test (DSN, 8BITMIME, SMTPUTF8, optional AUTH).

    Delivers to `dovecot` users over LMTP; without Dovecot installed it only
    records what it accepts.
    """
    return make_smtp_server()


def _require_postfix() -> None:
    why = postfix_unusable()
    if why:
        pytest.skip(f"{why}; skipping tests that need a real Postfix MTA")


@pytest.fixture(scope="session")
def postfix(request):
    """One Postfix for the session, in front of the session `dovecot`.

    SMTP on `postfix.host`:`postfix.port` (no AUTH; 127.0.0.0/8 may send);
    mail for `dovecot.domain` goes to Dovecot over LMTP, DSNs come back to
    senders in that domain within a fraction of a second. Tests keep apart by
    using their own users (and `defer()` only their own addresses).
    """
    _require_postfix()  # before Dovecot starts: skipping costs nothing
    server = Postfix(request.getfixturevalue("dovecot"))
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def make_postfix(request):
    """make_postfix(**kw) -> a started private Postfix, stopped after the test.

    Delivers into the session `dovecot` unless `dovecot=` is given. Other
    keywords go to servers.Postfix (queue_lifetime=, delay_warning=,
    outside="refuse", extra={main.cf settings}, ...).
    """
    _require_postfix()
    started: list[Postfix] = []

    def make(**kw) -> Postfix:
        dovecot = kw.pop("dovecot", None) or request.getfixturevalue("dovecot")
        server = Postfix(dovecot, **kw)
        started.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in started:
            server.cleanup()


# -- unit / integration -------------------------------------------------------------
# A test is "integration" when it needs a real server (one of these fixtures, or
# the PostgreSQL parameter) or a module drives the `mailflow` command, Tesseract
# or the daemon as a process; everything else is "unit" (`make test-fast`).
_SERVER_FIXTURES = frozenset(
    {"dovecot", "make_dovecot", "mail_user", "smtp_server", "make_smtp_server", "postfix", "make_postfix"}
)
_PROCESS_MODULES = frozenset(
    {
        "test_cli",
        "test_exactly_once",
        "test_e2e_imap",
        "test_corpus_appeals",
        "test_recognition",
        "test_postfix",
        "test_servers",
        "test_imap_mailbox",
        "test_hostile",
        "test_web_browser",
        "test_journal_db",  # two processes on one database
    }
)


def _is_integration(item: pytest.Item) -> bool:
    if _SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "postgresql" in callspec.id:
        return True
    return item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in _PROCESS_MODULES


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not any(item.iter_markers("integration")) and not any(item.iter_markers("unit")):
            item.add_marker(pytest.mark.integration if _is_integration(item) else pytest.mark.unit)
