"""The scheduled cycle: pause, lock, due stages, resync, budget, exit codes, dry run."""

import fcntl
import hashlib
import os
import time

import httpx
import pytest

from polaris_sync.config import parse_config
from polaris_sync.errors import TransientError
from polaris_sync.polaris.association import Association, save_association
from polaris_sync.run import (
    LOCK_FILENAME,
    Connections,
    RunOptions,
    lock_holder,
    run_cycle,
    run_lock,
)
from polaris_sync.stages.base import STAGE_NAMES, StageResult
from polaris_sync.state import STATE_FILENAME, State
from polaris_sync.status import status_lines


class Servers:
    """Both servers as in-process fakes that count what reaches them."""

    def __init__(self):
        self.polaris = []
        self.prestashop = []

    def connections(self, polaris_status=200):
        def polaris(request):
            self.polaris.append(request)
            return httpx.Response(polaris_status, json={"Items": []})

        def prestashop(request):
            self.prestashop.append(request)
            return httpx.Response(200, json={})

        return Connections(
            httpx.MockTransport(polaris), httpx.MockTransport(prestashop)
        )


class Recorder:
    """Stages that note each call and return what the test asks."""

    def __init__(self):
        self.calls = []
        self.behaviour = {}

    def stages(self):
        return {name: self._stage(name) for name in STAGE_NAMES}

    def _stage(self, name):
        async def stage(ctx):
            self.calls.append((name, ctx))
            action = self.behaviour.get(name)
            if isinstance(action, Exception):
                raise action
            if callable(action):
                return action(ctx)
            result = StageResult(name)
            result.count("updated")
            return result

        return stage

    @property
    def names(self):
        return [name for name, _ in self.calls]


def make_config(tmp_path, **top):
    raw = {
        "prestashop": {"url": "http://127.0.0.1:9/api", "key": "ps-key"},
        "intervals": {"config": 60, "catalogue": 30, "customers": 60},
        **top,
    }
    return parse_config(raw, tmp_path / "polaris-sync.toml")


def associate_in(config):
    with State.open(config.state_dir) as state:
        save_association(
            state,
            Association(
                licence="pl-p8-111-2222",
                url="http://127.0.0.1:9/api/WebConnect",
                key="polaris-key",
                store_code=1,
                test_mode=False,
                associated_at="2026-12-04T10:00:00+00:00",
            ),
        )


@pytest.fixture
def setup(tmp_path):
    config = make_config(tmp_path)
    associate_in(config)
    return config, Recorder(), Servers()


def cycle(config, recorder, servers, **options):
    return run_cycle(
        config,
        RunOptions(**options),
        connections=servers.connections(),
        stages=recorder.stages(),
    )


def test_paused_configuration_calls_nothing_and_writes_nothing_B2(tmp_path):
    config = make_config(tmp_path / "fresh", enabled=False)
    recorder, servers = Recorder(), Servers()

    report = cycle(config, recorder, servers)

    assert report.exit_code == 0 and "paused" in report.summary
    assert recorder.calls == [] and servers.polaris == servers.prestashop == []
    assert not (tmp_path / "fresh").exists()


