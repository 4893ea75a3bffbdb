"""ImapMailbox against a real Dovecot, plus unit tests at the imapclient seam."""

from __future__ import annotations

import datetime as dt
import imaplib
import socket
import threading
import time

import pytest
from servers import free_port

from mailflow.config import Endpoint, MailboxConfig
from mailflow.mailbox import open_mailbox
from mailflow.mailbox.imap import ImapAuthError, ImapError, ImapMailbox, MessageGone, UidValidityChanged
from mailflow.values import Source


def _raw(n: int, subject: str = "Обращение") -> bytes:
    return (
        f"From: res{n}@example.kz\r\nTo: kanc@example.kz\r\n"
        f"Subject: {subject} {n}\r\nMessage-ID: <m{n}.{time.time_ns()}@example.kz>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Текст обращения {n}\r\n"
    ).encode()


@pytest.fixture
def mailbox(dovecot, mail_user):
    mb = ImapMailbox(dovecot.mailbox_config(mail_user, name="kanc"))
    mb.open()
    yield mb
    mb.close()


def _later(delay: float, fn, *args) -> threading.Thread:
    def run():
        time.sleep(delay)
        fn(*args)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


# ------------------------------------------------------------------ Dovecot


def test_open_mailbox_picks_imap(dovecot, mail_user):
    mb = open_mailbox(dovecot.mailbox_config(mail_user))
    assert isinstance(mb, ImapMailbox)


