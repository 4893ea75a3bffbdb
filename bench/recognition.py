"""Recognition benchmark: accuracy per field, wrong non-null share, s/page, and
the pipeline's CPU per page against one plain tesseract read of each page.

    .venv/bin/python bench/recognition.py [CORPUS_DIR ...] [--workers N] [--engine tesserocr|program]
    .venv/bin/python bench/recognition.py --letters [--seed 4242] [--n 60]
    .venv/bin/python bench/recognition.py --kazakh [--seed 4242] [--n 60]
    .venv/bin/python bench/recognition.py --photo [--seed 4242] [--n 60]

With no folder, reads ../shared/corpus/appeals (beside the repository).
`--kazakh` generates the seed's corpus twice, its people filling the forms in
Kazakh and in Russian (tests/corpusgen_kazakh.py), and reads the people's
messages of both (organisations' letters are the same in both and left out).
`--photo` generates the seed's forms photographed with a phone on a desk
(tests/corpusgen_photo.py) and reads them; the plain read then reads each
photo as it came (the whole frame, in grey), as a reader without
extract/photo.py would, and the CPU is also given per photo.
Generate a harder corpus first with `python tests/corpusgen.py OUT_DIR`.

After the pipeline, each page it read by OCR is rendered (or decoded) as the
pipeline renders it, written uncompressed (PGM/PPM, so the plain read's
decoding is as small as it can be: on six pages at load 1 a PNG of the same
page cost no more, within the ±0.2 CPU-s one page's reads vary) and read once by
`tesseract PAGE stdout -l LANGS --dpi DPI` with OMP_THREAD_LIMIT=1, as many
at a time as the pipeline has workers: the cost of one plain read. The ratios compare
the CPU seconds of both per page: the whole pipeline (workers with their
start, and the process reading mail and fields), and the pages alone (what
each worker spent on its pages; a daemon starts its pool once).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailflow import mime  # noqa: E402
from mailflow import rules as rules_mod  # noqa: E402
from mailflow.extract import _plan  # noqa: E402
from mailflow.extract.evaluate import evaluate, report  # noqa: E402
from mailflow.extract.page import PageTask, _has_text, _load_image, _render_pdf  # noqa: E402


def ocr_pages(corpus: Path, out: Path, only=None) -> list[Path]:
    """The pages of the corpus that the pipeline reads by OCR, as uncompressed
    PGM/PPM files named `…-DPI.pnm` (PNM keeps no resolution)."""
    limits = rules_mod.load(ROOT / "rules").limits
    files: list[Path] = []
    truth = {}
    if only is not None:  # a generated corpus: its truth names the files
        lines = (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines()
        truth = {t["file"]: t for t in map(json.loads, lines)}
    for eml in sorted(corpus.glob("*.eml")):
        if only is not None and not only(truth[eml.name]):
            continue
        msg = mime.parse(eml.read_bytes())
        budget = limits.max_pages_per_message
        for a_no, att in enumerate(msg.attachments):
            doc = _plan(att, limits)
            if doc.kind not in ("pdf", "image"):
                continue
            for i in range(min(doc.pages, max(0, budget))):
                task = PageTask(
                    doc.kind,
                    att.data,
                    i,
                    limits.render_dpi,
                    limits.ocr_languages,
                    limits.ocr_timeout_seconds,
                    limits.max_pixels_per_page,
                )
                if doc.kind == "pdf" and _has_text(task):
                    continue
                img, dpi = _render_pdf(task) if doc.kind == "pdf" else _load_image(task)
                if isinstance(img, str):
                    continue
                path = out / f"{eml.stem}-{a_no}-{i}-{round(dpi or 300)}.pnm"
                img.convert("L" if img.mode in ("1", "L") else "RGB").save(path, format="PPM")
                files.append(path)
            budget -= doc.pages
    return files


def cli_cpu(files: list[Path], langs: str, workers: int) -> float:
    """CPU seconds of one `tesseract PAGE stdout -l LANGS` per page, in all,
    `workers` at a time like the pipeline's pool (so both share the cores alike)."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def read(f: Path) -> None:
        dpi = f.stem.rsplit("-", 1)[1]
        subprocess.run(
            ["tesseract", str(f), "stdout", "-l", langs, "--dpi", dpi],
            env=env,
            capture_output=True,
            check=True,
        )

    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with cf.ThreadPoolExecutor(max(1, workers)) as ex:
        list(ex.map(read, files))
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime


