"""The weekly report (regulation 2.13) as people read it: an HTML e-mail, its
plain-text alternative, and an XLSX workbook a manager can filter.

The HTML is laid out with tables and inline styles only (no scripts, no
external images, no <style> block Outlook would drop) so that Outlook and a
phone show it alike; its wording is `rules/templates/weekly.html.j2` and the
subject line `weekly.subject.j2`. Long lists are cut in the e-mail
(`EMAIL_ROWS`); the workbook has every row the report holds.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import jinja2

from .case import ladder
from .case.states import State
from .config import ConfigError
from .digest import NO_RESOLUTION, NO_UNIT, WeeklyReport
from .values import KZ_TZ
from .vocabulary import GROUPS, NO_GROUP, NO_KIND, channel_label, decision_label

EMAIL_ROWS = 50  # rows per list in the e-mail; the workbook has them all
TITLE = "Мониторинг жалоб, претензий, отзывов и предложений потребителей"

SHEETS = (
    "Сводка",
    "Просроченные",
    "Все за неделю",
    "Книга — 30 минут",
    "Без подтверждения",
    "Предложения",
)  # Excel forbids ":" in a sheet name, hence the dash


# --- labels and formats ---------------------------------------------------------------------


def status_label(code: str | None) -> str:
    try:
        return State(code).label
    except ValueError:
        return code or "—"


proof_label = ladder.label


def _d(day: dt.date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else "—"


def _t(ts: dt.datetime | None) -> str:
    return ts.astimezone(KZ_TZ).strftime("%d.%m.%Y %H:%M") if ts else "—"


def _s(v) -> str:
    return "—" if v is None or v == "" else str(v)


def period(report: WeeklyReport) -> str:
    return f"{_d(report.week.start)} – {_d(report.week.end)}"


def minutes(m: int) -> str:
    """45 → "45"; 10020 → "10020 (6 дн. 23 ч)": a long delay read at a glance."""
    if m < 60:
        return str(m)
    d, rest = divmod(m, 1440)
    h, mm = divmod(rest, 60)
    parts = [f"{d} дн."] if d else []
    parts += [f"{h} ч"] if h else []
    parts += [f"{mm} мин"] if mm and not d else []
    return f"{m} ({' '.join(parts)})"


def _short(text: str | None, n: int = 300) -> str:
    if not text:
        return "—"
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --- what every rendering shows -----------------------------------------------------------------


def figures(r: WeeklyReport) -> list[tuple[str, int, bool]]:
    """(label, value, needs attention) — the report's key numbers."""
    return [
        ("Поступило за неделю", r.new, False),
        ("  из них повторных (тот же заявитель, тот же вопрос)", r.repeats, r.repeats > 0),
        ("Отвечено за неделю", r.answered, False),
        ("  в срок", r.answered_on_time, False),
        ("  с нарушением срока", r.answered_late, r.answered_late > 0),
        (f"Просрочено на {_d(r.today)}", r.overdue_total, r.overdue_total > 0),
        ("Записей Книги отзывов за неделю", r.book_entries, False),
        (
            f"  переданы ПР-специалисту позже {r.book_limit_minutes} минут",
            len(r.book_breaches),
            bool(r.book_breaches),
        ),
        ("  без времени записи (не измерить)", r.book_unmeasured, r.book_unmeasured > 0),
        ("Резолюций без подтверждения получения", r.unproven_total, r.unproven_total > 0),
        ("Перенаправлено по компетенции (ст. 76 АППК)", r.redirected, False),
        (f"  позже {r.redirect_days} рабочих дней", r.redirected_late, r.redirected_late > 0),
        ("Предложений (за неделю и в работе)", r.suggestions_total, False),
        *(
            (f"  решение: {decision_label(code)}", n, False)
            for code, n in r.decisions.items()
            if code is not None
        ),
        (f"  {decision_label(None)}", r.decisions[None], False),
    ]


