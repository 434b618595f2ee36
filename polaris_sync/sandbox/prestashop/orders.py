"""The order-side resources served by the emulator, with their side effects.

Fields come from :mod:`.order_resources`; the business rules from
:mod:`.checkout`. Quirks of the real shop kept here on purpose:
- POST /api/orders answers with the request echoed plus ``order_rows``, not
  with the stored order (state, reference and dates empty, ids as sent);
- POST /api/order_histories changes the order; PUT and DELETE only edit or
  remove the history row;
- a filter on the multilingual ``name`` of order_states is a 500 with no body;
- an order_slip detail shows the slip's own id as its ``id``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import checkout, order_lifecycle, order_rows
from .echo import answering_like_php
from .errors import EmptyAnswer
from .model import Entity, Hooks, Resource
from .order_resources import (
    CART_FIELDS,
    CART_ROWS,
    CART_RULE_FIELDS,
    ORDER_CARRIER_FIELDS,
    ORDER_CART_RULE_FIELDS,
    ORDER_DETAIL_FIELDS,
    ORDER_DETAIL_TAXES,
    ORDER_FIELDS,
    ORDER_HISTORY_FIELDS,
    ORDER_INVOICE_FIELDS,
    ORDER_PAYMENT_FIELDS,
    ORDER_ROWS,
    ORDER_SLIP_DETAILS,
    ORDER_SLIP_FIELDS,
)
from .values import php_float

if TYPE_CHECKING:
    from .engine import Context


# --- carts ---


def _cart_before_save(ctx: Context, entity: Entity, method: str) -> None:
    entity["id_shop_group"] = entity.get("id_shop_group") or 1
    entity["id_shop"] = entity.get("id_shop") or 1


def _cart_after_save(ctx: Context, entity: Entity, method: str) -> None:
    # The shop copies the customer's key on save; the answer, printed from the
    # object as sent, still shows it empty.
    customer = order_rows.fetch(ctx, "customers", entity.get("id_customer"))
    if customer is not None:
        order_rows.update(
            ctx, "carts", int(entity["id"]), {"secure_key": customer["secure_key"]}
        )


def _set_cart_rows(ctx: Context, entity: Entity, items: list[dict[str, str]]) -> None:
    rows = [
        {
            "id_product": _number(item.get("id_product")),
            "id_product_attribute": _number(item.get("id_product_attribute")),
            "id_address_delivery": _number(item.get("id_address_delivery")),
            "id_customization": _number(item.get("id_customization")),
            "quantity": _number(item.get("quantity")),
        }
        for item in items
    ]
    entity.setdefault("_assoc", {})["cart_rows"] = rows
    ctx.store.update(
        order_rows.resource(ctx, "carts"), entity["id"], {"_assoc": entity["_assoc"]}
    )


def _number(raw: Any) -> int:
    text = str(raw or "0").strip()
    return int(text) if text.isdigit() else 0


# --- orders ---


def _order_before_save(ctx: Context, entity: Entity, method: str) -> None:
    if method == "POST":
        checkout.check_placeable(ctx, entity.get("id_cart"), str(entity.get("module")))
        return
    stored = order_rows.fetch(ctx, "orders", entity["id"])
    entity["_previous_state"] = int((stored or {}).get("current_state") or 0)


def _order_after_save(ctx: Context, entity: Entity, method: str) -> None:
    if method != "POST":
        _apply_state_from_write(ctx, entity)
        return
    cart = order_rows.fetch(ctx, "carts", entity.get("id_cart"))
    assert cart is not None, "checked before the save"
    placement = checkout.Placement(
        cart=cart,
        module=str(entity["module"]),
        payment=str(entity.get("payment") or ""),
        amount_paid=order_rows.money(entity.get("total_paid")),
        vouchers=[],
    )
    checkout.place_order(ctx, placement, order_id=int(entity["id"]))
    # The answer echoes the request: no dates, no state, no reference.
    entity["date_add"] = entity["date_upd"] = None
    entity["current_state"] = ""


def _apply_state_from_write(ctx: Context, entity: Entity) -> None:
    """A PUT or PATCH naming another state goes through the state machine."""
    wanted = _number(entity.get("current_state"))
    previous = int(entity.get("_previous_state") or 0)
    if wanted and wanted != previous:
        order_rows.update(ctx, "orders", int(entity["id"]), {"current_state": previous})
        order_lifecycle.change_state(ctx, int(entity["id"]), wanted)


def order_row_items(ctx: Context, entity: Entity) -> list[dict[str, Any]]:
    details = order_rows.fetch_where(
        ctx, "order_details", "id_order = ?", int(entity["id"])
    )
    return [
        {
            "id": int(d["id"]),
            "product_id": int(d["product_id"] or 0),
            "product_attribute_id": int(d["product_attribute_id"] or 0),
            "product_quantity": int(d["product_quantity"] or 0),
            "product_name": d["product_name"],
            "product_reference": d["product_reference"],
            "product_ean13": d["product_ean13"],
            "product_isbn": d["product_isbn"],
            "product_upc": d["product_upc"],
            "product_price": f"{float(d['product_price'] or 0):.6f}",
            "id_customization": int(d["id_customization"] or 0),
            "unit_price_tax_incl": f"{float(d['unit_price_tax_incl'] or 0):.6f}",
            "unit_price_tax_excl": f"{float(d['unit_price_tax_excl'] or 0):.6f}",
        }
        for d in details
    ]


def shipping_number(ctx: Context, entity: Entity) -> str:
    if not entity.get("id"):
        return ""
    carriers = order_rows.fetch_where(
        ctx, "order_carriers", "id_order = ?", int(entity["id"])
    )
    return str(carriers[0].get("tracking_number") or "") if carriers else ""


def _order_after_delete(ctx: Context, entity: Entity) -> None:
    for name in (
        "order_details",
        "order_histories",
        "order_carriers",
        "order_invoices",
        "order_cart_rules",
    ):
        target = order_rows.resource(ctx, name)
        for row in order_rows.fetch_where(ctx, name, "id_order = ?", int(entity["id"])):
            ctx.store.delete(target, int(row["id"]))


# --- order histories ---


def _history_before_save(ctx: Context, entity: Entity, method: str) -> None:
    if method != "POST":
        return
    order = order_rows.fetch(ctx, "orders", entity.get("id_order"))
    state = order_rows.fetch(ctx, "order_states", entity.get("id_order_state"))
    if order is None or state is None:
        raise EmptyAnswer(500, order_rows.SQL_FAILURE)


def _history_after_save(ctx: Context, entity: Entity, method: str) -> None:
    if method != "POST":
        return
    order_lifecycle.change_state(
        ctx,
        int(str(entity["id_order"])),
        int(str(entity["id_order_state"])),
        record=False,
    )
    # The state is cast to an integer on the object; the order id is not.
    entity["id_order_state"] = int(str(entity["id_order_state"]))


# --- cart rules, slips ---


def _cart_rule_before_save(ctx: Context, entity: Entity, method: str) -> None:
    # A rule always has a currency for its amount: the shop's default.
    if not entity.get("reduction_currency"):
        entity["reduction_currency"] = 1


def _set_slip_details(
    ctx: Context, entity: Entity, items: list[dict[str, str]]
) -> None:
    """Stored as the shop's table holds them: amounts with six decimals."""
    details = [
        {
            "id": 0,
            "id_order_detail": _number(item.get("id_order_detail")),
            "product_quantity": _number(item.get("product_quantity")),
            "amount_tax_excl": _decimal6(item.get("amount_tax_excl")),
            "amount_tax_incl": _decimal6(item.get("amount_tax_incl")),
        }
        for item in items
    ]
    entity.setdefault("_assoc", {})["order_slip_details"] = details
    ctx.store.update(
        order_rows.resource(ctx, "order_slip"),
        entity["id"],
        {"_assoc": entity["_assoc"]},
    )


