"""Deployment configuration: one TOML file, or the embedded default.

Secrets never live in the file: `password_env` names an environment variable,
`password_file` a file (systemd's LoadCredential puts them in
$CREDENTIALS_DIRECTORY, which a relative `password_file` is resolved against).
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic.networks import IPvAnyNetwork

IPNetwork = IPvAnyNetwork


class ConfigError(Exception):
    """A configuration or rules error; it names the file and the key."""

    def __init__(self, file: str | Path, key: str, message: str):
        self.file, self.key, self.message = str(file), key, message
        super().__init__(f"{file}: {key}: {message}")


@dataclass(frozen=True)
class Endpoint:
    """A parsed mailbox or SMTP URL."""

    scheme: str  # imap, imaps, maildir, smtp, smtps
    host: str = ""
    port: int = 0
    user: str = ""
    path: str = ""  # IMAP folder or Maildir path
    password: str | None = field(default=None, repr=False)
    allow_plaintext: bool = False  # a password may go in clear to a host that is not loopback

    def clear_refused(self, tls: bool) -> str | None:
        """Why a password must not be sent on this connection (`tls`: it is encrypted), or None."""
        if tls or self.password is None or self.allow_plaintext or is_loopback(self.host):
            return None
        return (
            f"{self.host}:{self.port} offers no STARTTLS: the password is not sent in clear "
            "(use imaps:// or smtps://, enable TLS on the server, or set allow_plaintext = true)"
        )


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class MailboxConfig:
    name: str
    endpoint: Endpoint
    journal: str | None = None  # None: the default journal from rules
    poll_interval: float = 30.0
    idle: bool = True
    processed_folder: str = "Processed"
    quarantine_folder: str = "Quarantine"
    # our own notices to the person who reads this mailbox (its clerk), moved here unread
    notices_folder: str = "Notices"


@dataclass(frozen=True)
class SmtpConfig:
    endpoint: Endpoint
    sender: str
    starttls: bool | None = None  # None: when the server offers it
    timeout: float = 30.0


_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class WebConfig(BaseModel):
    """`[web]`: the workplace behind the organisation's proxy.

    `remote_user_header` names the header through which the proxy's single
    sign-on says who the person is (their e-mail address of rules/staff.toml);
    it is believed only on a connection whose TCP peer is one of
    `trusted_proxies` (addresses or networks), never from X-Forwarded-For,
    which anyone can write."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    remote_user_header: str | None = None
    trusted_proxies: tuple[IPNetwork, ...] = ()

    @field_validator("remote_user_header")
    @classmethod
    def _header(cls, v: str | None) -> str | None:
        if v is not None and not _HEADER_NAME.match(v):
            raise ValueError("must be a header name (letters, digits, '-'), e.g. X-Remote-User")
        if v is not None and v.lower() in ("authorization", "cookie", "host", "x-forwarded-for"):
            raise ValueError(f"{v} cannot carry the signed-in person")
        return v

    @model_validator(mode="after")
    def _proxies(self) -> WebConfig:
        if self.remote_user_header and not self.trusted_proxies:
            raise ValueError("trusted_proxies: remote_user_header needs the proxies it is believed from")
        return self

    def trusts(self, peer: str | None) -> bool:
        """Whether a connection from `peer` (the TCP peer's address) is one of the proxies."""
        if not self.remote_user_header or not peer:
            return False
        try:
            ip = ipaddress.ip_address(peer)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped  # a dual-stack socket's ::ffff:10.0.0.1
        return any(ip in net for net in self.trusted_proxies)


@dataclass(frozen=True)
class Config:
    home: Path
    database: str
    rules_dir: Path
    mailboxes: tuple[MailboxConfig, ...]
    smtp: SmtpConfig
    file: Path | None = None
    ocr_workers: int = 0  # 0: one per CPU
    watchdog: bool = True
    talon_font: Path | None = None  # the printed talon's TrueType font; None: the first of talon_pdf.FONTS
    web: WebConfig = field(default_factory=WebConfig)

    @property
    def talons_dir(self) -> Path:
        """Printed talons (PDF), one per case: `talons/ВХ-2026-000123.pdf`."""
        return self.home / "talons"

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"


DEFAULT_SENDER = "mailflow@localhost"
# The repository's rules/, inside the package (a symbolic link in the source, files in the wheel).
DEFAULT_RULES = Path(__file__).resolve().parent / "default_rules"


def load(
    config_file: str | Path | None = None, home: str | Path | None = None, rules: str | Path | None = None
) -> Config:
    """Read `--config` (or MAILFLOW_CONFIG); without one, the embedded default."""
    config_file = config_file or os.environ.get("MAILFLOW_CONFIG")
    if config_file:
        return _from_file(Path(config_file), home, rules)
    home_dir = Path(home or os.environ.get("MAILFLOW_HOME") or "storage").resolve()
    rules_dir = Path(rules or os.environ.get("MAILFLOW_RULES") or "rules").resolve()
    if not (rules or os.environ.get("MAILFLOW_RULES")) and not rules_dir.is_dir():
        rules_dir = DEFAULT_RULES  # installed outside the repository (pipx): the shipped rules
    return embedded_default(home_dir, rules_dir)