def test_pending_fetch_move(dovecot, mail_user, mailbox):
    t0 = dt.datetime(2026, 3, 2, 9, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    raws = [_raw(i) for i in range(3)]
    for i, raw in enumerate(raws):
        dovecot.append(mail_user, raw, msg_time=t0 + dt.timedelta(minutes=i))

    pending = mailbox.pending()
    validity = str(dovecot.uidvalidity(mail_user))
    assert [s.uid for s in pending] == ["1", "2", "3"]  # oldest first
    assert all(s == Source("kanc", validity, s.uid) for s in pending)

    got = mailbox.fetch(pending[0])
    assert got.source == pending[0]
    assert got.raw == raws[0]
    assert got.received_at == t0  # INTERNALDATE, same instant
    assert got.received_at.utcoffset() == dt.timedelta(0)  # aware UTC
    with dovecot.connect(mail_user, "INBOX") as c:  # BODY.PEEK: \Seen not set
        assert b"\\Seen" not in c.get_flags([1])[1]

    assert "Processed" not in dovecot.folders(mail_user)
    mailbox.move(pending[0], "Processed")  # created on demand
    assert dovecot.fetch_all(mail_user, "Processed") == [raws[0]]
    assert [s.uid for s in mailbox.pending()] == ["2", "3"]
    mailbox.move(pending[0], "Processed")  # idempotent
    assert dovecot.fetch_all(mail_user, "Processed") == [raws[0]]
    with pytest.raises(MessageGone) as info:
        mailbox.fetch(pending[0])
    assert isinstance(info.value, FileNotFoundError)

    mailbox.move(pending[1], "Quarantine")
    mailbox.move(pending[2], "Processed")
    assert mailbox.pending() == []
    assert dovecot.fetch_all(mail_user, "Processed") == [raws[0], raws[2]]
    assert dovecot.fetch_all(mail_user, "Quarantine") == [raws[1]]


def test_copy_expunge_path_against_dovecot(dovecot, mail_user, mailbox, monkeypatch):
    """The MOVE-less path (COPY, STORE \\Deleted, UID EXPUNGE) on a real server."""
    raws = [_raw(1), _raw(2)]
    for raw in raws:
        dovecot.append(mail_user, raw)
    monkeypatch.setattr(mailbox, "_caps", mailbox.capabilities - {"MOVE"})
    first, second = mailbox.pending()
    with dovecot.connect(mail_user, "INBOX") as other:  # a \Deleted message of someone else
        other.add_flags([int(second.uid)], [r"\Deleted"])
    mailbox.move(first, "Processed")
    assert dovecot.fetch_all(mail_user, "Processed") == [raws[0]]
    with dovecot.connect(mail_user, "INBOX") as c:
        assert c.search(["ALL"]) == [int(second.uid)]  # UID EXPUNGE removed only ours
    mailbox.move(first, "Processed")  # idempotent
    assert len(dovecot.fetch_all(mail_user, "Processed")) == 1


def test_move_to_cyrillic_folder(dovecot, mail_user, mailbox):
    dovecot.append(mail_user, _raw(1))
    (src,) = mailbox.pending()
    mailbox.move(src, "Обработанные")
    assert "Обработанные" in dovecot.folders(mail_user)
    assert len(dovecot.fetch_all(mail_user, "Обработанные")) == 1


def test_watched_folder_other_than_inbox(dovecot, mail_user):
    dovecot.append(mail_user, _raw(1), folder="Appeals")
    dovecot.append(mail_user, _raw(2))  # INBOX: not watched
    with ImapMailbox(dovecot.mailbox_config(mail_user, "Appeals")) as mb:
        (src,) = mb.pending()
        assert mb.fetch(src).raw.startswith(b"From: res1@")


def test_missing_watched_folder_is_a_clear_error(dovecot, mail_user):
    mb = ImapMailbox(dovecot.mailbox_config(mail_user, "NoSuchFolder"))
    with pytest.raises(ImapError, match="NoSuchFolder"):
        mb.open()


def test_deleted_but_not_expunged_is_not_pending(dovecot, mail_user, mailbox):
    dovecot.append(mail_user, _raw(1), flags=[r"\Deleted"])
    dovecot.append(mail_user, _raw(2))
    assert [s.uid for s in mailbox.pending()] == ["2"]


def test_wrong_uidvalidity_is_refused(dovecot, mail_user, mailbox):
    dovecot.append(mail_user, _raw(1))
    (src,) = mailbox.pending()
    stale = Source(src.mailbox, "12345", src.uid)
    with pytest.raises(UidValidityChanged):
        mailbox.fetch(stale)
    with pytest.raises(UidValidityChanged):
        mailbox.move(stale, "Processed")
    assert mailbox.pending() == [src]  # nothing moved


def test_uidvalidity_change_after_folder_recreated(dovecot, mail_user):
    dovecot.append(mail_user, _raw(1), folder="Appeals")
    with ImapMailbox(dovecot.mailbox_config(mail_user, "Appeals")) as mb:
        (old,) = mb.pending()
        with dovecot.connect(mail_user) as c:  # an admin deletes and re-creates it
            c.delete_folder("Appeals")
            time.sleep(1.1)  # Dovecot's UIDVALIDITY is a timestamp
            c.create_folder("Appeals")
        dovecot.append(mail_user, _raw(2), folder="Appeals")
        with pytest.raises(UidValidityChanged):
            mb.fetch(old)
        (new,) = mb.pending()
        assert new.uidvalidity != old.uidvalidity
        assert mb.fetch(new).raw.startswith(b"From: res2@")


def test_idle_wakes_up_on_new_mail(dovecot, mail_user, mailbox):
    assert "IDLE" in mailbox.capabilities
    assert mailbox.pending() == []
    _later(0.3, dovecot.append, mail_user, _raw(1))
    start = time.monotonic()
    mailbox.wait(20, threading.Event())
    elapsed = time.monotonic() - start
    assert elapsed < 3, f"IDLE took {elapsed:.1f} s to notice new mail"
    assert len(mailbox.pending()) == 1


def test_idle_wakes_up_on_lmtp_delivery(dovecot, mail_user, mailbox):
    mailbox.pending()
    _later(0.3, dovecot.deliver, mail_user, _raw(1))
    start = time.monotonic()
    mailbox.wait(20, threading.Event())
    assert time.monotonic() - start < 3
    assert len(mailbox.pending()) == 1


def test_wait_returns_at_once_for_mail_that_came_before(dovecot, mail_user, mailbox):
    mailbox.pending()
    dovecot.append(mail_user, _raw(1))  # its EXISTS may be consumed by any command
    start = time.monotonic()
    mailbox.wait(20, threading.Event())
    assert time.monotonic() - start < 0.5


def test_wait_timeout_and_stop(mailbox):
    mailbox.pending()
    start = time.monotonic()
    mailbox.wait(1.0, threading.Event())
    assert 0.9 < time.monotonic() - start < 2.0

    stop = threading.Event()
    _later(0.3, stop.set)
    start = time.monotonic()
    mailbox.wait(60, stop)
    assert time.monotonic() - start < 1.6  # stop polled in ≤ 1 s slices
    assert mailbox.pending() == []  # connection still usable after IDLE DONE

    start = time.monotonic()
    mailbox.wait(60, stop)  # already set
    assert time.monotonic() - start < 0.1


def test_noop_polling_when_idle_disabled(dovecot, mail_user, monkeypatch):
    cfg = dovecot.mailbox_config(mail_user, idle=False, poll_interval=0.2)
    with ImapMailbox(cfg) as mb:
        monkeypatch.setattr(mb, "_idle", lambda *a: pytest.fail("IDLE used although disabled"))
        assert mb.pending() == []
        _later(0.3, dovecot.append, mail_user, _raw(1))
        start = time.monotonic()
        mb.wait(20, threading.Event())
        assert time.monotonic() - start < 2
        assert len(mb.pending()) == 1

        stop = threading.Event()
        _later(0.3, stop.set)
        start = time.monotonic()
        mb.wait(60, stop)
        assert time.monotonic() - start < 1


def test_reconnects_after_socket_dies(dovecot, mail_user, mailbox):
    dovecot.append(mail_user, _raw(1))
    (src,) = mailbox.pending()
    first = mailbox._client
    first.socket().shutdown(socket.SHUT_RDWR)
    assert mailbox.pending() == [src]  # transparently reconnected
    assert mailbox._client is not first
    mailbox._client.socket().shutdown(socket.SHUT_RDWR)
    assert mailbox.fetch(src).raw.startswith(b"From: res1@")
    mailbox._client.socket().shutdown(socket.SHUT_RDWR)
    mailbox.move(src, "Processed")
    assert mailbox.pending() == []


def test_wait_survives_socket_dying_during_idle(dovecot, mail_user, mailbox):
    mailbox.pending()
    _later(0.3, lambda: mailbox._client.socket().shutdown(socket.SHUT_RDWR))
    start = time.monotonic()
    mailbox.wait(10, threading.Event())  # returns after reconnecting
    assert time.monotonic() - start < 3
    dovecot.append(mail_user, _raw(1))
    assert len(mailbox.pending()) == 1


def test_reconnects_after_dovecot_restart(make_dovecot):
    server = make_dovecot()
    user = server.add_user("restarted", "pw")
    server.append(user, _raw(1))
    with ImapMailbox(server.mailbox_config(user)) as mb:
        (src,) = mb.pending()
        server.restart()
        assert mb.pending() == [src]
        assert mb.fetch(src).raw.startswith(b"From: res1@")

        # down while idling: wait() keeps trying (with backoff) and returns once back
        threading.Thread(target=server.restart, daemon=True).start()
        start = time.monotonic()
        mb.wait(15, threading.Event())
        assert time.monotonic() - start < 8
        mb.move(src, "Processed")
        assert mb.pending() == []


def test_open_raises_oserror_when_unreachable_and_backs_off():
    port = free_port()
    cfg = MailboxConfig("down", Endpoint("imap", "127.0.0.1", port, "u", "INBOX", "pw"))
    mb = ImapMailbox(cfg, connect_timeout=2)
    with pytest.raises(OSError):
        mb.open()
    assert 0.5 < mb.retry_in <= 1.5
    start = time.monotonic()
    with pytest.raises(ImapError, match="next attempt"):
        mb.pending()  # refused without touching the network during backoff
    assert time.monotonic() - start < 0.1
    stop = threading.Event()
    start = time.monotonic()
    mb.wait(0.5, stop)  # never raises; sleeps through the backoff
    assert 0.4 < time.monotonic() - start < 1.0


def test_login_refused(dovecot, mail_user):
    cfg = dovecot.mailbox_config(mail_user)
    bad = MailboxConfig(
        cfg.name, Endpoint("imap", cfg.endpoint.host, cfg.endpoint.port, cfg.endpoint.user, "INBOX", "wrong")
    )
    with pytest.raises(ImapAuthError, match="refused"):
        ImapMailbox(bad).open()
    nopw = MailboxConfig(
        cfg.name, Endpoint("imap", cfg.endpoint.host, cfg.endpoint.port, cfg.endpoint.user, "INBOX", None)
    )
    with pytest.raises(ImapAuthError, match="no password"):
        ImapMailbox(nopw).open()


def test_imaps(make_dovecot):
    server = make_dovecot(tls=True)
    user = server.add_user("secure", "pw")
    server.append(user, _raw(1))
    cfg = server.mailbox_config(user, tls=True)
    assert cfg.endpoint.scheme == "imaps"
    with ImapMailbox(cfg, ssl_context=server.ssl_context()) as mb:
        (src,) = mb.pending()
        assert mb.fetch(src).raw.startswith(b"From: res1@")
    with pytest.raises(ImapError, match="(?i)certificate"):  # default context: not trusted
        ImapMailbox(cfg).open()


# ------------------------------------------------------- fake at the seam


class FakeServer:
    """Server state shared by the FakeClient connections made to it."""

    def __init__(self, caps=(b"IMAP4REV1", b"IDLE", b"UIDPLUS"), uidvalidity=42):
        self.caps = tuple(caps)
        self.uidvalidity = uidvalidity
        self.folders: dict[str, dict[int, dict]] = {"INBOX": {}}
        self.calls: list[tuple] = []
        self.fail: list[BaseException] = []  # raised by the next commands, in order
        self.connections = 0
        self.refuse_connections = False

    def add(self, raw: bytes, flags=()) -> int:
        box = self.folders["INBOX"]
        uid = max(box, default=0) + 1
        box[uid] = {"raw": raw, "flags": set(flags), "date": dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)}
        return uid

    def factory(self, host, port, *, ssl, ssl_context, timeout):
        if self.refuse_connections:
            raise ConnectionRefusedError(111, "Connection refused")
        self.connections += 1
        return FakeClient(self)


