"""E5: a product sits in the promotion category while its promotion runs.

Kept by the prices stage, so it follows promotions in both modes, whatever
fields full mode updates, and on time: a dated promotion starts and ends on
its dates even when Polaris says nothing new about the item then. Each
promotion's dates are remembered per product; every run compares them with
the clock and moves the products whose promotion started or ended.

The product's other categories are the merchant's or the catalogue's: they
are read back and kept as they are.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from polaris_sync.errors import ItemRejected, TransientError
from polaris_sync.mapping.item import CatalogueItem
from polaris_sync.mapping.product import (
    UNBOUNDED,
    CatalogueOptions,
    DesiredPrice,
    SpecificPrice,
)
from polaris_sync.stages.items import ItemRun
from polaris_sync.stages.shop import PRODUCT

# Fingerprint kinds: the promotion dates of each item (`model:variant`) as
# `from|to`, "" once it has none; and whether each product was last put "in"
# or "out" of the promotion category. With one product per model, a product
# is in while any of its colours is on promotion.
WINDOW = "promo-window"
MEMBERSHIP = "promo-category"


class PromotionCategory:
    def __init__(self, items: ItemRun, options: CatalogueOptions) -> None:
        assert options.promo_category
        self.items = items
        self.ctx = items.ctx
        self.state = items.ctx.state
        self.category = options.promo_category
        self.now = options.now
        self.per_model = options.products_per == "model"

    def note(self, item: CatalogueItem, target: DesiredPrice) -> None:
        """Remember the dates of the item's promotion, or that it has none."""
        key = f"{item.model}:{item.variant_key}"
        promotion = target.specific_price
        window = f"{promotion.starts}|{promotion.ends}" if promotion else ""
        known = self.state.fingerprint(WINDOW, key)
        if known != window and (promotion or known) and not self.ctx.dry_run:
            self.state.set_fingerprint(WINDOW, key, window)

    async def settle(self) -> None:
        """Move every product whose promotion started or ended since last time."""
        for key, windows in self._windows_by_product().items():
            if self.ctx.out_of_time():
                return  # the dates stay recorded: the next run goes on
            wanted = any(_running(window, self.now) for window in windows.values())
            if self.state.fingerprint(MEMBERSHIP, key) == ("in" if wanted else "out"):
                self._forget_if_done(key, windows)
                continue
            product_id = self.state.link(PRODUCT, key)
            if product_id is None:
                continue
            try:
                await self._place(key, product_id, wanted)
            except ItemRejected as error:
                self._failed(key, product_id, str(error))
            except TransientError as error:
                # A shop failing now would fail the next ones too.
                self._failed(key, product_id, str(error))
                return

    def _windows_by_product(self) -> dict[str, dict[str, str]]:
        by_product: dict[str, dict[str, str]] = {}
        for item_key, window in self._windows().items():
            key = item_key.split(":", 1)[0] if self.per_model else item_key
            by_product.setdefault(key, {})[item_key] = window
        return by_product

    def _windows(self) -> dict[str, str]:
        rows = self.state.execute(
            "SELECT key, value FROM fingerprints WHERE kind = ?", (WINDOW,)
        )
        return {row[0]: row[1] for row in rows}

    async def _place(self, key: str, product_id: int, wanted: bool) -> None:
        product = await self.ctx.prestashop.get("products", product_id)
        if product is None:
            return
        categories = _category_ids(product)
        if (self.category in categories) != wanted:
            if wanted:
                categories.append(self.category)
                reason = f"promotion running: added to category {self.category}"
            else:
                categories.remove(self.category)
                reason = f"promotion over: removed from category {self.category}"
            fields = {"associations": {"categories": [{"id": c} for c in categories]}}
            await self.items.write(
                "updated",
                reason,
                lambda: self.ctx.prestashop.update("products", product_id, fields),
                polaris_key=key,
                prestashop_id=product_id,
            )
        if not self.ctx.dry_run:
            self.state.set_fingerprint(MEMBERSHIP, key, "in" if wanted else "out")

    def _forget_if_done(self, key: str, windows: dict[str, str]) -> None:
        """A product out of the category with no promotion left needs no watch."""
        if any(windows.values()) or self.ctx.dry_run:
            return
        with self.state.transaction():
            for item_key in windows:
                self.state.forget_fingerprint(WINDOW, item_key)
            self.state.forget_fingerprint(MEMBERSHIP, key)

    def _failed(self, key: str, product_id: int, why: str) -> None:
        reason = f"promotion category of {key}: {why}; retried next run"
        self.ctx.audit.event(
            "failed",
            stage=self.items.stage,
            reason=reason,
            polaris_key=key,
            prestashop_id=product_id,
        )
        self.items.result.fail(reason, what="product")


def _running(window: str, now: datetime) -> bool:
    if not window:
        return False
    starts, _, ends = window.partition("|")
    promotion = SpecificPrice(Decimal(0), starts=starts, ends=ends or UNBOUNDED)
    return promotion.running(now)


def _category_ids(product: dict[str, Any]) -> list[int]:
    associations = product.get("associations") or {}
    return [int(row["id"]) for row in associations.get("categories") or []]
