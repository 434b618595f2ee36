"""Progress on a terminal: done of total, rate, time left; nothing under cron."""

import io

from polaris_sync import progress as progress_module
from polaris_sync.progress import Progress


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_line_shows_done_of_total_rate_and_time_left(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    screen = io.StringIO()
    progress = Progress(screen, enabled=True)

    progress.start("catalogue", 300)
    clock.now += 10
    progress.advance(120)

    assert progress.line() == "catalogue: 120/300 (40%)  12.0/s  15s left"
    assert screen.getvalue().endswith("catalogue: 120/300 (40%)  12.0/s  15s left")
    progress.finish()
    assert screen.getvalue().endswith("\n")


def test_long_waits_read_in_minutes_and_unknown_totals_show_the_count(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    progress = Progress(io.StringIO(), enabled=True)

    progress.start("stock", 10_000)
    clock.now += 60
    progress.advance(100)
    assert progress.line().endswith("1h39m left")

    progress.start("orders")
    clock.now += 2
    progress.advance(4)
    assert progress.line() == "orders: 4  2.0/s"


def test_nothing_is_drawn_without_a_terminal():
    screen = io.StringIO()  # not a TTY, as under cron
    progress = Progress(screen)

    progress.start("catalogue", 3)
    progress.advance(3)
    progress.finish()

    assert screen.getvalue() == ""
