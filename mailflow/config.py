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
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic.networks import IPvAnyNetwork

IPNetwork = IPvAnyNetwork


class ConfigError(Exception):
    """A configuration or rules error; it names the file and the key."""

    def __init__(self, file: str | Path, key: str, message: str):
        self.file, self.key, self.message = str(file), key, message
        super().__init__(f"{file}: {key}: {message}")


@dataclass(frozen=True)
class Secret:
    """Where a password is (`password_env` or `password_file`), read only when a command
    logs in: `journal list` needs no mail password, and must not fail for want of one."""

    env: str | None
    file: str | None
    config_file: Path
    key: str  # e.g. "mailbox[0]", for the error

    def read(self) -> str:
        if self.env is not None:
            if self.env not in os.environ:
                raise ConfigError(
                    self.config_file,
                    f"{self.key}.password_env",
                    f"environment variable {self.env} is not set",
                )
            return os.environ[self.env]
        assert self.file is not None
        p = Path(self.file)
        if not p.is_absolute():  # systemd's LoadCredential, else beside the config file
            cred = os.environ.get("CREDENTIALS_DIRECTORY")
            p = Path(cred) / p if cred and (Path(cred) / p).exists() else self.config_file.parent / p
        try:
            return p.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                self.config_file, f"{self.key}.password_file", f"cannot read {p}: {exc.strerror}"
            ) from None


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
    secret: Secret | None = field(default=None, repr=False)  # the configured password, read at login

    def login_password(self) -> str | None:
        """The password to log in with (read now from where the config says); ConfigError if unreadable."""
        return self.secret.read() if self.secret is not None else self.password

    def clear_refused(self, tls: bool) -> str | None:
        """Why a password must not be sent on this connection (`tls`: it is encrypted), or None."""
        no_password = self.password is None and self.secret is None
        if tls or no_password or self.allow_plaintext or is_loopback(self.host):
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
    # validated even when left out: a header without proxies is refused at this key
    trusted_proxies: tuple[IPNetwork, ...] = Field(default=(), validate_default=True)

    @field_validator("remote_user_header")
    @classmethod
    def _header(cls, v: str | None) -> str | None:
        if v is not None and not _HEADER_NAME.match(v):
            raise ValueError("must be a header name (letters, digits, '-'), e.g. X-Remote-User")
        if v is not None and v.lower() in ("authorization", "cookie", "host", "x-forwarded-for"):
            raise ValueError(f"{v} cannot carry the signed-in person")
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: tuple[IPNetwork, ...], info: ValidationInfo) -> tuple[IPNetwork, ...]:
        if info.data.get("remote_user_header") and not v:
            raise ValueError("remote_user_header needs the proxies it is believed from")
        return v

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
class CheckpointConfig:
    """`[checkpoint]`: the journal's head signed daily, out of the database's reach (checkpoint.py)."""

    dir: Path  # where the checkpoint files are written
    archive_to: str | None = None  # mailed there daily through the outbox
    key_file: Path | None = None  # the Ed25519 private key (PEM), or:
    key_credential: str | None = None  # the systemd credential's name ($CREDENTIALS_DIRECTORY)
    public_key: Path | None = None  # for `journal verify --checkpoint`


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
    checkpoint: CheckpointConfig | None = None  # None: no checkpoints are made
    web: WebConfig = field(default_factory=WebConfig)

    def read_secrets(self) -> None:
        """Read every configured password now (ConfigError naming file and key): the
        daemon checks them at start instead of failing at its first login."""
        for ep in (*(m.endpoint for m in self.mailboxes), self.smtp.endpoint):
            ep.login_password()

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


M = TypeVar("M", bound=BaseModel)


def read_model(path: Path, model: type[M]) -> M:
    """A TOML file read and validated against `model` (its exact keys and types)."""
    return validated(path, model, read_toml(path))


def validated(path: Path, model: type[M], data: dict) -> M:
    """`data` as `model`; the first problem is a ConfigError naming the file and the dotted key.

    Pydantic, not hand-written checks: every table of every file refuses an unknown
    key and a value of the wrong TOML type alike, with no table forgotten.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # a misspelt key first: the "missing" key it leaves behind is its consequence
        errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
        key, message = _plain(errors[0], model)
        raise ConfigError(path, key, message) from None


def dotted(loc: tuple[int | str, ...]) -> str:
    """("person", 3, "email") -> "person[3].email", as the file's reader finds it."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "-"


