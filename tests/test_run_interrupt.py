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


@pytest.mark.parametrize(
    ("stop_signal", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)]
)
def test_a_stop_signal_rolls_back_the_item_and_records_the_run_as_interrupted(
    setup, stop_signal, exit_code
):
    config, recorder, servers = setup

    def interrupted_mid_item(ctx):
        with ctx.state.transaction():
            ctx.state.set_link("product", "1042/NOIR", 5)
            os.kill(os.getpid(), stop_signal)
        return StageResult("catalogue")

    recorder.behaviour["catalogue"] = interrupted_mid_item
    usual_handler = signal.getsignal(stop_signal)
    with terminate_cleanly(), pytest.raises(Terminated) as stop:
        cycle(config, recorder, servers)

    said = f"interrupted ({stop_signal.name}); the next run carries on"
    assert stop.value.exit_code == exit_code and str(stop.value) == said
    with State.open(config.state_dir) as state:
        assert state.link("product", "1042/NOIR") is None
        [run] = state.last_runs()
    assert (run.exit_code, run.summary) == (exit_code, said)
    assert signal.getsignal(stop_signal) == usual_handler


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
