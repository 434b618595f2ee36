"""Bad input on the command line is exit 2 with a message naming it."""

import pytest
from click.testing import CliRunner

from polaris_sync.cli import cli


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLARIS_SYNC_CONFIG", raising=False)
    monkeypatch.setenv(
        "POLARIS_SYNC_PRESTASHOP_KEY", "SHOPKEY0123456789ABCDEFGHIJKLMNO"
    )
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


@pytest.mark.parametrize("option", ["--prestashop-url", "--polaris-url"])
def test_init_refuses_a_url_without_scheme_before_calling_anything(workdir, option):
    urls = {"--prestashop-url": "http://127.0.0.1:9/api", option: "shop.example"}
    result = invoke("init", *[part for pair in urls.items() for part in pair])

    assert result.exit_code == 2
    assert "shop.example" in result.output
    assert "http:// or https://" in result.output
    assert "cannot reach" not in result.output
    assert not (workdir / "polaris-sync.toml").exists()


def test_a_state_folder_that_cannot_be_created_is_a_configuration_error(workdir):
    # /proc refuses new folders, even to root.
    (workdir / "polaris-sync.toml").write_text(
        'state_dir = "/proc/polaris-sync-state"\n'
        '[prestashop]\nurl = "http://127.0.0.1:9/api"\n'
    )
    result = invoke("run")

    assert result.exit_code == 2
    assert "unexpected error" not in result.output
    assert "/proc/polaris-sync-state" in result.output
    assert result.output.count("\n") == 1
