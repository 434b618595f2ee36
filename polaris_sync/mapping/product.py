"""From a Polaris item to the PrestaShop product it should be (pure).

The result holds every value the shop must end up with: product fields,
combinations (one per size; the colour is a second attribute), stock per
combination, the tax-excluded price and the promotion as a specific price.
Writes are decided elsewhere, by comparing fingerprints of these values.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from polaris_sync.mapping import values
from polaris_sync.mapping.colours import generic_colour, plain
from polaris_sync.mapping.item import CatalogueItem, Photo, Size
from polaris_sync.mapping.rules import MappingTable
from polaris_sync.state import MappingRow

UNBOUNDED = "0000-00-00 00:00:00"
SIX_PLACES = Decimal("0.000001")

# Product fields full mode may keep updated (C3); the others are written only
# when the product is created.
SYNCABLE_FIELDS = frozenset(
    {"name", "description", "brand", "categories", "weight", "reference", "photos"}
)


@dataclass(frozen=True)
class CatalogueOptions:
    languages: tuple[int, ...]
    products_per: Literal["model-colour", "model"] = "model-colour"
    default_category: int = 2
    promo_category: int | None = None
    tax_rules_groups: Mapping[Decimal, int] = field(
        default_factory=lambda: {Decimal(20): 1}
    )
    default_tax_rate: Decimal = Decimal(20)
    colour_group: int | None = None
    stores: frozenset[int] = frozenset()
    safety_stock: int = 0
    max_ean_digits: int = 13
    related_colours: bool = False
    weekly_cleanup: bool = False
    store_availability: bool = False
    store_low_stock: int = 3
    synced_fields: frozenset[str] = SYNCABLE_FIELDS
    # The moment the run decides by (local time, like Polaris and the shop):
    # which promotions have ended and which are running (E5).
    now: datetime = field(default_factory=lambda: local_now())


@dataclass(frozen=True)
class Mappings:
    brands: MappingTable
    size_grids: MappingTable
    categories: MappingTable
    colours: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[MappingRow]) -> Mappings:
        rows = list(rows)
        return cls(
            brands=MappingTable("brand", rows),
            size_grids=MappingTable("size-grid", rows),
            categories=MappingTable("category", rows),
            colours={
                row.source: row.target
                for row in rows
                if row.kind == "colour" and row.target
            },
        )


@dataclass(frozen=True)
class DesiredCombination:
    key: str
    size: str
    reference: str
    ean13: str
    quantity: int
    # (Polaris store code, quantity available there), for E7.
    stock_by_store: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class SpecificPrice:
    """A promotion: Polaris' normal price struck, its current price applied."""

    reduction_incl_tax: Decimal
    starts: str = UNBOUNDED
    ends: str = UNBOUNDED

    def running(self, moment: datetime) -> bool:
        return self.starts <= _shop_moment(moment) and not self.ended(moment)

    def ended(self, moment: datetime) -> bool:
        return self.ends != UNBOUNDED and self.ends < _shop_moment(moment)

    def fields(self, product_id: int, combination_id: int = 0) -> dict[str, Any]:
        """The specific price of a product, or of one of its combinations."""
        return {
            "id_shop": 0,
            "id_cart": 0,
            "id_product": product_id,
            "id_product_attribute": combination_id,
            "id_currency": 0,
            "id_country": 0,
            "id_group": 0,
            "id_customer": 0,
            "price": -1,
            "from_quantity": 1,
            "reduction": self.reduction_incl_tax,
            "reduction_tax": 1,
            "reduction_type": "amount",
            "from": self.starts,
            "to": self.ends,
        }


@dataclass(frozen=True)
class DesiredPrice:
    """What the prices stage keeps in step: base price, tax, promotion."""

    price: Decimal
    tax_rules_group: int
    specific_price: SpecificPrice | None

    def price_fingerprint(self) -> str:
        return fingerprint({"price": self.price, "tax": self.tax_rules_group})

    def promotion_fingerprint(self) -> str:
        promotion = self.specific_price
        return fingerprint(promotion.fields(0) if promotion else {})

    def in_promotion(self, moment: datetime) -> bool:
        """Whether the product belongs in the promotion category then (E5)."""
        return self.specific_price is not None and self.specific_price.running(moment)