def breakdowns(r: WeeklyReport) -> list[tuple[str, str, list[tuple[str, int]]]]:
    """(key, title, [(label, count)]) of the week's new documents."""
    return [
        ("kinds", "По видам обращений", list(r.counts_by_kind.items())),
        ("channels", "По каналам поступления", [(channel_label(k), n) for k, n in r.by_channel.items()]),
        ("units", "По подразделениям", list(r.by_origin_unit.items())),
        (
            "groups",
            "По группам потребителей",
            [(NO_GROUP if k is None else GROUPS.get(k, str(k)), n) for k, n in r.by_group.items()],
        ),
        ("statuses", "По состоянию на момент отчёта", [(status_label(k), n) for k, n in r.by_status.items()]),
    ]


# E-mail tables have four columns, each cell one or more lines, so that a phone
# shows them without scrolling sideways; the workbook has one column per field.
Cell = list[str]


def _overdue_rows(r: WeeklyReport) -> list[list[Cell]]:
    return [
        [
            [c.number, c.kind or NO_KIND],
            [_s(c.consumer), c.unit or NO_UNIT],
            [c.executor] + ([c.executor_unit] if c.executor_unit else []),
            [_d(c.due_date), f"{c.working_days_overdue} раб. дн."],
        ]
        for c in r.overdue
    ]


def _book_rows(r: WeeklyReport) -> list[list[Cell]]:
    return [
        [
            [b.number, b.unit or NO_UNIT],
            [_t(b.book_entry_at)],
            [_t(b.pr_forwarded_at) if b.pr_forwarded_at else "не передано"],
            [minutes(b.delay_minutes)],
        ]
        for b in r.book_breaches
    ]


def _unproven_rows(r: WeeklyReport) -> list[list[Cell]]:
    return [
        [[u.number], [u.to], [_t(u.accepted_at) if u.accepted_at else "не принято"], [proof_label(u.proof)]]
        for u in r.unproven
    ]


def decision_text(decision: str | None, comment: str | None) -> str:
    """«принято: комментарий», or «без решения» (2.14)."""
    label = decision_label(decision)
    return f"{label}: {_short(comment, 200)}" if decision and comment else label


def _suggestion_rows(r: WeeklyReport) -> list[list[Cell]]:
    return [
        [
            [g.number, _d(g.registered_at.astimezone(KZ_TZ).date())],
            [_s(g.consumer)],
            [_short(g.resolution, 200) if g.resolution else "резолюции нет"],
            [status_label(g.status)]
            + ([g.executor] if g.executor else [])
            + [f"Решение: {decision_text(g.decision, g.decision_comment)}"],
        ]
        for g in r.suggestions
    ]


def _tables(r: WeeklyReport) -> dict[str, dict]:
    def table(headers, rows, total):
        return {
            "headers": headers,
            "rows": rows[:EMAIL_ROWS],
            "shown": min(len(rows), EMAIL_ROWS),
            "in_file": len(rows),
            "total": total,
        }

    return {
        "overdue": table(
            ["Вх. номер, вид", "Потребитель, откуда", "Исполнитель", "Срок, просрочено"],
            _overdue_rows(r),
            r.overdue_total,
        ),
        "book": table(
            ["Вх. номер, откуда", "Запись в Книге", "Передано ПР", "Задержка, мин"],
            _book_rows(r),
            len(r.book_breaches),
        ),
        "unproven": table(
            ["Вх. номер", "Адресат", "Принято сервером", "Достигнуто"], _unproven_rows(r), r.unproven_total
        ),
        "suggestions": table(
            ["Вх. номер, дата", "Потребитель", "Резолюция", "Состояние, исполнитель, решение (п. 2.14)"],
            _suggestion_rows(r),
            r.suggestions_total,
        ),
    }


def _in_file(t: dict) -> str:
    if t["in_file"] >= t["total"]:
        return "полный список — в приложенном файле XLSX"
    return f"в приложенном файле XLSX — первые {t['in_file']}"


