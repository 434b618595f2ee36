"""The state store: links, fingerprints, cursors, mappings, runs, credentials."""

import asyncio
import sqlite3
import stat

import pytest

from polaris_sync.errors import ConfigError
from polaris_sync.state import MIGRATIONS, STATE_FILENAME, State


@pytest.fixture
def state(tmp_path):
    with State.open(tmp_path / "state") as opened:
        yield opened


def test_links_fingerprints_and_cursors_survive_reopening(tmp_path):
    with State.open(tmp_path) as state:
        state.set_link("product", "1042-NOIR", 17)
        state.set_link("product", "1042-NOIR", 18)
        state.set_fingerprint("product", "1042-NOIR", "abc")
        state.set_cursor("catalogue", "2026-12-01T10:00:00")

    with State.open(tmp_path) as state:
        assert state.link("product", "1042-NOIR") == 18
        assert state.link("product", "other") is None
        assert state.links("product") == {"1042-NOIR": 18}
        assert state.fingerprint("product", "1042-NOIR") == "abc"
        assert state.cursor("catalogue") == "2026-12-01T10:00:00"
        state.set_cursor("catalogue", None)
        assert state.cursor("catalogue") is None


def test_state_files_are_owner_only_A1(tmp_path):
    state_dir = tmp_path / "private"
    with State.open(state_dir) as state:
        state.set_credential("polaris.key", "s3cret")

    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    for path in state_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_failed_transaction_leaves_nothing(state):
    with pytest.raises(RuntimeError):
        with state.transaction():
            state.set_link("product", "A", 1)
            with state.transaction():
                state.set_fingerprint("product", "A", "x")
            raise RuntimeError("crash in the middle of an item")

    assert state.link("product", "A") is None
    assert state.fingerprint("product", "A") is None


def test_noted_mapping_values_keep_the_merchant_target_F7(state):
    assert state.note_mapping_value("brand", "NIKE", "Nike") is True
    assert state.mapping("brand", "NIKE").target is None

    state.set_mapping("brand", "NIKE", "4")
    assert state.note_mapping_value("brand", "NIKE", "Nike new label") is False

    row = state.mapping("brand", "NIKE")
    assert (row.target, row.label) == ("4", "Nike")
    assert row.target_ids() == [4]


def test_mapping_rows_with_several_categories_and_ignore_F3_F5(state):
    state.set_mapping("category", "R1", "3,7", default_weight=0.5)
    state.set_mapping("category", "R2", "ignore")

    rows = {row.source: row for row in state.mapping_rows("category")}
    assert rows["R1"].target_ids() == [3, 7]
    assert rows["R1"].default_weight == 0.5
    assert rows["R2"].ignored and rows["R2"].target_ids() == []
    assert state.mapping_rows("brand") == []


def test_locks_E10(state):
    state.lock("1042")
    state.lock("1042")
    assert state.is_locked("1042")
    assert state.locked_refs() == ["1042"]
    assert state.unlock("1042") is True
    assert state.unlock("1042") is False
    assert not state.is_locked("1042")


def test_run_history_keeps_stage_counts_and_errors_H2(state):
    run_id = state.start_run()
    state.record_stage(
        run_id,
        "stock",
        started_at=1000.0,
        complete=True,
        counts={"updated": 3},
        errors=["1042-NOIR: refused"],
    )
    state.finish_run(run_id, exit_code=1, summary="stock: 3 updated, 1 failed")

    [run] = state.last_runs()
    assert run.exit_code == 1
    assert run.stages["stock"]["counts"] == {"updated": 3}
    assert run.stages["stock"]["errors"] == ["1042-NOIR: refused"]
    assert state.last_stage_success("stock") == 1000.0
    assert state.last_stage_success("prices") is None