@dataclass(frozen=True)
class DesiredProduct:
    key: str
    # The Polaris item (model and variant): several share one product when
    # products_per = "model"; photos are kept per item.
    item_key: str
    # True when several items share the product (products_per = "model"):
    # each size then carries its colour's price, the product's is 0.
    shared: bool
    model_ref: str
    reference: str
    name: str
    slug: str
    description: str
    short_description: str
    manufacturer_id: int
    category_ids: tuple[int, ...]
    weight: Decimal
    price: Decimal
    tax_rules_group: int
    active: bool
    size_group: int
    colour: str | None
    combinations: tuple[DesiredCombination, ...]
    photos: tuple[Photo, ...]
    specific_price: SpecificPrice | None
    # E3: Polaris properties as (feature name, value), synced with descriptions.
    features: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def quantity(self) -> int:
        return sum(c.quantity for c in self.combinations)

    def create_fields(
        self,
        languages: Iterable[int],
        visible: bool,
        feature_ids: Sequence[tuple[int, int]] = (),
    ) -> dict[str, Any]:
        """Everything a new product needs to show in the back and front office."""
        return {
            **self.catalogue_fields(languages, SYNCABLE_FIELDS, feature_ids),
            "price": 0 if self.shared else self.price,
            "id_tax_rules_group": self.tax_rules_group,
            "active": self.active,
            "state": 1,
            "visibility": "both" if visible else "none",
            "available_for_order": 1,
            "show_price": 1,
            "indexed": 1,
            "condition": "new",
            "minimal_quantity": 1,
            "product_type": "combinations",
            "wholesale_price": 0,
            "unit_price": 0,
            "ecotax": 0,
            "additional_shipping_cost": 0,
            "width": 0,
            "height": 0,
            "depth": 0,
        }

    def catalogue_fields(
        self,
        languages: Iterable[int],
        synced: Iterable[str],
        feature_ids: Sequence[tuple[int, int]] = (),
    ) -> dict[str, Any]:
        """The product-sheet fields full mode keeps up to date (C3).

        `feature_ids` are the shop's (feature, value) ids of `features`; the
        association replaces the product's features, so it is sent only when
        Polaris has some.
        """
        languages = tuple(languages)
        synced = set(synced)

        def every_language(text: str) -> dict[int, str]:
            return {language: text for language in languages}

        fields: dict[str, Any] = {"active": self.active}
        if "reference" in synced:
            fields["reference"] = self.reference
        if "name" in synced:
            fields["name"] = every_language(self.name)
            fields["link_rewrite"] = every_language(self.slug)
        if "description" in synced:
            fields["description"] = every_language(self.description)
            fields["description_short"] = every_language(self.short_description)
        if "brand" in synced:
            fields["id_manufacturer"] = self.manufacturer_id
        if "weight" in synced:
            fields["weight"] = self.weight
        associations: dict[str, list[dict[str, int]]] = {}
        if "categories" in synced:
            fields["id_category_default"] = self.category_ids[0]
            associations["categories"] = [{"id": c} for c in self.category_ids]
        if "description" in synced and feature_ids:
            associations["product_features"] = [
                {"id": feature, "id_feature_value": value}
                for feature, value in feature_ids
            ]
        if associations:
            fields["associations"] = associations
        return fields

    def catalogue_fingerprint(self, synced: Iterable[str]) -> str:
        features = self.features if "description" in set(synced) else ()
        return fingerprint([self.catalogue_fields((0,), synced), features])

    @property
    def size_price(self) -> Decimal:
        """Each size's price impact: its colour's price when sizes carry it."""
        return self.price if self.shared else Decimal(0)

    @property
    def target_price(self) -> DesiredPrice:
        return DesiredPrice(self.price, self.tax_rules_group, self.specific_price)


@dataclass(frozen=True)
class Skipped:
    reason: str


