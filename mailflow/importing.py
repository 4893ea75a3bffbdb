"""Bringing an existing journal in (`mailflow journal import`).

A chancellery that adopts mailflow has years of appeals in Excel, 1С or on
paper. The file is read twice, streamed, never held in memory: the first
pass checks every row, the second writes, in short transactions of
`BATCH` rows that each take the writer lock, so a running daemon keeps
registering between them. Nothing is written when a row is bad, unless the
caller skips bad rows.

The columns are `export.CSV_COLUMNS`, so an export comes back as it went out;
a legacy journal's own headers are mapped to them by a TOML map (`Mapping`).
Imported rows keep their numbers; each journal's counter is raised to the
highest imported number of its year, never lowered. A number already in the
journal is never overwritten: a row identical to what is there counts as
already imported, a different one is a bad row.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import queue
import re
import string
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, field_validator
from sqlmodel import Session, col, select

from . import export, journal
from .case.search import applicant_key, search_text
from .case.states import LABELS, STAGED, State
from .config import read_model
from .extract.fields import ORG_TYPES, parse_phone
from .models import Assignment, Counter, Document, Resolution
from .resolution_text import Understood, parse_resolution
from .rules import Journal, Rules, address_key
from .sanitize import clean
from .values import CONSUMER_FIELDS, KZ_TZ
from .vocabulary import CHANNELS, GROUPS, KINDS

COLUMNS: tuple[str, ...] = export.CSV_COLUMNS
FULL_NAME = "full_name"  # a map's «Ф.И.О.»: split into last, first name and patronymic
REQUIRED = ("incoming_number", "registered_at")
BATCH = 2000  # rows per write transaction: the writer lock is held for a moment only
PROGRESS_EVERY = 10_000
MAX_BAD_LISTED = 1000  # bad rows kept for the report; the count goes on
IMPORTED_BY = "import"  # the author of an imported resolution (no manager signed it here)
_DERIVED = ("status", "from", "subject", "needs_review")  # what an export adds of its own

# The longest value each bounded column takes (models.Document, Assignment).
_LIMITS = {
    "origin_unit": 200,
    "last_name": 200,
    "first_name": 200,
    "patronymic": 200,
    "phone": 32,
    "email": 320,
    "outgoing_number": 100,
    "from": 320,
}


class Mapping(BaseModel):
    """A legacy journal's headers, and what they mean (docs/import-map.example.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, str] = {}  # the file's header -> a column of COLUMNS, or "full_name"
    ignore: list[str] = []  # headers read and dropped
    defaults: dict[str, str | int] = {}  # a column's value when the file has none, e.g. channel = "written"
    values: dict[str, dict[str, str]] = {}  # per column: the file's word -> ours
    answered_closes: bool = False  # a journal on paper filed the copy with the answer: answered = closed

    @field_validator("columns")
    @classmethod
    def _columns(cls, v: dict[str, str]) -> dict[str, str]:
        for header, column in v.items():
            if column not in (*COLUMNS, FULL_NAME):
                raise ValueError(
                    f"{header!r} = {column!r}: no such column (known: {', '.join(COLUMNS)}, {FULL_NAME})"
                )
        return v

    @field_validator("defaults", "values")
    @classmethod
    def _known_columns(cls, v: dict[str, Any]) -> dict[str, Any]:
        unknown = [k for k in v if k not in COLUMNS]
        if unknown:
            raise ValueError(f"{unknown[0]!r}: no such column (known: {', '.join(COLUMNS)})")
        return v


def load_mapping(path: Path) -> Mapping:
    """The map in `path`, validated; any problem is a ConfigError naming the key."""
    return read_model(path, Mapping)


class FileProblem(Exception):
    """The file as a whole cannot be read (not a row of it): Russian, for the clerk."""


class Bad(Exception):
    """One row cannot be imported: the reason, in Russian."""


@dataclass(frozen=True)
class BadRow:
    line: int
    number: str | None
    reason: str


@dataclass
class ImportReport:
    file: str
    sha256: str
    rows: int = 0  # data rows read (empty lines aside)
    imported: int = 0
    already: int = 0  # identical rows that were in the journal already
    bad_count: int = 0
    bad: list[BadRow] = field(default_factory=list)  # the first MAX_BAD_LISTED
    written: bool = False  # False: refused (bad rows without skip_bad) or nothing new
    states: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)  # "dp/2026" -> the counter after
    event_id: int | None = None