def cli() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="*", default=[str(ROOT.parent / "shared/corpus/appeals")])
    ap.add_argument("--workers", type=int, default=0, help="OCR processes (0: one per core)")
    ap.add_argument(
        "--letters",
        action="store_true",
        help="generate organisations' letters (every legal form) and read them",
    )
    ap.add_argument(
        "--kazakh",
        action="store_true",
        help="generate the seed's corpus with its people writing in Kazakh, and in Russian, and read both",
    )
    ap.add_argument(
        "--photo",
        action="store_true",
        help="generate the seed's forms photographed on a desk by district chiefs' phones, and read them",
    )
    ap.add_argument("--seed", type=int, default=4242, help="the generated corpus's seed (an unseen one)")
    ap.add_argument("--n", type=int, default=60, help="messages to generate")
    ap.add_argument("--engine", choices=("tesserocr", "program"), help="force the workers' OCR engine")
    args = ap.parse_args()
    rc = 0
    if args.letters:
        sys.path.insert(0, str(ROOT / "tests"))
        import corpusgen

        out = Path(tempfile.mkdtemp(prefix="letters-"))
        corpusgen.generate(
            out, args.n, args.seed, cases=corpusgen.plan_letters(args.n, corpusgen.random.Random(args.seed))
        )
        args.corpus = [str(out)]
    if args.photo:
        sys.path.insert(0, str(ROOT / "tests"))
        import corpusgen_photo

        out = Path(tempfile.mkdtemp(prefix="photos-"))
        corpusgen_photo.generate_photos(out, args.n, args.seed)
        args.corpus = [str(out)]
    only = None
    if args.kazakh:
        sys.path.insert(0, str(ROOT / "tests"))
        import corpusgen

        args.corpus = []
        for share, what in ((1.0, "kazakh"), (0.0, "russian")):
            out = Path(tempfile.mkdtemp(prefix=f"{what}-"))
            corpusgen.generate(out, args.n, args.seed, kazakh=share)
            args.corpus.append(str(out))
        only = lambda t: t["group"] == 1  # noqa: E731 - the people's messages: forms, Book, website
    for c in args.corpus:
        corpus = Path(c)
        print(f"== {c}")
        if not (corpus / "truth.jsonl").is_file():
            print(f"{corpus}: no truth.jsonl here", file=sys.stderr)
            rc = 2
            continue
        res = evaluate(corpus, workers=args.workers, engine=args.engine, only=only)
        report(res)
        with tempfile.TemporaryDirectory(prefix="ocr-pages-") as tmp:
            pages = ocr_pages(corpus, Path(tmp), only)
            langs = rules_mod.load(ROOT / "rules").limits.ocr_languages
            plain = cli_cpu(pages, langs, res["workers"]) / max(1, len(pages))
        n = max(1, res["pages"])
        workers = (res["cpu_seconds"] or 0.0) / n
        total = workers + res["cpu_self_seconds"] / n
        alone = res["cpu_pages_seconds"] / n
        print(
            f"plain `tesseract -l rus+kaz` CLI read: {plain:.3f} CPU-s/page ({len(pages)} OCR pages)\n"
            f"pipeline: {total:.3f} CPU-s/page, workers (with their start) and the reading process = "
            f"{total / plain:.2f}x the plain read; workers alone {workers:.3f} = {workers / plain:.2f}x; "
            f"the pages alone (no start) {alone:.3f} = {alone / plain:.2f}x"
        )
        if args.photo:  # a photo is one page: the same figures, named for what the issue asks
            print(
                f"per photo: {total:.3f} CPU-s with everything, {alone:.3f} CPU-s for the page alone "
                f"({res['pages']} photos of {res['messages']} messages, seed {args.seed})"
            )
    return rc


if __name__ == "__main__":
    sys.exit(cli())
