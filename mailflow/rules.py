"""Policy as data: the files in rules/, validated at start-up.

Every error names the file and the key, so whoever edits a rules file sees
at once what to fix (`mailflow rules check`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from . import access, deadlines, rules_schema, workdays
from .case.states import STAGED, State
from .config import ConfigError, read_toml, validated
from .deadlines import DeadlineRules
from .vocabulary import CHANNEL_KEYS, CLERK, HOLDERS, KIND_KEYS, ROLES
from .workdays import WorkCalendar

# Message templates (subject and text); the weekly report's own files are
# checked for syntax here too, rendered by `digest_render`.
TEMPLATES = (
    "talon",
    "quarantine",
    "review",
    "management",
    "pr_copy",
    "pr_resolution",
    "pr_answer",
    "forward",
    "resolution_ok",
    "resolution_unclear",
    "notice",
    "reminder",
    "escalation",
    "book_breach",
    "extension",
    "stage",
    "stage_unclear",
    "copy_missing",
    "handover",
    "signin",
    "redirect_cover",
    "redirect_notice",
    "redirect_term",
    "extension_request",
    "extension_clerk",
    "extension_notice",
)
REPORT_TEMPLATES = ("weekly.html.j2", "weekly.subject.j2")


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    roles: frozenset[str]
    unit: str | None
    aliases: tuple[str, ...] = ()


def address_key(address: str | None) -> str | None:
    """An address as staff addresses are compared: ASCII only, then lower case.

    Lower-casing Unicode first would turn look-alikes into staff addresses
    (KELVIN SIGN "\u212a".lower() is "k"); an internationalised domain
    arrives IDNA-encoded (xn--…) in real mail, so nothing genuine is lost.
    """
    address = (address or "").strip()
    if not address or not address.isascii():
        return None
    return address.lower()


@dataclass(frozen=True)
class Absence:
    """A person away from `since` to `until` (both included), and who stands in (1.6)."""

    person: str
    substitute: str
    since: dt.date
    until: dt.date
    by: str | None = None  # who set it by e-mail; None: staff.toml
    set_at: dt.datetime | None = None

    def covers(self, day: dt.date) -> bool:
        return self.since <= day <= self.until


@dataclass(frozen=True)
class Staff:
    people: tuple[Person, ...]
    absences: tuple[Absence, ...] = ()  # planned in staff.toml; those set by e-mail are in the journal

    def by_email(self, address: str | None) -> Person | None:
        key = address_key(address)
        return next((p for p in self.people if p.email == key), None) if key else None

    def with_role(self, role: str) -> tuple[Person, ...]:
        return tuple(p for p in self.people if role in p.roles)


ANONYMITY_FIELDS = ("last_name", "first_name", "patronymic", "org_name", "address", "email", "phone")


@dataclass(frozen=True)
class Anonymity:
    """When an appeal is flagged as anonymous (intake.toml [anonymous]; see mailflow.anonymity)."""

    name_fields: tuple[str, ...] = ("last_name", "org_name")
    reply_fields: tuple[str, ...] = ("address", "email")
    flag_when: str = "both"  # both | either


@dataclass(frozen=True)
class Repeats:
    """When a new appeal is linked to an earlier one as its repeat (intake.toml [repeats]; mailflow.repeats)."""

    closed_within_days: int = 30
    min_shared_words: float = 0.15


@dataclass(frozen=True)
class Journal:
    key: str
    prefix: str
    title: str
    organisation: str
    number_format: str
    clerks: tuple[str, ...] = ()  # the chancellery keeping it: its cases' notices go to them
    # 2.6, 2.13: the organisation's own management (its appeals "на резолюцию") and who
    # gets its signed weekly report; empty: everyone with the roles in routing.toml / reminders.toml
    management: tuple[str, ...] = ()
    report_to: tuple[str, ...] = ()

    def number(self, year: int, seq: int) -> str:
        return self.number_format.format(prefix=self.prefix, year=year, seq=seq)


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int
    max_attachment_bytes: int
    max_pages_per_message: int
    max_pixels_per_page: int
    render_dpi: int
    ocr_timeout_seconds: float
    ocr_languages: str


@dataclass(frozen=True)
class MonitoringRegister:
    key: str
    title: str
    kinds: frozenset[str]


@dataclass(frozen=True)
class Routing:
    management_roles: frozenset[str]
    may_resolve: frozenset[str]
    token_valid_days: int
    reply_to_plus_token: bool
    pr_copy_kinds: frozenset[str]
    pr_copy_channels: frozenset[str]
    monitoring_channels: frozenset[str]
    registers: tuple[MonitoringRegister, ...]
    unproven_after_hours: float
    trusted_authserv_ids: frozenset[str]
    verify_dkim: bool  # mailflow checks DKIM signatures itself (`signatures`)
    # channel → the kinds from it that are monitoring entries (2.2–2.4: a service
    # centre's reviews and suggestions); `monitoring_channels` take every kind
    monitoring_kinds_from: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # 2.7, 2.9: the PR specialist also gets a copy of the resolution and of the sent answer
    # of every case they were copied on at registration (`pr_copied`)
    pr_copy_resolutions: bool = True
    pr_copy_answers: bool = True

    def pr_copied(self, channel: str, kind: str | None) -> bool:
        """Whether the PR specialist follows an appeal: complaints and claims (1.7), Book
        entries and a service centre's reviews and suggestions (2.1–2.4)."""
        return (
            kind in self.pr_copy_kinds
            or channel in self.pr_copy_channels
            or self.monitored(channel, kind) is not False
        )

    def register_for(self, kind: str | None) -> MonitoringRegister | None:
        return next((r for r in self.registers if kind in r.kinds), None)

    def monitored(self, channel: str, kind: str | None) -> bool | None:
        """Whether an appeal is an entry of a monitoring register (2.4): True, it gets
        a number; None, it would once its kind is known; False, it is none."""
        if channel in self.monitoring_channels:
            return True if self.register_for(kind) else None
        if channel in self.monitoring_kinds_from:
            if kind is None:
                return None
            return kind in self.monitoring_kinds_from[channel] and self.register_for(kind) is not None
        return False


