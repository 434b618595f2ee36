"""A run with time for a few items only handles the newest changes first (D1)."""

from __future__ import annotations

import asyncio
import itertools

from e2e.sandbox import Sandbox, _run
from e2e.test_catalogue_sync import (
    expected_stock,
    first_size,
    polaris_items,
    reference_of,
    shop_stock,
)
from polaris_sync.stages.base import StageResult
from polaris_sync.stages.prices import PRICE
from polaris_sync.stages.products_feed import cursor_name
from polaris_sync.stages.stock import STOCK


def rewind_with_backlog(sandbox: Sandbox, stage: str, fingerprints: str) -> None:
    """What a rewind to the start leaves: every item to read and write again."""
    sandbox.state.set_cursor(cursor_name(stage), None)
    sandbox.state.clear_fingerprints(fingerprints)


def run_with_time_for(sandbox: Sandbox, stage: str, items: int) -> StageResult:
    """One run of `stage` whose time budget runs out after `items` items."""
    ctx = sandbox.context()
    checks = itertools.count()
    ctx.out_of_time = lambda: next(checks) >= items  # type: ignore[method-assign]
    return asyncio.run(_run(ctx, [stage]))[stage]


def test_a_changed_stock_reaches_the_shop_before_a_backlog_D1(sandbox):
    sandbox.run()
    rewind_with_backlog(sandbox, "stock", STOCK)
    size = first_size(sandbox)
    sandbox.polaris_admin(
        "stock", {"SKU": size["Refs"][0], "CodeMagasin": 1, "Dispo": 42}
    )
    changed = next(
        reference
        for reference, quantity in expected_stock(sandbox).items()
        if shop_stock(sandbox)[reference] != quantity
    )

    first = run_with_time_for(sandbox, "stock", items=2)

    assert not first.complete
    assert shop_stock(sandbox)[changed] == expected_stock(sandbox)[changed]
    # The items left for later are read again: the cursor did not move.
    assert sandbox.state.cursor(cursor_name("stock")) is None
    assert sandbox.run(["stock"])["stock"].complete
    assert shop_stock(sandbox) == expected_stock(sandbox)


def test_a_changed_price_reaches_the_shop_before_a_backlog(sandbox):
    sandbox.run()
    rewind_with_backlog(sandbox, "prices", PRICE)
    model = polaris_items(sandbox)[0]["NoModele"]
    references = {
        reference_of(raw)
        for raw in polaris_items(sandbox)
        if raw["NoModele"] == model
    }
    sandbox.polaris_admin("promotion/end", {"NoModele": model})
    sandbox.polaris_admin("price", {"NoModele": model, "PrixTTC": 120.0})

    first = run_with_time_for(sandbox, "prices", items=len(references))

    assert not first.complete
    prices = {
        float(product["price"])
        for product in sandbox.read_shop("products")
        if product["reference"] in references
    }
    assert prices == {100.0}  # 120 with VAT
    assert sandbox.state.cursor(cursor_name("prices")) is None
