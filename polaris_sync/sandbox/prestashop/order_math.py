"""Money arithmetic of the emulated shop: cart lines, vouchers, shipping, totals.

Pure functions over :class:`~decimal.Decimal`. They follow how a default
PrestaShop 8.1 shop computes an order: prices are rounded half-up, per line
(``round_type`` 2, "round each line"), to two decimals for totals; unit prices
keep six decimals as the database does. A voucher is a percentage of the
products or a fixed amount, never more than what it applies to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


def to_cents(amount: Decimal) -> Decimal:
    """Round to two decimals, half up, like ``Tools::ps_round`` in mode 2."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_micros(amount: Decimal) -> Decimal:
    """Round to the six decimals a DECIMAL(20,6) column keeps."""
    return amount.quantize(MICRO, rounding=ROUND_HALF_UP)


def add_tax(amount: Decimal, rate_percent: Decimal) -> Decimal:
    return amount * (HUNDRED + rate_percent) / HUNDRED


def remove_tax(amount: Decimal, rate_percent: Decimal) -> Decimal:
    return amount * HUNDRED / (HUNDRED + rate_percent)


@dataclass(frozen=True)
class LineInput:
    """One cart line: a unit price before tax, a quantity and the tax rate."""

    unit_price_tax_excl: Decimal
    quantity: int
    tax_rate: Decimal


@dataclass(frozen=True)
class LineTotals:
    unit_price_tax_excl: Decimal
    unit_price_tax_incl: Decimal
    total_price_tax_excl: Decimal
    total_price_tax_incl: Decimal


def line_totals(line: LineInput) -> LineTotals:
    """Unit prices at six decimals, line totals rounded once per line."""
    unit_excl = to_micros(line.unit_price_tax_excl)
    unit_incl = to_micros(add_tax(unit_excl, line.tax_rate))
    total_excl = to_cents(unit_excl * line.quantity)
    total_incl = to_cents(add_tax(unit_excl * line.quantity, line.tax_rate))
    return LineTotals(unit_excl, unit_incl, total_excl, total_incl)


@dataclass(frozen=True)
class Voucher:
    """What a cart rule takes off the order.

    ``percent`` applies to the products; ``amount`` is a fixed value, tax
    included when ``amount_tax_included`` (``reduction_tax`` 1), else before
    tax. ``free_shipping`` removes the shipping cost.
    """

    percent: Decimal = ZERO
    amount: Decimal = ZERO
    amount_tax_included: bool = True
    free_shipping: bool = False


@dataclass(frozen=True)
class Discount:
    tax_incl: Decimal
    tax_excl: Decimal


def voucher_discount(
    voucher: Voucher,
    products_tax_excl: Decimal,
    products_tax_incl: Decimal,
    shipping: Discount,
) -> Discount:
    """The value of one voucher on a cart, shipping included when it is free."""
    tax_incl = to_cents(products_tax_incl * voucher.percent / HUNDRED)
    tax_excl = to_cents(products_tax_excl * voucher.percent / HUNDRED)

    if voucher.amount > ZERO:
        average_rate = _average_rate(products_tax_excl, products_tax_incl)
        if voucher.amount_tax_included:
            fixed_incl = voucher.amount
            fixed_excl = remove_tax(voucher.amount, average_rate)
        else:
            fixed_excl = voucher.amount
            fixed_incl = add_tax(voucher.amount, average_rate)
        tax_incl += to_cents(min(fixed_incl, products_tax_incl - tax_incl))
        tax_excl += to_cents(min(fixed_excl, products_tax_excl - tax_excl))

    if voucher.free_shipping:
        tax_incl += shipping.tax_incl
        tax_excl += shipping.tax_excl
    return Discount(tax_incl, tax_excl)


def _average_rate(tax_excl: Decimal, tax_incl: Decimal) -> Decimal:
    if tax_excl == ZERO:
        return ZERO
    return (tax_incl - tax_excl) * HUNDRED / tax_excl


def shipping_cost(price_tax_excl: Decimal, tax_rate: Decimal) -> Discount:
    """A carrier's price before and after its tax, rounded like an order total."""
    return Discount(
        tax_incl=to_cents(add_tax(price_tax_excl, tax_rate)),
        tax_excl=to_cents(price_tax_excl),
    )


@dataclass(frozen=True)
class OrderTotals:
    products_tax_excl: Decimal
    products_tax_incl: Decimal
    shipping_tax_excl: Decimal
    shipping_tax_incl: Decimal
    wrapping_tax_excl: Decimal
    wrapping_tax_incl: Decimal
    discounts_tax_excl: Decimal
    discounts_tax_incl: Decimal

    @property
    def paid_tax_excl(self) -> Decimal:
        return max(
            ZERO,
            self.products_tax_excl
            + self.shipping_tax_excl
            + self.wrapping_tax_excl
            - self.discounts_tax_excl,
        )

    @property
    def paid_tax_incl(self) -> Decimal:
        return max(
            ZERO,
            self.products_tax_incl
            + self.shipping_tax_incl
            + self.wrapping_tax_incl
            - self.discounts_tax_incl,
        )