@dataclass(frozen=True)
class Chasing:
    before_working_days: tuple[int, ...]
    on_due_day: bool
    overdue_daily: bool
    escalate_after: int
    escalate_roles: frozenset[str]
    book_max_minutes: int
    book_notify_roles: frozenset[str]
    weekly_weekday: int
    weekly_send_at: dt.time
    weekly_not_later_than: dt.time
    weekly_recipients: frozenset[str]
    # 2.13: who reviews the report before management («СОГЛАСОВАНО»), and until when on the
    # report day; empty: it goes to the recipients at once
    weekly_review_by: frozenset[str] = frozenset()
    weekly_review_until: dt.time = dt.time(14, 0)


@dataclass(frozen=True)
class Stage:
    key: str
    title: str
    holder: str  # executor | unit_head | legal | management | "" (nobody: closed)
    state: State = State.IN_WORK  # what the stage means for the case (case.states)


@dataclass(frozen=True)
class StageMove:
    from_stages: frozenset[str]
    words: tuple[str, ...]
    by: str  # executor | unit_head | legal | management | holder (whoever holds the stage)
    to: str
    file: bool
    forward: str  # who gets the case next ("" : nobody)


@dataclass(frozen=True)
class Workflow:
    start: str
    stages: dict[str, Stage]
    moves: tuple[StageMove, ...]
    copy_within_days: int
    meetings: dict[str, int]  # unit -> weekday

    def moves_from(self, stage: str) -> tuple[StageMove, ...]:
        return tuple(m for m in self.moves if stage in m.from_stages)

    def stage_of(self, state: State) -> str:
        """The one stage that means `state` (answered: dispatched; closed: the copy filed)."""
        return next(k for k, st in self.stages.items() if st.state is state)


