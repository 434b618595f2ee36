"""An order's life after it is placed: stock, states, invoices, payments.

A state change sets ``valid`` from the state's ``logable`` flag, creates the
invoice (``invoice`` flag) or the delivery number (``delivery`` flag) when
missing, records the rest to pay when the state is ``paid``, and moves stock
when the order enters or leaves the error states (canceled, payment error),
as the real shop's state machine does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .errors import EmptyAnswer
from .model import Entity
from .order_math import ZERO
from .order_rows import SQL_FAILURE, fetch, fetch_where, insert, money, update

if TYPE_CHECKING:
    from .engine import Context

STATE_CANCELED = 6
STATE_PAYMENT_ERROR = 8
STATE_BACKORDER_PAID = 9
STATE_REMOTE_PAYMENT_ACCEPTED = 11
STATE_BACKORDER_UNPAID = 12
ERROR_STATES = frozenset({STATE_CANCELED, STATE_PAYMENT_ERROR})

# --- stock ---


def _stock_rows(ctx: Context, product_id: int, combination_id: int) -> list[Entity]:
    return fetch_where(
        ctx,
        "stock_availables",
        "id_product = ? AND id_product_attribute = ?",
        product_id,
        combination_id,
    )


def stock_quantity(ctx: Context, product_id: int, combination_id: int) -> int:
    rows = _stock_rows(ctx, product_id, combination_id)
    return int(rows[0].get("quantity") or 0) if rows else 0


def move_stock(ctx: Context, product_id: int, combination_id: int, delta: int) -> None:
    """Change a stock row; the product row of a product with combinations is
    their sum, as the real shop keeps it."""
    rows = _stock_rows(ctx, product_id, combination_id)
    if not rows:
        return
    row = rows[0]
    update(
        ctx,
        "stock_availables",
        int(row["id"]),
        {"quantity": int(row.get("quantity") or 0) + delta},
    )
    if combination_id:
        total = ctx.store.scalar(
            "SELECT COALESCE(SUM(quantity), 0) FROM ws_stock_availables "
            "WHERE id_product = ? AND id_product_attribute != 0",
            (product_id,),
        )
        for product_row in _stock_rows(ctx, product_id, 0):
            update(ctx, "stock_availables", int(product_row["id"]), {"quantity": total})


# --- states, invoices, payments ---


def change_state(
    ctx: Context,
    order_id: int,
    state_id: int,
    *,
    employee: int = 0,
    first: bool = False,
    record: bool = True,
) -> None:
    """Move an order to a state with every side effect of that state.

    ``record`` is False when the history row exists already (a webservice
    POST on order_histories inserts it itself).
    """
    order = fetch(ctx, "orders", order_id)
    new = fetch(ctx, "order_states", state_id)
    if order is None or new is None:
        raise EmptyAnswer(500, SQL_FAILURE)
    old_id = int(order.get("current_state") or 0)
    old = None if first else fetch(ctx, "order_states", old_id)
    now = ctx.now()

    if old is not None:
        _move_stock_between(ctx, order, old, new)
    changes: dict[str, Any] = {
        "current_state": state_id,
        "valid": int(new.get("logable") or 0),
        "date_upd": now,
    }
    update(ctx, "orders", order_id, changes)
    if int(new.get("invoice") or 0) and not int(order.get("invoice_number") or 0):
        create_invoice(ctx, order_id, now)
    if int(new.get("delivery") or 0) and not int(order.get("delivery_number") or 0):
        _set_delivery_number(ctx, order_id, now)
    if int(new.get("paid") or 0) and not (old and int(old.get("paid") or 0)):
        _pay_the_rest(ctx, order_id, now)
    if record:
        insert(
            ctx,
            "order_histories",
            {
                "id_employee": employee,
                "id_order_state": state_id,
                "id_order": order_id,
                "date_add": now,
            },
        )


def _move_stock_between(ctx: Context, order: Entity, old: Entity, new: Entity) -> None:
    """Stock leaves when an order leaves the error states and comes back when
    it enters them, as the real shop's state machine does."""
    old_error = int(old["id"]) in ERROR_STATES
    new_error = int(new["id"]) in ERROR_STATES
    old_logable = bool(int(old.get("logable") or 0))
    new_logable = bool(int(new.get("logable") or 0))
    if new_logable and not old_logable and old_error:
        sign = -1
    elif new_error and not old_error and not new_logable:
        sign = 1
    else:
        return
    for detail in fetch_where(ctx, "order_details", "id_order = ?", int(order["id"])):
        quantity = int(detail.get("product_quantity") or 0) - int(
            detail.get("product_quantity_refunded") or 0
        )
        move_stock(
            ctx,
            int(detail.get("product_id") or 0),
            int(detail.get("product_attribute_id") or 0),
            sign * quantity,
        )


