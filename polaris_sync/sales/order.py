"""A shop order as the export needs it, read from the PrestaShop Webservice.

The Webservice answers JSON where decimals are strings ("12.000000"), ids are
integers, and empty or zero fields are often left out. The readers below turn
those answers into plain frozen records with `Decimal` amounts, so the rest of
the export never meets a raw answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")

# PrestaShop writes this for a date that was never set (delivery_date...).
NO_DATE = "0000-00-00 00:00:00"


def money(value: Any) -> Decimal:
    """An amount rounded to the cent, half away from zero like PrestaShop."""
    if value in (None, ""):
        return Decimal("0.00")
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def shop_datetime(value: str) -> datetime:
    """A PrestaShop date-time (`2026-12-04 17:01:21`, shop local time, naive)."""
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class OrderLine:
    """One ordered combination (an `order_detail` row)."""

    detail_id: int
    product_id: int
    combination_id: int
    quantity: int
    unit_price_tax_incl: Decimal
    total_tax_incl: Decimal
    unit_reduction_tax_incl: Decimal = Decimal("0.00")
    reference: str = ""
    ean13: str = ""
    name: str = ""


@dataclass(frozen=True)
class VoucherUse:
    """A cart rule (voucher) used on the order, tax included."""

    cart_rule_id: int
    name: str
    value_tax_incl: Decimal


@dataclass(frozen=True)
class SlipLine:
    detail_id: int
    quantity: int
    amount_tax_incl: Decimal


@dataclass(frozen=True)
class CreditSlip:
    """A credit slip (refund) issued on the order."""

    slip_id: int
    lines: tuple[SlipLine, ...]
    shipping_tax_incl: Decimal
    date_add: str = ""


@dataclass(frozen=True)
class Address:
    lastname: str = ""
    firstname: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    postcode: str = ""
    city: str = ""
    country_iso: str = ""
    phone: str = ""
    phone_mobile: str = ""
    other: str = ""


@dataclass(frozen=True)
class Customer:
    customer_id: int
    email: str
    lastname: str
    firstname: str
    is_guest: bool = False
    group_ids: tuple[int, ...] = ()
    default_group_id: int = 0
    date_upd: str = ""


@dataclass(frozen=True)
class ShopOrder:
    """Everything the export reads about one order."""

    order_id: int
    reference: str
    date_add: str
    date_upd: str
    current_state: int
    valid: bool
    module: str
    payment: str
    customer_id: int
    lines: tuple[OrderLine, ...]
    total_paid_tax_incl: Decimal
    total_paid_real: Decimal
    total_products_tax_incl: Decimal
    total_shipping_tax_incl: Decimal
    total_wrapping_tax_incl: Decimal
    total_discounts_tax_incl: Decimal
    gift: bool = False
    # Shop currency units per order currency unit; 1 for the shop's currency.
    conversion_rate: Decimal = Decimal("1")
    vouchers: tuple[VoucherUse, ...] = ()
    slips: tuple[CreditSlip, ...] = ()
    customer: Customer | None = None
    invoice_address: Address | None = None
    address_invoice_id: int = 0

    def refunded_quantity(self, detail_id: int) -> int:
        return sum(
            line.quantity
            for slip in self.slips
            for line in slip.lines
            if line.detail_id == detail_id
        )

    def quantity_left_to_ship(self) -> int:
        return sum(
            max(line.quantity - self.refunded_quantity(line.detail_id), 0)
            for line in self.lines
        )


def _int(value: Any) -> int:
    if value in (None, ""):
        return 0
    return int(value)


def _flag(value: Any) -> bool:
    return str(value or "0") not in ("0", "", "false")


def line_from_row(
    row: Mapping[str, Any], detail: Mapping[str, Any] | None
) -> OrderLine:
    """An order line from an `order_rows` entry, completed by its `order_detail`.

    The order row alone lacks the line total and the reduction; the detail,
    when read, carries both. Without it the line total is the unit price times
    the quantity, which is what PrestaShop stores when rounding per line.
    """
    source = detail or row
    quantity = _int(source.get("product_quantity"))
    unit_price = money(source.get("unit_price_tax_incl"))
    total = (
        money(detail.get("total_price_tax_incl"))
        if detail is not None
        else money(unit_price * quantity)
    )
    return OrderLine(
        detail_id=_int(row.get("id") or source.get("id")),
        product_id=_int(source.get("product_id")),
        combination_id=_int(source.get("product_attribute_id")),
        quantity=quantity,
        unit_price_tax_incl=unit_price,
        total_tax_incl=total,
        unit_reduction_tax_incl=_unit_reduction(detail, unit_price),
        reference=str(source.get("product_reference") or ""),
        ean13=str(source.get("product_ean13") or ""),
        name=str(source.get("product_name") or ""),
    )


def _unit_reduction(detail: Mapping[str, Any] | None, unit_price: Decimal) -> Decimal:
    """The catalogue reduction granted on one unit, tax included."""
    if detail is None:
        return Decimal("0.00")
    amount = money(detail.get("reduction_amount_tax_incl"))
    if amount > 0:
        return amount
    percent = Decimal(str(detail.get("reduction_percent") or "0"))
    if 0 < percent < 100:
        before = money(unit_price / (1 - percent / 100))
        return before - unit_price
    return Decimal("0.00")


def voucher_from_json(entry: Mapping[str, Any]) -> VoucherUse:
    return VoucherUse(
        cart_rule_id=_int(entry.get("id_cart_rule")),
        name=str(entry.get("name") or ""),
        value_tax_incl=money(entry.get("value")),
    )


def slip_from_json(entry: Mapping[str, Any]) -> CreditSlip:
    """A credit slip from `order_slip` (display=full, with its details)."""
    details = (entry.get("associations") or {}).get("order_slip_details") or []
    lines = tuple(
        SlipLine(
            detail_id=_int(detail.get("id_order_detail")),
            quantity=_int(detail.get("product_quantity")),
            amount_tax_incl=money(detail.get("amount_tax_incl")),
        )
        for detail in details
    )
    shipping = money(entry.get("total_shipping_tax_incl"))
    if shipping == 0 and _flag(entry.get("shipping_cost")):
        shipping = money(entry.get("shipping_cost_amount"))
    return CreditSlip(
        slip_id=_int(entry.get("id")),
        lines=lines,
        shipping_tax_incl=shipping,
        date_add=str(entry.get("date_add") or ""),
    )


def customer_from_json(entry: Mapping[str, Any]) -> Customer:
    groups = (entry.get("associations") or {}).get("groups") or []
    return Customer(
        customer_id=_int(entry.get("id")),
        email=str(entry.get("email") or ""),
        lastname=str(entry.get("lastname") or ""),
        firstname=str(entry.get("firstname") or ""),
        is_guest=_flag(entry.get("is_guest")),
        group_ids=tuple(_int(group.get("id")) for group in groups),
        default_group_id=_int(entry.get("id_default_group")),
        date_upd=str(entry.get("date_upd") or ""),
    )


def address_from_json(entry: Mapping[str, Any], country_iso: str) -> Address:
    return Address(
        lastname=str(entry.get("lastname") or ""),
        firstname=str(entry.get("firstname") or ""),
        company=str(entry.get("company") or ""),
        address1=str(entry.get("address1") or ""),
        address2=str(entry.get("address2") or ""),
        postcode=str(entry.get("postcode") or ""),
        city=str(entry.get("city") or ""),
        country_iso=country_iso,
        phone=str(entry.get("phone") or ""),
        phone_mobile=str(entry.get("phone_mobile") or ""),
        other=str(entry.get("other") or ""),
    )


def order_from_json(
    entry: Mapping[str, Any],
    *,
    details: Iterable[Mapping[str, Any]] = (),
    vouchers: Iterable[Mapping[str, Any]] = (),
    slips: Iterable[Mapping[str, Any]] = (),
    customer: Customer | None = None,
    invoice_address: Address | None = None,
) -> ShopOrder:
    """A `ShopOrder` from an `orders` entry read with `display=full`.

    `details`, `vouchers` and `slips` are this order's `order_details`,
    `order_cart_rules` and `order_slip` entries (other orders' are ignored).
    """
    order_id = _int(entry.get("id"))
    details_by_id = {
        _int(detail.get("id")): detail
        for detail in details
        if _int(detail.get("id_order")) in (0, order_id)
    }
    rows = (entry.get("associations") or {}).get("order_rows") or []
    if not rows:
        rows = list(details_by_id.values())
    lines = tuple(
        line_from_row(row, details_by_id.get(_int(row.get("id")))) for row in rows
    )
    return ShopOrder(
        order_id=order_id,
        reference=str(entry.get("reference") or ""),
        date_add=str(entry.get("date_add") or ""),
        date_upd=str(entry.get("date_upd") or ""),
        current_state=_int(entry.get("current_state")),
        valid=_flag(entry.get("valid")),
        module=str(entry.get("module") or ""),
        payment=str(entry.get("payment") or ""),
        customer_id=_int(entry.get("id_customer")),
        lines=lines,
        total_paid_tax_incl=money(
            entry.get("total_paid_tax_incl") or entry.get("total_paid")
        ),
        total_paid_real=money(entry.get("total_paid_real")),
        total_products_tax_incl=money(entry.get("total_products_wt")),
        total_shipping_tax_incl=money(
            entry.get("total_shipping_tax_incl") or entry.get("total_shipping")
        ),
        total_wrapping_tax_incl=money(
            entry.get("total_wrapping_tax_incl") or entry.get("total_wrapping")
        ),
        total_discounts_tax_incl=money(
            entry.get("total_discounts_tax_incl") or entry.get("total_discounts")
        ),
        gift=_flag(entry.get("gift")),
        conversion_rate=Decimal(str(entry.get("conversion_rate") or "1")),
        vouchers=tuple(
            voucher_from_json(voucher)
            for voucher in vouchers
            if _int(voucher.get("id_order")) in (0, order_id)
            and not _flag(voucher.get("deleted"))
        ),
        slips=tuple(
            slip_from_json(slip)
            for slip in slips
            if _int(slip.get("id_order")) in (0, order_id)
        ),
        customer=customer,
        invoice_address=invoice_address,
        address_invoice_id=_int(entry.get("id_address_invoice")),
    )
