"""Placing orders in the emulated shop, as a real PrestaShop 8.1.2 does it.

Both the webservice (POST /api/orders) and the sandbox admin API go through
:func:`place_order`, so an order placed either way reads back the same:

- an order is placed from a cart; the amount paid is compared with the cart
  total (tax and shipping included): equal -> state 11 "Remote payment
  accepted", valid, invoiced, stock taken; different -> state 8 "Payment
  error", not valid, no invoice, stock untouched. One payment row records the
  amount paid, keyed by the order reference;
- automatic vouchers of the customer (no code) apply when the order is placed,
  after that comparison.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .errors import EmptyAnswer
from .model import Entity
from .order_lifecycle import (
    ERROR_STATES,
    STATE_BACKORDER_PAID,
    STATE_BACKORDER_UNPAID,
    STATE_PAYMENT_ERROR,
    STATE_REMOTE_PAYMENT_ACCEPTED,
    add_payment,
    change_state,
    move_stock,
    stock_quantity,
)
from .order_math import ZERO, Discount, OrderTotals, order_totals, to_cents
from .order_pricing import (
    AppliedVoucher,
    OrderLine,
    as_voucher,
    automatic_vouchers,
    carrier_cost,
    cart_lines,
    delivery_carrier,
)
from .order_rows import SQL_FAILURE, fetch, fetch_where, insert, money, update

if TYPE_CHECKING:
    from .engine import Context

# Payment modules of a fresh shop; any other name makes validation crash.
PAYMENT_MODULES = {
    "ps_checkpayment": "Payments by check",
    "ps_wirepayment": "Bank wire",
    "ps_cashondelivery": "Cash on delivery (COD)",
}

CART_ALREADY_USED = (
    "Cart cannot be loaded or an order has already been placed using this cart"
)


@dataclass
class Placement:
    """Everything an order is placed with, however it arrives."""

    cart: Entity
    module: str
    payment: str
    amount_paid: Decimal
    # Vouchers the customer typed, applied before the amount is compared.
    vouchers: list[AppliedVoucher]
    state: int | None = None
    wrapping_tax_incl: Decimal = ZERO
    # One carrier per cart row splits the cart into one order per carrier,
    # all under one reference (empty: the cart's carrier for every row).
    row_carriers: list[int] = field(default_factory=list)


def check_placeable(ctx: Context, cart_id: Any, module: str) -> Entity:
    """The cart to place, or the answer the real shop gives instead."""
    cart = fetch(ctx, "carts", cart_id)
    if cart is None or fetch_where(ctx, "orders", "id_cart = ?", int(cart["id"])):
        raise EmptyAnswer(500, SQL_FAILURE, CART_ALREADY_USED)
    if not cart.get("_assoc", {}).get("cart_rows"):
        # An empty cart cannot be loaded for an order either.
        raise EmptyAnswer(500, SQL_FAILURE, CART_ALREADY_USED)
    if module not in PAYMENT_MODULES:
        raise EmptyAnswer(500, SQL_FAILURE)
    return cart


@dataclass(frozen=True)
class Quote:
    """One package of a cart (the rows one carrier takes), priced before the
    automatic vouchers."""

    lines: list[OrderLine]
    carrier_id: int
    carrier_rate: Decimal
    shipping: Discount
    wrapping: Discount
    vouchers: list[AppliedVoucher]
    totals: OrderTotals


def quote(ctx: Context, placement: Placement) -> list[Quote]:
    """The packages of the cart; chosen vouchers and wrapping go to the first."""
    cart = placement.cart
    customer = fetch(ctx, "customers", cart.get("id_customer"))
    lines = cart_lines(ctx, cart)
    default_carrier = delivery_carrier(ctx, cart, customer)
    carriers = placement.row_carriers or [default_carrier] * len(lines)
    packages: dict[int, list[OrderLine]] = {}
    for line, carrier_id in zip(lines, carriers, strict=True):
        packages.setdefault(carrier_id, []).append(line)

    quotes: list[Quote] = []
    for carrier_id, package in packages.items():
        first = not quotes
        wrapping = placement.wrapping_tax_incl if first else ZERO
        vouchers = placement.vouchers if first else []
        shipping, carrier_rate = carrier_cost(ctx, carrier_id)
        totals, _ = order_totals(
            [line.totals for line in package],
            shipping,
            Discount(wrapping, wrapping),
            [v.voucher for v in vouchers],
        )
        quotes.append(
            Quote(
                package,
                carrier_id,
                carrier_rate,
                shipping,
                Discount(wrapping, wrapping),
                vouchers,
                totals,
            )
        )
    return quotes


def expected_total(ctx: Context, placement: Placement) -> Decimal:
    """What the customer has to pay for this placement, tax included."""
    return _total(quote(ctx, placement))


def _total(quotes: list[Quote]) -> Decimal:
    return to_cents(sum((q.totals.paid_tax_incl for q in quotes), ZERO))


def place_order(
    ctx: Context, placement: Placement, order_id: int | None = None
) -> list[int]:
    """Create the orders of a cart (one per carrier) under one reference.

    ``order_id`` is given when the webservice POST has already inserted the
    row the client sees in its answer (a webservice cart is never split).
    The amount paid is compared with the total of every order, and recorded
    as one payment for the reference.
    """
    cart = placement.cart
    now = ctx.now()
    quotes = quote(ctx, placement)
    paid_in_full = to_cents(placement.amount_paid) == _total(quotes)
    state = placement.state
    if state is None:
        state = STATE_REMOTE_PAYMENT_ACCEPTED if paid_in_full else STATE_PAYMENT_ERROR
    reference = new_reference(ctx)

    order_ids = []
    for index, package in enumerate(quotes):
        vouchers = package.vouchers
        if index == 0:
            vouchers = vouchers + _automatic(ctx, cart, placement.vouchers, now)
        order_ids.append(
            _create_order(
                ctx,
                placement,
                package,
                vouchers,
                reference,
                order_id,
                stock_taken=state not in ERROR_STATES,
            )
        )
        order_id = None

    add_payment(ctx, order_ids[0], placement.amount_paid, placement.payment, now=now)
    for index, created in enumerate(order_ids):
        order = fetch(ctx, "orders", created) or {}
        # One order keeps the amount sent (even when an automatic voucher
        # lowered its total); split orders share it out when it was right.
        paid_real = placement.amount_paid if index == 0 else ZERO
        if paid_in_full and len(order_ids) > 1:
            paid_real = money(order.get("total_paid_tax_incl"))
        update(ctx, "orders", created, {"total_paid_real": paid_real})
        change_state(ctx, created, state, first=True)
        _switch_to_backorder(ctx, created, state)
    return order_ids


def _switch_to_backorder(ctx: Context, order_id: int, state_id: int) -> None:
    """A line sold beyond the stock puts the order "on backorder" right after
    its first state, paid (9) or not (12), as the real shop does."""
    details = fetch_where(ctx, "order_details", "id_order = ?", order_id)
    short = any(
        int(d["product_quantity_in_stock"]) < int(d["product_quantity"])
        for d in details
    )
    if not short:
        return
    state = fetch(ctx, "order_states", state_id) or {}
    paid = bool(int(state.get("paid") or 0))
    change_state(
        ctx, order_id, STATE_BACKORDER_PAID if paid else STATE_BACKORDER_UNPAID
    )


def _automatic(
    ctx: Context, cart: Entity, chosen: list[AppliedVoucher], now: str
) -> list[AppliedVoucher]:
    """The customer's automatic vouchers not already typed in."""
    id_lang = int(cart.get("id_lang") or ctx.shop.default_language)
    customer_id = int(cart.get("id_customer") or 0)
    typed = {v.cart_rule_id for v in chosen}
    return [
        as_voucher(ctx, rule, id_lang)
        for rule in automatic_vouchers(ctx, customer_id, now)
        if int(rule["id"]) not in typed
    ]