def create_invoice(ctx: Context, order_id: int, now: str) -> int:
    order = fetch(ctx, "orders", order_id)
    assert order is not None
    number = int(
        ctx.store.scalar("SELECT COALESCE(MAX(number), 0) FROM ws_order_invoices")
    )
    invoice_id = insert(
        ctx,
        "order_invoices",
        {
            "id_order": order_id,
            "number": number + 1,
            "total_discount_tax_excl": order.get("total_discounts_tax_excl"),
            "total_discount_tax_incl": order.get("total_discounts_tax_incl"),
            "total_paid_tax_excl": order.get("total_paid_tax_excl"),
            "total_paid_tax_incl": order.get("total_paid_tax_incl"),
            "total_products": order.get("total_products"),
            "total_products_wt": order.get("total_products_wt"),
            "total_shipping_tax_excl": order.get("total_shipping_tax_excl"),
            "total_shipping_tax_incl": order.get("total_shipping_tax_incl"),
            "total_wrapping_tax_excl": order.get("total_wrapping_tax_excl"),
            "total_wrapping_tax_incl": order.get("total_wrapping_tax_incl"),
            "shop_address": "Polaris sandbox shop",
            "date_add": now,
        },
    )
    update(ctx, "orders", order_id, {"invoice_number": number + 1, "invoice_date": now})
    for name in ("order_details", "order_carriers", "order_cart_rules"):
        for row in fetch_where(ctx, name, "id_order = ?", order_id):
            update(ctx, name, int(row["id"]), {"id_order_invoice": invoice_id})
    return invoice_id


def _set_delivery_number(ctx: Context, order_id: int, now: str) -> None:
    number = int(
        ctx.store.scalar("SELECT COALESCE(MAX(delivery_number), 0) FROM ws_orders")
    )
    update(
        ctx, "orders", order_id, {"delivery_number": number + 1, "delivery_date": now}
    )
    for invoice in fetch_where(ctx, "order_invoices", "id_order = ?", order_id):
        update(
            ctx,
            "order_invoices",
            int(invoice["id"]),
            {"delivery_number": number + 1, "delivery_date": now},
        )


def paid_so_far(ctx: Context, reference: str) -> Decimal:
    payments = fetch_where(ctx, "order_payments", "order_reference = ?", reference)
    return sum((money(p.get("amount")) for p in payments), ZERO)


def _pay_the_rest(ctx: Context, order_id: int, now: str) -> None:
    order = fetch(ctx, "orders", order_id)
    assert order is not None
    rest = money(order.get("total_paid_tax_incl")) - paid_so_far(
        ctx, str(order.get("reference") or "")
    )
    if rest > ZERO:
        add_payment(ctx, order_id, rest, str(order.get("payment") or ""), now=now)
        total_real = money(order.get("total_paid_real")) + rest
        update(ctx, "orders", order_id, {"total_paid_real": total_real})


def add_payment(
    ctx: Context,
    order_id: int,
    amount: Decimal,
    method: str,
    *,
    now: str | None = None,
    transaction_id: str = "",
    card: dict[str, str] | None = None,
) -> int:
    """One payment row for the order's reference (shared by split orders)."""
    order = fetch(ctx, "orders", order_id)
    assert order is not None
    card = card or {}
    return insert(
        ctx,
        "order_payments",
        {
            "order_reference": order.get("reference"),
            "id_currency": order.get("id_currency") or 1,
            "amount": amount,
            "payment_method": method,
            "conversion_rate": 1,
            "transaction_id": transaction_id,
            "card_number": card.get("number", ""),
            "card_brand": card.get("brand", ""),
            "card_expiration": card.get("expiration", ""),
            "card_holder": card.get("holder", ""),
            "date_add": now or ctx.now(),
        },
    )