class FakeClient:
    def __init__(self, server: FakeServer):
        self.s = server
        self.normalise_times = True
        self.selected = None

    def _cmd(self, *call):
        self.s.calls.append(call)
        if self.s.fail:
            failure = self.s.fail.pop(0)
            if failure is not None:  # None: this command succeeds
                raise failure

    def login(self, user, password):
        self._cmd("LOGIN", user)

    def starttls(self, ssl_context=None):
        self._cmd("STARTTLS")

    def capabilities(self):
        return self.s.caps

    def select_folder(self, folder, readonly=False):
        self._cmd("SELECT", folder)
        self.selected = folder
        return {b"UIDVALIDITY": self.s.uidvalidity, b"EXISTS": len(self.s.folders[folder])}

    def search(self, criteria):
        self._cmd("SEARCH", tuple(criteria))
        assert all(isinstance(c, str) and c.isascii() for c in criteria)
        box = self.s.folders[self.selected]
        return [u for u, m in sorted(box.items()) if b"\\Deleted" not in m["flags"]]

    def fetch(self, uids, items):
        self._cmd("FETCH", tuple(uids), tuple(items))
        box = self.s.folders[self.selected]
        out = {}
        for u in uids:
            if u in box:
                m = box[u]
                out[u] = {
                    b"SEQ": 1,
                    b"FLAGS": tuple(m["flags"]),
                    b"BODY[]": m["raw"],
                    b"INTERNALDATE": m["date"],
                }
        return out

    def folder_exists(self, folder):
        self._cmd("LIST", folder)
        return folder in self.s.folders

    def create_folder(self, folder):
        self._cmd("CREATE", folder)
        self.s.folders[folder] = {}

    def subscribe_folder(self, folder):
        self._cmd("SUBSCRIBE", folder)

    def copy(self, uids, folder):
        self._cmd("COPY", tuple(uids), folder)
        if folder not in self.s.folders:
            raise imaplib.IMAP4.error("copy failed: [TRYCREATE] Mailbox doesn't exist")
        for u in uids:
            target = self.s.folders[folder]
            target[max(target, default=0) + 1] = dict(self.s.folders[self.selected][u], flags=set())

    def move(self, uids, folder):
        if b"MOVE" not in self.s.caps:
            raise AssertionError("MOVE used without the capability")
        self.copy(uids, folder)
        for u in uids:
            del self.s.folders[self.selected][u]

    def add_flags(self, uids, flags, silent=False):
        self._cmd("STORE", tuple(uids), tuple(flags))
        for u in uids:
            self.s.folders[self.selected][u]["flags"].update(flags)

    def uid_expunge(self, uids):
        self._cmd("UID EXPUNGE", tuple(uids))
        box = self.s.folders[self.selected]
        for u in uids:
            if u in box and b"\\Deleted" in box[u]["flags"]:
                del box[u]

    def expunge(self):
        self._cmd("EXPUNGE")
        box = self.s.folders[self.selected]
        for u in [u for u, m in box.items() if b"\\Deleted" in m["flags"]]:
            del box[u]

    def noop(self):
        self._cmd("NOOP")
        return b"OK", []

    def logout(self):
        self.s.calls.append(("LOGOUT",))

    def shutdown(self):
        pass