@dataclass(frozen=True)
class Rules:
    dir: Path
    staff: Staff
    journals: dict[str, Journal]
    default_journal: str
    limits: Limits
    talon_max_age_days: int
    talon_daily_limit: int  # talons to one stranger's address per 24 hours
    anonymity: Anonymity
    repeats: Repeats
    channels: dict[str, str]
    own_addresses: frozenset[str]
    max_received_headers: int
    templates: jinja2.Environment
    calendar: WorkCalendar
    deadlines: DeadlineRules
    routing: Routing
    chasing: Chasing
    workflow: Workflow
    access: access.Access

    def journal(self, key: str | None) -> Journal:
        return self.journals[key or self.default_journal]

    def clerks(self, journal: str | None = None) -> tuple[str, ...]:
        """The clerks who keep `journal` (the default one when None): the journal's
        `clerks` in journals.toml, or every clerk when it names none."""
        named = self.journal(journal).clerks
        return named or tuple(p.email for p in self.staff.with_role(CLERK))

    def management(self, journal: str | None = None) -> tuple[str, ...]:
        """The management of `journal`'s organisation (2.6): its `management` in
        journals.toml, or everyone with a management role (routing.toml)."""
        named = self.journal(journal).management
        return named or tuple(
            dict.fromkeys(p.email for p in self.staff.people if p.roles & self.routing.management_roles)
        )

    def report_reviewers(self) -> tuple[str, ...]:
        """Who reviews the weekly report before management (2.13: the PR specialist)."""
        roles = self.chasing.weekly_review_by
        return tuple(dict.fromkeys(p.email for p in self.staff.people if p.roles & roles))

    def report_recipients(self, journal: str | None = None) -> tuple[str, ...]:
        """Who gets `journal`'s weekly report to sign (2.13): its `report_to`, or everyone
        with the recipients' roles in reminders.toml; never its reviewers, who had it first."""
        named = self.journal(journal).report_to or tuple(
            dict.fromkeys(p.email for p in self.staff.people if p.roles & self.chasing.weekly_recipients)
        )
        reviewers = set(self.report_reviewers())
        return tuple(a for a in named if a not in reviewers)

    def channel_for(self, person: Person | None) -> str:
        if person:
            for role in sorted(person.roles):
                if role in self.channels:
                    return self.channels[role]
        return self.channels["default"]

    def render(self, name: str, **context) -> tuple[str, str]:
        """(subject, body) of the message template `name`."""
        subject = self.templates.get_template(f"{name}.subject.j2").render(**context)
        body = self.templates.get_template(f"{name}.txt.j2").render(**context)
        return " ".join(subject.split()), body


def load(rules_dir: Path) -> Rules:
    rules_dir = Path(rules_dir)
    if not rules_dir.is_dir():
        raise ConfigError(rules_dir, "-", "rules folder not found")
    staff = _staff(rules_dir / "staff.toml")
    journals, default = _journals(rules_dir / "journals.toml", staff)
    intake_file = rules_dir / "intake.toml"
    intake = read_toml(intake_file)
    validated(intake_file, rules_schema.IntakeFile, intake)
    limits = _limits(intake_file, _table(intake, "limits", intake_file))
    backlog = _table(intake, "backlog", intake_file)
    channels = _channels(intake_file, _table(intake, "channels", intake_file))
    loops = _table(intake, "loops", intake_file)
    own = loops.get("own_addresses", [])
    if not isinstance(own, list) or not all(isinstance(a, str) and "@" in a for a in own):
        raise ConfigError(intake_file, "loops.own_addresses", "must be a list of e-mail addresses")
    rules = Rules(
        dir=rules_dir,
        staff=staff,
        journals=journals,
        default_journal=default,
        limits=limits,
        talon_max_age_days=_int(backlog, "talon_max_age_days", intake_file, "backlog", 14),
        talon_daily_limit=_int(
            _table(intake, "talons", intake_file), "max_per_stranger_per_day", intake_file, "talons", 3
        ),
        channels=channels,
        anonymity=_anonymity(intake_file, _table(intake, "anonymous", intake_file)),
        repeats=_repeats(intake_file, _table(intake, "repeats", intake_file)),
        own_addresses=frozenset(a.lower() for a in own),
        max_received_headers=_int(loops, "max_received_headers", intake_file, "loops", 30),
        templates=_templates(rules_dir / "templates"),
        calendar=workdays.load(rules_dir / "calendar.toml"),
        deadlines=deadlines.load(rules_dir / "deadlines.toml"),
        routing=_routing(rules_dir / "routing.toml"),
        chasing=_chasing(rules_dir / "reminders.toml"),
        workflow=_workflow(rules_dir / "answer.toml"),
        access=access.load(rules_dir / "access.toml"),
    )
    _check_management(rules_dir / "journals.toml", rules)
    return rules


