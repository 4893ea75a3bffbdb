"""The OCR engine a worker reads with: tesseract in the process, or the program.

    engine = open_engine()                       # once per OCR worker process
    engine.words(img, dpi, "rus+kaz", psm=3)     # -> list[Word]
    engine.words(img, dpi, "rus+kaz", psm=7, rect=(x0, y0, x1, y1))
    engine.orientation(img, dpi)                 # -> 0, 90, 180 or 270

`InProcess` (tesserocr, which brings its own libtesseract and reads Debian's
tessdata) keeps one API per language set, each model loaded once per worker.
A read hands the picture over as raw grey bytes (no encode, no process start,
no model load). A rectangle is read as a cut of the picture: tesseract's
SetRectangle reads garbage with the LSTM models (see InProcess.words).

`Program` runs the tesseract binary per read (the picture piped in as PNG, TSV
out): the fallback where tesserocr cannot load (not installed, a broken
wheel, no tessdata with the languages). `open_engine` chooses once and logs
the choice; MAILFLOW_OCR_ENGINE=program forces the fallback, =tesserocr
makes tesserocr's failure an error instead of a fallback (tests run both).

Both return the same `Word` values for the same picture: words parsed from
tesseract's TSV, boxes in the picture's pixels.
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image

__all__ = ["Engine", "InProcess", "Program", "Word", "open_engine", "parse_tsv", "tessdata_dir"]
log = logging.getLogger(__name__)

ENV = "MAILFLOW_OCR_ENGINE"
# Where Debian (5 and 4), Fedora and a source build put the models.
_TESSDATA = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)
# Loaded when a worker starts: the page's model, the English one for Latin
# letters and digits, and the Kazakh-first one for Ә, Ғ, Қ (see page.field_reread).
PRELOAD = ("rus+kaz", "eng", "kaz+rus")

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in the picture's pixels


@dataclass(frozen=True)
class Word:
    text: str
    conf: float  # 0..100 (100 for a text layer)
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in page pixels / points
    line: int  # running line number on the page
    block: int


class Engine(Protocol):
    name: str

    def words(
        self,
        img: Image.Image,
        dpi: float,
        langs: str,
        *,
        psm: int = 3,
        rect: Rect | None = None,
        timeout: float = 60.0,
    ) -> list[Word]: ...

    def orientation(self, img: Image.Image, dpi: float, timeout: float = 60.0, least: float = 1.0) -> int: ...

    def close(self) -> None: ...


def parse_tsv(tsv: str) -> list[Word]:
    """Words of tesseract's TSV (with or without its header line)."""
    words: list[Word] = []
    line_ids: dict[tuple[int, int, int], int] = {}
    for row in tsv.splitlines():
        parts = row.split("\t")
        if len(parts) < 12 or parts[0] != "5":
            continue
        text = parts[11].strip()
        if not text:
            continue
        try:
            block, par, line = int(parts[2]), int(parts[3]), int(parts[4])
            x, y, w, h = (int(v) for v in parts[6:10])
            conf = float(parts[10])
        except ValueError:
            continue
        key = (block, par, line)
        lid = line_ids.setdefault(key, len(line_ids))
        words.append(Word(text, max(conf, 0.0), (x, y, x + w, y + h), lid, block))
    return words


def tessdata_dir(langs: tuple[str, ...] = ("rus", "kaz", "eng", "osd")) -> str | None:
    """The folder holding every one of `langs`' models, or None."""
    env = os.environ.get("TESSDATA_PREFIX")
    candidates = ([env, str(Path(env) / "tessdata")] if env else []) + list(_TESSDATA)
    for c in candidates:
        if all((Path(c) / f"{lang}.traineddata").is_file() for lang in langs):
            return c
    try:  # the program knows where its own models are
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'in "([^"]+)"', out.stdout + out.stderr)
    if m and all((Path(m.group(1)) / f"{lang}.traineddata").is_file() for lang in langs):
        return m.group(1)
    return None


class InProcess:
    """tesseract through tesserocr: models loaded once, pictures handed over in memory."""

    name = "tesserocr"

    def __init__(self, tessdata: str, preload: tuple[str, ...] = PRELOAD) -> None:
        import tesserocr

        self._tr = tesserocr
        self._path = tessdata
        self._apis: dict[str, tesserocr.PyTessBaseAPI] = {}
        for langs in preload:
            self._api(langs)

    def _api(self, langs: str):
        api = self._apis.get(langs)
        if api is None:
            psm = self._tr.PSM.OSD_ONLY if langs == "osd" else self._tr.PSM.AUTO
            # No inverted-text retry: forms and letters are dark on light, and
            # the retry re-reads every doubtful line (tesseract 5's default).
            variables = {} if langs == "osd" else {"tessedit_do_invert": "0"}
            api = self._tr.PyTessBaseAPI(path=self._path, lang=langs, psm=psm, variables=variables)
            self._apis[langs] = api
        return api

    def _hold(self, langs: str, img: Image.Image, dpi: float):
        """The API for `langs`, given `img` as raw grey bytes (tesseract copies them)."""
        api = self._api(langs)
        grey = img if img.mode == "L" else img.convert("L")
        api.SetImageBytes(grey.tobytes(), grey.width, grey.height, 1, grey.width)
        api.SetSourceResolution(max(70, int(round(dpi))))
        return api

    def words(
        self,
        img: Image.Image,
        dpi: float,
        langs: str,
        *,
        psm: int = 3,
        rect: Rect | None = None,
        timeout: float = 60.0,
    ) -> list[Word]:
        # A rectangle is cut out, not SetRectangle'd: with the LSTM models
        # SetRectangle reads garbage ("Second 67890" comes back "Be"; tesseract
        # issue #845), and a cut in memory costs next to nothing.
        part, dx, dy = _cut(img, rect)
        if part is None:
            return []
        api = self._hold(langs, part, dpi)
        api.SetPageSegMode(psm)
        if not api.Recognize(int(timeout * 1000)):
            raise RuntimeError("tesseract gave up (timeout)")
        return _shifted(parse_tsv(api.GetTSVText(0)), dx, dy)

    def orientation(self, img: Image.Image, dpi: float, timeout: float = 60.0, least: float = 1.0) -> int:
        api = self._hold("osd", img, dpi)
        try:
            got = api.DetectOrientationScript()
        except RuntimeError:  # too little text to tell
            return 0
        if not got or got.get("orient_conf", 0.0) < least:
            return 0
        # tesserocr gives how far the picture is turned; the page turns back the other way
        return (360 - int(got["orient_deg"])) % 360

    def close(self) -> None:
        for api in self._apis.values():
            api.End()
        self._apis.clear()


