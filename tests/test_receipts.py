"""mailflow.receipts: delivery reports (RFC 3464) and read receipts (RFC 8098).

Two sources of reports:

* the real corpus in ../shared/corpus/real/{dsn,mdn,malformed} (skipped when
  absent). The expected facts are read from MANIFEST.tsv's
  ``expected_facts`` column AT TEST TIME by ``manifest_facts`` below (a small
  parser of its "action=…; status=…; final-recipient=…; … || returned
  Message-ID=…" notation), so a corrected MANIFEST is tested as it stands.
  A file with no MANIFEST row must still parse as its folder's kind.
* reports made by tests/reportgen.py (Postfix DSNs, global DSNs, Thunderbird
  MDNs, Outlook/Exchange read receipts without Original-Message-ID, plain-text
  bounces of qmail, Exim, Mail.ru, old Gmail, GMX, Postfix, Exchange and a
  Russian system), garbage and ordinary mail (which must give None).

At the end of the module the number of reports parsed of each kind, and how
many carried usable matching evidence, is printed.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import random
import re
from pathlib import Path

import pytest

from mailflow import receipts
from mailflow.receipts import _mime
from mailflow.receipts.detectors import exchange_text, postfix_text
from mailflow.receipts.model import DeliveryReport, ReadReceipt, Receipt
from tests import reportgen as G

REAL = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"
MANIFEST = REAL / "MANIFEST.tsv"
NEEDS_CORPUS = pytest.mark.skipif(not MANIFEST.is_file(), reason=f"no corpus at {REAL}")

STATS: collections.Counter = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    lines = ["", "receipts parsed in this run:"]
    for source in ("corpus", "generated"):
        for kind in ("dsn", "text-bounce", "mdn"):
            n = STATS[(source, kind)]
            if n:
                lines.append(
                    f"  {source:9} {kind:11} {n:3} parsed, "
                    f"{STATS[(source, kind, 'usable')]:3} with an envelope id or message id "
                    f"({STATS[(source, kind, 'returned')]} by message id), "
                    f"{STATS[(source, kind, 'thread')]:2} with only In-Reply-To/References, "
                    f"{STATS[(source, kind, 'none')]:2} with no identifier"
                )
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            for line in lines:
                reporter.write_line(line)
    else:
        print("\n".join(lines))


def parsed(raw: bytes, source: str = "generated") -> Receipt | None:
    """receipts.parse, counted for the summary."""
    receipt = receipts.parse(raw)
    if receipt is not None:
        kind = receipt.kind
        if kind == "dsn" and receipt.report.detector != "rfc3464":
            kind = "text-bounce"
        STATS[(source, kind)] += 1
        ev = receipt.evidence
        if ev.envelope_id or ev.original_message_ids:
            STATS[(source, kind, "usable")] += 1
        elif ev.in_reply_to or ev.references:
            STATS[(source, kind, "thread")] += 1
        else:
            STATS[(source, kind, "none")] += 1
        if receipt.evidence.original_message_ids:
            STATS[(source, kind, "returned")] += 1
    return receipt


# -- MANIFEST -------------------------------------------------------------------

ADDR = r"([^\s;|(),'<>]+@[^\s;|(),'<>]*[^\s;|(),'<>.])"


def manifest_rows() -> dict[str, dict[str, str]]:
    if not MANIFEST.is_file():
        return {}
    with MANIFEST.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return {r["local_file"]: r for r in rows if r.get("local_file")}


def manifest_facts(facts: str) -> dict:
    """What a MANIFEST ``expected_facts`` cell asserts, as a dict.

    recipients: list of {action, status, final, original, remote_mta, diagnostic,
    permanent, no_status, no_final, no_action} (keys only when stated);
    message_id: '<…>' or 'none' (the returned/enclosed original's);
    distractor: a Message-ID that must NOT be taken; in_reply_to: bool;
    mdn: {mode, sending, disposition, original_message_id, final, original, reporting_ua};
    text_bounce: bool ('NO message/delivery-status'); detector hint.
    """
    out: dict = {"recipients": []}
    sections = [s.strip() for s in facts.split("||")]
    head = sections[0]
    m = re.search(r"disposition=([\w-]+)/([\w-]+);\s*(\w+)", facts)
    if m:
        mdn = {"mode": m.group(1), "sending": m.group(2), "disposition": m.group(3)}
        for key, pattern in (
            ("original_message_id", r"original-message-id=(<[^>]+>)"),
            ("final", r"final-recipient=\s*rfc822;\s*" + ADDR),
            ("original", r"original-recipient=\s*rfc822;\s*" + ADDR),
            ("reporting_ua", r"reporting-ua=([^|]+?)\s*(?:\|\||$)"),
        ):
            found = re.search(pattern, facts, re.I)
            if found:
                mdn[key] = found.group(1).strip()
        out["mdn"] = mdn
    else:
        if head.upper().startswith("NO MESSAGE/DELIVERY-STATUS"):
            out["text_bounce"] = True
            hint = head.lower()
            out["detector"] = (
                "qmail"
                if "qmail" in hint
                else "exim"
                if "exim" in hint
                else "gmail_text"
                if "gmail" in hint
                else "gmx"
                if "gmx" in hint
                else None
            )
            head = sections[1] if len(sections) > 1 else ""
        for chunk in re.split(r"\s\|\s", head):
            r: dict = {}
            for key, pattern in (
                ("action", r"\baction\s*[=: ]\s*([A-Za-z]+)"),
                ("status", r"\bstatus\s*[=:]\s*([245]\.\d{1,3}\.\d{1,3})"),
                ("final", r"final-recipient\s*[=: ]\s*(?:rfc822;)?\s*" + ADDR),
                ("original", r"original-recipient\s*[=: ]\s*(?:rfc822;)?\s*" + ADDR),
                ("final", r"(?<![-\w])recipient=" + ADDR),
                ("remote_mta", r"remote-mta=([A-Za-z0-9.-]+)"),
                ("diagnostic", r"diagnostic '([^']+)'"),
            ):
                found = re.search(pattern, chunk, re.I)
                if found and key not in r:
                    r[key] = found.group(1).lower() if key == "action" else found.group(1)
            if out.get("text_bounce") and "status" not in r:
                code = _mime.find_status(chunk)
                if code:
                    r["status"] = code
            if re.search(r"\bpermanent\b", chunk, re.I):
                r["permanent"] = True
            r["no_status"] = bool(re.search(r"NO mandatory Status|NO Status", chunk))
            r["no_final"] = bool(re.search(r"NO Final-Recipient", chunk))
            r["no_action"] = bool(re.search(r"NO Action", chunk))
            if {"action", "status", "final", "original"} & r.keys():
                out["recipients"].append(r)
        if not out["recipients"]:  # prose: "'Delivery failed 10 attempts: info@example.net'"
            found = re.search(r"'[^']*\bfailed\b[^']*?" + ADDR + r"'", head, re.I)
            if found:
                out["recipients"].append({"final": found.group(1)})
    m = re.search(r"(?<!original-)message-id=(<[^>]+>|none)", facts, re.I)
    if m:
        out["message_id"] = m.group(1)
    elif re.search(r"\bno message-id\b", facts, re.I):
        out["message_id"] = "none"
    elif "mdn" in out and re.search(r"\(== Message-Id of enclosed", facts, re.I):
        out["message_id"] = out["mdn"]["original_message_id"]
    m = re.search(r"DISTRACTOR[^<]*(<[^>]+>)", facts)
    if m:
        out["distractor"] = m.group(1)
    out["in_reply_to"] = bool(re.search(r"In-Reply-To/References", facts))
    m = re.search(r"Subject decodes to '([^']+)'", facts)
    if m:
        out["subject"] = m.group(1)
    return out


def corpus_cases() -> list[tuple[str, str | None]]:
    """(local_file, expected kind) for every file in dsn/ and mdn/ and the DSN-like malformed ones."""
    if not MANIFEST.is_file():
        return []
    rows = manifest_rows()
    cases = []
    for folder, kind in (("dsn", "dsn"), ("mdn", "mdn")):
        for path in sorted((REAL / folder).glob("*")):
            if path.is_file():
                cases.append((f"{folder}/{path.name}", kind))
    for local, row in sorted(rows.items()):
        if row["category"] == "malformed":
            note = row.get("notes", "")
            dsn_like = note.startswith("DSN") or "bounce" in note.lower()
            cases.append((local, "dsn" if dsn_like else None))
    return cases


def test_manifest_parser_reads_the_notation():
    facts = manifest_facts(
        "action=failed; status=5.1.1; final-recipient=rfc822;sabineko@example.co.jp | action=failed; "
        "status=5.2.2; final-recipient=rfc822;mikeneko@example.co.jp || returned "
        "Message-ID=<BLU436@phx.gbl>"
    )
    assert [(r["action"], r["status"], r["final"]) for r in facts["recipients"]] == [
        ("failed", "5.1.1", "sabineko@example.co.jp"),
        ("failed", "5.2.2", "mikeneko@example.co.jp"),
    ]
    assert facts["message_id"] == "<BLU436@phx.gbl>"
    facts = manifest_facts(
        "NO message/delivery-status (Exim plain-text bounce) || recipient=k@example.ed.jp; "
        "permanent; 550 5.7.0 after MAIL FROM || returned Message-Id=<E1@e1.example.org> "
        "(DISTRACTOR: a second 'Message-Id: <hoge@example.jp>' appears later)"
    )
    assert facts["detector"] == "exim" and facts["distractor"] == "<hoge@example.jp>"
    assert facts["recipients"] == [
        {
            "final": "k@example.ed.jp",
            "status": "5.7.0",
            "permanent": True,
            "no_status": False,
            "no_final": False,
            "no_action": False,
        }
    ]


@NEEDS_CORPUS
@pytest.mark.parametrize("local,kind", corpus_cases(), ids=lambda v: str(v))
def test_real_corpus(local, kind):
    path = REAL / local
    if not path.is_file():
        pytest.skip(f"{local} is listed in MANIFEST.tsv but not present")
    raw = path.read_bytes()
    receipt = parsed(raw, "corpus")
    if kind is None:
        assert receipt is None, f"{local} is not a report, yet parsed as {receipt}"
        return
    assert receipt is not None, f"{local}: no report found"
    assert receipt.kind == kind
    row = manifest_rows().get(local)
    if row is None:
        return  # not described in MANIFEST: the kind is all we know
    facts = manifest_facts(row["expected_facts"])
    ev = receipt.evidence

    if kind == "mdn":
        mdn = facts["mdn"]
        report = receipt.report
        assert isinstance(report, ReadReceipt)
        assert (report.mode, report.sending, report.disposition) == (
            mdn["mode"],
            mdn["sending"],
            mdn["disposition"],
        )
        assert report.original_message_id == mdn["original_message_id"]
        assert ev.original_message_ids[0] == mdn["original_message_id"]
        assert report.final_recipient == mdn["final"]
        if "original" in mdn:
            assert report.original_recipient == mdn["original"]
        assert report.reporting_ua == mdn["reporting_ua"]
    else:
        report = receipt.report
        assert isinstance(report, DeliveryReport)
        if facts.get("text_bounce"):
            assert report.detector != "rfc3464"
            if facts.get("detector"):
                assert report.detector == facts["detector"]
        expected = facts["recipients"]
        if expected:
            assert len(report.recipients) == len(expected), report.recipients
        for got, want in zip(report.recipients, expected):
            if "action" in want:
                assert got.action == want["action"]
            elif facts.get("text_bounce"):
                assert got.action == "failed"
            if want.get("no_action"):
                assert got.action is None
            if "status" in want:
                assert got.status == want["status"]
            if want.get("no_status"):
                assert got.status is None
            if "final" in want:
                assert got.final_recipient == want["final"]
            if want.get("no_final"):
                assert got.final_recipient is None
            if "original" in want:
                assert got.original_recipient == want["original"]
            if "remote_mta" in want:
                assert got.remote_mta == want["remote_mta"]
            if "diagnostic" in want:
                assert got.diagnostic.startswith(want["diagnostic"])
            if want.get("permanent"):
                assert got.permanent is True
            if got.action == "relayed":
                assert not got.delivered  # relayed is not delivery

    if "message_id" in facts:
        if facts["message_id"] == "none":
            extra = (receipt.report.original_message_id,) if kind == "mdn" else ()
            assert ev.original_message_ids == extra
        else:
            assert facts["message_id"] in ev.original_message_ids
            assert ev.original_message_ids[-1] == facts["message_id"]
    if "distractor" in facts:
        assert facts["distractor"] not in ev.original_message_ids
    if facts.get("in_reply_to"):
        assert ev.in_reply_to == facts["message_id"]
        assert facts["message_id"] in ev.references
    if "subject" in facts:
        assert _mime.header(_mime.parse_bytes(raw), "Subject") == facts["subject"]


@NEEDS_CORPUS
def test_every_corpus_report_file_has_manifest_facts():
    """Not required for parsing, but a file without a MANIFEST row is only kind-checked."""
    rows = manifest_rows()
    missing = [local for local, kind in corpus_cases() if kind and local not in rows]
    if missing:
        pytest.skip(f"no MANIFEST facts for {missing}: only their kind is checked")


@NEEDS_CORPUS
@pytest.mark.parametrize(
    "local,detector,status",
    [
        ("dsn/sisimai__lhost-exchange2007-01.eml", exchange_text, "5.1.1"),
        ("dsn/sisimai__lhost-office365-06.eml", exchange_text, "5.4.312"),
        ("dsn/flanker__office365.eml", exchange_text, "5.1.10"),
        ("dsn/sisimai__lhost-yandex-01.eml", postfix_text, "5.1.1"),
    ],
)
def test_text_detectors_read_the_human_part_of_real_reports(local, detector, status):
    """The text detectors, run on real reports' human-readable parts, agree with their DSN part."""
    path = REAL / local
    if not path.is_file():
        pytest.skip(f"{local} not present")
    msg = _mime.parse_bytes(path.read_bytes())
    from_text = detector.detect(msg)
    from_dsn = receipts.parse(path.read_bytes()).report
    assert from_text is not None
    assert [r.final_recipient for r in from_text.recipients] == [
        r.final_recipient for r in from_dsn.recipients
    ]
    assert from_text.recipients[0].status == status == from_dsn.recipients[0].status
    assert from_text.recipients[0].permanent is True


@NEEDS_CORPUS
def test_postfix_text_reads_a_real_relayed_notice_as_relayed():
    path = REAL / "dsn/deltachat__dsn_relayed.eml"
    if not path.is_file():
        pytest.skip("dsn_relayed not present")
    report = postfix_text.detect(_mime.parse_bytes(path.read_bytes()))
    assert [(r.final_recipient, r.action, r.remote_mta) for r in report.recipients] == [
        ("anon_2@gmx.at", "relayed", "mx00.emig.gmx.net")
    ]


@NEEDS_CORPUS
def test_no_cyrillic_letter_is_taken_for_a_report():
    for path in sorted((REAL / "cyrillic").glob("*.eml")):
        assert receipts.parse(path.read_bytes()) is None, path.name


# -- generated: RFC 3464 --------------------------------------------------------

ORIG = G.ORIGINAL


def test_postfix_success_delivered():
    receipt = parsed(
        G.postfix_dsn(
            [G.Rcpt(action="delivered", status="2.0.0", diagnostic="smtp; 250 2.0.0 Ok: queued as 4F2B6")]
        )
    )
    (r,) = receipt.report.recipients
    assert receipt.kind == "dsn" and receipt.report.detector == "rfc3464"
    assert (r.action, r.status, r.permanent, r.delivered, r.failed) == (
        "delivered",
        "2.0.0",
        None,
        True,
        False,
    )
    assert receipt.report.envelope_id == receipt.evidence.envelope_id == "RES-000123-1"
    assert receipt.report.reporting_mta == "mx.sevkaz.example"
    assert receipt.report.arrival_date == ORIG.date
    assert receipt.evidence.original_message_ids == (ORIG.message_id,)
    assert receipt.evidence.original_subject == ORIG.subject  # RFC 2047 decoded
    assert receipt.evidence.original_to == (ORIG.to,)
    assert receipt.evidence.usable


def test_postfix_success_relayed_is_not_delivery():
    receipt = parsed(
        G.postfix_dsn(
            [G.Rcpt(action="relayed", status="2.0.0", diagnostic="smtp; 250 Requested mail action okay")]
        )
    )
    (r,) = receipt.report.recipients
    assert r.action == "relayed" and r.status == "2.0.0"
    assert not r.delivered and not r.failed and r.permanent is None


def test_postfix_delayed():
    receipt = parsed(
        G.postfix_dsn(
            [
                G.Rcpt(
                    action="delayed",
                    status="4.4.1",
                    diagnostic="X-Postfix; connect to mx: Connection timed out",
                )
            ]
        )
    )
    (r,) = receipt.report.recipients
    assert (r.action, r.status, r.permanent, r.failed) == ("delayed", "4.4.1", False, False)


def test_postfix_multi_recipient_in_order():
    rcpts = [
        G.Rcpt(final="a@res-north.example", action="delivered", status="2.0.0", diagnostic="smtp; 250 ok"),
        G.Rcpt(
            final="b@res-south.example",
            action="failed",
            status="5.2.2",
            diagnostic="smtp; 552 5.2.2 Mailbox full",
            original="b.alias@res-south.example",
        ),
        G.Rcpt(
            final="c@res-east.example", action="delayed", status="4.4.7", diagnostic=None, remote_mta=None
        ),
        G.Rcpt(final="d@list.example", action="expanded", status="2.0.0", diagnostic=None),
    ]
    report = parsed(G.postfix_dsn(rcpts, returned="message")).report
    assert [(r.final_recipient, r.action, r.status, r.permanent) for r in report.recipients] == [
        ("a@res-north.example", "delivered", "2.0.0", None),
        ("b@res-south.example", "failed", "5.2.2", True),
        ("c@res-east.example", "delayed", "4.4.7", False),
        ("d@list.example", "expanded", "2.0.0", None),
    ]
    assert report.recipients[1].original_recipient == "b.alias@res-south.example"
    assert report.recipients[2].remote_mta is None and report.recipients[2].diagnostic is None


@pytest.mark.parametrize(
    "layout",
    [
        "no-blank-lines",
        "many-blank-lines",
        "no-blank-between-recipients",
        "crlf-and-tabs",
        "fields-in-odd-order",
    ],
)
def test_delivery_status_layouts(layout):
    pm = (
        "Reporting-MTA: dns; mx.sevkaz.example\nOriginal-Envelope-Id: ENV-42\nArrival-Date: "
        "Mon, 16 Mar 2026 10:15:00 +0500\n"
    )
    r1 = "Final-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 5.1.1\n"
    r2 = "Final-Recipient: rfc822; b@x.example\nAction: delayed\nStatus: 4.2.2 (mailbox full)\n"
    body = {
        "no-blank-lines": pm + r1 + "\n" + r2,
        "many-blank-lines": "\n\n" + pm + "\n\n\n" + r1 + "\n\n\n\n" + r2 + "\n\n",
        "no-blank-between-recipients": pm + "\n" + r1 + r2,
        "crlf-and-tabs": (pm + "\n" + r1 + "Diagnostic-Code: smtp; 550 5.1.1\n\tuser unknown\n\n" + r2),
        "fields-in-odd-order": pm
        + "\nStatus: 5.1.1\nAction: failed\nFinal-Recipient: rfc822; a@x.example\n\n"
        "Action: delayed\nFinal-Recipient: rfc822; b@x.example\nStatus: 4.2.2\n",
    }[layout]
    report = parsed(G.postfix_dsn(dsn_body=body, crlf=layout == "crlf-and-tabs", kind="failed")).report
    assert [(r.final_recipient, r.action, r.status) for r in report.recipients] == [
        ("a@x.example", "failed", "5.1.1"),
        ("b@x.example", "delayed", "4.2.2"),
    ]
    assert report.envelope_id == "ENV-42"
    if layout == "crlf-and-tabs":
        assert report.recipients[0].diagnostic == "smtp; 550 5.1.1 user unknown"


def test_missing_status_and_final_recipient():
    body = (
        "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; a@x.example\nAction: failed\n"
        "Diagnostic-Code: smtp; 550 5.7.1 relaying denied\n\n"
        "Final-Recipient: rfc822; b@x.example\nAction: failed\nDiagnostic-Code: X-LOCAL; 500 no such user\n\n"
        "Original-Recipient: rfc822; c@x.example\nStatus: 4.0.0\n"
    )
    rs = parsed(G.postfix_dsn(dsn_body=body, kind="failed")).report.recipients
    assert [(r.final_recipient, r.original_recipient, r.action, r.status, r.permanent) for r in rs] == [
        ("a@x.example", None, "failed", "5.7.1", True),  # the code in the diagnostic
        ("b@x.example", None, "failed", None, True),  # no code anywhere: unknown
        (None, "c@x.example", None, "4.0.0", False),
    ]


@pytest.mark.parametrize(
    "variant", ["base64", "quoted-printable-8bit", "unclosed", "preamble", "crlf", "report-type-quoted"]
)
def test_mime_variants(variant):
    kwargs = {
        "base64": dict(dsn_cte="base64"),
        "quoted-printable-8bit": dict(dsn_cte="8bit"),
        "unclosed": dict(close=False, returned="message"),
        "preamble": dict(
            preamble="This is a MIME-encapsulated message.\n\nFinal-Recipient: rfc822; "
            "decoy@preamble.example\nAction: delivered\n"
        ),
        "crlf": dict(crlf=True),
        "report-type-quoted": dict(report_type='"delivery-status"'),
    }[variant]
    receipt = parsed(G.postfix_dsn(**kwargs))
    (r,) = receipt.report.recipients
    assert (r.final_recipient, r.action, r.status) == ("ivanov@res-north.example", "failed", "5.1.1")
    assert receipt.evidence.original_message_ids == (ORIG.message_id,)


@pytest.mark.parametrize("returned", ["headers", "message", "global", "empty", "none"])
def test_returned_original_forms(returned):
    ev = parsed(G.postfix_dsn(returned=returned)).evidence
    if returned in ("empty", "none"):
        assert ev.original_message_ids == () and ev.original_subject is None
    else:
        assert ev.original_message_ids == (ORIG.message_id,)
        assert ev.original_subject == ORIG.subject and ev.original_from == ORIG.from_
        assert ev.original_date == ORIG.date
    assert ev.envelope_id == "RES-000123-1"  # the ENVID is evidence even when nothing came back


def test_mislabelled_delivery_status_part_in_a_delivery_status_report():
    raw = G.postfix_dsn().replace(b"Content-Type: message/delivery-status", b"Content-Type: text/plain")
    (r,) = parsed(raw).report.recipients
    assert (r.final_recipient, r.action) == ("ivanov@res-north.example", "failed")


def test_global_dsn_utf8_addresses():
    receipt = parsed(G.global_dsn())
    (r,) = receipt.report.recipients
    assert r.final_recipient == "иванов@сев-рэс.example"
    assert r.original_recipient == "иванов@сев-рэс.example"  # unitext \x{…} decoded
    assert receipt.report.envelope_id == "RES-000777-1"
    assert receipt.evidence.original_message_ids == (ORIG.message_id,)
    assert receipt.evidence.original_subject == ORIG.subject


def test_in_reply_to_of_the_report_itself():
    ev = parsed(G.postfix_dsn(returned="none", envid=None, in_reply_to=ORIG.message_id)).evidence
    assert ev.in_reply_to == ORIG.message_id and ev.original_message_ids == ()
    assert ev.usable


# -- generated: RFC 8098 and Outlook --------------------------------------------


def test_mdn_displayed_manual():
    receipt = parsed(G.mdn())
    rr = receipt.report
    assert receipt.kind == "mdn" and isinstance(rr, ReadReceipt)
    assert (rr.disposition, rr.mode, rr.sending) == ("displayed", "manual-action", "MDN-sent-manually")
    assert rr.original_message_id == ORIG.message_id
    assert rr.final_recipient == rr.original_recipient == "ivanov@res-north.example"
    assert rr.reporting_ua == "mail.res-north.example; Thunderbird 128.5.0"
    assert receipt.evidence.original_message_ids == (ORIG.message_id,)
    assert receipt.evidence.original_subject == ORIG.subject


@pytest.mark.parametrize(
    "disposition,expected",
    [
        (
            "automatic-action/MDN-sent-automatically; processed",
            ("processed", "automatic-action", "MDN-sent-automatically", ()),
        ),
        (
            "manual-action/MDN-sent-automatically; deleted",
            ("deleted", "manual-action", "MDN-sent-automatically", ()),
        ),
        (
            "automatic-action/MDN-sent-automatically; dispatched",
            ("dispatched", "automatic-action", "MDN-sent-automatically", ()),
        ),
        (
            "Manual-Action/mdn-sent-manually;Displayed/error",
            ("displayed", "manual-action", "MDN-sent-manually", ("error",)),
        ),
        (
            "  automatic-action / MDN-sent-automatically ;  displayed (comment) ",
            ("displayed", "automatic-action", "MDN-sent-automatically", ()),
        ),
    ],
)
def test_mdn_dispositions(disposition, expected):
    rr = parsed(G.mdn(disposition=disposition, enclose="none")).report
    assert (rr.disposition, rr.mode, rr.sending, rr.modifiers) == expected


def test_mdn_without_disposition_is_not_a_receipt():
    raw = G.mdn(enclose="none").replace(b"Disposition: manual-action/MDN-sent-manually; displayed\n", b"")
    assert receipts.parse(raw) is None


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_exchange_receipt_without_original_message_id(lang):
    raw = G.outlook_receipt(lang=lang, in_reply_to=lang == "ru", references=lang == "en")
    receipt = parsed(raw)
    rr, ev = receipt.report, receipt.evidence
    assert receipt.kind == "mdn" and rr.detector == "rfc8098"
    assert (rr.disposition, rr.mode, rr.sending) == ("displayed", "manual-action", "MDN-sent-manually")
    assert rr.original_message_id is None and ev.original_message_ids == ()
    assert rr.final_recipient == "ivanov@res-north.example"
    if lang == "ru":
        assert ev.in_reply_to == ORIG.message_id and ev.references == ()
    else:
        assert ev.in_reply_to is None and ev.references == (ORIG.message_id,)
    # the remaining evidence: subject + addressee + date of the original
    assert ev.original_subject == ORIG.subject
    assert ev.original_to == ("Иванов Иван Иванович",)
    assert ev.original_date == ORIG.date
    assert ev.report_from == "ivanov@res-north.example"


def test_exchange_receipt_with_nothing_but_subject_and_text():
    raw = G.outlook_receipt(lang="ru", in_reply_to=False, references=False)
    raw = re.sub(rb"Thread-Topic:[^\n]*\n", b"", raw)
    ev = parsed(raw).evidence
    assert not ev.usable  # no identifier: the matcher must use subject + recipient + date
    assert (ev.original_subject, ev.original_date) == (ORIG.subject, ORIG.date)


def test_subject_prefix_is_the_last_resort_for_the_original_subject():
    raw = G.outlook_receipt(lang="en", in_reply_to=False)
    raw = re.sub(rb"Thread-Topic:[^\n]*\n", b"", raw)
    raw = raw.replace(b"Subject: ", b"Topic: ")  # the text part no longer says it
    assert parsed(raw).evidence.original_subject == ORIG.subject  # from 'Read: …'


@pytest.mark.parametrize("lang,deleted", [("ru", False), ("en", False), ("ru", True), ("en", True)])
def test_outlook_plain_text_receipt(lang, deleted):
    receipt = parsed(G.outlook_receipt(lang=lang, mdn_part=False, deleted=deleted))
    rr = receipt.report
    assert receipt.kind == "mdn" and rr.detector == "outlook_text"
    assert rr.disposition == ("deleted" if deleted else "displayed")
    assert rr.mode is None and rr.sending is None  # not said, not guessed
    assert rr.final_recipient == "ivanov@res-north.example"
    assert receipt.evidence.in_reply_to == ORIG.message_id
    assert receipt.evidence.original_date == ORIG.date


def test_automatic_deleted_exchange_receipt():
    rr = parsed(G.outlook_receipt(lang="en", deleted=True, automatic=True)).report
    assert (rr.disposition, rr.mode, rr.sending) == ("deleted", "automatic-action", "MDN-sent-automatically")


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "Monday, March 16, 2026 10:15:00 AM (UTC+05:00) Astana",
            dt.datetime(2026, 3, 16, 10, 15, tzinfo=G.KZ),
        ),
        ("16 марта 2026 г. 22:15:07 (UTC+05:00) Астана", dt.datetime(2026, 3, 16, 22, 15, 7, tzinfo=G.KZ)),
        ("понедельник, 4 мая 2026 г. 9:05", dt.datetime(2026, 5, 4, 9, 5)),
        ("16.03.2026 10:15", dt.datetime(2026, 3, 16, 10, 15)),
        ("3/16/2026 12:15 PM", dt.datetime(2026, 3, 16, 12, 15)),
        ("Mon, 16 Mar 2026 10:15:00 +0500", dt.datetime(2026, 3, 16, 10, 15, tzinfo=G.KZ)),
        ("when the moon is blue", None),
    ],
)
def test_outlook_dates(text, expected):
    from mailflow.receipts.evidence import parse_loose_date

    assert parse_loose_date(text) == expected