@dataclass(frozen=True)
class Parsed:
    """One good row: the document's columns, its resolution, and its content's hash."""

    line: int
    number: str
    journal: str
    year: int
    seq: int
    document: dict[str, Any]
    resolution: str | None
    executors: tuple[tuple[str, str], ...]  # (e-mail, name), the responsible first
    due_source: str
    content: dict[str, object]
    sha256: str


# --- reading the file ---------------------------------------------------------


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm")


def _rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) of the file, the header first; streamed."""
    if _is_xlsx(path):
        yield from _xlsx_rows(path)
    else:
        yield from _csv_rows(path)


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
            # 1С and a Russian Excel write «;», the export «,»: the header line decides
            delimiter = ";" if first.count(";") > first.count(",") else ","
            fh.seek(0)
            reader = csv.reader(fh, delimiter=delimiter)
            start = 1
            for cells in reader:
                yield start, [export.unneutral(c) for c in cells]
                start = reader.line_num + 1
    except UnicodeDecodeError:
        raise FileProblem(
            f"{path}: файл не в кодировке UTF-8 — сохраните его как «CSV UTF-8» и повторите"
        ) from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook, a damaged one
        raise FileProblem(f"{path}: не удалось открыть книгу Excel: {exc}") from None
    try:
        ws = wb["Журнал"] if "Журнал" in wb.sheetnames else wb.worksheets[0]
        for n, cells in enumerate(ws.iter_rows(values_only=True), 1):
            yield n, list(cells)  # text cells are text: the export writes no apostrophes there
    finally:
        wb.close()


# --- values -------------------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_PHONE_CHARS = re.compile(r"^[+\d\s()\-.]+$")
_E164_KZ = re.compile(r"^\+7\d{10}$")
# a «Ф.И.О.» cell holding an organisation: the legal forms the reader knows, and the
# Soviet-era ОАО/ЗАО that old journals still write
_ORG = re.compile(r"[«»\"]|\b(?:" + "|".join(map(re.escape, (*ORG_TYPES, "ОАО", "ЗАО"))) + r")\b")
_INITIALS = re.compile(r"^([^\W\d_]\.)\s*([^\W\d_]\.)?$")
_DATE_HINT = "ДД.ММ.ГГГГ [ЧЧ:ММ] или ГГГГ-ММ-ДД[THH:MM]"


def _text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    s = str(v).strip()
    return s or None


def parse_datetime(v: object) -> dt.datetime | None:
    """ISO (with or without time and offset) or ДД.ММ.ГГГГ [ЧЧ:ММ]; naive is Kazakhstan's time."""
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=KZ_TZ)
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time(), KZ_TZ)
    s = _text(v)
    if s is None:
        return None
    m = _DMY.match(s)
    try:
        if m:
            d, mo, y, h, mi, sec = (int(x) if x else 0 for x in m.groups())
            return dt.datetime(y, mo, d, h, mi, sec, tzinfo=KZ_TZ)
        out = dt.datetime.fromisoformat(s)
    except ValueError:
        raise Bad(f"«{s}» — не дата ({_DATE_HINT})") from None
    return out if out.tzinfo else out.replace(tzinfo=KZ_TZ)


def parse_date(v: object) -> dt.date | None:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    when = parse_datetime(v)
    return when.astimezone(KZ_TZ).date() if when else None


_KIND_WORDS = {w.casefold(): k.key for k in KINDS for w in (k.key, *k.kazakh)}
_CHANNEL_WORDS = {w.casefold(): c.key for c in CHANNELS for w in (c.key, c.label)}
_GROUP_WORDS = {
    **{str(n): n for n in GROUPS},
    **{label.casefold(): n for n, label in GROUPS.items()},
    "i": 1,
    "ii": 2,
}
_STATE_WORDS = {w.casefold(): s for s in State for w in (s.value, LABELS[s])}


def _word(table: dict[str, Any], v: str | None, what: str, known: str) -> Any:
    if v is None:
        return None
    found = table.get(v.casefold())
    if found is None:
        raise Bad(f"{what} «{v}» неизвестен (допустимо: {known})")
    return found


def split_full_name(text: str | None) -> dict[str, str | None]:
    """«Иванов Иван Иванович», «Иванов И.И.» → last, first name, patronymic;
    an organisation («ТОО «Ромашка»») → org_name."""
    out: dict[str, str | None] = {"last_name": None, "first_name": None, "patronymic": None}
    if not text:
        return out
    if _ORG.search(text):
        return {**out, "org_name": text}
    words = text.split()
    if len(words) == 2 and (m := _INITIALS.match(words[1])):
        return {"last_name": words[0], "first_name": m.group(1), "patronymic": m.group(2)}
    rest = " ".join(words[2:]) or None  # «Бекболат кызы»: a Kazakh patronymic is two words
    return {"last_name": words[0], "first_name": words[1] if len(words) > 1 else None, "patronymic": rest}


