"""Deadlines written in a resolution.

Understood: a date after a deadline word («Срок до 15.04.2026», «до
15.04.2026г.», «срок – 15.04», «до 15 апреля», «к 20.04», «не позднее
15.04.26», «15.04.2026 дейін», «15 сәуірге дейін»), a count of days («10
дней», «в течение 5 рабочих дней», «Срок: 3 р.д.», «в 3-дневный срок», «10
күн ішінде», «5 жұмыс күні»), weeks («в течение 2 недель»), a month («в
течение месяца»), a weekday («до пятницы») and «сегодня», «завтра»,
«до конца дня», «до конца месяца».

A date with no deadline word is the date of the resolution (today or
earlier, ignored), a reference («от 01.03.2026», «№ 12 от …», ignored), or
— when it lies ahead — a question for the manager: a bare future date may
be a deadline or a date in the instruction, and mailflow does not guess.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

RU_MONTHS = (
    ("январ", "янв"),
    ("феврал", "фев"),
    ("март", "мар"),
    ("апрел", "апр"),
    ("мая", "май"),
    ("июн",),
    ("июл",),
    ("август", "авг"),
    ("сентябр", "сен", "сент"),
    ("октябр", "окт"),
    ("ноябр", "ноя", "нояб"),
    ("декабр", "дек"),
)
KZ_MONTHS = (
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
)
_KZ_PLAIN = str.maketrans("әғқңөұүһі", "агкноууhи")


def _month_number(word: str) -> int | None:
    w = word.lower().rstrip(".").replace("ё", "е")
    for n, stems in enumerate(RU_MONTHS, 1):
        for stem in stems:
            if len(stem) <= 4 and w == stem:
                return n
            if w.startswith(stem) and len(w) - len(stem) <= 2:
                return n
    for n, stem in enumerate(KZ_MONTHS, 1):
        for s in (stem, stem.translate(_KZ_PLAIN)):
            if w.startswith(s) and len(w) - len(s) <= 4:
                return n
    return None


_RU_MONTH_RE = (
    r"(?:январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа?|"
    r"сентябр[ья]|октябр[ья]|ноябр[ья]|декабр[ья]|"
    r"янв|фев|февр|мар|апр|июн|июл|авг|сен|сент|окт|ноя|нояб|дек)\.?"
)
_KZ_MONTH_RE = (
    "(?:"
    + "|".join(sorted({s for m in KZ_MONTHS for s in (m, m.translate(_KZ_PLAIN))}, key=len, reverse=True))
    + r")\w{0,4}"
)
_YEAR_WORD = r"(?:\s*(?:г\.|года|год|г|ж\.|жылғы|жылы|жыл|жылға)(?![\w]))?"

DATE = re.compile(
    r"(?<![\d./-])(?:"
    r"(?P<d>\d{1,2})\s?[./]\s?(?P<m>\d{1,2})(?:\s?[./]\s?(?P<y>\d{4}|\d{2})|\s(?P<sy>20\d\d))?(?![\d])"
    + _YEAR_WORD
    + "|"
    r"(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})(?!\d)|"
    r"(?:(?P<ky>\d{4})"
    + _YEAR_WORD
    + r"\s+)?(?P<wd>\d{1,2})(?:-?го)?\s+(?P<mon>"
    + _RU_MONTH_RE
    + "|"
    + _KZ_MONTH_RE
    + r")(?![\w])(?:\s+(?P<wy>\d{4})"
    + _YEAR_WORD
    + ")?"
    r")(?:\s*(?:в|до|к)?\s*\d{1,2}:\d{2}(?:\s*ч\.?)?)?",
    re.I,
)

_DEADLINE_WORD = r"(?<![\w])(?:срок\w*|мерзім\w*|дата\s+исполнения)"
_LEAD = _DEADLINE_WORD + r"(?:\s+(?:исполнения|исп\.|ответа|рассмотрения))?\s*[:\-–—]?\s*"
_BEFORE_DATE = re.compile(
    r"(?:" + _LEAD + r"(?:(?<![\w])(?:до|не\s+позднее|не\s+позже|к|по)\s+)?"
    r"|(?<![\w])(?:в\s+срок\s+)?(?:до|не\s+позднее|не\s+позже|к)\s+)$",
    re.I,
)
# a count of days after these words measures something, it sets no deadline
_NOT_A_TERM = re.compile(
    r"(?<![\w])(?:на|уже|более|свыше|около|почти|менее|от|из|после|спустя|прошло|прошли|"
    r"просрочен\w*|просрочк\w*|задерж\w*|опоздан\w*|превышен\w*)\s*$",
    re.I,
)
_AFTER_DATE = re.compile(r"^\s*-?\s*(?:ге|ға|ке|қа)?\s*(?:дейін|дейин|шейін|шейин)(?![\w])", re.I)
_INCLUSIVE = re.compile(r"^\s*\(?\s*включительно\s*\)?", re.I)
_REFERENCE = re.compile(r"(?:\bот|№\s*\S+\s+от|\bвх\.?|\bисх\.?|№)\s*$", re.I)

_NUMBER_WORDS = {
    "один": 1,
    "одного": 1,
    "одной": 1,
    "одних": 1,
    "два": 2,
    "двух": 2,
    "две": 2,
    "три": 3,
    "трех": 3,
    "четыре": 4,
    "четырех": 4,
    "пять": 5,
    "пяти": 5,
    "шесть": 6,
    "шести": 6,
    "семь": 7,
    "семи": 7,
    "восемь": 8,
    "восьми": 8,
    "девять": 9,
    "девяти": 9,
    "десять": 10,
    "десяти": 10,
    "четырнадцать": 14,
    "четырнадцати": 14,
    "пятнадцать": 15,
    "пятнадцати": 15,
    "двадцать": 20,
    "двадцати": 20,
    "тридцать": 30,
    "тридцати": 30,
    "бір": 1,
    "екі": 2,
    "үш": 3,
    "төрт": 4,
    "бес": 5,
    "алты": 6,
    "жеті": 7,
    "сегіз": 8,
    "тоғыз": 9,
    "он": 10,
    "он бес": 15,
    "жиырма": 20,
    "отыз": 30,
}
_NUM = (
    r"(?P<n>\d{1,3}|"
    + "|".join(sorted((re.escape(w) for w in _NUMBER_WORDS), key=len, reverse=True)).replace("е", "[её]")
    + ")"
)
_WORKING = (
    r"рабоч(?:их|ий|их\s+дн\.?)\s+(?:дн(?:ей|я)|день)|рабочих\s+дн\.?|раб\.?\s*(?:дн(?:ей|я|\.)?|д\.?)"
    r"|р\.\s?дн?\.?|р\.?\s?д\.|рд|р/д|жұмыс\s+күн\w*|жумыс\s+кун\w*"
)
_CALENDAR = (
    r"календарн(?:ых|ый)\s+(?:дн(?:ей|я)|день)|кал\.?\s*дн(?:ей|я|\.)?|к\.\s?д\.?|кд"
    r"|дн(?:ей|я)|день|дн\.|суток|сутки|сут\.|күн\w*|кун"
)
_WEEKS = r"недел[ьиюяе]\w*|нед\."
_MONTHS = r"месяц(?:а|ев)?|мес\."
DURATION = re.compile(
    r"(?P<pre>(?:"
    + _LEAD
    + r")?(?:в\s+течени[еи]\s+|в\s+срок\s+|за\s+|через\s+)?)"
    + r"(?<![\w])"
    + _NUM
    + r"(?:-?(?:х|ти|и|ми|ух|ех|ёх))?(?:\s*\([^()\n]{1,20}\))?\s?-?\s?(?:(?P<work>"
    + _WORKING
    + r")|(?P<cal>"
    + _CALENDAR
    + r")|(?P<week>"
    + _WEEKS
    + r")|(?P<month>"
    + _MONTHS
    + r"))(?![\w])(?:\s+(?:ішінде|ишинде|дейін|дейин))?",
    re.I,
)
_N_DAY_TERM = re.compile(
    r"(?:" + _LEAD + r")?(?:в\s+)?(?P<n>\d{1,3})\s?-?\s?(?:х|ти|и|ми|ух)?\s?-?\s?дневн\w*\s+срок\w*"
    r"|(?:"
    + _LEAD
    + r")?(?:в\s+)?(?P<w>одно|двух|двух|тр[её]х|пяти|семи|десяти|пятнадцати)дневн\w*\s+срок\w*",
    re.I,
)
_WITHIN_ONE = re.compile(
    r"(?:" + _LEAD + r")?в\s+течени[еи]\s+(?P<u>дня|суток|недели|месяца)(?![\w])"
    r"|" + _LEAD + r"(?:одна\s+|одну\s+)?(?P<u2>неделя|неделю|месяц|сутки)(?![\w])",
    re.I,
)
_RELATIVE = re.compile(
    r"(?:" + _LEAD + r"(?:(?:до|к|на)\s+)?|(?<![\w])(?:до|к)\s+)"
    r"(?P<w>сегодня|завтра|послезавтра|конца\s+(?:рабочего\s+)?(?:дня|недели|месяца|года)"
    r"|понедельника|вторника|среды|четверга|пятницы|субботы|воскресенья"
    r"|понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье)(?![\w])"
    r"|(?P<bare>(?<![\w])(?:сегодня\s+же|сегодня|завтра)(?![\w]))",
    re.I,
)
_DEADLINE_WORD_ALONE = re.compile(
    r"(?<![\w])(?:срок|мерзімі)(?![\w])\s*(?:[:\-–—]|до\b|исполнения|ответа)", re.I
)
_AGO = re.compile(r"^\s*(?:тому\s+)?назад", re.I)
_WEEKDAYS = ("понедельник", "вторник", "сред", "четверг", "пятниц", "суббот", "воскресень")


@dataclass(frozen=True)
class Deadline:
    start: int
    end: int
    text: str
    due: dt.date | None = None
    days: int | None = None
    working_days: bool | None = None

    def value(self):
        return (self.due, self.days, self.working_days)


@dataclass(frozen=True)
class Found:
    deadlines: tuple[Deadline, ...]
    ignored: tuple[tuple[int, int], ...]  # dates that are no deadline: leave in the text
    dropped: tuple[tuple[int, int], ...]  # the resolution's own date on its own line: remove
    problems: tuple[str, ...]
    spans: tuple[tuple[int, int], ...] = ()  # every deadline-like span, understood or not


def _fmt(d: dt.date) -> str:
    return d.strftime("%d.%m.%Y")


def _year_of(day: int, month: int, today: dt.date) -> tuple[dt.date | None, str | None]:
    """A date written without a year: the next such date on or after today.

    A day that passed less than half a year ago is read as a slip, not as
    next year's date (nobody sets a deadline eleven months ahead by writing
    yesterday's date)."""
    try:
        this_year = dt.date(today.year, month, day)
    except ValueError:
        if (month, day) == (2, 29):
            return dt.date(today.year + 1 + (3 - today.year % 4) % 4, 2, 29), None
        return None, "no such date"
    if this_year >= today:
        return this_year, None
    if (today - this_year).days <= 183:
        return this_year, "past"
    try:
        return dt.date(today.year + 1, month, day), None
    except ValueError:
        return None, "no such date"


