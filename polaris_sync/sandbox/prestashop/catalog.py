"""Catalogue resources: products and everything hanging off them.

Fields are listed in the order PrestaShop 8.1 prints them. The hooks carry
the side effects a real shop has: stock rows created with products and
combinations, the product stock row kept as the sum of its combinations,
destructive association setters, default combination bookkeeping.
"""

from __future__ import annotations

from typing import Any

from .engine import Context, delete_entity
from .errors import WsError, sql_failure
from .model import (
    BOOL,
    DATE,
    DATETIME,
    FLOAT,
    INT,
    AssocField,
    Association,
    Entity,
    Field,
    Hooks,
    Resource,
    date_fields,
    empty_value,
)
from .values import php_int, slugify

PHP_WARNING = "[PHP Warning #2] {message} (/var/www/prestashop/classes/{where})"


def _barcodes() -> tuple[Field, ...]:
    """EAN-13, ISBN, UPC and MPN, as products and combinations both carry."""
    return (
        Field("ean13", max_size=13, validator="isEan13"),
        Field("isbn", max_size=32, validator="isIsbn"),
        Field("upc", max_size=12, validator="isUpc"),
        Field("mpn", max_size=40, validator="isMpn"),
    )


def _ml(
    name: str,
    max_size: int | None = None,
    validator: str = "isGenericName",
    required: bool = False,
) -> Field:
    return Field(
        name, ml=True, max_size=max_size, validator=validator, required=required
    )


def _ids(ctx: Context, table: str, where: str, params: tuple[Any, ...]) -> list[int]:
    return [
        row[0]
        for row in ctx.store.execute(
            f"SELECT id FROM {table} WHERE {where} ORDER BY id", params
        )
    ]


def _delete_children(
    ctx: Context,
    resource_name: str,
    column: str,
    parent_id: int,
    keep: set[int] | frozenset[int] = frozenset(),
) -> None:
    """Delete (with their side effects) the rows pointing at a parent."""
    resource = ctx.resource(resource_name)
    for child_id in _ids(ctx, resource.table, f"{column} = ?", (parent_id,)):
        if child_id not in keep:
            delete_entity(ctx, resource, child_id)


def _submitted_names(entity: Entity) -> set[str]:
    submitted = entity.get("_submitted")
    return set(submitted.values) if submitted is not None else set()


# --- products ---------------------------------------------------------------


def _product_stock_rows(ctx: Context, product: Entity) -> list[dict[str, Any]]:
    rows = ctx.store.execute(
        "SELECT id, id_product_attribute FROM ws_stock_availables "
        "WHERE id_product = ? AND id_shop != 0 ORDER BY id_product_attribute, id",
        (product["id"],),
    )
    return [{"id": r[0], "id_product_attribute": r[1]} for r in rows]


def _product_combinations(ctx: Context, product: Entity) -> list[dict[str, Any]]:
    ids = _ids(
        ctx, "ws_combinations", "id_product = ? AND _visible = 1", (product["id"],)
    )
    return [{"id": i} for i in ids]


def _product_option_values(ctx: Context, product: Entity) -> list[dict[str, Any]]:
    combinations = ctx.store.select(
        ctx.resource("combinations"),
        "id_product = ? AND _visible = 1",
        (product["id"],),
    )
    seen: list[int] = []
    for combination in combinations:
        for item in combination["_assoc"].get("product_option_values", []):
            if item.get("id") and item["id"] not in seen:
                seen.append(item["id"])
    return [{"id": i} for i in seen]


def _product_images(ctx: Context, product: Entity) -> list[dict[str, Any]]:
    from .images import image_ids

    return [{"id": i} for i in image_ids(ctx.shop, product["id"])]


def default_combination(
    ctx: Context, product_id: int, *, seen: int | None = None, own: int = 0
) -> int:
    """The combination flagged default_on, else the first one, else 0.

    With `seen`, only the combinations up to that id and `own` count: what a
    request that arrived when `seen` was the newest combination can see.
    """
    where = "id_product = ? AND _visible = 1"
    params: list[Any] = [product_id]
    if seen is not None:
        where += " AND (id <= ? OR id = ?)"
        params += [seen, own]
    flagged = ctx.store.scalar(
        f"SELECT id FROM ws_combinations WHERE {where} AND default_on = 1 "
        "ORDER BY id LIMIT 1",
        params,
    )
    if flagged:
        return int(flagged)
    first = ctx.store.scalar(
        f"SELECT MIN(id) FROM ws_combinations WHERE {where}", params
    )
    return int(first or 0)


def refresh_default_combination(
    ctx: Context, product_id: int, *, seen: int | None = None, own: int = 0
) -> None:
    ctx.store.set_columns(
        ctx.resource("products"),
        "id = ?",
        (product_id,),
        cache_default_attribute=default_combination(
            ctx, product_id, seen=seen, own=own
        ),
    )