def _create_order(
    ctx: Context,
    placement: Placement,
    package: Quote,
    vouchers: list[AppliedVoucher],
    reference: str,
    order_id: int | None,
    stock_taken: bool,
) -> int:
    now = ctx.now()
    customer = fetch(ctx, "customers", placement.cart.get("id_customer"))
    totals, discounts = order_totals(
        [line.totals for line in package.lines],
        package.shipping,
        package.wrapping,
        [v.voucher for v in vouchers],
    )
    values = _order_values(
        ctx, placement, customer, package.carrier_id, package.carrier_rate, totals
    )
    values.update(reference=reference, date_add=now, date_upd=now)
    if order_id is None:
        order_id = insert(ctx, "orders", values)
    else:
        update(ctx, "orders", order_id, values)

    add_details(ctx, order_id, package.lines, stock_taken)
    if package.carrier_id:
        _add_order_carrier(
            ctx, order_id, package.carrier_id, package.lines, totals, now
        )
    _add_voucher_uses(ctx, order_id, vouchers, discounts)
    return order_id


def _order_values(
    ctx: Context,
    placement: Placement,
    customer: Entity | None,
    carrier_id: int,
    carrier_rate: Decimal,
    totals: OrderTotals,
) -> dict[str, Any]:
    cart = placement.cart
    return {
        "id_address_delivery": cart.get("id_address_delivery"),
        "id_address_invoice": cart.get("id_address_invoice"),
        "id_cart": cart["id"],
        "id_currency": cart.get("id_currency") or 1,
        "id_lang": cart.get("id_lang") or ctx.shop.default_language,
        "id_customer": cart.get("id_customer"),
        "id_carrier": carrier_id,
        "module": placement.module,
        "payment": placement.payment,
        "id_shop_group": 1,
        "id_shop": 1,
        "secure_key": (customer or {}).get("secure_key", ""),
        "recyclable": cart.get("recyclable") or 0,
        "gift": cart.get("gift") or 0,
        "gift_message": cart.get("gift_message") or "",
        "mobile_theme": 0,
        "total_discounts": totals.discounts_tax_incl,
        "total_discounts_tax_incl": totals.discounts_tax_incl,
        "total_discounts_tax_excl": totals.discounts_tax_excl,
        "total_paid": totals.paid_tax_incl,
        "total_paid_tax_incl": totals.paid_tax_incl,
        "total_paid_tax_excl": totals.paid_tax_excl,
        "total_products": totals.products_tax_excl,
        "total_products_wt": totals.products_tax_incl,
        "total_shipping": totals.shipping_tax_incl,
        "total_shipping_tax_incl": totals.shipping_tax_incl,
        "total_shipping_tax_excl": totals.shipping_tax_excl,
        "carrier_tax_rate": carrier_rate,
        "total_wrapping": totals.wrapping_tax_incl,
        "total_wrapping_tax_incl": totals.wrapping_tax_incl,
        "total_wrapping_tax_excl": totals.wrapping_tax_excl,
        "round_mode": 2,
        "round_type": 2,
        "conversion_rate": 1,
    }