def _fake_cfg(**kw) -> MailboxConfig:
    # these tests are about IMAP commands, not transport: the fake offers no STARTTLS
    return MailboxConfig(
        "fake", Endpoint("imap", "imap.example", 143, "u", "INBOX", "pw", allow_plaintext=True), **kw
    )


def _commands(server: FakeServer, since: int = 0) -> list[str]:
    return [c[0] for c in server.calls[since:]]


def test_fake_copy_expunge_path_without_move():
    server = FakeServer()  # no MOVE
    uid = server.add(b"Subject: a\r\n\r\nx\r\n")
    server.add(b"Subject: b\r\n\r\ny\r\n", flags=[b"\\Deleted"])  # someone else's
    mb = ImapMailbox(_fake_cfg(), client_factory=server.factory)
    mb.open()
    (src,) = mb.pending()
    assert src == Source("fake", "42", str(uid))
    got = mb.fetch(src)
    assert got.received_at == dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
    assert ("FETCH", (uid,), ("BODY.PEEK[]", "INTERNALDATE")) in server.calls

    n = len(server.calls)
    mb.move(src, "Processed")
    assert _commands(server, n) == ["FETCH", "LIST", "CREATE", "SUBSCRIBE", "COPY", "STORE", "UID EXPUNGE"]
    assert ("UID EXPUNGE", (uid,)) in server.calls  # only ours, not the other \Deleted one
    assert list(server.folders["Processed"].values())[0]["raw"] == b"Subject: a\r\n\r\nx\r\n"
    assert uid not in server.folders["INBOX"] and 2 in server.folders["INBOX"]

    n = len(server.calls)
    mb.move(src, "Processed")  # already gone: nothing more happens
    assert _commands(server, n) == ["FETCH"]


