"""Progress of a long stage, drawn only when a person watches a terminal.

Under cron (no terminal) nothing is drawn: the run prints its one-line summary
and its errors, nothing else.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

REDRAW_SECONDS = 0.2


class Progress:
    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.stage: str | None = None
        self.total: int | None = None
        self.done = 0
        self._started = 0.0
        self._drawn = 0.0

    def start(self, stage: str, total: int | None = None) -> None:
        self.stage = stage
        self.total = total
        self.done = 0
        self._started = time.monotonic()
        self._drawn = 0.0
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def finish(self) -> None:
        if self.enabled and self.stage is not None:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
        self.stage = None

    def line(self) -> str:
        """The text drawn: items done of total, rate, time left."""
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = self.done / elapsed
        parts = [f"{self.stage}: {self.done}"]
        if self.total:
            percent = min(100, 100 * self.done // self.total)
            parts[0] += f"/{self.total} ({percent}%)"
        parts.append(f"{rate:.1f}/s")
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"{_duration((self.total - self.done) / rate)} left")
        return "  ".join(parts)

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled or self.stage is None:
            return
        now = time.monotonic()
        if not force and now - self._drawn < REDRAW_SECONDS:
            return
        self._drawn = now
        self.stream.write("\r\033[K" + self.line())
        self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
