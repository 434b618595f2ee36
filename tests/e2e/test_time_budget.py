"""A run out of time stops between items and the next run carries on."""

from __future__ import annotations

import time

import httpx

from e2e.test_catalogue_sync import (
    OPTIONS,
    expected_stock,
    polaris_items,
    shop_stock,
)
from polaris_sync.mapping.item import parse_item
from polaris_sync.mapping.product import desired_price


def test_a_run_out_of_time_stops_cleanly_and_the_next_one_finishes(sandbox):
    created = 0

    def spend_the_budget(request: httpx.Request) -> None:
        # The budget runs out while the third product is being created.
        nonlocal created
        if (request.method, request.url.path) == ("POST", "/api/products"):
            created += 1
            if created == 3:
                sandbox.last_context.deadline = time.monotonic() - 1

    sandbox.fault = spend_the_budget
    first = sandbox.run()

    assert not any(result.complete for result in first.values())
    assert not any(result.errors for result in first.values())
    # The items in hand were finished; no new one was started.
    started = len(sandbox.read_shop("products"))
    items = len(polaris_items(sandbox))
    max_concurrency = sandbox.config.prestashop.max_concurrency
    assert 3 <= started <= 2 + max_concurrency < items

    sandbox.fault = None
    second = sandbox.run()

    assert all(result.complete for result in second.values())
    references = [p["reference"] for p in sandbox.read_shop("products")]
    assert len(references) == len(set(references)) == items
    assert shop_stock(sandbox) == expected_stock(sandbox)

    sandbox.run()
    assert sandbox.shop_writes() == []


def test_stock_and_prices_finishing_before_the_catalogue_still_reach_late_products(
    sandbox,
):
    """The catalogue's share of the budget runs out; stock and prices, with
    their own share, go through the feed while some products do not exist yet.
    Those products still get their stock and promotions once created."""
    raw = polaris_items(sandbox)[-1]
    sandbox.polaris_admin(
        "promotion",
        {
            "NoModele": raw["NoModele"],
            "Variante": raw["Niveau1"]["Code"],
            "PrixTTC": raw["PrixNormalTTC"] - 10,
        },
    )
    created = 0

    def spend_the_catalogue_budget(request: httpx.Request) -> None:
        nonlocal created
        if (request.method, request.url.path) == ("POST", "/api/products"):
            created += 1
            if created == 2:
                sandbox.last_context.deadline = time.monotonic() - 1

    sandbox.fault = spend_the_catalogue_budget
    assert not sandbox.run(["catalogue"])["catalogue"].complete
    sandbox.fault = None
    later = sandbox.run(["stock", "prices"])
    assert later["stock"].counts["skipped"] > 0

    sandbox.run()
    sandbox.run()

    assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))
    assert shop_stock(sandbox) == expected_stock(sandbox)
    on_sale = [
        raw
        for raw in polaris_items(sandbox)
        if desired_price(parse_item(raw), OPTIONS).specific_price is not None
    ]
    assert len(sandbox.read_shop("specific_prices")) == len(on_sale) > 1
