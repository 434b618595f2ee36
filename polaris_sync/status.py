"""What `polaris-sync status` and `polaris-sync log` show (H2).

Status answers the questions asked when something looks wrong: is the daemon
paired and with what, what did the last runs do, what runs next and when, what
is waiting for the merchant. No key is ever shown.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from polaris_sync.audit import read_events
from polaris_sync.config import PRESTASHOP_KEY_ENV, Config
from polaris_sync.journal import Journal
from polaris_sync.polaris.association import load_association
from polaris_sync.run import (
    PRESTASHOP_KEY_CREDENTIAL,
    lock_holder,
    next_due,
    stage_interval,
)
from polaris_sync.stages.base import STAGE_NAMES
from polaris_sync.state import (
    MAPPING_RESYNC,
    WILDCARD,
    ResyncRequest,
    RunRecord,
    State,
)

MAX_ERRORS_SHOWN = 5


def status_lines(config: Config, state: State) -> Iterator[str]:
    yield f"configuration: {config.source}"
    paused = "" if config.enabled else "  PAUSED (enabled = false)"
    yield f"mode: {config.mode}{paused}"
    yield from _association_lines(state)
    yield f"prestashop: {config.prestashop.url}  key: {_key_source(config, state)}"
    holder = lock_holder(config.state_dir)
    if holder is not None:
        yield f"a run is going now ({holder})"
    yield ""
    yield from _stage_lines(config, state)
    yield ""
    yield from _waiting_lines(state)
    yield ""
    yield from _run_lines(state, going=holder is not None)


def _association_lines(state: State) -> Iterator[str]:
    association = load_association(state)
    if association is None:
        yield "polaris: not associated (run `polaris-sync associate`)"
        return
    test = ", TEST access" if association.test_mode else ""
    if not association.url.startswith("https://"):
        test += ", UNENCRYPTED (http)"
    yield (
        f"polaris: {association.url}  licence {association.licence}, "
        f"store {association.store_code}{test}, associated {association.associated_at}"
    )
    for pin in association.pins:
        yield f"  pinned certificate {pin.origin}: SHA-256 {pin.sha256}"


def _key_source(config: Config, state: State) -> str:
    if config.prestashop.key is not None:
        return "set in the configuration file"
    if os.environ.get(PRESTASHOP_KEY_ENV):
        return f"from {PRESTASHOP_KEY_ENV}"
    if state.credential(PRESTASHOP_KEY_CREDENTIAL):
        return "stored in the state database"
    return "MISSING (run `polaris-sync init`)"


def _stage_lines(config: Config, state: State) -> Iterator[str]:
    yield "stage      every     last success          next"
    for stage in STAGE_NAMES:
        interval = stage_interval(config, stage)
        every = _every(interval)
        last = state.last_stage_success(stage)
        due = next_due(config, state, stage)
        nxt = "next run" if due is None else f"after {_when(due)}"
        if state.last_stage_unfinished(stage):
            nxt += " (carries on where the last run stopped)"
        yield f"{stage:<10} {every:<9} {_when(last) if last else 'never':<21} {nxt}"


def _outcome(run: RunRecord, going: bool) -> str:
    if run.exit_code is not None:
        return f"exit {run.exit_code}: {run.summary}"
    if going:
        return "running"
    # Not finished and nobody holds the lock: its process died (B1).
    return "interrupted before it finished (killed, or the machine stopped)"


def _resync(request: ResyncRequest) -> str:
    if request.kind == "full":
        return "full resync"
    if request.kind == MAPPING_RESYNC:
        return "catalogue read again (a mapping changed)"
    return f"resync {request.polaris_ref}"


def _every(seconds: float) -> str:
    if seconds == 0:
        return "each run"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min"


def _waiting_lines(state: State) -> Iterator[str]:
    resyncs = state.pending_resyncs()
    for request in resyncs:
        yield f"pending: {_resync(request)} requested {_when(request.requested_at)}"
    rows = state.mapping_rows()
    # A value without its own target follows the wildcard row when there is one.
    covered = {row.kind for row in rows if row.source == WILDCARD and row.target}
    unset = Counter(
        row.kind for row in rows if row.target is None and row.kind not in covered
    )
    for kind, count in sorted(unset.items()):
        yield (
            f"mappings: {count} {kind} value(s) without target "
            f"(see `polaris-sync mappings list {kind}`)"
        )
    locked = state.locked_refs()
    if locked:
        yield f"locked products (prices and stock only): {len(locked)}"
    in_error = Journal(state).orders_in_error()
    for order_id, reason in in_error[:MAX_ERRORS_SHOWN]:
        yield f"order {order_id} not exported: {reason}"
    if len(in_error) > MAX_ERRORS_SHOWN:
        yield f"... {len(in_error)} orders in all (see `polaris-sync log`)"
    if not resyncs and not unset and not locked and not in_error:
        yield "nothing waiting for you"


def _run_lines(state: State, going: bool) -> Iterator[str]:
    runs = state.last_runs()
    if not runs:
        yield "no run yet"
        return
    yield "last runs:"
    for run in runs:
        dry = " dry run" if run.dry_run else ""
        yield f"  {_when(run.started_at)}{dry} {_outcome(run, going)}"
        errors = [e for stage in run.stages.values() for e in stage["errors"]]
        for error in errors[:MAX_ERRORS_SHOWN]:
            yield f"    ! {error}"
        if len(errors) > MAX_ERRORS_SHOWN:
            hidden = len(errors) - MAX_ERRORS_SHOWN
            yield f"    ! ... {hidden} more in `polaris-sync log`"


def log_lines(
    events: Iterable[dict[str, Any]],
    *,
    stage: str | None = None,
    action: str | None = None,
    refs: tuple[str, ...] = (),
) -> Iterator[str]:
    """Events of this stage and action about a product named in ``refs``."""
    for event in events:
        if stage and event.get("stage") != stage:
            continue
        if action and event.get("action") != action:
            continue
        about = str(event.get("polaris_key", ""))
        if refs and not any(ref in about for ref in refs):
            continue
        yield _log_line(event)


def _log_line(event: dict[str, Any]) -> str:
    target = str(event.get("polaris_key") or "")
    if event.get("prestashop_id") is not None:
        target += f" #{event['prestashop_id']}"
    return (
        f"{event.get('time', '?')} {event.get('action', '?'):<9} "
        f"{event.get('stage', '?'):<9} {target}: {event.get('reason', '')}"
    )


def recent_events(config: Config, days: int) -> Iterator[dict[str, Any]]:
    return read_events(config.audit_path, days=days)


def _when(timestamp: float) -> str:
    moment = dt.datetime.fromtimestamp(timestamp)
    return moment.strftime("%Y-%m-%d %H:%M:%S")
