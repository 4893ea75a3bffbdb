"""Real delivery reports and read receipts, matched to the message they are about.

The reports in ../shared/corpus/real are about other people's mail; here each
is given the delivery it would belong to (the Message-ID that MANIFEST.tsv
says the report names, to the recipient it names), and the matcher must find
it. Reports that name no Message-ID must stay unmatched and go to the clerk.
"""

from __future__ import annotations

import csv
import datetime as dt
import re

import pytest
from sqlmodel import Session

from mailflow import db, proof, receipts
from mailflow.models import Delivery
from tests.support import CORPUS

REAL = CORPUS / "real"
pytestmark = pytest.mark.skipif(
    not (REAL / "MANIFEST.tsv").exists(), reason="../shared/corpus/real is not here"
)
_ID = re.compile(r"(?:returned (?:headers )?Message-I[Dd]|original-message-id)=(<[^>\s]+>)")


def _manifest():
    with open(REAL / "MANIFEST.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["category"] in ("dsn", "mdn") or "delivery-status" in row["local_file"]:
                m = _ID.search(row["expected_facts"])
                yield row["local_file"], m.group(1) if m else None


def test_real_reports_find_their_delivery(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'j.db'}")
    db.migrate(engine)
    counts = {"matched": 0, "unmatched (names no Message-ID)": 0}
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as s:
        for i, (name, mid) in enumerate(_manifest(), 1):
            receipt = receipts.parse((REAL / name).read_bytes())
            assert receipt is not None, name
            if mid:
                s.add(
                    Delivery(
                        document_id=i,
                        outbox_id=i,
                        to_addr=f"x{i}@example.kz",
                        envelope_id=f"env{i}",
                        message_id=mid,
                        subject="s",
                        created_at=now,
                    )
                )
                s.flush()
            found = proof.match(s, receipt)
            if mid:
                assert found.delivery is not None and found.delivery.message_id == mid, name
                counts["matched"] += 1
            else:
                assert found.delivery is None, name
                counts["unmatched (names no Message-ID)"] += 1
    engine.dispose()
    print(f"\nreal reports: {counts}")
    assert counts["matched"] >= 15