def embedded_default(home: Path, rules_dir: Path) -> Config:
    return Config(
        home=home,
        database=f"sqlite:///{home / 'journal.db'}",
        rules_dir=rules_dir,
        mailboxes=(MailboxConfig("inbox", Endpoint("maildir", path=str(home / "inbox"))),),
        smtp=SmtpConfig(Endpoint("maildir", path=str(home / "outbox")), DEFAULT_SENDER),
        talon_font=_env_font(),
    )


def _env_font() -> Path | None:
    value = os.environ.get("MAILFLOW_TALON_FONT")
    return Path(value).resolve() if value else None


def read_toml(path: Path) -> dict:
    """A TOML file's tables; any problem is a ConfigError naming the file."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "-", "file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "-", f"not valid TOML: {exc}") from None


def _known(t: dict, known: set[str], path: Path, where: str = "") -> None:
    """A typo is an error, not a silently ignored key (`poll_intervall`, `pasword_env`)."""
    for key in t:
        if key not in known:
            near = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f" (known: {', '.join(sorted(known))})"
            raise ConfigError(path, f"{where}.{key}" if where else key, f"unknown key{hint}")


def _bool(t: dict, key: str, path: Path, where: str, default: bool) -> bool:
    value = t.get(key, default)
    if not isinstance(value, bool):  # "no" would be true
        raise ConfigError(path, f"{where}.{key}" if where else key, "must be true or false (without quotes)")
    return value


def _seconds(t: dict, key: str, path: Path, where: str, default: float) -> float:
    value = t.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ConfigError(path, f"{where}.{key}", 'must be a positive number of seconds (30, not "30s")')
    return float(value)


def redact(url: str) -> str:
    """A URL as it may be shown: without the password of its user part."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


def _from_file(path: Path, home_override, rules_override) -> Config:
    data = read_toml(path)
    base = path.parent.resolve()
    _known(
        data,
        {"home", "database", "rules", "mailbox", "smtp", "ocr_workers", "watchdog", "talon_font", "web"},
        path,
    )
    home = Path(home_override or _str(data, "home", path, "storage"))
    home = (base / home).resolve() if not home.is_absolute() else home
    rules_dir = Path(rules_override or _str(data, "rules", path, "rules"))
    rules_dir = (base / rules_dir).resolve() if not rules_dir.is_absolute() else rules_dir
    database = _str(data, "database", path, f"sqlite:///{home / 'journal.db'}")
    if not database.startswith(("sqlite:", "postgresql")):
        raise ConfigError(path, "database", "must be a sqlite:/// or postgresql+psycopg:// URL")
    boxes = data.get("mailbox", [])
    if not isinstance(boxes, list) or not boxes:
        raise ConfigError(path, "mailbox", "at least one [[mailbox]] table is required")
    mailboxes = tuple(_mailbox(b, i, path, base) for i, b in enumerate(boxes))
    names = [m.name for m in mailboxes]
    if len(set(names)) != len(names):
        raise ConfigError(path, "mailbox.name", "mailbox names must be unique")
    smtp = _smtp(data.get("smtp"), path, base, home)
    workers = data.get("ocr_workers", 0)
    if not isinstance(workers, int) or workers < 0:
        raise ConfigError(path, "ocr_workers", "must be a whole number ≥ 0")
    watchdog = _bool(data, "watchdog", path, "", True)
    font = _env_font()
    if "talon_font" in data:
        font = Path(_str(data, "talon_font", path, ""))
        font = (base / font).resolve() if not font.is_absolute() else font
    return Config(home, database, rules_dir, mailboxes, smtp, path, workers, watchdog, font, _web(data, path))


def _web(data: dict, path: Path) -> WebConfig:
    t = data.get("web", {})
    if not isinstance(t, dict):
        raise ConfigError(path, "web", "must be a table")
    try:
        return WebConfig.model_validate(t)
    except ValidationError as exc:
        err = exc.errors()[0]
        if err["type"] == "extra_forbidden":
            _known(t, set(WebConfig.model_fields), path, "web")  # raises, with "did you mean"
        loc = [str(x) for x in err["loc"] if not isinstance(x, int)]
        msg = str(err["msg"]).removeprefix("Value error, ")
        if not loc:  # a check of the whole table: its message starts with the key it is about
            key, _, msg = msg.partition(": ")
            loc = [key]
        raise ConfigError(path, "web." + ".".join(loc), msg) from None