def _set_product_combinations(
    ctx: Context, product: Entity, items: list[dict[str, str]]
) -> None:
    # Unlisted combinations are deleted; unknown or empty ids leave a phantom
    # row that belongs to no shop (not listed anywhere, GET answers 404).
    listed = {php_int(item.get("id", "")) for item in items}
    _delete_children(ctx, "combinations", "id_product", product["id"], keep=listed)
    combinations = ctx.resource("combinations")
    existing = set(_ids(ctx, "ws_combinations", "1", ()))
    for _phantom in listed - existing:
        ctx.store.insert(combinations, {"id_product": 0, "_visible": 0, "_assoc": {}})
    refresh_default_combination(ctx, product["id"])
    recompute_product_stock(ctx, product["id"])


def _set_product_categories(
    ctx: Context, product: Entity, items: list[dict[str, str]]
) -> None:
    categories = [{"id": php_int(item.get("id", ""))} for item in items]
    ctx.store.set_links(ctx.resource("products"), product, "categories", categories)


def _product_before_validate(ctx: Context, product: Entity, method: str) -> None:
    submitted = product["_submitted"]
    if method == "POST" and (
        "name" not in submitted.values or "name" in submitted.plain
    ):
        # The link_rewrite modifier loops over the name's languages and
        # chokes on anything else: PHP warning, 500, nothing created.
        raise WsError(
            500,
            (
                3,
                PHP_WARNING.format(
                    message="foreach() argument must be of type array|object, "
                    "string given",
                    where="Product.php, line 8072",
                ),
            ),
        )
    if method == "POST":
        _fix_link_rewrite(ctx, product)


def _fix_link_rewrite(ctx: Context, entity: Entity) -> None:
    """POST only: an empty slug comes from the name, an invalid one is re-slugged."""
    from .values import is_valid

    names = entity.get("name") or {}
    slugs = dict(entity.get("link_rewrite") or {})
    for lang in ctx.shop.languages:
        slug = slugs.get(lang, "")
        if not slug:
            slugs[lang] = slugify(names.get(lang, ""))
        elif not is_valid("isLinkRewrite", slug):
            slugs[lang] = slugify(slug)
    entity["link_rewrite"] = slugs


def _product_before_save(ctx: Context, product: Entity, method: str) -> None:
    submitted = _submitted_names(product)
    if method == "PUT" and empty_value(product.get("unit_price_ratio")):
        product["unit_price_ratio"] = "0"
    if method == "POST":
        product["_position"] = 1 + int(
            ctx.store.scalar(
                "SELECT COUNT(*) FROM ws_products WHERE id_category_default = ?",
                (php_int(str(product.get("id_category_default") or 0)),),
            )
            or 0
        )
    if "position_in_category" in submitted:
        _check_position(ctx, product)
    if "type" in submitted:
        _set_type(product)
    if "id_default_combination" in submitted and method != "POST":
        _set_default_combination(ctx, product)
    if "id_default_image" in submitted and method != "POST":
        from .images import set_cover

        set_cover(ctx.shop, product["id"], php_int(str(product["id_default_image"])))


def _check_position(ctx: Context, product: Entity) -> None:
    """The position setter works on the default category as stored: 0 to
    count-1 only, so a product new to the category can never be placed."""
    wanted = php_int(str(product.get("position_in_category") or 0))
    category = php_int(str(product.get("id_category_default") or 0))
    if wanted < 0:
        raise WsError(
            500,
            (
                134,
                "You cannot set a negative position, the minimum for this setter is 0.",
            ),
        )
    size = int(
        ctx.store.scalar(
            "SELECT COUNT(*) FROM ws_products WHERE id_category_default = ?",
            (category,),
        )
        or 0
    )
    if wanted >= size:
        raise WsError(
            500,
            (
                135,
                "You cannot set a position greater than the total number of "
                "products in the category, starting at 0.",
            ),
        )
    product["_position"] = wanted + 1


def _set_type(product: Entity) -> None:
    """The legacy `type` setter: simple, pack or virtual toggle the flags."""
    kind = str(product.get("type") or "")
    if kind in ("simple", "pack", "virtual"):
        product["cache_is_pack"] = "1" if kind == "pack" else "0"
        product["is_virtual"] = "1" if kind == "virtual" else "0"


def _set_default_combination(ctx: Context, product: Entity) -> None:
    wanted = php_int(str(product.get("id_default_combination") or 0))
    combinations = ctx.resource("combinations")
    ctx.store.set_columns(
        combinations, "id_product = ?", (product["id"],), default_on=None
    )
    if wanted:
        ctx.store.set_columns(combinations, "id = ?", (wanted,), default_on=1)
    product["cache_default_attribute"] = wanted or default_combination(
        ctx, product["id"]
    )


def _product_after_save(ctx: Context, product: Entity, method: str) -> None:
    if method == "POST":
        create_stock_row(ctx, product["id"], 0, out_of_stock=2)
    if product.get("active") not in (None, "", "0", 0):
        # Saving an active product indexes it; the echo keeps the old flag.
        ctx.store.set_columns(
            ctx.resource("products"), "id = ?", (product["id"],), indexed=1
        )