def _prepared_by(rules) -> list[str]:
    staff = getattr(rules, "staff", None)
    return [p.name for p in staff.with_role("pr_specialist")] if staff else []


# --- HTML e-mail --------------------------------------------------------------------------------


def _env(rules) -> jinja2.Environment:
    folder = Path(rules.dir) / "templates"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class Letter:
    """Who a report's e-mail is for, beyond its figures (2.13): a mark on it («не проверено
    PR-специалистом»), how to answer it, and the code that binds the answer to it."""

    mark: str | None = None
    how_to_answer: tuple[str, ...] = ()
    token: str | None = None


def _context(r: WeeklyReport, rules, letter: Letter = Letter()) -> dict:
    return dict(
        mark=letter.mark,
        how_to_answer=list(letter.how_to_answer),
        token=letter.token,
        organisation=r.organisation,
        title=TITLE,
        week=r.week.label,
        period=period(r),
        made_at=_t(r.made_at),
        start=r.week.start,
        end=r.week.end,
        report=r,
        figures=figures(r),
        breakdowns=breakdowns(r),
        tables=_tables(r),
        in_file=_in_file,
        book_limit=r.book_limit_minutes,
        prepared_by=_prepared_by(rules),
    )


def _render(rules, name: str, context: dict) -> str:
    folder = Path(rules.dir) / "templates"
    try:
        return _env(rules).get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        raise ConfigError(folder / name, "-", "template not found") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(folder / name, f"line {exc.lineno}", exc.message) from None


def check(rules) -> None:
    """ConfigError naming the file if a weekly template is missing or broken
    (for `mailflow rules check`)."""
    env = _env(rules)
    for name in ("weekly.html.j2", "weekly.subject.j2"):
        try:
            env.get_template(name)
        except jinja2.TemplateNotFound:
            raise ConfigError(Path(rules.dir) / "templates" / name, "-", "template not found") from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(
                Path(rules.dir) / "templates" / name, f"line {exc.lineno}", exc.message
            ) from None


def filename(report: WeeklyReport) -> str:
    """The workbook's attachment name, ASCII so every mail client shows it."""
    return f"monitoring-{report.week.label}.xlsx"


def subject(report: WeeklyReport, rules, letter: Letter = Letter()) -> str:
    """The e-mail's subject, from rules/templates/weekly.subject.j2 (one line)."""
    return " ".join(_render(rules, "weekly.subject.j2", _context(report, rules, letter)).split())


def html(report: WeeklyReport, rules, letter: Letter = Letter()) -> str:
    """The e-mail body: tables, inline CSS, no scripts or external images."""
    return _render(rules, "weekly.html.j2", _context(report, rules, letter))


# --- plain text ---------------------------------------------------------------------------------


def text(report: WeeklyReport, letter: Letter = Letter()) -> str:
    r = report
    out = [TITLE] + ([r.organisation] if r.organisation else [])
    out += [f"Неделя {r.week.label}: {period(r)}", f"Сформирован {_t(r.made_at)} (UTC+5)", ""]
    if letter.mark:
        out += [letter.mark.upper(), ""]
    if letter.how_to_answer:
        out += [*letter.how_to_answer, ""]
    width = max(len(label) for label, _, _ in figures(r))
    for label, value, alert in figures(r):
        out.append(f"{label.ljust(width)}  {value}{'  (!)' if alert else ''}")
    for _, title, rows in breakdowns(r):
        out += ["", title + ":"]
        out += [f"  {label}: {n}" for label, n in rows] or ["  нет"]
    tables = _tables(r)
    sections = (
        ("overdue", f"ПРОСРОЧЕННЫЕ на {_d(r.today)}"),
        ("book", f"КНИГА ОТЗЫВОВ: передано ПР-специалисту позже {r.book_limit_minutes} минут"),
        ("unproven", "РЕЗОЛЮЦИИ БЕЗ ПОДТВЕРЖДЕНИЯ ПОЛУЧЕНИЯ"),
        ("suggestions", "ПРЕДЛОЖЕНИЯ ПОТРЕБИТЕЛЕЙ (п. 2.14)"),
    )
    for key, title in sections:
        t = tables[key]
        out += ["", f"{title}: {t['total']}"]
        for row in t["rows"]:
            out.append("  " + " · ".join(", ".join(cell) for cell in row))
        if t["total"] > t["shown"]:
            out.append(f"  … ещё {t['total'] - t['shown']}; {_in_file(t)}")
    out.append("")
    return "\n".join(out)


