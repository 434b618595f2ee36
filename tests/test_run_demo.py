"""The README demo end to end: sandbox, set-up, full sync, idle run, small change.

The demo drives the installed `polaris-sync` command, checks each step (a
first run that creates products, a second run the shop sees no write from, a
third run that writes only the change) and exits 1 otherwise; this test runs
it on a small catalogue.
"""

import re

import pytest

from polaris_sync import demo


def test_demo_runs_every_step_through_the_command_and_exits_0(tmp_path, capsys):
    assert demo.main(["--models", "3", "--dir", str(tmp_path)]) == 0

    output = capsys.readouterr().out
    for command in ("init", "associate", "pull-config", "mappings set", "run"):
        assert f"$ polaris-sync {command}" in output
    # What the command itself printed: its run summary.
    assert "catalogue: " in output and " requests, " in output
    # The second run, as the emulator counted it.
    assert re.search(r"the shop received \d+ requests, 0 writes\n", output)
    assert "zero writes" in output
    assert "third run: only what changed" in output
    assert (tmp_path / "polaris-sync-state" / "audit").is_dir()


def test_a_command_that_fails_fails_the_demo(tmp_path):
    info = {"prestashop_url": "http://127.0.0.1:9/api", "prestashop_key": "KEY"}
    command = demo.Command(tmp_path / "missing" / "polaris-sync.toml", info)
    (tmp_path / "missing").mkdir()

    with pytest.raises(demo.DemoFailed, match="status` ended with exit code 2"):
        command("status")