def _product_before_delete(ctx: Context, product: Entity) -> None:
    from .images import delete_product_images

    _delete_children(ctx, "combinations", "id_product", product["id"])
    ctx.store.execute(
        "DELETE FROM ws_stock_availables WHERE id_product = ?", (product["id"],)
    )
    ctx.store.execute(
        "DELETE FROM ws_specific_prices WHERE id_product = ?", (product["id"],)
    )
    delete_product_images(ctx.shop, product["id"])
    _delete_custom_feature_values(ctx, product)


def _delete_custom_feature_values(ctx: Context, product: Entity) -> None:
    """Custom (free-text) values linked to the product go with it, even when
    another product links them too."""
    linked = [
        php_int(str(item.get("id_feature_value") or 0))
        for item in product.get("_assoc", {}).get("product_features", [])
    ]
    values = ctx.resource("product_feature_values")
    for value_id in linked:
        value = ctx.store.get(values, value_id)
        if value is not None and value.get("custom") == 1:
            delete_entity(ctx, values, value_id)


def _manufacturer_name(ctx: Context, product: Entity) -> Any:
    manufacturer_id = php_int(str(product.get("id_manufacturer") or 0))
    name = ctx.store.scalar(
        "SELECT name FROM ws_manufacturers WHERE id = ?", (manufacturer_id,)
    )
    return name if name is not None else False


def _product_type(ctx: Context, product: Entity) -> str:
    if product.get("cache_is_pack") in (1, "1"):
        return "pack"
    if product.get("is_virtual") in (1, "1"):
        return "virtual"
    return "simple"


def _default_image(ctx: Context, product: Entity) -> Any:
    from .images import cover_id

    if product.get("id") is None:
        return ""
    return cover_id(ctx.shop, product["id"]) or ""


# --- price[alias][param] -----------------------------------------------------


def _price_requests(ctx: Context) -> dict[str, dict[str, str]]:
    """`price[alias][param]=value` query parameters, by alias in query order."""
    import re

    wanted: dict[str, dict[str, str]] = {}
    for key, value in ctx.params:
        match = re.fullmatch(r"price\[(\w+)\]\[(\w+)\]", key)
        if match:
            wanted.setdefault(match.group(1), {})[match.group(2)] = value
    return wanted


def _price_aliases(
    ctx: Context, product_id: int, combination_id: int | None
) -> list[tuple[str, str]]:
    return [
        (alias, _alias_price(ctx, product_id, combination_id, options))
        for alias, options in _price_requests(ctx).items()
    ]


def _alias_price(
    ctx: Context, product_id: int, combination_id: int | None, options: dict[str, str]
) -> str:
    from decimal import Decimal

    from .order_pricing import priced_line

    attribute = combination_id
    if attribute is None:
        attribute = php_int(options.get("product_attribute", "0"))
    if attribute == 0 and default_combination(ctx, product_id):
        # Observed on 8.1.2: without product_attribute, a product with
        # combinations prices at 0.
        return f"{0:.6f}"
    quantity = max(php_int(options.get("quantity", "1")), 1)
    line = priced_line(ctx, product_id, attribute, quantity, ctx.shop.default_language)
    factor = (
        1 + line.tax_rate / 100 if options.get("use_tax", "1") != "0" else Decimal(1)
    )
    full = line.base_price * factor
    reduced = line.promoted.unit_price_tax_excl * factor
    if options.get("only_reduction") == "1":
        value = full - reduced
    elif options.get("use_reduction") == "0":
        value = full
    else:
        value = reduced
    decimals = php_int(options.get("decimals", "6"))
    return f"{round(value, decimals):.6f}"


