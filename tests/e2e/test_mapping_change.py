"""A mapping set after the items were read reaches them at the next run (F5, F6)."""

from __future__ import annotations

import httpx

from e2e.sandbox import Sandbox
from e2e.test_catalogue_sync import polaris_items
from polaris_sync.mapping_table import import_csv, set_mapping
from polaris_sync.run import Connections, RunOptions, run_cycle

FEED_STAGES = ("catalogue", "stock", "prices")


def scheduled_run(sandbox: Sandbox) -> str:
    """One cron run of the feed stages, each by its own interval."""
    connections = Connections(
        polaris_transport=httpx.ASGITransport(app=sandbox.polaris_app),
        prestashop_transport=httpx.ASGITransport(app=sandbox.shop_app),
    )
    report = run_cycle(sandbox.config, RunOptions(), connections=connections)
    assert report.exit_code == 0, report.summary
    return report.summary


def unmapped_sandbox(tmp_path) -> Sandbox:
    sandbox = Sandbox(tmp_path, models=2)
    sandbox.pair()
    # The catalogue is due once an hour, as by default; orders and customers
    # are kept out of the way.
    sandbox.config_data["intervals"] = {
        "catalogue": 60,
        "config": 0,
        "orders": 9999,
        "customers": 9999,
    }
    return sandbox


def test_brands_mapped_after_a_first_run_are_created_at_the_next_run_F6(tmp_path):
    sandbox = unmapped_sandbox(tmp_path)
    try:
        group_id = sandbox.create_attribute_group("Taille")
        brand_id = sandbox.create("manufacturers", {"name": "Maison", "active": 1})
        first = scheduled_run(sandbox)
        assert "catalogue: " in first and "skipped" in first
        assert sandbox.read_shop("products") == []

        set_mapping(sandbox.state, "brand", "*", str(brand_id))
        set_mapping(sandbox.state, "size-grid", "*", str(group_id))
        assert [r.kind for r in sandbox.state.pending_resyncs()] == ["catalogue"]
        scheduled_run(sandbox)

        products = sandbox.read_shop("products")
        assert len(products) == len(polaris_items(sandbox))
        assert {int(p["id_manufacturer"]) for p in products} == {brand_id}
        assert sandbox.state.pending_resyncs() == []
    finally:
        sandbox.close()


def test_a_brand_remapped_by_csv_reaches_products_already_created_F2(tmp_path):
    sandbox = unmapped_sandbox(tmp_path)
    try:
        sandbox.prepare_shop()
        scheduled_run(sandbox)
        other = sandbox.create("manufacturers", {"name": "Autre", "active": 1})
        csv_file = tmp_path / "mappings.csv"
        csv_file.write_text(f"kind,source,target\nbrand,*,{other}\n", encoding="utf-8")

        import_csv(sandbox.state, csv_file)
        summary = scheduled_run(sandbox)

        products = sandbox.read_shop("products")
        assert {int(p["id_manufacturer"]) for p in products} == {other}, summary
        # Nothing changed: the mapping is applied, the catalogue waits its hour.
        assert "catalogue" not in scheduled_run(sandbox)
    finally:
        sandbox.close()
