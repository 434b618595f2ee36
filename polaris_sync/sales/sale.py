"""Build the Polaris sale of a shop order (G2, G9).

A Polaris sale is a fiscal record: lines (`Details`) whose amounts add up to
its payments (`Reglements`), to the cent. Each line is `Qte` units at
`MontantTTC` (unit price before the catalogue reduction, tax included) minus
`RemiseTTC` (the line's discount, tax included), so a line is worth
`Qte * MontantTTC - RemiseTTC`. Shipping fees and gift wrapping are lines with
the references the merchant configured; vouchers are negative lines.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from polaris_sync.sales.order import (
    Address,
    Customer,
    OrderLine,
    ShopOrder,
    money,
    shop_datetime,
)
from polaris_sync.sales.rules import Refusal, Severity, payment_code

# Finds the Polaris reference (SKU) of an ordered combination; None when the
# combination is not linked to Polaris.
SkuFinder = Callable[[OrderLine], str | None]


class SaleRefused(Exception):
    """The order cannot be turned into a Polaris sale; carries the refusal."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


@dataclass(frozen=True)
class SaleSettings:
    """The merchant's sale options (G1, G2, G9)."""

    store_code: int
    payment_codes: Mapping[str, str]
    shipping_reference: str = ""
    wrapping_reference: str = ""
    voucher_reference: str = ""
    ref_prefix: str = ""
    customer_ref_prefix: str = "PS-"
    shop_timezone: str = "Europe/Paris"
    sale_type: str = "Site"


@dataclass(frozen=True)
class SaleLine:
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount

    def negated(self) -> SaleLine:
        return SaleLine(self.sku, -self.quantity, self.unit_price, -self.discount)


@dataclass(frozen=True)
class Payment:
    code: str
    amount: Decimal


@dataclass(frozen=True)
class Sale:
    """One sale as Polaris receives it."""

    ref_ext: str
    date: str
    store_code: int
    lines: tuple[SaleLine, ...]
    payments: tuple[Payment, ...]
    memo: str = ""
    client: Mapping[str, Any] | None = None
    ref_ext_origin: str | None = None
    sale_type: str = "Site"

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        return sum((payment.amount for payment in self.payments), Decimal("0.00"))

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "RefExt": self.ref_ext,
            "TypeVenteInternet": self.sale_type,
            "CodeMagasin": self.store_code,
            "DateVente": self.date,
            "Memo": self.memo,
            "Details": [_line_payload(line) for line in self.lines],
            "Reglements": [
                {"Code": payment.code, "Montant": float(payment.amount)}
                for payment in self.payments
            ],
        }
        if self.client is not None:
            payload["Client"] = dict(self.client)
        if self.ref_ext_origin is not None:
            payload["RefExtOrigine"] = self.ref_ext_origin
        return payload


def _line_payload(line: SaleLine) -> dict[str, Any]:
    return {
        "SKU": line.sku,
        "Qte": line.quantity,
        "MontantTTC": float(line.unit_price),
        "RemiseTTC": float(line.discount),
        "TypeRemise": "Montant",
    }


def sale_from_payload(payload: Mapping[str, Any]) -> Sale:
    """The `Sale` a payload was made from (the journal keeps payloads)."""
    return Sale(
        ref_ext=payload["RefExt"],
        date=payload["DateVente"],
        store_code=payload["CodeMagasin"],
        lines=tuple(
            SaleLine(
                detail["SKU"],
                detail["Qte"],
                money(detail["MontantTTC"]),
                money(detail["RemiseTTC"]),
            )
            for detail in payload["Details"]
        ),
        payments=tuple(
            Payment(payment["Code"], money(payment["Montant"]))
            for payment in payload["Reglements"]
        ),
        memo=payload.get("Memo", ""),
        client=payload.get("Client"),
        ref_ext_origin=payload.get("RefExtOrigine"),
        sale_type=payload.get("TypeVenteInternet", "Site"),
    )


def sale_ref(order: ShopOrder, settings: SaleSettings, version: int = 1) -> str:
    """RefExt of an order's sale: its id, then `-<version>` for re-entered ones."""
    base = f"{settings.ref_prefix}{order.order_id}"
    return base if version == 1 else f"{base}-{version}"