PRODUCTS = Resource(
    name="products",
    node="product",
    class_name="Product",
    fields=(
        Field("id_manufacturer", INT, ref="manufacturers", validator="isUnsignedId"),
        Field("id_supplier", INT, ref="suppliers", validator="isUnsignedId"),
        Field("id_category_default", INT, ref="categories", validator="isUnsignedId"),
        Field("new", INT, nullable=True),
        Field("cache_default_attribute", INT),
        Field(
            "id_default_image", INT, virtual=True, ref="images/products/{id}/{value}"
        ),
        Field("id_default_combination", INT, virtual=True, ref="combinations"),
        Field(
            "id_tax_rules_group", INT, ref="tax_rule_groups", validator="isUnsignedId"
        ),
        Field("position_in_category", INT, virtual=True),
        Field("manufacturer_name", virtual=True, read_only=True),
        Field("quantity", INT, virtual=True, read_only=True, loaded=True),
        Field("type", virtual=True),
        Field("id_shop_default", INT, validator="isUnsignedId", default="1"),
        Field("reference", max_size=64, validator="isReference"),
        Field("supplier_reference", max_size=64, validator="isReference"),
        Field("location", max_size=255, validator="isString"),
        Field("width", FLOAT, validator="isUnsignedFloat"),
        Field("height", FLOAT, validator="isUnsignedFloat"),
        Field("depth", FLOAT, validator="isUnsignedFloat"),
        Field("weight", FLOAT, validator="isUnsignedFloat"),
        Field("quantity_discount", BOOL, validator="isBool"),
        *_barcodes(),
        Field("cache_is_pack", BOOL, validator="isBool"),
        Field("cache_has_attachments", BOOL, validator="isBool"),
        Field("is_virtual", BOOL, validator="isBool"),
        Field("state", INT, validator="isUnsignedId"),
        Field("additional_delivery_times", INT, validator="isUnsignedId"),
        _ml("delivery_in_stock", 255),
        _ml("delivery_out_stock", 255),
        Field("product_type", validator="isGenericName"),
        Field("on_sale", BOOL, validator="isBool"),
        Field("online_only", BOOL, validator="isBool"),
        Field("ecotax", FLOAT, validator="isPrice"),
        Field("minimal_quantity", INT, validator="isUnsignedInt"),
        Field("low_stock_threshold", INT, validator="isInt", nullable=True),
        Field("low_stock_alert", BOOL, validator="isBool"),
        Field("price", FLOAT, required=True, validator="isPrice"),
        Field("wholesale_price", FLOAT, validator="isPrice"),
        Field("unity", validator="isString"),
        Field("unit_price", FLOAT, validator="isPrice"),
        Field("unit_price_ratio", FLOAT),
        Field("additional_shipping_cost", FLOAT, validator="isPrice"),
        Field("customizable", INT, validator="isUnsignedInt"),
        Field("text_fields", INT, validator="isUnsignedInt"),
        Field("uploadable_files", INT, validator="isUnsignedInt"),
        Field("active", BOOL, validator="isBool"),
        Field("redirect_type", validator="isString"),
        Field("id_type_redirected", INT, validator="isUnsignedId"),
        Field("available_for_order", BOOL, validator="isBool"),
        Field("available_date", DATE, validator="isDateFormat"),
        Field("show_condition", BOOL, validator="isBool"),
        Field(
            "condition",
            validator="isGenericName",
            default="new",
            values=("new", "used", "refurbished"),
        ),
        Field("show_price", BOOL, validator="isBool"),
        Field("indexed", BOOL, validator="isBool"),
        Field(
            "visibility",
            validator="isProductVisibility",
            default="both",
            values=("both", "catalog", "search", "none"),
        ),
        Field("advanced_stock_management", BOOL, validator="isBool"),
        *date_fields(),
        Field("pack_stock_type", INT, validator="isUnsignedInt"),
        _ml("meta_description", 512),
        _ml("meta_keywords", 255),
        _ml("meta_title", 255),
        _ml("link_rewrite", 128, "isLinkRewrite"),
        _ml("name", 128, "isCatalogName"),
        _ml("description", None, "isCleanHtml"),
        _ml("description_short", None, "isCleanHtml"),
        _ml("available_now", 255),
        _ml("available_later", 255, "IsGenericName"),
    ),
    associations=(
        Association(
            "categories",
            "category",
            "categories",
            item_ref="categories",
            setter=_set_product_categories,
        ),
        Association(
            "images",
            "image",
            "images",
            fields=(AssocField("id"),),
            item_ref="images/products/{owner}",
            writable=False,
            getter=_product_images,
        ),
        Association(
            "combinations",
            "combination",
            "combinations",
            item_ref="combinations",
            getter=_product_combinations,
            setter=_set_product_combinations,
        ),
        Association(
            "product_option_values",
            "product_option_value",
            "product_option_values",
            item_ref="product_option_values",
            writable=False,
            getter=_product_option_values,
        ),
        Association(
            "product_features",
            "product_feature",
            "product_features",
            fields=(
                AssocField("id", required=True),
                AssocField("id_feature_value", "product_feature_values", required=True),
            ),
            item_ref="product_features",
        ),
        Association("tags", "tag", "tags", item_ref="tags"),
        Association(
            "stock_availables",
            "stock_available",
            "stock_availables",
            fields=(
                AssocField("id", required=True),
                AssocField("id_product_attribute", required=True),
            ),
            item_ref="stock_availables",
            writable=False,
            getter=_product_stock_rows,
        ),
        Association("attachments", "attachment", "attachments", item_ref="attachments"),
        Association(
            "accessories",
            "product",
            "products",
            fields=(AssocField("id", "products", required=True),),
            item_ref="products",
        ),
        Association(
            "product_bundle",
            "product",
            "products",
            fields=(
                AssocField("id", required=True),
                AssocField("id_product_attribute"),
                AssocField("quantity"),
            ),
            item_ref="products",
        ),
    ),
    hooks=Hooks(
        before_validate=_product_before_validate,
        before_save=_product_before_save,
        after_save=_product_after_save,
        before_delete=_product_before_delete,
        extra_fields=lambda ctx, p: _price_aliases(ctx, p["id"], None),
        getters={
            "id_default_image": _default_image,
            "id_default_combination": lambda ctx, p: (
                default_combination(ctx, p["id"]) if p.get("id") else 0
            ),
            "position_in_category": lambda ctx, p: p.get("_position") or 1,
            "manufacturer_name": _manufacturer_name,
            "quantity": lambda ctx, p: 0,
            "type": _product_type,
        },
    ),
    hidden_columns={"_position": "INTEGER"},
    indexes=("reference", "id_category_default"),
)


