"""Finding PrestaShop ids for Polaris things: links first, the shop when needed.

Links live in the state (kinds below). When one is missing the shop is asked
once (an attribute group's values, a product's combinations or stock rows)
and every answer becomes a link, so the next item and the next run need no
request. Looking up by reference before creating is also how an interrupted
run converges without duplicates.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any

from polaris_sync.errors import ItemRejected, ServerUnreachable, TransientError
from polaris_sync.mapping.colours import COLOUR_HEX, plain
from polaris_sync.mapping.item import CatalogueItem
from polaris_sync.mapping.product import DesiredCombination
from polaris_sync.prestashop.client import exact
from polaris_sync.stages.base import StageContext
from polaris_sync.state import State

PRODUCT = "product"
COMBINATION = "combination"
STOCK_ROW = "stock-row"
ATTRIBUTE_VALUE = "attribute-value"
SPECIFIC_PRICE = "specific-price"
IMAGE = "image"
FEATURE = "feature"
FEATURE_VALUE = "feature-value"
# Fingerprint kind: the colour value an item's sizes show (one product per model).
COLOUR_SHOWN = "colour-shown"

# Values asked per batched read: `filter[field]=[a|b|...]` keeps URLs short
# and each answer small enough for a shared hosting.
BATCH = 100

# Characters the filter grammar reads as operators: such a value cannot be
# part of a `[a|b]` list and is looked up on its own.
_FILTER_SYNTAX = frozenset("[]|,%")


class ShopLookups:
    """Per-stage caches and locks over the shop's ids."""

    def __init__(self, ctx: StageContext) -> None:
        self.ctx = ctx
        self.shop = ctx.prestashop
        self.state = ctx.state
        self._group_values: dict[int, dict[str, int]] = {}
        self._features: dict[str, int] | None = None
        self._feature_values: dict[int, dict[str, int]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._failed_values: dict[tuple[str, Any, str], Exception] = {}
        # Set when the shop fails a value created ahead of the items.
        self._stop_ahead = False
        # References already looked up in batch, and the products found.
        self._references_read: set[str] = set()
        self._products_by_reference: dict[str, int] = {}
        # The same for barcodes: the product owning each combination found.
        self._eans_read: set[str] = set()
        self._products_by_ean: dict[str, int] = {}

    def lock(self, name: str) -> asyncio.Lock:
        """One lock per name: two items never work on one shop object at once."""
        return self._locks.setdefault(name, asyncio.Lock())

    # -- attribute values (sizes, colours) -----------------------------------

    async def attribute_value(self, group_id: int, name: str) -> int | None:
        """The id of value `name` in attribute group `group_id`, created if new.

        In a dry run a missing value is not created: None.
        """
        key = f"{group_id}:{name}"
        linked = self.state.link(ATTRIBUTE_VALUE, key)
        if linked is not None:
            return linked
        async with self.lock(f"group-{group_id}"):
            values = await self._values_of(group_id)
            found = values.get(plain(name))
            if found is None and not self.ctx.dry_run:
                found = await self._create_value(group_id, name)
                values[plain(name)] = found
            if found is not None and not self.ctx.dry_run:
                self.state.set_link(ATTRIBUTE_VALUE, key, found)
            return found

    async def _values_of(self, group_id: int) -> dict[str, int]:
        if group_id not in self._group_values:
            rows = await self.shop.list(
                "product_option_values",
                filters={"id_attribute_group": group_id},
                display="[id,name]",
            )
            self._group_values[group_id] = _ids_by_text(rows, "name")
        return self._group_values[group_id]

    async def _create_value(self, group_id: int, name: str) -> int:
        fields: dict[str, Any] = {"id_attribute_group": group_id}
        if plain(name) in COLOUR_HEX:
            fields["color"] = COLOUR_HEX[plain(name)]
        return await self._create_text("product_option_values", fields, "name", name)

    # -- features (E3) ----------------------------------------------------------

    async def feature_ids(
        self, features: Sequence[tuple[str, str]]
    ) -> list[tuple[int, int]] | None:
        """(feature id, value id) of each (name, value); None in a dry run
        when one would have to be created first."""
        ids = []
        for name, value in features:
            feature = await self._feature(name)
            found = (
                None if feature is None else await self._feature_value(feature, value)
            )
            if feature is None or found is None:
                return None
            ids.append((feature, found))
        return ids

    async def _feature(self, name: str) -> int | None:
        linked = self.state.link(FEATURE, name)
        if linked is not None:
            return linked
        async with self.lock("features"):
            if self._features is None:
                rows = await self.shop.list("product_features", display="[id,name]")
                self._features = _ids_by_text(rows, "name")
            found = self._features.get(plain(name))
            if found is None and not self.ctx.dry_run:
                found = await self._create_text("product_features", {}, "name", name)
                self._features[plain(name)] = found
            if found is not None and not self.ctx.dry_run:
                self.state.set_link(FEATURE, name, found)
            return found

    async def _feature_value(self, feature: int, value: str) -> int | None:
        key = f"{feature}:{value}"
        linked = self.state.link(FEATURE_VALUE, key)
        if linked is not None:
            return linked
        async with self.lock(f"feature-{feature}"):
            values = await self._values_of_feature(feature)
            found = values.get(plain(value))
            if found is None and not self.ctx.dry_run:
                found = await self._create_feature_value(feature, value)
                values[plain(value)] = found
            if found is not None and not self.ctx.dry_run:
                self.state.set_link(FEATURE_VALUE, key, found)
            return found

    async def _create_text(
        self, resource: str, fields: dict[str, Any], text_field: str, text: str
    ) -> int:
        # A value the shop refused or failed on this run fails the next item
        # needing it without a request: a failing shop is not asked per item.
        key = (resource, tuple(sorted(fields.items())), plain(text))
        if key in self._failed_values:
            raise self._failed_values[key]
        languages = await self.shop.languages()
        document = {**fields, text_field: {language: text for language in languages}}
        try:
            return int((await self.shop.create(resource, document))["id"])
        except ServerUnreachable:
            raise
        except (ItemRejected, TransientError) as error:
            self._failed_values[key] = error
            raise

    # -- values new products need, created before the items --------------------

    async def create_values(
        self,
        attribute_values: Iterable[tuple[int, str]],
        features: Iterable[tuple[str, str]],
    ) -> None:
        """Create the attribute and feature values the shop lacks, several at once.

        Items would otherwise create them one at a time under their group's
        lock while the other items wait. Only the caches are filled: each item
        still links the values it uses. A value failing here is left to the
        item that needs it, which fails with the shop's reason.
        """
        if self.ctx.dry_run:
            return
        by_group: dict[int, list[str]] = {}
        for group_id, name in attribute_values:
            if self.state.link(ATTRIBUTE_VALUE, f"{group_id}:{name}") is None:
                by_group.setdefault(group_id, []).append(name)
        groups = (self._create_group_values(g, names) for g, names in by_group.items())
        await asyncio.gather(*groups, self._create_features(list(features)))

    async def _create_group_values(self, group_id: int, names: list[str]) -> None:
        async with self.lock(f"group-{group_id}"):
            values = await self._values_of(group_id)
            await self._create_missing(
                values, names, lambda name: self._create_value(group_id, name)
            )

    async def _create_features(self, features: list[tuple[str, str]]) -> None:
        names = [name for name, _ in features if self.state.link(FEATURE, name) is None]
        if names:
            async with self.lock("features"):
                if self._features is None:
                    rows = await self.shop.list("product_features", display="[id,name]")
                    self._features = _ids_by_text(rows, "name")
                await self._create_missing(self._features, names, self._create_feature)
        by_feature: dict[int, list[str]] = {}
        for name, value in features:
            feature = self.state.link(FEATURE, name) or (self._features or {}).get(
                plain(name)
            )
            if feature and self.state.link(FEATURE_VALUE, f"{feature}:{value}") is None:
                by_feature.setdefault(feature, []).append(value)
        await asyncio.gather(
            *(self._create_feature_values(f, texts) for f, texts in by_feature.items())
        )

    async def _create_feature(self, name: str) -> int:
        return await self._create_text("product_features", {}, "name", name)

    async def _create_feature_values(self, feature: int, values: list[str]) -> None:
        async with self.lock(f"feature-{feature}"):
            await self._create_missing(
                await self._values_of_feature(feature),
                values,
                lambda value: self._create_feature_value(feature, value),
            )

    async def _values_of_feature(self, feature: int) -> dict[str, int]:
        if feature not in self._feature_values:
            rows = await self.shop.list(
                "product_feature_values",
                filters={"id_feature": feature, "custom": 0},
                display="[id,value]",
            )
            self._feature_values[feature] = _ids_by_text(rows, "value")
        return self._feature_values[feature]

    async def _create_feature_value(self, feature: int, value: str) -> int:
        # A predefined value (custom=0) may be shared; a custom one is
        # deleted with any product using it, for all of them.
        fields = {"id_feature": feature, "custom": 0}
        return await self._create_text("product_feature_values", fields, "value", value)

    async def _create_missing(
        self,
        known: dict[str, int],
        texts: Iterable[str],
        create: Callable[[str], Awaitable[int]],
    ) -> None:
        """Create the texts `known` lacks, several at once (the client bounds
        how many are in flight), and add their ids to it.

        A refused value is left to its items; after a server error the rest
        is left to the items too, so a failing shop stops them as usual.
        """

        async def create_one(key: str, text: str) -> None:
            if self._stop_ahead:
                return
            try:
                known[key] = await create(text)
            except ServerUnreachable:
                raise
            except TransientError:
                self._stop_ahead = True
            except ItemRejected:
                pass

        missing = {plain(text): text for text in texts if plain(text) not in known}
        try:
            async with asyncio.TaskGroup() as group:
                for key, text in missing.items():
                    group.create_task(create_one(key, text))
        except* Exception as errors:
            raise errors.exceptions[0] from None

    # -- combinations and stock rows ------------------------------------------

    async def link_combinations(
        self, product_id: int, combinations: Sequence[DesiredCombination]
    ) -> None:
        """Link the product's combinations in the shop to ours, EAN first.

        A reference is trusted only when no EAN says otherwise and it names one
        of our sizes and one shop combination; no shop combination is linked
        to two sizes (a size would show another's stock).
        """
        missing = [
            c for c in combinations if self.state.link(COMBINATION, c.key) is None
        ]
        if not missing:
            return
        rows = await self.shop.list(
            "combinations",
            filters={"id_product": product_id},
            display="[id,reference,ean13]",
        )
        model = missing[0].key.split(":", 1)[0]
        taken = set(links_under(self.state, COMBINATION, f"{model}:").values())
        for combination in missing:
            row = _same_ean(combination, rows, taken) or _same_reference(
                combination, combinations, rows, taken
            )
            if row is not None:
                taken.add(int(row["id"]))
                self.state.set_link(COMBINATION, combination.key, int(row["id"]))

    async def stock_row(
        self, product_id: int, combinations: Sequence[DesiredCombination], key: str
    ) -> int | None:
        """The stock row of one combination; all rows of the product get linked."""
        linked = self.state.link(STOCK_ROW, key)
        if linked is not None:
            return linked
        async with self.lock(f"stock-{product_id}"):
            linked = self.state.link(STOCK_ROW, key)
            if linked is not None:
                return linked
            by_combination = {
                self.state.link(COMBINATION, c.key): c.key for c in combinations
            }
            rows = await self.shop.list(
                "stock_availables",
                filters={"id_product": product_id},
                display="[id,id_product_attribute]",
            )
            for row in rows:
                combination_key = by_combination.get(int(row["id_product_attribute"]))
                if combination_key is not None:
                    self.state.set_link(STOCK_ROW, combination_key, int(row["id"]))
            return self.state.link(STOCK_ROW, key)

    # -- batched reads ----------------------------------------------------------

    async def rows_where(
        self, resource: str, field: str, values: Iterable[str | int], display: str
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The rows whose `field` is one of `values`, one list per request.

        `BATCH` values a request; only one answer is held at a time.
        """
        pending = sorted(set(values), key=str)
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            filters = {field: chunk}
            yield await self.shop.list(resource, filters=filters, display=display)

    async def read_products(self, references: Iterable[str]) -> None:
        """Look many references up at once; `find_product` then asks no more.

        A first sync would otherwise ask the shop once per product before
        creating it.
        """
        wanted = {
            reference.casefold(): reference
            for reference in references
            if reference and not _FILTER_SYNTAX & set(reference)
        }
        wanted = {
            key: reference
            for key, reference in wanted.items()
            if key not in self._references_read
        }
        found = self.rows_where(
            "products", "reference", wanted.values(), "[id,reference]"
        )
        async for rows in found:
            for row in rows:
                key = str(row.get("reference", "")).casefold()
                if key in wanted:
                    self._products_by_reference.setdefault(key, int(row["id"]))
        self._references_read.update(wanted)

    def known_absent(self, reference: str) -> bool:
        """Whether a batched read found no shop product with this reference."""
        key = reference.casefold()
        return key in self._references_read and key not in self._products_by_reference

    async def read_eans(self, eans: Iterable[str]) -> None:
        """Look many barcodes up at once; `find_product` then asks no more."""
        wanted = {ean for ean in eans if ean.isdigit()} - self._eans_read
        found = self.rows_where(
            "combinations", "ean13", wanted, "[id,id_product,ean13]"
        )
        async for rows in found:
            for row in rows:
                ean = str(row.get("ean13", ""))
                if ean in wanted:
                    self._products_by_ean.setdefault(ean, int(row["id_product"]))
        self._eans_read.update(wanted)

    def found_by_reference(self, reference: str) -> bool:
        return reference.casefold() in self._products_by_reference

    async def read_stock_rows(
        self, combinations_by_product: Mapping[int, Collection[str]]
    ) -> dict[str, int]:
        """Link the stock rows of many products' combinations (by key), in batches.

        Returns the quantity the shop holds for each of those combinations.
        """
        quantities: dict[str, int] = {}
        owner: dict[int, str] = {}
        for keys in combinations_by_product.values():
            for key in keys:
                combination_id = self.state.link(COMBINATION, key)
                if combination_id is not None:
                    owner[combination_id] = key
        rows = self.rows_where(
            "stock_availables",
            "id_product",
            combinations_by_product,
            "[id,id_product,id_product_attribute,quantity]",
        )
        async for batch in rows:
            with self.state.transaction():
                for row in batch:
                    owned = owner.get(int(row.get("id_product_attribute") or 0))
                    if owned is not None:
                        self.state.set_link(STOCK_ROW, owned, int(row["id"]))
                        quantities[owned] = int(row.get("quantity") or 0)
        return quantities

    # -- products that exist in the shop without a link -----------------------

    async def find_product(
        self, reference: str, combinations: Sequence[DesiredCombination] = ()
    ) -> int | None:
        """A shop product with our reference, else one owning one of our EANs."""
        if reference.casefold() in self._references_read:
            known = self._products_by_reference.get(reference.casefold())
            if known is not None or not combinations:
                return known
        else:
            found = await self.shop.find_one(
                "products", {"reference": exact(reference)}
            )
            if found is not None:
                return int(found["id"])
        for combination in combinations:
            if not combination.ean13:
                continue
            if combination.ean13 in self._eans_read:
                owner = self._products_by_ean.get(combination.ean13)
                if owner is not None:
                    return owner
                continue
            row = await self.shop.find_one(
                "combinations", {"ean13": combination.ean13}, fields=["id_product"]
            )
            if row is not None:
                return int(row["id_product"])
        return None

    async def adopt(
        self,
        item: CatalogueItem,
        product_key: str,
        reference: str,
        combinations: Sequence[DesiredCombination],
        *,
        found_late: bool = False,
    ) -> int | None:
        """Link an existing shop product to a Polaris item (F10), then lock it.

        Taking over a shop starts in basic mode: only price and stock change on
        adopted products until the merchant unlocks them. `found_late`: an
        earlier search missed it, the shop has it since.
        """
        async with self.lock(f"adopt-{product_key}"):
            linked = self.state.link(PRODUCT, product_key)
            if linked is not None:
                return linked
            product_id = await self.find_product(reference, combinations)
            if product_id is None:
                return None
            self.state.set_link(PRODUCT, product_key, product_id)
            self.state.lock(reference)
            await self.link_combinations(product_id, combinations)
            late = (
                "found late, added or changed in the shop since it was searched "
                "in vain: "
                if found_late
                else ""
            )
            self.ctx.audit.event(
                "updated",
                stage="catalogue",
                reason=(
                    f"{late}linked to the existing PrestaShop product {product_id} by "
                    "reference or EAN; locked: only its prices and stock follow "
                    f"Polaris until `polaris-sync unlock {reference}`"
                ),
                polaris_key=product_key,
                prestashop_id=product_id,
                what="product",
            )
            return product_id

    def photo_links(self, product_key: str) -> dict[str, int]:
        """Image ids of the photos we uploaded for a product, by photo fingerprint."""
        return links_under(self.state, IMAGE, f"{product_key}#")


def links_under(state: State, kind: str, prefix: str) -> dict[str, int]:
    """Links of `kind` whose Polaris key starts with `prefix`, by the rest of it."""
    rows = _rows_under(state, "links", "polaris_key", "prestashop_id", kind, prefix)
    return {key: int(value) for key, value in rows.items()}


def linked_ids(state: State, kind: str, ids: set[int]) -> set[int]:
    """Those of the PrestaShop `ids` that a link of `kind` names."""
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = state.execute(
        "SELECT prestashop_id FROM links"
        f" WHERE kind = ? AND prestashop_id IN ({marks})",
        (kind, *sorted(ids)),
    )
    return {int(row[0]) for row in rows}


def fingerprints_under(state: State, kind: str, prefix: str) -> dict[str, str]:
    """Fingerprints of `kind` whose key starts with `prefix`, by the rest of it."""
    return _rows_under(state, "fingerprints", "key", "value", kind, prefix)


def _rows_under(
    state: State, table: str, key: str, value: str, kind: str, prefix: str
) -> dict[str, Any]:
    rows = state.execute(
        f"SELECT {key}, {value} FROM {table}"
        f" WHERE kind = ? AND {key} >= ? AND {key} < ?",
        (kind, prefix, prefix + "\U0010ffff"),
    )
    return {row[0][len(prefix) :]: row[1] for row in rows}


def _same_ean(
    combination: DesiredCombination, rows: list[dict[str, Any]], taken: set[int]
) -> dict[str, Any] | None:
    if not combination.ean13:
        return None
    return next(
        (
            row
            for row in rows
            if row.get("ean13") == combination.ean13 and int(row["id"]) not in taken
        ),
        None,
    )


def _same_reference(
    combination: DesiredCombination,
    ours: Sequence[DesiredCombination],
    rows: list[dict[str, Any]],
    taken: set[int],
) -> dict[str, Any] | None:
    """The one shop combination with our reference, unless EANs disagree."""
    reference = combination.reference
    if sum(c.reference == reference for c in ours) > 1:
        return None
    found = [
        row
        for row in rows
        if row.get("reference") == reference
        and not (combination.ean13 and row.get("ean13"))
    ]
    if len(found) != 1 or int(found[0]["id"]) in taken:
        return None
    return found[0]


def _ids_by_text(rows: list[dict[str, Any]], field: str) -> dict[str, int]:
    ids: dict[str, int] = {}
    for row in rows:
        for text in _texts(row.get(field)):
            ids.setdefault(plain(text), int(row["id"]))
    return ids


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(text) for text in value.values()]
    return [str(value)] if value else []

