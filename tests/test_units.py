"""The systemd units stay hardened: `systemd-analyze security` (offline, on the files)
gives each an exposure of at most 1.2 (issue 10.8)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.support import REPO

UNITS = sorted((REPO / "systemd").glob("*.service"))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_unit_is_exposed_at_most_1_2(unit):
    r = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", r.stdout + r.stderr)
    assert found, r.stdout + r.stderr
    assert float(found.group(1)) <= 1.2, r.stdout


def test_there_are_units_to_check():
    assert {u.name for u in UNITS} == {"mailflow.service", "mailflow-web.service"}
