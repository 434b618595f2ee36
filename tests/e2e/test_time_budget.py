"""A run out of time stops between items and the next run carries on."""

from __future__ import annotations

import time

import httpx

from e2e.test_catalogue_sync import expected_stock, polaris_items, shop_stock


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
