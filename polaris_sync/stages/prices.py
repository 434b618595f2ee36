"""The prices stage (both modes): base price and promotion of linked products.

The product's price is Polaris' normal price without VAT; a running sale is a
specific price taking the difference off, so the shop shows the normal price
struck through. One write per change: the price, or the promotion (created,
changed, or deleted when it ends).
"""

from __future__ import annotations

from collections.abc import Iterable

from polaris_sync.errors import ItemRejected
from polaris_sync.mapping.item import CatalogueItem
from polaris_sync.mapping.product import (
    CatalogueOptions,
    DesiredPrice,
    Skipped,
    desired_combinations,
    desired_price,
    product_key,
)
from polaris_sync.prestashop.client import row_matches
from polaris_sync.stages.base import StageContext, StageResult
from polaris_sync.stages.items import ItemRun, describe
from polaris_sync.stages.products_feed import (
    advance_cursor,
    catalogue_options,
    read_feed,
    report_unreadable,
)
from polaris_sync.stages.shop import PRODUCT, SPECIFIC_PRICE, ShopLookups
from polaris_sync.stages.stock import linked_product, read_adoptable

STAGE = "prices"
PRICE = "price"
PROMOTION = "promotion"

# The one general promotion slot per product: all shops, currencies,
# countries, groups and customers, from one unit, not from a price rule.
_PROMOTION_SLOT = {
    "id_product_attribute": 0,
    "id_shop": 0,
    "id_currency": 0,
    "id_country": 0,
    "id_group": 0,
    "id_customer": 0,
    "id_cart": 0,
    "from_quantity": 1,
}


async def run(ctx: StageContext) -> StageResult:
    result = StageResult(STAGE)
    feed = await read_feed(ctx, STAGE)
    report_unreadable(ctx, STAGE, feed, result)
    sync = PriceSync(ctx, result, catalogue_options(ctx.config))
    await sync.read_promotions(feed.items)
    await sync.items.for_each(feed.items, sync.item)
    if result.complete:
        advance_cursor(ctx, STAGE, feed, sync.items.failed)
    return result


class PriceSync:
    def __init__(
        self, ctx: StageContext, result: StageResult, options: CatalogueOptions
    ) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.shop = ctx.prestashop
        self.options = options
        self.items = ItemRun(ctx, result)
        self.lookups = ShopLookups(ctx)
        # Products whose promotions were read in batch: no lookup one by one.
        self.promotions_read: set[int] = set()

    async def read_promotions(self, items: Iterable[CatalogueItem]) -> None:
        """Find, 100 products a request, promotions a crashed run left unlinked.

        Every new promotion would otherwise cost one read before its creation.
        """
        await read_adoptable(self.ctx, self.lookups, self.options, items)
        unlinked: dict[int, str] = {}
        for item in items:
            key = product_key(item, self.options)
            product_id = self.state.link(PRODUCT, key)
            target = desired_price(item, self.options)
            if (
                product_id is None
                or isinstance(target, Skipped)
                or target.specific_price is None
                or self.state.link(SPECIFIC_PRICE, key) is not None
                or self.state.fingerprint(PROMOTION, key)
                == target.promotion_fingerprint()
            ):
                continue
            unlinked[product_id] = key
        slot = {"id_specific_price_rule": 0, **_PROMOTION_SLOT}
        display = "[" + ",".join(["id", "id_product", *slot]) + "]"
        found = self.lookups.rows_where(
            "specific_prices", "id_product", unlinked, display
        )
        async for rows in found:
            for row in sorted(rows, key=lambda row: int(row["id"])):
                key = unlinked[int(row["id_product"])]
                if row_matches(row, slot) and not self.state.link(SPECIFIC_PRICE, key):
                    self.state.set_link(SPECIFIC_PRICE, key, int(row["id"]))
        self.promotions_read.update(unlinked)

    async def item(self, item: CatalogueItem) -> None:
        key = product_key(item, self.options)
        target = desired_price(item, self.options)
        if isinstance(target, Skipped):
            self.items.skip(key, f"{describe(item)}: {target.reason}")
            return
        price_changed = self.state.fingerprint(PRICE, key) != target.price_fingerprint()
        promotion_changed = (
            self.state.fingerprint(PROMOTION, key) != target.promotion_fingerprint()
        )
        if not (price_changed or promotion_changed):
            self.items.unchanged(key)
            return

        combinations = desired_combinations(item, self.options)
        product_id = await linked_product(
            self.ctx, self.lookups, self.options, item, combinations
        )
        if product_id is None:
            self.items.skip(key, f"{describe(item)} is not in the shop yet")
            return
        if price_changed:
            await self._price(key, product_id, target)
        if promotion_changed:
            await self._promotion(key, product_id, target)

    async def _price(self, key: str, product_id: int, target: DesiredPrice) -> None:
        try:
            await self.items.write(
                "updated",
                f"price is now {target.price} excluding VAT",
                lambda: self.shop.update(
                    "products",
                    product_id,
                    {
                        "price": target.price,
                        "id_tax_rules_group": target.tax_rules_group,
                    },
                ),
                polaris_key=key,
                prestashop_id=product_id,
            )
        except ItemRejected as error:
            if error.status == 404:
                self.state.remove_link(PRODUCT, key)
            raise
        if not self.ctx.dry_run:
            self.state.set_fingerprint(PRICE, key, target.price_fingerprint())

    async def _promotion(self, key: str, product_id: int, target: DesiredPrice) -> None:
        promotion_id = self.state.link(SPECIFIC_PRICE, key)
        if (
            promotion_id is None
            and target.specific_price is not None
            and product_id not in self.promotions_read
        ):
            promotion_id = await self._find_promotion(product_id)

        if target.specific_price is None:
            if promotion_id is not None:
                await self.items.write(
                    "updated",
                    "promotion ended in Polaris: removed",
                    lambda: self.shop.delete("specific_prices", promotion_id),
                    polaris_key=key,
                    prestashop_id=promotion_id,
                )
        else:
            promotion_id = await self._write_promotion(
                key, product_id, promotion_id, target
            )

        if self.ctx.dry_run:
            return
        with self.state.transaction():
            if promotion_id is None or target.specific_price is None:
                self.state.remove_link(SPECIFIC_PRICE, key)
            else:
                self.state.set_link(SPECIFIC_PRICE, key, promotion_id)
            self.state.set_fingerprint(PROMOTION, key, target.promotion_fingerprint())

    async def _write_promotion(
        self, key: str, product_id: int, promotion_id: int | None, target: DesiredPrice
    ) -> int | None:
        assert target.specific_price is not None
        fields = target.specific_price.fields(product_id)
        reduction = target.specific_price.reduction_incl_tax
        if promotion_id is not None:
            await self.items.write(
                "updated",
                f"promotion changed: {reduction} off including VAT",
                lambda: self.shop.update("specific_prices", promotion_id, fields),
                polaris_key=key,
                prestashop_id=promotion_id,
            )
            return promotion_id
        created = await self.items.write(
            "created",
            f"promotion: {reduction} off including VAT",
            lambda: self.shop.create(
                "specific_prices",
                fields,
                lookup={"id_product": product_id, **_PROMOTION_SLOT},
            ),
            polaris_key=key,
        )
        return int(created["id"]) if created is not None else None

    async def _find_promotion(self, product_id: int) -> int | None:
        """A promotion an interrupted run created without recording it."""
        found = await self.shop.find_one(
            "specific_prices",
            {"id_product": product_id, "id_specific_price_rule": 0, **_PROMOTION_SLOT},
        )
        return int(found["id"]) if found is not None else None
