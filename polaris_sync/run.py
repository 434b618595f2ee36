"""One scheduled cycle: lock, due stages, resync requests, summary, exit code.

cron starts ``polaris-sync run`` every few minutes. A cycle:

1. does nothing at all when the configuration says ``enabled = false`` (B2);
2. takes the run lock, or stops at once when another run holds it (B1);
3. picks the stages that are due by their interval (B3), all of them when a
   full resync was requested (B4, E12);
4. checks the Polaris access with one small read (stopping before anything
   else when the pairing is missing or refused, A2), then connects to
   PrestaShop;
5. runs each due stage in order, within the time budget;
6. records the run and prints one summary line; the exit code says whether
   everything went through (0), some items failed (1) or a stage failed (2, 3).

A dry run reads a private copy of the state, forbids every write to both
servers, writes no audit file and prints the plan instead (nothing anywhere is
changed, not even the state).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from polaris_sync.audit import Audit
from polaris_sync.config import Config
from polaris_sync.errors import ConfigError, PolarisSyncError, RemoteError
from polaris_sync.polaris.association import client_from_state
from polaris_sync.progress import Progress
from polaris_sync.stages.base import (
    STAGE_NAMES,
    WOULD_FAIL,
    Stage,
    StageContext,
    StageResult,
)
from polaris_sync.stages.products_feed import read_feed_first
from polaris_sync.state import MAPPING_RESYNC, State

LOCK_FILENAME = "polaris-sync.lock"

# A stage started up to this much early still counts as due: cron starts runs
# a few seconds apart from one period to the next.
DUE_GRACE_SECONDS = 30

# Share of the time budget each due stage keeps while an earlier one runs, and
# the least it gets when the stages before it overran.
SHARE_KEPT_PER_LATER_STAGE = 0.1

# Each stage is the `run` coroutine of its module.
STAGE_MODULES = {name: f"polaris_sync.stages.{name}" for name in STAGE_NAMES}

PRESTASHOP_KEY_CREDENTIAL = "prestashop.key"

# What the history says of a run whose process was killed before it ended.
INTERRUPTED_SUMMARY = (
    "interrupted: the process ended before the run finished (killed, or the "
    "machine stopped); the next run went on from where it had got to"
)

# Under cron every line printed is mailed: past this many, the log has them.
MAX_ERRORS_PRINTED = 20


@dataclass
class RunOptions:
    dry_run: bool = False
    # Run every stage now, whatever their intervals say.
    force: bool = False
    # Run only these stages (still in their usual order).
    only: tuple[str, ...] = ()
    # Re-sync the properties of these Polaris references only (E11).
    resync_refs: frozenset[str] = frozenset()


@dataclass
class Connections:
    """How to reach the servers; tests give in-process transports."""

    polaris_transport: httpx.AsyncBaseTransport | None = None
    prestashop_transport: httpx.AsyncBaseTransport | None = None


@dataclass
class RunReport:
    exit_code: int
    summary: str
    errors: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    results: list[StageResult] = field(default_factory=list)
    run_id: int | None = None
    # Requests sent to both servers, and how many of them wrote something.
    requests: int = 0
    writes: int = 0
    # "PATCH stock_availables" -> count; Polaris writes under "Polaris".
    writes_by_target: Counter[str] = field(default_factory=Counter)


class Terminated(BaseException):
    """The process was asked to stop (Ctrl-C, SIGTERM): end now, cleanly."""

    def __init__(self, signal_number: int) -> None:
        name = signal.Signals(signal_number).name
        super().__init__(f"interrupted ({name}); the next run carries on")
        self.exit_code = 128 + signal_number


# Ctrl-C sends SIGINT, `kill` and service managers SIGTERM: both mean "stop".
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Terminated` for the block.

    Killed by default, the run would leave no trace of its end; raised as an
    exception, the item in hand rolls back and the history says what happened.
    Ctrl-C would otherwise be a KeyboardInterrupt, which click reports as
    "Aborted!" with the exit code of failed items.
    """

    def stop(signal_number: int, _frame: Any) -> None:
        raise Terminated(signal_number)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class RunLocked(Exception):
    """Another run holds the lock."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


# -- the lock (B1) -------------------------------------------------------------


@contextlib.contextmanager
def run_lock(state_dir: Path) -> Iterator[None]:
    """Hold the run lock for the duration of the block.

    The lock is an OS lock on a file: it vanishes with the process holding it,
    so a run killed half-way leaves nothing to clean up and the next run takes
    over. The file names the holder for the message of a run turned away.
    """
    path = state_dir / LOCK_FILENAME
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise ConfigError(
            f"state_dir {state_dir} cannot hold the state ({error.strerror}): "
            f"choose a folder of your own in the configuration"
        ) from error
    with os.fdopen(descriptor, "r+", encoding="utf-8") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(lock_file.read().strip() or "unknown process") from None
        _write_holder(lock_file)
        try:
            yield
        finally:
            lock_file.truncate(0)
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def lock_holder(state_dir: Path) -> str | None:
    """Who holds the run lock now ("pid N since T"), or None; changes nothing."""
    path = state_dir / LOCK_FILENAME
    try:
        lock_file = path.open(encoding="utf-8")
    except FileNotFoundError:
        return None
    with lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return lock_file.read().strip() or "unknown process"
        fcntl.flock(lock_file, fcntl.LOCK_UN)
    return None


def _write_holder(lock_file: IO[str]) -> None:
    lock_file.seek(0)
    lock_file.truncate()
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    lock_file.write(f"pid {os.getpid()} since {started}")
    lock_file.flush()


# -- which stages are due (B3) -------------------------------------------------


def stage_interval(config: Config, stage: str) -> float:
    """Seconds between two runs of ``stage``."""
    return float(getattr(config.intervals, stage)) * 60


def next_due(config: Config, state: State, stage: str) -> float | None:
    """When ``stage`` is next due (epoch seconds); None: due now."""
    last = state.last_stage_success(stage)
    interval = stage_interval(config, stage)
    if last is None or interval == 0:
        return None
    due_at = last + interval
    return None if due_at - DUE_GRACE_SECONDS <= time.time() else due_at


def due_stages(config: Config, state: State, options: RunOptions) -> list[str]:
    kinds = {request.kind for request in state.pending_resyncs()}
    names = [name for name in STAGE_NAMES if not options.only or name in options.only]
    if options.force or options.only or "full" in kinds:
        return names
    return [
        name
        for name in names
        if next_due(config, state, name) is None
        or (name == "catalogue" and MAPPING_RESYNC in kinds)
    ]


def load_stage(name: str) -> Stage | None:
    """The stage's ``run`` coroutine, or None when this build has no such stage."""
    module_name = STAGE_MODULES[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            return None
        raise
    stage: Stage = module.run
    return stage


# -- the cycle -------------------------------------------------------------------


def run_cycle(
    config: Config,
    options: RunOptions | None = None,
    *,
    progress: Progress | None = None,
    connections: Connections | None = None,
    stages: Mapping[str, Stage] | None = None,
) -> RunReport:
    """Run one cycle and report; never raises for a stage or item failure."""
    options = options or RunOptions()
    if not config.enabled:
        return RunReport(0, "polaris-sync is paused (enabled = false): nothing done")
    if options.dry_run:
        return _cycle(config, options, progress, connections, stages)
    try:
        with run_lock(config.state_dir):
            return _cycle(config, options, progress, connections, stages)
    except RunLocked as locked:
        return RunReport(
            0, f"another run is still going ({locked.holder}): this one stops"
        )


def _cycle(
    config: Config,
    options: RunOptions,
    progress: Progress | None,
    connections: Connections | None,
    stages: Mapping[str, Stage] | None,
) -> RunReport:
    started = time.time()
    opener = State.open_snapshot if options.dry_run else State.open
    with opener(config.state_dir) as state:
        if not options.dry_run:
            state.end_interrupted_runs(INTERRUPTED_SUMMARY)
        run_id = state.start_run(dry_run=options.dry_run)
        try:
            report = asyncio.run(
                _run_stages(
                    config,
                    state,
                    options,
                    run_id,
                    progress or Progress(enabled=False),
                    connections or Connections(),
                    stages,
                )
            )
        except PolarisSyncError as error:
            # The summary line says why: no error line repeats it.
            report = RunReport(error.exit_code, f"run stopped: {error}")
        except Terminated as stop:
            state.finish_run(run_id, exit_code=stop.exit_code, summary=str(stop))
            raise
        except BaseException as error:
            # A bug: the history must not show a run that never ends.
            summary = f"run crashed: {type(error).__name__}: {error}"
            state.finish_run(run_id, exit_code=3, summary=summary)
            raise
        report.run_id = run_id
        report.summary += f" ({time.time() - started:.1f} s)"
        state.finish_run(run_id, exit_code=report.exit_code, summary=report.summary)
        state.prune_runs()
    return report


async def _run_stages(
    config: Config,
    state: State,
    options: RunOptions,
    run_id: int,
    progress: Progress,
    connections: Connections,
    stages: Mapping[str, Stage] | None,
) -> RunReport:
    due = due_stages(config, state, options)
    if not due:
        return RunReport(0, "nothing due")
    resyncs = _start_resyncs(state) if not options.only else []

    audit = Audit(
        None if options.dry_run else config.audit_path, dry_run=options.dry_run
    )
    deadline = _deadline(config)
    async with contextlib.AsyncExitStack() as clients:
        polaris = await clients.enter_async_context(
            client_from_state(config, state, transport=connections.polaris_transport)
        )
        polaris.writes_forbidden = options.dry_run
        prestashop = await clients.enter_async_context(
            _prestashop_client(config, state, connections, options.dry_run)
        )
        context = StageContext(
            config=config,
            state=state,
            polaris=polaris,
            prestashop=prestashop,
            audit=audit,
            progress=progress,
            dry_run=options.dry_run,
            deadline=deadline,
            resync_refs=options.resync_refs,
        )
        # Refused credentials stop the run before anything is touched (A2):
        # the run's first Polaris request comes before any stage. It is the
        # catalogue delta when a feed stage is due (read once and shared by
        # those stages), a small read of its own otherwise.
        if not await read_feed_first(context, due):
            await polaris.check_access()
        with audit:
            results, stopped = await _each_stage(due, stages, context, run_id)

    if _catalogue_read_whole(results):
        for request_id in resyncs:
            state.finish_resync(request_id)
    report = _report(results, stopped, audit, options.dry_run)
    report.requests = polaris.requests + sum(prestashop.requests.values())
    for (method, resource), count in prestashop.requests.items():
        if method not in ("GET", "HEAD"):
            report.writes_by_target[f"{method} {resource}"] += count
    if polaris.writes:
        report.writes_by_target["Polaris"] += polaris.writes
    report.writes = sum(report.writes_by_target.values())
    requests = _counted(report.requests, "request", "")
    report.summary += f"; {requests}, {_counted(report.writes, 'write', '')}"
    return report


async def _each_stage(
    due: list[str],
    stages: Mapping[str, Stage] | None,
    context: StageContext,
    run_id: int,
) -> tuple[list[StageResult], PolarisSyncError | None]:
    runnable: list[tuple[str, Stage]] = []
    for name in due:
        stage = stages.get(name) if stages is not None else load_stage(name)
        if stage is not None:
            runnable.append((name, stage))
    run_deadline = context.deadline
    results: list[StageResult] = []
    for position, (name, stage) in enumerate(runnable):
        context.deadline = _stage_deadline(
            context.config, run_deadline, len(runnable) - position - 1
        )
        started = time.time()
        try:
            result = await stage(context)
        except RemoteError as error:
            result = StageResult(name, complete=False)
            # What the stage did before it stopped, as its audit lines say.
            counted = context.audit.counted.items()
            for (stage_name, action, what), count in counted:
                if stage_name == name:
                    result.count(action, count, what=what)
            result.errors.append(f"{name}: {error}")
            _record(context.state, run_id, result, started)
            results.append(result)
            return results, error
        finally:
            context.progress.finish()
            context.deadline = run_deadline
        _record(context.state, run_id, result, started)
        results.append(result)
    return results, None


def _stage_deadline(
    config: Config, run_deadline: float | None, stages_after: int
) -> float | None:
    """The stage's own deadline: the run's, less a share kept for each later one.

    A first sync can take the catalogue hours; without these shares it would
    use every run's whole budget and stock, prices and orders would wait. An
    earlier stage may still overrun its deadline (writes in flight finish, a
    large feed is read whole): the stages after it then get their share anyway,
    so orders are exported and stock kept right whatever the catalogue does.
    The run overruns its budget by at most those shares.
    """
    if run_deadline is None:
        return None
    share = SHARE_KEPT_PER_LATER_STAGE * config.time_budget_seconds
    own = run_deadline - stages_after * share
    return max(own, time.monotonic() + share)


def _record(state: State, run_id: int, result: StageResult, started: float) -> None:
    state.record_stage(
        run_id,
        result.stage,
        started_at=started,
        complete=result.complete,
        counts=result.counts,
        errors=result.errors,
    )


def _start_resyncs(state: State) -> list[int]:
    """Start the resyncs asked for; the ids of those that end with the catalogue.

    A full resync forgets cursors and fingerprints: everything is read and
    checked again. It is done with at once: a catalogue needing several runs
    must not lose, at each run, what the previous one wrote; cursors stay
    unset until each stage has been through everything. A changed mapping
    only makes the catalogue due now (the catalogue itself reads everything
    again when its mappings changed), until it has been through everything.
    """
    pending = state.pending_resyncs()
    with state.transaction():
        for request in pending:
            if request.kind == "full":
                state.clear_cursors()
                state.clear_fingerprints()
                state.finish_resync(request.id)
    return [request.id for request in pending if request.kind == MAPPING_RESYNC]


def _catalogue_read_whole(results: list[StageResult]) -> bool:
    return any(r.stage == "catalogue" and r.complete for r in results)


def _deadline(config: Config) -> float | None:
    if not config.time_budget_seconds:
        return None
    return time.monotonic() + config.time_budget_seconds


def _prestashop_client(
    config: Config, state: State, connections: Connections, dry_run: bool
) -> Any:
    client = open_prestashop(config, state, connections.prestashop_transport)
    client.writes_forbidden = dry_run
    return client


def open_prestashop(
    config: Config,
    state: State,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Any:
    """The shop's Webservice client, or ConfigError when no key is known."""
    from polaris_sync.prestashop.client import PrestaShopClient

    key = config.prestashop_key(stored=state.credential(PRESTASHOP_KEY_CREDENTIAL))
    if not key:
        raise ConfigError(
            "no PrestaShop Webservice key: run `polaris-sync init`, set "
            "POLARIS_SYNC_PRESTASHOP_KEY, or set prestashop.key in the configuration"
        )
    client = PrestaShopClient(
        config.prestashop.url,
        key,
        max_concurrency=config.prestashop.max_concurrency,
        max_requests_per_second=config.prestashop.max_requests_per_second,
        timeout=config.prestashop.timeout_seconds,
        transport=transport,
    )
    return client


# -- the report -------------------------------------------------------------------


def _report(
    results: list[StageResult],
    stopped: PolarisSyncError | None,
    audit: Audit,
    dry_run: bool,
) -> RunReport:
    errors = [line for result in results for line in result.errors]
    parts = [_stage_summary(result) for result in results]
    if stopped is not None:
        # The stage that stopped says why in the summary, and only there.
        said = f"{results[-1].stage}: {stopped}"
        errors = [line for line in errors if line != said]
        parts[-1] = _stage_summary(results[-1], stopped=stopped)
    summary = ("dry run: " if dry_run else "") + ("; ".join(parts) or "no stage ran")
    if stopped is not None:
        exit_code = stopped.exit_code
    elif any(result.failed or result.would_fail for result in results):
        # A dry run exits as the real run would: 1 when items would fail.
        exit_code = 1
    else:
        exit_code = 0
    plan = [_plan_line(event) for event in audit.planned] if dry_run else []
    return RunReport(exit_code, summary, errors, plan, results)


def _stage_summary(
    result: StageResult, stopped: PolarisSyncError | None = None
) -> str:
    counts = ", ".join(
        _counted(count, what, action)
        for (action, what), count in sorted(result.counted.items(), key=_in_order)
        if count
    )
    if stopped is not None:
        done = f"{counts}, then " if counts else ""
        return f"{result.stage}: {done}stopped: {stopped}"
    text = f"{result.stage}: {counts or 'nothing to do'}"
    if not result.complete:
        text += " (unfinished, continues next run)"
    return text


# Summary order: what was done, then what was left as it was, then problems.
_ACTION_ORDER = (
    "created",
    "updated",
    "planned",
    "unchanged",
    "skipped",
    "failed",
    WOULD_FAIL,
)


def _in_order(entry: tuple[tuple[str, str], int]) -> tuple[int, str, str]:
    (action, what), _ = entry
    rank = _ACTION_ORDER.index(action) if action in _ACTION_ORDER else 2
    return rank, action, what


def _counted(count: int, what: str, action: str) -> str:
    """`3 sizes updated`; `2 tables` when the action itself says what."""
    if not what:
        return f"{count} {action}"
    return f"{count} {what if count == 1 else what + 's'} {action}".rstrip()


WOULD = {"created": "would create", "updated": "would update", "skipped": "would skip"}


def _plan_line(event: Mapping[str, Any]) -> str:
    """One line of a dry run's plan: stage, item, what would happen and why."""
    target = str(event.get("polaris_key") or "")
    if event.get("prestashop_id") is not None:
        target += f" (PrestaShop #{event['prestashop_id']})"
    action = event["action"]
    verb = "" if action == "planned" else WOULD.get(action, action)
    head = " ".join(part for part in (verb, target.strip()) if part)
    return f"{event['stage']}: {head + ': ' if head else ''}{event['reason']}"
