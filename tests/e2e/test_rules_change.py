"""Changed stock and price rules, and a full resync, reach every item at the
next scheduled run, and write only what differs."""

from __future__ import annotations

import pytest

from e2e.sandbox import Sandbox
from e2e.test_catalogue_sync import polaris_items, reference_of, shop_stock
from polaris_sync.mapping.item import parse_item
from polaris_sync.mapping.product import CatalogueOptions, desired_combinations
from polaris_sync.run import RunOptions, run_cycle

PROMO_CATEGORY = 3


@pytest.fixture(autouse=True)
def synced(sandbox: Sandbox) -> Sandbox:
    """A paired sandbox synced once; the catalogue then waits its hour."""
    sandbox.pair()
    sandbox.config_data["intervals"] = {
        "catalogue": 60,
        "config": 9999,
        "orders": 9999,
        "customers": 9999,
    }
    scheduled_run(sandbox)
    return sandbox


def scheduled_run(sandbox: Sandbox) -> str:
    """One cron run, each stage by its interval; its requests are kept."""
    sandbox.shop_requests.clear()
    sandbox.polaris_requests.clear()
    report = run_cycle(
        sandbox.config, RunOptions(), connections=sandbox.recorded_connections()
    )
    assert report.exit_code == 0, report.summary
    return report.summary


def stock_by_reference(sandbox: Sandbox, options: CatalogueOptions) -> dict[str, int]:
    return {
        combination.reference: combination.quantity
        for raw in polaris_items(sandbox)
        for combination in desired_combinations(parse_item(raw), options)
    }


def written_rows(sandbox: Sandbox) -> set[int]:
    writes = sandbox.shop_writes()
    assert {w.url.path.rsplit("/", 1)[0] for w in writes} <= {"/api/stock_availables"}
    return written_rows_of(sandbox, "stock_availables")


def written_rows_of(sandbox: Sandbox, resource: str) -> set[int]:
    return {
        int(w.url.path.rsplit("/", 1)[1])
        for w in sandbox.shop_writes()
        if w.url.path.rsplit("/", 1)[0] == f"/api/{resource}"
    }


def stock_rows_by_reference(sandbox: Sandbox) -> dict[str, int]:
    references = {
        int(row["id"]): row.get("reference", "")
        for row in sandbox.read_shop("combinations")
    }
    return {
        references[int(row["id_product_attribute"])]: int(row["id"])
        for row in sandbox.read_shop("stock_availables")
        if int(row.get("id_product_attribute", 0))
    }


def test_d1_a_raised_safety_stock_reaches_every_size_at_the_next_run(sandbox):
    before = stock_by_reference(sandbox, CatalogueOptions(languages=(1,)))
    sandbox.config_data["stock"] = {"safety_stock": 2}
    raised = CatalogueOptions(languages=(1,), safety_stock=2)
    after = stock_by_reference(sandbox, raised)
    lowered = {ref for ref in after if after[ref] != before[ref]}
    assert 3 < len(lowered) < len(after)

    summary = scheduled_run(sandbox)

    rows = stock_rows_by_reference(sandbox)
    assert written_rows(sandbox) == {rows[ref] for ref in lowered}, summary
    assert len(sandbox.shop_writes()) == len(lowered)
    assert shop_stock(sandbox) == after
    # Polaris is read from the start once; nothing is left for later runs.
    scheduled_run(sandbox)
    assert sandbox.shop_requests == []
    assert len(sandbox.polaris_requests) == 1


def test_d3_stores_counted_changed_rewrite_only_the_sizes_they_change(sandbox):
    stores = sorted(
        {
            store["CodeMagasin"]
            for raw in polaris_items(sandbox)
            for size in raw["Tailles"]
            for store in size["Magasins"]
        }
    )
    assert len(stores) > 1
    before = stock_by_reference(sandbox, CatalogueOptions(languages=(1,)))
    sandbox.config_data["stock"] = {"stores": stores[:1]}
    options = CatalogueOptions(languages=(1,), stores=frozenset(stores[:1]))
    after = stock_by_reference(sandbox, options)
    changed = {ref for ref in after if after[ref] != before[ref]}
    assert changed

    scheduled_run(sandbox)

    rows = stock_rows_by_reference(sandbox)
    assert written_rows(sandbox) == {rows[ref] for ref in changed}
    assert shop_stock(sandbox) == after


def test_e5_a_promotion_category_set_later_takes_every_running_promotion(sandbox):
    """Polaris sends no item again when the option is set; the prices stage
    goes through them all once, and writes only the products on sale."""
    on_sale = {
        reference_of(raw)
        for raw in polaris_items(sandbox)
        if raw["PrixTTC"] < raw["PrixNormalTTC"]
    }
    products = {p["reference"]: int(p["id"]) for p in sandbox.read_shop("products")}
    assert 0 < len(on_sale) < len(products)
    sandbox.config_data["catalogue"] = {"promo_category": PROMO_CATEGORY}

    scheduled_run(sandbox)

    written = {int(w.url.path.rsplit("/", 1)[1]) for w in sandbox.shop_writes()}
    assert written == {products[reference] for reference in on_sale}
    assert {
        p["reference"]
        for p in sandbox.read_shop("products")
        if PROMO_CATEGORY
        in {int(row["id"]) for row in p["associations"].get("categories", [])}
    } == on_sale
    scheduled_run(sandbox)
    assert sandbox.shop_requests == []


def test_b4_e12_a_resync_writes_only_the_stock_rows_the_shop_has_wrong(sandbox):
    rows = stock_rows_by_reference(sandbox)
    reference, row = sorted(rows.items())[0]
    expected = shop_stock(sandbox)
    sandbox.edit_shop("stock_availables", row, {"quantity": expected[reference] + 7})
    sandbox.state.request_resync("full")

    summary = scheduled_run(sandbox)

    assert written_rows_of(sandbox, "stock_availables") == {row}, summary
    assert shop_stock(sandbox) == expected


def test_b4_e12_a_resync_writes_only_the_prices_the_shop_has_wrong(sandbox):
    products = {p["reference"]: p for p in sandbox.read_shop("products")}
    promotions = sandbox.read_shop("specific_prices")
    assert len(promotions) > 1
    edited_promotion = promotions[0]
    sandbox.edit_shop("specific_prices", int(edited_promotion["id"]), {"reduction": 1})
    on_sale = {int(promotion["id_product"]) for promotion in promotions}
    edited = next(p for p in products.values() if int(p["id"]) not in on_sale)
    sandbox.edit_shop("products", int(edited["id"]), {"price": 1})
    sandbox.state.request_resync("full")

    summary = scheduled_run(sandbox)

    assert "prices: 1 price updated, 1 promotion updated, " in summary
    promotion_writes = written_rows_of(sandbox, "specific_prices")
    assert promotion_writes == {int(edited_promotion["id"])}
    assert sandbox.read_shop("specific_prices") == promotions
    (product,) = sandbox.read_shop("products", id=int(edited["id"]))
    assert product["price"] == edited["price"]
