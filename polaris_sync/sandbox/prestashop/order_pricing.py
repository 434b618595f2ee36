"""What a cart costs: its lines at the buyer's price, carriers and vouchers.

Prices follow a default French PrestaShop 8.1 shop: tax rule group 1 is
20 %, a specific price (promotion) replaces or reduces the catalogue price,
each carrier has one flat price taxed at its tax rule group's rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .errors import EmptyAnswer
from .model import Entity
from .order_math import (
    ZERO,
    Discount,
    LineInput,
    LineTotals,
    PromotedPrice,
    Promotion,
    Voucher,
    line_totals,
    promoted_price,
    shipping_cost,
)
from .order_rows import SQL_FAILURE, fetch, fetch_where, money

if TYPE_CHECKING:
    from .engine import Context

# Rates of the tax rule groups a fresh French shop holds.
TAX_RATES = {1: Decimal("20"), 2: Decimal("10"), 3: Decimal("5.5"), 4: Decimal("2.1")}


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
        # A cart naming a product that is gone makes the shop's PHP die.
        raise EmptyAnswer(500, SQL_FAILURE)
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