# --- combinations -------------------------------------------------------------


def _combination_before_save(ctx: Context, combination: Entity, method: str) -> None:
    if combination.get("default_on") in (None, "", "0", 0):
        # Falsy is NULL: the unique key (id_product, default_on) allows
        # any number of NULLs but one 1.
        combination["default_on"] = None
        return
    product_id = php_int(str(combination.get("id_product") or 0))
    other = ctx.store.scalar(
        "SELECT id FROM ws_combinations WHERE id_product = ? AND default_on = 1 "
        "AND id != ?",
        (product_id, combination.get("id") or 0),
    )
    if other:
        raise sql_failure()


def _combination_after_save(ctx: Context, combination: Entity, method: str) -> None:
    product_id = php_int(str(combination.get("id_product") or 0))
    if method == "POST":
        product_row = ctx.store.execute(
            "SELECT out_of_stock FROM ws_stock_availables "
            "WHERE id_product = ? AND id_product_attribute = 0",
            (product_id,),
        )
        out_of_stock = product_row[0][0] if product_row else 2
        create_stock_row(ctx, product_id, combination["id"], out_of_stock=out_of_stock)
        # Combination::add ends with Product::updateDefaultAttribute: the
        # product's default becomes the flagged combination, else its first,
        # among the rows this request's query sees. A POST handled while
        # another one for the same product is in flight does not see that
        # one's row. Two first combinations posted at once each see only
        # themselves, and the last to finish becomes the default. Once one
        # combination exists, every later POST sees it first (none is
        # flagged; ids grow), so later combinations posted together leave the
        # default where it is; their stock rows are their own and start at 0,
        # so the product's stock sum does not change either.
        refresh_default_combination(
            ctx, product_id, seen=ctx.combinations_seen, own=combination["id"]
        )
        return
    refresh_default_combination(ctx, product_id)


def _set_combination_values(
    ctx: Context, combination: Entity, items: list[dict[str, str]]
) -> None:
    # Rewriting the attributes also drops the image links; a following
    # <images> association puts them back.
    combination.setdefault("_assoc", {})["images"] = []
    values = [{"id": php_int(i.get("id", ""))} for i in items]
    ctx.store.set_links(
        ctx.resource("combinations"), combination, "product_option_values", values
    )


def _set_combination_images(
    ctx: Context, combination: Entity, items: list[dict[str, str]]
) -> None:
    images = [{"id": php_int(i.get("id", ""))} for i in items]
    ctx.store.set_links(ctx.resource("combinations"), combination, "images", images)


def _combination_after_delete(ctx: Context, combination: Entity) -> None:
    ctx.store.execute(
        "DELETE FROM ws_stock_availables WHERE id_product_attribute = ?",
        (combination["id"],),
    )
    ctx.store.execute(
        "DELETE FROM ws_specific_prices WHERE id_product_attribute = ?",
        (combination["id"],),
    )
    product_id = combination.get("id_product") or 0
    refresh_default_combination(ctx, product_id)
    recompute_product_stock(ctx, product_id)


COMBINATIONS = Resource(
    name="combinations",
    node="combination",
    class_name="Combination",
    fields=(
        Field(
            "id_product", INT, required=True, ref="products", validator="isUnsignedId"
        ),
        *_barcodes(),
        Field("reference", max_size=64),
        Field("supplier_reference", max_size=64),
        Field("wholesale_price", FLOAT, max_size=27, validator="isNegativePrice"),
        Field("price", FLOAT, max_size=20, validator="isNegativePrice"),
        Field("ecotax", FLOAT, max_size=20, validator="isPrice"),
        Field("weight", FLOAT, validator="isFloat"),
        Field("unit_price_impact", FLOAT, max_size=20, validator="isNegativePrice"),
        Field("minimal_quantity", INT, required=True, validator="isUnsignedId"),
        Field("low_stock_threshold", INT, validator="isInt", nullable=True),
        Field("low_stock_alert", BOOL, validator="isBool"),
        Field("default_on", BOOL, validator="isBool", nullable=True),
        Field("available_date", DATE, validator="isDateFormat"),
        _ml("available_now", 255),
        _ml("available_later", 255, "IsGenericName"),
    ),
    associations=(
        Association(
            "product_option_values",
            "product_option_value",
            "product_option_values",
            fields=(AssocField("id"),),
            item_ref="product_option_values",
            setter=_set_combination_values,
        ),
        Association(
            "images",
            "image",
            "images/products",
            fields=(AssocField("id"),),
            item_ref="images/products/{owner}",
            setter=_set_combination_images,
        ),
    ),
    hooks=Hooks(
        before_save=_combination_before_save,
        after_save=_combination_after_save,
        after_delete=_combination_after_delete,
        extra_fields=lambda ctx, c: _price_aliases(
            ctx, php_int(str(c.get("id_product") or 0)), c["id"]
        ),
    ),
    hidden_columns={"_visible": "INTEGER DEFAULT 1"},
    in_shop="t._visible = 1",
    indexes=("id_product",),
)


