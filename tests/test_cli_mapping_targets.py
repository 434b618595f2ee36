"""F2, F3, F5: `mappings set` and `import` check their targets against the shop."""

import httpx
import pytest
import test_cli

from polaris_sync.sandbox.serve import Sandbox, SandboxOptions
from polaris_sync.state import State


@pytest.fixture
def shop(tmp_path):
    options = SandboxOptions(directory=tmp_path / "sandbox", models=1)
    with Sandbox(options) as box:
        yield box.info


invoke = test_cli.invoke
workdir = test_cli.workdir  # the fixture: a fresh folder as the current one


def write_config(folder, shop_url, key="KEY"):
    (folder / "polaris-sync.toml").write_text(
        f'state_dir = "state"\n[prestashop]\nurl = "{shop_url}"\nkey = "{key}"\n'
    )


def existing(info, resource):
    answer = httpx.get(
        f"{info['prestashop_url']}/{resource}",
        params={"output_format": "JSON", "display": "[id]"},
        auth=(info["prestashop_key"], ""),
    )
    body = answer.json()
    return sorted(int(row["id"]) for row in body.get(resource, []))


def target(workdir, kind, source):
    with State.open(workdir / "state") as state:
        row = state.mapping(kind, source)
    return None if row is None else row.target


def test_set_refuses_a_target_missing_in_the_shop_naming_it(shop, workdir):
    write_config(workdir, shop["prestashop_url"], shop["prestashop_key"])
    groups = existing(shop, "product_options")
    absent = max(groups, default=0) + 1

    result = invoke("mappings", "set", "size-grid", "*", absent)

    assert result.exit_code == 2
    assert f"-> {absent}" in result.stderr and "product options" in result.stderr
    assert target(workdir, "size-grid", "*") is None

    present = groups[0]
    assert invoke("mappings", "set", "size-grid", "*", present).exit_code == 0
    assert target(workdir, "size-grid", "*") == str(present)


def test_import_refuses_a_file_whose_targets_are_missing(shop, workdir):
    write_config(workdir, shop["prestashop_url"], shop["prestashop_key"])
    brand = existing(shop, "manufacturers")[0]
    absent_brand = max(existing(shop, "manufacturers")) + 90
    absent_category = max(existing(shop, "categories")) + 50
    rows = workdir / "rows.csv"
    rows.write_text(
        "kind;source;target\n"
        f"brand;ATL;{brand}\n"
        f"brand;CAP;{absent_brand}\n"
        f"category;rayon:F;2,{absent_category}\n"
    )

    result = invoke("mappings", "import", rows)

    assert result.exit_code == 2
    assert f"brand CAP -> {absent_brand}" in result.stderr
    assert f"category rayon:F -> {absent_category}" in result.stderr
    assert target(workdir, "brand", "ATL") is None


def test_no_check_stores_when_the_shop_cannot_be_reached_with_a_warning(workdir):
    write_config(workdir, "http://127.0.0.1:9/api")

    checked = invoke("mappings", "set", "brand", "*", 3)
    assert checked.exit_code == 3 and "--no-check" in checked.stderr
    assert target(workdir, "brand", "*") is None

    result = invoke("mappings", "set", "--no-check", "brand", "*", 3)

    assert result.exit_code == 0
    assert "without a check" in result.stderr
    assert target(workdir, "brand", "*") == "3"
