"""Customers, their groups and addresses, as a PrestaShop 8.1 shop serves them.

What the recordings of a real shop show and this module reproduces:
- a customer posted without groups gets ``id_default_group`` 0 and no group;
- ``passwd`` is required on POST *and* PUT (a PUT without it is a 400 code 41)
  and is printed hashed;
- a second customer with the same e-mail is a 500 with codes 140 and 46;
- names with digits fail ``isCustomerName`` (400 code 85).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import order_rows
from .echo import answering_like_php
from .errors import WsError
from .field_kinds import bool_field, datetime_field, int_field, ml_field, text_field
from .model import (
    DATE,
    FLOAT,
    AssocField,
    Association,
    Entity,
    Field,
    Hooks,
    Resource,
)

if TYPE_CHECKING:
    from .engine import Context
    from .shop import Shop

# PS_PASSWD_TIME_FRONT: the shop stamps a new password as generated this long
# ago, so that a customer may ask for a reset right away.
PASSWORD_RESET_DELAY = timedelta(minutes=360)


def password_hash(password: str) -> str:
    """A bcrypt-shaped hash of the password.

    Only the shape matters to clients (they never verify it); a salted SHA-256
    keeps the sandbox free of a bcrypt dependency.
    """
    salt = secrets.token_hex(8)
    digest = hashlib.sha256((salt + password).encode()).hexdigest()
    return f"$2y$10${(salt + digest)[:53]}"


def new_secure_key() -> str:
    return secrets.token_hex(16)


def password_generated_at(now: datetime) -> str:
    return (now - PASSWORD_RESET_DELAY).strftime("%Y-%m-%d %H:%M:%S")


CUSTOMER_FIELDS = (
    int_field("id_default_group", ref="groups", validator="isUnsignedId"),
    int_field("id_lang", ref="languages", validator="isUnsignedId"),
    datetime_field("newsletter_date_add"),
    text_field("ip_registration_newsletter", max_size=15),
    text_field("last_passwd_gen"),
    text_field("secure_key", max_size=32),
    bool_field("deleted"),
    text_field("passwd", required=True, max_size=255),
    text_field("lastname", required=True, validator="isCustomerName", max_size=255),
    text_field("firstname", required=True, validator="isCustomerName", max_size=255),
    text_field("email", required=True, validator="isEmail", max_size=255),
    int_field("id_gender", validator="isUnsignedId"),
    Field("birthday", DATE, validator="isDate"),
    bool_field("newsletter"),
    bool_field("optin"),
    text_field("website", max_size=128),
    text_field("company", validator="isGenericName", max_size=255),
    text_field("siret", max_size=14),
    text_field("ape", max_size=6),
    Field("outstanding_allow_amount", FLOAT, validator="isFloat"),
    bool_field("show_public_prices"),
    int_field("id_risk", validator="isUnsignedInt"),
    int_field("max_payment_days", validator="isUnsignedInt"),
    bool_field("active"),
    text_field("note", validator="isCleanHtml", max_size=65000),
    bool_field("is_guest"),
    int_field("id_shop", validator="isUnsignedId"),
    int_field("id_shop_group", validator="isUnsignedId"),
    datetime_field("date_add", date_gated=True),
    datetime_field("date_upd", date_gated=True),
    text_field("reset_password_token", max_size=40),
    datetime_field("reset_password_validity"),
)

CUSTOMER_GROUPS = Association(
    "groups", "group", "groups", fields=(AssocField("id"),), item_ref="groups"
)

GROUP_FIELDS = (
    Field("reduction", FLOAT, validator="isFloat", decimals=2),
    int_field("price_display_method", required=True, validator="isPriceDisplayMethod"),
    bool_field("show_prices"),
    datetime_field("date_add", date_gated=True),
    datetime_field("date_upd", date_gated=True),
    ml_field("name", required=True, validator="isGenericName", max_size=32),
)

ADDRESS_FIELDS = (
    int_field("id_customer", ref="customers", validator="isNullOrUnsignedId"),
    int_field("id_manufacturer", ref="manufacturers", validator="isNullOrUnsignedId"),
    int_field("id_supplier", ref="suppliers", validator="isNullOrUnsignedId"),
    int_field("id_warehouse", validator="isNullOrUnsignedId"),
    int_field("id_country", ref="countries", required=True, validator="isUnsignedId"),
    int_field("id_state", ref="states", validator="isNullOrUnsignedId"),
    text_field("alias", required=True, validator="isGenericName", max_size=32),
    text_field("company", validator="isGenericName", max_size=255),
    text_field("lastname", required=True, validator="isName", max_size=255),
    text_field("firstname", required=True, validator="isName", max_size=255),
    text_field("vat_number", validator="isGenericName"),
    text_field("address1", required=True, validator="isAddress", max_size=128),
    text_field("address2", validator="isAddress", max_size=128),
    text_field("postcode", validator="isPostCode", max_size=12),
    text_field("city", required=True, validator="isCityName", max_size=64),
    text_field("other", validator="isMessage", max_size=300),
    text_field("phone", validator="isPhoneNumber", max_size=32),
    text_field("phone_mobile", validator="isPhoneNumber", max_size=32),
    text_field("dni", validator="isDniLite", max_size=16),
    bool_field("deleted"),
    datetime_field("date_add", date_gated=True),
    datetime_field("date_upd", date_gated=True),
)


def _customer_before_save(ctx: Context, entity: Entity, method: str) -> None:
    _refuse_duplicate_email(ctx, entity)
    stored = (
        None if method == "POST" else order_rows.fetch(ctx, "customers", entity["id"])
    )
    password = str(entity.get("passwd") or "")
    if stored is None or password != stored.get("passwd"):
        entity["passwd"] = password_hash(password)
    if stored is None:
        entity["secure_key"] = new_secure_key()
        entity["last_passwd_gen"] = password_generated_at(ctx.shop.local_time())
    else:
        # A full PUT does not make the shop forget the customer's keys.
        for kept in ("secure_key", "last_passwd_gen"):
            entity[kept] = entity.get(kept) or stored.get(kept)
    entity["id_shop"] = entity.get("id_shop") or 1
    entity["id_shop_group"] = entity.get("id_shop_group") or 1


def _refuse_duplicate_email(ctx: Context, entity: Entity) -> None:
    others = order_rows.fetch_where(
        ctx,
        "customers",
        "email = ? AND id != ? AND deleted = 0 AND is_guest = 0",
        str(entity.get("email") or ""),
        int(entity.get("id") or 0),
    )
    if others and not _number(entity.get("is_guest")):
        raise WsError(
            500,
            (140, "The email is already used, please choose another one"),
            (46, "Unable to save resource"),
        )


def _set_groups(ctx: Context, entity: Entity, items: list[dict[str, str]]) -> None:
    """Group links are kept sorted by id, whatever order they were sent in."""
    ids = sorted({_number(item.get("id")) for item in items} - {0})
    entity.setdefault("_assoc", {})["groups"] = [{"id": group} for group in ids]
    ctx.store.update(CUSTOMERS, entity["id"], {"_assoc": entity["_assoc"]})


def _number(raw: Any) -> int:
    text = str(raw or "0").strip()
    return int(text) if text.isdigit() else 0


CUSTOMERS = Resource(
    name="customers",
    node="customer",
    class_name="Customer",
    fields=CUSTOMER_FIELDS,
    associations=(replace(CUSTOMER_GROUPS, setter=_set_groups),),
    hooks=Hooks(before_save=_customer_before_save),
    indexes=("email",),
    description="The e-shop's customers",
)

GROUPS = Resource(
    name="groups",
    node="group",
    class_name="Group",
    fields=GROUP_FIELDS,
    description="The customer's groups",
)


def address_in_use(ctx: Context, address_id: int) -> bool:
    return bool(
        order_rows.fetch_where(
            ctx,
            "orders",
            "id_address_delivery = ? OR id_address_invoice = ?",
            address_id,
            address_id,
        )
    )


def _address_soft_delete(ctx: Context, entity: Entity) -> bool:
    """An address an order uses is only marked deleted: the order keeps it."""
    if not address_in_use(ctx, int(entity["id"])):
        return False
    order_rows.update(ctx, "addresses", int(entity["id"]), {"deleted": 1})
    return True


ADDRESSES = Resource(
    name="addresses",
    node="address",
    class_name="Address",
    fields=ADDRESS_FIELDS,
    hooks=Hooks(soft_delete=_address_soft_delete),
    indexes=("id_customer",),
    description="The Customer, Brand and Customer addresses",
)

RESOURCES = [answering_like_php(r) for r in (CUSTOMERS, GROUPS, ADDRESSES)]

# The three groups of a fresh shop; it names them in English in every language.
_GROUPS = ((1, "Visitor"), (2, "Guest"), (3, "Customer"))


def seed(shop: Shop) -> None:
    for group_id, name in _GROUPS:
        order_rows.insert_row(
            shop.store,
            GROUPS,
            {
                "id": group_id,
                "reduction": 0,
                "price_display_method": 0,
                "show_prices": 1,
                "date_add": "2026-01-01 00:00:00",
                "date_upd": "2026-01-01 00:00:00",
                "name": {1: name, 2: name},
            },
            [1, 2],
        )
