"""Reading orders as the real shop answers them."""

from decimal import Decimal

from polaris_sync.sales.order import order_from_json


def test_json_order_with_its_rows_is_read_to_the_cent(recordings):
    order = order_from_json(recordings.json("25-order-create", 22)["orders"][0])

    assert order.order_id == 6 and order.reference == "TSZZRHYWI"
    assert order.module == "ps_checkpayment" and order.valid
    assert order.total_paid_tax_incl == Decimal("47.40")
    assert order.total_shipping_tax_incl == Decimal("8.40")
    assert [(line.combination_id, line.quantity) for line in order.lines] == [
        (40, 2),
        (41, 1),
    ]
    assert [line.total_tax_incl for line in order.lines] == [
        Decimal("24.00"),
        Decimal("15.00"),
    ]


def test_single_order_answer_omitting_empty_fields_is_read(recordings):
    # A single-entity JSON GET leaves out zero fields such as delivery_number.
    order = order_from_json(recordings.json("25-order-create", 21)["order"])
    assert order.order_id == 6 and order.total_wrapping_tax_incl == Decimal("0.00")
    assert not order.gift and order.vouchers == ()


def test_xml_list_order_without_combination_is_read(recordings):
    entries = recordings.xml_entries("30-order-sync-reads", 21, "order")
    mug, shipped = (order_from_json(entry) for entry in entries)

    assert mug.lines[0].combination_id == 0 and mug.lines[0].reference == "XCH-30-P"
    assert mug.total_paid_tax_incl == Decimal("18.00")
    assert shipped.module == "ps_wirepayment"
    assert shipped.total_shipping_tax_incl == Decimal("8.40")


def test_vouchers_of_other_orders_and_deleted_ones_are_left_out(recordings):
    order = recordings.json("25-order-create", 22)["orders"][0]
    vouchers = [
        {"id_order": 6, "id_cart_rule": 2, "name": "Ten", "value": "6.000000"},
        {"id_order": 7, "id_cart_rule": 3, "name": "Other", "value": "1.000000"},
        {"id_order": 6, "id_cart_rule": 4, "name": "Gone", "value": "2.0",
         "deleted": "1"},
    ]
    read = order_from_json(order, vouchers=vouchers)
    assert [voucher.name for voucher in read.vouchers] == ["Ten"]
    assert read.vouchers[0].value_tax_incl == Decimal("6.00")