def fingerprint(value: Any) -> str:
    """A stable hash of what is written: same values, same fingerprint."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def product_key(item: CatalogueItem, options: CatalogueOptions) -> str:
    if options.products_per == "model":
        return item.ref
    return f"{item.model}:{item.variant_key}"


def mapping_values(item: CatalogueItem) -> list[tuple[str, str, str]]:
    """(kind, source, label) of every mappable value the item carries (F7)."""
    met = [("brand", item.brand.key, item.brand.name)]
    met.append(("size-grid", size_grid_source(item), item.size_grid.name))
    met.extend(("category", source, label) for source, label in category_sources(item))
    if item.colour:
        met.append(("colour", item.colour.name or item.colour.code, ""))
    return [(kind, source, label) for kind, source, label in met if source]


def size_grid_source(item: CatalogueItem) -> str:
    return item.size_grid.key or "sans-grille"


def category_sources(item: CatalogueItem) -> list[tuple[str, str]]:
    pairs = [
        ("classification", item.classification),
        ("rayon", item.rayon),
        ("famille", item.famille),
        ("sous-famille", item.sous_famille),
        ("collection", item.collection),
        ("saison", item.season),
    ]
    return [(f"{kind}:{value.key}", value.name) for kind, value in pairs if value]


def build_product(
    item: CatalogueItem, mappings: Mappings, options: CatalogueOptions
) -> DesiredProduct | Skipped:
    """The product `item` should become, or why it is not synced."""
    brand = mappings.brands.resolve(item.brand.key or "sans-marque", item.brand.name)
    if brand.skip_reason:
        return Skipped(brand.skip_reason)
    grid = mappings.size_grids.resolve(size_grid_source(item), item.size_grid.name)
    if grid.skip_reason:
        return Skipped(grid.skip_reason)
    categories = _categories(item, mappings, options)
    if isinstance(categories, Skipped):
        return categories
    category_ids, category_weight = categories
    priced = _priced(item, options)
    if isinstance(priced, Skipped):
        return priced
    if not item.sizes:
        return Skipped("the model has no size in Polaris: nothing to sell")

    warnings: list[str] = []
    name = _name(item, options)
    clean_name = values.catalog_name(name)
    if clean_name != name:
        warnings.append(f"name shortened or cleaned for PrestaShop: {clean_name!r}")
    reference = product_reference(item, options)
    description = values.clean_html(item.description)
    short = values.clean_html(item.short_description)
    if (description, short) != (item.description, item.short_description):
        warnings.append("scripts or embedded objects removed from the description")
    key = product_key(item, options)

    return DesiredProduct(
        key=key,
        item_key=f"{item.model}:{item.variant_key}",
        shared=options.products_per == "model",
        model_ref=item.ref,
        reference=reference,
        name=clean_name,
        slug=values.slug(clean_name, reference),
        description=description,
        short_description=short,
        manufacturer_id=brand.target_ids()[0] if brand.target_ids() else 0,
        category_ids=_with_promotion(category_ids, priced, options),
        weight=item.weight_kg if item.weight_kg is not None else category_weight,
        price=priced.price,
        tax_rules_group=priced.tax_rules_group,
        active=item.published and not item.withdrawn,
        size_group=grid.target_ids()[0] if grid.target_ids() else 0,
        colour=_colour(item, mappings),
        combinations=_combinations(item, reference, options, warnings),
        photos=item.photos,
        specific_price=priced.specific_price,
        features=_features(item),
        warnings=tuple(warnings),
    )


def desired_price(
    item: CatalogueItem, options: CatalogueOptions
) -> DesiredPrice | Skipped:
    """Price and promotion alone: basic mode needs no mapping for them (C1)."""
    return _priced(item, options)


def desired_combinations(
    item: CatalogueItem, options: CatalogueOptions
) -> tuple[DesiredCombination, ...]:
    """Sizes with their stock, keyed like the combinations full mode creates."""
    return _combinations(item, product_reference(item, options), options, [])


def stock_quantity(stock_by_store: Mapping[int, int], options: CatalogueOptions) -> int:
    """Sum over the stores that count for the web, minus safety stock (D1, D3).

    A store below zero (sold before its delivery was booked) lowers the total:
    clamping store by store would publish units that do not exist.
    """
    counted = sum(
        quantity
        for store, quantity in stock_by_store.items()
        if not options.stores or store in options.stores
    )
    return max(counted - options.safety_stock, 0)


def _name(item: CatalogueItem, options: CatalogueOptions) -> str:
    name = item.label or item.variant_label or item.ref
    variant = item.variant_label
    if options.products_per == "model-colour" and variant:
        if variant.casefold() not in name.casefold():
            name = f"{name} {variant}"
    return name


def product_reference(item: CatalogueItem, options: CatalogueOptions) -> str:
    if options.products_per == "model" or not item.variant_key:
        return values.reference(item.ref)
    return values.reference(f"{item.model}-{item.variant_key}")


def _categories(
    item: CatalogueItem, mappings: Mappings, options: CatalogueOptions
) -> tuple[list[int], Decimal] | Skipped:
    ids: list[int] = []
    weights: list[float] = []
    for source, label in category_sources(item):
        resolution = mappings.categories.resolve(source, label)
        if resolution.skip_reason:
            return Skipped(resolution.skip_reason)
        row = resolution.row
        if row is None:
            continue
        ids.extend(i for i in row.target_ids() if i not in ids)
        if row.default_weight:
            weights.append(row.default_weight)
    if not ids:
        ids = [options.default_category]
    # F8: a product without weight takes the heaviest default of its categories.
    weight = Decimal(str(max(weights))) if weights else Decimal(0)
    return ids, weight


def _with_promotion(
    category_ids: list[int], price: DesiredPrice, options: CatalogueOptions
) -> tuple[int, ...]:
    # E5: products on promotion sit in the chosen category while it runs.
    promo = options.promo_category
    if promo and price.in_promotion(options.now) and promo not in category_ids:
        return (*category_ids, promo)
    return tuple(category_ids)


def _tax_rules_group(
    item: CatalogueItem, options: CatalogueOptions
) -> tuple[int, Decimal] | Skipped:
    rate = item.tax_rate if item.tax_rate is not None else options.default_tax_rate
    for known_rate, group in options.tax_rules_groups.items():
        if Decimal(known_rate) == rate:
            return group, rate
    return Skipped(
        f"no PrestaShop tax rule group is configured for VAT {rate}% "
        "(catalogue.tax_rules_groups)"
    )


def _priced(item: CatalogueItem, options: CatalogueOptions) -> DesiredPrice | Skipped:
    tax = _tax_rules_group(item, options)
    if isinstance(tax, Skipped):
        return tax
    current = _selling_price(item)
    if current <= 0:
        # A missing or mistyped price in Polaris would sell the item for free.
        return Skipped(
            f"price {current} incl. VAT is not above zero: not published "
            "(give the item a price in Polaris)"
        )
    price, specific_price = _prices(item, current, tax[1])
    if specific_price is not None and specific_price.ended(options.now):
        # Polaris may still carry a promotion whose end date has passed.
        specific_price = None
    return DesiredPrice(price, tax[0], specific_price)


def _selling_price(item: CatalogueItem) -> Decimal:
    """What a customer pays today, tax included: the promotion's price if any."""
    if item.promotion and item.promotion.price_incl_tax is not None:
        return item.promotion.price_incl_tax
    return item.price_incl_tax


