"""`make bench`: every scenario at the small size, or the ones named.

    python -m bench [--size small|large] [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import time

from bench.scenarios import SCENARIOS, SIZES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help=f"any of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    args = parser.parse_args(argv)

    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario: {', '.join(sorted(unknown))}")
    size = SIZES[args.size]
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, "
          f"Python {platform.python_version()}; size {size.name}", flush=True)
    started = time.monotonic()
    # SIGTERM unwinds like Ctrl-C: the servers' process, the measured run and
    # the temporary folders are stopped and removed on the way out.
    signal.signal(signal.SIGTERM, _stop)
    try:
        for name in args.scenarios or list(SCENARIOS):
            SCENARIOS[name](size)
    except KeyboardInterrupt:
        print("\nbenchmark interrupted", file=sys.stderr)
        return 130
    print(f"\nbenchmark done in {time.monotonic() - started:.0f} s")
    return 0


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
