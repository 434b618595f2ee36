"""Which orders may be exported, and the reason given for the others."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from polaris_sync.sales.order import CreditSlip, ShopOrder, SlipLine, order_from_json
from polaris_sync.sales.rules import ExportRules, Severity, check_exportable

PAYMENTS = {"ps_checkpayment": "CHQ", "ps_wirepayment": "VIR"}
PLACED = datetime(2026, 12, 4, 17, 1, 21)


@pytest.fixture
def paid_order(recordings) -> ShopOrder:
    """Order 6 of the recordings: two sizes of a tee, shipping, paid by check."""
    return order_from_json(recordings.json("25-order-create", 22)["orders"][0])


def check(order, rules=ExportRules(payment_codes=PAYMENTS), **kwargs):
    kwargs.setdefault("now", PLACED + timedelta(hours=1))
    return check_exportable(order, rules, **kwargs)


def test_g4_a_paid_valid_order_with_a_mapped_payment_is_exportable(paid_order):
    assert paid_order.valid and paid_order.total_paid_real == Decimal("47.40")
    assert check(paid_order) is None


def test_g4_an_order_not_in_a_valid_state_is_skipped(paid_order):
    refusal = check(replace(paid_order, valid=False, current_state=8))
    assert refusal is not None and refusal.code == "not_valid"
    assert refusal.severity is Severity.SKIP
    assert "state 8" in refusal.reason


def test_g4_an_order_whose_paid_amount_differs_from_its_total_is_skipped(paid_order):
    # Scenario 28: an automatic voucher lowered the total, the payment did not.
    partly = replace(paid_order, total_paid_real=Decimal("60.00"))
    refusal = check(partly)
    assert refusal is not None and refusal.code == "paid_differs"
    assert "60.00" in refusal.reason and "47.40" in refusal.reason


def test_g4_an_order_with_nothing_left_to_ship_is_skipped(paid_order):
    slip = CreditSlip(
        slip_id=1,
        lines=tuple(
            SlipLine(line.detail_id, line.quantity, line.total_tax_incl)
            for line in paid_order.lines
        ),
        shipping_tax_incl=Decimal("0"),
    )
    refusal = check(replace(paid_order, slips=(slip,)))
    assert refusal is not None and refusal.code == "nothing_to_ship"


def test_g4_a_partly_refunded_order_still_has_something_to_ship(paid_order):
    first = paid_order.lines[0]
    slip = CreditSlip(1, (SlipLine(first.detail_id, 1, Decimal("12")),), Decimal("0"))
    assert check(replace(paid_order, slips=(slip,))) is None


def test_f9_an_unmapped_payment_without_catch_all_is_an_error(paid_order):
    rules = ExportRules(payment_codes={"ps_wirepayment": "VIR"})
    refusal = check(paid_order, rules)
    assert refusal is not None and refusal.code == "payment_not_mapped"
    assert refusal.severity is Severity.ERROR
    assert "ps_checkpayment" in refusal.reason


def test_f9_the_catch_all_row_maps_every_other_payment(paid_order):
    rules = ExportRules(payment_codes={"ps_wirepayment": "VIR", "*": "DIV"})
    assert check(paid_order, rules) is None


def test_f9_a_payment_mapped_to_ignore_is_skipped(paid_order):
    rules = ExportRules(payment_codes={"ps_checkpayment": "ignore", "*": "DIV"})
    refusal = check(paid_order, rules)
    assert refusal is not None and refusal.code == "payment_ignored"


def test_g3_an_order_older_than_the_age_limit_is_skipped(paid_order):
    rules = ExportRules(max_age_days=90, payment_codes=PAYMENTS)
    refusal = check(paid_order, rules, now=PLACED + timedelta(days=91))
    assert refusal is not None and refusal.code == "too_old"
    assert check(paid_order, rules, now=PLACED + timedelta(days=89)) is None


def test_g3_an_order_below_the_minimum_id_is_skipped(paid_order):
    rules = ExportRules(min_order_id=100, payment_codes=PAYMENTS)
    refusal = check(paid_order, rules)
    assert refusal is not None and refusal.code == "below_min_id"
    assert "100" in refusal.reason


def test_g6_a_forced_export_lifts_the_guards_but_not_validity(paid_order):
    rules = ExportRules(max_age_days=1, min_order_id=100, payment_codes=PAYMENTS)
    late = PLACED + timedelta(days=30)
    assert check(paid_order, rules, now=late, forced=True) is None

    unpaid = replace(paid_order, valid=False)
    refusal = check(unpaid, rules, now=late, forced=True)
    assert refusal is not None and refusal.code == "not_valid"


def test_an_order_in_another_currency_is_an_error(paid_order):
    refusal = check(replace(paid_order, conversion_rate=Decimal("1.0842")))
    assert refusal is not None and refusal.code == "other_currency"
    assert refusal.severity is Severity.ERROR
