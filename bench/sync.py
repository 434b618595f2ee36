"""One polaris-sync run in a process of its own, reported as one JSON line.

    python -m bench.sync CONFIG_FILE

Runs the feed stages (catalogue, stock, prices) now, as `polaris-sync run
--only` would, and prints the run's figures: wall and CPU time of the cycle,
requests and writes it counted, peak resident memory of this process (the
whole run, imports included), and the summary line.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from polaris_sync.config import load_config
from polaris_sync.run import RunOptions, run_cycle

FEED_STAGES = ("catalogue", "stock", "prices")


def main(config_file: Path) -> None:
    config = load_config(config_file)
    started = time.perf_counter()
    cpu_started = time.process_time()
    report = run_cycle(config, RunOptions(only=FEED_STAGES))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak_kib / 1024,
        "requests": report.requests,
        "writes": report.writes,
        "exit_code": report.exit_code,
        "complete": all(result.complete for result in report.results),
        "summary": report.summary,
        "errors": report.errors[:5],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
