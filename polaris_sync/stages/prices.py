"""The prices stage (both modes): base price and promotion of linked products.

The product's price is Polaris' normal price without VAT; a running sale is a
specific price taking the difference off, so the shop shows the normal price
struck through. One write per change: the price, or the promotion (created,
changed, or deleted when it ends).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from polaris_sync.errors import ItemRejected
from polaris_sync.mapping.item import CatalogueItem
from polaris_sync.mapping.product import (
    CatalogueOptions,
    DesiredCombination,
    DesiredPrice,
    Skipped,
    desired_combinations,
    desired_price,
    fingerprint,
    product_key,
)
from polaris_sync.stages import found_late
from polaris_sync.stages.base import StageContext, StageResult
from polaris_sync.stages.items import ItemRun, describe
from polaris_sync.stages.products_feed import (
    advance_cursor,
    catalogue_options,
    note_rules,
    read_feed,
    report_unreadable,
    restart_on_new_rules,
    tax_rules,
)
from polaris_sync.stages.promo_category import PromotionCategory
from polaris_sync.stages.shop import (
    BATCH,
    COMBINATION,
    PRODUCT,
    SPECIFIC_PRICE,
    ShopLookups,
)
from polaris_sync.stages.shop_prices import (
    PRICE,
    PROMOTION,
    PROMOTION_SLOT,
    ShopPrices,
)
from polaris_sync.stages.stock import linked_product, read_adoptable

STAGE = "prices"

async def run(ctx: StageContext) -> StageResult:
    result = StageResult(STAGE)
    await found_late.notice_new_products(ctx, result)
    current_rules = restart_on_new_rules(ctx, STAGE)
    feed = await read_feed(ctx, STAGE)
    report_unreadable(ctx, STAGE, feed, result)
    sync = PriceSync(ctx, result, catalogue_options(ctx.config))
    await sync.read_shop(feed.items)
    await sync.items.for_each(feed.items.newest_first(), sync.item)
    if sync.promo_category is not None:
        await sync.promo_category.settle()
    if result.complete:
        advance_cursor(ctx, STAGE, feed, sync.items.failed)
        note_rules(ctx, STAGE, current_rules)
    return result


def rules(ctx: StageContext) -> str:
    """What turns Polaris' prices into the prices written, besides Polaris.

    The tax groups and rates make the price without VAT and its group; the
    product layout says where prices live; the promotion category must hear
    of every promotion running when it is set.
    """
    options = catalogue_options(ctx.config)
    return fingerprint(
        [
            options.products_per,
            tax_rules(options),
            str(options.default_tax_rate),
            options.promo_category,
        ]
    )


@dataclass(frozen=True)
class PriceSlot:
    """Where an item's price lives: its product, or each of its sizes.

    With one product per model the colours share the product: each size then
    carries its colour's price and promotion (`combination_id` set).
    """

    key: str
    product_id: int
    combination_id: int = 0


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
        self.shared = options.products_per == "model"
        # Products whose promotions were read in batch: no lookup one by one.
        self.promotions_read: set[int] = set()
        self.promo_category = (
            PromotionCategory(self.items, options)
            if options.promo_category
            else None
        )

    async def read_shop(self, items: Iterable[CatalogueItem]) -> None:
        """Read, 100 objects a request, the shop's prices we hold no record of.

        After a resync, or for promotions a crashed run left unlinked: those
        already right are noted and not written again, and no price or
        promotion costs a read of its own.
        """
        await read_adoptable(self.ctx, self.lookups, self.options, items)
        shop = ShopPrices(self.ctx, self.lookups)
        for item in items:
            target = desired_price(item, self.options)
            if isinstance(target, Skipped):
                continue
            for slot in self._linked_slots(item):
                shop.note_slot(slot.key, slot.product_id, slot.combination_id, target)
            if shop.pending() >= BATCH:
                self.promotions_read |= await shop.read()
        self.promotions_read |= await shop.read()

    def _linked_slots(self, item: CatalogueItem) -> list[PriceSlot]:
        """Where the item's price lives in the shop; none when not linked yet."""
        key = product_key(item, self.options)
        product_id = self.state.link(PRODUCT, key)
        if product_id is None:
            return []
        if not self.shared:
            return [PriceSlot(key, product_id)]
        return [
            PriceSlot(c.key, product_id, combination_id)
            for c in desired_combinations(item, self.options)
            if (combination_id := self.state.link(COMBINATION, c.key))
        ]

    async def item(self, item: CatalogueItem) -> None:
        key = product_key(item, self.options)
        target = desired_price(item, self.options)
        if isinstance(target, Skipped):
            self.items.skip(key, f"{describe(item)}: {target.reason}")
            return
        if self.promo_category is not None:
            self.promo_category.note(item, target)
        combinations = desired_combinations(item, self.options)
        keys = [c.key for c in combinations] if self.shared else [key]
        changed = [k for k in keys if self._changed(k, target)]
        if not changed:
            self.items.unchanged(key)
            return

        product_id = await linked_product(
            self.ctx, self.lookups, self.options, item, combinations
        )
        if product_id is None:
            self.items.skip(key, f"{describe(item)} is not in the shop yet")
            return
        for slot in await self._slots(product_id, changed, combinations):
            if self.state.fingerprint(PRICE, slot.key) != target.price_fingerprint():
                await self._price(slot, target)
            if (
                self.state.fingerprint(PROMOTION, slot.key)
                != target.promotion_fingerprint()
            ):
                await self._promotion(slot, target)

    def _changed(self, key: str, target: DesiredPrice) -> bool:
        return (
            self.state.fingerprint(PRICE, key) != target.price_fingerprint()
            or self.state.fingerprint(PROMOTION, key) != target.promotion_fingerprint()
        )

    async def _slots(
        self,
        product_id: int,
        keys: list[str],
        combinations: tuple[DesiredCombination, ...],
    ) -> list[PriceSlot]:
        if not self.shared:
            return [PriceSlot(keys[0], product_id)]
        await self.lookups.link_combinations(product_id, combinations)
        slots = []
        for key in keys:
            combination_id = self.state.link(COMBINATION, key)
            if combination_id is None:
                self.items.skip(key, f"size {key} is not in the shop yet", what="size")
            else:
                slots.append(PriceSlot(key, product_id, combination_id))
        return slots

    async def _price(self, slot: PriceSlot, target: DesiredPrice) -> None:
        if slot.combination_id:
            resource, object_id = "combinations", slot.combination_id
            fields: dict[str, object] = {"price": target.price}
        else:
            resource, object_id = "products", slot.product_id
            fields = {
                "price": target.price,
                "id_tax_rules_group": target.tax_rules_group,
            }
        try:
            await self.items.write(
                "updated",
                f"price is now {target.price} excluding VAT",
                lambda: self.shop.update(resource, object_id, fields),
                polaris_key=slot.key,
                prestashop_id=object_id,
                what="price",
            )
        except ItemRejected as error:
            if error.status == 404:
                link_kind = COMBINATION if slot.combination_id else PRODUCT
                self.state.remove_link(link_kind, slot.key)
            raise
        if not self.ctx.dry_run:
            self.state.set_fingerprint(PRICE, slot.key, target.price_fingerprint())

    async def _promotion(self, slot: PriceSlot, target: DesiredPrice) -> None:
        key = slot.key
        promotion_id = self.state.link(SPECIFIC_PRICE, key)
        if (
            promotion_id is None
            and target.specific_price is not None
            and slot.product_id not in self.promotions_read
        ):
            promotion_id = await self._find_promotion(slot)

        if target.specific_price is None:
            if promotion_id is not None:
                await self.items.write(
                    "updated",
                    "promotion ended in Polaris: removed",
                    lambda: self.shop.delete("specific_prices", promotion_id),
                    polaris_key=key,
                    prestashop_id=promotion_id,
                    what="promotion",
                )
        else:
            promotion_id = await self._write_promotion(slot, promotion_id, target)

        if self.ctx.dry_run:
            return
        with self.state.transaction():
            if promotion_id is None or target.specific_price is None:
                self.state.remove_link(SPECIFIC_PRICE, key)
            else:
                self.state.set_link(SPECIFIC_PRICE, key, promotion_id)
            self.state.set_fingerprint(PROMOTION, key, target.promotion_fingerprint())

    async def _write_promotion(
        self, slot: PriceSlot, promotion_id: int | None, target: DesiredPrice
    ) -> int | None:
        assert target.specific_price is not None
        fields = target.specific_price.fields(slot.product_id, slot.combination_id)
        reduction = target.specific_price.reduction_incl_tax
        if promotion_id is not None and await self.items.update_unless_gone(
            f"promotion changed: {reduction:.2f} off including VAT",
            lambda: self.shop.update("specific_prices", promotion_id, fields),
            polaris_key=slot.key,
            prestashop_id=promotion_id,
            what="promotion",
        ):
            return promotion_id
        # New, or deleted in the shop since it was linked: created (again).
        created = await self.items.write(
            "created",
            f"promotion: {reduction:.2f} off including VAT",
            lambda: self.shop.create(
                "specific_prices", fields, lookup=_promotion_slot(slot)
            ),
            polaris_key=slot.key,
            what="promotion",
        )
        return int(created["id"]) if created is not None else None

    async def _find_promotion(self, slot: PriceSlot) -> int | None:
        """A promotion an interrupted run created without recording it."""
        found = await self.shop.find_one(
            "specific_prices", {**_promotion_slot(slot), "id_specific_price_rule": 0}
        )
        return int(found["id"]) if found is not None else None


def _promotion_slot(slot: PriceSlot) -> dict[str, int]:
    return {
        **PROMOTION_SLOT,
        "id_product": slot.product_id,
        "id_product_attribute": slot.combination_id,
    }