def _check_management(path: Path, rules: Rules) -> None:
    """A journal's `management` are managers (routing.toml [management] roles)."""
    for i, j in enumerate(rules.journals.values()):
        for address in j.management:
            person = rules.staff.by_email(address)
            if person is None or not person.roles & rules.routing.management_roles:
                raise ConfigError(
                    path, f"journal[{i}].management", f"{address!r} has no management role in staff.toml"
                )


def _anonymity(path: Path, t: dict) -> Anonymity:
    out = {}
    for key in ("name_fields", "reply_fields"):
        value = t.get(key, list(getattr(Anonymity, key)))
        if not isinstance(value, list) or not value or any(v not in ANONYMITY_FIELDS for v in value):
            raise ConfigError(
                path, f"anonymous.{key}", f"a list of fields from: {', '.join(ANONYMITY_FIELDS)}"
            )
        out[key] = tuple(value)
    flag_when = t.get("flag_when", "both")
    if flag_when not in ("both", "either"):
        raise ConfigError(path, "anonymous.flag_when", 'must be "both" or "either"')
    unknown = sorted(set(t) - {"name_fields", "reply_fields", "flag_when"})
    if unknown:
        raise ConfigError(path, f"anonymous.{unknown[0]}", "unknown key")
    return Anonymity(out["name_fields"], out["reply_fields"], flag_when)


def _repeats(path: Path, t: dict) -> Repeats:
    unknown = sorted(set(t) - {"closed_within_days", "min_shared_words"})
    if unknown:
        raise ConfigError(path, f"repeats.{unknown[0]}", "unknown key")
    days = t.get("closed_within_days", Repeats.closed_within_days)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 3650:
        raise ConfigError(path, "repeats.closed_within_days", "a whole number of days, 0 to 3650")
    share = t.get("min_shared_words", Repeats.min_shared_words)
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share <= 1:
        raise ConfigError(path, "repeats.min_shared_words", "a share between 0 and 1")
    return Repeats(days, float(share))


def _table(data: dict, key: str, path: Path) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(path, key, "must be a table")
    return value


def _int(t: dict, key: str, path: Path, where: str, default: int | None = None) -> int:
    if key not in t and default is not None:
        return default
    value = t.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ConfigError(path, f"{where}.{key}", "must be a positive number")
    return value


def _staff(path: Path) -> Staff:
    data = read_toml(path)
    validated(path, rules_schema.StaffFile, data)
    people, seen = [], set()
    for i, t in enumerate(data.get("person", [])):
        where = f"person[{i}]"
        for key in ("name", "email"):
            if not isinstance(t.get(key), str) or not t[key].strip():
                raise ConfigError(path, f"{where}.{key}", "is required")
        email = address_key(t["email"]) or ""
        if "@" not in email:
            raise ConfigError(
                path,
                f"{where}.email",
                f"not an ASCII e-mail address (IDNA-encode the domain): {t['email']!r}",
            )
        if email in seen:
            raise ConfigError(path, f"{where}.email", f"{email} is listed twice")
        seen.add(email)
        roles = t.get("roles", [])
        if not isinstance(roles, list) or not roles:
            raise ConfigError(path, f"{where}.roles", "must be a non-empty list")
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ConfigError(
                path, f"{where}.roles", f"unknown role {unknown[0]!r} (known: {', '.join(sorted(ROLES))})"
            )
        aliases = t.get("aliases", [])
        if not isinstance(aliases, list):
            raise ConfigError(path, f"{where}.aliases", "must be a list of strings")
        people.append(Person(t["name"].strip(), email, frozenset(roles), t.get("unit"), tuple(aliases)))
    unknown_tables = set(data) - {"person", "absence"}
    if unknown_tables:
        raise ConfigError(path, sorted(unknown_tables)[0], "unknown table; known: person, absence")
    staff = Staff(tuple(people))
    return Staff(staff.people, _absences(data.get("absence", []), path, staff))