class Program:
    """The tesseract binary, one process per read (the fallback)."""

    name = "tesseract program"

    def words(
        self,
        img: Image.Image,
        dpi: float,
        langs: str,
        *,
        psm: int = 3,
        rect: Rect | None = None,
        timeout: float = 60.0,
    ) -> list[Word]:
        part, dx, dy = _cut(img, rect)
        if part is None:
            return []
        args = ["-l", langs, "--dpi", str(int(round(dpi))), "--psm", str(psm), "-c", "tessedit_do_invert=0"]
        return _shifted(parse_tsv(_run([*args, "tsv"], part, timeout)), dx, dy)

    def orientation(self, img: Image.Image, dpi: float, timeout: float = 60.0, least: float = 1.0) -> int:
        try:
            out = _run(["--psm", "0", "-l", "osd", "--dpi", str(int(dpi))], img, timeout)
        except Exception:
            return 0
        m = re.search(r"Rotate:\s*(\d+)", out)
        c = re.search(r"Orientation confidence:\s*([\d.]+)", out)
        if not m or (c and float(c.group(1)) < least):
            return 0
        return int(m.group(1)) % 360

    def close(self) -> None:
        pass


def _cut(img: Image.Image, rect: Rect | None) -> tuple[Image.Image | None, int, int]:
    """The part of `img` to read and its offset (None when the rectangle is empty)."""
    if rect is None:
        return img, 0, 0
    x0, y0 = max(0, rect[0]), max(0, rect[1])
    x1, y1 = min(img.width, rect[2]), min(img.height, rect[3])
    if x1 <= x0 or y1 <= y0:
        return None, 0, 0
    return img.crop((x0, y0, x1, y1)), x0, y0


def _shifted(words: list[Word], dx: int, dy: int) -> list[Word]:
    """Boxes of a cut back in the picture's pixels."""
    if not dx and not dy:
        return words
    return [
        Word(w.text, w.conf, (w.box[0] + dx, w.box[1] + dy, w.box[2] + dx, w.box[3] + dy), w.line, w.block)
        for w in words
    ]


def _run(args: list[str], img: Image.Image, timeout: float) -> str:
    # PNG at the lightest compression: ~0.05 s to write a 300-dpi A4 page, and
    # tesseract then reads it faster than raw PGM
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    proc = subprocess.run(
        ["tesseract", "stdin", "stdout", *args],
        input=buf.getvalue(),
        capture_output=True,
        timeout=timeout,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"tesseract failed: {proc.stderr.decode('utf-8', 'replace')[-200:]}")
    return proc.stdout.decode("utf-8", "replace")


def open_engine(prefer: str | None = None) -> Engine:
    """The engine for this worker: tesserocr when it loads with the models,
    else the program. `prefer` (or MAILFLOW_OCR_ENGINE) is "tesserocr" or
    "program"; "tesserocr" raises where it cannot load."""
    want = (prefer or os.environ.get(ENV) or "").strip().lower()
    if want not in ("", "tesserocr", "program"):
        raise ValueError(f"{ENV}={want!r}: expected 'tesserocr' or 'program'")
    engine: Engine
    if want == "program":
        engine = Program()
        log.info("OCR engine: the tesseract program (%s=program)", ENV)
        return engine
    why = ""
    try:
        path = tessdata_dir()
        if path is None:
            why = "no tessdata folder with rus, kaz, eng and osd"
        else:
            engine = InProcess(path)
            log.info("OCR engine: tesserocr %s in process, models from %s", _version(), path)
            return engine
    except Exception as exc:  # ImportError, a wheel built for another CPU, a model that will not load
        why = f"{type(exc).__name__}: {exc}"
    if want == "tesserocr":
        raise RuntimeError(f"tesserocr cannot be used: {why}")
    log.warning("OCR engine: the tesseract program, one process per read (tesserocr: %s)", why)
    return Program()


def _version() -> str:
    try:
        import tesserocr

        return tesserocr.tesseract_version().split()[1]
    except Exception:
        return "?"