def _phone(text: str | None) -> str | None:
    """E.164 when the cell is one Kazakh phone number; the cell as written otherwise."""
    if text is None or _E164_KZ.match(text):
        return text  # the export's own form: parse_phone would give it back unchanged
    if _PHONE_CHARS.match(text):
        e164 = parse_phone(text)
        if e164 and re.sub(r"\D", "", e164)[1:] == re.sub(r"\D", "", text)[-10:]:
            return e164
    return text


# --- the numbers of the journals ----------------------------------------------


def _number_pattern(j: Journal) -> tuple[re.Pattern[str], tuple[str, ...]]:
    parts, fields = [], []
    for literal, name, spec, _conv in string.Formatter().parse(j.number_format):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name == "prefix":
            parts.append(re.escape(format(j.prefix, spec or "")))
        else:
            parts.append(r"(\d+)")
            fields.append(name)
    return re.compile("".join(parts)), tuple(fields)


@dataclass(frozen=True)
class Numbering:
    """Which journal a number belongs to, and its year and sequence number."""

    journals: tuple[tuple[Journal, re.Pattern[str], tuple[str, ...]], ...]

    @classmethod
    def of(cls, rules: Rules) -> Numbering:
        return cls(tuple((j, *_number_pattern(j)) for j in rules.journals.values()))

    def parse(self, number: str, only: str | None) -> tuple[Journal, int, int]:
        fits = []
        for j, pattern, names in self.journals:
            if only and j.key != only:
                continue
            m = pattern.fullmatch(number)
            if not m:
                continue
            got = dict(zip(names, (int(g) for g in m.groups())))
            year, seq = got.get("year"), got.get("seq")
            # the number written again must be the same text: "ВХ-2026-00012" is not ВХ-2026-000012
            if year is not None and seq is not None and seq > 0 and j.number(year, seq) == number:
                fits.append((j, year, seq))
        if len(fits) == 1:
            return fits[0]
        if not fits:
            samples = ", ".join(j.number(2026, 1) for j, _, _ in self.journals if not only or j.key == only)
            raise Bad(f"номер «{number}» не подходит ни к одному журналу (номера вида {samples})")
        keys = ", ".join(j.key for j, _, _ in fits)
        raise Bad(
            f"номер «{number}» подходит к нескольким журналам ({keys}): укажите столбец journal или --journal"
        )


# --- one row ------------------------------------------------------------------