def _absences(rows: object, path: Path, staff: Staff) -> tuple[Absence, ...]:
    """`[[absence]] person, substitute, since, until`: who stands in for whom, when (1.6)."""
    if not isinstance(rows, list):
        raise ConfigError(path, "absence", "must be [[absence]] tables")
    out: list[Absence] = []
    for i, t in enumerate(rows):
        where = f"absence[{i}]"
        if not isinstance(t, dict):
            raise ConfigError(path, where, "must be a table")
        unknown = set(t) - {"person", "substitute", "since", "until"}
        if unknown:
            raise ConfigError(
                path, f"{where}.{sorted(unknown)[0]}", "unknown key; known: person, substitute, since, until"
            )
        who = {}
        for key in ("person", "substitute"):
            p = staff.by_email(t.get(key)) if isinstance(t.get(key), str) else None
            if p is None:
                raise ConfigError(path, f"{where}.{key}", f"{t.get(key)!r} is not in the staff directory")
            who[key] = p.email
        if who["person"] == who["substitute"]:
            raise ConfigError(path, f"{where}.substitute", "a person cannot stand in for themselves")
        days = {}
        for key in ("since", "until"):
            v = t.get(key)
            if not isinstance(v, dt.date) or isinstance(v, dt.datetime):
                raise ConfigError(path, f"{where}.{key}", "must be a date, e.g. 2026-12-21 (no quotes)")
            days[key] = v
        if days["until"] < days["since"]:
            raise ConfigError(path, f"{where}.until", "is before since")
        a = Absence(who["person"], who["substitute"], days["since"], days["until"])
        clash = next(
            (b for b in out if b.person == a.person and b.since <= a.until and a.since <= b.until), None
        )
        if clash:
            raise ConfigError(
                path,
                f"{where}.since",
                f"overlaps another absence of {a.person} ({clash.since}–{clash.until})",
            )
        out.append(a)
    return tuple(out)


def _journals(path: Path, staff: Staff) -> tuple[dict[str, Journal], str]:
    data = read_toml(path)
    validated(path, rules_schema.JournalsFile, data)
    journals: dict[str, Journal] = {}
    for i, t in enumerate(data.get("journal", [])):
        where = f"journal[{i}]"
        for key in ("key", "prefix", "title", "organisation", "number_format"):
            if not isinstance(t.get(key), str) or not t[key].strip():
                raise ConfigError(path, f"{where}.{key}", "is required")
        j = Journal(
            t["key"],
            t["prefix"],
            t["title"],
            t["organisation"],
            t["number_format"],
            _clerks(t, path, where, staff),
            _staff_list(t, "management", path, where, staff),
            _staff_list(t, "report_to", path, where, staff),
        )
        unknown = sorted(set(t) - {*JOURNAL_KEYS})
        if unknown:
            raise ConfigError(path, f"{where}.{unknown[0]}", "unknown key")
        try:
            sample = j.number(2026, 1)
        except (KeyError, ValueError, IndexError) as exc:
            raise ConfigError(path, f"{where}.number_format", f"cannot format: {exc}") from None
        if "1" not in sample:
            raise ConfigError(path, f"{where}.number_format", "must include {seq}")
        if j.key in journals:
            raise ConfigError(path, f"{where}.key", f"journal {j.key!r} defined twice")
        journals[j.key] = j
    if not journals:
        raise ConfigError(path, "journal", "at least one [[journal]] is required")
    default = data.get("default", next(iter(journals)))
    if default not in journals:
        raise ConfigError(path, "default", f"no journal with key {default!r}")
    return journals, default


JOURNAL_KEYS = (
    "key",
    "prefix",
    "title",
    "organisation",
    "number_format",
    "clerks",
    "management",
    "report_to",
)


