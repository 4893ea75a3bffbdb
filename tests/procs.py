"""Entry points the tests run as separate processes (to kill them, or run two).

    python -m tests.procs once|daemon HOME DATABASE_URL [DELAY]
    python -m tests.procs config CONFIG_FILE [DELAY]   # the daemon on a config file (MAILFLOW_NODE
                                                       # names the machine it stands for)

Uses the stand-in recognizer (plus an optional delay per message, which widens
the windows a kill can land in) so these tests exercise the flow, not OCR.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from mailflow import config, daemon
from tests.support import REPO, fake_recognizer, load_rules


def main(argv: list[str]) -> int:
    mode = argv[0]
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if mode == "config":
        cfg, delay = config.load(argv[1]), float(argv[2]) if len(argv) > 2 else 0.0
    else:
        home, database = Path(argv[1]), argv[2]
        delay = float(argv[3]) if len(argv) > 3 else 0.0
        cfg = config.embedded_default(home, REPO / "rules")
        cfg = config.Config(**{**cfg.__dict__, "database": database})
    base = fake_recognizer()

    def recognize(msg, sender, channel):
        time.sleep(delay)
        return base(msg, sender, channel)

    if mode == "once":
        outcomes = daemon.run_once(cfg, load_rules(), recognize=recognize)
        print(" ".join(o.status for o in outcomes))
    else:
        daemon.run_forever(cfg, load_rules(), recognize=recognize)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
