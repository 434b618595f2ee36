"""What happens to orders in the emulated shop: placing, state changes, refunds.

Both the webservice (POST /api/orders, POST /api/order_histories) and the
sandbox admin API go through these functions, so an order placed either way
reads back the same. The rules are those a real PrestaShop 8.1.2 showed:

- an order is placed from a cart; the amount paid is compared with the cart
  total (tax and shipping included): equal -> state 11 "Remote payment
  accepted", valid, invoiced, stock taken; different -> state 8 "Payment
  error", not valid, no invoice, stock untouched. One payment row records the
  amount paid, keyed by the order reference;
- automatic vouchers of the customer (no code) apply when the order is placed,
  after that comparison;
- a state change sets ``valid`` from the state's ``logable`` flag, creates the
  invoice (``invoice`` flag) or the delivery number (``delivery`` flag) when
  missing, records the rest to pay when the state is ``paid``, and moves stock
  when the order enters or leaves the error states (canceled, payment error).
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .errors import EmptyAnswer, WsError
from .model import Entity, Resource
from .order_math import (
    ZERO,
    Discount,
    LineInput,
    LineTotals,
    OrderTotals,
    PromotedPrice,
    Promotion,
    RefundLine,
    Voucher,
    line_totals,
    order_totals,
    promoted_price,
    shipping_cost,
    slip_totals,
    to_cents,
)
from .store import Store
from .values import to_stored

if TYPE_CHECKING:
    from .engine import Context

STATE_CANCELED = 6
STATE_PAYMENT_ERROR = 8
STATE_REMOTE_PAYMENT_ACCEPTED = 11
ERROR_STATES = frozenset({STATE_CANCELED, STATE_PAYMENT_ERROR})

# Payment modules of a fresh shop; any other name makes validation crash.
PAYMENT_MODULES = {
    "ps_checkpayment": "Payments by check",
    "ps_wirepayment": "Bank wire",
    "ps_cashondelivery": "Cash on delivery (COD)",
}

# Rates of the tax rule groups a fresh French shop holds.
TAX_RATES = {1: Decimal("20"), 2: Decimal("10"), 3: Decimal("5.5"), 4: Decimal("2.1")}

# What PHP prints when validation dies: status 500, text/html, no version.
SQL_FAILURE = "text/html; charset=utf-8"
CART_ALREADY_USED = (
    "Cart cannot be loaded or an order has already been placed using this cart"
)


# --- storage helpers ---


def resource(ctx: Context, name: str) -> Resource:
    return ctx.shop.resources[name]


def fetch(ctx: Context, name: str, entity_id: Any) -> Entity | None:
    try:
        number = int(str(entity_id))
    except ValueError:
        return None
    return ctx.store.get(resource(ctx, name), number) if number > 0 else None


def fetch_where(ctx: Context, name: str, where: str, *params: Any) -> list[Entity]:
    return ctx.store.select(resource(ctx, name), where, params, "ORDER BY id")


def insert(ctx: Context, name: str, values: dict[str, Any]) -> int:
    return insert_row(ctx.store, resource(ctx, name), values, ctx.shop.languages)


def insert_row(
    store: Store, target: Resource, values: dict[str, Any], languages: list[int]
) -> int:
    """Insert a complete row: every field not given takes its stored empty value."""
    row: Entity = {}
    for column in target.stored_fields:
        value = values.get(column.name)
        if column.ml:
            texts = value or {}
            row[column.name] = {lang: texts.get(lang, "") for lang in languages}
        else:
            row[column.name] = to_stored(column, _plain(value))
    for name in target.hidden_columns:
        if name in values:
            row[name] = values[name]
    row["_assoc"] = values.get("_assoc", {})
    if values.get("id"):
        row["id"] = values["id"]
    return store.insert(target, row)


def update(ctx: Context, name: str, entity_id: int, values: dict[str, Any]) -> None:
    target = resource(ctx, name)
    row = {
        key: to_stored(target.by_name[key], _plain(value))
        if key in target.by_name
        else value
        for key, value in values.items()
    }
    ctx.store.update(target, entity_id, row)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return int(value)
    return value


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0))


# --- cart contents ---


@dataclass(frozen=True)
class OrderLine:
    """A cart row priced: what becomes one order_detail."""

    product_id: int
    combination_id: int
    quantity: int
    name: str
    reference: str
    ean13: str
    isbn: str
    upc: str
    mpn: str
    supplier_reference: str
    weight: Decimal
    tax_rules_group: int
    tax_rate: Decimal
    # Catalogue price before tax, and what a specific price made of it.
    base_price: Decimal
    promoted: PromotedPrice
    totals: LineTotals


def priced_line(
    ctx: Context,
    product_id: int,
    combination_id: int,
    quantity: int,
    id_lang: int,
    buyer: Buyer | None = None,
) -> OrderLine:
    """One line at the price the buyer pays: catalogue price, combination
    impact and the best specific price (promotion) that applies."""
    product = fetch(ctx, "products", product_id)
    if product is None:
        raise WsError(400, (100, f"product {product_id} does not exist"))
    combination = fetch(ctx, "combinations", combination_id) if combination_id else None

    impact = money((combination or {}).get("price"))
    base_price = money(product.get("price")) + impact
    group = int(product.get("id_tax_rules_group") or 0)
    rate = TAX_RATES.get(group, ZERO)
    special = best_specific_price(
        ctx, product_id, combination_id, quantity, buyer or Buyer()
    )
    promotion = None
    if special is not None:
        promotion = _as_promotion(special, impact)
    promoted = promoted_price(base_price, promotion, rate)
    totals = line_totals(LineInput(promoted.unit_price_tax_excl, quantity, rate))

    return OrderLine(
        product_id=product_id,
        combination_id=combination_id,
        quantity=quantity,
        name=_line_name(ctx, product, combination, id_lang),
        reference=_first(combination, product, "reference"),
        ean13=_first(combination, product, "ean13"),
        isbn=_first(combination, product, "isbn"),
        upc=_first(combination, product, "upc"),
        mpn=_first(combination, product, "mpn"),
        supplier_reference=_first(combination, product, "supplier_reference"),
        weight=money(product.get("weight")) + money((combination or {}).get("weight")),
        tax_rules_group=group,
        tax_rate=rate,
        base_price=base_price,
        promoted=promoted,
        totals=totals,
    )


@dataclass(frozen=True)
class Buyer:
    """Who buys, for the specific prices restricted to a customer, a group or
    a country."""

    customer_id: int = 0
    group_id: int = 0
    country_id: int = 8


def best_specific_price(
    ctx: Context, product_id: int, combination_id: int, quantity: int, buyer: Buyer
) -> Entity | None:
    """The specific price the shop would use: the most specific one in force."""
    now = ctx.now()
    zero = "0000-00-00 00:00:00"
    candidates = fetch_where(
        ctx,
        "specific_prices",
        "id_product = ? AND id_product_attribute IN (0, ?) AND id_cart = 0 "
        "AND id_shop IN (0, 1) AND id_currency IN (0, 1) AND id_country IN (0, ?) "
        "AND id_group IN (0, ?) AND id_customer IN (0, ?) AND from_quantity <= ? "
        'AND ("from" = ? OR "from" <= ?) AND ("to" = ? OR "to" >= ?)',
        product_id,
        combination_id,
        buyer.country_id,
        buyer.group_id,
        buyer.customer_id,
        max(quantity, 1),
        zero,
        now,
        zero,
        now,
    )
    if not candidates:
        return None
    return max(candidates, key=_specificity)


def _specificity(special: Entity) -> tuple[int, ...]:
    keys = ("id_customer", "id_product_attribute", "id_group", "id_country")
    return (
        *(int(bool(special.get(key))) for key in keys),
        int(special.get("from_quantity") or 0),
        int(special["id"]),
    )


def _as_promotion(special: Entity, combination_impact: Decimal) -> Promotion:
    fixed = money(special.get("price"))
    fixed_price: Decimal | None = None
    if fixed >= ZERO:
        # A fixed price for the whole product still moves with the combination.
        targets_combination = bool(int(special.get("id_product_attribute") or 0))
        fixed_price = fixed if targets_combination else fixed + combination_impact
    return Promotion(
        fixed_price=fixed_price,
        reduction=money(special.get("reduction")),
        reduction_is_percentage=special.get("reduction_type") == "percentage",
        reduction_tax_included=bool(int(special.get("reduction_tax") or 0)),
    )


def _first(combination: Entity | None, product: Entity, name: str) -> str:
    if combination is not None and combination.get(name):
        return str(combination[name])
    return str(product.get(name) or "")


def _line_name(
    ctx: Context, product: Entity, combination: Entity | None, id_lang: int
) -> str:
    """``Name (Size: S, Colour: Blue)``: public group names and value names."""
    name = _in_language(product.get("name"), id_lang)
    if combination is None:
        return name
    parts = []
    for item in combination.get("_assoc", {}).get("product_option_values", []):
        value = fetch(ctx, "product_option_values", item.get("id"))
        if value is None:
            continue
        group = fetch(ctx, "product_options", value.get("id_attribute_group"))
        group_name = _in_language((group or {}).get("public_name"), id_lang)
        parts.append(f"{group_name}: {_in_language(value.get('name'), id_lang)}")
    return f"{name} ({', '.join(parts)})" if parts else name


def _in_language(texts: Any, id_lang: int) -> str:
    if isinstance(texts, dict):
        return str(texts.get(id_lang) or next(iter(texts.values()), ""))
    return str(texts or "")


def cart_lines(ctx: Context, cart: Entity) -> list[OrderLine]:
    id_lang = int(cart.get("id_lang") or ctx.shop.default_language)
    buyer = cart_buyer(ctx, cart)
    return [
        priced_line(
            ctx,
            int(row.get("id_product") or 0),
            int(row.get("id_product_attribute") or 0),
            int(row.get("quantity") or 0),
            id_lang,
            buyer,
        )
        for row in cart.get("_assoc", {}).get("cart_rows", [])
        if int(row.get("quantity") or 0) > 0
    ]


def cart_buyer(ctx: Context, cart: Entity) -> Buyer:
    customer = fetch(ctx, "customers", cart.get("id_customer")) or {}
    address = fetch(ctx, "addresses", cart.get("id_address_delivery")) or {}
    return Buyer(
        customer_id=int(customer.get("id") or 0),
        group_id=int(customer.get("id_default_group") or 0),
        country_id=int(address.get("id_country") or 8),
    )


# --- carriers and vouchers ---


def delivery_carrier(ctx: Context, cart: Entity, customer: Entity | None) -> int:
    """The carrier the cart's delivery option names.

    A customer without any group sees no carrier at all: the real shop then
    places the order with carrier 0.
    """
    if customer is not None and not int(customer.get("id_default_group") or 0):
        return 0
    option = str(cart.get("delivery_option") or "")
    digits = "".join(ch if ch.isdigit() else " " for ch in option.split(":", 1)[-1])
    found = digits.split()
    if found:
        return int(found[0])
    return int(cart.get("id_carrier") or 0)


def carrier_cost(ctx: Context, carrier_id: int) -> tuple[Discount, Decimal]:
    carrier = fetch(ctx, "carriers", carrier_id)
    if carrier is None:
        return Discount(ZERO, ZERO), TAX_RATES[1]
    rate = TAX_RATES.get(int(carrier.get("tax_rules_group") or 0), ZERO)
    if int(carrier.get("is_free") or 0):
        return Discount(ZERO, ZERO), rate
    return shipping_cost(money(carrier.get("shipping_price")), rate), rate


@dataclass(frozen=True)
class AppliedVoucher:
    cart_rule_id: int
    name: str
    voucher: Voucher


def as_voucher(ctx: Context, rule: Entity, id_lang: int) -> AppliedVoucher:
    return AppliedVoucher(
        cart_rule_id=int(rule["id"]),
        name=_in_language(rule.get("name"), id_lang),
        voucher=Voucher(
            percent=money(rule.get("reduction_percent")),
            amount=money(rule.get("reduction_amount")),
            amount_tax_included=bool(int(rule.get("reduction_tax") or 0)),
            free_shipping=bool(int(rule.get("free_shipping") or 0)),
        ),
    )


def automatic_vouchers(ctx: Context, customer_id: int, now: str) -> list[Entity]:
    """Active rules without a code, for everyone or for this customer, in stock."""
    return fetch_where(
        ctx,
        "cart_rules",
        "active = 1 AND (code IS NULL OR code = '') AND quantity > 0 "
        "AND (id_customer = 0 OR id_customer = ?) AND date_from <= ? AND date_to >= ?",
        customer_id,
        now,
        now,
    )


# --- placing an order ---


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
    return order_ids


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

    _add_details(ctx, order_id, package.lines, stock_taken)
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


def _add_details(
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


# --- credit slips ---


@dataclass(frozen=True)
class RefundRequest:
    order_detail_id: int
    quantity: int


def create_slip(
    ctx: Context,
    order_id: int,
    refunds: list[RefundRequest],
    *,
    refund_shipping: bool = False,
    restock: bool = False,
) -> int:
    """A credit slip for some lines (and the shipping), as the back office
    makes one: the lines' refunded quantities and amounts follow."""
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
            raise WsError(
                400, (100, f"order_detail {refund.order_detail_id} is not in the order")
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

    shipping = (
        Discount(
            money(order["total_shipping_tax_incl"]),
            money(order["total_shipping_tax_excl"]),
        )
        if refund_shipping
        else Discount(ZERO, ZERO)
    )
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
            "shipping_cost": int(refund_shipping),
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
        _add_details(ctx, order_id, lines, stock_taken, invoice_id)
    _recompute_totals(ctx, order_id)


def _change_line(
    ctx: Context, order_id: int, change: LineChange, stock_taken: bool
) -> None:
    detail = fetch(ctx, "order_details", change.order_detail_id)
    if detail is None or int(detail["id_order"]) != order_id:
        raise WsError(
            400, (100, f"order_detail {change.order_detail_id} is not in the order")
        )
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