def new_reference(ctx: Context) -> str:
    """Nine capital letters, unique in the shop."""
    while True:
        reference = "".join(random.choices(string.ascii_uppercase, k=9))
        if not fetch_where(ctx, "orders", "reference = ?", reference):
            return reference


def add_details(
    ctx: Context,
    order_id: int,
    lines: Iterable[OrderLine],
    stock_taken: bool,
    invoice_id: int = 0,
) -> None:
    for line in lines:
        in_stock = stock_quantity(ctx, line.product_id, line.combination_id)
        values = _detail_values(order_id, line, in_stock)
        values["id_order_invoice"] = invoice_id
        insert(ctx, "order_details", values)
        if stock_taken:
            move_stock(ctx, line.product_id, line.combination_id, -line.quantity)


def _detail_values(order_id: int, line: OrderLine, in_stock: int) -> dict[str, Any]:
    totals = line.totals
    return {
        "id_order": order_id,
        "product_id": line.product_id,
        "product_attribute_id": line.combination_id,
        "id_shop": 1,
        "product_name": line.name,
        "product_quantity": line.quantity,
        "product_quantity_in_stock": min(line.quantity, max(in_stock, 0)),
        "product_price": line.promoted.price_before_reduction,
        "reduction_percent": line.promoted.reduction_percent,
        "reduction_amount": line.promoted.reduction_amount_tax_incl,
        "reduction_amount_tax_incl": line.promoted.reduction_amount_tax_incl,
        "reduction_amount_tax_excl": line.promoted.reduction_amount_tax_excl,
        "product_ean13": line.ean13,
        "product_isbn": line.isbn,
        "product_upc": line.upc,
        "product_mpn": line.mpn,
        "product_reference": line.reference,
        "product_supplier_reference": line.supplier_reference,
        "product_weight": line.weight,
        "id_tax_rules_group": line.tax_rules_group,
        "unit_price_tax_incl": totals.unit_price_tax_incl,
        "unit_price_tax_excl": totals.unit_price_tax_excl,
        "total_price_tax_incl": totals.total_price_tax_incl,
        "total_price_tax_excl": totals.total_price_tax_excl,
        "original_product_price": line.base_price,
        "_assoc": {"taxes": [{"id": 1}]} if line.tax_rate else {},
    }


def _add_order_carrier(
    ctx: Context,
    order_id: int,
    carrier_id: int,
    lines: list[OrderLine],
    totals: OrderTotals,
    now: str,
) -> None:
    insert(
        ctx,
        "order_carriers",
        {
            "id_order": order_id,
            "id_carrier": carrier_id,
            "weight": sum((line.weight * line.quantity for line in lines), ZERO),
            "shipping_cost_tax_excl": totals.shipping_tax_excl,
            "shipping_cost_tax_incl": totals.shipping_tax_incl,
            "date_add": now,
        },
    )


def _add_voucher_uses(
    ctx: Context,
    order_id: int,
    vouchers: list[AppliedVoucher],
    discounts: list[Discount],
) -> None:
    for applied, discount in zip(vouchers, discounts, strict=True):
        insert(
            ctx,
            "order_cart_rules",
            {
                "id_order": order_id,
                "id_cart_rule": applied.cart_rule_id,
                "name": applied.name,
                "value": discount.tax_incl,
                "value_tax_excl": discount.tax_excl,
                "free_shipping": applied.voucher.free_shipping,
            },
        )
        rule = fetch(ctx, "cart_rules", applied.cart_rule_id)
        if rule is not None:
            left = max(0, int(rule.get("quantity") or 0) - 1)
            update(ctx, "cart_rules", applied.cart_rule_id, {"quantity": left})