def _staff_list(t: dict, key: str, path: Path, where: str, staff: Staff) -> tuple[str, ...]:
    """A list of staff.toml addresses (as staff.toml spells them)."""
    value = t.get(key, [])
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ConfigError(path, f"{where}.{key}", "must be a list of e-mail addresses")
    out = []
    for address in value:
        person = staff.by_email(address)
        if person is None:
            raise ConfigError(path, f"{where}.{key}", f"{address!r} is not in staff.toml")
        out.append(person.email)
    return tuple(dict.fromkeys(out))


def _clerks(t: dict, path: Path, where: str, staff: Staff) -> tuple[str, ...]:
    """A journal's `clerks`: addresses of staff.toml people with the role clerk."""
    value = t.get("clerks", [])
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ConfigError(path, f"{where}.clerks", "must be a list of e-mail addresses")
    out = []
    for address in value:
        person = staff.by_email(address)
        if person is None or CLERK not in person.roles:
            raise ConfigError(path, f"{where}.clerks", f"{address!r} is not a clerk in staff.toml")
        out.append(person.email)
    return tuple(dict.fromkeys(out))


def _limits(path: Path, t: dict) -> Limits:
    mb = 1024 * 1024
    langs = t.get("ocr_languages", "rus+kaz")
    if not isinstance(langs, str) or not langs:
        raise ConfigError(path, "limits.ocr_languages", "must be a string like 'rus+kaz'")
    return Limits(
        max_message_bytes=int(_int(t, "max_message_mb", path, "limits", 50) * mb),
        max_attachment_bytes=int(_int(t, "max_attachment_mb", path, "limits", 30) * mb),
        max_pages_per_message=int(_int(t, "max_pages_per_message", path, "limits", 20)),
        max_pixels_per_page=int(_int(t, "max_pixels_per_page", path, "limits", 60_000_000)),
        render_dpi=int(_int(t, "render_dpi", path, "limits", 300)),
        ocr_timeout_seconds=float(_int(t, "ocr_timeout_seconds", path, "limits", 60)),
        ocr_languages=langs,
    )


def _channels(path: Path, t: dict) -> dict[str, str]:
    for key, value in t.items():
        if key != "default" and key not in ROLES:
            raise ConfigError(path, f"channels.{key}", "not a known role")
        if value not in CHANNEL_KEYS:
            raise ConfigError(
                path, f"channels.{key}", f"unknown channel {value!r} (known: {', '.join(CHANNEL_KEYS)})"
            )
    if "default" not in t:
        raise ConfigError(path, "channels.default", "is required")
    return dict(t)


def _routing(path: Path) -> Routing:
    data = read_toml(path)
    validated(path, rules_schema.RoutingFile, data)
    mgmt, pr, mon = (_table(data, k, path) for k in ("management", "pr_copy", "monitoring"))
    rec, auth = _table(data, "receipts", path), _table(data, "authentication", path)
    unknown = sorted(set(auth) - {"trusted_authserv_ids", "verify_dkim"})
    if unknown:  # a misspelt verify_dkim would silently leave replies unchecked
        raise ConfigError(path, f"authentication.{unknown[0]}", "unknown key")
    registers = []
    for key, t in _table(mon, "register", path).items():
        where = f"monitoring.register.{key}"
        if not isinstance(t, dict) or not isinstance(t.get("title"), str):
            raise ConfigError(path, f"{where}.title", "is required")
        registers.append(MonitoringRegister(key, t["title"], _kinds(t, "kinds", path, where)))
    return Routing(
        management_roles=_roles(mgmt, "roles", path, "management"),
        may_resolve=_roles(mgmt, "may_resolve", path, "management"),
        token_valid_days=int(_int(mgmt, "token_valid_days", path, "management", 30)),
        reply_to_plus_token=bool(mgmt.get("reply_to_plus_token", False)),
        pr_copy_kinds=_kinds(pr, "kinds", path, "pr_copy"),
        pr_copy_channels=_channels_list(pr, path, "pr_copy"),
        monitoring_channels=_channels_list(mon, path, "monitoring"),
        monitoring_kinds_from=_kinds_from(mon, path),
        registers=tuple(registers),
        unproven_after_hours=float(_int(rec, "unproven_after_hours", path, "receipts", 24)),
        trusted_authserv_ids=frozenset(str(a).lower() for a in auth.get("trusted_authserv_ids", [])),
        verify_dkim=_bool(auth, "verify_dkim", path, "authentication", False),
        pr_copy_resolutions=_bool(pr, "resolutions", path, "pr_copy", True),
        pr_copy_answers=_bool(pr, "answers", path, "pr_copy", True),
    )