class Reader:
    """Turns the file's rows into documents: the header once, then each row."""

    def __init__(self, rules: Rules, header: list[Any], mapping: Mapping | None, journal_key: str | None):
        self.rules, self.mapping, self.journal_key = rules, mapping or Mapping(), journal_key
        self.numbering = Numbering.of(rules)
        self.index: list[tuple[int, str]] = []  # (cell position, column)
        names = [_text(h) or "" for h in header]
        seen: dict[str, str] = {}
        for i, name in enumerate(names):
            if not name or name in self.mapping.ignore:
                continue
            column = self.mapping.columns.get(name) or (name if name in COLUMNS else None)
            if column is None:
                hint = "добавьте его в карту (--map), в columns или ignore"
                raise FileProblem(f"строка 1: неизвестный столбец «{name}»: {hint}")
            if column in seen:
                raise FileProblem(f"строка 1: столбцы «{seen[column]}» и «{name}» означают одно: {column}")
            seen[column] = name
            self.index.append((i, column))
        given = set(seen) | set(self.mapping.defaults)
        for column in (*REQUIRED, "channel"):
            if column not in given:
                raise FileProblem(f"строка 1: нет столбца {column}" + _header_hint(column))
        # what a row says, and so what "identical to what is there" compares
        self.present = frozenset(
            (given - {FULL_NAME})
            | ({"last_name", "first_name", "patronymic", "org_name"} if FULL_NAME in given else set())
        )
        self._people: dict[str, tuple[tuple[str, str], ...]] = {}

    def cells(self, cells: list[Any]) -> dict[str, str | None]:
        raw: dict[str, str | None] = {c: _text(v) for c, v in self.mapping.defaults.items()}
        for i, column in self.index:
            value = _text(cells[i]) if i < len(cells) else None
            if value is not None or column not in raw:
                raw[column] = value
        for column, words in self.mapping.values.items():
            value = raw.get(column)
            if value is not None and value in words:
                raw[column] = words[value]
        return raw

    def parse(self, line: int, raw: dict[str, str | None]) -> Parsed:
        number = raw.get("incoming_number")
        if not number:
            raise Bad("нет входящего номера")
        wanted = raw.get("journal")
        if wanted and wanted not in self.rules.journals:
            raise Bad(f"журнал «{wanted}» не настроен (есть: {', '.join(self.rules.journals)})")
        if self.journal_key and wanted and wanted != self.journal_key:
            raise Bad(f"строка журнала «{wanted}», а импорт в «{self.journal_key}»")
        j, year, seq = self.numbering.parse(number, self.journal_key or wanted)
        registered = parse_datetime(raw.get("registered_at"))
        if registered is None:
            raise Bad("нет даты регистрации")
        if registered > dt.datetime.now(dt.UTC):
            raise Bad(f"дата регистрации {registered:%d.%m.%Y %H:%M} ещё не наступила")
        if registered.astimezone(KZ_TZ).year != year:
            raise Bad(
                f"год в номере ({year}) не совпадает с годом регистрации ({registered.astimezone(KZ_TZ).year})"
            )
        values = dict(raw)
        if FULL_NAME in values:
            values.update(
                {k: v for k, v in split_full_name(values.pop(FULL_NAME)).items() if v or k != "org_name"}
            )
        channel = _word(_CHANNEL_WORDS, values.get("channel"), "канал", ", ".join(c.key for c in CHANNELS))
        if channel is None:
            raise Bad("не указан канал поступления (channel)")
        doc: dict[str, Any] = {
            "journal": j.key,
            "year": year,
            "seq": seq,
            "number": number,
            "registered_at": registered,
            "received_at": parse_datetime(values.get("received_at")) or registered,
            "kind": _word(_KIND_WORDS, values.get("kind"), "вид обращения", ", ".join(k.key for k in KINDS)),
            "grp": _word(_GROUP_WORDS, values.get("group"), "группа", "1, 2"),
            "channel": channel,
            "book_entry_at": parse_datetime(values.get("book_entry_at")),
            "source_from": values.get("from"),
            "source_subject": values.get("subject"),
            "due_date": parse_date(values.get("due_date")),
            "answered_at": parse_datetime(values.get("answered_at")),
            "closed_at": parse_datetime(values.get("closed_at")),
        }
        for name in ("origin_unit", *CONSUMER_FIELDS):
            doc[name] = values.get(name)
        doc["phone"] = _phone(doc["phone"])
        doc["outgoing_date"] = parse_date(values.get("outgoing_date"))
        for name, limit in _LIMITS.items():
            key = {"from": "source_from"}.get(name, name)
            if isinstance(doc[key], str) and len(doc[key]) > limit:
                raise Bad(f"{name}: длиннее {limit} знаков")
        day = registered.astimezone(KZ_TZ).date()
        for name, what in (("answered_at", "дата ответа"), ("closed_at", "дата закрытия")):
            # by the day: a journal often writes the answer's day without its hour
            if doc[name] and doc[name].astimezone(KZ_TZ).date() < day:
                raise Bad(f"{what} {doc[name]:%d.%m.%Y} раньше даты регистрации {day:%d.%m.%Y}")
        if self.mapping.answered_closes and doc["answered_at"] and not doc["closed_at"]:
            doc["closed_at"] = doc["answered_at"]
        resolution = values.get("resolution")
        executors = self._executors(values.get("executors"))
        status = self._state(values.get("status"), doc, bool(resolution or executors))
        doc["status"] = status.value
        doc["stage"] = self._stage(status)
        review = values.get("needs_review")
        doc["needs_review"] = json.dumps(review.split(";") if review else [], ensure_ascii=False)
        due_source = "import"
        if (resolution or executors) and doc["due_date"] is None:
            # a resolution has a term: the law's, counted from registration as routing does
            doc["due_date"] = self.rules.deadlines.due(doc["kind"], day, self.rules.calendar)
            due_source = self.rules.deadlines.term(doc["kind"], day).source
        for name in ("origin_unit", *CONSUMER_FIELDS, "source_from", "source_subject"):
            if isinstance(doc[name], str):
                doc[name] = clean(doc[name])
        content = self._content(doc, resolution, executors)
        sha = hashlib.sha256(journal.canonical(content).encode("utf-8")).hexdigest()
        doc.update(
            sha256=sha,
            confidence="{}",
            talon=False,  # history: no talon is sent for it
            text="",
            pr_forwarded_at=None,
            source_message_id=None,
        )
        doc["search"] = search_text(SimpleNamespace(**doc))
        doc["applicant"] = applicant_key(doc.get("last_name"), doc.get("first_name"))
        return Parsed(line, number, j.key, year, seq, doc, resolution, executors, due_source, content, sha)

    def _content(
        self, doc: dict[str, Any], resolution: str | None, executors: tuple[tuple[str, str], ...]
    ) -> dict[str, object]:
        """The row's content as it compares: the columns the file gives, canonically written."""
        full = {
            "incoming_number": doc["number"],
            "journal": doc["journal"],
            "registered_at": doc["registered_at"],
            "received_at": doc["received_at"],
            "kind": doc["kind"],
            "group": doc["grp"],
            "channel": doc["channel"],
            **{k: doc[k] for k in ("origin_unit", *CONSUMER_FIELDS, "book_entry_at")},
            "from": doc["source_from"],
            "subject": doc["source_subject"],
            "needs_review": doc["needs_review"],
            "status": doc["status"],
            "resolution": resolution,
            "executors": [e for e, _ in executors],
            "due_date": doc["due_date"],
            "answered_at": doc["answered_at"],
            "closed_at": doc["closed_at"],
        }
        out = {}
        for k, v in full.items():
            if k in self.present or k in ("incoming_number", "registered_at"):
                out[k] = v.astimezone(dt.UTC).isoformat() if isinstance(v, dt.datetime) else v
        if "executors" in self.present or "resolution" in self.present:
            out["due_date"] = full["due_date"]  # a resolution's term, given or the law's
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in out.items()}

    def _state(self, given: str | None, doc: dict[str, Any], resolved: bool) -> State:
        """The state the row's dates and resolution mean; a `status` column must agree."""
        if doc["closed_at"]:
            derived = State.CLOSED
        elif doc["answered_at"]:
            derived = State.ANSWERED
        elif resolved:
            derived = State.IN_WORK
        else:
            derived = State.REGISTERED
        if given is None:
            return derived
        state: State = _word(_STATE_WORDS, given, "состояние", ", ".join(s.value for s in State))
        agrees = (
            (state is State.CLOSED) == bool(doc["closed_at"])
            and (state is not State.ANSWERED or bool(doc["answered_at"]))
            and (state is not State.IN_WORK or resolved)
            and (state not in (State.REGISTERED, State.ON_RESOLUTION) or not (resolved or doc["answered_at"]))
        )
        if not agrees:
            raise Bad(f"состояние «{given}» не согласуется с датами ответа, закрытия и резолюцией")
        return state

    def _stage(self, state: State) -> str | None:
        wf = self.rules.workflow
        if state not in STAGED:
            return None
        return wf.start if state is State.IN_WORK else wf.stage_of(state)

    def _executors(self, text: str | None) -> tuple[tuple[str, str], ...]:
        """Addressees by e-mail, or by name as a resolution names them (the same matcher)."""
        if not text:
            return ()
        if text not in self._people:
            if len(self._people) > 10_000:  # a legacy journal names a few hundred people at most
                self._people.clear()
            self._people[text] = self._match(text)
        return self._people[text]

    def _match(self, text: str) -> tuple[tuple[str, str], ...]:
        staff = self.rules.staff
        out: dict[str, str] = {}
        for part in (p.strip() for p in re.split(r"[,;\n]", text)):
            if not part:
                continue
            if "@" in part:
                address = address_key(part)
                if not address or " " in address or len(address) > 320:
                    raise Bad(f"исполнитель: «{part}» — не адрес электронной почты")
                person = staff.by_email(address)
                out.setdefault(address, person.name if person else address)
                continue
            found = parse_resolution(part, staff, today=dt.date(2000, 1, 1))
            if not isinstance(found, Understood):
                raise Bad("исполнитель: " + " ".join(found.problems))
            for a in found.addressees:
                out.setdefault(a.person.email, a.person.name)
        return tuple(out.items())