# -- generated: plain-text bounces ----------------------------------------------

RCPT = "ivanov@res-north.example"


@pytest.mark.parametrize(
    "name,raw,detector,action,status",
    [
        ("qmail", G.qmail_bounce(), "qmail", "failed", "5.1.1"),
        ("exim", G.exim_bounce(), "exim", "failed", "5.1.1"),
        ("exim-headers-only", G.exim_bounce(headers_only=True), "exim", "failed", "5.1.1"),
        ("exim-delayed", G.exim_bounce(delayed=True), "exim", "delayed", "4.7.1"),
        ("mailru", G.exim_bounce(mailru=True), "exim", "failed", "5.1.1"),
        ("gmail-text", G.gmail_text_bounce(), "gmail_text", "failed", "5.1.1"),
        ("gmail-text-delayed", G.gmail_text_bounce(delayed=True), "gmail_text", "delayed", None),
        ("gmx", G.gmx_bounce(), "gmx", "failed", "5.1.1"),
        ("postfix-text", G.postfix_text_bounce(), "postfix_text", "failed", "5.1.1"),
        ("postfix-text-delayed", G.postfix_text_bounce(kind="delayed"), "postfix_text", "delayed", None),
        ("postfix-text-success", G.postfix_text_bounce(kind="success"), "postfix_text", "delivered", None),
        ("exchange-text-en", G.exchange_text_bounce(lang="en"), "exchange_text", "failed", "5.1.1"),
        ("exchange-text-ru", G.exchange_text_bounce(lang="ru"), "exchange_text", "failed", "5.1.1"),
        ("russian-koi8r", G.russian_bounce(), "generic_text", "failed", "5.2.1"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else "",
)
def test_text_bounces(name, raw, detector, action, status):
    receipt = parsed(raw)
    assert receipt is not None and receipt.kind == "dsn"
    report = receipt.report
    assert report.detector == detector
    (r,) = report.recipients
    assert (r.final_recipient, r.action, r.status) == (RCPT, action, status)
    assert r.permanent is {"failed": True, "delayed": False}.get(action)
    ev = receipt.evidence
    if name.startswith("postfix-text"):
        assert ev.original_message_ids == ()  # Postfix's text does not quote the original
    else:
        assert ev.original_message_ids == (ORIG.message_id,)
        assert ev.original_subject == ORIG.subject


def test_exim_transcript_message_id_is_not_the_originals():
    ev = parsed(G.exim_bounce(transcript_message_id="<distractor.123@attacker.example>")).evidence
    assert ev.original_message_ids == (ORIG.message_id,)


def test_mailru_subject_with_encoded_word_before_a_dot():
    msg = _mime.parse_bytes(G.exim_bounce(mailru=True))
    assert _mime.header(msg, "Subject") == "Ваше сообщение не доставлено. Mail failure."


def test_a_forwarded_bounce_is_not_a_bounce():
    raw = G.exim_bounce().replace(
        b"Return-path: <>\nX-Failed-Recipients: ivanov@res-north.example\n"
        b"Auto-Submitted: auto-replied\nFrom: Mail Delivery System "
        b"<Mailer-Daemon@mx.sevkaz.example>",
        b"From: Petrov <petrov@sevkaz.example>",
    )
    raw = raw.replace(b"Subject: Mail delivery", b"Subject: Fwd: Mail delivery")
    assert receipts.parse(raw) is None


# -- garbage and ordinary mail --------------------------------------------------

ORDINARY = [
    b"",
    b"\x00\xff" * 500,
    b"not an email at all",
    b"From: a@b\n\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n"
    b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n--x--\n",
    b"Content-Type: multipart/report; report-type=disposition-notification; boundary=x\n\n--x\n"
    b"Content-Type: message/disposition-notification\nContent-Transfer-Encoding: base64\n\n!!!!\n--x--\n",
    b"Subject: " + b"=?utf-8?B?" + b"A" * 5000 + b"?=\n\n" + b"x" * 100_000,
    (
        "From: Иванов <ivanov@res-north.example>\nTo: kanc@sevkaz.example\nSubject: Жалоба на отключение\n"
        "Content-Type: text/plain; charset=utf-8\n\nПрошу разобраться. Письмо не доставлено соседу, "
        "action: failed, Status: 5.1.1\n"
    ).encode(),
    (
        "From: ivanov@res-north.example\nSubject: Re: [ВХ-2026-000123] Резолюция\nIn-Reply-To: <a@b>\n"
        "Content-Type: text/plain; charset=utf-8\n\nПринято к исполнению.\n"
    ).encode(),
    (
        "From: ivanov@res-north.example\nSubject: Автоответ: Резолюция\nAuto-Submitted: auto-replied\n"
        "Content-Type: text/plain; charset=utf-8\n\nЯ в отпуске до 20 марта.\n"
    ).encode(),
]


ORDINARY += [
    # a web form's notice: Auto-Submitted, a consumer's words about something "not delivered"
    (
        "From: Сайт <noreply@sevkaz.example>\nTo: kanc@sevkaz.example\nAuto-Submitted: auto-generated\n"
        "Subject: Обратная связь: квитанция не доставлена\nContent-Type: text/plain; charset=utf-8\n\n"
        "ФИО: Петров П.П.\nE-mail: petrov@example.kz\nТекст: квитанция за март не доставлена.\n"
    ).encode(),
    # a person's reply that says their message was read
    (
        "From: ivanov@res-north.example\nSubject: Re: Резолюция\nContent-Type: text/plain; charset=utf-8\n\n"
        "Ваше сообщение было прочитано, приступаю.\n"
    ).encode(),
    (
        b"From: ivanov@res-north.example\nSubject: Read: the report\nContent-Type: text/plain\n\n"
        b"I have read the report, thanks. It was read on Monday by the whole team.\n"
    ),
]


@pytest.mark.parametrize("raw", ORDINARY, ids=range(len(ORDINARY)))
def test_garbage_and_ordinary_mail_give_none(raw):
    assert receipts.parse(raw) is None


def test_a_detector_that_raises_yields_none_and_the_next_one_answers(monkeypatch):
    class Broken:
        NAME = "broken"
        __name__ = "broken"

        @staticmethod
        def detect(msg):
            raise RuntimeError("boom")

    monkeypatch.setattr(receipts, "DETECTORS", (Broken,) + tuple(receipts.DETECTORS))
    receipt = receipts.parse(G.postfix_dsn())
    assert receipt is not None and receipt.report.detector == "rfc3464"
    monkeypatch.setattr(receipts, "DETECTORS", (Broken,))
    assert receipts.parse(G.postfix_dsn()) is None


def _mutations(raw: bytes, rng: random.Random, n: int):
    for _ in range(n):
        choice = rng.randrange(4)
        data = bytearray(raw)
        if choice == 0 and data:
            del data[rng.randrange(len(data)) :]  # truncated
        elif choice == 1 and data:
            for _ in range(rng.randrange(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice == 2 and data:
            at = rng.randrange(len(data))
            data[at:at] = rng.choice([b"\n\n", b"\r", b"--", b"=?utf-8?q?", b"\x00", b":"]) * rng.randrange(
                1, 5
            )
        else:
            lines = bytes(data).split(b"\n")
            rng.shuffle(lines)
            data = bytearray(b"\n".join(lines))
        yield bytes(data)


def test_parse_never_raises_on_mangled_reports():
    rng = random.Random(20260316)
    sources = [build() for build in G.BUILDERS.values()]
    if MANIFEST.is_file():
        sources += [
            p.read_bytes()
            for folder in ("dsn", "mdn", "malformed")
            for p in sorted((REAL / folder).glob("*"))
            if p.is_file()
        ]
    for raw in sources:
        for mangled in _mutations(raw, rng, 15):
            result = receipts.parse(mangled)
            assert result is None or isinstance(result, Receipt)


def test_reportgen_builders_all_parse():
    for name, build in G.BUILDERS.items():
        assert receipts.parse(build()) is not None, name


HOSTILE = {
    "long token": b"Return-Path: <>\nFrom: MAILER-DAEMON@x.example\nSubject: Undelivered Mail\n\n"
    b"delivery failed " + b"a" * 300_000 + b"\n",
    "unclosed tags": b"Return-Path: <>\nFrom: MAILER-DAEMON@x.example\nSubject: Undelivered\n"
    b"Content-Type: text/html\n\n" + b"<script " * 40_000,
    "spaces in a header": b"Subject: " + b" " * 300_000 + b"x\nFrom: a@b\n\nhi\n",
    "folded diagnostic": b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n"
    b"Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\n"
    b"Action: failed\nDiagnostic-Code: smtp; 550\n" + b" more\n" * 100_000 + b"--x--\n",
    "dash lines": b"Return-Path: <>\nFrom: MAILER-DAEMON@x.example\nSubject: failure notice\n\n"
    + (b"-" * 5000 + b"\n") * 60,
    "at signs": b"Return-Path: <>\nFrom: MAILER-DAEMON@x.example\nSubject: Undelivered\n\n" + b"a@" * 150_000,
    "spaces under an Exchange heading": b"From: postmaster@x.example\nSubject: Undeliverable: x\n\n"
    b"Delivery has failed to these recipients or groups:\n" + b" " * 300_000 + b"x\n",
    "long receipt lines": b"From: a@x.example\nSubject: Read: x\nContent-Type: text/plain\n\nYour message\n"
    b"  Sent: "
    + b"a" * 3000
    + b" " * 3000
    + b"1\n  To: "
    + b" x" * 100_000
    + b"\nwas read on "
    + b"Monday" * 50_000
    + b"\n",
    "deep nesting": b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(2000)
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_is_read_in_linear_time(name):
    """No regular expression backtracks quadratically on a long line (a guard, not a benchmark:
    the bound is 30x what it takes)."""
    import time

    start = time.perf_counter()
    result = receipts.parse(HOSTILE[name])
    assert result is None or isinstance(result, Receipt)
    assert time.perf_counter() - start < 15
