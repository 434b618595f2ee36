"""Refunds, cancellations and modifications after the first export (G5, G8)."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from polaris_sync.sales.corrections import (
    can_do_without,
    plan_export,
    record_joined,
    record_without,
)
from polaris_sync.sales.order import CreditSlip, SlipLine, order_from_json
from polaris_sync.sales.rules import ExportRules
from polaris_sync.sales.sale import SaleSettings

SKUS = {40: "SKU-S", 41: "SKU-M"}
SETTINGS = SaleSettings(
    store_code=1,
    payment_codes={"ps_checkpayment": "CHQ"},
    shipping_reference="FRAISPORT",
)
RULES = ExportRules(payment_codes={"ps_checkpayment": "CHQ"})
NOW = datetime(2026, 12, 5, 9, 0, 0)


def sku_for(line):
    return SKUS.get(line.combination_id)


def plan(order, record, corrections=True):
    result = plan_export(order, record, RULES, SETTINGS, sku_for, now=NOW,
                         corrections=corrections)
    for _, sale in result.sales:
        assert sale.total == sale.paid, sale.ref_ext
    return result


@pytest.fixture
def order(recordings):
    return order_from_json(recordings.json("25-order-create", 22)["orders"][0])


@pytest.fixture
def exported(order):
    first = plan(order, None)
    assert [sale.ref_ext for _, sale in first.sales] == ["6"]
    return first.record


def refund_slip(order, slip_id=3, quantity=1, shipping="8.40"):
    small = order.lines[0]
    return CreditSlip(
        slip_id=slip_id,
        lines=(SlipLine(small.detail_id, quantity, Decimal("12.00") * quantity),),
        shipping_tax_incl=Decimal(shipping),
        date_add="2026-12-05 10:00:00",
    )


def one_line_less(order):
    """The order edited in the back office: a line removed, the amount paid
    left as it was."""
    return replace(
        order,
        lines=order.lines[:1],
        total_paid_tax_incl=Decimal("32.40"),
        date_upd="2026-12-06 11:00:00",
    )


def test_an_unchanged_exported_order_plans_nothing(order, exported):
    assert plan(order, exported).is_empty


def test_g8_a_credit_slip_is_sent_as_a_refund_with_negative_quantities(
    order, exported
):
    refunded = replace(order, slips=(refund_slip(order),))
    result = plan(refunded, exported)

    [(kind, refund)] = result.sales
    assert kind == "refund" and refund.ref_ext == "6-R3"
    assert refund.ref_ext_origin == "6"
    assert [(line.sku, line.quantity, line.total) for line in refund.lines] == [
        ("SKU-S", -1, Decimal("-12.00")),
        ("FRAISPORT", -1, Decimal("-8.40")),
    ]
    assert refund.paid == Decimal("-20.40") and refund.date == "2026-12-05T09:00:00Z"
    assert plan(refunded, result.record).is_empty


def test_g8_a_cancellation_negates_the_whole_sale(order, exported):
    cancelled = replace(order, valid=False, current_state=6,
                        date_upd="2026-12-06 11:00:00")
    result = plan(cancelled, exported)

    [(kind, cancel)] = result.sales
    assert kind == "cancellation" and cancel.ref_ext == "6-A1"
    assert cancel.ref_ext_origin == "6"
    assert [(line.sku, line.quantity) for line in cancel.lines] == [
        ("SKU-S", -2), ("SKU-M", -1), ("FRAISPORT", -1),
    ]
    assert cancel.paid == Decimal("-47.40")
    assert [(p.code, p.amount) for p in cancel.payments] == [("CHQ", Decimal("-47.40"))]
    # Nothing is sent for a full cancellation, and nothing twice.
    assert plan(cancelled, result.record).is_empty


def test_g8_a_cancellation_after_a_refund_reverses_only_what_is_left(order, exported):
    refunded = replace(order, slips=(refund_slip(order),))
    after_refund = plan(refunded, exported).record
    cancelled = replace(refunded, valid=False)

    [(_, cancel)] = plan(cancelled, after_refund).sales
    assert cancel.paid == Decimal("-27.00")


def test_g8_a_modification_cancels_then_sends_the_new_version(order, exported):
    fewer = one_line_less(order)
    result = plan(fewer, exported)

    assert [(kind, sale.ref_ext) for kind, sale in result.sales] == [
        ("cancellation", "6-A1"),
        ("sale", "6-2"),
    ]
    assert result.sales[0][1].paid == Decimal("-47.40")
    assert result.sales[1][1].paid == Decimal("32.40")
    assert plan(fewer, result.record).is_empty

    # A later cancellation cancels the version Polaris now has.
    [(_, cancel)] = plan(replace(fewer, valid=False), result.record).sales
    assert (cancel.ref_ext, cancel.ref_ext_origin) == ("6-A2", "6-2")
    assert cancel.paid == Decimal("-32.40")


def test_g5_with_corrections_off_only_the_first_sale_is_sent(order, exported):
    refunded = replace(order, slips=(refund_slip(order),))
    assert plan(refunded, exported, corrections=False).is_empty
    assert plan(replace(order, valid=False), exported, corrections=False).is_empty


def test_a_cancelled_order_made_valid_again_is_sent_as_a_new_version(
    order, exported
):
    cancelled = plan(replace(order, valid=False), exported).record
    result = plan(order, cancelled)
    assert [sale.ref_ext for _, sale in result.sales] == ["6-2"]


def test_replanning_after_a_crash_gives_the_same_references(order, exported):
    refunded = replace(order, slips=(refund_slip(order), refund_slip(order, 4, 1, "0")))
    first = [sale.to_payload() for _, sale in plan(refunded, exported).sales]
    again = [sale.to_payload() for _, sale in plan(refunded, exported).sales]
    assert first == again
    assert [payload["RefExt"] for payload in first] == ["6-R3", "6-R4"]


def test_a_refund_of_an_unlinked_line_is_an_error_not_a_crash(order, exported):
    slip = CreditSlip(9, (SlipLine(999, 1, Decimal("5")),), Decimal("0"))
    result = plan(replace(order, slips=(slip,)), exported)
    assert result.refusal is not None and result.refusal.code == "slip_line_unknown"
    assert result.sales == ()


def test_g11_a_sale_refused_half_way_is_planned_again_with_those_after_it(
    order, exported
):
    """Polaris refused the second refund: the record before it holds the first
    refund only, and planning from it sends the second refund alone."""
    refunded = replace(order, slips=(refund_slip(order), refund_slip(order, 4, 1, "0")))
    result = plan(refunded, exported)
    assert [sale.ref_ext for _, sale in result.sales] == ["6-R3", "6-R4"]

    before_second = result.record_before(1)
    assert before_second is not None and before_second.sent_slips == {3}
    assert [sale.ref_ext for _, sale in plan(refunded, before_second).sales] == [
        "6-R4"
    ]
    assert result.record_before(0) == exported


def test_g11_a_refused_first_sale_leaves_nothing_recorded(order):
    refunded = replace(order, slips=(refund_slip(order),))
    result = plan(refunded, None)
    assert [sale.ref_ext for _, sale in result.sales] == ["6", "6-R3"]
    assert result.record_before(0) is None
    assert [sale.ref_ext for _, sale in plan(refunded, None).sales] == ["6", "6-R3"]


def test_g11_a_new_version_refused_after_its_cancellation_is_sent_alone(
    order, exported
):
    """The new version is due as a modification sends it: an order edited in
    the back office keeps the amount first paid, which the checks of a first
    export would refuse."""
    fewer = one_line_less(order)
    result = plan(fewer, exported)
    cancelled = result.record_before(1)
    assert cancelled is not None and not cancelled.active

    again = plan(fewer, cancelled)
    assert [(kind, sale.ref_ext) for kind, sale in again.sales] == [("sale", "6-2")]
    assert again.record == result.record
    assert again.record is not None and not again.record.replaced

    # Cancelled in the shop meanwhile: Polaris already has the cancellation.
    assert plan(replace(fewer, valid=False), cancelled).is_empty


def test_g11_a_record_without_its_refused_refund_sends_it_again(order, exported):
    refunded = replace(order, slips=(refund_slip(order), refund_slip(order, 4, 1, "0")))
    recorded = plan(refunded, exported).record
    assert recorded is not None

    assert can_do_without(recorded, frozenset({1}))
    without = record_without(recorded, frozenset({1}))
    assert without is not None and without.sent_slips == {4}
    assert [sale.ref_ext for _, sale in plan(refunded, without).sales] == ["6-R3"]
    assert record_without(recorded, frozenset({0, 1, 2})) is None
    assert not can_do_without(recorded, frozenset({0}))


def test_g11_a_record_without_its_refused_cancellation_cancels_again(order, exported):
    cancelled = replace(order, valid=False, date_upd="2026-12-06 11:00:00")
    recorded = plan(cancelled, exported).record
    assert recorded is not None

    without = record_without(recorded, frozenset({1}))
    assert without == exported
    assert [sale.ref_ext for _, sale in plan(cancelled, without).sales] == ["6-A1"]


def test_g11_a_cancellation_polaris_got_keeps_the_refund_it_negated(order, exported):
    """Polaris negated the refund with the rest: sending it now would count
    it twice, so no record can leave it out."""
    refunded = replace(order, slips=(refund_slip(order),))
    after_refund = plan(refunded, exported).record
    assert after_refund is not None
    recorded = plan(replace(refunded, valid=False), after_refund).record
    assert recorded is not None and len(recorded.chain) == 3

    assert not can_do_without(recorded, frozenset({1}))
    assert can_do_without(recorded, frozenset({1, 2}))


def test_g11_a_record_without_its_refused_new_version_sends_that_version(
    order, exported
):
    fewer = one_line_less(order)
    recorded = plan(fewer, exported).record
    assert recorded is not None and recorded.version == 2

    without = record_without(recorded, frozenset({0}))
    assert without is not None and not without.active
    assert [sale.ref_ext for _, sale in plan(fewer, without).sales] == ["6-2"]


def test_g11_a_refund_polaris_got_joins_the_record_and_is_not_planned_again(
    order, exported
):
    refunded = replace(order, slips=(refund_slip(order),))
    [(_, refund)] = plan(refunded, exported).sales
    joined = record_joined(exported, refund, refunded)
    assert joined is not None and joined.sent_slips == {3}
    assert plan(refunded, joined).is_empty
    [(_, cancel)] = plan(replace(refunded, valid=False), joined).sales
    assert cancel.paid == Decimal("-27.00")


def test_g11_a_cancellation_polaris_got_then_valid_again_plans_a_new_version(
    order, exported
):
    cancelled = replace(order, valid=False, date_upd="2026-12-06 11:00:00")
    [(_, cancel)] = plan(cancelled, exported).sales
    assert record_joined(exported, cancel, cancelled) == plan(
        cancelled, exported
    ).record
    joined = record_joined(exported, cancel, order)
    assert joined is not None and not joined.active
    assert [sale.ref_ext for _, sale in plan(order, joined).sales] == ["6-2"]
    # The version sale itself, or a sale of another version, does not join.
    assert record_joined(exported, exported.chain[0], order) is None
    assert record_joined(joined, cancel, order) is None
