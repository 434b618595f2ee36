"""What the back office does to an order afterwards: credit slips, line edits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .checkout import add_details
from .model import Entity
from .order_lifecycle import ERROR_STATES, move_stock
from .order_math import (
    ZERO,
    Discount,
    RefundLine,
    remove_tax,
    slip_totals,
    to_cents,
)
from .order_pricing import cart_buyer, priced_line
from .order_rows import fetch, fetch_where, insert, money, resource, update

if TYPE_CHECKING:
    from .engine import Context


class UnknownLine(LookupError):
    """An order_detail id that is not a line of the order being changed."""


@dataclass(frozen=True)
class RefundRequest:
    order_detail_id: int
    quantity: int


def create_slip(
    ctx: Context,
    order_id: int,
    refunds: list[RefundRequest],
    *,
    shipping_tax_incl: Decimal = ZERO,
    restock: bool = False,
) -> int:
    """A credit slip for some lines and/or part of the shipping (an amount
    tax included, at most what was paid for it), as the back office makes
    one: the lines' refunded quantities and amounts follow."""
    order = fetch(ctx, "orders", order_id)
    assert order is not None
    now = ctx.now()
    details = {
        int(d["id"]): d
        for d in fetch_where(ctx, "order_details", "id_order = ?", order_id)
    }
    lines, slip_details = [], []
    for refund in refunds:
        detail = details.get(refund.order_detail_id)
        if detail is None:
            raise UnknownLine(
                f"order_detail {refund.order_detail_id} is not in the order"
            )
        left = int(detail["product_quantity"]) - int(
            detail["product_quantity_refunded"] or 0
        )
        quantity = min(refund.quantity, left)
        if quantity <= 0:
            continue
        line = RefundLine(
            money(detail["unit_price_tax_excl"]),
            money(detail["unit_price_tax_incl"]),
            quantity,
        )
        lines.append(line)
        slip_details.append((detail, line))

    shipping = _shipping_refund(order, shipping_tax_incl)
    totals = slip_totals(lines, shipping)
    slip_id = insert(
        ctx,
        "order_slip",
        {
            "id_customer": order["id_customer"],
            "id_order": order_id,
            "conversion_rate": 1,
            "total_products_tax_excl": totals.products_tax_excl,
            "total_products_tax_incl": totals.products_tax_incl,
            "total_shipping_tax_excl": totals.shipping_tax_excl,
            "total_shipping_tax_incl": totals.shipping_tax_incl,
            "amount": totals.amount,
            "shipping_cost": int(shipping.tax_incl > ZERO),
            "shipping_cost_amount": totals.shipping_tax_incl,
            "partial": 0,
            "order_slip_type": 0,
            "date_add": now,
            "date_upd": now,
            "_assoc": {
                "order_slip_details": [_slip_item(d, line) for d, line in slip_details]
            },
        },
    )
    for detail, line in slip_details:
        _mark_refunded(ctx, detail, line, restock)
    update(ctx, "orders", order_id, {"date_upd": now})
    return slip_id


def _shipping_refund(order: Entity, wanted_tax_incl: Decimal) -> Discount:
    paid_incl = money(order["total_shipping_tax_incl"])
    if wanted_tax_incl <= ZERO or paid_incl <= ZERO:
        return Discount(ZERO, ZERO)
    if wanted_tax_incl >= paid_incl:
        return Discount(paid_incl, money(order["total_shipping_tax_excl"]))
    rate = money(order["carrier_tax_rate"])
    return Discount(wanted_tax_incl, to_cents(remove_tax(wanted_tax_incl, rate)))


def _slip_item(detail: Entity, line: RefundLine) -> dict[str, Any]:
    return {
        "id": 0,
        "id_order_detail": int(detail["id"]),
        "product_quantity": line.quantity,
        "amount_tax_excl": f"{to_cents(line.unit_price_tax_excl * line.quantity):.6f}",
        "amount_tax_incl": f"{to_cents(line.unit_price_tax_incl * line.quantity):.6f}",
    }


