"""Policy as data: the files in rules/, validated at start-up.

Every error names the file and the key, so whoever edits a rules file sees
at once what to fix (`mailflow rules check`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import jinja2

from . import access, deadlines, workdays
from . import rules_schema as schema
from .case.states import STAGED, State
from .config import ConfigError, read_model
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

    name_fields: tuple[str, ...] = tuple(schema.AnonymousTable().name_fields)
    reply_fields: tuple[str, ...] = tuple(schema.AnonymousTable().reply_fields)
    flag_when: str = schema.AnonymousTable().flag_when  # both | either


@dataclass(frozen=True)
class Repeats:
    """When a new appeal is linked to an earlier one as its repeat (intake.toml [repeats]; mailflow.repeats)."""

    closed_within_days: int = schema.RepeatsTable().closed_within_days
    min_shared_words: float = schema.RepeatsTable().min_shared_words


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
    monitoring_kinds_from: Mapping[str, frozenset[str]]
    # 2.7, 2.9: the PR specialist also gets a copy of the resolution and of the sent answer
    # of every case they were copied on at registration (`pr_copied`)
    pr_copy_resolutions: bool
    pr_copy_answers: bool

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
    weekly_review_by: frozenset[str]
    weekly_review_until: dt.time


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
    intake = read_model(intake_file, schema.IntakeFile)
    own = intake.loops.own_addresses
    if not all("@" in a for a in own):
        raise ConfigError(intake_file, "loops.own_addresses", "must be a list of e-mail addresses")
    rules = Rules(
        dir=rules_dir,
        staff=staff,
        journals=journals,
        default_journal=default,
        limits=_limits(intake_file, intake.limits),
        talon_max_age_days=_positive(
            intake.backlog.talon_max_age_days, intake_file, "backlog.talon_max_age_days"
        ),
        talon_daily_limit=_positive(
            intake.talons.max_per_stranger_per_day, intake_file, "talons.max_per_stranger_per_day"
        ),
        channels=_channels(intake_file, intake.channels),
        anonymity=_anonymity(intake_file, intake.anonymous),
        repeats=_repeats(intake_file, intake.repeats),
        own_addresses=frozenset(a.lower() for a in own),
        max_received_headers=_positive(
            intake.loops.max_received_headers, intake_file, "loops.max_received_headers"
        ),
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


def _anonymity(path: Path, t: schema.AnonymousTable) -> Anonymity:
    for key in ("name_fields", "reply_fields"):
        value = getattr(t, key)
        if not value or any(v not in ANONYMITY_FIELDS for v in value):
            raise ConfigError(
                path, f"anonymous.{key}", f"a list of fields from: {', '.join(ANONYMITY_FIELDS)}"
            )
    if t.flag_when not in ("both", "either"):
        raise ConfigError(path, "anonymous.flag_when", 'must be "both" or "either"')
    return Anonymity(tuple(t.name_fields), tuple(t.reply_fields), t.flag_when)


def _repeats(path: Path, t: schema.RepeatsTable) -> Repeats:
    if not 0 <= t.closed_within_days <= 3650:
        raise ConfigError(path, "repeats.closed_within_days", "a whole number of days, 0 to 3650")
    if not 0 <= t.min_shared_words <= 1:
        raise ConfigError(path, "repeats.min_shared_words", "a share between 0 and 1")
    return Repeats(t.closed_within_days, t.min_shared_words)


N = TypeVar("N", int, float)


def _positive(value: N, path: Path, key: str) -> N:
    if value <= 0:
        raise ConfigError(path, key, "must be a positive number")
    return value


def _staff(path: Path) -> Staff:
    data = read_model(path, schema.StaffFile)
    people, seen = [], set()
    for i, t in enumerate(data.person):
        where = f"person[{i}]"
        for key in ("name", "email"):
            if not getattr(t, key).strip():
                raise ConfigError(path, f"{where}.{key}", "is required")
        email = address_key(t.email) or ""
        if "@" not in email:
            raise ConfigError(
                path,
                f"{where}.email",
                f"not an ASCII e-mail address (IDNA-encode the domain): {t.email!r}",
            )
        if email in seen:
            raise ConfigError(path, f"{where}.email", f"{email} is listed twice")
        seen.add(email)
        if not t.roles:
            raise ConfigError(path, f"{where}.roles", "must be a non-empty list")
        unknown = [r for r in t.roles if r not in ROLES]
        if unknown:
            raise ConfigError(
                path, f"{where}.roles", f"unknown role {unknown[0]!r} (known: {', '.join(sorted(ROLES))})"
            )
        people.append(Person(t.name.strip(), email, frozenset(t.roles), t.unit, tuple(t.aliases)))
    staff = Staff(tuple(people))
    return Staff(staff.people, _absences(data.absence, path, staff))


def _absences(rows: list[schema.AbsenceRow], path: Path, staff: Staff) -> tuple[Absence, ...]:
    """`[[absence]] person, substitute, since, until`: who stands in for whom, when (1.6)."""
    out: list[Absence] = []
    for i, t in enumerate(rows):
        where = f"absence[{i}]"
        who = {}
        for key in ("person", "substitute"):
            p = staff.by_email(getattr(t, key))
            if p is None:
                raise ConfigError(
                    path, f"{where}.{key}", f"{getattr(t, key)!r} is not in the staff directory"
                )
            who[key] = p.email
        if who["person"] == who["substitute"]:
            raise ConfigError(path, f"{where}.substitute", "a person cannot stand in for themselves")
        if t.until < t.since:
            raise ConfigError(path, f"{where}.until", "is before since")
        a = Absence(who["person"], who["substitute"], t.since, t.until)
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
    data = read_model(path, schema.JournalsFile)
    journals: dict[str, Journal] = {}
    for i, t in enumerate(data.journal):
        where = f"journal[{i}]"
        for key in ("key", "prefix", "title", "organisation", "number_format"):
            if not getattr(t, key).strip():
                raise ConfigError(path, f"{where}.{key}", "is required")
        j = Journal(
            t.key,
            t.prefix,
            t.title,
            t.organisation,
            t.number_format,
            _clerks(t.clerks, path, where, staff),
            _staff_list(t.management, "management", path, where, staff),
            _staff_list(t.report_to, "report_to", path, where, staff),
        )
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
    default = next(iter(journals)) if data.default is None else data.default
    if default not in journals:
        raise ConfigError(path, "default", f"no journal with key {default!r}")
    return journals, default


def _staff_list(addresses: list[str], key: str, path: Path, where: str, staff: Staff) -> tuple[str, ...]:
    """A list of staff.toml addresses (as staff.toml spells them)."""
    out = []
    for address in addresses:
        person = staff.by_email(address)
        if person is None:
            raise ConfigError(path, f"{where}.{key}", f"{address!r} is not in staff.toml")
        out.append(person.email)
    return tuple(dict.fromkeys(out))


def _clerks(addresses: list[str], path: Path, where: str, staff: Staff) -> tuple[str, ...]:
    """A journal's `clerks`: addresses of staff.toml people with the role clerk."""
    out = []
    for address in addresses:
        person = staff.by_email(address)
        if person is None or CLERK not in person.roles:
            raise ConfigError(path, f"{where}.clerks", f"{address!r} is not a clerk in staff.toml")
        out.append(person.email)
    return tuple(dict.fromkeys(out))


