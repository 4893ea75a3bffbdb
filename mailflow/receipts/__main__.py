"""``python -m mailflow.receipts FILE...``: print what each file's receipt says."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

from . import parse


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m mailflow.receipts FILE...", file=sys.stderr)
        return 2
    for name in argv:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            print(f"{name}: cannot read: {exc.strerror}", file=sys.stderr)
            return 1
        receipt = parse(raw)
        print(f"== {name}")
        if receipt is None:
            print("   not a delivery report or read receipt")
            continue
        print(f"   kind: {receipt.kind}")
        for key, value in asdict(receipt.report).items():
            print(f"   {key}: {value!r}")
        for key, value in asdict(receipt.evidence).items():
            print(f"   evidence.{key}: {value!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