# --- XLSX ---------------------------------------------------------------------------------------


def xlsx(report: WeeklyReport) -> bytes:
    """The workbook: a summary, and one filterable sheet per list."""
    from openpyxl import Workbook

    r = report
    wb = Workbook()
    _summary(wb.active, r)
    _sheet(
        wb,
        SHEETS[1],
        [
            ("Вх. номер", 18, None),
            ("Дата регистрации", 17, "datetime"),
            ("Вид", 14, None),
            ("Потребитель / организация", 32, None),
            ("Исполнитель", 30, None),
            ("Подразделение исполнителя", 26, None),
            ("Срок ответа", 12, "date"),
            ("Просрочено, раб. дней", 12, "int"),
            ("Подразделение (поступило из)", 26, None),
            ("Состояние", 20, None),
        ],
        (
            [
                c.number,
                c.registered_at,
                c.kind or NO_KIND,
                c.consumer,
                c.executor,
                c.executor_unit,
                c.due_date,
                c.working_days_overdue,
                c.unit or NO_UNIT,
                status_label(c.status),
            ]
            for c in r.overdue
        ),
    )
    _sheet(
        wb,
        SHEETS[2],
        [
            ("Вх. номер", 18, None),
            ("Дата регистрации", 17, "datetime"),
            ("Вид", 14, None),
            ("Группа", 8, "int"),
            ("Канал", 24, None),
            ("Подразделение", 26, None),
            ("Потребитель / организация", 32, None),
            ("Состояние", 20, None),
            ("Срок ответа", 12, "date"),
            ("Исполнитель", 30, None),
            ("Подтверждение получения", 26, None),
        ],
        (
            [
                d.number,
                d.registered_at,
                d.kind or NO_KIND,
                d.group,
                channel_label(d.channel),
                d.unit or NO_UNIT,
                d.consumer,
                status_label(d.status),
                d.due_date,
                d.executor or NO_RESOLUTION,
                proof_label(d.proof),
            ]
            for d in r.documents
        ),
    )
    _sheet(
        wb,
        SHEETS[3],
        [
            ("Вх. номер", 18, None),
            ("Запись в Книге", 17, "datetime"),
            ("Передано ПР-специалисту", 17, "datetime"),
            ("Задержка, мин", 12, "int"),
            ("Вид", 14, None),
            ("Потребитель / организация", 32, None),
            ("Подразделение", 26, None),
        ],
        (
            [
                b.number,
                b.book_entry_at,
                b.pr_forwarded_at or "не передано",
                b.delay_minutes,
                b.kind or NO_KIND,
                b.consumer,
                b.unit or NO_UNIT,
            ]
            for b in r.book_breaches
        ),
    )
    _sheet(
        wb,
        SHEETS[4],
        [
            ("Вх. номер", 18, None),
            ("Адресат", 30, None),
            ("Отправлено", 17, "datetime"),
            ("Принято сервером", 17, "datetime"),
            ("Достигнуто", 28, None),
            ("Код статуса", 12, None),
        ],
        (
            [u.number, u.to, u.created_at, u.accepted_at, proof_label(u.proof), u.status_code]
            for u in r.unproven
        ),
    )
    _sheet(
        wb,
        SHEETS[5],
        [
            ("Вх. номер", 18, None),
            ("Дата регистрации", 17, "datetime"),
            ("Потребитель / организация", 32, None),
            ("Подразделение", 26, None),
            ("Канал", 24, None),
            ("Состояние", 20, None),
            ("Резолюция", 50, None),
            ("Исполнитель", 30, None),
            ("Срок ответа", 12, "date"),
            ("Закрыто", 17, "datetime"),
            ("Поступило за неделю", 12, None),
            ("Решение (п. 2.14)", 16, None),
            ("Комментарий к решению", 50, None),
            ("Решение записал", 30, None),
            ("Дата решения", 17, "datetime"),
        ],
        (
            [
                g.number,
                g.registered_at,
                g.consumer,
                g.unit or NO_UNIT,
                channel_label(g.channel),
                status_label(g.status),
                g.resolution or "резолюции нет",
                g.executor,
                g.due_date,
                g.closed_at,
                "да" if g.in_week else "нет",
                decision_label(g.decision),
                g.decision_comment,
                g.decided_by,
                g.decided_at,
            ]
            for g in r.suggestions
        ),
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _summary(ws, r: WeeklyReport) -> None:
    from openpyxl.styles import Font

    ws.title = SHEETS[0]
    ws.column_dimensions["A"].width = 58
    ws.column_dimensions["B"].width = 16
    rows: list[tuple] = [
        (TITLE, None),
        *([("Организация", r.organisation)] if r.organisation else []),
        ("Неделя", r.week.label),
        ("Период", period(r)),
        ("Сформирован (UTC+5)", _t(r.made_at)),
        (None, None),
    ]
    rows += [
        (label.strip() if not label.startswith("  ") else "— " + label.strip(), value)
        for label, value, _ in figures(r)
    ]
    for name, lst, total in (
        ("Просроченные", r.overdue, r.overdue_total),
        ("Без подтверждения", r.unproven, r.unproven_total),
        ("Предложения", r.suggestions, r.suggestions_total),
    ):
        if total > len(lst):
            rows.append((f"Лист «{name}»: показано {len(lst)} из {total}", None))
    for _, title, items in breakdowns(r):
        rows += [(None, None), (title, "Количество")]
        rows += items
    for n, (label, value) in enumerate(rows, 1):
        for i, v in enumerate((label, value), 1):
            c = ws.cell(row=n, column=i, value=_cell(v))
            if c.data_type == "f":
                c.data_type = "s"
            if value == "Количество" or label == TITLE:
                c.font = Font(bold=True)
    ws["A1"].font = Font(bold=True, size=13)


def _sheet(wb, title: str, columns, rows) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
    top = Alignment(wrap_text=True, vertical="top")
    for i, (header, width, _) in enumerate(columns, 1):
        c = ws.cell(row=1, column=i, value=header)
        c.font, c.fill, c.alignment = bold, fill, top
        ws.column_dimensions[get_column_letter(i)].width = width
    n = 1
    for row in rows:  # cell by cell: ws[n] would rescan the sheet for every row
        n += 1
        for i, (v, (_, _, fmt)) in enumerate(zip(row, columns), 1):
            c = ws.cell(row=n, column=i, value=_cell(v))
            if fmt == "datetime" and isinstance(c.value, dt.datetime):
                c.number_format = "DD.MM.YYYY HH:MM"
            elif fmt == "date" and isinstance(c.value, dt.date):
                c.number_format = "DD.MM.YYYY"
            elif c.data_type == "f":  # text that looks like a formula stays text
                c.data_type = "s"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{n}"
    ws.freeze_panes = "A2"


def _cell(v):
    """A value Excel can hold: local naive times, clean strings."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(v, dt.datetime):
        return v.astimezone(KZ_TZ).replace(tzinfo=None) if v.tzinfo else v
    if isinstance(v, str):
        return ILLEGAL_CHARACTERS_RE.sub("", v)[:32000]
    return v