def utc_iso(shop_time: str, timezone: str) -> str:
    """A shop local date-time as ISO-8601 UTC (`2026-12-04T16:01:21Z`)."""
    local = shop_datetime(shop_time).replace(tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_sale(
    order: ShopOrder,
    settings: SaleSettings,
    sku_for: SkuFinder,
    *,
    version: int = 1,
    client: Mapping[str, Any] | None = None,
) -> Sale:
    """The Polaris sale of `order`; raises SaleRefused when it cannot be built."""
    lines = (
        [_product_line(order, line, sku_for) for line in order.lines]
        + _fee_lines(order, settings)
        + _voucher_lines(order, settings)
    )
    total = sum((line.total for line in lines), Decimal("0.00"))
    if total != order.total_paid_tax_incl:
        raise SaleRefused(
            Refusal(
                "amounts_differ",
                f"order {order.order_id}: its lines add up to {total}, not to its "
                f"total {order.total_paid_tax_incl}",
                Severity.ERROR,
            )
        )

    return Sale(
        ref_ext=sale_ref(order, settings, version),
        date=utc_iso(order.date_add, settings.shop_timezone),
        store_code=settings.store_code,
        lines=tuple(lines),
        payments=(Payment(_payment_code(order, settings), total),),
        memo=f"PrestaShop order {order.reference} (id {order.order_id})",
        client=client,
        sale_type=settings.sale_type,
    )


def _payment_code(order: ShopOrder, settings: SaleSettings) -> str:
    code = payment_code(order.module, settings.payment_codes)
    if code is None:
        raise SaleRefused(
            Refusal(
                "payment_not_mapped",
                f"order {order.order_id}: payment module '{order.module}' has no "
                f"Polaris payment code and there is no catch-all '*' row",
                Severity.ERROR,
            )
        )
    return code


def _product_line(order: ShopOrder, line: OrderLine, sku_for: SkuFinder) -> SaleLine:
    sku = sku_for(line)
    if not sku:
        raise SaleRefused(
            Refusal(
                "product_not_linked",
                f"order {order.order_id}: '{line.name}' (product {line.product_id}, "
                f"combination {line.combination_id}) is not linked to Polaris",
                Severity.ERROR,
            )
        )
    unit_price = line.unit_price_tax_incl + line.unit_reduction_tax_incl
    discount = line.quantity * unit_price - line.total_tax_incl
    return SaleLine(sku, line.quantity, unit_price, discount)


def _fee_lines(order: ShopOrder, settings: SaleSettings) -> list[SaleLine]:
    fees = [
        ("shipping", order.total_shipping_tax_incl, settings.shipping_reference),
        ("wrapping", order.total_wrapping_tax_incl, settings.wrapping_reference),
    ]
    return [
        SaleLine(_configured(order, what, reference), 1, amount)
        for what, amount, reference in fees
        if amount != 0
    ]


def _voucher_lines(order: ShopOrder, settings: SaleSettings) -> list[SaleLine]:
    """Vouchers as negative lines (G9).

    One line per voucher when their values add up to the order's discount
    total; PrestaShop can list vouchers that were never deducted (attached
    after the order was placed), so otherwise one line carries the total.
    """
    discount = order.total_discounts_tax_incl
    if discount == 0:
        return []
    reference = _configured(order, "voucher", settings.voucher_reference)
    used = sum((voucher.value_tax_incl for voucher in order.vouchers), Decimal("0"))
    if order.vouchers and used == discount:
        return [
            SaleLine(reference, 1, -voucher.value_tax_incl)
            for voucher in order.vouchers
            if voucher.value_tax_incl != 0
        ]
    return [SaleLine(reference, 1, -discount)]


def _configured(order: ShopOrder, what: str, reference: str) -> str:
    if not reference:
        raise SaleRefused(
            Refusal(
                "reference_missing",
                f"order {order.order_id} has a {what} amount but no Polaris "
                f"reference is configured for {what} lines: set "
                f"[orders] {what}_reference in the configuration",
                Severity.ERROR,
            )
        )
    return reference


def client_of(
    customer: Customer, address: Address | None, settings: SaleSettings
) -> dict[str, Any]:
    """The sale's or the customer export's `Client` block (G1, G10)."""
    client: dict[str, Any] = {
        "Nom": customer.lastname,
        "Prenom": customer.firstname,
        "Mail": customer.email,
        "RefsExt": [f"{settings.customer_ref_prefix}{customer.customer_id}"],
    }
    if address is not None:
        client["Telephone"] = {"Numero": address.phone}
        client["Mobile"] = {"Numero": address.phone_mobile}
        client["Adresse"] = {
            "Nom": f"{address.firstname} {address.lastname}".strip(),
            "RaisonSociale": address.company,
            "Adresse1": address.address1,
            "Adresse2": address.address2,
            "Adresse3": "",
            "CodePostal": address.postcode,
            "Ville": address.city,
            "Memo": address.other,
        }
        # Polaris refuses anything but two capital letters here, blank included.
        if address.country_iso:
            client["Adresse"]["CodePays"] = address.country_iso.upper()
    return client


def content_fingerprint(order: ShopOrder) -> str:
    """What a sale is built from; a change after export is a modification (G8).

    Refunds are left out on purpose: a credit slip is a correction of its own.
    """
    content = {
        "lines": [
            [line.detail_id, line.combination_id, line.quantity,
             str(line.unit_price_tax_incl), str(line.total_tax_incl)]
            for line in sorted(order.lines, key=lambda line: line.detail_id)
        ],
        "shipping": str(order.total_shipping_tax_incl),
        "wrapping": str(order.total_wrapping_tax_incl),
        "discounts": str(order.total_discounts_tax_incl),
        "total": str(order.total_paid_tax_incl),
        "module": order.module,
    }
    encoded = json.dumps(content, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]
