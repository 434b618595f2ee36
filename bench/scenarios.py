"""The benchmark scenarios: a shop set up from scratch, then measured runs.

Every measured run is a separate `python -m bench.sync` process against the
servers' process (`bench.servers`); request counts come from the emulator's
own tally, server time from the timing layer around both servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from bench.servers import ServerProcess
from polaris_sync.onboarding import store_prestashop_key
from polaris_sync.polaris.association import associate, save_association
from polaris_sync.prestashop.client import PrestaShopClient
from polaris_sync.state import State

READS = ("GET", "HEAD")
# The memory scenario's first sync gives up after this many budgeted runs.
MAX_FIRST_SYNC_RUNS = 40


@dataclass(frozen=True)
class Size:
    name: str
    # Models in the catalogue of the latency comparison (50 ms a request).
    latency_models: int
    # Models in the catalogue of the zero-latency scenarios.
    models: int
    runs: int
    # Zero-latency first syncs measured at each concurrency.
    first_sync_runs: int
    changed_stock: int
    # Models of the memory scenario, and the time budget of each of its runs.
    memory_models: int
    memory_budget: float


SIZES = {
    "small": Size("small", latency_models=20, models=200, runs=3, first_sync_runs=3,
                  changed_stock=200,
                  memory_models=1_000, memory_budget=40),
    "large": Size("large", latency_models=100, models=10_000, runs=3,
                  first_sync_runs=1,
                  changed_stock=1_000, memory_models=10_000, memory_budget=300),
}


@dataclass
class Measure:
    """One run: what polaris-sync says, and what the shop counted."""

    sync: dict[str, Any]
    shop_counts: Counter[str]
    server_busy: float

    @property
    def wall(self) -> float:
        return float(self.sync["wall_seconds"])

    @property
    def shop_requests(self) -> int:
        return sum(self.shop_counts.values())

    @property
    def shop_writes(self) -> int:
        return sum(
            n for key, n in self.shop_counts.items() if key.split()[0] not in READS
        )

    @property
    def shop_reads(self) -> int:
        return self.shop_requests - self.shop_writes

    @property
    def polaris_requests(self) -> int:
        return int(self.sync["requests"]) - self.shop_requests

    @property
    def server_share(self) -> float:
        return self.server_busy / self.wall if self.wall else 0.0


@dataclass
class Bench:
    """A shop and a polaris-sync set-up over one servers' process."""

    servers: ServerProcess
    folder: Path
    concurrency: int = 4
    pacing: float = 0
    time_budget: float = 0
    mode: str = "full"
    config_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_file = self.folder / "polaris-sync.toml"
        self.configure()
        info = self.servers.info
        granted = asyncio.run(associate(info["polaris_url"], info["licence"],
                                        info["pin"], timeout=30))
        group_id, brand_id = asyncio.run(self._shop_targets())
        with State.open(self.folder / "state") as state:
            save_association(state, granted)
            store_prestashop_key(state, info["shop_key"])
            state.set_mapping("brand", "*", str(brand_id))
            state.set_mapping("size-grid", "*", str(group_id))

    def configure(self, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        settings = {
            "mode": self.mode,
            "state_dir": "state",
            "time_budget_seconds": self.time_budget,
            "polaris": {"association_url": self.servers.info["polaris_url"]},
            "prestashop": {
                "url": self.servers.info["shop_url"],
                "max_concurrency": self.concurrency,
                "max_requests_per_second": self.pacing,
            },
        }
        self.config_file.write_text(tomli_w.dumps(settings), encoding="utf-8")

    async def _shop_targets(self) -> tuple[int, int]:
        info = self.servers.info
        async with PrestaShopClient(
            info["shop_url"], info["shop_key"], max_requests_per_second=0
        ) as shop:
            languages = await shop.languages()
            names = {language: "Taille" for language in languages}
            group = await shop.create("product_options", {
                "is_color_group": 0, "group_type": "select",
                "name": names, "public_name": names,
            })
            brand = await shop.create("manufacturers", {"name": "Maison", "active": 1})
        return int(group["id"]), int(brand["id"])

    def run(self) -> Measure:
        """One measured run of the feed stages."""
        self.servers.shop_admin("POST", "requests/reset")
        self.servers.timing(reset=True)
        completed = subprocess.run(
            [sys.executable, "-m", "bench.sync", str(self.config_file)],
            capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        if completed.returncode != 0:
            raise RuntimeError(f"the measured run failed:\n{completed.stderr[-2000:]}")
        figures = json.loads(completed.stdout.strip().splitlines()[-1])
        if figures["exit_code"] not in (0, 1):
            raise RuntimeError(f"the measured run stopped: {figures['summary']}")
        counts = Counter(self.servers.shop_admin("GET", "requests")["counts"])
        busy = self.servers.timing()["busy_seconds"]
        return Measure(figures, counts, busy)


@contextmanager
def fresh_bench(models: int, **options: Any) -> Iterator[Bench]:
    """New servers with `models` generated models, an empty shop, a new state."""
    with tempfile.TemporaryDirectory(prefix="polaris-sync-bench-") as folder:
        root = Path(folder)
        with ServerProcess(root / "servers", models) as servers:
            yield Bench(servers, root / "sync", **options)


# -- output ------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def show(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}", flush=True)
    for label, value in rows:
        print(f"   {label:<44} {value}", flush=True)


def counts_line(measure: Measure) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(measure.shop_counts.items()))


# -- scenarios -------------------------------------------------------------------


def first_sync_figures(measures: list[Measure]) -> list[tuple[str, str]]:
    last = measures[-1]
    products = last.shop_counts["POST products"]
    walls = [m.wall for m in measures]
    busy = median([m.server_busy for m in measures])
    cpu = median([m.sync["cpu_seconds"] for m in measures])
    return [
        ("runs (each on an empty shop)", str(len(measures))),
        ("wall time, median [min-max]",
         f"{median(walls):.2f} s [{min(walls):.2f}-{max(walls):.2f}]"),
        ("PrestaShop requests / writes / reads",
         f"{last.shop_requests} / {last.shop_writes} / {last.shop_reads}"),
        ("Polaris requests (pages + photos)", str(last.polaris_requests)),
        ("products created", str(products)),
        ("PrestaShop requests per product",
         f"{last.shop_requests / products:.2f}" if products else "-"),
        ("reads per 100 products",
         f"{100 * last.shop_reads / products:.1f}" if products else "-"),
        ("peak RSS of the sync process, median",
         f"{median([m.sync['peak_rss_mb'] for m in measures]):.0f} MB"),
        ("time inside the servers / wall, medians",
         f"{busy:.2f} / {median(walls):.2f} s = {100 * busy / median(walls):.0f} %"),
        ("CPU of the sync process / wall, medians",
         f"{cpu:.2f} / {median(walls):.2f} s = {100 * cpu / median(walls):.0f} %"),
        ("requests by kind", counts_line(last)),
    ]


def compare_concurrency(
    title: str, models: int, runs: int, latency_ms: int = 0
) -> Measure:
    """First syncs at concurrency 4 and 1, side by side; the last one at 4."""
    by_concurrency: dict[int, list[Measure]] = {}
    for concurrency in (4, 1):
        measures = []
        for _ in range(runs):
            with fresh_bench(models, concurrency=concurrency) as bench:
                if latency_ms:
                    bench.servers.set_latency(latency_ms)
                measures.append(bench.run())
        by_concurrency[concurrency] = measures
    side_by_side = zip(
        first_sync_figures(by_concurrency[4]),
        first_sync_figures(by_concurrency[1]),
        strict=True,
    )
    show(f"{title}: concurrency 4 | concurrency 1",
         [(label, f"{four} | {one}") for (label, four), (_, one) in side_by_side])
    speed_up = median([m.wall for m in by_concurrency[1]]) / median(
        [m.wall for m in by_concurrency[4]]
    )
    show("concurrency 4 against 1", [("speed-up (median wall times)",
                                      f"{speed_up:.2f} x")])
    return by_concurrency[4][-1]


def scenario_latency(size: Size) -> None:
    """First sync with a 50 ms shop, pacing off: concurrency 4 against 1."""
    compare_concurrency(
        f"first sync, {size.latency_models} models, shop latency 50 ms, pacing off",
        size.latency_models, size.runs, latency_ms=50,
    )


def scenario_sync(size: Size) -> None:
    """Zero-latency first syncs, then the runs that follow one of them."""
    first = compare_concurrency(
        f"first sync, {size.models} models, zero latency",
        size.models, size.first_sync_runs,
    )
    show("first sync at the default pacing (5 requests a second)",
         paced_estimates(first, size.models))
    if first.sync["errors"]:
        show("errors of the first sync", [("", e) for e in first.sync["errors"]])

    with fresh_bench(size.models) as bench:
        bench.run()
        nothing = [bench.run() for _ in range(size.runs)]
        show("run with nothing new", steady_figures(nothing))

        sku = changed_stock(bench, 1)
        one = bench.run()
        show(f"one changed stock figure ({sku})", steady_figures([one]))

        changes = changed_stock(bench, size.changed_stock)
        many = bench.run()
        show(f"{changes} changed stock figures (random sizes)", steady_figures(
            [many]) + [("read budget N/100 + 2 (N = writes)",
                        f"{many.shop_writes // 100 + 2}")])


DEFAULT_PACING = 5.0
# The paced scenario's run stops after this budget: the rate shows by then.
PACED_BUDGET = 60.0
# A cron run every 5 minutes with the default 240 s budget works 80% of the time.
CRON_DUTY = 240 / 300


def paced_estimates(first: Measure, models: int) -> list[tuple[str, str]]:
    """How long a first sync takes when the shop's requests are paced.

    Pacing, not latency, sets the pace then: the request count divided by the
    rate (Polaris photo downloads are not paced and overlap).
    """
    per_model = first.shop_requests / models
    rows = [("PrestaShop requests per model", f"{per_model:.1f}")]
    for catalogue in (1_000, 10_000):
        seconds = per_model * catalogue / DEFAULT_PACING
        rows.append((
            f"{catalogue:,} models",
            f"{seconds / 3600:.1f} h of requests, {seconds / 3600 / CRON_DUTY:.1f} h "
            "across 5-minute cron runs",
        ))
    return rows


def steady_figures(measures: list[Measure]) -> list[tuple[str, str]]:
    last = measures[-1]
    walls = [m.wall for m in measures]
    return [
        ("runs", str(len(measures))),
        ("wall time, median", f"{median(walls):.3f} s"),
        ("PrestaShop requests / writes / reads",
         f"{last.shop_requests} / {last.shop_writes} / {last.shop_reads}"),
        ("Polaris requests", str(last.polaris_requests)),
        ("peak RSS of the sync process", f"{last.sync['peak_rss_mb']:.0f} MB"),
        ("requests by kind", counts_line(last) or "none"),
        ("summary", last.sync["summary"]),
    ]


def changed_stock(bench: Bench, count: int) -> str | int:
    """Change `count` stock figures in Polaris; one: its SKU, else how many.

    The simulator's churn picks random sizes (at most one per item); the one
    figure is then set to a quantity no generated stock has, so it surely
    changes.
    """
    changes = bench.servers.polaris_admin("stock/churn", {"Nombre": count})
    if count != 1:
        return len(changes["Changements"])
    change = {**changes["Changements"][0], "Dispo": 77}
    bench.servers.polaris_admin("stock", change)
    return str(change["SKU"])


def scenario_memory(size: Size) -> None:
    """A first sync of a big catalogue as cron runs it, to its end, then idle runs.

    The whole catalogue is the delta: every item is read, kept and walked by
    each stage, which is where memory would grow with the catalogue. Runs have
    a time budget and carry on where the previous one stopped, until one
    finishes; then runs with nothing new show what an idle cron run costs
    against a full shop that size.
    """
    with fresh_bench(size.memory_models, time_budget=size.memory_budget) as bench:
        runs: list[Measure] = []
        while len(runs) < MAX_FIRST_SYNC_RUNS:
            measure = bench.run()
            runs.append(measure)
            show(f"first sync of {size.memory_models} models, run {len(runs)} with a "
                 f"{size.memory_budget:.0f} s budget", [
                     ("wall time", f"{measure.wall:.1f} s"),
                     ("peak RSS of the sync process",
                      f"{measure.sync['peak_rss_mb']:.0f} MB"),
                     ("finished", "yes" if measure.sync["complete"] else
                      "no, the next run carries on"),
                     ("PrestaShop requests / writes / reads",
                      f"{measure.shop_requests} / {measure.shop_writes} / "
                      f"{measure.shop_reads}"),
                     ("summary", measure.sync["summary"]),
                 ])
            if measure.sync["complete"]:
                break
        show(f"first sync of {size.memory_models} models, all {len(runs)} runs", [
            ("wall time", f"{sum(m.wall for m in runs):.1f} s"),
            ("highest peak RSS",
             f"{max(m.sync['peak_rss_mb'] for m in runs):.0f} MB"),
            ("PrestaShop requests / writes / reads",
             f"{sum(m.shop_requests for m in runs)} / "
             f"{sum(m.shop_writes for m in runs)} / "
             f"{sum(m.shop_reads for m in runs)}"),
            ("finished", "yes" if runs[-1].sync["complete"] else
             f"no, stopped after {len(runs)} runs"),
        ])
        if runs[-1].sync["complete"]:
            show(f"run with nothing new over {size.memory_models} models",
                 steady_figures([bench.run() for _ in range(size.runs)]))


def scenario_paced(size: Size) -> None:
    """A first sync at the default pacing: does it run at the paced rate?

    The shop answers in 50 ms; the run has a one-minute budget, so it stops
    early and the rate it kept is what the first sync of any catalogue keeps.
    """
    with fresh_bench(size.latency_models, pacing=DEFAULT_PACING,
                     time_budget=PACED_BUDGET) as bench:
        bench.servers.set_latency(50)
        measure = bench.run()
    rate = measure.shop_requests / measure.wall
    show(f"first sync at the default pacing ({DEFAULT_PACING:.0f} requests a "
         f"second), shop latency 50 ms, {PACED_BUDGET:.0f} s budget", [
             ("wall time", f"{measure.wall:.1f} s"),
             ("PrestaShop requests", str(measure.shop_requests)),
             ("PrestaShop requests a second", f"{rate:.2f}"),
             ("summary", measure.sync["summary"]),
         ])


def scenario_idle(size: Size) -> None:
    """Runs with nothing new over a big catalogue, in basic mode.

    Basic mode walks the whole catalogue once without writing (the shop has
    none of it), which sets every cursor in minutes where a full first sync
    of 10,000 models takes hours; the runs after it show what an idle cron
    run costs against a catalogue that size.
    """
    with fresh_bench(size.memory_models, mode="basic") as bench:
        walk = bench.run()
        show(f"basic mode, {size.memory_models} models, none in the shop: first run",
             steady_figures([walk]))
        show("run with nothing new", steady_figures(
            [bench.run() for _ in range(size.runs)]))


SCENARIOS: dict[str, Callable[[Size], None]] = {
    "sync": scenario_sync,
    "latency": scenario_latency,
    "memory": scenario_memory,
    "idle": scenario_idle,
    "paced": scenario_paced,
}
