"""The feed stages inside the real run cycle (`polaris-sync run`)."""

from __future__ import annotations

import httpx
import pytest

from e2e.sandbox import Sandbox
from e2e.test_catalogue_sync import expected_stock, polaris_items, shop_stock
from polaris_sync.run import Connections, RunOptions, run_cycle

FEED_STAGES = ("catalogue", "stock", "prices")


def connections(sandbox: Sandbox) -> Connections:
    return Connections(
        polaris_transport=httpx.ASGITransport(app=sandbox.polaris_app),
        prestashop_transport=httpx.ASGITransport(app=sandbox.shop_app),
    )


@pytest.fixture
def sandbox(tmp_path):
    """Two models in Polaris, a prepared empty shop, a paired connector."""
    box = Sandbox(tmp_path, models=2)
    try:
        box.prepare_shop()
        box.pair()
        yield box
    finally:
        box.close()


def test_a_scheduled_run_syncs_then_a_dry_run_plans_nothing_new(sandbox):
    options = RunOptions(only=FEED_STAGES)

    report = run_cycle(sandbox.config, options, connections=connections(sandbox))

    assert report.exit_code == 0, report.summary
    assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))
    assert shop_stock(sandbox) == expected_stock(sandbox)

    size = polaris_items(sandbox)[0]["Tailles"][0]
    sandbox.polaris_admin(
        "stock", {"SKU": size["Refs"][0], "CodeMagasin": 1, "Dispo": 4}
    )
    plan = run_cycle(
        sandbox.config,
        RunOptions(only=FEED_STAGES, dry_run=True),
        connections=connections(sandbox),
    )
    assert plan.exit_code == 0, plan.summary
    planned = [line for line in plan.plan if "would be" in line]
    assert len(planned) == 1 and "stock" in planned[0]
    assert shop_stock(sandbox) != expected_stock(sandbox)


def test_a_whole_run_with_nothing_new_is_one_polaris_request_and_no_shop_one(
    sandbox,
):
    """The run's access check (A2) is the catalogue page it reads anyway."""
    options = RunOptions(only=FEED_STAGES)
    first = run_cycle(sandbox.config, options, connections=connections(sandbox))
    assert first.exit_code == 0, first.summary

    idle = run_cycle(
        sandbox.config, options, connections=sandbox.recorded_connections()
    )

    assert idle.exit_code == 0, idle.summary
    assert [r.url.path for r in sandbox.polaris_requests] == [
        "/api/WebConnect/Catalog/Produits"
    ]
    assert sandbox.shop_requests == []
    assert idle.writes == 0


def test_a_refused_key_stops_a_feed_run_at_its_first_polaris_read_A2(sandbox):
    sandbox.polaris_admin("revoke", {})

    report = run_cycle(
        sandbox.config,
        RunOptions(only=FEED_STAGES),
        connections=sandbox.recorded_connections(),
    )

    assert report.exit_code == 3
    assert "associate again" in report.summary
    assert len(sandbox.polaris_requests) == 1
    assert sandbox.shop_requests == []