def test_fake_interrupted_copy_path_only_expunges():
    server = FakeServer()
    uid = server.add(b"x", flags=[b"\\Deleted"])  # COPY and STORE done, EXPUNGE lost
    server.folders["Processed"] = {1: {"raw": b"x", "flags": set(), "date": None}}
    mb = ImapMailbox(_fake_cfg(), client_factory=server.factory)
    mb.open()
    n = len(server.calls)
    mb.move(Source("fake", "42", str(uid)), "Processed")
    assert _commands(server, n) == ["FETCH", "LIST", "UID EXPUNGE"]
    assert len(server.folders["Processed"]) == 1  # no second copy


def test_fake_without_uidplus_uses_plain_expunge():
    server = FakeServer(caps=(b"IMAP4REV1",))
    uid = server.add(b"x")
    mb = ImapMailbox(_fake_cfg(), client_factory=server.factory)
    mb.open()
    mb.move(Source("fake", "42", str(uid)), "Processed")
    assert _commands(server)[-2:] == ["STORE", "EXPUNGE"]


def test_fake_move_capability_is_used():
    server = FakeServer(caps=(b"IMAP4REV1", b"MOVE", b"UIDPLUS"))
    uid = server.add(b"x")
    mb = ImapMailbox(_fake_cfg(), client_factory=server.factory)
    mb.open()
    mb.move(Source("fake", "42", str(uid)), "Processed")
    assert "STORE" not in _commands(server) and server.folders["INBOX"] == {}


def test_fake_transparent_reconnect_once():
    server = FakeServer()
    server.add(b"x")
    mb = ImapMailbox(_fake_cfg(), client_factory=server.factory)
    mb.open()
    server.fail = [imaplib.IMAP4.abort("socket error: EOF")]
    assert [s.uid for s in mb.pending()] == ["1"]
    assert server.connections == 2

    # an IMAP error on a connection that no longer answers counts as network
    server.fail = [imaplib.IMAP4.error("command SEARCH illegal in state LOGOUT"), BrokenPipeError()]
    assert [s.uid for s in mb.pending()] == ["1"]
    assert server.connections == 3

    # a NO on a live connection is the server's answer: no reconnect
    server.fail = [imaplib.IMAP4.error("SEARCH failed: quota")]
    with pytest.raises(ImapError, match="quota"):
        mb.pending()
    assert server.connections == 3

    # lost again right after reconnecting: the call fails and backoff starts
    server.fail = [
        ConnectionResetError(),
        None,
        None,
        ConnectionResetError(),
    ]  # SEARCH, LOGIN, SELECT, SEARCH
    with pytest.raises(ImapError, match="lost again"):
        mb.pending()
    assert server.connections == 4
    assert not mb.connected and mb.retry_in > 0


