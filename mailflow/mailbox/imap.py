"""An IMAP folder as a mailbox (imapclient is the single socket seam).

Identity: Source(mailbox name, UIDVALIDITY, UID) of the watched folder.
Reading never changes a message (BODY.PEEK[], so \\Seen stays unset); the
only write is `move`, which uses MOVE (RFC 6851) when offered and otherwise
COPY + \\Deleted + UID EXPUNGE (RFC 4315), creating the target folder first.
SEARCH uses ASCII criteria only, since some servers (Exchange) refuse a
CHARSET.

Connections: `open()` connects once and raises `ImapError` (an OSError) when
it cannot, so the caller can back off. Afterwards every method reconnects by
itself: a network failure in the middle of a call (socket error, timeout,
imaplib abort, an IMAP error on a connection that no longer answers) leads
to one immediate reconnect and one retry; when that fails the call raises
`ImapError`, and further attempts are refused until an exponential backoff
delay (1 s doubling to 60 s, with jitter) has passed. `wait()` never raises
for network trouble: it sleeps through the backoff (waking at once when
`stop` is set) and reconnects.

One ImapMailbox is used by one thread at a time.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import logging
import random
import ssl as ssl_lib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..config import ConfigError, MailboxConfig
from ..values import Source
from . import Fetched
from . import MessageGone as _Gone

log = logging.getLogger(__name__)

DELETED = b"\\Deleted"
MAX_IDLE = 25 * 60.0  # re-issue IDLE before servers' 30-minute inactivity limit (RFC 2177)


class ImapError(OSError):
    """The IMAP mailbox failed: unreachable, login refused, or a server refusal."""


class ImapAuthError(ImapError):
    """Login refused, or no password configured."""


class UidValidityChanged(ImapError):
    """The folder's UIDVALIDITY is not the one in the Source: its UIDs are void.

    List the folder again (`pending()`) to get the messages' new identities.
    """


class MessageGone(ImapError, _Gone):
    """No message with that UID in the watched folder (moved or expunged)."""


ClientFactory = Callable[..., Any]


def _default_factory(host: str, port: int, *, ssl: bool, ssl_context, timeout):
    import imapclient

    return imapclient.IMAPClient(host, port=port, ssl=ssl, ssl_context=ssl_context, timeout=timeout)


def _timeout(connect: float, read: float):
    try:
        from imapclient import SocketTimeout
    except ImportError:  # pragma: no cover - imapclient < 2.2
        return read
    return SocketTimeout(connect=connect, read=read)


def _has_new_mail(responses) -> bool:
    """True for an untagged EXISTS, or RECENT with a count above 0."""
    for r in responses or ():
        if isinstance(r, tuple) and len(r) >= 2:
            kind = r[1].upper() if isinstance(r[1], bytes) else r[1]
            if kind == b"EXISTS":
                return True
            if kind == b"RECENT" and isinstance(r[0], int) and r[0] > 0:
                return True
    return False


def _flags(item: dict) -> set[bytes]:
    return {f.lower() if isinstance(f, bytes) else str(f).encode().lower() for f in item.get(b"FLAGS", ())}


def _utc(value) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime.now(dt.UTC)
    if value.tzinfo is None:  # imapclient normalises to naive local time unless told not to
        value = value.astimezone()
    return value.astimezone(dt.UTC)


class ImapMailbox:
    """The Mailbox protocol over IMAP (`imap://` or `imaps://` endpoints).

    Test seams: `ssl_context` (e.g. one trusting a self-signed certificate)
    and `client_factory(host, port, *, ssl, ssl_context, timeout)` returning
    an imapclient.IMAPClient-like object; `clock` and `rng` drive backoff.
    """

    def __init__(
        self,
        cfg: MailboxConfig,
        *,
        ssl_context: ssl_lib.SSLContext | None = None,
        client_factory: ClientFactory | None = None,
        connect_timeout: float = 15.0,
        read_timeout: float = 60.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ):
        ep = cfg.endpoint
        if ep.scheme not in ("imap", "imaps"):
            raise ValueError(f"{cfg.name}: not an IMAP endpoint: {ep.scheme}")
        self.name = cfg.name
        self.cfg = cfg
        self.folder = ep.path or "INBOX"
        self.poll_interval = cfg.poll_interval
        self._ssl_context = ssl_context
        self._factory = client_factory or _default_factory
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._clock = clock
        self._rng = rng
        self._client = None
        self._caps: frozenset[str] = frozenset()
        self._uidvalidity: int | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._listed: set[int] = set()
        self._folders: set[str] = set()

    def __repr__(self) -> str:
        ep = self.cfg.endpoint
        return f"<ImapMailbox {self.name} {ep.scheme}://{ep.user}@{ep.host}:{ep.port}/{self.folder}>"

    @property
    def where(self) -> str:
        ep = self.cfg.endpoint
        return f"{self.name} ({ep.scheme}://{ep.host}:{ep.port}/{self.folder})"

    # ------------------------------------------------------------ connection

    @property
    def connected(self) -> bool:
        return self._client is not None

    @property
    def uidvalidity(self) -> int | None:
        """UIDVALIDITY of the watched folder at the last SELECT."""
        return self._uidvalidity

    @property
    def capabilities(self) -> frozenset[str]:
        return self._caps

    @property
    def retry_in(self) -> float:
        """Seconds until the next connection attempt is allowed (0: now)."""
        return max(0.0, self._retry_at - self._clock())

    def open(self) -> None:
        """Connect, log in and select the folder; raises ImapError (OSError)."""
        self._connect()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            try:
                client.shutdown()
            except Exception:
                pass

    def __enter__(self) -> ImapMailbox:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _drop(self) -> None:
        """Forget a broken connection without talking to the server."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.shutdown()
            except Exception:
                pass

    def _failed(self) -> None:
        self._failures += 1
        delay = min(self._backoff_max, self._backoff_initial * 2 ** (self._failures - 1))
        delay = min(self._backoff_max, delay * (0.75 + 0.5 * self._rng()))  # ±25 % jitter
        self._retry_at = self._clock() + delay
        log.info("%s: next connection attempt in %.1f s", self.name, delay)

    def _starttls(self, client, ep) -> None:
        """imap://: encrypt when the server offers it; never a password in clear to
        anything but loopback unless the mailbox allows it."""
        offered = any(
            (c.decode("ascii", "replace") if isinstance(c, bytes) else str(c)).upper() == "STARTTLS"
            for c in client.capabilities()
        )
        if offered:
            if self._ssl_context is None:
                self._ssl_context = ssl_lib.create_default_context()
            client.starttls(self._ssl_context)
            return
        refused = ep.clear_refused(tls=False)
        if refused:
            raise ImapAuthError(f"{self.where}: {refused}")

    def _connect(self):
        self._drop()
        ep = self.cfg.endpoint
        tls = ep.scheme == "imaps"
        context = self._ssl_context
        if tls and context is None:
            context = self._ssl_context = ssl_lib.create_default_context()
        try:
            client = self._factory(
                ep.host,
                ep.port,
                ssl=tls,
                ssl_context=context if tls else None,
                timeout=_timeout(self._connect_timeout, self._read_timeout),
            )
        except (OSError, imaplib.IMAP4.error) as exc:
            self._failed()
            raise ImapError(f"{self.where}: cannot connect: {exc}") from exc
        try:
            if hasattr(client, "normalise_times"):
                client.normalise_times = False  # keep INTERNALDATE's zone
            if ep.scheme == "imap":
                self._starttls(client, ep)
            try:
                password = ep.login_password()
            except ConfigError as exc:
                raise ImapAuthError(f"{self.where}: {exc}") from exc
            if password is None:
                raise ImapAuthError(
                    f"{self.where}: no password configured for {ep.user!r} "
                    "(set password_env or password_file)"
                )
            try:
                client.login(ep.user, password)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as exc:
                raise ImapAuthError(f"{self.where}: login as {ep.user!r} refused: {exc}") from exc
            try:
                info = client.select_folder(self.folder)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as exc:
                raise ImapError(f"{self.where}: cannot select folder {self.folder!r}: {exc}") from exc
            uidvalidity = int(info[b"UIDVALIDITY"])
            caps = frozenset(
                c.decode("ascii", "replace").upper() if isinstance(c, bytes) else str(c).upper()
                for c in client.capabilities()
            )
        except ImapError:
            self._failed()
            self._shutdown(client)
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            self._failed()
            self._shutdown(client)
            raise ImapError(f"{self.where}: connection failed during login: {exc}") from exc
        if self._uidvalidity is not None and uidvalidity != self._uidvalidity:
            log.warning(
                "%s: UIDVALIDITY changed from %s to %s; messages get new identities",
                self.where,
                self._uidvalidity,
                uidvalidity,
            )
            self._listed = set()
        self._client, self._caps, self._uidvalidity = client, caps, uidvalidity
        self._folders = set()
        if self._failures:
            log.info("%s: reconnected after %d failed attempt(s)", self.where, self._failures)
        self._failures, self._retry_at = 0, 0.0
        return client

    @staticmethod
    def _shutdown(client) -> None:
        try:
            client.shutdown()
        except Exception:
            pass

    def _ensure(self):
        if self._client is not None:
            return self._client
        wait = self.retry_in
        if wait > 0:
            raise ImapError(f"{self.where}: server unreachable; next attempt in {wait:.0f} s")
        return self._connect()

    def _is_network(self, exc: BaseException, client) -> bool:
        if isinstance(exc, ImapError):
            return False
        if isinstance(exc, (OSError, imaplib.IMAP4.abort)):
            return True
        if isinstance(exc, imaplib.IMAP4.error):
            # A NO/BAD answer on a live connection, or a dead one? Ask it.
            try:
                client.noop()
            except Exception:
                return True
        return False

    def _run(self, op: Callable[[Any], Any], what: str):
        """Run op(client); after a network failure reconnect once and retry once."""
        client = self._ensure()
        for attempt in (1, 2):
            try:
                return op(client)
            except ImapError:
                raise
            except (OSError, imaplib.IMAP4.error) as exc:
                if not self._is_network(exc, client):
                    raise ImapError(f"{self.where}: {what} failed: {exc}") from exc
                self._drop()
                if attempt == 2:
                    self._failed()
                    raise ImapError(f"{self.where}: connection lost again during {what}: {exc}") from exc
                log.warning("%s: connection lost during %s (%s); reconnecting", self.where, what, exc)
            client = self._connect()

    # ------------------------------------------------------------ messages

    def _uid(self, source: Source) -> int:
        if source.mailbox != self.name:
            raise ValueError(f"{source} does not belong to mailbox {self.name!r}")
        try:
            return int(source.uid)
        except ValueError:
            raise ValueError(f"{source}: not an IMAP UID: {source.uid!r}") from None

    def _check_validity(self, source: Source) -> None:
        if source.uidvalidity != str(self._uidvalidity):
            raise UidValidityChanged(
                f"{self.where}: UIDVALIDITY is now {self._uidvalidity}, not {source.uidvalidity}: "
                f"UID {source.uid} no longer names the same message; list the folder again"
            )

    def pending(self) -> list[Source]:
        """UIDs in the watched folder not flagged \\Deleted, oldest (lowest UID) first."""

        def op(c):
            c.noop()  # servers (Dovecot) show new arrivals to SEARCH only after a sync
            return sorted(int(u) for u in c.search(["NOT", "DELETED"]))

        uids = self._run(op, "SEARCH")
        self._listed = set(uids)
        validity = str(self._uidvalidity)
        return [Source(self.name, validity, str(u)) for u in uids]

    def fetch(self, source: Source) -> Fetched:
        uid = self._uid(source)

        def op(c):
            self._check_validity(source)
            item = c.fetch([uid], ["BODY.PEEK[]", "INTERNALDATE"]).get(uid)
            raw = item.get(b"BODY[]") if item else None
            if raw is None:
                raise MessageGone(f"{self.where}: message UID {uid} is gone")
            return bytes(raw), item.get(b"INTERNALDATE")

        raw, internal = self._run(op, f"FETCH {uid}")
        return Fetched(source, raw, _utc(internal))

    def fetch_many(self, sources: Sequence[Source], budget: int) -> dict[Source, Fetched | None]:
        """The first of `sources` whose sizes add up to `budget` (one at least), in one
        FETCH of their sizes and one of their bodies; None: gone."""
        uids = [self._uid(s) for s in sources]
        if len(uids) > 1:

            def sizes(c):
                self._check_validity(sources[0])
                return c.fetch(uids, ["RFC822.SIZE"])

            known = self._run(sizes, f"FETCH {len(uids)} sizes")
            total, n = 0, 0
            for uid in uids:
                total += int((known.get(uid) or {}).get(b"RFC822.SIZE", 0))
                if n and total > budget:
                    break
                n += 1
            sources, uids = sources[:n], uids[:n]

        def op(c):
            self._check_validity(sources[0])
            return c.fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])

        items = self._run(op, f"FETCH {len(uids)}")
        out: dict[Source, Fetched | None] = {}
        for source, uid in zip(sources, uids, strict=True):
            item = items.get(uid)
            raw = item.get(b"BODY[]") if item else None
            out[source] = (
                None if raw is None else Fetched(source, bytes(raw), _utc(item.get(b"INTERNALDATE")))
            )
        return out

    def move(self, sources: Source | Sequence[Source], folder: str, *, unread: bool = False) -> None:
        """Move out of the watched folder into `folder` (created if missing).

        One round of commands for many messages. Idempotent: a UID no longer
        in the folder is fine, and a message left \\Deleted by an interrupted
        COPY-path move is only expunged. Without MOVE, a connection lost
        between COPY and STORE can leave a second copy in `folder`
        (at-least-once there, never lost). Messages are read with BODY.PEEK, so
        they arrive as unread as they came (`unread` needs nothing more).
        """
        sources = [sources] if isinstance(sources, Source) else list(sources)
        if not sources:
            return
        uids = [self._uid(src) for src in sources]
        if folder == self.folder:
            raise ValueError(f"{self.where}: cannot move a message into the watched folder itself")

        def op(c):
            for src in sources:
                self._check_validity(src)
            found = c.fetch(uids, ["FLAGS"])
            present = [u for u in uids if u in found]
            if not present:
                return  # already moved or expunged
            self._ensure_folder(c, folder)
            if "MOVE" in self._caps:
                self._with_trycreate(c, folder, lambda: c.move(present, folder))
                return
            fresh = [u for u in present if DELETED.lower() not in _flags(found[u])]
            if fresh:
                self._with_trycreate(c, folder, lambda: c.copy(fresh, folder))
                c.add_flags(fresh, [DELETED], silent=True)
            if "UIDPLUS" in self._caps:
                c.uid_expunge(present)
            else:  # plain EXPUNGE also removes other \\Deleted messages of the folder
                c.expunge()

        self._run(op, f"move of {len(uids)} message(s) to {folder!r}")

    def _ensure_folder(self, c, folder: str) -> None:
        if folder in self._folders:
            return
        if not c.folder_exists(folder):
            try:
                c.create_folder(folder)
                log.info("%s: created folder %r", self.where, folder)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error:
                if not c.folder_exists(folder):  # not a race with another creator
                    raise
            try:
                c.subscribe_folder(folder)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error:
                pass  # subscribing only helps mail clients show it
        self._folders.add(folder)

    def _with_trycreate(self, c, folder: str, action: Callable[[], Any]) -> None:
        try:
            action()
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            if "TRYCREATE" not in str(exc).upper():
                raise
            self._folders.discard(folder)  # deleted behind our back
            self._ensure_folder(c, folder)
            action()

    # ------------------------------------------------------------ waiting

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Block until new mail may be there, `timeout` passes or `stop` is set.

        IDLE when the server has it and cfg.idle is true, else NOOP every
        poll_interval. Never raises for network trouble: it reconnects
        (respecting the backoff) and returns once reconnected.
        """
        deadline = self._clock() + max(0.0, timeout)
        while not stop.is_set():
            remaining = deadline - self._clock()
            if remaining <= 0:
                return
            if self._client is None:
                pause = self.retry_in
                if pause > 0:
                    stop.wait(min(pause, remaining))
                    continue
                try:
                    self._connect()
                except ImapError as exc:
                    log.warning("%s", exc)
                    continue
                return  # reconnected: mail may have come meanwhile
            try:
                self._wait_connected(self._client, deadline, stop)
                return
            except (OSError, imaplib.IMAP4.error) as exc:
                if isinstance(exc, ImapError):
                    log.warning("%s", exc)
                else:
                    log.warning("%s: connection lost while waiting (%s); reconnecting", self.where, exc)
                self._drop()
            try:
                self._connect()
                return
            except ImapError as exc:
                log.warning("%s", exc)

    def _wait_connected(self, c, deadline: float, stop: threading.Event) -> None:
        # An EXISTS may have come with an earlier command's answer and been
        # consumed there: compare with the last listing first.
        _, responses = c.noop()
        if _has_new_mail(responses):
            return
        uids = {int(u) for u in c.search(["NOT", "DELETED"])}
        if uids - self._listed:
            return
        if self.cfg.idle and "IDLE" in self._caps:
            self._idle(c, deadline, stop)
        else:
            self._poll(c, deadline, stop)

    def _idle(self, c, deadline: float, stop: threading.Event) -> None:
        while not stop.is_set() and self._clock() < deadline:
            # one IDLE command lasts at most MAX_IDLE, then it is re-issued
            if self._idle_once(c, min(deadline, self._clock() + MAX_IDLE), stop):
                return

    def _idle_once(self, c, until: float, stop: threading.Event) -> bool:
        """One IDLE command; True when waiting should end (mail, stop, EOF)."""
        c.idle()
        try:
            while not stop.is_set():
                remaining = until - self._clock()
                if remaining <= 0:
                    return False
                slice_ = min(1.0, remaining)  # so `stop` is noticed within a second
                t0 = time.monotonic()
                responses = c.idle_check(timeout=slice_)
                if _has_new_mail(responses):
                    return True
                if not responses and time.monotonic() - t0 < slice_ / 2:
                    # imapclient returns [] at once on EOF; DONE below then
                    # raises if the connection is really gone.
                    return True
            return True
        finally:
            c.idle_done()

    def _poll(self, c, deadline: float, stop: threading.Event) -> None:
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                return
            if stop.wait(min(self.poll_interval, remaining)):
                return
            _, responses = c.noop()
            if _has_new_mail(responses):
                return
