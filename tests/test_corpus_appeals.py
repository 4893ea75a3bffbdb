"""The sample inbound mail in ../shared/corpus/appeals, through the whole pipeline.

Every message must be registered; the journal export is compared, field by
field, with truth.jsonl and the accuracy printed. Skips when the corpus is
absent (a clone of this project alone has none).
"""

from __future__ import annotations

import json
import shutil

import pytest
from sqlmodel import Session

from mailflow import daemon, db, export
from mailflow.extract.evaluate import CONSUMER, FIELDS, expected, normalise
from tests.support import CORPUS, home_config, load_rules

APPEALS = CORPUS / "appeals"
pytestmark = pytest.mark.skipif(
    not (APPEALS / "truth.jsonl").exists(), reason="../shared/corpus/appeals is not here"
)


def _exported(rec: dict) -> dict:
    out = {k: rec.get(k) for k in ("kind", "group", "channel", "origin_unit", "book_entry_at")}
    out.update({f: rec["consumer"].get(f) for f in CONSUMER})
    return out


def test_all_appeals_registered_with_accurate_fields(tmp_path):
    cfg, rules = home_config(tmp_path), load_rules()
    inbox = cfg.home / "inbox" / "new"
    inbox.mkdir(parents=True)
    truths = {}
    for line in (APPEALS / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        truths[t["message_id"]] = t
        shutil.copy(APPEALS / t["file"], inbox / t["file"])
    outcomes = daemon.run_once(cfg, rules)
    assert [o.status for o in outcomes] == ["registered"] * len(truths)

    engine = db.make_engine(cfg.database)
    with Session(engine) as s:
        records = {r["source"]["message_id"]: r for r in export.records(s)}
    engine.dispose()
    assert set(records) == set(truths)
    right = {f: 0 for f in FIELDS}
    wrong_non_null = 0
    for mid, truth in truths.items():
        want, got = expected(truth), _exported(records[mid])
        for f in FIELDS:
            w, g = normalise(f, want[f]), normalise(f, got[f])
            right[f] += w == g
            wrong_non_null += g is not None and w != g
        assert len(records[mid]["attachments"]) == len(truth["attachments"])
    n = len(truths)
    print("\nper-field accuracy on appeals/ through the pipeline:")
    for f in FIELDS:
        print(f"  {f:16s} {right[f] / n:6.1%}")
    print(f"  wrong non-null: {wrong_non_null}/{n * len(FIELDS)}")
    # channel follows the sender's role (corpus README table); truth.jsonl labels
    # five messages otherwise, against its own table, so it is printed, not held.
    for f in FIELDS:
        if f != "channel":
            assert right[f] / n >= 0.9, f
