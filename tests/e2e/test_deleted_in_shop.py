"""Objects the merchant deletes in the shop come back from Polaris (C2, D1, E5)."""

from __future__ import annotations

import asyncio

from e2e.sandbox import Sandbox
from e2e.test_catalogue_sync import (
    expected_stock,
    polaris_items,
    reference_of,
    shop_stock,
)
from polaris_sync.mapping.item import parse_item


def delete_in_shop(sandbox: Sandbox, resource: str, object_id: int) -> None:
    async def delete() -> None:
        async with sandbox.shop() as shop:
            await shop.delete(resource, object_id)

    asyncio.run(delete())


def product_id_of(sandbox: Sandbox, reference: str) -> int:
    [product] = sandbox.read_shop("products", reference=reference)
    return int(product["id"])


def promotions_of(sandbox: Sandbox, product_id: int) -> list[dict]:
    return [
        p
        for p in sandbox.read_shop("specific_prices")
        if int(p["id_product"]) == product_id
    ]


def scheduled_runs(sandbox: Sandbox, count: int = 3) -> None:
    """Enough runs for a catalogue run to follow the stock run that noticed."""
    for _ in range(count):
        results = sandbox.run()
        assert not any(result.failed for result in results.values())


def test_a_promotion_deleted_in_the_shop_is_created_again_E5(sandbox):
    sandbox.run()
    raw = next(raw for raw in polaris_items(sandbox) if raw.get("Tailles"))
    model, variant = raw["NoModele"], parse_item(raw).variant_key
    product_id = product_id_of(sandbox, reference_of(raw))
    promotion = {"NoModele": model, "Variante": variant}
    sandbox.polaris_admin("promotion", promotion | {"PrixTTC": 10.0})
    sandbox.run(["prices"])
    [first] = promotions_of(sandbox, product_id)

    delete_in_shop(sandbox, "specific_prices", int(first["id"]))
    sandbox.polaris_admin("promotion", promotion | {"PrixTTC": 12.0})
    results = sandbox.run(["prices"])

    assert not results["prices"].failed, results["prices"].errors
    [again] = promotions_of(sandbox, product_id)
    assert float(again["reduction"]) == raw["PrixNormalTTC"] - 12.0


def test_a_size_deleted_in_the_shop_is_created_again_with_its_stock_D1(sandbox):
    sandbox.run()
    raw = next(raw for raw in polaris_items(sandbox) if raw.get("Tailles"))
    size = raw["Tailles"][0]
    product_id = product_id_of(sandbox, reference_of(raw))
    combination = next(
        c
        for c in sandbox.read_shop("combinations", id_product=product_id)
        if c["ean13"] == size["Refs"][-1] or c["reference"].endswith(size["Taille"])
    )
    delete_in_shop(sandbox, "combinations", int(combination["id"]))
    sandbox.polaris_admin(
        "stock", {"SKU": size["Refs"][0], "CodeMagasin": 1, "Dispo": 9}
    )

    scheduled_runs(sandbox)

    assert shop_stock(sandbox) == expected_stock(sandbox)


def test_a_product_deleted_in_the_shop_is_created_again_C2(sandbox):
    sandbox.run()
    raw = next(raw for raw in polaris_items(sandbox) if raw.get("Tailles"))
    reference = reference_of(raw)
    delete_in_shop(sandbox, "products", product_id_of(sandbox, reference))
    size = raw["Tailles"][0]
    sandbox.polaris_admin(
        "stock", {"SKU": size["Refs"][0], "CodeMagasin": 1, "Dispo": 9}
    )

    scheduled_runs(sandbox)

    product_id = product_id_of(sandbox, reference)
    assert shop_stock(sandbox) == expected_stock(sandbox)
    images = asyncio.run(_images(sandbox, product_id))
    assert len(images) == len(raw.get("Photos") or [])


async def _images(sandbox: Sandbox, product_id: int) -> list[int]:
    async with sandbox.shop() as shop:
        return list(await shop.product_images(product_id))
