"""Kazakhstan's working-day calendar: weekends, public holidays, transfers.

Public holidays and the government's transfers of days off come from the
`holidays` package (a transfer makes a weekday a day off and a Saturday or
Sunday a working day); `rules/calendar.toml` adds decrees newer than the
installed release. Deadlines in law count working days of this calendar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import holidays

from . import rules_schema
from .config import ConfigError, read_model

BASE_YEAR = 2020


@dataclass
class WorkCalendar:
    extra_days_off: frozenset[dt.date] = frozenset()
    extra_working_days: frozenset[dt.date] = frozenset()
    work_start: dt.time = dt.time(9, 0)
    work_end: dt.time = dt.time(18, 0)
    _years: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = field(default_factory=dict, repr=False)
    _counts: dict[int, list[int]] = field(default_factory=dict, repr=False)  # a cache

    def is_working_day(self, day: dt.date) -> bool:
        off, working = self._year(day.year)
        if day in working:
            return True
        return day.weekday() < 5 and day not in off

    def next_working_day(self, day: dt.date) -> dt.date:
        """`day` itself when it is a working day, else the first one after it."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day` (`day` itself is not counted)."""
        step = 1 if n >= 0 else -1
        left = abs(n)
        while left:
            day += dt.timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative if end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        return self._count_to(end) - self._count_to(start)

    def _count_to(self, day: dt.date) -> int:
        """Working days from 1 January of `day`'s year to `day`, plus whole years before
        it back to a fixed base year: differences of these are counts between dates."""
        total = self._cumulative(day.year)[day.timetuple().tm_yday - 1]
        for year in range(min(day.year, BASE_YEAR), max(day.year, BASE_YEAR)):
            n = self._cumulative(year)[-1]
            total += n if year < day.year else -n
        return total

    def _cumulative(self, year: int) -> list[int]:
        if year not in self._counts:
            day, run, out = dt.date(year, 1, 1), 0, []
            while day.year == year:
                run += self.is_working_day(day)
                out.append(run)
                day += dt.timedelta(days=1)
            self._counts[year] = out
        return self._counts[year]

    def _year(self, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
        if year not in self._years:
            lib = holidays.country_holidays("KZ", years=year)
            off = frozenset(lib) | {d for d in self.extra_days_off if d.year == year}
            working = _transferred_working_days(year) | {d for d in self.extra_working_days if d.year == year}
            self._years[year] = (off - working, working)
        return self._years[year]


def _transferred_working_days(year: int) -> frozenset[dt.date]:
    """Weekend days made working days by transfer decrees (the package's table)."""
    try:
        from holidays.countries.kazakhstan import KazakhstanStaticHolidays

        entries = KazakhstanStaticHolidays.special_public_holidays.get(year, ())
    except (ImportError, AttributeError):  # the package's layout changed: rules/ still count
        return frozenset()
    if entries and isinstance(entries[0], int):
        entries = (entries,)
    days = set()
    for e in entries:
        from_month, from_day = e[2], e[3]
        from_year = e[4] if len(e) > 4 else year
        days.add(dt.date(from_year, from_month, from_day))
    return frozenset(d for d in days if d.year == year)


def load(path: Path) -> WorkCalendar:
    """rules/calendar.toml; a missing file means the package's calendar alone."""
    if not path.exists():
        return WorkCalendar()
    data = read_model(path, rules_schema.CalendarFile)
    start, end = data.working_hours.start, data.working_hours.end
    if end <= start:
        raise ConfigError(path, "working_hours", "end must be after start")
    return WorkCalendar(frozenset(data.extra_days_off), frozenset(data.extra_working_days), start, end)
