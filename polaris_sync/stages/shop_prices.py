"""What the shop holds for the prices and promotions we have no record of.

After `polaris-sync resync` (or when basic mode adopts a product) no
fingerprint says what the shop holds, and a crashed run may have created a
promotion without linking it. Instead of writing every price and promotion
again, the shop's are read, 100 objects a request: those equal to what
Polaris asks for are noted as written, an unlinked promotion of ours is
linked. Only what the shop has wrong gets written, so a resync still repairs
every price changed by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from polaris_sync.mapping.product import DesiredPrice
from polaris_sync.prestashop.client import row_matches
from polaris_sync.stages.base import StageContext
from polaris_sync.stages.shop import SPECIFIC_PRICE, ShopLookups

PRICE = "price"
PROMOTION = "promotion"

# The one general promotion of a product (or of one of its sizes): all shops,
# currencies, countries, groups and customers, from one unit.
PROMOTION_SLOT = {
    "id_shop": 0,
    "id_currency": 0,
    "id_country": 0,
    "id_group": 0,
    "id_customer": 0,
    "id_cart": 0,
    "from_quantity": 1,
}
_GENERAL = {**PROMOTION_SLOT, "id_specific_price_rule": 0}

# Fields compared as numbers: the shop answers "-1.000000" for -1.
_NUMBERS = ("price", "reduction")


class ShopPrices:
    """Collects slots whose shop state is unknown, then reads and notes them."""

    def __init__(self, ctx: StageContext, lookups: ShopLookups) -> None:
        self.state = ctx.state
        self.lookups = lookups
        # (resource, object id) -> (slot key, target); resource is "products",
        # or "combinations" for sizes carrying their colour's price.
        self.prices: dict[tuple[str, int], tuple[str, DesiredPrice]] = {}
        # (product id, combination id) -> (slot key, target)
        self.promotions: dict[tuple[int, int], tuple[str, DesiredPrice]] = {}

    def note_slot(
        self, key: str, product_id: int, combination_id: int, target: DesiredPrice
    ) -> None:
        if self.state.fingerprint(PRICE, key) is None:
            resource = "combinations" if combination_id else "products"
            self.prices[(resource, combination_id or product_id)] = (key, target)
        if target.specific_price is None:
            # The stage removes only a promotion linked as ours: nothing to read.
            return
        known = self.state.fingerprint(PROMOTION, key)
        linked = self.state.link(SPECIFIC_PRICE, key) is not None
        if known is None or (not linked and known != target.promotion_fingerprint()):
            self.promotions[(product_id, combination_id)] = (key, target)

    def pending(self) -> int:
        return len(self.prices) + len(self.promotions)

    async def read(self) -> set[int]:
        """Compare the collected slots with the shop, then let them go.

        Returns the products whose promotions were read: no promotion of
        theirs needs looking up one by one.
        """
        for resource in ("products", "combinations"):
            await self._read_prices(resource)
        products = {product_id for product_id, _ in self.promotions}
        await self._read_promotions(products)
        self.prices.clear()
        self.promotions.clear()
        return products

    async def _read_prices(self, resource: str) -> None:
        ids = [object_id for kind, object_id in self.prices if kind == resource]
        display = (
            "[id,price,id_tax_rules_group]" if resource == "products" else "[id,price]"
        )
        async for rows in self.lookups.rows_where(resource, "id", ids, display):
            with self.state.transaction():
                for row in rows:
                    key, target = self.prices[(resource, int(row["id"]))]
                    if _same_price(row, target, with_tax=resource == "products"):
                        self.state.set_fingerprint(
                            PRICE, key, target.price_fingerprint()
                        )

    async def _read_promotions(self, products: set[int]) -> None:
        general: dict[tuple[int, int], list[dict[str, Any]]] = {}
        found = self.lookups.rows_where(
            "specific_prices", "id_product", products, "full"
        )
        async for rows in found:
            for row in rows:
                if row_matches(row, _GENERAL):
                    slot = (int(row["id_product"]), _int(row, "id_product_attribute"))
                    general.setdefault(slot, []).append(row)
        with self.state.transaction():
            for slot, (key, target) in self.promotions.items():
                rows = sorted(general.get(slot, []), key=lambda row: int(row["id"]))
                self._note_promotion(key, target, rows, slot)

    def _note_promotion(
        self,
        key: str,
        target: DesiredPrice,
        rows: list[dict[str, Any]],
        slot: tuple[int, int],
    ) -> None:
        """Link the slot's promotion if unlinked; note it if it is already right."""
        if not rows:
            return
        linked = self.state.link(SPECIFIC_PRICE, key)
        if linked is None:
            # The oldest: a crashed run's retry may have left a second one.
            linked = int(rows[0]["id"])
            self.state.set_link(SPECIFIC_PRICE, key, linked)
        row = next((row for row in rows if int(row["id"]) == linked), None)
        assert target.specific_price is not None
        if row is not None and _same_fields(row, target.specific_price.fields(*slot)):
            self.state.set_fingerprint(PROMOTION, key, target.promotion_fingerprint())


def _same_price(row: dict[str, Any], target: DesiredPrice, with_tax: bool) -> bool:
    if _decimal(row.get("price")) != target.price:
        return False
    return not with_tax or _int(row, "id_tax_rules_group") == target.tax_rules_group


def _same_fields(row: dict[str, Any], fields: Mapping[str, Any]) -> bool:
    for name, wanted in fields.items():
        if name in _NUMBERS:
            if _decimal(row.get(name)) != Decimal(str(wanted)):
                return False
        elif not row_matches(row, {name: str(wanted)}):
            return False
    return True


def _int(row: dict[str, Any], name: str) -> int:
    return int(row.get(name) or 0)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
