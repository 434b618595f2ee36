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


def _text(value: Any) -> str:
    return str(value or "")


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
        reference=_text(source.get("product_reference")),
        ean13=_text(source.get("product_ean13")),
        name=_text(source.get("product_name")),
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
        name=_text(entry.get("name")),
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
        date_add=_text(entry.get("date_add")),
    )


def customer_from_json(entry: Mapping[str, Any]) -> Customer:
    groups = (entry.get("associations") or {}).get("groups") or []
    return Customer(
        customer_id=_int(entry.get("id")),
        email=_text(entry.get("email")),
        lastname=_text(entry.get("lastname")),
        firstname=_text(entry.get("firstname")),
        is_guest=_flag(entry.get("is_guest")),
        group_ids=tuple(_int(group.get("id")) for group in groups),
        default_group_id=_int(entry.get("id_default_group")),
        date_upd=_text(entry.get("date_upd")),
    )


def address_from_json(entry: Mapping[str, Any], country_iso: str) -> Address:
    return Address(
        lastname=_text(entry.get("lastname")),
        firstname=_text(entry.get("firstname")),
        company=_text(entry.get("company")),
        address1=_text(entry.get("address1")),
        address2=_text(entry.get("address2")),
        postcode=_text(entry.get("postcode")),
        city=_text(entry.get("city")),
        country_iso=country_iso,
        phone=_text(entry.get("phone")),
        phone_mobile=_text(entry.get("phone_mobile")),
        other=_text(entry.get("other")),
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
    return ShopOrder(
        order_id=order_id,
        reference=_text(entry.get("reference")),
        date_add=_text(entry.get("date_add")),
        date_upd=_text(entry.get("date_upd")),
        current_state=_int(entry.get("current_state")),
        valid=_flag(entry.get("valid")),
        module=_text(entry.get("module")),
        payment=_text(entry.get("payment")),
        customer_id=_int(entry.get("id_customer")),
        lines=_lines(entry, _of_order(details, order_id)),
        total_paid_tax_incl=_total_tax_incl(entry, "paid"),
        total_paid_real=money(entry.get("total_paid_real")),
        total_products_tax_incl=money(entry.get("total_products_wt")),
        total_shipping_tax_incl=_total_tax_incl(entry, "shipping"),
        total_wrapping_tax_incl=_total_tax_incl(entry, "wrapping"),
        total_discounts_tax_incl=_total_tax_incl(entry, "discounts"),
        gift=_flag(entry.get("gift")),
        conversion_rate=Decimal(str(entry.get("conversion_rate") or "1")),
        vouchers=tuple(
            voucher_from_json(voucher)
            for voucher in _of_order(vouchers, order_id)
            if not _flag(voucher.get("deleted"))
        ),
        slips=tuple(slip_from_json(slip) for slip in _of_order(slips, order_id)),
        customer=customer,
        invoice_address=invoice_address,
        address_invoice_id=_int(entry.get("id_address_invoice")),
    )


def _of_order(
    entries: Iterable[Mapping[str, Any]], order_id: int
) -> list[Mapping[str, Any]]:
    """The entries of this order; one naming no order is taken as this one's."""
    return [entry for entry in entries if _int(entry.get("id_order")) in (0, order_id)]


def _lines(
    entry: Mapping[str, Any], details: list[Mapping[str, Any]]
) -> tuple[OrderLine, ...]:
    details_by_id = {_int(detail.get("id")): detail for detail in details}
    rows = (entry.get("associations") or {}).get("order_rows") or []
    if not rows:
        rows = list(details_by_id.values())
    return tuple(
        line_from_row(row, details_by_id.get(_int(row.get("id")))) for row in rows
    )


def _total_tax_incl(entry: Mapping[str, Any], name: str) -> Decimal:
    # `total_<name>` is the older field holding the same tax-included amount.
    return money(entry.get(f"total_{name}_tax_incl") or entry.get(f"total_{name}"))
