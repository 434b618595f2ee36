"""The stock stage (both modes): each size's sellable quantity (D1, D2, D3).

The quantity is Polaris' stock over the stores that count, minus safety
stock. Only a quantity that differs from the last one written is sent, as
one write to that combination's stock row (PATCH, or a full PUT keeping the
row's shop on 1.7.8).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from polaris_sync.mapping.availability import availability_line
from polaris_sync.mapping.item import CatalogueItem
from polaris_sync.mapping.product import (
    CatalogueOptions,
    DesiredCombination,
    desired_combinations,
    fingerprint,
    product_key,
    product_reference,
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
    rewind_cursors,
)
from polaris_sync.stages.shop import (
    BATCH,
    COMBINATION,
    PRODUCT,
    STOCK_ROW,
    ShopLookups,
    links_under,
)

STAGE = "stock"
STOCK = "stock"
VISIBILITY = "visibility"
AVAILABILITY = "store-availability"


async def run(ctx: StageContext) -> StageResult:
    result = StageResult(STAGE)
    await found_late.notice_new_products(ctx, result)
    current_rules = restart_on_new_rules(ctx, STAGE)
    feed = await read_feed(ctx, STAGE)
    report_unreadable(ctx, STAGE, feed, result)
    sync = StockSync(ctx, result, catalogue_options(ctx.config))
    await sync.read_stock_rows(feed.items)
    width = ctx.config.prestashop.max_concurrency
    items = feed.items.newest_first().largest_first_by_groups(4 * width)
    await sync.items.for_each(items, sync.item)
    if result.complete:
        advance_cursor(ctx, STAGE, feed, sync.items.failed)
        note_rules(ctx, STAGE, current_rules)
    return result


def rules(ctx: StageContext) -> str:
    """What turns Polaris' stock into the figures written, besides Polaris.

    Safety stock, the stores counted, sold-out hiding, the per-store lines
    and the sizes' keys: changing any of these changes figures of items
    Polaris has no reason to send again.
    """
    options = catalogue_options(ctx.config)
    store_lines = (
        [options.store_low_stock, sorted(_store_names(ctx).items())]
        if options.store_availability
        else None
    )
    return fingerprint(
        [
            options.products_per,
            options.safety_stock,
            sorted(options.stores),
            ctx.config.stock.out_of_stock,
            store_lines,
        ]
    )


async def linked_product(
    ctx: StageContext,
    lookups: ShopLookups,
    options: CatalogueOptions,
    item: CatalogueItem,
    combinations: tuple[DesiredCombination, ...],
) -> int | None:
    """The shop product of an item; basic mode adopts an existing one (F10).

    An item the shop was searched for in vain is not searched again until it
    changes in Polaris, or until the shop shows a product that may be it
    (see `found_late`): runs re-read the newest items and must stay cheap.
    """
    key = product_key(item, options)
    product_id = ctx.state.link(PRODUCT, key)
    if product_id is not None or ctx.config.mode != "basic":
        return product_id
    if found_late.searched_in_vain(ctx, item, options):
        return None
    late = found_late.found_late(ctx, key)
    product_id = await lookups.adopt(
        item, key, product_reference(item, options), combinations, found_late=late
    )
    if ctx.dry_run:
        return product_id
    if product_id is None:
        found_late.waiting(ctx, item, options)
    elif late:
        found_late.linked(ctx, key)
    return product_id


async def read_adoptable(
    ctx: StageContext,
    lookups: ShopLookups,
    options: CatalogueOptions,
    items: Iterable[CatalogueItem],
) -> None:
    """Basic mode: look the unlinked items up in the shop, 100 a request.

    First by reference, then by the barcodes of those still not found; `items`
    is walked twice. Without it, each unlinked item would cost one read, plus
    one per size when the shop does not have it, on every run.
    """
    if ctx.config.mode != "basic":
        return

    def unlinked() -> Iterator[CatalogueItem]:
        for item in items:
            key = product_key(item, options)
            searched = found_late.searched_in_vain(ctx, item, options)
            if ctx.state.link(PRODUCT, key) is None and not searched:
                yield item

    await lookups.read_products(product_reference(i, options) for i in unlinked())
    await lookups.read_eans(
        combination.ean13
        for item in unlinked()
        if not lookups.found_by_reference(product_reference(item, options))
        for combination in desired_combinations(item, options)
        if combination.ean13
    )


class StockSync:
    def __init__(
        self, ctx: StageContext, result: StageResult, options: CatalogueOptions
    ) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.options = options
        self.items = ItemRun(ctx, result)
        self.lookups = ShopLookups(ctx)
        # D2 judges a product by all its sizes; with one product per model an
        # item holds only one colour's sizes, so sold-out hiding needs one
        # product per colour.
        self.store_names = _store_names(ctx) if options.store_availability else {}
        self.hide_sold_out = (
            ctx.config.stock.out_of_stock == "hide"
            and options.products_per == "model-colour"
        )

    def changed(
        self, combinations: tuple[DesiredCombination, ...]
    ) -> list[DesiredCombination]:
        return [
            c
            for c in combinations
            if self.state.fingerprint(STOCK, c.key) != str(c.quantity)
        ]

    async def read_stock_rows(self, items: Iterable[CatalogueItem]) -> None:
        """Read the shop's rows of the sizes to write, 100 products a request.

        After a first sync every size has a new stock row: asking product by
        product would cost one read per product. A size with no fingerprint
        (after a resync, or adopted in basic mode) has a figure nobody here
        wrote: the shop's is read with the row, and only one that differs is
        written.
        """
        await read_adoptable(self.ctx, self.lookups, self.options, items)
        # Combination keys by product id, read and let go a batch at a time:
        # the whole catalogue's would grow with it (130,000 sizes for 10,000
        # models).
        unread: dict[int, list[str]] = {}
        for item in items:
            product_id = self.state.link(PRODUCT, product_key(item, self.options))
            if product_id is None:
                continue
            listed = desired_combinations(item, self.options)
            for combination in self.changed(
                listed + self._no_longer_listed(item, listed)
            ):
                if self._shop_figure_unknown(combination.key):
                    unread.setdefault(product_id, []).append(combination.key)
            if len(unread) >= BATCH:
                await self._read_batch(unread)
                unread = {}
        if unread:
            await self._read_batch(unread)

    def _shop_figure_unknown(self, key: str) -> bool:
        return (
            self.state.link(STOCK_ROW, key) is None
            or self.state.fingerprint(STOCK, key) is None
        )

    async def _read_batch(self, unread: dict[int, list[str]]) -> None:
        """Link the batch's stock rows; figures the shop already shows are noted."""
        quantities = await self.lookups.read_stock_rows(unread)
        with self.state.transaction():
            for key, quantity in quantities.items():
                if self.state.fingerprint(STOCK, key) is None:
                    self.state.set_fingerprint(STOCK, key, str(quantity))

    async def item(self, item: CatalogueItem) -> None:
        listed = desired_combinations(item, self.options)
        combinations = listed + self._no_longer_listed(item, listed)
        key = product_key(item, self.options)
        changed = self.changed(combinations)
        visibility = self._visibility(listed)
        lines = self._availability_changes(listed)
        if not (changed or lines or self._visibility_changed(key, visibility)):
            self.items.unchanged(key)
            return

        product_id = await linked_product(
            self.ctx, self.lookups, self.options, item, listed
        )
        if product_id is None:
            self.items.skip(key, f"{describe(item)} is not in the shop yet")
            return
        if any(self.state.link(COMBINATION, c.key) is None for c in changed):
            await self.lookups.link_combinations(product_id, listed)
        for combination in changed:
            await self._quantity(item, product_id, combinations, combination)
        await self._visibility_write(key, product_id, visibility)
        for combination_key, line in lines.items():
            await self._availability_write(combination_key, line)

    def _no_longer_listed(
        self, item: CatalogueItem, listed: tuple[DesiredCombination, ...]
    ) -> tuple[DesiredCombination, ...]:
        """Sizes the shop has that Polaris stopped listing, at quantity 0.

        Left with their last stock they would stay sellable. Their
        combinations stay in the shop: past orders name them.
        """
        item_key = f"{item.model}:{item.variant_key}"
        known = {combination.key for combination in listed}
        return tuple(
            DesiredCombination(
                key=f"{item_key}:{size}", size=size, reference="", ean13="", quantity=0
            )
            for size in links_under(self.state, COMBINATION, f"{item_key}:")
            if f"{item_key}:{size}" not in known
        )

    async def _quantity(
        self,
        item: CatalogueItem,
        product_id: int,
        combinations: tuple[DesiredCombination, ...],
        combination: DesiredCombination,
    ) -> None:
        if self.state.link(COMBINATION, combination.key) is None:
            self.items.skip(
                combination.key,
                f"size {combination.key} is not in the shop",
                what="size",
            )
            return
        row = await self.lookups.stock_row(product_id, combinations, combination.key)
        if row is None or not await self.items.update_unless_gone(
            _stock_reason(combination),
            lambda: self.ctx.prestashop.update(
                "stock_availables", row, {"quantity": combination.quantity}
            ),
            polaris_key=combination.key,
            prestashop_id=row,
            what="size",
        ):
            await self._deleted_in_shop(item, product_id, combination)
            return
        if not self.ctx.dry_run:
            self.state.set_fingerprint(
                STOCK, combination.key, str(combination.quantity)
            )

    async def _deleted_in_shop(
        self, item: CatalogueItem, product_id: int, combination: DesiredCombination
    ) -> None:
        """A linked size without a stock row: it, or its product, was deleted.

        Every combination has a stock row, so the merchant deleted the size
        or the whole product in the shop. What is gone is forgotten and the
        catalogue reads the item again: its next run creates them anew (or
        links the size again, if only its stock row had changed).
        """
        if not combination.reference:
            self.items.skip(
                combination.key,
                f"size {combination.key} is no longer in Polaris nor in the shop: "
                "forgotten",
                product_id,
                what="size",
            )
            if not self.ctx.dry_run:
                self._forget((combination,))
            return
        product_gone = await self.ctx.prestashop.get("products", product_id) is None
        what = f"product {product_id}" if product_gone else "the size"
        after = (
            "the next catalogue run creates it again"
            if self.ctx.config.mode == "full"
            else "it is linked again once the shop has it"
        )
        self.items.skip(
            combination.key,
            f"size {combination.key} has no stock row: {what} was deleted in the "
            f"shop; {after}",
            product_id,
            what="size",
        )
        if self.ctx.dry_run:
            return
        with self.state.transaction():
            sizes = desired_combinations(item, self.options)
            self._forget(sizes if product_gone else (combination,))
            if product_gone:
                self.state.remove_link(PRODUCT, product_key(item, self.options))
            rewind_cursors(self.ctx, ("catalogue",), item.changed_at)

    def _forget(self, sizes: tuple[DesiredCombination, ...]) -> None:
        with self.state.transaction():
            for size in sizes:
                self.state.remove_link(COMBINATION, size.key)
                self.state.remove_link(STOCK_ROW, size.key)
                self.state.forget_fingerprint(STOCK, size.key)

    def _availability_changes(
        self, combinations: tuple[DesiredCombination, ...]
    ) -> dict[str, str]:
        """E7: the per-store line of each size whose line changed."""
        if not self.store_names:
            return {}
        lines = {
            c.key: availability_line(
                c.stock_by_store, self.store_names, self.options.store_low_stock
            )
            for c in combinations
        }
        return {
            key: line
            for key, line in lines.items()
            if self.state.fingerprint(AVAILABILITY, key) != line
        }

    async def _availability_write(self, key: str, line: str) -> None:
        combination_id = self.state.link(COMBINATION, key)
        if combination_id is None:
            return
        languages = await self.ctx.prestashop.languages()
        await self.items.write(
            "updated",
            f"stores having size {key}: {line}",
            lambda: self.ctx.prestashop.update(
                "combinations",
                combination_id,
                {"available_now": {language: line for language in languages}},
            ),
            polaris_key=key,
            prestashop_id=combination_id,
            what="size",
        )
        if not self.ctx.dry_run:
            self.state.set_fingerprint(AVAILABILITY, key, line)

    def _visibility(self, combinations: tuple[DesiredCombination, ...]) -> str:
        # D2: a sold-out product leaves listings and search; its page stays.
        sold_out = not any(c.quantity for c in combinations)
        return "none" if self.hide_sold_out and sold_out else "both"

    def _visibility_changed(self, key: str, visibility: str) -> bool:
        known = self.state.fingerprint(VISIBILITY, key)
        # Products are created visible: no record means "both".
        return (known or "both") != visibility

    async def _visibility_write(
        self, key: str, product_id: int, visibility: str
    ) -> None:
        if not self._visibility_changed(key, visibility):
            return
        reason = (
            "sold out: hidden from listings and search"
            if visibility == "none"
            else "back in stock: shown again"
        )
        await self.items.write(
            "updated",
            reason,
            lambda: self.ctx.prestashop.update(
                "products", product_id, {"visibility": visibility}
            ),
            polaris_key=key,
            prestashop_id=product_id,
        )
        if not self.ctx.dry_run:
            self.state.set_fingerprint(VISIBILITY, key, visibility)


def _stock_reason(combination: DesiredCombination) -> str:
    if not combination.reference:  # see StockSync._no_longer_listed
        return f"size {combination.key} is no longer listed in Polaris: stock 0"
    return f"stock of {combination.reference} is now {combination.quantity}"


def _store_names(ctx: StageContext) -> dict[int, str]:
    """Mapped Polaris stores (F4), by store code, named as Polaris names them."""
    rows = [
        row
        for row in ctx.state.mapping_rows("store")
        if row.target and not row.ignored and row.source.isdigit()
    ]
    return {
        int(row.source): row.label.split(" (")[0] or row.source
        for row in sorted(rows, key=lambda row: int(row.source))
    }
