"""Recognition benchmark: accuracy per field, wrong non-null share, s/page.

    .venv/bin/python bench/recognition.py [CORPUS_DIR ...] [--workers N]
    .venv/bin/python bench/recognition.py --letters [--seed 4242] [--n 60]

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
    ap.add_argument(
        "--letters",
        action="store_true",
        help="generate organisations' letters (every legal form) and read them",
    )
    ap.add_argument("--seed", type=int, default=4242, help="the generated corpus's seed (an unseen one)")
    ap.add_argument("--n", type=int, default=60, help="messages to generate")
    args = ap.parse_args()
    rc = 0
    if args.letters:
        import tempfile

        sys.path.insert(0, str(ROOT / "tests"))
        import corpusgen

        out = Path(tempfile.mkdtemp(prefix="letters-"))
        corpusgen.generate(
            out, args.n, args.seed, cases=corpusgen.plan_letters(args.n, corpusgen.random.Random(args.seed))
        )
        args.corpus = [str(out)]
    for c in args.corpus:
        print(f"== {c}")
        rc = max(rc, main(c, workers=args.workers))
    return rc


if __name__ == "__main__":
    sys.exit(cli())