# --- stock ------------------------------------------------------------------


def create_stock_row(
    ctx: Context, product_id: int, combination_id: int, *, out_of_stock: int
) -> None:
    ctx.store.insert(
        ctx.resource("stock_availables"),
        {
            "id_product": product_id,
            "id_product_attribute": combination_id,
            "id_shop": 1,
            "id_shop_group": 0,
            "quantity": 0,
            "depends_on_stock": 0,
            "out_of_stock": out_of_stock,
            "location": "",
            "_assoc": {},
        },
    )


def recompute_product_stock(ctx: Context, product_id: int) -> None:
    """The product row holds the sum of its combinations' rows (same shop)."""
    total = ctx.store.scalar(
        "SELECT SUM(quantity) FROM ws_stock_availables "
        "WHERE id_product = ? AND id_product_attribute != 0 AND id_shop = 1",
        (product_id,),
    )
    if total is None:
        return
    ctx.store.set_columns(
        ctx.resource("stock_availables"),
        "id_product = ? AND id_product_attribute = 0 AND id_shop = 1",
        (product_id,),
        quantity=int(total),
    )


def _stock_before_save(ctx: Context, row: Entity, method: str) -> None:
    if row.get("depends_on_stock") not in (None, "", "0", 0):
        raise WsError(
            500,
            (133, "You cannot update the available stock when it depends on stock."),
            (46, "Unable to save resource"),
        )


def _stock_after_save(ctx: Context, row: Entity, method: str) -> None:
    if php_int(str(row.get("id_product_attribute") or 0)):
        recompute_product_stock(ctx, php_int(str(row.get("id_product") or 0)))


STOCK_AVAILABLES = Resource(
    name="stock_availables",
    node="stock_available",
    class_name="StockAvailable",
    fields=(
        Field(
            "id_product", INT, required=True, ref="products", validator="isUnsignedId"
        ),
        Field(
            "id_product_attribute",
            INT,
            required=True,
            ref="combinations",
            validator="isUnsignedId",
        ),
        Field("id_shop", INT, ref="shops", validator="isUnsignedId"),
        Field("id_shop_group", INT, ref="shop_groups", validator="isUnsignedId"),
        Field("quantity", INT, required=True, validator="isInt"),
        Field("depends_on_stock", BOOL, required=True, validator="isBool"),
        Field("out_of_stock", INT, required=True, validator="isInt"),
        Field("location", max_size=255, validator="isString"),
    ),
    hooks=Hooks(before_save=_stock_before_save, after_save=_stock_after_save),
    # A PUT without id_shop moves the row to shop 0, out of every shop.
    in_shop="t.id_shop != 0",
    # Rows of one product are found by both columns: with an index on each
    # alone, SQLite may walk every product row (id_product_attribute = 0).
    indexes=(("id_product", "id_product_attribute"), "id_product_attribute"),
)


# --- attribute groups and values --------------------------------------------


def _next_position(
    ctx: Context, table: str, where: str = "1", params: tuple[Any, ...] = ()
) -> int:
    return int(
        ctx.store.scalar(f"SELECT COUNT(*) FROM {table} WHERE {where}", params) or 0
    )


def _option_before_save(ctx: Context, group: Entity, method: str) -> None:
    # AttributeGroup casts its colour flag to a PHP bool: "0" echoes as "".
    if group.get("is_color_group") in ("0", 0):
        group["is_color_group"] = ""
    if method == "POST" and empty_value(group.get("position")):
        group["position"] = _next_position(ctx, "ws_product_options")


def _option_values(ctx: Context, group: Entity) -> list[dict[str, Any]]:
    return [
        {"id": i}
        for i in _ids(
            ctx, "ws_product_option_values", "id_attribute_group = ?", (group["id"],)
        )
    ]


def _set_option_values(
    ctx: Context, group: Entity, items: list[dict[str, str]]
) -> None:
    # Every value of the group that is not listed is deleted; an empty list
    # deletes nothing.
    listed = {php_int(item.get("id", "")) for item in items}
    if listed:
        _delete_children(
            ctx, "product_option_values", "id_attribute_group", group["id"], keep=listed
        )


PRODUCT_OPTIONS = Resource(
    name="product_options",
    node="product_option",
    class_name="AttributeGroup",
    fields=(
        Field("is_color_group", BOOL, validator="isBool"),
        Field("group_type", required=True),
        Field("position", INT, validator="isInt"),
        _ml("name", 128, required=True),
        _ml("public_name", 64, required=True),
    ),
    associations=(
        Association(
            "product_option_values",
            "product_option_value",
            "product_option_values",
            fields=(AssocField("id"),),
            item_ref="product_option_values",
            getter=_option_values,
            setter=_set_option_values,
        ),
    ),
    hooks=Hooks(before_save=_option_before_save),
)


def _value_before_save(ctx: Context, value: Entity, method: str) -> None:
    if method == "POST" and empty_value(value.get("position")):
        group = php_int(str(value.get("id_attribute_group") or 0))
        value["position"] = _next_position(
            ctx, "ws_product_option_values", "id_attribute_group = ?", (group,)
        )


