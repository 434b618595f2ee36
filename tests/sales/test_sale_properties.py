"""Sales add up to the cent whatever the order (seeded random orders)."""

import random
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from polaris_sync.sales.corrections import plan_export
from polaris_sync.sales.order import (
    CreditSlip,
    OrderLine,
    ShopOrder,
    SlipLine,
    VoucherUse,
    money,
)
from polaris_sync.sales.rules import ExportRules
from polaris_sync.sales.sale import SaleSettings

SETTINGS = SaleSettings(
    store_code=1,
    payment_codes={"ps_checkpayment": "CHQ"},
    shipping_reference="PORT",
    wrapping_reference="EMBAL",
    voucher_reference="BON",
)
RULES = ExportRules(max_age_days=0, payment_codes=SETTINGS.payment_codes)
NOW = datetime(2026, 12, 5)


def cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)) / 100


def random_order(rng: random.Random, order_id: int) -> ShopOrder:
    lines = []
    for detail_id in range(1, rng.randint(1, 5) + 1):
        quantity = rng.randint(1, 4)
        unit = cents(rng, 100, 25000)
        reduction = cents(rng, 0, 2000) if rng.random() < 0.4 else Decimal("0")
        lines.append(OrderLine(
            detail_id=detail_id, product_id=1, combination_id=100 + detail_id,
            quantity=quantity, unit_price_tax_incl=unit,
            total_tax_incl=money(unit * quantity), unit_reduction_tax_incl=reduction,
        ))
    products = sum((line.total_tax_incl for line in lines), Decimal("0"))
    shipping = rng.choice([Decimal("0"), Decimal("4.90"), cents(rng, 1, 2500)])
    wrapping = rng.choice([Decimal("0"), Decimal("2.50")])
    vouchers = tuple(
        VoucherUse(rule, f"V{rule}", cents(rng, 1, int(products * 20)))
        for rule in range(rng.choice([0, 0, 1, 2]))
    )
    discounts = sum((v.value_tax_incl for v in vouchers), Decimal("0"))
    if rng.random() < 0.2:
        discounts += Decimal("0.01")  # vouchers listed but not all deducted
    total = products + shipping + wrapping - discounts
    return ShopOrder(
        order_id=order_id, reference="R", date_add="2026-12-04 10:00:00",
        date_upd="2026-12-04 10:00:00", current_state=2, valid=True,
        module="ps_checkpayment", payment="Check", customer_id=1,
        lines=tuple(lines), total_paid_tax_incl=total, total_paid_real=total,
        total_products_tax_incl=products, total_shipping_tax_incl=shipping,
        total_wrapping_tax_incl=wrapping, total_discounts_tax_incl=discounts,
        vouchers=vouchers,
    )


def random_slip(rng: random.Random, order: ShopOrder, slip_id: int) -> CreditSlip:
    refunded = rng.sample(order.lines, rng.randint(1, len(order.lines)))
    return CreditSlip(
        slip_id=slip_id,
        lines=tuple(
            SlipLine(line.detail_id, quantity := rng.randint(1, line.quantity),
                     money(line.unit_price_tax_incl * quantity))
            for line in refunded
        ),
        shipping_tax_incl=order.total_shipping_tax_incl if rng.random() < 0.5 else 0,
        date_add="2026-12-06 09:00:00",
    )


def sku_for(line):
    return f"S{line.detail_id}"


def plan(order, record):
    return plan_export(order, record, RULES, SETTINGS, sku_for, now=NOW,
                       corrections=True)


@pytest.mark.parametrize("seed", range(60))
def test_every_sale_refund_and_cancellation_balances_to_the_cent(seed):
    rng = random.Random(seed)
    order = random_order(rng, 1000 + seed)

    first = plan(order, None)
    [(_, sale)] = first.sales
    assert sale.total == sale.paid == order.total_paid_tax_incl

    slip = random_slip(rng, order, 7)
    refunded = replace(order, slips=(slip,))
    [(_, refund)] = plan(refunded, first.record).sales
    refund_amount = sum((line.amount_tax_incl for line in slip.lines), Decimal("0"))
    assert refund.total == refund.paid == -(refund_amount + slip.shipping_tax_incl)

    after_refund = plan(refunded, first.record).record
    [(_, cancel)] = plan(replace(refunded, valid=False), after_refund).sales
    assert cancel.total == cancel.paid == -(sale.paid + refund.paid)
