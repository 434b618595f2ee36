"""The run's summary says each thing once, and never contradicts itself."""

import pytest
from test_run import Recorder, Servers, associate_in, cycle, make_config

from polaris_sync.errors import TransientError


@pytest.fixture
def setup(tmp_path):
    config = make_config(tmp_path)
    associate_in(config)
    return config, Recorder(), Servers()


def test_a_stage_that_cannot_reach_a_server_is_said_stopped_once(setup):
    config, recorder, servers = setup
    recorder.behaviour["stock"] = TransientError("cannot reach Polaris: timed out")

    report = cycle(config, recorder, servers, force=True)

    assert report.exit_code == 3
    parts = report.summary.split("; ")
    assert "stock: stopped: cannot reach Polaris: timed out" in parts
    assert "nothing to do" not in report.summary
    assert "unfinished" not in report.summary
    assert report.summary.count("cannot reach Polaris") == 1
    # The summary says it: the error lines do not repeat it.
    assert report.errors == []

