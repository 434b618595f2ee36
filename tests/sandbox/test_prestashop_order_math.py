"""Order arithmetic of the emulated shop, checked against totals a real shop gave."""

from decimal import Decimal

from polaris_sync.sandbox.prestashop.order_math import (
    Discount,
    LineInput,
    Promotion,
    RefundLine,
    Voucher,
    line_totals,
    order_totals,
    promoted_price,
    shipping_cost,
    slip_totals,
)

D = Decimal
NO_COST = Discount(D("0"), D("0"))


def test_two_lines_and_a_paid_carrier_match_the_recorded_order():
    lines = [
        line_totals(LineInput(D("10"), 2, D("20"))),
        line_totals(LineInput(D("12.5"), 1, D("20"))),
    ]

    totals, _ = order_totals(lines, shipping_cost(D("7"), D("20")), NO_COST)

    assert lines[0].unit_price_tax_incl == D("12.000000")
    assert lines[0].total_price_tax_incl == D("24.00")
    assert (totals.products_tax_excl, totals.products_tax_incl) == (
        D("32.50"),
        D("39.00"),
    )
    assert (totals.shipping_tax_excl, totals.shipping_tax_incl) == (D("7"), D("8.40"))
    assert totals.paid_tax_incl == D("47.40")
    assert totals.paid_tax_excl == D("39.50")


def test_percent_voucher_takes_ten_percent_of_products_before_and_after_tax():
    lines = [line_totals(LineInput(D("50"), 1, D("20")))]

    totals, discounts = order_totals(
        lines, NO_COST, NO_COST, [Voucher(percent=D("10"))]
    )

    assert discounts == [Discount(D("6.00"), D("5.00"))]
    assert totals.paid_tax_incl == D("54.00")
    assert totals.paid_tax_excl == D("45.00")


def test_fixed_voucher_given_tax_included_is_split_at_the_products_rate():
    lines = [line_totals(LineInput(D("50"), 1, D("20")))]

    _, discounts = order_totals(lines, NO_COST, NO_COST, [Voucher(amount=D("5"))])

    assert discounts == [Discount(D("5.00"), D("4.17"))]


def test_fixed_voucher_never_exceeds_the_products():
    lines = [line_totals(LineInput(D("10"), 1, D("20")))]

    totals, discounts = order_totals(
        lines, NO_COST, NO_COST, [Voucher(amount=D("100"))]
    )

    assert discounts[0].tax_incl == D("12.00")
    assert totals.paid_tax_incl == D("0")


def test_free_shipping_voucher_removes_the_carrier_cost_once():
    lines = [line_totals(LineInput(D("10"), 1, D("20")))]
    shipping = shipping_cost(D("7"), D("20"))

    totals, discounts = order_totals(
        lines,
        shipping,
        NO_COST,
        [Voucher(free_shipping=True), Voucher(free_shipping=True)],
    )

    assert discounts == [Discount(D("8.40"), D("7")), NO_COST]
    assert totals.paid_tax_incl == D("12.00")


def test_successive_percent_vouchers_apply_to_what_is_left():
    lines = [line_totals(LineInput(D("100"), 1, D("0")))]

    totals, _ = order_totals(
        lines, NO_COST, NO_COST, [Voucher(percent=D("50")), Voucher(percent=D("50"))]
    )

    assert totals.paid_tax_incl == D("25.00")


def test_line_rounding_happens_once_per_line_not_per_unit():
    line = line_totals(LineInput(D("10.83"), 3, D("20")))

    assert line.unit_price_tax_incl == D("12.996000")
    assert line.total_price_tax_incl == D("38.99")


def test_credit_slip_adds_refunded_lines_and_shipping():
    slip = slip_totals(
        [RefundLine(D("10"), D("12"), 2)], shipping_cost(D("7"), D("20"))
    )

    assert (slip.products_tax_excl, slip.products_tax_incl) == (D("20.00"), D("24.00"))
    assert (slip.shipping_tax_excl, slip.shipping_tax_incl) == (D("7"), D("8.40"))
    assert slip.amount == D("24.00")


def test_percentage_promotion_keeps_the_price_before_reduction():
    promoted = promoted_price(D("20"), Promotion(None, D("0.25"), True), D("20"))

    assert promoted.price_before_reduction == D("20")
    assert promoted.unit_price_tax_excl == D("15.00")
    assert promoted.reduction_percent == D("25.00")


def test_amount_promotion_given_tax_included_is_taken_before_tax():
    promoted = promoted_price(D("20"), Promotion(None, D("6"), False), D("20"))

    assert promoted.unit_price_tax_excl == D("15")
    assert promoted.reduction_amount_tax_incl == D("6.000000")
    assert promoted.reduction_amount_tax_excl == D("5.000000")


def test_fixed_promotion_price_replaces_the_catalogue_price():
    promoted = promoted_price(D("20"), Promotion(D("12"), D("0"), True), D("20"))

    assert promoted.unit_price_tax_excl == D("12")
    assert promoted.price_before_reduction == D("12")