def _date_of(m: re.Match, today: dt.date) -> tuple[dt.date | None, str | None]:
    if m.group("iy"):
        y, mo, d = int(m.group("iy")), int(m.group("im")), int(m.group("id"))
    else:
        if m.group("d"):
            d, mo, y = int(m.group("d")), int(m.group("m")), m.group("y") or m.group("sy")
        else:
            d, mo = int(m.group("wd")), _month_number(m.group("mon"))
            y = m.group("wy") or m.group("ky")
            if mo is None:
                return None, "no such date"
        if y is None:
            return _year_of(d, mo, today)
        y = int(y)
        if y < 100:
            y += 2000
    try:
        return dt.date(y, mo, d), None
    except ValueError:
        return None, "no such date"


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" ,;")


def _check_date(text: str, due: dt.date, today: dt.date) -> str | None:
    if due < today:
        return _past(text, today)
    if (due - today).days > 366:
        return f"«{text}» — это больше чем через год ({_fmt(due)}). Проверьте год, пожалуйста."
    return None


def _past(text: str, today: dt.date) -> str:
    return f"«{text}» — эта дата уже прошла (сегодня {_fmt(today)}). Укажите другой срок, пожалуйста."


def _overlaps(a: tuple[int, int], spans) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def find(text: str, today: dt.date) -> Found:
    """Every deadline in `text`, with spans, and the problems they raise."""
    deadlines: list[Deadline] = []
    problems: list[str] = []
    ignored: list[tuple[int, int]] = []
    dropped: list[tuple[int, int]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, **value) -> None:
        span_text = _clean(text[start:end])
        deadlines.append(Deadline(start, end, span_text, **value))
        taken.append((start, end))

    # counts of days, weeks, months
    for m in _N_DAY_TERM.finditer(text):
        n = (
            int(m.group("n"))
            if m.group("n")
            else {
                "одно": 1,
                "двух": 2,
                "трех": 3,
                "трёх": 3,
                "пяти": 5,
                "семи": 7,
                "десяти": 10,
                "пятнадцати": 15,
            }[m.group("w").lower()]
        )
        add(m.start(), m.end(), days=n, working_days=False)
    for m in DURATION.finditer(text):
        if _overlaps((m.start(), m.end()), taken) or _AGO.match(text[m.end() :]):
            continue
        if not m.group("pre") and _NOT_A_TERM.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        raw = m.group("n").lower().replace("ё", "е")
        n = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw, _NUMBER_WORDS.get(raw.replace("е", "ё"), 0))
        start = m.start() if m.group("pre") else m.start("n")
        if m.group("month"):
            add(start, m.end(), due=_add_months(today, n))
        elif m.group("week"):
            add(start, m.end(), days=7 * n, working_days=False)
        else:
            add(start, m.end(), days=n, working_days=bool(m.group("work")))
    for m in _WITHIN_ONE.finditer(text):
        if _overlaps((m.start(), m.end()), taken):
            continue
        u = (m.group("u") or m.group("u2")).lower()
        u = {"неделя": "недели", "неделю": "недели", "месяц": "месяца", "сутки": "суток"}.get(u, u)
        if u == "дня":
            add(m.start(), m.end(), due=today)
        elif u == "суток":
            add(m.start(), m.end(), days=1, working_days=False)
        elif u == "недели":
            add(m.start(), m.end(), days=7, working_days=False)
        else:
            add(m.start(), m.end(), due=_add_months(today, 1))

    # dates
    for m in DATE.finditer(text):
        span = (m.start(), m.end())
        if _overlaps(span, taken):
            continue
        before = text[max(0, m.start() - 60) : m.start()]
        after = _AFTER_DATE.match(text[m.end() :])
        marker = _BEFORE_DATE.search(before)
        raw = text[m.start() : m.end()]
        due, why = _date_of(m, today)
        if marker or after:
            start = m.start() - len(marker.group(0)) if marker else m.start()
            end = m.end() + (after.end() if after else 0)
            inclusive = _INCLUSIVE.match(text[end:])
            end += inclusive.end() if inclusive else 0
            written = _clean(text[start:end])
            if due is None:
                problems.append(f"«{written}» — такой даты нет. Уточните срок, пожалуйста.")
                taken.append((start, end))
                continue
            if why == "past":
                problems.append(_past(written, today))
                taken.append((start, end))
                continue
            add(start, end, due=due)
            continue
        if _REFERENCE.search(before) or due is None:
            ignored.append(span)
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        if due <= today or why == "past":
            if not text[line_start : m.start()].strip(" \t,.-–—") and not text[m.end() : line_end].strip(
                " \t,.-–—"
            ):
                dropped.append((line_start, line_end))
            else:
                ignored.append(span)
            continue
        problems.append(
            f"«{_clean(raw)}» — это срок исполнения? Если да, напишите «срок до {_clean(raw)}», пожалуйста."
        )
        ignored.append(span)

    # today, tomorrow, weekdays, "до конца …"
    for m in _RELATIVE.finditer(text):
        if _overlaps((m.start(), m.end()), taken):
            continue
        w = (m.group("w") or m.group("bare")).lower().replace("ё", "е")
        written = _clean(text[m.start() : m.end()])
        if w.startswith("сегодня") or w in ("конца дня", "конца рабочего дня"):
            add(m.start(), m.end(), due=today)
        elif w == "завтра":
            add(m.start(), m.end(), due=today + dt.timedelta(days=1))
        elif w == "послезавтра":
            add(m.start(), m.end(), due=today + dt.timedelta(days=2))
        elif w == "конца месяца":
            add(
                m.start(),
                m.end(),
                due=dt.date(today.year, today.month, calendar.monthrange(today.year, today.month)[1]),
            )
        elif w == "конца года":
            add(m.start(), m.end(), due=dt.date(today.year, 12, 31))
        elif w.startswith("конца"):
            problems.append(
                f"Срок «{written}» можно понять по-разному. Напишите дату, например «срок до 15.04.2026»."
            )
            taken.append((m.start(), m.end()))
        else:
            wd = next(i for i, s in enumerate(_WEEKDAYS) if w.startswith(s))
            ahead = (wd - today.weekday()) % 7
            if ahead == 0:
                problems.append(
                    f"Срок «{written}»: сегодня тоже {_weekday_name(wd)} — "
                    "сегодня или через неделю? Напишите дату, пожалуйста."
                )
                taken.append((m.start(), m.end()))
            else:
                add(m.start(), m.end(), due=today + dt.timedelta(days=ahead))

    # a deadline word whose value was not understood
    for m in _DEADLINE_WORD_ALONE.finditer(text):
        if not _overlaps((m.start(), m.end() + 1), taken + [(s, e) for s, e in ignored]):
            line_end = text.find("\n", m.start())
            shown = _clean(text[m.start() : len(text) if line_end < 0 else line_end])[:60]
            problems.append(
                f"Не понял срок: «{shown}». Напишите, например, «срок до 15.04.2026» "
                "или «срок 10 рабочих дней»."
            )
            taken.append((m.start(), m.end()))

    for d in deadlines:
        if d.due is not None:
            p = _check_date(d.text, d.due, today)
            if p:
                problems.append(p)
        elif d.days is not None and not 1 <= d.days <= 366:
            problems.append(f"«{d.text}» — проверьте число дней, пожалуйста.")
    values = {d.value() for d in deadlines}
    if len(values) > 1:
        shown = ", ".join(f"«{d.text}»" for d in sorted(deadlines, key=lambda d: d.start))
        problems.append(f"Указано несколько сроков: {shown}. Оставьте один, пожалуйста.")
    deadlines.sort(key=lambda d: d.start)
    return Found(tuple(deadlines), tuple(ignored), tuple(dropped), tuple(problems), tuple(sorted(taken)))


def _weekday_name(i: int) -> str:
    return ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")[i]