def _bool(t: dict, key: str, path: Path, where: str, default: bool) -> bool:
    value = t.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(path, f"{where}.{key}", "must be true or false")
    return value


def _chasing(path: Path) -> Chasing:
    data = read_toml(path)
    validated(path, rules_schema.RemindersFile, data)
    rem, esc = _table(data, "reminders", path), _table(data, "escalation", path)
    book, week = _table(data, "book", path), _table(data, "weekly_report", path)
    before = rem.get("before_working_days", [5, 2, 1])
    if not isinstance(before, list) or any(not isinstance(n, int) or n <= 0 for n in before):
        raise ConfigError(path, "reminders.before_working_days", "must be a list of positive whole numbers")
    after = esc.get("after_working_days", 1)
    if not isinstance(after, int) or after < 0:
        raise ConfigError(path, "escalation.after_working_days", "must be a whole number ≥ 0")
    day = week.get("weekday", 0)
    if day not in range(7):
        raise ConfigError(path, "weekly_report.weekday", "must be 0 (Monday) … 6 (Sunday)")
    unknown = sorted(set(week) - set(WEEKLY_KEYS))
    if unknown:
        raise ConfigError(path, f"weekly_report.{unknown[0]}", "unknown key")
    send_at = _time(week, "send_at", path, "weekly_report", "09:00")
    review_until = _time(week, "review_until", path, "weekly_report", "14:00")
    not_later = _time(week, "not_later_than", path, "weekly_report", "15:00")
    if not send_at < not_later:
        raise ConfigError(path, "weekly_report.send_at", "must be earlier than not_later_than")
    review_by = _roles(week, "review_by", path, "weekly_report") if "review_by" in week else frozenset()
    if review_by and not send_at < review_until < not_later:
        raise ConfigError(
            path,
            "weekly_report.review_until",
            f"must be after send_at ({send_at:%H:%M}) and before not_later_than ({not_later:%H:%M}): "
            "the report reaches management in time even unreviewed",
        )
    return Chasing(
        before_working_days=tuple(sorted(set(before), reverse=True)),
        on_due_day=bool(rem.get("on_due_day", True)),
        overdue_daily=bool(rem.get("overdue_daily", True)),
        escalate_after=after,
        escalate_roles=_roles(esc, "roles", path, "escalation") if "roles" in esc else frozenset(),
        book_max_minutes=int(_int(book, "max_minutes", path, "book", 30)),
        book_notify_roles=_roles(book, "notify_roles", path, "book")
        if "notify_roles" in book
        else frozenset({"clerk", "pr_specialist"}),
        weekly_weekday=day,
        weekly_send_at=send_at,
        weekly_not_later_than=not_later,
        weekly_recipients=_roles(week, "recipients", path, "weekly_report")
        if "recipients" in week
        else frozenset({"pr_specialist", "director"}),
        weekly_review_by=review_by,
        weekly_review_until=review_until,
    )


WEEKLY_KEYS = ("weekday", "send_at", "not_later_than", "recipients", "review_by", "review_until")


