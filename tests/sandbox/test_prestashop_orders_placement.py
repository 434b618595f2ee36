"""Placing an order through POST /api/orders, as a real PrestaShop 8.1.2 does it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .order_shop import OrderShop

XLINK = "{http://www.w3.org/1999/xlink}href"


@pytest.fixture
def shop(tmp_path: Path) -> OrderShop:
    return OrderShop(tmp_path / "shop.db")


def test_order_paid_in_full_is_accepted_valid_and_invoiced(shop: OrderShop) -> None:
    product = shop.product("10.00")

    # 2 x 12.00 tax included + carrier 2 at 8.40 = 32.40
    order_id, _ = shop.place("32.40", [(product, 0, 2)])

    order = shop.one("orders", order_id, "id,current_state,valid,invoice_number")
    assert (order["current_state"], order["valid"]) == (11, "1")
    invoices = shop.rows("order_invoices", f"filter[id_order]=[{order_id}]")
    assert [i["number"] for i in invoices] == [order["invoice_number"]]
    assert invoices[0]["total_paid_tax_incl"] == "32.400000"


def test_order_whose_amount_differs_is_a_payment_error_and_takes_no_stock(
    shop: OrderShop,
) -> None:
    product = shop.product("10.00", stock=20)

    order_id, _ = shop.place("30.00", [(product, 0, 2)])

    order = shop.one(
        "orders", order_id, "id,current_state,valid,invoice_number,total_paid"
    )
    assert order["current_state"] == 8
    assert order["valid"] == "0"
    assert order["invoice_number"] == 0
    assert order["total_paid"] == "32.400000"
    assert shop.stock(product) == 20
    assert shop.rows("order_invoices", f"filter[id_order]=[{order_id}]") == []


def test_accepted_order_takes_stock_from_its_lines(shop: OrderShop) -> None:
    product = shop.product("10.00", stock=7)

    shop.place("32.40", [(product, 0, 2)])

    assert shop.stock(product) == 5


def test_payment_is_recorded_under_the_order_reference_with_the_amount_sent(
    shop: OrderShop,
) -> None:
    product = shop.product("10.00")
    order_id, _ = shop.place("30.00", [(product, 0, 2)])
    reference = shop.one("orders", order_id, "id,reference")["reference"]

    payments = shop.rows("order_payments", f"filter[order_reference]=[{reference}]")

    assert [(p["amount"], p["payment_method"]) for p in payments] == [
        ("30.000000", "Payments by check")
    ]
    paid_real = shop.one("orders", order_id, "id,total_paid_real")
    assert paid_real["total_paid_real"] == "30.000000"


def test_post_answer_echoes_the_request_not_the_stored_order(shop: OrderShop) -> None:
    product = shop.product("10.00")
    customer = shop.customer()
    address = shop.address(customer)
    cart = shop.cart(customer, address, 2, [(product, 0, 1)])

    answer = shop.send(
        "POST", "orders", shop.order_xml(cart, customer, address, "20.40")
    )

    order = ET.fromstring(answer.content)[0]
    assert order.findtext("total_paid") == "20.40"
    assert order.findtext("reference") == ""
    state = order.find("current_state")
    assert state is not None and state.text in (None, "")
    assert state.get(XLINK, "").endswith("/api/order_states/")
    assert order.findtext("associations/order_rows/order_row/product_quantity") == "1"


def test_second_order_from_the_same_cart_is_a_plain_text_500(shop: OrderShop) -> None:
    product = shop.product("10.00")
    customer = shop.customer()
    address = shop.address(customer)
    cart = shop.cart(customer, address, 2, [(product, 0, 1)])
    body = shop.order_xml(cart, customer, address, "20.40")
    shop.send("POST", "orders", body)

    again = shop.send("POST", "orders", body)

    assert again.status_code == 500
    assert again.headers["content-type"].startswith("text/html")
    assert "PSWS-Version" not in again.headers
    assert "already been placed using this cart" in again.text


def test_unknown_payment_module_is_an_empty_500(shop: OrderShop) -> None:
    product = shop.product("10.00")
    customer = shop.customer()
    address = shop.address(customer)
    cart = shop.cart(customer, address, 2, [(product, 0, 1)])

    answer = shop.send(
        "POST",
        "orders",
        shop.order_xml(cart, customer, address, "20.40", module="no_such_module"),
    )

    assert (answer.status_code, answer.content) == (500, b"")
    assert shop.json(f"orders?filter[id_cart]=[{cart}]") == []


def test_missing_required_field_is_a_400_code_41(shop: OrderShop) -> None:
    answer = shop.send("POST", "orders", "<order><id_cart>1</id_cart></order>")

    assert answer.status_code == 400
    assert "<code><![CDATA[41]]></code>" in answer.text
    assert 'parameter "id_address_delivery" required' in answer.text


def test_automatic_voucher_applies_after_the_amount_is_checked(
    shop: OrderShop,
) -> None:
    product = shop.product("50.00")
    customer = shop.customer()
    address = shop.address(customer)
    rule = shop.created_id(
        shop.send(
            "POST",
            "cart_rules",
            f"<cart_rule><id_customer>{customer}</id_customer>"
            "<date_from>2020-01-01 00:00:00</date_from>"
            "<date_to>2099-12-31 23:59:59</date_to><quantity>1</quantity>"
            "<quantity_per_user>1</quantity_per_user><code></code>"
            "<reduction_percent>10</reduction_percent><active>1</active>"
            '<name><language id="1">Ten</language><language id="2">Dix</language>'
            "</name></cart_rule>",
        )
    )
    cart = shop.cart(customer, address, 1, [(product, 0, 1)])

    order_id = shop.created_id(
        shop.send("POST", "orders", shop.order_xml(cart, customer, address, "60.00"))
    )

    order = shop.one(
        "orders",
        order_id,
        "id,current_state,total_discounts,total_paid,total_paid_real",
    )
    assert order == {
        "id": order_id,
        "current_state": 11,
        "total_discounts": "6.000000",
        "total_paid": "54.000000",
        "total_paid_real": "60.000000",
    }
    uses = shop.rows("order_cart_rules", f"filter[id_order]=[{order_id}]")
    assert [(u["id_cart_rule"], u["value"], u["value_tax_excl"]) for u in uses] == [
        (rule, "6.000000", "5.000000")
    ]
    assert shop.one("cart_rules", rule, "id,quantity")["quantity"] == 0


def test_customer_without_groups_gets_an_order_without_carrier(
    shop: OrderShop,
) -> None:
    product = shop.product("10.00")

    # No carrier: the total is the products alone (12.00).
    order_id, _ = shop.place("12.00", [(product, 0, 1)], groups=False)

    order = shop.one("orders", order_id, "id,id_carrier,current_state")
    assert (order["id_carrier"], order["current_state"]) == (0, 11)
    assert shop.rows("order_carriers", f"filter[id_order]=[{order_id}]") == []


def test_specific_price_in_force_sets_the_line_price(shop: OrderShop) -> None:
    product = shop.product("20.00")
    shop.send(
        "POST",
        "specific_prices",
        f"<specific_price><id_product>{product}</id_product><id_shop>0</id_shop>"
        "<id_cart>0</id_cart><id_currency>0</id_currency><id_country>0</id_country>"
        "<id_group>0</id_group><id_customer>0</id_customer><price>-1</price>"
        "<from_quantity>1</from_quantity><reduction>0.25</reduction>"
        "<reduction_tax>1</reduction_tax><reduction_type>percentage</reduction_type>"
        "<from>0000-00-00 00:00:00</from><to>0000-00-00 00:00:00</to>"
        "</specific_price>",
    )

    # 15.00 before tax once 25 % off: 18.00 + 8.40 shipping
    order_id, _ = shop.place("26.40", [(product, 0, 1)])

    line = shop.rows("order_details", f"filter[id_order]=[{order_id}]")[0]
    assert (line["product_price"], line["reduction_percent"]) == ("20.000000", "25.00")
    assert line["unit_price_tax_excl"] == "15.000000"
    assert shop.one("orders", order_id, "id,current_state")["current_state"] == 11


def test_line_sold_beyond_the_stock_puts_the_order_on_backorder(
    shop: OrderShop,
) -> None:
    product = shop.product("10.00", stock=1)

    order_id, _ = shop.place("32.40", [(product, 0, 2)])

    rows = shop.rows("order_histories", f"filter[id_order]=[{order_id}]")
    assert [r["id_order_state"] for r in rows] == [11, 9]
    line = shop.rows("order_details", f"filter[id_order]=[{order_id}]")[0]
    assert (line["product_quantity"], line["product_quantity_in_stock"]) == (2, 1)
    assert shop.stock(product) == -1


def test_order_from_an_empty_cart_is_refused_like_a_used_cart(shop: OrderShop) -> None:
    customer = shop.customer()
    address = shop.address(customer)
    cart = shop.cart(customer, address, 2, [])

    answer = shop.send(
        "POST", "orders", shop.order_xml(cart, customer, address, "0.00")
    )

    assert answer.status_code == 500
    assert "already been placed using this cart" in answer.text
