"""The CLI end to end against both sandbox servers, as an integrator uses it.

init, associate (HTTPS, pinned), pull-config, mappings, a dry run that changes
nothing anywhere, a real run, an idle run with zero writes, and a revoked
access that stops the run before anything (A1, A2, A5, B4, F5, H2, dry run).
"""

import asyncio
import hashlib
import re

import httpx
import pytest
from click.testing import CliRunner

from polaris_sync.cli import cli
from polaris_sync.config import load_config
from polaris_sync.demo import shop_targets
from polaris_sync.polaris.pinning import pin_for, pinned_context
from polaris_sync.sandbox.serve import Sandbox, SandboxOptions
from polaris_sync.state import STATE_FILENAME


@pytest.fixture
def sandbox(tmp_path):
    options = SandboxOptions(directory=tmp_path / "sandbox", models=2, polaris_tls=True)
    with Sandbox(options) as box:
        yield box.info


def invoke(*args):
    result = CliRunner().invoke(cli, [str(arg) for arg in args])
    return result


def shop_rows(info, resource, display="[id]"):
    answer = httpx.get(
        f"{info['prestashop_url']}/{resource}",
        params={"output_format": "JSON", "display": display},
        auth=(info["prestashop_key"], ""),
    )
    answer.raise_for_status()
    body = answer.json()
    return body.get(resource, []) if isinstance(body, dict) else []


def shop_products(info):
    return shop_rows(info, "products")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLARIS_SYNC_CONFIG", raising=False)
    return tmp_path


def test_mapping_targets_are_checked_against_the_shop(sandbox, workdir):
    info = sandbox
    result = invoke(
        "init",
        "--prestashop-url", info["prestashop_url"],
        "--prestashop-key", info["prestashop_key"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    invoke("mappings", "set", "brand", "*", 1)
    refused = invoke("mappings", "set", "category", "rayon:F", "2,9999")
    assert refused.exit_code == 2 and "rayon:F -> 9999" in refused.stderr
    invoke("mappings", "set", "--no-check", "category", "rayon:F", "2,9999")

    result = invoke("mappings", "check")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "category rayon:F -> 9999: no such categories in the shop"
    )

    invoke("mappings", "set", "category", "rayon:F", "2")
    result = invoke("mappings", "check")
    assert result.exit_code == 0, result.stderr
    assert "every target of 2 mapping rows exists" in result.output


def test_an_integrator_session_through_the_cli(sandbox, workdir):
    tmp_path = workdir
    info = sandbox

    result = invoke(
        "init",
        "--prestashop-url", info["prestashop_url"],
        "--prestashop-key", info["prestashop_key"],
        "--polaris-url", info["polaris_url"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    config_file = tmp_path / "polaris-sync.toml"
    text = config_file.read_text().replace('mode = "basic"', 'mode = "full"')
    text = text.replace("# max_requests_per_second = 5", "max_requests_per_second = 0")
    config_file.write_text(text)

    result = invoke("associate", "--licence", info["licence"], "--pin", info["pin"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "pinned certificate" in result.output

    assert invoke("pull-config").exit_code == 0
    config = load_config(config_file)
    brand_id, group_id = asyncio.run(shop_targets(config, info))
    assert invoke("mappings", "set", "brand", "*", brand_id).exit_code == 0
    assert invoke("mappings", "set", "size-grid", "*", group_id).exit_code == 0

    state_file = config.state_dir / STATE_FILENAME
    before = hashlib.sha256(state_file.read_bytes()).hexdigest()
    dry = invoke("run", "--dry-run")
    assert dry.exit_code == 0, dry.output + dry.stderr
    assert "catalogue:" in dry.output and "0 writes" in dry.output
    assert hashlib.sha256(state_file.read_bytes()).hexdigest() == before
    assert shop_products(info) == []

    first = invoke("run")
    assert first.exit_code == 0, first.output + first.stderr
    assert len(shop_products(info)) > 0

    idle = invoke("run", "--force")
    assert idle.exit_code == 0 and " 0 writes" in idle.output
    assert re.search(r"stock: \d+ products unchanged", idle.output)

    # Each figure of the summary says what it counts, in `run` and `status`.
    size = shop_rows(info, "combinations", "[id,ean13]")[0]
    context = pinned_context(pin_for(info["polaris_url"]))
    httpx.post(
        f"{info['polaris_admin_url']}/stock",
        json={"SKU": size["ean13"], "CodeMagasin": 1, "Dispo": 41},
        verify=context,
    ).raise_for_status()
    changed = invoke("run", "--force")
    assert changed.exit_code == 0, changed.output + changed.stderr
    [stock] = [part for part in changed.output.split("; ") if part.startswith("stock")]
    assert re.fullmatch(r"stock: 1 size updated, \d+ products unchanged", stock)
    assert stock in invoke("status").output

    httpx.post(
        f"{info['polaris_admin_url']}/revoke", json={}, verify=context
    ).raise_for_status()
    revoked = invoke("run", "--force")
    assert revoked.exit_code == 3
    assert "associate again" in revoked.output
