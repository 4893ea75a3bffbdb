"""Configuration and rules: the embedded default, and errors that name file and key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from mailflow import cli, config
from mailflow import rules as rules_mod
from mailflow.config import ConfigError
from tests.support import REPO


def _run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "mailflow", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_embedded_default_layout(tmp_path):
    cfg = config.load(home=tmp_path / "h", rules=REPO / "rules")
    assert cfg.database == f"sqlite:///{tmp_path / 'h' / 'journal.db'}"
    assert cfg.mailboxes[0].endpoint.scheme == "maildir"
    assert cfg.mailboxes[0].endpoint.path == str(tmp_path / "h" / "inbox")
    assert cfg.smtp.endpoint.path == str(tmp_path / "h" / "outbox")


def test_full_config_file(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAP_PW", "секрет")
    (tmp_path / "smtp.pw").write_text("s3cret\n")
    f = tmp_path / "mailflow.toml"
    f.write_text(
        """
home = "data"
database = "postgresql+psycopg://u@127.0.0.1/mf"
rules = "%s"
[[mailbox]]
name = "kanc"
url = "imaps://kanc%%40sevkaz.example@mail.example:10993/Входящие"
password_env = "IMAP_PW"
journal = "sbyt"
[[mailbox]]
name = "local"
url = "maildir:spool"
[smtp]
url = "smtp://relay.example:587"
password_file = "smtp.pw"
sender = "kanc@sevkaz.example"
"""
        % (REPO / "rules"),
        encoding="utf-8",
    )
    cfg = config.load(f)
    imap = cfg.mailboxes[0].endpoint
    assert (imap.scheme, imap.host, imap.port, imap.user, imap.path, imap.login_password()) == (
        "imaps",
        "mail.example",
        10993,
        "kanc@sevkaz.example",
        "Входящие",
        "секрет",
    )
    assert cfg.mailboxes[0].journal == "sbyt"
    assert cfg.mailboxes[1].endpoint.path == str(tmp_path / "spool")
    assert cfg.smtp.endpoint.login_password() == "s3cret" and cfg.smtp.endpoint.port == 587
    assert cfg.home == tmp_path / "data"
    assert not imap.allow_plaintext and not cfg.smtp.endpoint.allow_plaintext  # never by default


@pytest.mark.parametrize(
    "body,key",
    [
        ('database = "mysql://x"\n[[mailbox]]\nname="a"\nurl="maildir:/x"', "database"),
        ('[[mailbox]]\nname="a"\nurl="pop3://h/INBOX"', "mailbox[0].url"),
        ('[[mailbox]]\nname="a"\nurl="imap://h/INBOX"\npassword="x"', "mailbox[0].password"),
        # an unset password_env is named when a command logs in (see below), not at load
        ('[[mailbox]]\nurl="maildir:/x"', "mailbox[0].name"),
        ('colour = "blue"\n[[mailbox]]\nname="a"\nurl="maildir:/x"', "colour"),
        ('[[mailbox]]\nname="a"\nurl="maildir:/x"\n[smtp]\nurl="smtp://h"\nsender="nobody"', "smtp.sender"),
        ("this is not toml", "-"),
        # typos and wrong types are errors, not silently ignored or misread
        ('[[mailbox]]\nname="a"\nurl="maildir:/x"\npoll_intervall=5', "mailbox[0].poll_intervall"),
        ('[[mailbox]]\nname="a"\nurl="imap://h/INBOX"\npasword_env="X"', "mailbox[0].pasword_env"),
        ('[[mailbox]]\nname="a"\nurl="maildir:/x"\nidle="no"', "mailbox[0].idle"),
        ('[[mailbox]]\nname="a"\nurl="maildir:/x"\npoll_interval="30s"', "mailbox[0].poll_interval"),
        ('[[mailbox]]\nname="a"\nurl="maildir:/x"\njournal=1', "mailbox[0].journal"),
        (
            '[[mailbox]]\nname="a"\nurl="maildir:/x"\n[smtp]\nurl="smtp://h"\nsender="a@b.c"\ntimeout="30s"',
            "smtp.timeout",
        ),
        (
            '[[mailbox]]\nname="a"\nurl="maildir:/x"\n[smtp]\nurl="smtp://h"\nsender="a@b.c"\nstarttls="yes"',
            "smtp.starttls",
        ),
        (
            '[[mailbox]]\nname="a"\nurl="maildir:/x"\n[smtp]\nurl="smtp://h"\nsender="a@b.c"\nsendr="x"',
            "smtp.sendr",
        ),
        ('watchdog="off"\n[[mailbox]]\nname="a"\nurl="maildir:/x"', "watchdog"),
        ('[[mailbox]]\nname="a"\nurl="imap://h/INBOX"\nallow_plaintext="yes"', "mailbox[0].allow_plaintext"),
        ('[[mailbox]]\nname="a"\nurl="imap://h/INBOX"\nallow_plaintxt=true', "mailbox[0].allow_plaintxt"),
        (
            '[[mailbox]]\nname="a"\nurl="maildir:/x"\n[smtp]\nurl="smtp://h"\nsender="a@b.c"\nallow_plaintext=1',
            "smtp.allow_plaintext",
        ),
        # the file's model (config.ConfigFile): look-alike keys, wrong types, missing keys
        ('[[mailbox]]\nname="a"\nurl="maildir:/x"\n"\u0456dle"=false', "mailbox[0].\u0456dle"),
        ('ocr_workers="2"\n[[mailbox]]\nname="a"\nurl="maildir:/x"', "ocr_workers"),
        ('home=1\n[[mailbox]]\nname="a"\nurl="maildir:/x"', "home"),
        ('smtp=1\n[[mailbox]]\nname="a"\nurl="maildir:/x"', "smtp"),
        ('[[mailbox]]\nname="a"\nurl="maildir:/x"\n[smtp]\nurl="smtp://h"', "smtp.sender"),
        ('mailbox="inbox"', "mailbox"),
    ],
)
def test_config_errors_name_the_key(tmp_path, body, key):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(ConfigError) as e:
        config.load(f)
    assert e.value.key == key and e.value.file == str(f)


def test_cli_exits_2_and_names_file_and_key(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[[mailbox]]\nname="a"\nurl="ftp://h"')
    r = _run("--config", str(f), "rules", "check")
    assert r.returncode == 2
    assert str(f) in r.stderr and "mailbox[0].url" in r.stderr


@pytest.mark.parametrize(
    "file,old,new,key",
    [
        ("staff.toml", 'roles = ["director"]', 'roles = ["emperor"]', "roles"),
        ("staff.toml", 'email = "pr@sevkaz.example"', 'email = "director@sevkaz.example"', "email"),
        ("journals.toml", 'default = "dp"', 'default = "nope"', "default"),
        (
            "journals.toml",
            'number_format = "{prefix}-{year}-{seq:06d}"',
            'number_format = "{prefix}-{yaer}"',
            "number_format",
        ),
        ("intake.toml", 'res_chief = "res"', 'res_chief = "pigeon"', "channels.res_chief"),
        (
            "intake.toml",
            "max_pages_per_message = 20",
            "max_pages_per_message = -1",
            "limits.max_pages_per_message",
        ),
        ("templates/talon.txt.j2", "{{ number }}", "{{ number }", "line"),
        (
            "routing.toml",
            'service_center = ["отзыв", "предложение"]',
            'service_centre = ["отзыв"]',
            "monitoring.kinds_from.service_centre",
        ),
        (
            "routing.toml",
            'service_center = ["отзыв", "предложение"]',
            'service_center = ["отзывы"]',
            "monitoring.kinds_from.service_center",
        ),
        ("access.toml", "[role.pr_specialist]", "[role.pr_specalist]", "role.pr_specalist"),
        (
            "access.toml",
            'may = ["registers", "report"]',
            'may = ["registers", "delete"]',
            "role.pr_specialist.may",
        ),
        ("access.toml", 'see = "own"', 'see = "mine"', "role.unit_head.see"),
        ("access.toml", 'see = "own"', 'see = "own"\nsea = "all"', "role.unit_head.sea"),
        (
            "access.toml",
            '[role.executor]\nsee = "own"',
            '[role.executor]\nsee = "own"\nmay = ["report"]',
            "role.executor.may",
        ),
        (
            "access.toml",
            '[role.unit_head]\nsee = "own"',
            '[role.unit_head]\nsee = "own"\nmay = ["correct", "queues"]',
            "role.unit_head.may",
        ),
        ("access.toml", "link_minutes = 15", "link_minutes = 0", "sign_in.link_minutes"),
        ("access.toml", "session_hours = 8", 'session_hours = "8h"', "sign_in.session_hours"),
        ("access.toml", "days = 90 ", "days = 0 ", "api_tokens.days"),
        ("access.toml", "days = 90 ", "days = 731 ", "api_tokens.days"),
        ("access.toml", "days = 90 ", 'days = "90" ', "api_tokens.days"),
    ],
)
def test_rules_errors_name_file_and_key(tmp_path, file, old, new, key):
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    path = rules_dir / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        rules_mod.load(rules_dir)
    assert e.value.file == str(path) and key in e.value.key
    assert cli.main(["--home", str(tmp_path / "h"), "--rules", str(rules_dir), "rules", "check"]) == 2


def test_shipped_rules_are_valid(tmp_path):
    r = _run("--home", str(tmp_path / "h"), "rules", "check")
    assert r.returncode == 0, r.stderr
    assert "Правила в порядке" in r.stdout


@pytest.mark.parametrize(
    "url", ["imap://kanc:S3cr3t-pw@mail.example/INBOX", "imaps://kanc:S3cr3t-pw@mail.example:993/INBOX"]
)
def test_a_password_in_a_url_is_refused_and_never_printed(tmp_path, url):
    f = tmp_path / "bad.toml"
    f.write_text(f'[[mailbox]]\nname="a"\nurl="{url}"')
    with pytest.raises(ConfigError) as e:
        config.load(f)
    assert e.value.key == "mailbox[0].url" and "S3cr3t-pw" not in str(e.value) and "***" in str(e.value)
    r = _run("--config", str(f), "rules", "check")
    assert r.returncode == 2 and "S3cr3t-pw" not in r.stdout + r.stderr


def test_a_typo_suggests_the_key_meant(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[[mailbox]]\nname="a"\nurl="maildir:/x"\npoll_intervall=5')
    with pytest.raises(ConfigError) as e:
        config.load(f)
    assert "poll_interval" in e.value.message


def test_the_default_rules_ship_inside_the_package_and_rules_init_writes_them(tmp_path):
    """`pipx install` works outside the repository: the wheel carries rules/, the
    embedded default finds them, and `rules init` writes them out to edit."""
    import filecmp
    import zipfile

    shipped = {p.relative_to(REPO / "rules").as_posix() for p in (REPO / "rules").rglob("*") if p.is_file()}
    wheel_dir = tmp_path / "wheel"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "-q",
            "-w",
            str(wheel_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = wheel_dir.glob("mailflow-*.whl")
    with zipfile.ZipFile(wheel) as z:
        inside = {n.removeprefix("mailflow/default_rules/") for n in z.namelist() if "/default_rules/" in n}
    assert inside == shipped

    elsewhere = tmp_path / "elsewhere"  # no rules/ here
    elsewhere.mkdir()
    r = subprocess.run(
        [sys.executable, "-m", "mailflow", "--home", str(tmp_path / "home"), "rules", "check"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k not in ("MAILFLOW_RULES", "MAILFLOW_CONFIG")},
    )
    assert r.returncode == 0, r.stderr

    target = tmp_path / "my-rules"
    r = _run("rules", "init", str(target))
    assert r.returncode == 0, r.stderr
    cmp = filecmp.dircmp(REPO / "rules", target)
    assert not cmp.left_only and not cmp.right_only and not cmp.diff_files
    (target / "staff.toml").write_text("# mine\n")
    again = _run("rules", "init", str(target))
    assert again.returncode == 1 and "не пуст" in again.stderr
    assert (target / "staff.toml").read_text() == "# mine\n"  # nothing overwritten


@pytest.mark.integration  # the `mailflow` command as a process
@pytest.mark.parametrize("where", ["password_env", "password_file"])
def test_passwords_are_read_only_by_the_commands_that_log_in(tmp_path, where):
    """A read-only command works without the mail password; `run` refuses at start, naming it."""
    source = 'password_env = "MF_TEST_UNSET_PW"' if where == "password_env" else 'password_file = "gone.pw"'
    f = tmp_path / "mailflow.toml"
    f.write_text(
        f'home = "{tmp_path / "h"}"\nrules = "{REPO / "rules"}"\n'
        f'[[mailbox]]\nname="a"\nurl="imaps://kanc@mail.example/INBOX"\n{source}\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "MF_TEST_UNSET_PW"}
    cfg = config.load(f)  # nothing read yet
    with pytest.raises(ConfigError) as e:
        cfg.read_secrets()
    assert e.value.key == f"mailbox[0].{where}"
    checked = _run("--config", str(f), "rules", "check", env=env)
    assert checked.returncode == 0, checked.stderr
    run = _run("--config", str(f), "run", "--once", env=env)
    assert run.returncode == 2 and f"mailbox[0].{where}" in run.stderr, run.stderr