def _limits(path: Path, t: schema.LimitsTable) -> Limits:
    mb = 1024 * 1024
    if not t.ocr_languages:
        raise ConfigError(path, "limits.ocr_languages", "must be a string like 'rus+kaz'")
    return Limits(
        max_message_bytes=int(_positive(t.max_message_mb, path, "limits.max_message_mb") * mb),
        max_attachment_bytes=int(_positive(t.max_attachment_mb, path, "limits.max_attachment_mb") * mb),
        max_pages_per_message=_positive(t.max_pages_per_message, path, "limits.max_pages_per_message"),
        max_pixels_per_page=_positive(t.max_pixels_per_page, path, "limits.max_pixels_per_page"),
        render_dpi=_positive(t.render_dpi, path, "limits.render_dpi"),
        ocr_timeout_seconds=_positive(t.ocr_timeout_seconds, path, "limits.ocr_timeout_seconds"),
        ocr_languages=t.ocr_languages,
    )


def _channels(path: Path, t: dict[str, str]) -> dict[str, str]:
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
    data = read_model(path, schema.RoutingFile)
    mgmt, pr, mon = data.management, data.pr_copy, data.monitoring
    registers = [
        MonitoringRegister(key, t.title, _kinds(t.kinds, path, f"monitoring.register.{key}.kinds"))
        for key, t in mon.registers.items()
    ]
    return Routing(
        management_roles=_roles(mgmt.roles, path, "management.roles"),
        may_resolve=_roles(mgmt.may_resolve, path, "management.may_resolve"),
        token_valid_days=_positive(mgmt.token_valid_days, path, "management.token_valid_days"),
        reply_to_plus_token=mgmt.reply_to_plus_token,
        pr_copy_kinds=_kinds(pr.kinds, path, "pr_copy.kinds"),
        pr_copy_channels=_channels_list(pr.channels, path, "pr_copy.channels"),
        monitoring_channels=_channels_list(mon.channels, path, "monitoring.channels"),
        monitoring_kinds_from=_kinds_from(mon.kinds_from, path),
        registers=tuple(registers),
        unproven_after_hours=_positive(
            data.receipts.unproven_after_hours, path, "receipts.unproven_after_hours"
        ),
        trusted_authserv_ids=frozenset(a.lower() for a in data.authentication.trusted_authserv_ids),
        verify_dkim=data.authentication.verify_dkim,
        pr_copy_resolutions=pr.resolutions,
        pr_copy_answers=pr.answers,
    )