PRODUCT_OPTION_VALUES = Resource(
    name="product_option_values",
    node="product_option_value",
    class_name="ProductAttribute",
    fields=(
        Field(
            "id_attribute_group",
            INT,
            required=True,
            ref="product_options",
            validator="isUnsignedId",
        ),
        Field("color", validator="isColor"),
        Field("position", INT, validator="isInt"),
        _ml("name", 128, required=True),
    ),
    hooks=Hooks(before_save=_value_before_save),
    indexes=("id_attribute_group",),
)


# --- features ---------------------------------------------------------------


def _feature_before_save(ctx: Context, feature: Entity, method: str) -> None:
    if method == "POST" and empty_value(feature.get("position")):
        feature["position"] = _next_position(ctx, "ws_product_features")


def _feature_after_delete(ctx: Context, feature: Entity) -> None:
    _delete_children(ctx, "product_feature_values", "id_feature", feature["id"])


PRODUCT_FEATURES = Resource(
    name="product_features",
    node="product_feature",
    class_name="Feature",
    fields=(
        Field("position", INT, validator="isInt"),
        _ml("name", 128, required=True),
    ),
    hooks=Hooks(before_save=_feature_before_save, after_delete=_feature_after_delete),
)


def _feature_value_after_delete(ctx: Context, value: Entity) -> None:
    """Products linked to a deleted value lose the link."""
    products = ctx.resource("products")
    where = (
        "EXISTS (SELECT 1 FROM json_each(t._assoc, '$.product_features') f "
        "WHERE json_extract(f.value, '$.id_feature_value') = ?)"
    )
    for product in ctx.store.select(products, where, (value["id"],)):
        links = product["_assoc"]["product_features"]
        kept = [link for link in links if link.get("id_feature_value") != value["id"]]
        ctx.store.set_links(products, product, "product_features", kept)


PRODUCT_FEATURE_VALUES = Resource(
    name="product_feature_values",
    node="product_feature_value",
    class_name="FeatureValue",
    fields=(
        Field(
            "id_feature",
            INT,
            required=True,
            ref="product_features",
            validator="isUnsignedId",
        ),
        Field("custom", BOOL, validator="isBool"),
        _ml("value", 255, required=True),
    ),
    hooks=Hooks(after_delete=_feature_value_after_delete),
    indexes=("id_feature",),
)


# --- manufacturers and categories -------------------------------------------


MANUFACTURERS = Resource(
    name="manufacturers",
    node="manufacturer",
    class_name="Manufacturer",
    fields=(
        Field("active", BOOL, validator="isBool"),
        Field("link_rewrite", virtual=True, read_only=True),
        Field("name", required=True, max_size=64, validator="isCatalogName"),
        *date_fields(),
        _ml("description", None, "isCleanHtml"),
        _ml("short_description", None, "isCleanHtml"),
        _ml("meta_title", 255),
        _ml("meta_description", 512),
        _ml("meta_keywords", 255),
    ),
    associations=(
        Association(
            "addresses",
            "address",
            "addresses",
            item_ref="addresses",
            writable=False,
            getter=lambda ctx, m: [],
        ),
    ),
    hooks=Hooks(
        getters={"link_rewrite": lambda ctx, m: slugify(str(m.get("name") or ""))}
    ),
)


def _category_before_validate(ctx: Context, category: Entity, method: str) -> None:
    submitted = category["_submitted"]
    if method == "POST" and "link_rewrite" not in submitted.values:
        # The slug modifier reads the missing field and PHP warns: a 500.
        raise WsError(
            500,
            (
                3,
                PHP_WARNING.format(
                    message="Trying to access array offset on value of type null",
                    where="webservice/WebserviceRequest.php, line 1707",
                ),
            ),
        )
    if method == "POST":
        _fix_link_rewrite(ctx, category)


def _category_before_save(ctx: Context, category: Entity, method: str) -> None:
    parent = php_int(str(category.get("id_parent") or 0))
    depth = ctx.store.scalar(
        "SELECT level_depth FROM ws_categories WHERE id = ?", (parent,)
    )
    category["level_depth"] = (int(depth) + 1) if depth is not None else 0
    if method == "POST":
        category["nb_products_recursive"] = -1


def _category_children(ctx: Context, category: Entity) -> list[dict[str, Any]]:
    return [
        {"id": i}
        for i in _ids(
            ctx,
            "ws_categories",
            "id_parent = ? AND id != ?",
            (category["id"], category["id"]),
        )
    ]


_IN_CATEGORIES = (
    "EXISTS (SELECT 1 FROM json_each(ws_products._assoc, '$.categories') c "
    "WHERE json_extract(c.value, '$.id') IN ({marks}))"
)


def _products_in(ctx: Context, category_ids: list[int]) -> list[int]:
    """Products whose category association lists one of these categories."""
    marks = ", ".join("?" for _ in category_ids)
    where = _IN_CATEGORIES.format(marks=marks)
    return _ids(ctx, "ws_products", where, tuple(category_ids))


