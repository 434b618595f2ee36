"""Sizes that Polaris stops listing, through the simulator's admin API (D1)."""

from __future__ import annotations

from e2e.test_catalogue_sync import (
    OPTIONS,
    expected_stock,
    polaris_items,
    shop_stock,
)
from e2e.test_deleted_in_shop import delete_in_shop
from polaris_sync.mapping.item import parse_item
from polaris_sync.mapping.product import desired_combinations


def test_a_size_polaris_no_longer_lists_is_not_sellable_any_more_D1(sandbox):
    sandbox.run()
    raw = next(
        raw
        for raw in polaris_items(sandbox)
        if len(raw.get("Tailles") or []) >= 2
        and desired_combinations(parse_item(raw), OPTIONS)[-1].quantity > 0
    )
    gone = desired_combinations(parse_item(raw), OPTIONS)[-1]
    assert shop_stock(sandbox)[gone.reference] > 0

    sandbox.polaris_admin(
        "sizes",
        {
            "NoModele": raw["NoModele"],
            "Variante": raw["Niveau1"]["Code"],
            "Tailles": raw["Tailles"][:-1],
        },
    )
    results = sandbox.run()

    assert not any(result.failed for result in results.values())
    stock = shop_stock(sandbox)
    assert stock.pop(gone.reference) == 0
    assert stock == expected_stock(sandbox)
    events = (sandbox.root / "audit").glob("*.jsonl")
    assert any(
        gone.key in line and "no longer" in line
        for path in events
        for line in path.read_text().splitlines()
    )

    sandbox.run()
    assert not sandbox.shop_writes()


def test_a_size_gone_from_polaris_and_from_the_shop_is_forgotten_D1(sandbox):
    sandbox.run()
    raw = next(r for r in polaris_items(sandbox) if len(r.get("Tailles") or []) >= 2)
    gone = desired_combinations(parse_item(raw), OPTIONS)[-1]
    [combination] = sandbox.read_shop("combinations", reference=gone.reference)
    delete_in_shop(sandbox, "combinations", int(combination["id"]))
    sandbox.polaris_admin(
        "sizes",
        {
            "NoModele": raw["NoModele"],
            "Variante": raw["Niveau1"]["Code"],
            "Tailles": raw["Tailles"][:-1],
        },
    )

    first = sandbox.run()["stock"]
    assert not first.failed and first.counts["skipped"] == 1
    assert sandbox.state.link("combination", gone.key) is None
    again = sandbox.run()["stock"]
    assert not again.failed and not again.counts["skipped"]
    assert shop_stock(sandbox) == expected_stock(sandbox)
