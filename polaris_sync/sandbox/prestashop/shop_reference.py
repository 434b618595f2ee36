"""Reference data the order side reads: carriers, countries, currencies, stores.

Seeded like a fresh French PrestaShop 8.1 shop: carrier 1 "Click and collect"
(free), carrier 2 "My carrier" (7.00 before tax, FR 20 %), carriers 3 and 4
inactive; the euro as currency 1; France as country 8. Each carrier keeps its
flat price and tax rule group in hidden columns: the emulator has no price
ranges or zones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .echo import answering_like_php
from .field_kinds import bool_field, int_field, ml_field, text_field
from .model import (
    DATETIME,
    FLOAT,
    Entity,
    Field,
    Hooks,
    Resource,
)
from .order_rows import insert_row

if TYPE_CHECKING:
    from .engine import Context
    from .shop import Shop


def _carrier_tax_group(ctx: Context, entity: Entity) -> Any:
    return entity.get("tax_rules_group") or 0


CARRIERS = Resource(
    name="carriers",
    node="carrier",
    class_name="Carrier",
    fields=(
        bool_field("deleted"),
        bool_field("is_module"),
        int_field("id_tax_rules_group", virtual=True, ref="tax_rule_groups"),
        int_field("id_reference"),
        text_field("name", required=True, validator="isCarrierName", max_size=64),
        bool_field("active", required=True),
        bool_field("is_free"),
        text_field("url", validator="isAbsoluteUrl"),
        bool_field("shipping_handling"),
        bool_field("shipping_external"),
        bool_field("range_behavior"),
        int_field("shipping_method", validator="isUnsignedInt"),
        int_field("max_width", validator="isUnsignedInt"),
        int_field("max_height", validator="isUnsignedInt"),
        int_field("max_depth", validator="isUnsignedInt"),
        Field("max_weight", FLOAT, validator="isFloat"),
        int_field("grade", validator="isUnsignedInt", max_size=1),
        text_field("external_module_name", max_size=64),
        bool_field("need_range"),
        int_field("position"),
        ml_field("delay", required=True, validator="isGenericName", max_size=512),
    ),
    hooks=Hooks(getters={"id_tax_rules_group": _carrier_tax_group}),
    hidden_columns={"shipping_price": "REAL", "tax_rules_group": "INTEGER"},
    description="The Carriers",
)

COUNTRIES = Resource(
    name="countries",
    node="country",
    class_name="Country",
    fields=(
        int_field("id_zone", ref="zones", required=True, validator="isUnsignedId"),
        int_field("id_currency", ref="currencies", validator="isUnsignedId"),
        int_field("call_prefix", validator="isInt"),
        text_field(
            "iso_code", required=True, validator="isLanguageIsoCode", max_size=3
        ),
        bool_field("active"),
        bool_field("contains_states", required=True),
        bool_field("need_identification_number", required=True),
        bool_field("need_zip_code"),
        text_field("zip_code_format", validator="isZipCodeFormat", max_size=12),
        bool_field("display_tax_label", required=True),
        ml_field("name", required=True, validator="isGenericName", max_size=64),
    ),
    indexes=("iso_code",),
    description="The countries",
)

# The field list of this 8.1 resource has not been checked against a real
# shop's answer; the order side only needs the id and the conversion rate.
CURRENCIES = Resource(
    name="currencies",
    node="currency",
    class_name="Currency",
    fields=(
        text_field("name", required=True, validator="isGenericName", max_size=255),
        ml_field("symbol", validator="isGenericName", max_size=255),
        text_field(
            "iso_code", required=True, validator="isLanguageIsoCode", max_size=3
        ),
        text_field("numeric_iso_code", validator="isNumericIsoCode", max_size=3),
        int_field("precision", validator="isInt"),
        Field("conversion_rate", FLOAT, required=True, validator="isUnsignedFloat"),
        bool_field("deleted"),
        bool_field("active"),
        bool_field("unofficial"),
        bool_field("modified"),
        ml_field("pattern", max_size=255),
    ),
    description="The currencies",
)

STORES = Resource(
    name="stores",
    node="store",
    class_name="Store",
    fields=(
        int_field(
            "id_country", ref="countries", required=True, validator="isUnsignedId"
        ),
        int_field("id_state", ref="states", validator="isNullOrUnsignedId"),
        text_field("postcode", max_size=12),
        text_field("city", required=True, validator="isCityName", max_size=64),
        Field("latitude", FLOAT, validator="isCoordinate"),
        Field("longitude", FLOAT, validator="isCoordinate"),
        text_field("phone", validator="isPhoneNumber", max_size=16),
        text_field("fax", validator="isPhoneNumber", max_size=16),
        text_field("email", validator="isEmail", max_size=255),
        bool_field("active", required=True),
        Field("date_add", DATETIME, validator="isDate", date_gated=True),
        Field("date_upd", DATETIME, validator="isDate", date_gated=True),
        ml_field("name", required=True, validator="isGenericName", max_size=255),
        ml_field("address1", required=True, validator="isAddress", max_size=255),
        ml_field("address2", validator="isAddress", max_size=255),
        ml_field("hours", validator="isJson", max_size=65000),
        ml_field("note", validator="isCleanHtml", max_size=65000),
    ),
    description="The stores",
)

RESOURCES = [answering_like_php(r) for r in (CARRIERS, COUNTRIES, CURRENCIES, STORES)]

# id, name, active, is_free, price before tax, delay (en, fr)
_CARRIERS = (
    (1, "Click and collect", 1, 1, 0.0, ("Pick up in-store", "Retrait en magasin")),
    (2, "My carrier", 1, 0, 7.0, ("Delivery next day!", "Livraison le lendemain !")),
    (3, "My cheap carrier", 0, 0, 4.0, ("Buy more to pay less!", "Moins cher !")),
    (4, "My light carrier", 0, 0, 5.0, ("The lighter the cheaper!", "Plus léger !")),
)

# id, iso, call prefix, zone, needs a zip code, zip format, name (en, fr)
_COUNTRIES = (
    (1, "DE", 49, 1, 1, "NNNNN", ("Germany", "Allemagne")),
    (3, "BE", 32, 1, 1, "NNNN", ("Belgium", "Belgique")),
    (6, "ES", 34, 1, 1, "NNNNN", ("Spain", "Espagne")),
    (8, "FR", 33, 1, 1, "NNNNN", ("France", "France")),
    (10, "IT", 39, 1, 1, "NNNNN", ("Italy", "Italie")),
    (12, "LU", 352, 1, 1, "NNNN", ("Luxembourg", "Luxembourg")),
    (19, "CH", 41, 7, 1, "NNNN", ("Switzerland", "Suisse")),
    (21, "US", 1, 2, 1, "NNNNN", ("United States", "États-Unis")),
)

# id, city, postcode, name
_STORES = (
    (1, "Lyon", "69002", "Sandbox store Lyon"),
    (2, "Nantes", "44000", "Sandbox store Nantes"),
)


def seed(shop: Shop) -> None:
    now = "2026-01-01 00:00:00"
    for carrier_id, name, active, free, price, delay in _CARRIERS:
        _add(
            shop,
            CARRIERS,
            {
                "id": carrier_id,
                "id_reference": carrier_id,
                "name": name,
                "active": active,
                "is_free": free,
                "shipping_handling": 1 - free,
                "range_behavior": 0,
                "shipping_method": 2 - free,
                "grade": 0,
                "position": carrier_id - 1,
                "need_range": 1,
                "delay": {1: delay[0], 2: delay[1]},
                "shipping_price": price,
                "tax_rules_group": 1,
            },
        )
    for country_id, iso, prefix, zone, zip_needed, zip_format, names in _COUNTRIES:
        _add(
            shop,
            COUNTRIES,
            {
                "id": country_id,
                "id_zone": zone,
                "id_currency": 0,
                "call_prefix": prefix,
                "iso_code": iso,
                "active": 1,
                "contains_states": int(iso == "US"),
                "need_zip_code": zip_needed,
                "zip_code_format": zip_format,
                "display_tax_label": 1,
                "name": {1: names[0], 2: names[1]},
            },
        )
    _add(
        shop,
        CURRENCIES,
        {
            "id": 1,
            "name": "Euro",
            "symbol": {1: "€", 2: "€"},
            "iso_code": "EUR",
            "numeric_iso_code": "978",
            "precision": 2,
            "conversion_rate": 1.0,
            "active": 1,
            "pattern": {1: "", 2: ""},
        },
    )
    for store_id, city, postcode, name in _STORES:
        _add(
            shop,
            STORES,
            {
                "id": store_id,
                "id_country": 8,
                "city": city,
                "postcode": postcode,
                "active": 1,
                "date_add": now,
                "date_upd": now,
                "name": {1: name, 2: name},
                "address1": {1: "1 rue du Sandbox", 2: "1 rue du Sandbox"},
            },
        )


def _add(shop: Shop, target: Resource, values: dict[str, Any]) -> None:
    insert_row(shop.store, target, values, [1, 2])