def _category_products(ctx: Context, category: Entity) -> list[dict[str, Any]]:
    return [{"id": i} for i in _products_in(ctx, [category["id"]])]


def _category_product_count(ctx: Context, category: Entity) -> int:
    """Distinct products of the category and of every category below it."""
    subtree = [category["id"]]
    frontier = [category["id"]]
    while frontier:
        marks = ", ".join("?" for _ in frontier)
        frontier = _ids(
            ctx,
            "ws_categories",
            f"id_parent IN ({marks}) AND id != id_parent",
            tuple(frontier),
        )
        subtree.extend(frontier)
    return len(_products_in(ctx, subtree))


CATEGORIES = Resource(
    name="categories",
    node="category",
    class_name="Category",
    fields=(
        Field("id_parent", INT, ref="categories", validator="isUnsignedInt"),
        Field("level_depth", INT, read_only=True, validator="isUnsignedInt"),
        Field("nb_products_recursive", INT, virtual=True, read_only=True, loaded=True),
        Field("active", BOOL, required=True, validator="isBool"),
        Field("id_shop_default", INT, validator="isUnsignedId", default="1"),
        Field("is_root_category", BOOL, validator="isBool"),
        Field("position", INT),
        *date_fields(),
        _ml("name", 128, "isCatalogName", required=True),
        _ml("link_rewrite", 128, "isLinkRewrite", required=True),
        _ml("description", None, "isCleanHtml"),
        _ml("additional_description", None, "isCleanHtml"),
        _ml("meta_title", 255),
        _ml("meta_description", 512),
        _ml("meta_keywords", 255),
    ),
    associations=(
        Association(
            "categories",
            "category",
            "categories",
            item_ref="categories",
            writable=False,
            getter=_category_children,
        ),
        Association(
            "products",
            "product",
            "products",
            item_ref="products",
            writable=False,
            getter=_category_products,
        ),
    ),
    hooks=Hooks(
        before_validate=_category_before_validate,
        before_save=_category_before_save,
        getters={"nb_products_recursive": _category_product_count},
    ),
    hidden_columns={"nleft": "INTEGER", "nright": "INTEGER"},
    indexes=("id_parent",),
)


# --- specific prices ----------------------------------------------------------

_SPECIFIC_PRICE_KEY = (
    "id_product",
    "id_shop",
    "id_shop_group",
    "id_currency",
    "id_country",
    "id_group",
    "id_customer",
    "id_product_attribute",
    "from_quantity",
    "id_specific_price_rule",
    "id_cart",
    "from",
    "to",
)


def _specific_price_before_save(ctx: Context, price: Entity, method: str) -> None:
    resource = ctx.resource("specific_prices")
    from .values import to_stored

    key = [
        to_stored(resource.by_name[name], price.get(name))
        for name in _SPECIFIC_PRICE_KEY
    ]
    where = " AND ".join(f'"{name}" IS ?' for name in _SPECIFIC_PRICE_KEY)
    clash = ctx.store.scalar(
        f"SELECT id FROM ws_specific_prices WHERE {where} AND id != ?",
        (*key, price.get("id") or 0),
    )
    if clash:
        raise sql_failure()


SPECIFIC_PRICES = Resource(
    name="specific_prices",
    node="specific_price",
    class_name="SpecificPrice",
    fields=(
        Field("id_shop_group", INT, validator="isUnsignedId"),
        Field("id_shop", INT, required=True, validator="isUnsignedId"),
        Field("id_cart", INT, required=True, validator="isUnsignedId"),
        Field(
            "id_product", INT, required=True, ref="products", validator="isUnsignedId"
        ),
        Field("id_product_attribute", INT, validator="isUnsignedId"),
        Field("id_currency", INT, required=True, validator="isUnsignedId"),
        Field("id_country", INT, required=True, validator="isUnsignedId"),
        Field("id_group", INT, required=True, validator="isUnsignedId"),
        Field("id_customer", INT, required=True, validator="isUnsignedId"),
        Field("id_specific_price_rule", INT, validator="isUnsignedId"),
        Field("price", FLOAT, required=True, validator="isNegativePrice"),
        Field("from_quantity", INT, required=True, validator="isUnsignedInt"),
        Field("reduction", FLOAT, required=True, validator="isPrice"),
        Field("reduction_tax", BOOL, required=True, validator="isBool"),
        Field("reduction_type", required=True, validator="isReductionType"),
        Field("from", DATETIME, required=True, validator="isDateFormat"),
        Field("to", DATETIME, required=True, validator="isDateFormat"),
    ),
    hooks=Hooks(before_save=_specific_price_before_save),
    indexes=("id_product",),
)


RESOURCES = [
    PRODUCTS,
    COMBINATIONS,
    STOCK_AVAILABLES,
    PRODUCT_OPTIONS,
    PRODUCT_OPTION_VALUES,
    PRODUCT_FEATURES,
    PRODUCT_FEATURE_VALUES,
    MANUFACTURERS,
    CATEGORIES,
    SPECIFIC_PRICES,
]