def test_a_second_run_stops_at_once_while_one_holds_the_lock_B1(setup):
    config, recorder, servers = setup
    with open(config.state_dir / LOCK_FILENAME, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        report = cycle(config, recorder, servers)

    assert report.exit_code == 0
    assert "another run is still going" in report.summary
    assert recorder.calls == []


def test_a_lock_left_by_a_dead_run_is_taken_over_B1(setup):
    config, recorder, servers = setup
    (config.state_dir / LOCK_FILENAME).write_text("pid 999999 since yesterday")

    report = cycle(config, recorder, servers)

    assert report.exit_code == 0
    assert recorder.names == list(STAGE_NAMES)


def test_the_lock_names_its_holder(tmp_path):
    assert lock_holder(tmp_path) is None
    with run_lock(tmp_path):
        holder = (tmp_path / LOCK_FILENAME).read_text()
        assert lock_holder(tmp_path) == holder
    assert holder.startswith(f"pid {os.getpid()} since ")
    assert lock_holder(tmp_path) is None


def test_only_due_stages_run_B3(setup):
    config, recorder, servers = setup
    cycle(config, recorder, servers)
    assert recorder.names == list(STAGE_NAMES)

    recorder.calls.clear()
    cycle(config, recorder, servers)
    # config, catalogue and customers have intervals; the others run each time.
    assert recorder.names == ["stock", "prices", "orders"]


def test_a_stage_becomes_due_when_its_interval_has_passed_B3(setup):
    config, recorder, servers = setup
    cycle(config, recorder, servers)
    with State.open(config.state_dir) as state:
        state.execute("UPDATE stage_runs SET started_at = started_at - 31 * 60")

    recorder.calls.clear()
    cycle(config, recorder, servers)
    assert recorder.names == ["catalogue", "stock", "prices", "orders"]


def test_full_resync_runs_everything_from_the_start_B4_E12(setup):
    config, recorder, servers = setup
    cycle(config, recorder, servers)
    with State.open(config.state_dir) as state:
        state.set_cursor("catalogue", "2026-12-04T10:00:00")
        state.set_fingerprint("product", "1042", "abc")
        state.request_resync()

    recorder.calls.clear()
    cycle(config, recorder, servers)

    assert recorder.names == list(STAGE_NAMES)
    with State.open(config.state_dir) as state:
        assert state.cursor("catalogue") is None
        assert state.fingerprint("product", "1042") is None
        assert state.pending_resyncs() == []


def test_the_next_run_closes_a_run_whose_process_was_killed_B1(setup):
    config, recorder, servers = setup
    with State.open(config.state_dir) as state:
        killed = state.start_run()  # the process died before finish_run

    cycle(config, recorder, servers)

    with State.open(config.state_dir) as state:
        latest, interrupted = state.last_runs(2)
    assert interrupted.id == killed
    assert interrupted.exit_code == 3 and "interrupted" in interrupted.summary
    assert latest.exit_code == 0


def test_a_full_resync_longer_than_a_run_keeps_what_each_run_wrote_E12(setup):
    config, recorder, servers = setup
    with State.open(config.state_dir) as state:
        state.request_resync()

    def writes_some(ctx):
        ctx.state.set_fingerprint("product", "1042", "written by this run")
        return StageResult("catalogue", complete=False)

    recorder.behaviour["catalogue"] = writes_some
    cycle(config, recorder, servers)
    recorder.behaviour["catalogue"] = lambda ctx: StageResult("catalogue")
    cycle(config, recorder, servers)

    with State.open(config.state_dir) as state:
        assert state.fingerprint("product", "1042") == "written by this run"


def test_a_changed_mapping_makes_the_catalogue_due_until_it_read_everything_F5(
    setup,
):
    config, recorder, servers = setup
    cycle(config, recorder, servers)
    with State.open(config.state_dir) as state:
        state.set_fingerprint("product", "1042", "abc")
        state.request_resync("catalogue")
    recorder.behaviour["catalogue"] = lambda ctx: StageResult(
        "catalogue", complete=False
    )

    recorder.calls.clear()
    cycle(config, recorder, servers)
    assert "catalogue" in recorder.names
    with State.open(config.state_dir) as state:
        assert state.fingerprint("product", "1042") == "abc"
        assert [r.kind for r in state.pending_resyncs()] == ["catalogue"]

    recorder.behaviour.pop("catalogue")
    cycle(config, recorder, servers)
    recorder.calls.clear()
    cycle(config, recorder, servers)
    assert "catalogue" not in recorder.names
    with State.open(config.state_dir) as state:
        assert state.pending_resyncs() == []


def test_without_association_nothing_is_touched_and_it_says_associate_A2(tmp_path):
    config = make_config(tmp_path)
    recorder, servers = Recorder(), Servers()

    report = cycle(config, recorder, servers)

    assert report.exit_code == 3
    assert "associate" in report.summary
    assert recorder.calls == [] and servers.prestashop == []


def test_failed_items_give_exit_1_and_are_kept_in_history_B5(setup):
    config, recorder, servers = setup

    def one_failure(ctx):
        result = StageResult("stock")
        result.count("updated", 4, what="size")
        result.fail("1042/NOIR: PrestaShop refused the quantity", what="size")
        return result

    recorder.behaviour["stock"] = one_failure
    report = cycle(config, recorder, servers)

    assert report.exit_code == 1
    assert report.errors == ["1042/NOIR: PrestaShop refused the quantity"]
    # Each figure says what it counts (H2).
    assert "stock: 4 sizes updated, 1 size failed" in report.summary
    with State.open(config.state_dir) as state:
        [run] = state.last_runs()
    assert run.exit_code == 1
    assert run.stages["stock"]["errors"] == report.errors


def test_a_failed_stage_stops_the_run_with_exit_3_B5(setup):
    config, recorder, servers = setup
    recorder.behaviour["catalogue"] = TransientError("the shop answered 503")

    report = cycle(config, recorder, servers)

    assert report.exit_code == 3
    assert recorder.names == ["config", "catalogue"]
    assert "the shop answered 503" in report.summary
    with State.open(config.state_dir) as state:
        assert state.last_stage_success("catalogue") is None
        assert state.last_stage_success("config") is not None


def test_a_failed_stage_still_reports_what_it_did_before_it_stopped_B5(setup):
    config, recorder, servers = setup

    def writes_then_fails(ctx):
        for key in ("1042:NOI", "1043:BLE"):
            ctx.audit.event(
                "created",
                stage="catalogue",
                reason="new",
                polaris_key=key,
                what="product",
            )
        raise TransientError("10 items in a row failed on a server error")

    recorder.behaviour["catalogue"] = writes_then_fails
    report = cycle(config, recorder, servers)

    assert report.exit_code == 3
    assert (
        "catalogue: 2 products created, then stopped: 10 items in a row"
        in report.summary
    )


class FakeClock:
    """time.monotonic for the run and the stages; stages advance it."""

    def __init__(self):
        self.now = 10_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(time, "monotonic", fake)
    return fake


def test_a_catalogue_overrunning_the_budget_still_lets_every_stage_run_B3(
    tmp_path, clock
):
    config = make_config(tmp_path, time_budget_seconds=100)
    associate_in(config)
    recorder = Recorder()
    granted = {}

    def spends_everything(ctx):
        clock.now += 150  # writes in flight end well past the run's budget
        return StageResult("catalogue", complete=False)

    def measures(name):
        def stage(ctx):
            granted[name] = ctx.deadline - clock.now
            clock.now += 1
            return StageResult(name)

        return stage

    recorder.behaviour["catalogue"] = spends_everything
    for name in ("stock", "prices", "orders", "customers"):
        recorder.behaviour[name] = measures(name)
    report = cycle(config, recorder, Servers())

    assert recorder.names == list(STAGE_NAMES)
    assert granted == {"stock": 10, "prices": 10, "orders": 10, "customers": 10}
    assert "catalogue: nothing to do (unfinished, continues next run)" in (
        report.summary
    )
    with State.open(config.state_dir) as state:
        assert state.last_stage_success("catalogue") is None
        assert state.last_stage_success("orders") is not None
        assert state.last_stage_unfinished("catalogue")
        assert not state.last_stage_unfinished("config")
        status = list(status_lines(config, state))
    [catalogue] = [line for line in status if line.startswith("catalogue ")]
    assert catalogue.endswith("next run (carries on where the last run stopped)")


def test_a_long_catalogue_leaves_time_to_the_stages_after_it(tmp_path, clock):
    config = make_config(tmp_path, time_budget_seconds=100)
    associate_in(config)
    recorder = Recorder()
    granted = {}

    def catches_up(ctx):
        granted["catalogue"] = ctx.deadline - clock.now
        clock.now = ctx.deadline  # works until its own deadline
        return StageResult("catalogue", complete=False)

    def stock(ctx):
        granted["stock"] = ctx.deadline - clock.now
        return StageResult("stock")

    recorder.behaviour.update(catalogue=catches_up, stock=stock)
    cycle(config, recorder, Servers())

    # Four stages come after the catalogue: each keeps a tenth of the budget.
    assert granted == {"catalogue": 60, "stock": 10}
    assert recorder.names == list(STAGE_NAMES)


def test_dry_run_changes_nothing_and_prints_the_plan(setup):
    config, recorder, servers = setup
    cycle(config, recorder, servers)
    state_file = config.state_dir / STATE_FILENAME
    before = hashlib.sha256(state_file.read_bytes()).hexdigest()

    def plans(ctx):
        ctx.state.set_link("product", "1042/NOIR", 99)
        ctx.audit.event(
            "created",
            stage="catalogue",
            reason="new in Polaris",
            polaris_key="1042/NOIR",
        )
        assert ctx.dry_run and ctx.prestashop.writes_forbidden
        assert ctx.polaris.writes_forbidden
        return StageResult("catalogue")

    recorder.behaviour["catalogue"] = plans
    report = cycle(config, recorder, servers, dry_run=True, force=True)

    assert report.plan == ["catalogue: would create 1042/NOIR: new in Polaris"]
    assert report.summary.startswith("dry run: ")
    assert hashlib.sha256(state_file.read_bytes()).hexdigest() == before
    assert not config.audit_path.exists()
    with State.open(config.state_dir) as state:
        assert state.link("product", "1042/NOIR") is None
        assert len(state.last_runs()) == 1


def test_resync_product_passes_the_reference_to_the_catalogue_E11(setup):
    config, recorder, servers = setup
    cycle(
        config, recorder, servers, only=("catalogue",), resync_refs=frozenset({"1042"})
    )
    [(name, ctx)] = recorder.calls
    assert name == "catalogue" and ctx.resync_refs == {"1042"}


def test_missing_prestashop_key_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.delenv("POLARIS_SYNC_PRESTASHOP_KEY", raising=False)
    config = parse_config(
        {"prestashop": {"url": "http://127.0.0.1:9/api"}}, tmp_path / "p.toml"
    )
    associate_in(config)
    report = cycle(config, Recorder(), Servers())
    assert report.exit_code == 2
    assert "no PrestaShop Webservice key" in report.summary


def test_the_report_counts_requests_and_writes(setup):
    config, recorder, servers = setup

    async def customers(ctx):
        await ctx.polaris.get_config("Magasins")
        await ctx.polaris.upsert_customer({"RefsExt": ["WEB-1"]})
        return StageResult("customers")

    report = run_cycle(
        config,
        RunOptions(only=("customers",)),
        connections=servers.connections(),
        stages={"customers": customers},
    )

    # The access check, the stage's read, the stage's write.
    assert (report.requests, report.writes) == (3, 1)
    assert report.writes_by_target == {"Polaris": 1}
    assert "3 requests, 1 write" in report.summary
    assert [r.method for r in servers.polaris] == ["GET", "GET", "POST"]


def test_a_crashing_stage_is_recorded_as_crashed(setup):
    config, recorder, servers = setup
    recorder.behaviour["stock"] = ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        cycle(config, recorder, servers)

    with State.open(config.state_dir) as state:
        [run] = state.last_runs()
    assert run.exit_code == 3
    assert "ZeroDivisionError: a bug" in run.summary


def test_a_refused_polaris_key_stops_the_run_before_anything_A2(setup):
    config, recorder, servers = setup

    report = run_cycle(
        config,
        RunOptions(),
        connections=servers.connections(polaris_status=401),
        stages=recorder.stages(),
    )

    assert report.exit_code == 3
    assert "associate again" in report.summary
    # The summary says why; no error line repeats it.
    assert report.errors == []
    assert recorder.calls == [] and servers.prestashop == []
    assert len(servers.polaris) == 1


def test_plan_lines_read_with_or_without_a_polaris_key():
    """A dry run's plan: one space between the verb, the item and its id."""
    from polaris_sync.run import _plan_line

    keyed = {"stage": "stock", "action": "updated", "polaris_key": "001-NOI",
             "prestashop_id": 4, "reason": "stock 3 -> 5"}
    unkeyed = {**keyed, "action": "skipped", "polaris_key": ""}
    planned = {"stage": "orders", "action": "planned", "reason": "sale 7 sent"}

    assert _plan_line(keyed) == (
        "stock: would update 001-NOI (PrestaShop #4): stock 3 -> 5"
    )
    assert _plan_line(unkeyed) == "stock: would skip (PrestaShop #4): stock 3 -> 5"
    assert _plan_line(planned) == "orders: sale 7 sent"
