"""E5: the promotion category follows the promotion's dates, in every mode."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from e2e.sandbox import Sandbox
from e2e.test_catalogue_sync import polaris_items, reference_of
from polaris_sync.mapping.item import parse_item
from polaris_sync.stages import products_feed

PROMO_CATEGORY = 3


def unpromoted_item(sandbox: Sandbox) -> dict[str, Any]:
    return next(
        raw
        for raw in polaris_items(sandbox)
        if "Promotion" not in raw and raw["PrixTTC"] >= raw["PrixNormalTTC"]
    )


def categories(sandbox: Sandbox, reference: str) -> set[int]:
    (product,) = sandbox.read_shop("products", reference=reference)
    return {int(row["id"]) for row in product["associations"].get("categories", [])}


def start_dated_promotion(sandbox: Sandbox, raw: dict[str, Any], days: range) -> None:
    today = datetime.now().date()
    sandbox.polaris_admin(
        "promotion",
        {
            "NoModele": raw["NoModele"],
            "Variante": parse_item(raw).variant_key,
            "PrixTTC": raw["PrixNormalTTC"] - 10,
            "Debut": (today + timedelta(days=days.start)).isoformat(),
            "Fin": (today + timedelta(days=days.stop)).isoformat(),
        },
    )


def travel_to(monkeypatch: pytest.MonkeyPatch, days: int) -> None:
    later = datetime.now().replace(microsecond=0) + timedelta(days=days)
    monkeypatch.setattr(products_feed, "local_now", lambda: later)


@pytest.mark.parametrize("mode", ["full", "basic"])
def test_e5_a_dated_promotion_enters_and_leaves_the_category_on_its_dates(
    sandbox, tmp_path, monkeypatch, mode
):
    """Categories are not among the fields full mode updates, or the mode is
    basic: the promotion category still follows the promotion, from its first
    day to the end of its last, although Polaris says nothing new then."""
    sandbox.config_data["catalogue"] = {
        "promo_category": PROMO_CATEGORY,
        "update_fields": ["name", "description"],
    }
    sandbox.run()
    if mode == "basic":
        sandbox.config_data.update(mode="basic")
    raw = unpromoted_item(sandbox)
    reference = reference_of(raw)
    before = categories(sandbox, reference)
    assert PROMO_CATEGORY not in before

    start_dated_promotion(sandbox, raw, range(2, 5))
    sandbox.run()
    assert categories(sandbox, reference) == before  # not started yet

    travel_to(monkeypatch, 3)
    sandbox.run()
    assert categories(sandbox, reference) == before | {PROMO_CATEGORY}

    travel_to(monkeypatch, 5)
    sandbox.run()
    assert categories(sandbox, reference) == before | {PROMO_CATEGORY}  # last day

    travel_to(monkeypatch, 6)
    sandbox.run()
    assert categories(sandbox, reference) == before

    sandbox.run()
    assert not [w for w in sandbox.shop_writes() if "products" in w.url.path]


def test_e5_an_expired_promotion_adds_no_category_and_no_specific_price(sandbox):
    sandbox.config_data["catalogue"] = {"promo_category": PROMO_CATEGORY}
    sandbox.run()
    raw = unpromoted_item(sandbox)
    reference = reference_of(raw)
    start_dated_promotion(sandbox, raw, range(-10, -2))

    sandbox.run()

    (product,) = sandbox.read_shop("products", reference=reference)
    assert PROMO_CATEGORY not in categories(sandbox, reference)
    assert not sandbox.read_shop("specific_prices", id_product=product["id"])


def test_e1_e5_one_product_per_model_is_promoted_while_any_colour_is(
    sandbox, monkeypatch
):
    colour_group = sandbox.create_attribute_group("Couleur", colour=True)
    sandbox.config_data["catalogue"] = {
        "promo_category": PROMO_CATEGORY,
        "products_per": "model",
        "colour_group": colour_group,
    }
    sandbox.run()
    raw = unpromoted_item(sandbox)
    reference = str(raw["NoModele"])
    colours = [r for r in polaris_items(sandbox) if r["NoModele"] == raw["NoModele"]]
    if any("Promotion" in other for other in colours):
        sandbox.polaris_admin("promotion/end", {"NoModele": raw["NoModele"]})
        sandbox.run()
    before = categories(sandbox, reference)
    assert PROMO_CATEGORY not in before

    start_dated_promotion(sandbox, raw, range(0, 1))
    sandbox.run()
    assert categories(sandbox, reference) == before | {PROMO_CATEGORY}

    travel_to(monkeypatch, 2)
    sandbox.run()
    assert categories(sandbox, reference) == before


def test_e5_a_failing_shop_stops_the_category_moves_until_the_next_run(sandbox):
    sandbox.config_data["catalogue"] = {
        "promo_category": PROMO_CATEGORY,
        "update_fields": ["name"],
    }
    sandbox.run()
    items = [
        raw
        for raw in polaris_items(sandbox)
        if "Promotion" not in raw and raw["PrixTTC"] >= raw["PrixNormalTTC"]
    ][:2]
    for raw in items:
        start_dated_promotion(sandbox, raw, range(0, 3))

    def product_reads_fail(request: Any) -> str | None:
        single = re.fullmatch(r"/api/products/\d+", request.url.path)
        return "before" if request.method == "GET" and single else None

    sandbox.fault = product_reads_fail
    results = sandbox.run()
    assert len(results["prices"].errors) == 1  # the first failure stops it

    sandbox.fault = None
    sandbox.run()
    for raw in items:
        assert PROMO_CATEGORY in categories(sandbox, reference_of(raw))
