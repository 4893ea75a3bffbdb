"""Who gets the talon: mailflow must not be made to write to third parties."""

from __future__ import annotations

import email
from email import policy

import pytest

from mailflow import daemon
from mailflow.talon import recipients
from mailflow.values import Consumer, ParsedMessage, Recognition
from tests.support import deliver, fake_recognizer, home_config, load_rules, text_appeal

OWN = frozenset({"kanc@sevkaz.example"})


def _msg(frm: str, reply_to: str | None = None) -> ParsedMessage:
    return ParsedMessage(
        message_id="<m@x>",
        subject="Жалоба",
        from_addr=frm,
        from_name="",
        reply_to=reply_to,
        to=(),
        date=None,
        in_reply_to=None,
        references=(),
        auto_submitted=None,
        precedence=None,
        content_type="text/plain",
        body_text="",
        attachments=(),
        defects=(),
    )


def _rec(email_addr: str | None) -> Recognition:
    return Recognition(
        kind="жалоба", group=1, consumer=Consumer(email=email_addr), origin_unit=None, needs_review=()
    )


@pytest.mark.parametrize(
    "reply_to, consumer",
    [
        ("victim@example.com", None),
        (None, "victim@example.com"),
        ("victim@example.com", "other@example.com"),
        ("Victim@Example.com", "kanc@sevkaz.example"),
    ],
)
def test_a_stranger_gets_the_talon_at_their_from_address_only(reply_to, consumer):
    assert recipients(_msg("person@mail.example", reply_to), None, _rec(consumer), OWN) == (
        "person@mail.example",
    )


def test_staff_forms_bring_the_consumers_address_and_the_website_its_reply_to():
    staff = load_rules().staff
    chief = staff.by_email("ayyrtau-res@sevkaz.example")
    got = recipients(_msg(chief.email, "x@example.com"), chief, _rec("consumer@example.kz"), OWN)
    assert got == ("ayyrtau-res@sevkaz.example", "consumer@example.kz")
    site = staff.by_email("noreply@sevkaz.example")
    assert recipients(_msg(site.email, "citizen@example.kz"), site, _rec(None), OWN) == (
        "citizen@example.kz",
    )


def test_a_stranger_gets_a_few_talons_a_day_and_their_subject_is_not_repeated(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()
    for i in range(rules.talon_daily_limit + 2):
        raw = text_appeal(
            frm="person@mail.example",
            subject=f"Жалоба <a href=http://evil.example>жми</a> {i}",
            body="Жалоба. E-mail: consumer@example.kz",
            headers={"Reply-To": "victim@example.com"},
        )
        deliver(cfg.home / "inbox", raw, f"m{i:02d}")
    outcomes = daemon.run_once(cfg, rules, recognize=fake_recognizer())
    assert [o.status for o in outcomes] == ["registered"] * (rules.talon_daily_limit + 2)
    msgs = [
        email.message_from_bytes(f.read_bytes(), policy=policy.default)
        for f in (cfg.home / "outbox" / "new").glob("*")
    ]
    talons = [m for m in msgs if m["X-Mailflow-Kind"] == "talon"]
    assert len(talons) == rules.talon_daily_limit
    assert {m["To"] for m in talons} == {"person@mail.example"}
    assert all("evil.example" not in m.get_body(("plain",)).get_content() for m in talons)


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("http://evil.example")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_csv_cells_that_look_like_formulas_stay_text(value):
    import csv
    import io

    from mailflow.export import to_csv

    rec = {
        "incoming_number": "ВХ-1",
        "consumer": {"last_name": value, "phone": "+77051234560"},
        "source": {"from": value, "subject": value},
        "needs_review": [],
    }
    [row] = list(csv.DictReader(io.StringIO(to_csv([rec]))))
    for col in ("last_name", "from", "subject"):
        assert row[col] == "'" + value and not row[col].startswith(("=", "+", "-", "@"))
    assert row["phone"] == "'+77051234560" and row["incoming_number"] == "ВХ-1"