def test_dry_run_history_does_not_count_as_a_stage_success_B3(state):
    run_id = state.start_run(dry_run=True)
    state.record_stage(
        run_id, "stock", started_at=5.0, complete=True, counts={}, errors=[]
    )
    assert state.last_stage_success("stock") is None


def test_resync_requests_are_pending_until_done_B4_E11(state):
    full = state.request_resync()
    one = state.request_resync("product", "1042")
    assert [(r.kind, r.polaris_ref) for r in state.pending_resyncs()] == [
        ("full", None),
        ("product", "1042"),
    ]
    state.finish_resync(full)
    assert [r.id for r in state.pending_resyncs()] == [one]


def test_clearing_credentials_by_prefix_A3(state):
    state.set_credential("polaris.key", "k")
    state.set_credential("polaris.url", "u")
    state.set_credential("prestashop.key", "p")
    state.clear_credentials("polaris.")
    assert state.credential("polaris.key") is None
    assert state.credential("prestashop.key") == "p"


def test_migrations_run_once_and_record_the_schema_version(tmp_path):
    with State.open(tmp_path) as state:
        assert state.schema_version == len(MIGRATIONS)
    with State.open(tmp_path) as state:
        assert state.schema_version == len(MIGRATIONS)


def test_a_newer_schema_is_refused(tmp_path):
    with State.open(tmp_path):
        pass
    db = sqlite3.connect(tmp_path / STATE_FILENAME)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(ConfigError, match="newer polaris-sync"):
        State.open(tmp_path)


def test_snapshot_writes_never_reach_the_disk(tmp_path):
    with State.open(tmp_path) as state:
        state.set_link("product", "A", 1)

    with State.open_snapshot(tmp_path) as snapshot:
        assert snapshot.link("product", "A") == 1
        snapshot.set_link("product", "B", 2)

    assert sorted(path.name for path in tmp_path.iterdir()) == [STATE_FILENAME]
    with State.open(tmp_path) as state:
        assert state.links("product") == {"A": 1}


def test_snapshot_of_missing_state_creates_no_file(tmp_path):
    with State.open_snapshot(tmp_path / "none") as snapshot:
        snapshot.set_cursor("x", "y")
    assert not (tmp_path / "none").exists()


def test_snapshot_sees_what_a_running_writer_committed(tmp_path):
    with State.open(tmp_path) as writer:
        writer.set_link("product", "A", 1)
        # The writer is still open: its commit may sit in the WAL only.
        with State.open_snapshot(tmp_path) as snapshot:
            assert snapshot.link("product", "A") == 1


def test_a_transaction_held_across_an_await_is_refused(state):
    async def item(name, pause):
        with state.transaction():
            state.set_link("product", name, 1)
            await asyncio.sleep(pause)

    async def two_items():
        await asyncio.gather(item("A", 0.01), item("B", 0))

    with pytest.raises(RuntimeError, match="must not span an await"):
        asyncio.run(two_items())


def test_old_run_history_is_pruned_but_stage_successes_stay_recent(state):
    old_run = state.start_run()
    state.record_stage(
        old_run, "stock", started_at=1.0, complete=True, counts={}, errors=[]
    )
    state.execute("UPDATE runs SET started_at = 1 WHERE id = ?", (old_run,))
    recent = state.start_run()

    assert state.prune_runs(keep_days=60) == 1
    assert [run.id for run in state.last_runs()] == [recent]
    assert state.last_stage_success("stock") is None


def test_an_older_database_is_upgraded_in_place_keeping_its_data(tmp_path):
    db = sqlite3.connect(tmp_path / STATE_FILENAME, isolation_level=None)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO links VALUES ('product', '1042/NOIR', 7)")
    db.close()

    with State.open(tmp_path) as state:
        assert state.schema_version == len(MIGRATIONS)
        assert state.link("product", "1042/NOIR") == 7
        state.set_polaris_table("Magasins", [{"CodeMagasin": 1}])
        assert state.polaris_table("Magasins") == [{"CodeMagasin": 1}]
