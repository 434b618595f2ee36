"""E10, E11, H2: `lock`, `resync-product` and `log --ref` take the names a
merchant sees: model number, model:colour key, shop reference."""

import pytest
from click.testing import CliRunner

from polaris_sync.audit import Audit
from polaris_sync.cli import cli
from polaris_sync.state import State


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLARIS_SYNC_CONFIG", raising=False)
    (tmp_path / "polaris-sync.toml").write_text(
        'state_dir = "state"\n[prestashop]\nurl = "http://127.0.0.1:9/api"\n'
    )
    with State.open(tmp_path / "state") as state:
        state.set_link("product", "1033:NOI", 5)
        state.set_link("product", "1033:BLE", 6)
        state.set_link("product", "1042:NOIR", 7)
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def locks(workdir):
    with State.open(workdir / "state") as state:
        return state.locked_refs()


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("1033-NOI", "1033:NOI"), ("1033:NOI", "1033:NOI"), ("1033", "1033")],
)
def test_lock_resolves_the_three_names_of_a_product_E10(workdir, typed, kept):
    result = invoke("lock", typed)

    assert result.exit_code == 0
    assert result.output.startswith(f"{kept} ")
    assert locks(workdir) == [kept]

    assert invoke("unlock", typed).output.strip() == f"{kept} unlocked"
    assert locks(workdir) == []


def test_lock_refuses_a_name_no_product_has_E10(workdir):
    result = invoke("lock", "9999")

    assert result.exit_code == 2
    assert "'9999'" in result.stderr and "model number" in result.stderr
    assert locks(workdir) == []


def test_help_of_lock_and_resync_product_says_what_ref_is(workdir):
    for command in ("lock", "resync-product"):
        text = " ".join(invoke(command, "--help").output.split())
        assert "model number" in text and "1033:NOI" in text and "1033-NOI" in text


def test_resync_product_refuses_an_unknown_name_before_running_E11(workdir):
    result = invoke("resync-product", "9999")

    assert result.exit_code == 2
    assert "'9999'" in result.stderr and "skipped" not in result.output
    with State.open(workdir / "state") as state:
        assert state.last_runs() == []


def test_log_finds_events_by_shop_reference_and_checks_the_action_H2(workdir):
    with Audit(workdir / "state" / "audit") as audit:
        audit.event(
            "updated", stage="catalogue", reason="name changed", polaris_key="1033:NOI"
        )
        audit.event(
            "updated",
            stage="catalogue",
            reason="price changed",
            polaris_key="1042:NOIR",
        )

    shown = invoke("log", "--ref", "1033-NOI").output
    assert "name changed" in shown and "price changed" not in shown

    wrong = invoke("log", "--action", "skip")
    assert wrong.exit_code == 2 and "'skip' is not one of" in wrong.output