def _mark_refunded(
    ctx: Context, detail: Entity, line: RefundLine, restock: bool
) -> None:
    changes: dict[str, Any] = {
        "product_quantity_refunded": int(detail["product_quantity_refunded"] or 0)
        + line.quantity,
        "total_refunded_tax_excl": money(detail["total_refunded_tax_excl"])
        + to_cents(line.unit_price_tax_excl * line.quantity),
        "total_refunded_tax_incl": money(detail["total_refunded_tax_incl"])
        + to_cents(line.unit_price_tax_incl * line.quantity),
    }
    if restock:
        changes["product_quantity_reinjected"] = (
            int(detail["product_quantity_reinjected"] or 0) + line.quantity
        )
        move_stock(
            ctx,
            int(detail["product_id"]),
            int(detail["product_attribute_id"]),
            line.quantity,
        )
    update(ctx, "order_details", int(detail["id"]), changes)


# --- editing lines ---


@dataclass(frozen=True)
class LineChange:
    order_detail_id: int
    quantity: int


@dataclass(frozen=True)
class LineAddition:
    product_id: int
    combination_id: int
    quantity: int


def edit_lines(
    ctx: Context,
    order_id: int,
    changes: list[LineChange],
    additions: list[LineAddition],
) -> None:
    """Change quantities, remove lines (quantity 0) or add products, as the
    back office does: stock, totals and the invoice follow."""
    order = fetch(ctx, "orders", order_id)
    assert order is not None
    stock_taken = int(order.get("current_state") or 0) not in ERROR_STATES
    for change in changes:
        _change_line(ctx, order_id, change, stock_taken)
    if additions:
        id_lang = int(order.get("id_lang") or ctx.shop.default_language)
        buyer = cart_buyer(ctx, fetch(ctx, "carts", order.get("id_cart")) or {})
        invoices = fetch_where(ctx, "order_invoices", "id_order = ?", order_id)
        lines = [
            priced_line(ctx, a.product_id, a.combination_id, a.quantity, id_lang, buyer)
            for a in additions
        ]
        invoice_id = int(invoices[0]["id"]) if invoices else 0
        add_details(ctx, order_id, lines, stock_taken, invoice_id)
    _recompute_totals(ctx, order_id)


def _change_line(
    ctx: Context, order_id: int, change: LineChange, stock_taken: bool
) -> None:
    detail = fetch(ctx, "order_details", change.order_detail_id)
    if detail is None or int(detail["id_order"]) != order_id:
        raise UnknownLine(f"order_detail {change.order_detail_id} is not in the order")
    delta = max(change.quantity, 0) - int(detail["product_quantity"])
    if stock_taken and delta:
        move_stock(
            ctx,
            int(detail["product_id"]),
            int(detail["product_attribute_id"]),
            -delta,
        )
    if change.quantity <= 0:
        ctx.store.delete(resource(ctx, "order_details"), int(detail["id"]))
        return
    unit_excl = money(detail["unit_price_tax_excl"])
    unit_incl = money(detail["unit_price_tax_incl"])
    update(
        ctx,
        "order_details",
        int(detail["id"]),
        {
            "product_quantity": change.quantity,
            "total_price_tax_excl": to_cents(unit_excl * change.quantity),
            "total_price_tax_incl": to_cents(unit_incl * change.quantity),
        },
    )


def _recompute_totals(ctx: Context, order_id: int) -> None:
    order = fetch(ctx, "orders", order_id)
    assert order is not None
    details = fetch_where(ctx, "order_details", "id_order = ?", order_id)
    products_excl = sum((money(d["total_price_tax_excl"]) for d in details), ZERO)
    products_incl = sum((money(d["total_price_tax_incl"]) for d in details), ZERO)
    fixed_excl = money(order["total_shipping_tax_excl"]) + money(
        order["total_wrapping_tax_excl"]
    )
    fixed_incl = money(order["total_shipping_tax_incl"]) + money(
        order["total_wrapping_tax_incl"]
    )
    paid_excl = max(
        ZERO, products_excl + fixed_excl - money(order["total_discounts_tax_excl"])
    )
    paid_incl = max(
        ZERO, products_incl + fixed_incl - money(order["total_discounts_tax_incl"])
    )
    update(
        ctx,
        "orders",
        order_id,
        {
            "total_products": products_excl,
            "total_products_wt": products_incl,
            "total_paid": paid_incl,
            "total_paid_tax_incl": paid_incl,
            "total_paid_tax_excl": paid_excl,
            "date_upd": ctx.now(),
        },
    )
    for invoice in fetch_where(ctx, "order_invoices", "id_order = ?", order_id):
        update(
            ctx,
            "order_invoices",
            int(invoice["id"]),
            {
                "total_products": products_excl,
                "total_products_wt": products_incl,
                "total_paid_tax_excl": paid_excl,
                "total_paid_tax_incl": paid_incl,
            },
        )