def _header_hint(column: str) -> str:
    if column == "channel":
        return ' (или укажите в карте [defaults] channel = "written")'
    return ""


# --- the two passes -----------------------------------------------------------


class _Seen:
    """Numbers met in the file, one bit per (journal, year, seq): flat memory for millions."""

    def __init__(self) -> None:
        self.bits: dict[tuple[str, int], bytearray] = {}

    def add(self, key: str, year: int, seq: int) -> bool:
        """False when it was there already."""
        bits = self.bits.setdefault((key, year), bytearray())
        byte, bit = divmod(seq, 8)
        if byte >= len(bits):
            bits.extend(bytes(byte - len(bits) + 1 + len(bits) // 2))
        if bits[byte] >> bit & 1:
            return False
        bits[byte] |= 1 << bit
        return True


Progress = Callable[[str, int], None]
_DOCUMENT: sa.Table = Document.__table__  # type: ignore[attr-defined]
_RESOLUTION: sa.Table = Resolution.__table__  # type: ignore[attr-defined]
_ASSIGNMENT: sa.Table = Assignment.__table__  # type: ignore[attr-defined]


def _parsed_rows(
    reader: Reader, rows: Iterator[tuple[int, list[Any]]], report: ImportReport | None
) -> Iterator[Parsed | BadRow]:
    seen = _Seen()
    for line, cells in rows:
        if not any(_text(c) for c in cells):
            continue  # an empty line, Excel's trailing rows
        raw = reader.cells(cells)
        if report is not None:
            report.rows += 1
        try:
            p = reader.parse(line, raw)
        except Bad as exc:
            yield BadRow(line, raw.get("incoming_number"), str(exc))
            continue
        if not seen.add(p.journal, p.year, p.seq):
            yield BadRow(line, p.number, f"номер «{p.number}» уже встречался выше в файле")
            continue
        yield p


def _batches(items: Iterator[Parsed | BadRow], size: int) -> Iterator[list[Parsed | BadRow]]:
    batch: list[Parsed | BadRow] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _ahead(items: Iterator[list[Parsed | BadRow]], depth: int = 2) -> Iterator[list[Parsed | BadRow]]:
    """`items`, the next ones read in a thread meanwhile: the file is parsed while
    the database writes the batch before (on the second core, as the GIL is let go
    while it waits for the database)."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(message: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(message, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False  # the reader stopped early

    def produce() -> None:
        try:
            for item in items:
                if not offer(("item", item)):
                    return
            offer(("end", None))
        except BaseException as exc:  # handed to the reader, raised there
            offer(("error", exc))

    worker = threading.Thread(target=produce, name="import-reader", daemon=True)
    worker.start()
    try:
        while True:
            what, value = q.get()
            if what == "end":
                return
            if what == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()


def _existing(s: Session, reader: Reader, rows: list[Parsed]) -> dict[str, bool]:
    """Numbers of `rows` already in the journal -> whether what is there is the same row."""
    if not rows:
        return {}
    by_number = {p.number: p for p in rows}
    found = s.exec(
        select(Document.id, Document.number, Document.sha256).where(col(Document.number).in_(list(by_number)))
    ).all()
    out: dict[str, bool] = {}
    for doc_id, number, sha in found:
        p = by_number[number]
        out[number] = sha == p.sha256 or _same_as_journal(s, reader, doc_id or 0, p)
    return out


def _same_as_journal(s: Session, reader: Reader, doc_id: int, p: Parsed) -> bool:
    """Compare the row with the document as the export writes it (a case registered
    here, or imported from a file with other columns, has another hash)."""
    doc = s.get(Document, doc_id)
    if doc is None:
        return False
    row = dict(zip(COLUMNS, export.csv_row(export.document_record(s, doc))))
    plain = {k: ("" if v is None else v) for k, v in row.items()}
    try:
        there = reader.parse(p.line, {k: _text(v) for k, v in plain.items()})
    except Bad:
        return False
    return there.content == p.content


def run(
    engine: sa.Engine,
    rules: Rules,
    path: Path,
    *,
    mapping: Mapping | None = None,
    skip_bad: bool = False,
    journal_key: str | None = None,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> ImportReport:
    """Import the journal in `path`. Bad rows are listed with their line and reason;
    with any, nothing is written unless `skip_bad`."""
    path = Path(path)
    if journal_key and journal_key not in rules.journals:
        raise FileProblem(f"журнал «{journal_key}» не настроен (есть: {', '.join(rules.journals)})")
    try:
        report = ImportReport(file=path.name, sha256=_file_sha256(path))
    except OSError as exc:
        raise FileProblem(f"{path}: не удалось прочитать файл: {exc.strerror}") from None

    # Pass 1: every row checked, nothing written.
    highest: dict[tuple[str, int], int] = {}
    new = 0
    reader, rows = _open(rules, path, mapping, journal_key)
    for chunk in _batches(_parsed_rows(reader, rows, report), batch):
        parsed = [p for p in chunk if isinstance(p, Parsed)]
        with Session(engine) as s:  # a short read: on SQLite every transaction takes the write lock
            there = _existing(s, reader, parsed)
        for p in chunk:
            if isinstance(p, BadRow):
                _bad(report, p)
            elif there.get(p.number) is False:
                _bad(report, _differs(p))
            else:
                new += p.number not in there
                key = (p.journal, p.year)
                highest[key] = max(highest.get(key, 0), p.seq)
        if progress and report.rows // PROGRESS_EVERY != (report.rows - len(chunk)) // PROGRESS_EVERY:
            progress("проверено", report.rows)
    if report.bad_count and not skip_bad:
        return report

    # Counters first: from now on the daemon numbers after the imported history.
    with Session(engine) as s, s.begin():
        journal.lock(s)
        raised = _raise_counters(s, highest)
    if new:  # Pass 2: the same rows again, written in short transactions.
        _pass2(engine, rules, path, mapping, journal_key, report, progress, batch)
    else:
        report.already = report.rows - report.bad_count
    report.counters = {f"{k}/{y}": n for (k, y), n in sorted(highest.items())}
    if report.imported or raised:
        with Session(engine) as s, s.begin():
            head = journal.lock(s)
            # The states were set at creation (as registration sets its first one),
            # not by case.transition.apply: this event records them for the batch.
            ev = journal.append(
                s,
                head,
                "journal_import",
                file=report.file,
                sha256=report.sha256,
                rows=report.imported,
                skipped=report.already + report.bad_count,
                already=report.already,
                bad=report.bad_count,
                states=dict(sorted(report.states.items())),
                counters=raised,
            )
            report.event_id = ev.id
        report.written = True
    if report.imported >= ANALYZE_AFTER:
        _analyze(engine)
    return report


ANALYZE_AFTER = 10_000  # rows: past this the planner's statistics no longer describe the tables


def _analyze(engine: sa.Engine) -> None:
    """Fresh statistics for the tables a big import filled, as autovacuum would give
    them minutes later: until then PostgreSQL plans the sweeps for empty tables.
    (SQLite plans without statistics unless ANALYZE was ever run; none is made.)"""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("ANALYZE document, resolution, assignment, counter")


def _pass2(
    engine: sa.Engine,
    rules: Rules,
    path: Path,
    mapping: Mapping | None,
    journal_key: str | None,
    report: ImportReport,
    progress: Progress | None,
    batch: int,
) -> None:
    reader, rows = _open(rules, path, mapping, journal_key)
    report.bad, report.bad_count = [], 0
    done = 0
    chunks = _batches(_parsed_rows(reader, rows, None), batch)
    # SQLite works in this process: a reading thread would only contend for the GIL
    for chunk in _ahead(chunks) if engine.dialect.name == "postgresql" else chunks:
        with Session(engine) as s, s.begin():
            journal.lock(s)
            parsed = [p for p in chunk if isinstance(p, Parsed)]
            there = _existing(s, reader, parsed)
            fresh = []
            for p in chunk:
                if isinstance(p, BadRow):
                    _bad(report, p)
                elif p.number not in there:
                    fresh.append(p)
                elif there[p.number]:
                    report.already += 1
                else:  # registered meanwhile under a number pass 1 found free
                    _bad(report, _differs(p))
            _write(s, fresh)
        for p in fresh:
            report.states[p.document["status"]] = report.states.get(p.document["status"], 0) + 1
        report.imported += len(fresh)
        done += len(chunk)
        if progress and done // PROGRESS_EVERY != (done - len(chunk)) // PROGRESS_EVERY:
            progress("записано", done)


def _open(
    rules: Rules, path: Path, mapping: Mapping | None, journal_key: str | None
) -> tuple[Reader, Iterator[tuple[int, list[Any]]]]:
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise FileProblem(f"{path}: файл пуст — нет даже строки заголовков")
    return Reader(rules, first[1], mapping, journal_key), rows


def _bad(report: ImportReport, row: BadRow) -> None:
    report.bad_count += 1
    if len(report.bad) < MAX_BAD_LISTED:
        report.bad.append(row)


def _differs(p: Parsed) -> BadRow:
    return BadRow(
        p.line, p.number, f"номер «{p.number}» уже есть в журнале с другим содержанием — не перезаписан"
    )


def _raise_counters(s: Session, highest: dict[tuple[str, int], int]) -> dict[str, list[int]]:
    """Each (journal, year) counter to at least the highest imported number; never lowered."""
    raised: dict[str, list[int]] = {}
    for (key, year), top in sorted(highest.items()):
        before = raise_counter(s, key, year, top)
        if before < top:
            raised[f"{key}/{year}"] = [before, top]
    return raised


def raise_counter(s: Session, key: str, year: int, at_least: int) -> int:
    """Raise a journal's counter to `at_least` (never lower it); the value before."""
    s.execute(
        sa.text("INSERT INTO counter (journal, year, last) VALUES (:j, :y, 0) ON CONFLICT DO NOTHING"),
        {"j": key, "y": year},
    )
    before = s.exec(select(Counter.last).where(col(Counter.journal) == key, col(Counter.year) == year)).one()
    if before < at_least:
        s.execute(
            sa.update(Counter)
            .where(col(Counter.journal) == key, col(Counter.year) == year)
            .values(last=at_least)
        )
    return before


def _write(s: Session, rows: list[Parsed]) -> None:
    """One batch: documents, then the resolutions and their addressees, each one
    executemany without RETURNING (which SQLite can only do row by row); the new
    ids are read back by number."""
    if not rows:
        return
    _insert(s, _DOCUMENT, [p.document for p in rows])
    ids: dict[str, int] = dict(
        s.execute(
            sa.select(_DOCUMENT.c.number, _DOCUMENT.c.id).where(
                _DOCUMENT.c.number.in_([p.number for p in rows])
            )
        ).all()
    )
    journal.note(s, "document", ids.values())  # written by SQL: the events cover them all the same
    resolved = {p.number: p for p in rows if p.resolution or p.executors}
    if not resolved:
        return
    now = dt.datetime.now(dt.UTC)
    _insert(
        s,
        _RESOLUTION,
        [
            {
                "document_id": ids[number],
                "text": p.resolution or "",
                "instruction": "",
                "due_date": p.document["due_date"],
                "due_source": p.due_source,
                "author": IMPORTED_BY,
                "author_name": None,
                "source": IMPORTED_BY,
                "inbound_id": None,
                "created_at": now,
                "current": True,
            }
            for number, p in resolved.items()
        ],
    )
    res_ids: dict[int, int] = dict(
        s.execute(
            sa.select(_RESOLUTION.c.document_id, _RESOLUTION.c.id).where(
                _RESOLUTION.c.document_id.in_(list(ids.values()))
            )
        ).all()
    )  # a new document has exactly one resolution
    journal.note(s, "resolution", res_ids.values())
    people = [
        {
            "resolution_id": res_ids[ids[number]],
            "document_id": ids[number],
            "position": n,
            "email": e,
            "name": name,
        }
        for number, p in resolved.items()
        for n, (e, name) in enumerate(p.executors, 1)
    ]
    if people:
        _insert(s, _ASSIGNMENT, people)
        journal.note(
            s,
            "assignment",
            s.execute(
                sa.select(_ASSIGNMENT.c.id).where(_ASSIGNMENT.c.resolution_id.in_(list(res_ids.values())))
            )
            .scalars()
            .all(),
        )


def _insert(s: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Rows into `table` in the session's transaction: COPY on PostgreSQL (psycopg's
    executemany sends one statement per row), executemany on SQLite."""
    conn = s.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(sa.insert(table), rows)
        return
    names = list(rows[0])
    binds = [table.c[n].type.bind_processor(conn.dialect) for n in names]  # AwareDateTime to UTC
    columns = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cur, cur.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([b(row[n]) if b else row[n] for n, b in zip(names, binds)])


# --- a journal kept on paper --------------------------------------------------


class Backwards(Exception):
    """`journal continue` would number below what the journal holds (Russian)."""


def continue_after(engine: sa.Engine, rules: Rules, key: str, year: int, after: int) -> tuple[int, int]:
    """The journal `key` continues after number `after` of `year` (the rest was kept
    on paper): its counter is raised; (before, after). Never lowered below a number
    the journal holds."""
    if key not in rules.journals:
        raise Backwards(f"журнал «{key}» не настроен (есть: {', '.join(rules.journals)})")
    if after < 0:
        raise Backwards("номер не может быть отрицательным")
    with Session(engine) as s, s.begin():
        head = journal.lock(s)
        top = s.exec(
            select(sa.func.max(Document.seq)).where(col(Document.journal) == key, col(Document.year) == year)
        ).one()
        if top and after < top:
            number = rules.journals[key].number(year, top)
            raise Backwards(f"в журнале уже есть номер {number}: продолжить можно не ниже {top}")
        before = raise_counter(s, key, year, after)
        if before > after:
            raise Backwards(f"счётчик журнала «{key}» за {year} год уже {before}: номера назад не идут")
        if before < after:
            journal.append(s, head, "journal_continue", journal=key, year=year, before=before, after=after)
    return before, after
