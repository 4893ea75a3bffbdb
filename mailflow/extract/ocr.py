"""The OCR process pool: one page per task, one core per page.

The daemon makes one `OcrPool` at start and passes it to every `recognize()`
call, so the worker processes (their imports and their OCR engine with its
models, see engine.py) are paid for once. Each worker reads with
OMP_THREAD_LIMIT=1: tesseract's own threading gains little on a page and
fights the pool for the cores, while one page per core keeps both cores busy
when a message has several pages or several messages are read at once.

A page that hangs or kills its worker never takes the caller down: it comes
back as a `PageResult` with a note, and the pool is rebuilt.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool

from .page import PageResult, PageTask, engine_name, init_worker, run_page, warm

__all__ = ["OcrPool", "PageTask", "PageResult"]


log = logging.getLogger(__name__)


def _log_engine(fut: cf.Future) -> None:
    if fut.cancelled() or fut.exception() is not None:
        return
    log.info("OCR workers read with %s", fut.result())


class OcrPool:
    def __init__(self, workers: int = 0, engine: str | None = None) -> None:
        """`engine`: "tesserocr" or "program" forces the workers' engine
        (default: MAILFLOW_OCR_ENGINE, else tesserocr where it loads)."""
        self.workers = workers if workers and workers > 0 else (os.cpu_count() or 1)
        self.engine = engine
        self._lock = threading.Lock()
        self._closed = False
        self._ex = self._start()

    def _start(self) -> cf.ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")  # safe beside the daemon's threads
        ex = cf.ProcessPoolExecutor(
            self.workers, mp_context=ctx, initializer=init_worker, initargs=(self.engine,)
        )
        for _ in range(self.workers):  # start the workers now, not on the first page
            ex.submit(warm)
        # which engine the workers read with, in this process's log (each worker
        # also logs its own choice, and why when it fell back)
        ex.submit(engine_name).add_done_callback(_log_engine)
        return ex

    def __enter__(self) -> OcrPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            ex = self._ex
        ex.shutdown(wait=True, cancel_futures=True)

    def run(self, tasks: list[PageTask]) -> list[PageResult]:
        """Read the pages, in parallel; results in the order of `tasks`."""
        if not tasks:
            return []
        results: list[PageResult | None] = [None] * len(tasks)
        pending = list(range(len(tasks)))
        for _attempt in range(2):
            if not pending:
                break
            ex = self._executor()
            futures: dict[int, cf.Future] = {}
            for i in pending:
                try:
                    futures[i] = ex.submit(run_page, tasks[i])
                except (BrokenProcessPool, RuntimeError):
                    self._restart(ex)
                    break
            rounds = -(-len(tasks) // self.workers)
            per_page = max(t.timeout for t in tasks) * 3 + 20
            deadline = time.monotonic() + per_page * (rounds + 1)
            retry: list[int] = []
            for i in pending:
                fut = futures.get(i)
                if fut is None:
                    retry.append(i)
                    continue
                try:
                    results[i] = fut.result(timeout=max(0.1, deadline - time.monotonic()))
                except cf.TimeoutError:
                    fut.cancel()
                    results[i] = PageResult("none", note=f"page {tasks[i].index + 1}: OCR timed out")
                    self._restart(ex)
                except BrokenProcessPool:
                    retry.append(i)
                    self._restart(ex)
                except Exception as exc:  # pragma: no cover - run_page catches its own
                    results[i] = PageResult("none", note=f"page {tasks[i].index + 1}: {exc}")
            pending = retry
        for i in pending:
            results[i] = PageResult("none", note=f"page {tasks[i].index + 1}: the OCR worker crashed")
        return [r if r is not None else PageResult("none", note="not read") for r in results]

    def engine_name(self) -> str:
        """The engine a worker reads with ("tesserocr" or "tesseract program")."""
        return self._executor().submit(engine_name).result(timeout=120)

    def _executor(self) -> cf.ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("OcrPool is closed")
            return self._ex

    def _restart(self, broken: cf.ProcessPoolExecutor) -> None:
        """Replace a pool whose worker hung or died (once, however many noticed)."""
        with self._lock:
            if self._closed or self._ex is not broken:
                return
            self._ex = self._start()
        procs = list(getattr(broken, "_processes", {}).values())
        for p in procs:  # a hung worker would otherwise block shutdown forever
            try:
                p.kill()
            except Exception:
                pass
        broken.shutdown(wait=False, cancel_futures=True)
