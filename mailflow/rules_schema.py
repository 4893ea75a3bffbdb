"""The exact shape of every file in rules/: its tables, keys and their TOML types.

Each file is validated against its model right after it is read
(`config.read_model`), so a misspelt key (`may_reslove`, a Cyrillic "е" in
`verify_dkim`), a quoted number or a quoted boolean (`"no"` is not false) is
refused with the file and the dotted key named, before the loaders look at
the values; a key left out takes the default written here. The models
(`config.Table`: unknown keys forbidden, strict types) say only what a value
is (a whole number, a list of strings, a table); what it means (a known
role, a channel, a stage, a range) is checked by the loaders against the names' owners (`vocabulary`,
`case.states`, `access.ACTIONS`), so no name is listed twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, PlainValidator

from .config import Table


def _date(value: object) -> dt.date:
    """A TOML date (2026-12-31) or the same in quotes; never a date with a time."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("must be a date (YYYY-MM-DD)")


def _time(value: object) -> dt.time:
    """A time in quotes ("09:00") or a TOML time (09:00:00)."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError('must be a time like "09:00"')


Date = Annotated[dt.date, PlainValidator(_date)]
Time = Annotated[dt.time, PlainValidator(_time)]
# A quantity that may have a fraction (megabytes, seconds, hours): a TOML integer or float.
Number = float


# -- staff.toml ---------------------------------------------------------------------------------


class PersonRow(Table):
    name: str
    email: str
    roles: list[str]
    unit: str | None = None
    aliases: list[str] = []


class AbsenceRow(Table):
    person: str
    substitute: str
    since: dt.date  # a TOML date (2026-12-21), not in quotes
    until: dt.date


class StaffFile(Table):
    person: list[PersonRow] = []
    absence: list[AbsenceRow] = []


# -- journals.toml ------------------------------------------------------------------------------


class JournalRow(Table):
    key: str
    prefix: str
    title: str
    organisation: str
    number_format: str
    clerks: list[str] = []
    management: list[str] = []
    report_to: list[str] = []


class JournalsFile(Table):
    default: str | None = None
    journal: list[JournalRow] = []


# -- intake.toml --------------------------------------------------------------------------------


class LimitsTable(Table):
    max_message_mb: Number = 50
    max_attachment_mb: Number = 30
    max_pages_per_message: int = 20
    max_pixels_per_page: int = 60_000_000
    render_dpi: int = 300
    ocr_timeout_seconds: Number = 60
    ocr_languages: str = "rus+kaz"


class BacklogTable(Table):
    talon_max_age_days: int = 14


class TalonsTable(Table):
    max_per_stranger_per_day: int = 3


class AnonymousTable(Table):
    name_fields: list[str] = ["last_name", "org_name"]
    reply_fields: list[str] = ["address", "email"]
    flag_when: str = "both"


class RepeatsTable(Table):
    closed_within_days: int = 30
    min_shared_words: Number = 0.15


class LoopsTable(Table):
    own_addresses: list[str] = []
    max_received_headers: int = 30


class IntakeFile(Table):
    limits: LimitsTable = LimitsTable()
    backlog: BacklogTable = BacklogTable()
    talons: TalonsTable = TalonsTable()
    anonymous: AnonymousTable = AnonymousTable()
    repeats: RepeatsTable = RepeatsTable()
    channels: dict[str, str] = {}  # sender role (or "default") -> channel
    loops: LoopsTable = LoopsTable()


# -- routing.toml -------------------------------------------------------------------------------


class ManagementTable(Table):
    roles: list[str]
    may_resolve: list[str]
    token_valid_days: int = 30
    reply_to_plus_token: bool = False


class PrCopyTable(Table):
    kinds: list[str] = []
    channels: list[str] = []
    resolutions: bool = True
    answers: bool = True


class RegisterTable(Table):
    title: str
    kinds: list[str] = []


class MonitoringTable(Table):
    channels: list[str] = []
    kinds_from: dict[str, list[str]] = {}  # channel -> kinds
    # "register" would shadow BaseModel's (ABC's) register()
    registers: dict[str, RegisterTable] = Field({}, alias="register")


class ReceiptsTable(Table):
    unproven_after_hours: Number = 24


class AuthenticationTable(Table):
    trusted_authserv_ids: list[str] = []
    verify_dkim: bool = False


class RoutingFile(Table):
    management: ManagementTable
    pr_copy: PrCopyTable = PrCopyTable()
    monitoring: MonitoringTable = Field(default_factory=lambda: MonitoringTable.model_validate({}))
    receipts: ReceiptsTable = ReceiptsTable()
    authentication: AuthenticationTable = AuthenticationTable()


# -- reminders.toml -----------------------------------------------------------------------------


class RemindersTable(Table):
    before_working_days: list[int] = [5, 2, 1]
    on_due_day: bool = True
    overdue_daily: bool = True


class EscalationTable(Table):
    after_working_days: int = 1
    roles: list[str] | None = None


class BookTable(Table):
    max_minutes: int = 30
    notify_roles: list[str] = ["clerk", "pr_specialist"]


class WeeklyReportTable(Table):
    weekday: int = 0
    send_at: Time = dt.time(9, 0)
    not_later_than: Time = dt.time(15, 0)
    recipients: list[str] = ["pr_specialist", "director"]
    review_by: list[str] | None = None
    review_until: Time = dt.time(14, 0)


class RemindersFile(Table):
    reminders: RemindersTable = RemindersTable()
    escalation: EscalationTable = EscalationTable()
    book: BookTable = BookTable()
    weekly_report: WeeklyReportTable = WeeklyReportTable()


# -- answer.toml --------------------------------------------------------------------------------


class StageTable(Table):
    title: str
    holder: str = ""
    state: str = "in_work"


class MoveRow(Table):
    from_: list[str] = Field(alias="from")
    words: list[str]
    by: str
    to: str
    file: bool = False
    forward: str = ""


class CopyTable(Table):
    within_working_days: int = 1


class AnswerFile(Table):
    start: str
    stage: dict[str, StageTable] = {}
    move: list[MoveRow] = []
    copy_: CopyTable = Field(CopyTable(), alias="copy")  # "copy" would shadow BaseModel.copy
    meetings: dict[str, int] = {}  # unit -> weekday


# -- calendar.toml ------------------------------------------------------------------------------


class WorkingHoursTable(Table):
    start: Time = dt.time(9, 0)
    end: Time = dt.time(18, 0)


class CalendarFile(Table):
    working_hours: WorkingHoursTable = WorkingHoursTable()
    extra_days_off: list[Date] = []
    extra_working_days: list[Date] = []


# -- deadlines.toml -----------------------------------------------------------------------------


class TermTable(Table):
    days: int
    count: str  # "working" or "calendar"
    source: str = ""  # required: left out, the loader says why ("every term must cite its source")


class ExtensionTable(Table):
    max_months: int = 2
    notify_applicant_working_days: int = 3
    source: str | None = None


class RedirectTable(Table):
    working_days: int = 3
    source: str | None = None


class OlderLawTable(TermTable):
    until: Date


class DeadlinesFile(Table):
    default: TermTable
    kind: dict[str, TermTable] = {}
    extension: ExtensionTable = ExtensionTable()
    redirect: RedirectTable = RedirectTable()
    older_law: OlderLawTable | None = None


# -- access.toml --------------------------------------------------------------------------------


class SignInTable(Table):
    link_minutes: int = 15
    session_hours: int = 8


class ApiTokensTable(Table):
    days: int = 90


class RoleRights(Table):
    see: str  # "all" or "own"
    may: list[str] = []


class AccessFile(Table):
    sign_in: SignInTable = SignInTable()
    api_tokens: ApiTokensTable = ApiTokensTable()
    role: dict[str, RoleRights] = {}


# Every file of rules/ and its model (`mailflow rules check` reads them all).
FILES: dict[str, type[Table]] = {
    "staff.toml": StaffFile,
    "journals.toml": JournalsFile,
    "intake.toml": IntakeFile,
    "routing.toml": RoutingFile,
    "reminders.toml": RemindersFile,
    "answer.toml": AnswerFile,
    "calendar.toml": CalendarFile,
    "deadlines.toml": DeadlinesFile,
    "access.toml": AccessFile,
}