def _mailbox(t, i: int, path: Path, base: Path) -> MailboxConfig:
    where = f"mailbox[{i}]"
    if not isinstance(t, dict):
        raise ConfigError(path, where, "must be a table")
    _known(
        t,
        {
            "name",
            "url",
            "password",
            "password_env",
            "password_file",
            "journal",
            "poll_interval",
            "idle",
            "processed_folder",
            "quarantine_folder",
            "notices_folder",
            "allow_plaintext",
        },
        path,
        where,
    )
    name = _str(t, "name", path, None, where)
    ep = parse_url(
        _str(t, "url", path, None, where), path, f"{where}.url", ("imap", "imaps", "maildir"), base
    )
    ep = _with_password(ep, t, path, where)
    ep = dataclasses.replace(ep, allow_plaintext=_bool(t, "allow_plaintext", path, where, False))
    return MailboxConfig(
        name=name,
        endpoint=ep,
        journal=_str(t, "journal", path, None, where) if "journal" in t else None,
        poll_interval=_seconds(t, "poll_interval", path, where, 30),
        idle=_bool(t, "idle", path, where, True),
        processed_folder=_str(t, "processed_folder", path, "Processed", where),
        quarantine_folder=_str(t, "quarantine_folder", path, "Quarantine", where),
        notices_folder=_str(t, "notices_folder", path, "Notices", where),
    )


def _smtp(t, path: Path, base: Path, home: Path) -> SmtpConfig:
    if t is None:
        return SmtpConfig(Endpoint("maildir", path=str(home / "outbox")), DEFAULT_SENDER)
    if not isinstance(t, dict):
        raise ConfigError(path, "smtp", "must be a table")
    _known(
        t,
        {
            "url",
            "password",
            "password_env",
            "password_file",
            "sender",
            "starttls",
            "timeout",
            "allow_plaintext",
        },
        path,
        "smtp",
    )
    ep = parse_url(_str(t, "url", path, None, "smtp"), path, "smtp.url", ("smtp", "smtps", "maildir"), base)
    ep = _with_password(ep, t, path, "smtp")
    ep = dataclasses.replace(ep, allow_plaintext=_bool(t, "allow_plaintext", path, "smtp", False))
    sender = _str(t, "sender", path, None, "smtp")
    if "@" not in sender:
        raise ConfigError(path, "smtp.sender", f"not an e-mail address: {sender!r}")
    starttls = _bool(t, "starttls", path, "smtp", False) if "starttls" in t else None
    return SmtpConfig(ep, sender, starttls, _seconds(t, "timeout", path, "smtp", 30))


def parse_url(url: str, path, key: str, schemes: tuple[str, ...], base: Path) -> Endpoint:
    parts = urlsplit(url)
    if parts.password is not None:
        raise ConfigError(
            path, key, f"a password in the URL {redact(url)!r}: remove it, use password_env or password_file"
        )
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise ConfigError(path, key, f"scheme must be one of {', '.join(schemes)}: {url!r}")
    if scheme == "maildir":
        p = Path(unquote(url.split(":", 1)[1]))
        return Endpoint("maildir", path=str(p if p.is_absolute() else (base / p).resolve()))
    if not parts.hostname:
        raise ConfigError(path, key, f"no host in {url!r}")
    default_port = {"imap": 143, "imaps": 993, "smtp": 25, "smtps": 465}[scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ConfigError(path, key, f"bad port in {url!r}") from None
    folder = unquote(parts.path.lstrip("/")) or ("INBOX" if scheme.startswith("imap") else "")
    return Endpoint(scheme, parts.hostname, port, unquote(parts.username or ""), folder)


def _with_password(ep: Endpoint, t: dict, path: Path, where: str) -> Endpoint:
    if "password" in t:
        raise ConfigError(
            path, f"{where}.password", "secrets do not live in the file: use password_env or password_file"
        )
    pw = None
    if "password_env" in t:
        var = str(t["password_env"])
        if var not in os.environ:
            raise ConfigError(path, f"{where}.password_env", f"environment variable {var} is not set")
        pw = os.environ[var]
    elif "password_file" in t:
        p = Path(str(t["password_file"]))
        if not p.is_absolute():
            cred = os.environ.get("CREDENTIALS_DIRECTORY")
            p = Path(cred) / p if cred and (Path(cred) / p).exists() else path.parent / p
        try:
            pw = p.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(path, f"{where}.password_file", f"cannot read {p}: {exc.strerror}") from None
    return Endpoint(ep.scheme, ep.host, ep.port, ep.user, ep.path, pw)


def _str(t: dict, key: str, path, default, where: str = "") -> str:
    full = f"{where}.{key}" if where else key
    if key not in t:
        if default is None:
            raise ConfigError(path, full, "is required")
        return default
    if not isinstance(t[key], str) or not t[key].strip():
        raise ConfigError(path, full, "must be a non-empty string")
    return t[key]
