"""Basic mode notices a product the merchant adds to the shop after a search."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from e2e.sandbox import Sandbox
from e2e.test_catalogue_sync import OPTIONS, _audit_reasons, polaris_items, reference_of
from polaris_sync.mapping.item import parse_item
from polaris_sync.mapping.product import DesiredCombination, desired_combinations
from polaris_sync.run import RunOptions, RunReport, run_cycle

STAGES = ("stock", "prices")


def item_with_sizes(sandbox: Sandbox) -> dict[str, Any]:
    return next(
        raw
        for raw in polaris_items(sandbox)
        if len(raw.get("Tailles") or []) >= 2 and not raw.get("Supprime")
    )


def sizes_of(raw: dict[str, Any]) -> tuple[DesiredCombination, ...]:
    return desired_combinations(parse_item(raw), OPTIONS)


def add_by_hand(sandbox: Sandbox, raw: dict[str, Any], reference: str) -> int:
    """The merchant creates the product and its sizes in the back office."""
    product = sandbox.create(
        "products",
        {
            "name": {1: "Ajout manuel", 2: "Added by hand"},
            "link_rewrite": {1: "ajout-manuel", 2: "added-by-hand"},
            "reference": reference,
            "price": 10,
            "active": 1,
            "state": 1,
            "id_category_default": 2,
            "visibility": "both",
        },
    )
    for size in sizes_of(raw):
        sandbox.create(
            "combinations",
            {
                "id_product": product,
                "reference": size.reference,
                "ean13": size.ean13,
                "minimal_quantity": 1,
            },
        )
    return product


def stock_of(sandbox: Sandbox, product: int) -> dict[str, int]:
    references = {
        int(row["id"]): row.get("reference", "")
        for row in sandbox.read_shop("combinations", id_product=product)
    }
    return {
        references[int(row["id_product_attribute"])]: int(row.get("quantity", 0))
        for row in sandbox.read_shop("stock_availables", id_product=product)
        if int(row.get("id_product_attribute", 0))
    }


@pytest.mark.parametrize("found_by", ["reference", "barcode"])
def test_c1_f10_a_product_added_to_the_shop_later_gets_its_stock(
    sandbox, found_by
):
    """Basic mode searched an item in vain; the merchant then creates it in the
    shop. The next run, with nothing changed in Polaris, finds it (by its
    reference, or by a size's barcode when the merchant typed another
    reference), links it and writes its stock. Covers C1, F10, D1."""
    sandbox.config_data["mode"] = "basic"
    sandbox.run(STAGES)
    raw = item_with_sizes(sandbox)
    reference = reference_of(raw) if found_by == "reference" else "HANDMADE-1"
    product = add_by_hand(sandbox, raw, reference)

    results = sandbox.run(STAGES)

    expected = {size.reference: size.quantity for size in sizes_of(raw)}
    assert stock_of(sandbox, product) == expected
    assert results["stock"].counts["found late"] == 1
    assert any(
        reason.startswith("found late") and f"product {product}" in reason
        for reason in _audit_reasons(sandbox, "updated")
    )


def test_c1_a_run_after_a_late_find_is_back_to_a_few_reads(sandbox):
    """The check costs one read a run once the late product is linked; nothing
    is searched item by item. Covers C1, E12."""
    sandbox.config_data["mode"] = "basic"
    sandbox.run(STAGES)
    raw = item_with_sizes(sandbox)
    add_by_hand(sandbox, raw, reference_of(raw))
    sandbox.run(STAGES)

    results = sandbox.run(STAGES)

    assert sandbox.shop_writes() == []
    assert len(sandbox.shop_requests) <= 5
    reads = Counter(request.url.path for request in sandbox.shop_requests)
    assert reads["/api/products"] == 1
    assert results["stock"].counts["found late"] == 0


def test_c1_a_product_unrelated_to_polaris_is_read_once(sandbox):
    """A product Polaris does not know, added by hand, costs one barcode read
    in the run that sees it, none after. Covers C1."""
    sandbox.config_data["mode"] = "basic"
    sandbox.run(STAGES)
    other = dict(item_with_sizes(sandbox))
    other["Tailles"] = []
    add_by_hand(sandbox, other, "NOT-FROM-POLARIS")

    sandbox.run(STAGES)
    first = Counter(request.url.path for request in sandbox.shop_requests)
    sandbox.run(STAGES)
    second = Counter(request.url.path for request in sandbox.shop_requests)

    assert first["/api/combinations"] == 1
    assert second["/api/combinations"] == 0
    assert second["/api/products"] == 1


def test_c1_h2_the_run_summary_says_which_products_were_found_late(sandbox):
    """Through the whole run: its summary counts the product found late and
    the sizes whose stock it wrote; a dry run before it plans the same.
    Covers C1, H2."""
    sandbox.config_data["mode"] = "basic"
    sandbox.pair()

    def run(dry_run: bool = False) -> RunReport:
        options = RunOptions(only=STAGES, dry_run=dry_run)
        connections = sandbox.recorded_connections()
        return run_cycle(sandbox.config, options, connections=connections)

    first = run()
    assert first.exit_code == 0, first.summary
    raw = item_with_sizes(sandbox)
    product = add_by_hand(sandbox, raw, reference_of(raw))
    plan = run(dry_run=True)
    assert "1 product found late" in plan.summary
    assert any("found late" in line for line in plan.plan), plan.plan

    report = run()

    sizes = len(sizes_of(raw))
    assert report.exit_code == 0, report.summary
    assert f"stock: {sizes} sizes updated, 1 product found late" in report.summary
    expected = {size.reference: size.quantity for size in sizes_of(raw)}
    assert stock_of(sandbox, product) == expected