def _workflow(path: Path) -> Workflow:
    data = read_toml(path)
    validated(path, rules_schema.AnswerFile, data)
    stages = {}
    for key, t in _table(data, "stage", path).items():
        if not isinstance(t, dict) or not isinstance(t.get("title"), str):
            raise ConfigError(path, f"stage.{key}.title", "is required")
        if t.get("holder", "") not in ("", *HOLDERS):
            raise ConfigError(path, f"stage.{key}.holder", f"must be one of {', '.join(HOLDERS)} or empty")
        try:
            state = State(t.get("state", State.IN_WORK.value))
        except ValueError:
            state = None
        if state not in STAGED:
            raise ConfigError(
                path, f"stage.{key}.state", f"must be one of {', '.join(s.value for s in STAGED)}"
            )
        stages[key] = Stage(key, t["title"], t.get("holder", ""), state)
    start = data.get("start")
    if start not in stages or stages[start].state is not State.IN_WORK:
        raise ConfigError(path, "start", "must name a stage of state in_work")
    for state in (State.ANSWERED, State.CLOSED):
        n = sum(st.state is state for st in stages.values())
        if n != 1:
            raise ConfigError(
                path, "stage", f'exactly one stage must have state = "{state.value}" (found {n})'
            )
    moves = []
    for i, t in enumerate(data.get("move", [])):
        where = f"move[{i}]"
        froms, to = t.get("from", []), t.get("to")
        if not isinstance(froms, list) or not froms or any(f not in stages for f in froms):
            raise ConfigError(path, f"{where}.from", "must list known stages")
        if to not in stages:
            raise ConfigError(path, f"{where}.to", f"unknown stage {to!r}")
        words = t.get("words", [])
        if (
            not isinstance(words, list)
            or not words
            or not all(isinstance(w, str) and w.strip() for w in words)
        ):
            raise ConfigError(path, f"{where}.words", "must be a non-empty list of words")
        if t.get("by") not in (*HOLDERS, "holder"):
            raise ConfigError(path, f"{where}.by", f"must be one of {', '.join(HOLDERS)} or holder")
        if t.get("forward", "") not in ("", *HOLDERS):
            raise ConfigError(path, f"{where}.forward", f"must be one of {', '.join(HOLDERS)} or empty")
        moves.append(
            StageMove(
                frozenset(froms),
                tuple(w.strip().upper() for w in words),
                t["by"],
                to,
                bool(t.get("file", False)),
                t.get("forward", ""),
            )
        )
    meetings = _table(data, "meetings", path)
    for unit, day in meetings.items():
        if day not in range(7):
            raise ConfigError(path, f"meetings.{unit}", "must be a weekday 0 (Monday) … 6")
    copy = _table(data, "copy", path)
    return Workflow(
        start, stages, tuple(moves), int(_int(copy, "within_working_days", path, "copy", 1)), dict(meetings)
    )


def _time(t: dict, key: str, path: Path, where: str, default: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(t.get(key, default)))
    except ValueError:
        raise ConfigError(path, f"{where}.{key}", 'must be a time like "09:00"') from None


def _roles(t: dict, key: str, path: Path, where: str) -> frozenset[str]:
    roles = t.get(key)
    if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
        raise ConfigError(path, f"{where}.{key}", f"must be a list of roles from: {', '.join(sorted(ROLES))}")
    return frozenset(roles)


def _kinds(t: dict, key: str, path: Path, where: str) -> frozenset[str]:
    kinds = t.get(key, [])
    if not isinstance(kinds, list) or any(k not in KIND_KEYS for k in kinds):
        raise ConfigError(path, f"{where}.{key}", f"kinds must be among: {', '.join(KIND_KEYS)}")
    return frozenset(kinds)


def _kinds_from(mon: dict, path: Path) -> dict[str, frozenset[str]]:
    t = _table(mon, "kinds_from", path)
    for channel in t:
        if channel not in CHANNEL_KEYS:
            raise ConfigError(
                path, f"monitoring.kinds_from.{channel}", f"channels must be among: {', '.join(CHANNEL_KEYS)}"
            )
    return {channel: _kinds(t, channel, path, "monitoring.kinds_from") for channel in t}


def _channels_list(t: dict, path: Path, where: str) -> frozenset[str]:
    chans = t.get("channels", [])
    if not isinstance(chans, list) or any(c not in CHANNEL_KEYS for c in chans):
        raise ConfigError(path, f"{where}.channels", f"channels must be among: {', '.join(CHANNEL_KEYS)}")
    return frozenset(chans)


def _templates(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    files = [f"{name}.{part}.j2" for name in TEMPLATES for part in ("subject", "txt")]
    for file in files + list(REPORT_TEMPLATES):
        try:
            env.get_template(file)
        except jinja2.TemplateNotFound:
            raise ConfigError(folder / file, "-", "template not found") from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(folder / file, f"line {exc.lineno}", exc.message) from None
    return env