def test_fake_backoff_doubles_to_a_minute_with_jitter():
    server = FakeServer()
    server.refuse_connections = True
    now = [1000.0]
    mb = ImapMailbox(
        _fake_cfg(), client_factory=server.factory, clock=lambda: now[0], rng=lambda: 0.5
    )  # jitter factor exactly 1
    delays = []
    for _ in range(9):
        with pytest.raises(OSError):
            mb.open()
        delays.append(mb.retry_in)
        with pytest.raises(ImapError, match="next attempt"):
            mb.pending()
        now[0] += mb.retry_in
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]

    jittery = ImapMailbox(_fake_cfg(), client_factory=server.factory, clock=lambda: now[0], rng=lambda: 0.0)
    with pytest.raises(OSError):
        jittery.open()
    assert jittery.retry_in == 0.75

    server.refuse_connections = False
    mb.open()
    assert mb.retry_in == 0 and mb.connected


def test_fake_uidvalidity_and_foreign_sources():
    server = FakeServer()
    uid = server.add(b"x")
    mb = ImapMailbox(_fake_cfg(), client_factory=server.factory)
    mb.open()
    (src,) = mb.pending()
    server.uidvalidity = 43  # seen after the reconnect below
    server.fail = [imaplib.IMAP4.abort("BYE")]
    with pytest.raises(UidValidityChanged):
        mb.fetch(src)
    assert mb.pending() == [Source("fake", "43", str(uid))]
    with pytest.raises(ValueError):
        mb.fetch(Source("other", "43", str(uid)))
    with pytest.raises(ValueError):
        mb.move(Source("fake", "43", str(uid)), "INBOX")


def test_fake_idle_stops_within_a_second():
    class IdleClient(FakeClient):
        def idle(self):
            self._cmd("IDLE")

        def idle_check(self, timeout=None):
            time.sleep(timeout)
            return []

        def idle_done(self):
            self._cmd("DONE")
            return b"OK", []

    server = FakeServer()
    server.factory = lambda *a, **kw: IdleClient(server)
    mb = ImapMailbox(_fake_cfg(), client_factory=server.factory)
    mb.open()
    mb.pending()
    stop = threading.Event()
    _later(0.2, stop.set)
    start = time.monotonic()
    mb.wait(3600, stop)
    assert time.monotonic() - start < 1.3
    assert _commands(server)[-3:] == ["SEARCH", "IDLE", "DONE"]


def test_imaps_uses_tls_with_the_given_context():
    seen = {}

    def factory(host, port, *, ssl, ssl_context, timeout):
        seen.update(ssl=ssl, ctx=ssl_context)
        return FakeClient(FakeServer())

    import ssl as ssl_lib

    ctx = ssl_lib.create_default_context()
    cfg = MailboxConfig("tls", Endpoint("imaps", "imap.example", 993, "u", "INBOX", "pw"))
    ImapMailbox(cfg, client_factory=factory, ssl_context=ctx).open()
    assert seen == {"ssl": True, "ctx": ctx}
    ImapMailbox(cfg, client_factory=factory).open()
    assert seen["ssl"] is True and isinstance(seen["ctx"], ssl_lib.SSLContext)
    ImapMailbox(_fake_cfg(), client_factory=factory).open()
    assert seen == {"ssl": False, "ctx": None}


@pytest.mark.parametrize(
    "host, caps, allow, expected",
    [
        ("imap.example", (b"IMAP4REV1",), False, "refused"),  # a password in clear: never
        ("10.0.0.5", (b"IMAP4REV1", b"starttls"), False, ["STARTTLS", "LOGIN"]),  # any case of the word
        ("imap.example", (b"IMAP4REV1",), True, ["LOGIN"]),  # allowed in the config, explicitly
        ("127.0.0.1", (b"IMAP4REV1",), False, ["LOGIN"]),  # loopback
        ("::1", (b"IMAP4REV1",), False, ["LOGIN"]),
        ("localhost", (b"IMAP4REV1",), False, ["LOGIN"]),
        ("127.0.0.1.example", (b"IMAP4REV1",), False, "refused"),  # a name that only looks local
        ("[::ffff:10.0.0.5]", (b"IMAP4REV1",), False, "refused"),
    ],
)
def test_a_password_goes_in_clear_only_to_loopback_or_when_allowed(host, caps, allow, expected):
    server = FakeServer(caps=caps)
    cfg = MailboxConfig("plain", Endpoint("imap", host, 143, "u", "INBOX", "pw", allow_plaintext=allow))
    box = ImapMailbox(cfg, client_factory=server.factory)
    if expected == "refused":
        with pytest.raises(ImapError, match="offers no STARTTLS: the password is not sent in clear"):
            box.open()
        assert "LOGIN" not in _commands(server)
    else:
        box.open()
        assert [c for c in _commands(server) if c in ("STARTTLS", "LOGIN")] == expected