def _decimal6(raw: Any) -> str:
    return f"{php_float(str(raw or '0')):.6f}"


def slip_details(ctx: Context, entity: Entity) -> list[dict[str, Any]]:
    items = entity.get("_assoc", {}).get("order_slip_details", [])
    return [{**item, "id": entity.get("id")} for item in items]


# --- declarations ---


def _resources() -> list[Resource]:
    return [
        Resource(
            "carts",
            "cart",
            "Cart",
            CART_FIELDS,
            (replace(CART_ROWS, setter=_set_cart_rows),),
            hooks=Hooks(before_save=_cart_before_save, after_save=_cart_after_save),
            indexes=("id_customer",),
            description="Customer's carts",
        ),
        Resource(
            "orders",
            "order",
            "Order",
            ORDER_FIELDS,
            (replace(ORDER_ROWS, getter=order_row_items),),
            hooks=Hooks(
                before_save=_order_before_save,
                after_save=_order_after_save,
                after_delete=_order_after_delete,
                getters={"shipping_number": shipping_number},
            ),
            indexes=("id_customer", "reference", "id_cart"),
            description="The Customers orders",
        ),
        Resource(
            "order_details",
            "order_detail",
            "OrderDetail",
            ORDER_DETAIL_FIELDS,
            (ORDER_DETAIL_TAXES,),
            indexes=("id_order",),
            description="Details of an order",
        ),
        Resource(
            "order_histories",
            "order_history",
            "OrderHistory",
            ORDER_HISTORY_FIELDS,
            hooks=Hooks(
                before_save=_history_before_save,
                after_save=_history_after_save,
            ),
            indexes=("id_order",),
            description="The Order histories",
        ),
        Resource(
            "order_payments",
            "order_payment",
            "OrderPayment",
            ORDER_PAYMENT_FIELDS,
            indexes=("order_reference",),
            description="The Order payments",
        ),
        Resource(
            "order_carriers",
            "order_carrier",
            "OrderCarrier",
            ORDER_CARRIER_FIELDS,
            indexes=("id_order",),
            description="The Order carriers",
        ),
        Resource(
            "order_invoices",
            "order_invoice",
            "OrderInvoice",
            ORDER_INVOICE_FIELDS,
            indexes=("id_order",),
            description="The Order invoices",
        ),
        Resource(
            "order_slip",
            "order_slip",
            "OrderSlip",
            ORDER_SLIP_FIELDS,
            (
                replace(
                    ORDER_SLIP_DETAILS, getter=slip_details, setter=_set_slip_details
                ),
            ),
            indexes=("id_order",),
            description="The Order slips",
            plural="order_slips",
        ),
        Resource(
            "cart_rules",
            "cart_rule",
            "CartRule",
            CART_RULE_FIELDS,
            hooks=Hooks(before_save=_cart_rule_before_save),
            indexes=("code",),
            description="Cart rules management",
        ),
        Resource(
            "order_cart_rules",
            "order_cart_rule",
            "OrderCartRule",
            ORDER_CART_RULE_FIELDS,
            indexes=("id_order",),
            description="The Order cart rules",
        ),
    ]


# Placing an order reloads it: its answer carries a numeric id.
RESOURCES = [
    answering_like_php(resource, new_id_as_text=resource.name != "orders")
    for resource in _resources()
]
