"""Strict rules: every table of every rules/*.toml refuses a misspelt key, a value of
the wrong TOML type and a missing required key, naming the file and the dotted key."""

from __future__ import annotations

import shutil
import tomllib

import pytest

from mailflow import cli, config, rules_schema
from mailflow import rules as rules_mod
from mailflow.config import ConfigError
from tests.support import REPO

ABSENCE = '[[absence]]\nperson = "sidorenko@sevkaz.example"\nsubstitute = "ivanov@sevkaz.example"\n'
# look like Latin "e" and "o"; TOML takes non-ASCII keys only in quotes, where they pass unseen
CYR_E, CYR_O = "\u0435", "\u043e"

# (file, text in the shipped file, what it becomes, the dotted key named)
TYPOS = [
    # staff.toml: [[person]] is person[i]; the director is the 11th
    ("staff.toml", 'email = "pr@sevkaz.example"', 'emial = "pr@sevkaz.example"', "person[11].emial"),
    ("staff.toml", 'roles = ["director"]', 'roles = "director"', "person[10].roles"),
    ("staff.toml", 'aliases = ["Жумабаев Е.С."]', "aliases = 1", "person[10].aliases"),
    ("staff.toml", 'unit = "Руководство"\naliases', "unit = 1\naliases", "person[10].unit"),
    ("staff.toml", 'name = "Жумабаев Ерлан Серикович"\n', "", "person[10].name"),
    ("staff.toml", 'roles = ["director"]', f'"r{CYR_O}les" = ["director"]', f"person[10].r{CYR_O}les"),
    ("staff.toml", "[[person]]", "[[persons]]", "persons"),
    (
        "staff.toml",
        "# until = 2026-12-31",
        ABSENCE + "since = 2026-12-21\nuntil = 2026-12-31\nby = 1",
        "absence[0].by",
    ),
    (
        "staff.toml",
        "# until = 2026-12-31",
        ABSENCE + 'since = "2026-12-21"\nuntil = 2026-12-31',
        "absence[0].since",
    ),
    ("staff.toml", "# until = 2026-12-31", ABSENCE + "since = 2026-12-21", "absence[0].until"),
    # journals.toml
    ("journals.toml", 'default = "dp"', 'defualt = "dp"', "defualt"),
    ("journals.toml", 'default = "dp"', "default = 1", "default"),
    (
        "journals.toml",
        'clerks = ["kanc@sevkaz.example"]',
        'clerk = ["kanc@sevkaz.example"]',
        "journal[0].clerk",
    ),
    (
        "journals.toml",
        'clerks = ["kanc@sevkaz.example"]',
        'clerks = "kanc@sevkaz.example"',
        "journal[0].clerks",
    ),
    ("journals.toml", 'prefix = "ВХ"', "prefix = 1", "journal[0].prefix"),
    ("journals.toml", 'title = "Журнал регистрации входящих документов ДП"\n', "", "journal[0].title"),
    # intake.toml, each table
    ("intake.toml", "[limits]", "[limit]", "limit"),
    ("intake.toml", "render_dpi = 300", "render_dip = 300", "limits.render_dip"),
    (
        "intake.toml",
        "max_pages_per_message = 20",
        'max_pages_per_message = "20"',
        "limits.max_pages_per_message",
    ),
    ("intake.toml", "ocr_timeout_seconds = 60", 'ocr_timeout_seconds = "60s"', "limits.ocr_timeout_seconds"),
    ("intake.toml", "talon_max_age_days = 14", "talon_max_age_dayz = 14", "backlog.talon_max_age_dayz"),
    ("intake.toml", "talon_max_age_days = 14", 'talon_max_age_days = "14"', "backlog.talon_max_age_days"),
    ("intake.toml", "max_per_stranger_per_day = 3", "max_per_stranger = 3", "talons.max_per_stranger"),
    (
        "intake.toml",
        "max_per_stranger_per_day = 3",
        "max_per_stranger_per_day = true",
        "talons.max_per_stranger_per_day",
    ),
    ("intake.toml", 'flag_when = "both"', 'flag_wen = "both"', "anonymous.flag_wen"),
    (
        "intake.toml",
        'name_fields = ["last_name", "org_name"]',
        'name_fields = "last_name"',
        "anonymous.name_fields",
    ),
    ("intake.toml", "min_shared_words = 0.15", "min_shared_word = 0.15", "repeats.min_shared_word"),
    ("intake.toml", "min_shared_words = 0.15", 'min_shared_words = "0.15"', "repeats.min_shared_words"),
    ("intake.toml", 'res_chief = "res"', 'res_chef = "res"', "channels.res_chef"),
    ("intake.toml", 'res_chief = "res"', "res_chief = 1", "channels.res_chief"),
    ("intake.toml", "own_addresses = [", "own_adresses = [", "loops.own_adresses"),
    ("intake.toml", "max_received_headers = 30", "max_received_headers = 30.5", "loops.max_received_headers"),
    (
        "intake.toml",
        'own_addresses = ["kanc@sevkaz.example"]',
        "own_addresses = [1]",
        "loops.own_addresses[0]",
    ),
    # routing.toml, each table
    ("routing.toml", "[management]", "[managment]", "managment"),
    ("routing.toml", "may_resolve = [", "may_reslove = [", "management.may_reslove"),
    ("routing.toml", 'may_resolve = ["director", "deputy_director"]\n', "", "management.may_resolve"),
    (
        "routing.toml",
        "reply_to_plus_token = false",
        'reply_to_plus_token = "no"',
        "management.reply_to_plus_token",
    ),
    ("routing.toml", "token_valid_days = 30", 'token_valid_days = "30"', "management.token_valid_days"),
    (
        "routing.toml",
        'kinds = ["жалоба", "претензия"]\n# Regulation 2.1',
        'kind = ["жалоба"]\n# Regulation 2.1',
        "pr_copy.kind",
    ),
    ("routing.toml", "resolutions = true", 'resolutions = "no"', "pr_copy.resolutions"),
    (
        "routing.toml",
        'channels = ["book"]\n# Regulation 2.7',
        "channels = 1\n# Regulation 2.7",
        "pr_copy.channels",
    ),
    (
        "routing.toml",
        'channels = ["book"]\n\n[monitoring.kinds_from]',
        'chanels = ["book"]\n\n[monitoring.kinds_from]',
        "monitoring.chanels",
    ),
    (
        "routing.toml",
        'service_center = ["отзыв", "предложение"]',
        'service_center = "отзыв"',
        "monitoring.kinds_from.service_center",
    ),
    (
        "routing.toml",
        'title = "Мониторинг жалоб',
        'titel = "Мониторинг жалоб',
        "monitoring.register.complaints.titel",
    ),
    (
        "routing.toml",
        'title = "Мониторинг жалоб, претензий потребителей"',
        "title = 2",
        "monitoring.register.complaints.title",
    ),
    ("routing.toml", "unproven_after_hours = 24", "unproven_after_hour = 24", "receipts.unproven_after_hour"),
    (
        "routing.toml",
        "unproven_after_hours = 24",
        'unproven_after_hours = "24h"',
        "receipts.unproven_after_hours",
    ),
    ("routing.toml", "verify_dkim = false", 'verify_dkim = "no"', "authentication.verify_dkim"),
    (
        "routing.toml",
        "trusted_authserv_ids = []",
        f'"trusted_auths{CYR_E}rv_ids" = []',
        f"authentication.trusted_auths{CYR_E}rv_ids",
    ),
    (
        "routing.toml",
        "trusted_authserv_ids = []",
        "trusted_authserv_ids = 1",
        "authentication.trusted_authserv_ids",
    ),
    # reminders.toml, each table
    ("reminders.toml", "[weekly_report]", "[weekly_reprot]", "weekly_reprot"),
    ("reminders.toml", "on_due_day = true", "on_due_dya = true", "reminders.on_due_dya"),
    ("reminders.toml", "on_due_day = true", 'on_due_day = "no"', "reminders.on_due_day"),
    (
        "reminders.toml",
        "before_working_days = [5, 2, 1]",
        "before_working_days = 5",
        "reminders.before_working_days",
    ),
    ("reminders.toml", "after_working_days = 1", "after_working_day = 1", "escalation.after_working_day"),
    ("reminders.toml", 'roles = ["pr_specialist"]', 'roles = "pr_specialist"', "escalation.roles"),
    ("reminders.toml", "max_minutes = 30", "max_minute = 30", "book.max_minute"),
    ("reminders.toml", "max_minutes = 30", 'max_minutes = "30"', "book.max_minutes"),
    ("reminders.toml", "weekday = 0 ", "weekday = '0' ", "weekly_report.weekday"),
    ("reminders.toml", 'send_at = "09:00"', "send_at = 9", "weekly_report.send_at"),
    ("reminders.toml", "recipients = [", "recipient = [", "weekly_report.recipient"),
    # answer.toml
    ("answer.toml", 'start = "draft"', "start = 1", "start"),
    ("answer.toml", 'start = "draft"', 'strat = "draft"', "strat"),
    ("answer.toml", 'title = "Проект ответа', 'titel = "Проект ответа', "stage.draft.titel"),
    ("answer.toml", 'holder = "executor"', "holder = 1", "stage.draft.holder"),
    ("answer.toml", 'from = ["draft"]', 'form = ["draft"]', "move[0].form"),
    ("answer.toml", 'from = ["draft"]', 'from = "draft"', "move[0].from"),
    ("answer.toml", 'words = ["ПРОЕКТ", "ЖОБА"]', 'words = "ПРОЕКТ"', "move[0].words"),
    ("answer.toml", 'file = true\nforward = "unit_head"', 'file = "yes"', "move[0].file"),
    ("answer.toml", 'by = "executor"\nto = "head_review"', 'to = "head_review"', "move[0].by"),
    ("answer.toml", "within_working_days = 1", "within_working_day = 1", "copy.within_working_day"),
    ("answer.toml", "within_working_days = 1", 'within_working_days = "1"', "copy.within_working_days"),
    ("answer.toml", '"Айыртауский РЭС" = 4', '"Айыртауский РЭС" = "пятница"', "meetings.Айыртауский РЭС"),
    # calendar.toml
    ("calendar.toml", 'end = "18:00"', 'ned = "18:00"', "working_hours.ned"),
    ("calendar.toml", 'start = "09:00"', "start = 9", "working_hours.start"),
    ("calendar.toml", "extra_days_off = []", "extra_days_of = []", "extra_days_of"),
    ("calendar.toml", "extra_days_off = []", 'extra_days_off = "2026-12-31"', "extra_days_off"),
    ("calendar.toml", "extra_working_days = []", "extra_working_days = [1]", "extra_working_days[0]"),
    # deadlines.toml, each table
    ("deadlines.toml", "[default]", "[defualt]", "defualt"),
    ("deadlines.toml", "days = 15", 'days = "15"', "default.days"),
    ("deadlines.toml", 'count = "working"', 'cuont = "working"', "default.cuont"),
    ("deadlines.toml", 'source = "АППК РК, ст. 76 п. 1 (с 01.07.2021)"\n', "", "default.source"),
    ("deadlines.toml", "max_months = 2", "max_month = 2", "extension.max_month"),
    ("deadlines.toml", "max_months = 2", 'max_months = "2"', "extension.max_months"),
    ("deadlines.toml", "\nworking_days = 3", "\nworkingdays = 3", "redirect.workingdays"),
    ("deadlines.toml", 'until = "2021-07-01"', 'untill = "2021-07-01"', "older_law.untill"),
    ("deadlines.toml", 'until = "2021-07-01"', "until = 2021", "older_law.until"),
    (
        "deadlines.toml",
        "# [kind.",
        '[kind."жлоба"]\ndays = 30\ncount = "calendar"\nsource = "x"\n# [kind.',
        "kind.жлоба",
    ),
    # access.toml
    ("access.toml", "[sign_in]", "[signin]", "signin"),
    ("access.toml", "link_minutes = 15", "link_minute = 15", "sign_in.link_minute"),
    ("access.toml", '[role.clerk]\nsee = "all"', "[role.clerk]\nsee = 1", "role.clerk.see"),
    ("access.toml", 'may = ["registers", "report"]', 'may = "report"', "role.pr_specialist.may"),
    ("access.toml", 'see = "own"', f'"s{CYR_E}e" = "own"', f"role.unit_head.s{CYR_E}e"),
    ("access.toml", '[role.unit_head]\nsee = "own"', "[role.unit_head]", "role.unit_head.see"),
]


