"""The README demo end to end: sandbox, set-up, full sync, idle run, small change.

The demo itself checks each step (a first run that creates products, a second
run with zero writes, a third run that writes only the change) and exits 1
otherwise; this test runs it on a small catalogue.
"""

from polaris_sync import demo


def test_demo_runs_every_step_and_exits_0(tmp_path, capsys):
    assert demo.main(["--models", "3", "--dir", str(tmp_path)]) == 0

    output = capsys.readouterr().out
    assert "zero writes" in output
    assert "third run: only what changed" in output
    assert (tmp_path / "state" / "audit").is_dir()
