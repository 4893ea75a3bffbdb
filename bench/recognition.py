"""Recognition benchmark: accuracy per field, wrong non-null share, s/page.

    .venv/bin/python bench/recognition.py [CORPUS_DIR ...] [--workers N]

With no folder, reads ../shared/corpus/appeals (beside the repository).
Generate a harder corpus first with `python tests/corpusgen.py OUT_DIR`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailflow.extract.evaluate import main  # noqa: E402


def cli() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="*", default=[str(ROOT.parent / "shared/corpus/appeals")])
    ap.add_argument("--workers", type=int, default=0, help="OCR processes (0: one per core)")
    args = ap.parse_args()
    rc = 0
    for c in args.corpus:
        print(f"== {c}")
        rc = max(rc, main(c, workers=args.workers))
    return rc


if __name__ == "__main__":
    sys.exit(cli())