def _chasing(path: Path) -> Chasing:
    data = read_model(path, schema.RemindersFile)
    rem, esc, book, week = data.reminders, data.escalation, data.book, data.weekly_report
    if any(n <= 0 for n in rem.before_working_days):
        raise ConfigError(path, "reminders.before_working_days", "must be a list of positive whole numbers")
    if esc.after_working_days < 0:
        raise ConfigError(path, "escalation.after_working_days", "must be a whole number ≥ 0")
    if week.weekday not in range(7):
        raise ConfigError(path, "weekly_report.weekday", "must be 0 (Monday) … 6 (Sunday)")
    send_at, review_until, not_later = week.send_at, week.review_until, week.not_later_than
    if not send_at < not_later:
        raise ConfigError(path, "weekly_report.send_at", "must be earlier than not_later_than")
    review_by = (
        frozenset() if week.review_by is None else _roles(week.review_by, path, "weekly_report.review_by")
    )
    if review_by and not send_at < review_until < not_later:
        raise ConfigError(
            path,
            "weekly_report.review_until",
            f"must be after send_at ({send_at:%H:%M}) and before not_later_than ({not_later:%H:%M}): "
            "the report reaches management in time even unreviewed",
        )
    return Chasing(
        before_working_days=tuple(sorted(set(rem.before_working_days), reverse=True)),
        on_due_day=rem.on_due_day,
        overdue_daily=rem.overdue_daily,
        escalate_after=esc.after_working_days,
        escalate_roles=frozenset() if esc.roles is None else _roles(esc.roles, path, "escalation.roles"),
        book_max_minutes=_positive(book.max_minutes, path, "book.max_minutes"),
        book_notify_roles=_roles(book.notify_roles, path, "book.notify_roles"),
        weekly_weekday=week.weekday,
        weekly_send_at=send_at,
        weekly_not_later_than=not_later,
        weekly_recipients=_roles(week.recipients, path, "weekly_report.recipients"),
        weekly_review_by=review_by,
        weekly_review_until=review_until,
    )


def _workflow(path: Path) -> Workflow:
    data = read_model(path, schema.AnswerFile)
    stages = {}
    for key, t in data.stage.items():
        if t.holder not in ("", *HOLDERS):
            raise ConfigError(path, f"stage.{key}.holder", f"must be one of {', '.join(HOLDERS)} or empty")
        state = next((s for s in STAGED if s.value == t.state), None)
        if state is None:
            raise ConfigError(
                path, f"stage.{key}.state", f"must be one of {', '.join(s.value for s in STAGED)}"
            )
        stages[key] = Stage(key, t.title, t.holder, state)
    start = data.start
    if start not in stages or stages[start].state is not State.IN_WORK:
        raise ConfigError(path, "start", "must name a stage of state in_work")
    for state in (State.ANSWERED, State.CLOSED):
        n = sum(st.state is state for st in stages.values())
        if n != 1:
            raise ConfigError(
                path, "stage", f'exactly one stage must have state = "{state.value}" (found {n})'
            )
    moves = []
    for i, m in enumerate(data.move):
        where = f"move[{i}]"
        if not m.from_ or any(f not in stages for f in m.from_):
            raise ConfigError(path, f"{where}.from", "must list known stages")
        if m.to not in stages:
            raise ConfigError(path, f"{where}.to", f"unknown stage {m.to!r}")
        if not m.words or not all(w.strip() for w in m.words):
            raise ConfigError(path, f"{where}.words", "must be a non-empty list of words")
        if m.by not in (*HOLDERS, "holder"):
            raise ConfigError(path, f"{where}.by", f"must be one of {', '.join(HOLDERS)} or holder")
        if m.forward not in ("", *HOLDERS):
            raise ConfigError(path, f"{where}.forward", f"must be one of {', '.join(HOLDERS)} or empty")
        words = tuple(w.strip().upper() for w in m.words)
        moves.append(StageMove(frozenset(m.from_), words, m.by, m.to, m.file, m.forward))
    for unit, day in data.meetings.items():
        if day not in range(7):
            raise ConfigError(path, f"meetings.{unit}", "must be a weekday 0 (Monday) … 6")
    within = _positive(data.copy_.within_working_days, path, "copy.within_working_days")
    return Workflow(start, stages, tuple(moves), within, dict(data.meetings))


def _roles(roles: list[str], path: Path, key: str) -> frozenset[str]:
    if not roles or any(r not in ROLES for r in roles):
        raise ConfigError(path, key, f"must be a list of roles from: {', '.join(sorted(ROLES))}")
    return frozenset(roles)


def _kinds(kinds: list[str], path: Path, key: str) -> frozenset[str]:
    if any(k not in KIND_KEYS for k in kinds):
        raise ConfigError(path, key, f"kinds must be among: {', '.join(KIND_KEYS)}")
    return frozenset(kinds)


def _kinds_from(t: dict[str, list[str]], path: Path) -> dict[str, frozenset[str]]:
    for channel in t:
        if channel not in CHANNEL_KEYS:
            raise ConfigError(
                path, f"monitoring.kinds_from.{channel}", f"channels must be among: {', '.join(CHANNEL_KEYS)}"
            )
    return {channel: _kinds(kinds, path, f"monitoring.kinds_from.{channel}") for channel, kinds in t.items()}


def _channels_list(chans: list[str], path: Path, key: str) -> frozenset[str]:
    if any(c not in CHANNEL_KEYS for c in chans):
        raise ConfigError(path, key, f"channels must be among: {', '.join(CHANNEL_KEYS)}")
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