def _broken(tmp_path, file: str, old: str, new: str):
    folder = tmp_path / "rules"
    shutil.copytree(REPO / "rules", folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder, path


@pytest.mark.parametrize(("file", "old", "new", "key"), TYPOS, ids=[f"{t[0]}:{t[3]}" for t in TYPOS])
def test_a_typo_or_a_wrong_type_is_refused_naming_file_and_key(tmp_path, file, old, new, key):
    folder, path = _broken(tmp_path, file, old, new)
    with pytest.raises(ConfigError) as e:
        rules_mod.load(folder)
    assert (e.value.file, e.value.key) == (str(path), key), e.value
    assert f"{path}: {key}: " in str(e.value)
    assert "Input should" not in e.value.message and "pydantic" not in e.value.message  # plain words


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "words"),
    [
        (
            "routing.toml",
            "verify_dkim = false",
            "verify_dkm = false",
            "authentication.verify_dkm",
            "verify_dkim",
        ),
        (
            "routing.toml",
            "verify_dkim = false",
            f'"v{CYR_E}rify_dkim" = false',
            "authentication",
            "non-Latin",
        ),
        ("staff.toml", "[[person]]", "[[persons]]", "persons", "unknown table"),
        ("reminders.toml", "on_due_day = true", 'on_due_day = "no"', "reminders.on_due_day", "true or false"),
        ("intake.toml", "render_dpi = 300", 'render_dpi = "300"', "limits.render_dpi", "whole number"),
        ("answer.toml", 'words = ["ПРОЕКТ", "ЖОБА"]', "words = 1", "move[0].words", "list"),
    ],
)
def test_the_message_says_what_is_wrong(tmp_path, capsys, file, old, new, key, words):
    folder, path = _broken(tmp_path, file, old, new)
    assert cli.main(["--home", str(tmp_path / "h"), "--rules", str(folder), "rules", "check"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and key in err and words in err


def test_every_rules_file_has_a_schema_and_the_shipped_ones_fit_it():
    shipped = sorted(p.name for p in (REPO / "rules").glob("*.toml"))
    assert shipped == sorted(rules_schema.FILES)
    for folder in (REPO / "rules", config.DEFAULT_RULES):
        for name, model in rules_schema.FILES.items():
            config.read_model(folder / name, model)
        assert rules_mod.load(folder).journal(None).key == "dp"


def test_the_schema_converts_nothing_silently():
    """Strict: "no" is no boolean, "30" no number, 2026-12-01T10:00 no date."""
    import datetime as dt

    for data in (
        {"verify_dkim": "no"},
        {"verify_dkim": 0},
        {"trusted_authserv_ids": "mx.example"},
        {"trusted_authserv_ids": ("mx.example",)},
    ):
        with pytest.raises(ConfigError):
            config.validated(REPO / "x.toml", rules_schema.AuthenticationTable, data)
    with pytest.raises(ConfigError):
        config.validated(REPO / "x.toml", rules_schema.SignInTable, {"link_minutes": True})
    row = {
        "person": "a@b.c",
        "substitute": "d@b.c",
        "since": dt.datetime(2026, 12, 1, 10),
        "until": dt.date.max,
    }
    with pytest.raises(ConfigError) as e:
        config.validated(REPO / "x.toml", rules_schema.AbsenceRow, row)
    assert e.value.key == "since"
    data = tomllib.loads("[receipts]\nunproven_after_hours = 36\n[management]\nroles=[]\nmay_resolve=[]")
    assert (
        config.validated(REPO / "x.toml", rules_schema.RoutingFile, data).receipts.unproven_after_hours
        == 36.0
    )