def order_totals(
    lines: Iterable[LineTotals],
    shipping: Discount,
    wrapping: Discount,
    vouchers: Iterable[Voucher] = (),
) -> tuple[OrderTotals, list[Discount]]:
    """Totals of a cart and the value of each voucher, in the order given.

    Vouchers apply one after the other on what the previous ones left, so two
    50 % vouchers never make an order free.
    """
    lines = list(lines)
    products_excl = sum((line.total_price_tax_excl for line in lines), ZERO)
    products_incl = sum((line.total_price_tax_incl for line in lines), ZERO)

    discounts: list[Discount] = []
    left_excl, left_incl = products_excl, products_incl
    shipping_left = shipping
    for voucher in vouchers:
        discount = voucher_discount(voucher, left_excl, left_incl, shipping_left)
        discounts.append(discount)
        shipping_part = shipping_left if voucher.free_shipping else Discount(ZERO, ZERO)
        left_excl -= discount.tax_excl - shipping_part.tax_excl
        left_incl -= discount.tax_incl - shipping_part.tax_incl
        if voucher.free_shipping:
            shipping_left = Discount(ZERO, ZERO)

    totals = OrderTotals(
        products_tax_excl=products_excl,
        products_tax_incl=products_incl,
        shipping_tax_excl=shipping.tax_excl,
        shipping_tax_incl=shipping.tax_incl,
        wrapping_tax_excl=wrapping.tax_excl,
        wrapping_tax_incl=wrapping.tax_incl,
        discounts_tax_excl=sum((d.tax_excl for d in discounts), ZERO),
        discounts_tax_incl=sum((d.tax_incl for d in discounts), ZERO),
    )
    return totals, discounts


@dataclass(frozen=True)
class RefundLine:
    """Part of an order line given back: its unit prices and the quantity."""

    unit_price_tax_excl: Decimal
    unit_price_tax_incl: Decimal
    quantity: int


@dataclass(frozen=True)
class SlipTotals:
    products_tax_excl: Decimal
    products_tax_incl: Decimal
    shipping_tax_excl: Decimal
    shipping_tax_incl: Decimal

    @property
    def amount(self) -> Decimal:
        """The products part, tax included, as a default shop displays it."""
        return self.products_tax_incl


def slip_totals(lines: Iterable[RefundLine], shipping: Discount) -> SlipTotals:
    """What a credit slip gives back: the refunded lines plus any shipping."""
    lines = list(lines)
    return SlipTotals(
        products_tax_excl=to_cents(
            sum((line.unit_price_tax_excl * line.quantity for line in lines), ZERO)
        ),
        products_tax_incl=to_cents(
            sum((line.unit_price_tax_incl * line.quantity for line in lines), ZERO)
        ),
        shipping_tax_excl=shipping.tax_excl,
        shipping_tax_incl=shipping.tax_incl,
    )


@dataclass(frozen=True)
class Promotion:
    """A specific price: a fixed price (``None`` keeps the catalogue price)
    and a reduction, either a fraction (``0.2`` = 20 %) or an amount, tax
    included when ``reduction_tax_included``."""

    fixed_price: Decimal | None
    reduction: Decimal
    reduction_is_percentage: bool
    reduction_tax_included: bool = True


@dataclass(frozen=True)
class PromotedPrice:
    price_before_reduction: Decimal
    unit_price_tax_excl: Decimal
    reduction_percent: Decimal
    reduction_amount_tax_incl: Decimal
    reduction_amount_tax_excl: Decimal


def promoted_price(
    catalogue_price: Decimal, promotion: Promotion | None, tax_rate: Decimal
) -> PromotedPrice:
    """The unit price before tax once a specific price applies, and what the
    order line records of the reduction."""
    if promotion is None:
        return PromotedPrice(catalogue_price, catalogue_price, ZERO, ZERO, ZERO)
    price = catalogue_price if promotion.fixed_price is None else promotion.fixed_price

    if promotion.reduction_is_percentage:
        unit = price * (1 - promotion.reduction)
        return PromotedPrice(
            price, max(unit, ZERO), to_cents(promotion.reduction * HUNDRED), ZERO, ZERO
        )

    if promotion.reduction_tax_included:
        amount_incl = promotion.reduction
        amount_excl = remove_tax(amount_incl, tax_rate)
    else:
        amount_excl = promotion.reduction
        amount_incl = add_tax(amount_excl, tax_rate)
    return PromotedPrice(
        price,
        max(price - amount_excl, ZERO),
        ZERO,
        to_micros(amount_incl),
        to_micros(amount_excl),
    )
