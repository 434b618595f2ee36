"""The catalogue stage (full mode, C2): product sheets, combinations, photos.

Fetch the Polaris delta, plan each item with the pure core, then write only
what differs from the fingerprint of what was last written. Prices after the
creation, promotions and stock belong to the prices and stock stages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any

from polaris_sync.errors import ItemRejected
from polaris_sync.mapping.item import CatalogueItem
from polaris_sync.mapping.product import (
    CatalogueOptions,
    DesiredCombination,
    DesiredProduct,
    Mappings,
    Skipped,
    build_product,
    desired_combinations,
    distinct_colour,
    fingerprint,
    mapping_values,
    product_key,
    product_reference,
)
from polaris_sync.mapping_table import absent_targets
from polaris_sync.stages.base import StageContext, StageResult
from polaris_sync.stages.cleanup import remove_unused_values
from polaris_sync.stages.items import ItemRun, describe
from polaris_sync.stages.photos import PHOTO_SET, sync_photos
from polaris_sync.stages.prices import PRICE, PROMOTION
from polaris_sync.stages.products_feed import (
    SpooledItems,
    advance_cursor,
    catalogue_options,
    current_mappings,
    note_rules,
    read_feed,
    read_models,
    report_unreadable,
    restart_on_new_rules,
    rewind_cursors,
    tax_rules,
)
from polaris_sync.stages.promo_category import MEMBERSHIP as PROMO_MEMBERSHIP
from polaris_sync.stages.related import link_colours
from polaris_sync.stages.shop import (
    COLOUR_SHOWN,
    COMBINATION,
    IMAGE,
    PRODUCT,
    SPECIFIC_PRICE,
    STOCK_ROW,
    ShopLookups,
    fingerprints_under,
)
from polaris_sync.stages.stock import STOCK

STAGE = "catalogue"
# Marks a product whose creation started: see CatalogueSync._was_creating.
CREATING = "creating"
# The mapping targets last found all present in the shop.
TARGETS_FOUND = "mapping-targets"


async def run(ctx: StageContext) -> StageResult:
    result = StageResult(STAGE)
    if ctx.config.mode != "full":
        # C1: basic mode creates and edits no product sheet.
        return result

    options = catalogue_options(ctx.config)
    if ctx.resync_refs:
        return await resync_products(ctx, result, options)

    # Mappings or options changed (say, a brand mapped after a first run that
    # skipped it): every item is looked at again.
    current_rules = restart_on_new_rules(ctx, STAGE)
    feed = await read_feed(ctx, STAGE)
    report_unreadable(ctx, STAGE, feed, result)
    note_new_values(ctx, feed.items)
    sync = CatalogueSync(ctx, result, options, current_mappings(ctx))
    await sync.read_ahead(feed.items)
    await sync.create_values(feed.items)
    await sync.items.for_each(feed.items, sync.item)

    if options.related_colours and options.products_per == "model-colour":
        await link_colours(sync.items, (item.model for item in feed.items))
    if options.weekly_cleanup and result.complete and not sync.items.failed:
        await remove_unused_values(ctx, sync.items, options)
    if sync.created_from is not None and not ctx.dry_run:
        rewind_cursors(ctx, ("stock", "prices"), sync.created_from)
    if result.complete:
        advance_cursor(ctx, STAGE, feed, sync.items.failed)
        note_rules(ctx, STAGE, current_rules)
    return result


def rules(ctx: StageContext) -> str:
    """What decides which items become which products, besides Polaris."""
    options = catalogue_options(ctx.config)
    # A value noted without a target resolves as if it had no row, and the
    # run's clock decides nothing here: neither may clear the cursor, or
    # every run would read the whole catalogue again.
    rows = [
        (row.kind, row.source, row.target, row.default_weight)
        for row in ctx.state.mapping_rows()
        if row.kind in ("brand", "size-grid", "category", "colour") and row.target
    ]
    settings = {
        name: sorted(value) if isinstance(value, frozenset) else value
        for name, value in vars(options).items()
        if name not in ("tax_rules_groups", "now")
    }
    return fingerprint([rows, settings, tax_rules(options)])


async def resync_products(
    ctx: StageContext, result: StageResult, options: CatalogueOptions
) -> StageResult:
    """E11: rewrite the sheets of some models now, as if they had changed.

    Stock and promotions are left to their stages; no cursor moves.
    """
    feed = await read_models(ctx, ctx.resync_refs)
    sync = CatalogueSync(ctx, result, options, current_mappings(ctx))
    await sync.find_absent_targets()
    with ctx.state.transaction():
        for item in feed.items:
            key = product_key(item, options)
            item_key = f"{item.model}:{item.variant_key}"
            forget = [(PRODUCT, key), (PHOTO_SET, item_key)] + [
                (COMBINATION, c.key) for c in desired_combinations(item, options)
            ]
            for kind, fingerprint_key in forget:
                ctx.state.forget_fingerprint(kind, fingerprint_key)
    await sync.items.for_each(feed.items, sync.item)
    for ref in ctx.resync_refs - {item.ref for item in feed.items}:
        sync.items.skip(ref, f"model {ref} is not in the Polaris catalogue")
    return result


def note_new_values(ctx: StageContext, items: Iterable[CatalogueItem]) -> None:
    """F7: every brand, grid, category or colour met gets a mapping row."""
    for item in items:
        for kind, source, label in mapping_values(item):
            ctx.state.note_mapping_value(kind, source, label)


class CatalogueSync:
    def __init__(
        self,
        ctx: StageContext,
        result: StageResult,
        options: CatalogueOptions,
        mappings: Mappings,
    ) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.shop = ctx.prestashop
        self.options = options
        self.mappings = mappings
        self.items = ItemRun(ctx, result)
        self.lookups = ShopLookups(ctx)
        self.synced = options.synced_fields
        # Oldest change among items that got a new product or size.
        self.created_from: str | None = None
        # Mapped target ids the shop does not have, by mapping kind.
        self.absent: dict[str, set[int]] = {}

    async def find_absent_targets(self) -> None:
        """Read which mapped brands, groups and categories the shop lacks: an
        item mapped to one is skipped, not written into a missing group.

        Once every target was found, the read waits for the next change of
        the mappings; while one is missing, each run looks again.
        """
        rows = self.state.mapping_rows()
        checked = fingerprint(
            [(row.kind, row.source, row.target) for row in rows if row.target]
        )
        if self.state.fingerprint(TARGETS_FOUND, STAGE) == checked:
            return
        self.absent = await absent_targets(rows, self.shop)
        if not any(self.absent.values()) and not self.ctx.dry_run:
            self.state.set_fingerprint(TARGETS_FOUND, STAGE, checked)

    async def read_ahead(self, items: SpooledItems) -> None:
        """The missing mapping targets and the unlinked products, read at once:
        neither depends on the other, and each read is a round trip."""
        reads = [self.read_unlinked(items)]
        if items:
            reads.append(self.find_absent_targets())
        await asyncio.gather(*reads)

    async def read_unlinked(self, items: Iterable[CatalogueItem]) -> None:
        """Look the products we have no link for up in the shop, 100 a request."""
        await self.lookups.read_products(
            product_reference(item, self.options)
            for item in items
            if self.state.link(PRODUCT, product_key(item, self.options)) is None
        )

    async def create_values(self, items: Iterable[CatalogueItem]) -> None:
        """Create the sizes, colours and features new products will use, before
        the items, several at a time."""
        sizes: dict[tuple[int, str], None] = {}
        features: dict[tuple[str, str], None] = {}
        creating = False
        for item in items:
            desired = build_product(item, self.mappings, self.options)
            if isinstance(desired, Skipped) or not self._will_create(item, desired):
                continue
            creating = True
            for combination in desired.combinations:
                sizes[(desired.size_group, combination.size)] = None
            # A shared product's colour is decided with the model's others.
            if self.options.colour_group and desired.colour and not desired.shared:
                sizes[(self.options.colour_group, desired.colour)] = None
            features.update(dict.fromkeys(desired.features))
        if not creating:
            return
        # New products and values are written in every language: the languages
        # are read alongside the values' groups rather than after them.
        await asyncio.gather(
            self.lookups.create_values(sizes, features), self.shop.languages()
        )

    def _will_create(self, item: CatalogueItem, desired: DesiredProduct) -> bool:
        return (
            desired.active
            and self.state.link(PRODUCT, desired.key) is None
            and self.lookups.known_absent(desired.reference)
            and not self._why_not_written(item, desired)
        )

    async def item(self, item: CatalogueItem) -> None:
        desired = build_product(item, self.mappings, self.options)
        if isinstance(desired, Skipped):
            self.items.skip(f"{item.model}", f"{describe(item)}: {desired.reason}")
            return
        why_not = self._why_not_written(item, desired)
        if why_not:
            self.items.skip(
                desired.key,
                f"{describe(item)}{why_not}",
                self.state.link(PRODUCT, desired.key),
            )
            return

        # Items of one model share one product when products_per = "model".
        async with self.lookups.lock(f"product-{desired.key}"):
            if desired.shared:
                desired = self._distinct_colour(item, desired)
            product_id, created = await self._product(desired)
            if product_id is None:
                return
            writes = [self._sizes(item, desired, product_id, created)]
            if created or "photos" in self.synced:
                # Photos and sizes go side by side: an upload reads and writes
                # the product's images only (position, cover), a new size its
                # combinations and stock rows only.
                photos = sync_photos(
                    self.ctx,
                    self.items,
                    self.lookups,
                    desired,
                    product_id,
                    new_product=created,
                )
                writes.append(photos)
            await _all_finished(writes)

    async def _sizes(
        self,
        item: CatalogueItem,
        desired: DesiredProduct,
        product_id: int,
        created: bool,
    ) -> None:
        if await self._combinations(desired, product_id, created) or created:
            self._note_creation(item)

    def _why_not_written(self, item: CatalogueItem, desired: DesiredProduct) -> str:
        """Why the product sheet is left as it is (said after the item), or ""."""
        missing = self._missing_target(desired)
        if missing:
            return (
                f": {missing}, which the shop does not have: fix the mapping "
                "(`polaris-sync mappings check` lists them)"
            )
        # E10: `lock` keeps a model number (all its colours) or one product's
        # key; adopted products are locked by reference.
        names = (item.ref, desired.key, desired.reference)
        if any(self.state.is_locked(name) for name in names):
            return " is locked: only its prices and stock are kept up to date"
        return ""

    def _missing_target(self, desired: DesiredProduct) -> str:
        """Which of the item's mapped targets is missing in the shop, or ""."""
        if desired.size_group in self.absent.get("size-grid", ()):
            return f"its size grid is mapped to attribute group {desired.size_group}"
        if desired.manufacturer_id in self.absent.get("brand", ()):
            return f"its brand is mapped to manufacturer {desired.manufacturer_id}"
        gone = [i for i in desired.category_ids if i in self.absent.get("category", ())]
        if gone:
            kind = "category" if len(gone) == 1 else "categories"
            return f"it is mapped to {kind} {', '.join(map(str, gone))}"
        return ""

    def _distinct_colour(
        self, item: CatalogueItem, desired: DesiredProduct
    ) -> DesiredProduct:
        """The colour value this item's sizes show, unused by the model's others."""
        shown = fingerprints_under(self.state, COLOUR_SHOWN, f"{item.model}:")
        shown.pop(desired.item_key.split(":", 1)[1], None)
        desired = distinct_colour(desired, item, set(shown.values()))
        if desired.colour and not self.ctx.dry_run:
            self.state.set_fingerprint(COLOUR_SHOWN, desired.item_key, desired.colour)
        return desired

    def _note_creation(self, item: CatalogueItem) -> None:
        if self.created_from is None or item.changed_at < self.created_from:
            self.created_from = item.changed_at

    async def _product(self, desired: DesiredProduct) -> tuple[int | None, bool]:
        product_id = self.state.link(PRODUCT, desired.key)
        if product_id is None:
            product_id = await self.lookups.find_product(desired.reference)
            if product_id is not None and not self._was_creating(desired):
                await self._adopt(desired, product_id)
                return None, False
            if product_id is not None:
                self.state.set_link(PRODUCT, desired.key, product_id)
        if product_id is None:
            return await self._create(desired), True

        wanted = desired.catalogue_fingerprint(self.synced)
        written = self.state.fingerprint(PRODUCT, desired.key)
        if written == wanted:
            self.items.unchanged(desired.key, product_id)
            return product_id, False
        languages = tuple(await self.shop.languages())
        features = await self._feature_ids(desired)
        try:
            await self.items.write(
                "updated",
                _update_reason(desired, resynced=written is None),
                lambda: self.shop.update(
                    "products",
                    product_id,
                    desired.catalogue_fields(languages, self.synced, features),
                ),
                polaris_key=desired.key,
                prestashop_id=product_id,
                warnings=list(desired.warnings) or None,
            )
        except ItemRejected as error:
            if error.status == 404:
                # Deleted in the shop: forget it, the next run creates it again.
                self.state.remove_link(PRODUCT, desired.key)
            raise
        if not self.ctx.dry_run:
            self.state.set_fingerprint(PRODUCT, desired.key, wanted)
            if "categories" in self.synced:
                # The categories were replaced: the prices stage checks the
                # promotion category again (E5).
                self.state.forget_fingerprint(PROMO_MEMBERSHIP, desired.key)
        return product_id, False

    def _was_creating(self, desired: DesiredProduct) -> bool:
        """Whether an earlier run started creating this product and died."""
        return self.state.fingerprint(CREATING, desired.key) == desired.reference

    async def _adopt(self, desired: DesiredProduct, product_id: int) -> None:
        """A product the merchant made with our reference (F10): link it, lock it.

        Its sheet is the merchant's until they unlock it; prices and stock
        follow Polaris from now on.
        """
        self.items.skip(
            desired.key,
            f"{desired.name}: the shop already has product {product_id} with "
            f"reference {desired.reference}; linked and locked, so only its "
            f"prices and stock follow Polaris (`polaris-sync unlock "
            f"{desired.reference}` hands its sheet to Polaris)",
            product_id,
        )
        if self.ctx.dry_run:
            return
        with self.state.transaction():
            self.state.set_link(PRODUCT, desired.key, product_id)
            self.state.lock(desired.reference)
        await self.lookups.link_combinations(product_id, desired.combinations)

    async def _create(self, desired: DesiredProduct) -> int | None:
        if not desired.active:
            self.items.skip(
                desired.key, f"{desired.name}: withdrawn or unpublished, not created"
            )
            return None
        languages = tuple(await self.shop.languages())
        features = await self._feature_ids(desired, creating=True)
        visible = not (
            self.ctx.config.stock.out_of_stock == "hide" and not desired.quantity
        )
        if not self.ctx.dry_run:
            # Written before the POST: a run killed before the product is
            # linked knows, next time, that the product with this reference
            # is its own and not the merchant's.
            self.state.set_fingerprint(CREATING, desired.key, desired.reference)
        created = await self.items.write(
            "created",
            f"new product {desired.reference} with {_sizes(desired)}",
            lambda: self.shop.create(
                "products",
                desired.create_fields(languages, visible, features),
                lookup={"reference": desired.reference},
            ),
            polaris_key=desired.key,
            warnings=list(desired.warnings) or None,
        )
        if created is None:
            # Dry run: its sizes and photos would be created with it, and
            # count as such.
            self.items.result.count("planned", len(desired.combinations), what="size")
            if desired.photos:
                self.items.result.count("planned", len(desired.photos), what="photo")
            return None
        product_id = int(created["id"])
        # Linked and fingerprinted at once: a crash after this point finds the
        # product again instead of creating a second one.
        with self.state.transaction():
            self.state.set_link(PRODUCT, desired.key, product_id)
            self.state.set_fingerprint(
                PRODUCT, desired.key, desired.catalogue_fingerprint(self.synced)
            )
            if not desired.shared:
                self.state.set_fingerprint(
                    PRICE, desired.key, desired.target_price.price_fingerprint()
                )
            self.state.set_fingerprint(
                "visibility", desired.key, "both" if visible else "none"
            )
            # Left by a product deleted in the shop: the new one has none.
            self.state.remove_link(SPECIFIC_PRICE, desired.key)
            self.state.forget_fingerprint(PROMOTION, desired.key)
            self.state.forget_fingerprint(PHOTO_SET, desired.item_key)
            for photo_fingerprint in self.lookups.photo_links(desired.item_key):
                self.state.remove_link(IMAGE, f"{desired.item_key}#{photo_fingerprint}")
            self.state.forget_fingerprint(CREATING, desired.key)
        return product_id

    async def _feature_ids(
        self, desired: DesiredProduct, creating: bool = False
    ) -> list[tuple[int, int]]:
        if not desired.features or not (creating or "description" in self.synced):
            return []
        # In a dry run, features not in the shop yet are left out of the plan.
        return await self.lookups.feature_ids(desired.features) or []

    async def _combinations(
        self, desired: DesiredProduct, product_id: int, created: bool
    ) -> bool:
        """Create or update the sizes; True when one was created.

        The first size written goes alone: if the product has no combination
        yet, PrestaShop makes it the product's default, and two first
        combinations posted at once can each take themselves for the default.
        Once one exists, the shop recomputes the same default (the flagged one,
        else the first) whatever else is being added, so the other sizes are
        written several at a time (the client bounds how many are in flight).
        """
        if not created:
            await self.lookups.link_combinations(product_id, desired.combinations)
        to_write = []
        for combination in desired.combinations:
            wanted = self._combination_fingerprint(desired, product_id, combination)
            if wanted != self._written(combination, created):
                to_write.append((combination, wanted))
        if not to_write:
            return False
        first, *others = to_write
        new_size = await self._combination(desired, product_id, created, *first)
        outcomes = await _all_finished(
            [self._combination(desired, product_id, created, *o) for o in others]
        )
        return new_size or any(outcomes)

    def _combination_fingerprint(
        self, desired: DesiredProduct, product_id: int, combination: DesiredCombination
    ) -> str:
        return fingerprint(
            {
                "product": product_id,
                "reference": combination.reference,
                "ean13": combination.ean13,
                "size": [desired.size_group, combination.size],
                "colour": [self.options.colour_group, desired.colour],
            }
        )

    def _written(self, combination: DesiredCombination, created: bool) -> str | None:
        """The fingerprint of the size as last written, if the shop still has it."""
        # Links left by a product deleted in the shop point nowhere.
        if created or not self.state.link(COMBINATION, combination.key):
            return None
        return self.state.fingerprint(COMBINATION, combination.key)

    async def _combination(
        self,
        desired: DesiredProduct,
        product_id: int,
        created: bool,
        combination: DesiredCombination,
        wanted: str,
    ) -> bool:
        """Create or update one size; True when it was created."""
        combination_id = (
            None if created else self.state.link(COMBINATION, combination.key)
        )
        written = self.state.fingerprint(COMBINATION, combination.key)
        values = await self._attribute_values(desired, combination.size)
        if values is None:
            self.items.result.count("planned", what="size")
            return False
        fields = {
            "id_product": product_id,
            "reference": combination.reference,
            "ean13": combination.ean13 or None,
            "minimal_quantity": 1,
            "associations": {
                "product_option_values": [{"id": value} for value in values]
            },
        }
        new_size = await self._write_combination(
            desired, combination.key, combination_id, fields, written is None
        )
        if not self.ctx.dry_run:
            self.state.set_fingerprint(COMBINATION, combination.key, wanted)
        return new_size

    async def _attribute_values(
        self, desired: DesiredProduct, size: str
    ) -> list[int] | None:
        values = [await self.lookups.attribute_value(desired.size_group, size)]
        if self.options.colour_group and desired.colour:
            values.append(
                await self.lookups.attribute_value(
                    self.options.colour_group, desired.colour
                )
            )
        if any(value is None for value in values):
            return None  # dry run: the value would be created first
        return [value for value in values if value is not None]

    async def _write_combination(
        self,
        desired: DesiredProduct,
        key: str,
        combination_id: int | None,
        fields: dict[str, object],
        resynced: bool,
    ) -> bool:
        """Update or create one size; True when it was created."""
        why = "written again, resync requested" if resynced else "changed in Polaris"
        if combination_id is not None and await self.items.update_unless_gone(
            f"size {key} {why}",
            lambda: self.shop.update("combinations", combination_id, fields),
            polaris_key=key,
            prestashop_id=combination_id,
            what="size",
        ):
            return False
        # New, or deleted in the shop since it was linked: created (again).
        created = await self.items.write(
            "created",
            f"new size {key}",
            lambda: self.shop.create(
                "combinations",
                # The price impact is the prices stage's, after creation.
                {**fields, "price": desired.size_price},
                lookup={
                    "id_product": fields["id_product"],
                    "reference": fields["reference"],
                },
            ),
            polaris_key=key,
            what="size",
        )
        if created is not None:
            with self.state.transaction():
                self.state.set_link(COMBINATION, key, int(created["id"]))
                self.state.remove_link(STOCK_ROW, key)
                # A new combination's stock row starts at 0: nothing to write
                # for a size Polaris has none of.
                self.state.set_fingerprint(STOCK, key, "0")
                if desired.shared:
                    self.state.set_fingerprint(
                        PRICE, key, desired.target_price.price_fingerprint()
                    )
        return created is not None


async def _all_finished(writes: Iterable[Awaitable[Any]]) -> list[Any]:
    """Run `writes` together; once all are done, raise the first error.

    Every write is let finish and noted, so none is cut off half-way.
    """
    outcomes = await asyncio.gather(*writes, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes


def _update_reason(desired: DesiredProduct, *, resynced: bool) -> str:
    if not desired.active:
        return f"{desired.name}: withdrawn from the web in Polaris, deactivated"
    if resynced:
        # No record of the last write: a resync forgot it, nothing changed.
        return f"{desired.name}: product sheet written again, resync requested"
    return f"{desired.name}: product sheet changed in Polaris"


def _sizes(desired: DesiredProduct) -> str:
    count = len(desired.combinations)
    return "1 size" if count == 1 else f"{count} sizes"
