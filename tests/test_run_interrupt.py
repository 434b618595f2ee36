"""Ctrl-C and SIGTERM end a run cleanly: item rolled back, run recorded, exit 130."""

import os
import signal

import pytest
from click.testing import CliRunner
from test_run import Recorder, Servers, associate_in, cycle, make_config

from polaris_sync import run as run_module
from polaris_sync.cli import cli
from polaris_sync.run import Terminated, terminate_cleanly
from polaris_sync.stages.base import StageResult
from polaris_sync.state import State


@pytest.fixture
def setup(tmp_path):
    config = make_config(tmp_path)
    associate_in(config)
    return config, Recorder(), Servers()


def test_ctrl_c_rolls_back_the_item_and_records_the_run_as_interrupted(setup):
    config, recorder, servers = setup

    def interrupted_mid_item(ctx):
        with ctx.state.transaction():
            ctx.state.set_link("product", "1042/NOIR", 5)
            os.kill(os.getpid(), signal.SIGINT)
        return StageResult("catalogue")

    recorder.behaviour["catalogue"] = interrupted_mid_item
    usual_handler = signal.getsignal(signal.SIGINT)
    with terminate_cleanly(), pytest.raises(Terminated) as stop:
        cycle(config, recorder, servers)

    assert stop.value.exit_code == 130
    assert str(stop.value) == "interrupted (SIGINT); the next run carries on"
    with State.open(config.state_dir) as state:
        assert state.link("product", "1042/NOIR") is None
        [run] = state.last_runs()
    assert run.exit_code == 130
    assert run.summary == "interrupted (SIGINT); the next run carries on"
    assert signal.getsignal(signal.SIGINT) == usual_handler


def test_ctrl_c_during_a_command_prints_one_line_and_exits_130(
    tmp_path, monkeypatch
):
    config_file = tmp_path / "polaris-sync.toml"
    config_file.write_text('[prestashop]\nurl = "http://127.0.0.1:9/api"\n')

    def interrupted_cycle(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("the signal did not stop the run")

    monkeypatch.setattr(run_module, "run_cycle", interrupted_cycle)
    result = CliRunner().invoke(cli, ["--config", str(config_file), "run"])

    assert result.exit_code == 130
    line = "polaris-sync: interrupted (SIGINT); the next run carries on\n"
    assert result.output == line
    assert "Aborted" not in result.output