_TYPE_WORDS = {
    "bool_type": "must be true or false (without quotes)",
    "int_type": "must be a whole number (without quotes)",
    "float_type": 'must be a number (without quotes: 30, not "30s")',
    "string_type": "must be text in quotes",
    "list_type": "must be a list [ … ]",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "date_type": "must be a date like 2026-12-21 (without quotes)",
    "time_type": 'must be a time like "09:00"',
    "missing": "is required",
}


def _plain(error: Any, model: type[BaseModel]) -> tuple[str, str]:
    """The dotted key and, in plain words, what is wrong with it."""
    loc, kind = tuple(error["loc"]), error["type"]
    key = dotted(loc)
    if kind == "extra_forbidden":
        value, name = error["input"], str(loc[-1])
        tables = isinstance(value, list) and value and isinstance(value[0], dict)  # [[name]]
        what = "unknown table" if tables else "unknown key"
        if not name.isascii():  # a Cyrillic "е" or "о" in a Latin key looks right and is not
            what += " (it has non-Latin letters)"
        known = sorted(_fields_at(model, loc[:-1]))
        near = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else f"; known: {', '.join(known)}" if known else ""
        return key, what + hint
    if kind in _TYPE_WORDS:
        return key, _TYPE_WORDS[kind]
    return key, str(error["msg"]).removeprefix("Value error, ")


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys the table at `loc` may have, as the file spells them."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
    current = _step(current, None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _step(annotation: Any, part: int | str | None) -> Any:
    """The type one step into `annotation`: a model's field, a list's item, a dict's value
    (None: no step, only `X | None` made X)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union) and len(args) == 1:  # X | None
        return _step(args[0], part)
    if part is None:
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = {f.alias or n: f.annotation for n, f in annotation.model_fields.items()}
        return fields.get(str(part))
    if origin in (list, dict) and args:
        return args[-1]
    return None


def redact(url: str) -> str:
    """A URL as it may be shown: without the password of its user part."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


class Table(BaseModel):
    """A TOML table: no key but these, each of exactly its type (no coercion: "no" is
    not false, "30s" not a number). A key left out takes the default written here."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class MailboxTable(Table):
    name: str
    url: str
    password: Any = None  # refused with its reason (secrets do not live in the file)
    password_env: str | None = None
    password_file: str | None = None
    journal: str | None = None
    poll_interval: float = 30.0  # seconds
    idle: bool = True
    processed_folder: str = "Processed"
    quarantine_folder: str = "Quarantine"
    notices_folder: str = "Notices"
    allow_plaintext: bool = False


class SmtpTable(Table):
    url: str
    password: Any = None
    password_env: str | None = None
    password_file: str | None = None
    sender: str
    starttls: bool | None = None  # None: when the server offers it
    timeout: float = 30.0  # seconds
    allow_plaintext: bool = False


class CheckpointTable(Table):
    dir: str  # where signed checkpoints are written
    archive_to: str | None = None  # mailed there daily
    key_file: str | None = None
    key_credential: str | None = None  # a systemd credential's name
    public_key: str | None = None


class ConfigFile(Table):
    home: str = "storage"
    database: str | None = None  # None: sqlite in home
    rules: str = "rules"
    mailbox: list[MailboxTable] = []
    smtp: SmtpTable | None = None  # None: a Maildir outbox in home
    ocr_workers: int = 0
    watchdog: bool = True
    talon_font: str | None = None
    checkpoint: CheckpointTable | None = None
    web: WebConfig = WebConfig()  # its own checks (header names, networks), not strict: networks are text


def _from_file(path: Path, home_override: str | Path | None, rules_override: str | Path | None) -> Config:
    data = read_model(path, ConfigFile)
    base = path.parent.resolve()
    home = Path(home_override or _text(data.home, path, "home"))
    home = (base / home).resolve() if not home.is_absolute() else home
    rules_dir = Path(rules_override or _text(data.rules, path, "rules"))
    rules_dir = (base / rules_dir).resolve() if not rules_dir.is_absolute() else rules_dir
    database = f"sqlite:///{home / 'journal.db'}" if data.database is None else data.database
    if not database.startswith(("sqlite:", "postgresql")):
        raise ConfigError(path, "database", "must be a sqlite:/// or postgresql+psycopg:// URL")
    if not data.mailbox:
        raise ConfigError(path, "mailbox", "at least one [[mailbox]] table is required")
    mailboxes = tuple(_mailbox(b, i, path, base) for i, b in enumerate(data.mailbox))
    names = [m.name for m in mailboxes]
    if len(set(names)) != len(names):
        raise ConfigError(path, "mailbox.name", "mailbox names must be unique")
    smtp = _smtp(data.smtp, path, base, home)
    if data.ocr_workers < 0:
        raise ConfigError(path, "ocr_workers", "must be a whole number ≥ 0")
    font = _env_font()
    if data.talon_font is not None:
        font = Path(_text(data.talon_font, path, "talon_font"))
        font = (base / font).resolve() if not font.is_absolute() else font
    checkpoint = _checkpoint(data.checkpoint, path, base) if data.checkpoint is not None else None
    return Config(
        home,
        database,
        rules_dir,
        mailboxes,
        smtp,
        path,
        data.ocr_workers,
        data.watchdog,
        font,
        checkpoint,
        data.web,
    )


def _checkpoint(t: CheckpointTable, path: Path, base: Path) -> CheckpointConfig:
    def file(value: str | None, key: str) -> Path | None:
        if value is None:
            return None
        p = Path(_text(value, path, f"checkpoint.{key}"))
        return p if p.is_absolute() else (base / p).resolve()

    if t.key_file is not None and t.key_credential is not None:
        raise ConfigError(path, "checkpoint.key_credential", "give key_file or key_credential, not both")
    if t.archive_to is not None and "@" not in t.archive_to:
        raise ConfigError(path, "checkpoint.archive_to", f"not an e-mail address: {t.archive_to!r}")
    folder = file(t.dir, "dir")
    assert folder is not None  # required by the table
    return CheckpointConfig(
        dir=folder,
        archive_to=t.archive_to,
        key_file=file(t.key_file, "key_file"),
        key_credential=t.key_credential,
        public_key=file(t.public_key, "public_key"),
    )


def _mailbox(t: MailboxTable, i: int, path: Path, base: Path) -> MailboxConfig:
    where = f"mailbox[{i}]"
    name = _text(t.name, path, f"{where}.name")
    ep = parse_url(
        _text(t.url, path, f"{where}.url"), path, f"{where}.url", ("imap", "imaps", "maildir"), base
    )
    ep = dataclasses.replace(_with_password(ep, t, path, where), allow_plaintext=t.allow_plaintext)
    return MailboxConfig(
        name=name,
        endpoint=ep,
        journal=None if t.journal is None else _text(t.journal, path, f"{where}.journal"),
        poll_interval=_seconds(t.poll_interval, path, f"{where}.poll_interval"),
        idle=t.idle,
        processed_folder=_text(t.processed_folder, path, f"{where}.processed_folder"),
        quarantine_folder=_text(t.quarantine_folder, path, f"{where}.quarantine_folder"),
        notices_folder=_text(t.notices_folder, path, f"{where}.notices_folder"),
    )


def _smtp(t: SmtpTable | None, path: Path, base: Path, home: Path) -> SmtpConfig:
    if t is None:
        return SmtpConfig(Endpoint("maildir", path=str(home / "outbox")), DEFAULT_SENDER)
    ep = parse_url(_text(t.url, path, "smtp.url"), path, "smtp.url", ("smtp", "smtps", "maildir"), base)
    ep = dataclasses.replace(_with_password(ep, t, path, "smtp"), allow_plaintext=t.allow_plaintext)
    sender = _text(t.sender, path, "smtp.sender")
    if "@" not in sender:
        raise ConfigError(path, "smtp.sender", f"not an e-mail address: {sender!r}")
    return SmtpConfig(ep, sender, t.starttls, _seconds(t.timeout, path, "smtp.timeout"))


def _seconds(value: float, path: Path, key: str) -> float:
    if value <= 0:
        raise ConfigError(path, key, 'must be a positive number of seconds (30, not "30s")')
    return value


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


def _with_password(ep: Endpoint, t: MailboxTable | SmtpTable, path: Path, where: str) -> Endpoint:
    if t.password is not None:
        raise ConfigError(
            path, f"{where}.password", "secrets do not live in the file: use password_env or password_file"
        )
    if t.password_env is None and t.password_file is None:
        return ep
    return dataclasses.replace(ep, secret=Secret(t.password_env, t.password_file, path, where))


def _text(value: str, path: Path, key: str) -> str:
    if not value.strip():
        raise ConfigError(path, key, "must be a non-empty string")
    return value