def _prices(
    item: CatalogueItem, current: Decimal, rate: Decimal
) -> tuple[Decimal, SpecificPrice | None]:
    """Tax-excluded base price from the normal price; the sale as a reduction."""
    normal = max(item.normal_price_incl_tax, current)
    base = (normal / (1 + rate / 100)).quantize(SIX_PLACES, ROUND_HALF_UP)
    if current >= normal:
        return base, None
    promotion = item.promotion
    return base, SpecificPrice(
        reduction_incl_tax=(normal - current).quantize(SIX_PLACES),
        starts=_shop_date(promotion.starts) if promotion else UNBOUNDED,
        ends=_shop_date(promotion.ends, end_of_day=True) if promotion else UNBOUNDED,
    )


def local_now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _shop_moment(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _shop_date(value: str, end_of_day: bool = False) -> str:
    """A Polaris ISO date as the shop's `YYYY-MM-DD HH:MM:SS` (local time)."""
    if not value:
        return UNBOUNDED
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return UNBOUNDED
    if len(value) <= 10 and end_of_day:
        moment = moment.replace(hour=23, minute=59, second=59)
    return _shop_moment(moment)


def _features(item: CatalogueItem) -> tuple[tuple[str, str], ...]:
    features: dict[str, str] = {}
    for name, value in item.properties:
        clean_name = values.generic_name(name, 128)
        if clean_name and clean_name not in features:
            features[clean_name] = values.generic_name(value, 255)
    return tuple((name, value) for name, value in features.items() if value)


def distinct_colour(
    desired: DesiredProduct, item: CatalogueItem, taken: Collection[str]
) -> DesiredProduct:
    """`desired` with a colour value no other colour of its product uses.

    With one product per model, two colours with one generic colour (marine
    and bleu ciel are both bleu) would give sizes the shop cannot tell apart:
    the later one keeps its Polaris name, with its material if needed.
    """
    if desired.colour is None:
        return desired
    used = {plain(colour) for colour in taken}
    if plain(desired.colour) not in used:
        return desired
    raw = item.colour.name or item.colour.code
    candidates = (raw, item.variant_label, f"{raw} {item.variant_key}")
    colour = next((c for c in candidates if c and plain(c) not in used), None)
    if colour is None:
        return desired
    warning = (
        f"colour {colour!r} shown instead of {desired.colour!r}: another colour "
        "of the model already shows that one"
    )
    return replace(desired, colour=colour, warnings=(*desired.warnings, warning))


def _colour(item: CatalogueItem, mappings: Mappings) -> str | None:
    raw = item.colour.name or item.colour.code
    if not raw:
        return None
    return generic_colour(raw, mappings.colours) or raw


def _combinations(
    item: CatalogueItem,
    product_reference: str,
    options: CatalogueOptions,
    warnings: list[str],
) -> tuple[DesiredCombination, ...]:
    sizes = _distinct_sizes(item.sizes, warnings)
    skus = [next((ref for ref in size.refs if not ref.isdigit()), "") for size in sizes]
    combinations = []
    for size, sku in zip(sizes, skus, strict=True):
        ean = _ean(size.refs, options, warnings, size.label)
        wanted = f"{product_reference}-{size.label}"
        if sku and skus.count(sku) > 1:
            # A reference on several sizes (a supplier's model reference) would
            # let one size be taken for another when combinations are matched.
            warnings.append(
                f"size {size.label}: reference {sku!r} is on several sizes, "
                f"{wanted!r} used instead"
            )
        elif sku:
            wanted = sku
        reference = values.reference(wanted)
        if reference != wanted:
            warnings.append(
                f"size {size.label}: reference {wanted!r} sent as {reference!r} "
                "(at most 64 characters, none of < > ; = { } [ ])"
            )
        combinations.append(
            DesiredCombination(
                key=f"{item.model}:{item.variant_key}:{size.label}",
                size=size.label,
                reference=reference,
                ean13=ean,
                quantity=stock_quantity(size.stock_by_store, options),
                stock_by_store=tuple(sorted(size.stock_by_store.items())),
            )
        )
    return tuple(combinations)


def _distinct_sizes(sizes: Iterable[Size], warnings: list[str]) -> list[Size]:
    """One size per label: the shop has one combination per size value.

    An entry bringing a barcode the label did not have yet is another article
    of that size, so its stock adds up. One bringing none is the same article
    listed again: the lower figure of each store is kept, never both.
    """
    by_label: dict[str, Size] = {}
    for size in sizes:
        kept = by_label.get(size.label)
        if kept is None:
            by_label[size.label] = size
            continue
        warnings.append(f"size {size.label!r} listed twice in Polaris: merged")
        new_refs = tuple(ref for ref in size.refs if ref not in kept.refs)
        combine = operator.add if new_refs else min
        stores = set(kept.stock_by_store) | set(size.stock_by_store)
        by_label[size.label] = Size(
            label=size.label,
            refs=kept.refs + new_refs,
            stock_by_store={
                store: combine(
                    kept.stock_by_store.get(store, 0), size.stock_by_store.get(store, 0)
                )
                for store in stores
            },
        )
    return list(by_label.values())


def _ean(
    refs: Iterable[str], options: CatalogueOptions, warnings: list[str], size: str
) -> str:
    numeric = [ref for ref in refs if ref.isdigit() and len(ref) >= 8]
    for ref in numeric:
        if values.valid_ean(ref, options.max_ean_digits):
            return ref
    if numeric:
        warnings.append(
            f"size {size}: barcode {numeric[0]} is not a valid EAN13, not sent"
        )
    return ""
