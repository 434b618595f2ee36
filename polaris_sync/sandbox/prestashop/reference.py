"""Reference data of a fresh shop: languages, configuration, taxes, shops,
order states; and the seed that fills a new database like a fresh install."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import BOOL, INT, Entity, Field, Hooks, Resource, date_fields

if TYPE_CHECKING:
    from .engine import Context
    from .shop import Shop


def _typed_default_language(
    ctx: Context, language: Entity, out: dict[str, Any]
) -> None:
    # The default language object comes from PrestaShop's cache with typed
    # properties, so JSON prints its flags as integers.
    if language.get("id") == ctx.shop.default_language:
        for flag in ("active", "is_rtl"):
            if isinstance(out.get(flag), str) and out[flag].isdigit():
                out[flag] = int(out[flag])


LANGUAGES = Resource(
    name="languages",
    node="language",
    class_name="Language",
    fields=(
        Field("name", required=True, max_size=32, validator="isGenericName"),
        Field("iso_code", required=True, max_size=2, validator="isLanguageIsoCode"),
        Field("locale", max_size=5),
        Field("language_code", max_size=5),
        Field("active", BOOL, validator="isBool"),
        Field("is_rtl", BOOL, validator="isBool"),
        Field("date_format_lite", required=True, max_size=32),
        Field("date_format_full", required=True, max_size=32),
    ),
    hooks=Hooks(json_types=_typed_default_language),
)

CONFIGURATIONS = Resource(
    name="configurations",
    node="configuration",
    class_name="Configuration",
    fields=(
        Field("value"),
        Field("name", required=True, max_size=254, validator="isConfigName"),
        Field("id_shop_group", INT, ref="shop_groups", nullable=True),
        Field("id_shop", INT, ref="shops", nullable=True),
        *date_fields(),
    ),
    indexes=("name",),
)

TAX_RULE_GROUPS = Resource(
    name="tax_rule_groups",
    node="tax_rule_group",
    class_name="TaxRulesGroup",
    fields=(
        Field("name", required=True, max_size=64, validator="isGenericName"),
        Field("active", BOOL, validator="isBool"),
        Field("deleted", BOOL, validator="isBool"),
        *date_fields(),
    ),
)

SHOPS = Resource(
    name="shops",
    node="shop",
    class_name="Shop",
    fields=(
        Field("id_shop_group", INT, required=True, ref="shop_groups"),
        Field("id_category", INT, required=True, ref="categories"),
        Field("active", BOOL, validator="isBool"),
        Field("deleted", BOOL, validator="isBool"),
        Field("name", required=True, max_size=64, validator="isGenericName"),
        Field("color", validator="isColor"),
        Field("theme_name", validator="isThemeName"),
    ),
)

ORDER_STATES = Resource(
    name="order_states",
    node="order_state",
    class_name="OrderState",
    fields=(
        Field("unremovable", BOOL, validator="isBool"),
        Field("delivery", BOOL, validator="isBool"),
        Field("hidden", BOOL, validator="isBool"),
        Field("send_email", BOOL, validator="isBool"),
        Field("module_name", validator="isModuleName"),
        Field("invoice", BOOL, validator="isBool"),
        Field("color", validator="isColor"),
        Field("logable", BOOL, validator="isBool"),
        Field("shipped", BOOL, validator="isBool"),
        Field("paid", BOOL, validator="isBool"),
        Field("pdf_delivery", BOOL, validator="isBool"),
        Field("pdf_invoice", BOOL, validator="isBool"),
        Field("deleted", BOOL, validator="isBool"),
        Field(
            "name",
            ml=True,
            required=True,
            max_size=64,
            validator="isGenericName",
            filter_crashes=True,
        ),
        Field("template", ml=True, max_size=64, validator="isTplName"),
    ),
)

RESOURCES = [LANGUAGES, CONFIGURATIONS, TAX_RULE_GROUPS, SHOPS, ORDER_STATES]


# --- seed -------------------------------------------------------------------

SEED_DATE = "2026-01-05 09:00:00"

_CONFIGURATION = {
    "PS_WEBSERVICE": "1",
    "PS_LANG_DEFAULT": "1",
    "PS_TIMEZONE": "Europe/Paris",
    "PS_CURRENCY_DEFAULT": "1",
    "PS_COUNTRY_DEFAULT": "8",
    "PS_SHOP_DEFAULT": "1",
    "PS_ORDER_OUT_OF_STOCK": "0",
    "PS_STOCK_MANAGEMENT": "1",
    "PS_ALLOW_ACCENTED_CHARS_URL": "0",
    "PS_SEARCH_INDEXATION": "1",
    "PS_MULTISHOP_FEATURE_ACTIVE": "0",
    "PS_LIMIT_UPLOAD_IMAGE_VALUE": "2",
    "PS_MAIL_METHOD": "3",
    "PS_OS_CHEQUE": "1",
    "PS_OS_PAYMENT": "2",
    "PS_OS_PREPARATION": "3",
    "PS_OS_SHIPPING": "4",
    "PS_OS_DELIVERED": "5",
    "PS_OS_CANCELED": "6",
    "PS_OS_REFUND": "7",
    "PS_OS_ERROR": "8",
    "PS_OS_OUTOFSTOCK": "9",
    "PS_OS_BANKWIRE": "10",
    "PS_OS_WS_PAYMENT": "11",
    "PS_OS_OUTOFSTOCK_UNPAID": "12",
    "PS_OS_COD_VALIDATION": "13",
}

# Tax rule groups of a fresh French shop (group 1 is the standard rate).
_TAX_GROUPS = (
    "FR Taux standard (20%)",
    "FR Taux réduit (10%)",
    "FR Taux réduit (5.5%)",
    "FR Taux super réduit (2.1%)",
)

# Built-in order states 1-13: flags as a fresh 8.1 shop has them
# (unremovable, delivery, send_email, module, invoice, logable, shipped, paid,
# template), with names of our own.
_ORDER_STATES: tuple[tuple[str, str, int, int, str, int, int, int, int, str], ...] = (
    (
        "Waiting for cheque",
        "En attente de chèque",
        0,
        1,
        "ps_checkpayment",
        0,
        0,
        0,
        0,
        "cheque",
    ),
    ("Payment accepted", "Paiement accepté", 0, 1, "", 1, 1, 0, 1, "payment"),
    ("Being prepared", "En préparation", 1, 1, "", 1, 1, 0, 1, "preparation"),
    ("Shipped", "Expédié", 1, 1, "", 1, 1, 1, 1, "shipped"),
    ("Delivered", "Livré", 1, 0, "", 1, 1, 1, 1, ""),
    ("Cancelled", "Annulé", 0, 1, "", 0, 0, 0, 0, "order_canceled"),
    ("Refunded", "Remboursé", 0, 1, "", 1, 0, 0, 0, "refund"),
    ("Payment error", "Erreur de paiement", 0, 1, "", 0, 0, 0, 0, "payment_error"),
    (
        "Backorder, paid",
        "Réapprovisionnement, payé",
        0,
        1,
        "",
        1,
        0,
        0,
        1,
        "outofstock",
    ),
    (
        "Waiting for bank wire",
        "En attente de virement",
        0,
        1,
        "ps_wirepayment",
        0,
        0,
        0,
        0,
        "bankwire",
    ),
    (
        "Remote payment accepted",
        "Paiement à distance accepté",
        0,
        1,
        "",
        1,
        1,
        0,
        1,
        "payment",
    ),
    (
        "Backorder, unpaid",
        "Réapprovisionnement, non payé",
        0,
        1,
        "",
        0,
        0,
        0,
        0,
        "outofstock",
    ),
    (
        "Waiting for cash on delivery",
        "En attente de paiement à la livraison",
        0,
        0,
        "ps_cashondelivery",
        0,
        0,
        0,
        0,
        "cashondelivery",
    ),
)

# A few brands, categories, attribute groups and features so that a fresh
# emulator is not empty (and new ones get non-zero positions, as in a shop
# that already holds some).
_MANUFACTURERS = ("Atelier Nord", "Maison Brume")
_CATEGORIES = (("Outerwear", "Vestes"), ("Knitwear", "Mailles"))
_ATTRIBUTE_GROUPS = (
    ("Size", "Taille", "select", 0, (("S", "S", ""), ("M", "M", ""), ("L", "L", ""))),
    (
        "Colour",
        "Couleur",
        "color",
        1,
        (("Ink", "Encre", "#1B1F3B"), ("Sand", "Sable", "#D8C3A5")),
    ),
)
_FEATURES = (
    ("Material", "Matière", (("Merino", "Mérinos"), ("Hemp", "Chanvre"))),
    ("Fit", "Coupe", (("Loose", "Ample"), ("Slim", "Ajustée"))),
)


def _both(text_en: str, text_fr: str | None = None) -> dict[int, str]:
    return {1: text_en, 2: text_fr if text_fr is not None else text_en}


def _row(**values: Any) -> Entity:
    return {**values, "_assoc": {}}


def seed(shop: Shop) -> None:
    from .values import slugify

    store = shop.store
    resources = shop.resources
    with store.transaction():
        for lang_id, name, iso, locale, code, lite in (
            (1, "English (English)", "en", "en-US", "en-us", "m/d/Y"),
            (2, "Français (French)", "fr", "fr-FR", "fr", "d/m/Y"),
        ):
            store.insert(
                resources["languages"],
                _row(
                    id=lang_id,
                    name=name,
                    iso_code=iso,
                    locale=locale,
                    language_code=code,
                    active=1,
                    is_rtl=0,
                    date_format_lite=lite,
                    date_format_full=f"{lite} H:i:s",
                ),
            )
        for name, value in _CONFIGURATION.items():
            store.insert(
                resources["configurations"],
                _row(
                    name=name,
                    value=value,
                    date_add=SEED_DATE,
                    date_upd=SEED_DATE,
                ),
            )
        for name in _TAX_GROUPS:
            store.insert(
                resources["tax_rule_groups"],
                _row(
                    name=name,
                    active=1,
                    deleted=0,
                    date_add=SEED_DATE,
                    date_upd=SEED_DATE,
                ),
            )
        store.insert(
            resources["shops"],
            _row(
                id_shop_group=1,
                id_category=2,
                active=1,
                deleted=0,
                name="Polaris Sandbox",
                color="",
                theme_name="classic",
            ),
        )
        for state in _ORDER_STATES:
            (
                name_en,
                name_fr,
                delivery,
                email,
                module,
                invoice,
                logable,
                shipped,
                paid,
                tpl,
            ) = state
            store.insert(
                resources["order_states"],
                _row(
                    unremovable=1,
                    delivery=delivery,
                    hidden=0,
                    send_email=email,
                    module_name=module,
                    invoice=invoice,
                    color="#34209E",
                    logable=logable,
                    shipped=shipped,
                    paid=paid,
                    pdf_delivery=0,
                    pdf_invoice=invoice,
                    deleted=0,
                    name=_both(name_en, name_fr),
                    template=_both(tpl),
                ),
            )
        _seed_catalog(shop, slugify)


def _seed_catalog(shop: Shop, slugify: Any) -> None:
    store = shop.store
    categories = shop.resources["categories"]
    empty_ml = _both("")
    for category_id, name, parent, depth, root in (
        (1, "Root", 0, 0, 0),
        (2, "Home", 1, 1, 1),
    ):
        store.insert(
            categories,
            _row(
                id=category_id,
                id_parent=parent,
                level_depth=depth,
                active=1,
                id_shop_default=1,
                is_root_category=root,
                position=0,
                date_add=SEED_DATE,
                date_upd=SEED_DATE,
                name=_both(name),
                link_rewrite=_both(name.lower()),
                description=empty_ml,
                additional_description=empty_ml,
                meta_title=empty_ml,
                meta_description=empty_ml,
                meta_keywords=empty_ml,
            ),
        )
    for position, (name_en, name_fr) in enumerate(_CATEGORIES):
        store.insert(
            categories,
            _row(
                id_parent=2,
                level_depth=2,
                active=1,
                id_shop_default=1,
                is_root_category=0,
                position=position,
                date_add=SEED_DATE,
                date_upd=SEED_DATE,
                name=_both(name_en, name_fr),
                link_rewrite=_both(slugify(name_en), slugify(name_fr)),
                description=empty_ml,
                additional_description=empty_ml,
                meta_title=empty_ml,
                meta_description=empty_ml,
                meta_keywords=empty_ml,
            ),
        )
    _seed_attributes(shop)
    for name in _MANUFACTURERS:
        store.insert(
            shop.resources["manufacturers"],
            _row(
                active=1,
                name=name,
                date_add=SEED_DATE,
                date_upd=SEED_DATE,
                description=empty_ml,
                short_description=empty_ml,
                meta_title=empty_ml,
                meta_description=empty_ml,
                meta_keywords=empty_ml,
            ),
        )


def _seed_attributes(shop: Shop) -> None:
    store, resources = shop.store, shop.resources
    for position, (name_en, name_fr, kind, is_colour, values) in enumerate(
        _ATTRIBUTE_GROUPS
    ):
        group_id = store.insert(
            resources["product_options"],
            _row(
                is_color_group=is_colour,
                group_type=kind,
                position=position,
                name=_both(name_en, name_fr),
                public_name=_both(name_en, name_fr),
            ),
        )
        for value_position, (value_en, value_fr, colour) in enumerate(values):
            store.insert(
                resources["product_option_values"],
                _row(
                    id_attribute_group=group_id,
                    color=colour,
                    position=value_position,
                    name=_both(value_en, value_fr),
                ),
            )
    for position, (name_en, name_fr, feature_values) in enumerate(_FEATURES):
        feature_id = store.insert(
            resources["product_features"],
            _row(
                position=position,
                name=_both(name_en, name_fr),
            ),
        )
        for value_en, value_fr in feature_values:
            store.insert(
                resources["product_feature_values"],
                _row(
                    id_feature=feature_id,
                    custom=0,
                    value=_both(value_en, value_fr),
                ),
            )
