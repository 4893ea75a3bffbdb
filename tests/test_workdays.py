"""The working-day calendar and statutory deadlines, around real Kazakh holidays."""

from __future__ import annotations

import datetime as dt

import pytest

from mailflow import workdays
from tests.support import load_rules

D = dt.date


@pytest.fixture(scope="module")
def cal():
    return workdays.WorkCalendar()


def test_weekends_and_public_holidays(cal):
    assert cal.is_working_day(D(2026, 3, 20))  # a Friday
    assert not cal.is_working_day(D(2026, 3, 21))  # Nauryz, a Saturday
    assert not cal.is_working_day(D(2026, 3, 23))  # Nauryz
    assert not cal.is_working_day(D(2026, 3, 25))  # Nauryz, observed
    assert cal.is_working_day(D(2026, 3, 26))
    assert not cal.is_working_day(D(2026, 12, 16))  # Independence Day


def test_government_transfers_of_days_off(cal):
    # Decree for 2025: Friday 3 January a day off, Sunday 5 January a working day.
    assert not cal.is_working_day(D(2025, 1, 3))
    assert cal.is_working_day(D(2025, 1, 5))
    # 2024: Wednesday 8 May off, Saturday 4 May worked.
    assert not cal.is_working_day(D(2024, 5, 8))
    assert cal.is_working_day(D(2024, 5, 4))


def test_rules_override_for_newer_decrees(tmp_path):
    f = tmp_path / "calendar.toml"
    f.write_text('extra_days_off = ["2026-12-31"]\nextra_working_days = ["2026-12-26"]\n')
    cal = workdays.load(f)
    assert not cal.is_working_day(D(2026, 12, 31))
    assert cal.is_working_day(D(2026, 12, 26))  # a Saturday


def test_working_day_arithmetic(cal):
    assert cal.add_working_days(D(2026, 3, 19), 2) == D(2026, 3, 26)  # over Nauryz
    assert cal.working_days_between(D(2026, 3, 19), D(2026, 3, 26)) == 2
    assert cal.working_days_between(D(2026, 3, 26), D(2026, 3, 19)) == -2
    assert cal.next_working_day(D(2026, 3, 21)) == D(2026, 3, 26)


def test_statutory_default_deadline():
    rules = load_rules()
    # Received Thursday 19 March 2026: Fri 20 is day 1, Nauryz (21–25) skipped,
    # 26, 27, 30, 31 March, 1, 2, 3, 6, 7, 8, 9, 10, 13 April, Tue 14 April is day 15.
    assert rules.deadlines.due("жалоба", D(2026, 3, 19), rules.calendar) == D(2026, 4, 14)
    # Received on Saturday 21 March (a holiday too): counts from Thursday 26 March.
    assert rules.deadlines.due("жалоба", D(2026, 3, 21), rules.calendar) == D(2026, 4, 16)
    # Before 1 July 2021 the 2007 law: 15 calendar days.
    assert rules.deadlines.due("жалоба", D(2021, 6, 1), rules.calendar) == D(2021, 6, 16)
    assert "АППК" in rules.deadlines.term("жалоба", D(2026, 3, 19)).source


def test_counting_across_years_agrees_with_walking_day_by_day(cal):
    import random

    rnd = random.Random(3)
    for _ in range(200):
        a = D(2015, 1, 1) + dt.timedelta(days=rnd.randrange(0, 365 * 13))
        b = a + dt.timedelta(days=rnd.randrange(-900, 900))
        lo, hi = min(a, b), max(a, b)
        walked = sum(cal.is_working_day(lo + dt.timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
        assert cal.working_days_between(a, b) == (walked if b >= a else -walked)


def test_a_kind_can_have_its_own_term(tmp_path):
    import shutil

    from mailflow import rules as rules_mod
    from tests.support import REPO

    shutil.copytree(REPO / "rules", tmp_path / "rules")
    f = tmp_path / "rules" / "deadlines.toml"
    f.write_text(
        f.read_text(encoding="utf-8")
        + """
[kind."претензия"]
days = 30
count = "calendar"
source = "договор энергоснабжения, п. 7.3"
""",
        encoding="utf-8",
    )
    rules = rules_mod.load(tmp_path / "rules")
    # 30 calendar days from Thursday 19 March 2026 end on Saturday 18 April: moved to Monday 20
    assert rules.deadlines.due("претензия", D(2026, 3, 19), rules.calendar) == D(2026, 4, 20)
    assert rules.deadlines.due("жалоба", D(2026, 3, 19), rules.calendar) == D(2026, 4, 14)
    assert rules.deadlines.term("претензия", D(2026, 3, 19)).source.startswith("договор")


def test_a_term_without_a_source_is_refused(tmp_path):
    import shutil

    from mailflow import rules as rules_mod
    from mailflow.config import ConfigError
    from tests.support import REPO

    shutil.copytree(REPO / "rules", tmp_path / "rules")
    f = tmp_path / "rules" / "deadlines.toml"
    f.write_text(
        f.read_text(encoding="utf-8") + '\n[kind."отзыв"]\ndays = 10\ncount = "working"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as e:
        rules_mod.load(tmp_path / "rules")
    assert e.value.key == "kind.отзыв.source"
