"""The sandbox admin API for orders, read back through the webservice."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from polaris_sync.sandbox.http import BackgroundServer
from polaris_sync.sandbox.prestashop import create_app

from .order_shop import KEY, OrderShop


@pytest.fixture
def shop(tmp_path: Path) -> OrderShop:
    return OrderShop(tmp_path / "shop.db")


def _place(shop: OrderShop, **extra: object) -> dict:
    customer = shop.customer()
    shop.address(customer)
    product = extra.pop("product", None) or shop.product("10.00", stock=10)
    payload = {"customer": customer, "lines": [{"product": product, "quantity": 3}]}
    answer = shop.admin("orders", {**payload, **extra})
    assert answer.status_code == 201, answer.text
    return {**answer.json(), "product": product}


def test_placed_order_reads_back_like_a_real_one(shop: OrderShop) -> None:
    placed = _place(shop)
    order_id = placed["order"]

    order = shop.json(f"orders/{order_id}")["order"]
    details = shop.rows("order_details", f"filter[id_order]=[{order_id}]")
    carriers = shop.rows("order_carriers", f"filter[id_order]=[{order_id}]")
    histories = shop.rows("order_histories", f"filter[id_order]=[{order_id}]")
    payments = shop.rows(
        "order_payments", f"filter[order_reference]=[{placed['reference']}]"
    )

    # 3 x 12.00 + carrier 2 at 8.40
    assert (order["current_state"], order["valid"], order["total_paid"]) == (
        11,
        "1",
        "44.400000",
    )
    assert [(d["product_quantity"], d["unit_price_tax_incl"]) for d in details] == [
        (3, "12.000000")
    ]
    assert [c["shipping_cost_tax_incl"] for c in carriers] == ["8.400000"]
    assert [h["id_order_state"] for h in histories] == [11]
    assert [p["amount"] for p in payments] == ["44.400000"]
    assert shop.stock(placed["product"]) == 7


def test_amount_paid_that_differs_leaves_a_payment_error(shop: OrderShop) -> None:
    placed = _place(shop, amount_paid="40.00")

    assert (placed["current_state"], placed["valid"]) == (8, False)
    assert placed["total_paid_real"] == "40.00"


def test_payment_adds_a_row_under_the_reference(shop: OrderShop) -> None:
    placed = _place(shop, amount_paid="40.00")

    paid = shop.admin(
        "orders/payments",
        {
            "order": placed["order"],
            "amount": "4.40",
            "method": "Bank wire",
            "transaction_id": "T-1",
        },
    ).json()

    payments = shop.rows(
        "order_payments", f"filter[order_reference]=[{placed['reference']}]"
    )
    assert [(p["amount"], p["transaction_id"]) for p in payments] == [
        ("40.000000", ""),
        ("4.400000", "T-1"),
    ]
    assert paid["total_paid_real"] == "44.40"


def test_credit_slip_refunds_lines_and_shipping(shop: OrderShop) -> None:
    placed = _place(shop)
    order_id = placed["order"]
    detail = shop.rows("order_details", f"filter[id_order]=[{order_id}]")[0]["id"]

    answer = shop.admin(
        "orders/slips",
        {
            "order": order_id,
            "lines": [{"order_detail": detail, "quantity": 2}],
            "shipping": True,
            "restock": True,
        },
    )

    assert answer.status_code == 201, answer.text
    slips = shop.rows("order_slip", f"filter[id_order]=[{order_id}]")
    assert [
        (s["total_products_tax_incl"], s["total_shipping_tax_incl"], s["amount"])
        for s in slips
    ] == [("24.000000", "8.400000", "24.000000")]
    assert slips[0]["associations"]["order_slip_details"] == [
        {
            "id": slips[0]["id"],
            "id_order_detail": detail,
            "product_quantity": 2,
            "amount_tax_excl": "20.000000",
            "amount_tax_incl": "24.000000",
        },
    ]
    refunded = shop.one(
        "order_details",
        detail,
        "id,product_quantity_refunded,product_quantity_reinjected,"
        "total_refunded_tax_incl",
    )
    assert refunded == {
        "id": detail,
        "product_quantity_refunded": 2,
        "product_quantity_reinjected": 2,
        "total_refunded_tax_incl": "24.000000",
    }
    assert shop.stock(placed["product"]) == 9


def test_credit_slip_list_uses_the_plural_node(shop: OrderShop) -> None:
    placed = _place(shop)
    shop.admin("orders/slips", {"order": placed["order"], "shipping": True})

    listing = shop.get("order_slip").text

    assert "<order_slips>" in listing and "/api/order_slips/1" in listing


def test_cancel_invalidates_the_order_and_gives_stock_back(shop: OrderShop) -> None:
    placed = _place(shop)

    cancelled = shop.admin("orders/cancel", {"order": placed["order"]}).json()

    assert (cancelled["current_state"], cancelled["valid"]) == (6, False)
    assert shop.stock(placed["product"]) == 10


def test_editing_lines_recomputes_totals_and_stock(shop: OrderShop) -> None:
    placed = _place(shop)
    order_id = placed["order"]
    detail = shop.rows("order_details", f"filter[id_order]=[{order_id}]")[0]["id"]
    other = shop.product("5.00", stock=4)

    edited = shop.admin(
        "orders/lines",
        {
            "order": order_id,
            "set": [{"order_detail": detail, "quantity": 1}],
            "add": [{"product": other, "quantity": 2}],
        },
    ).json()

    # 1 x 12.00 + 2 x 6.00 + 8.40 shipping
    assert edited["total_paid"] == "32.40"
    assert shop.stock(placed["product"]) == 9 and shop.stock(other) == 2
    invoice = shop.rows("order_invoices", f"filter[id_order]=[{order_id}]")[0]
    assert invoice["total_paid_tax_incl"] == "32.400000"


def test_state_change_through_the_admin_api_is_recorded(shop: OrderShop) -> None:
    placed = _place(shop)

    shop.admin("orders/state", {"order": placed["order"], "state": 4})

    rows = shop.rows("order_histories", f"filter[id_order]=[{placed['order']}]")
    assert [r["id_order_state"] for r in rows] == [11, 4]


def test_guest_checkout_creates_a_guest_customer(shop: OrderShop) -> None:
    answer = shop.admin(
        "orders",
        {
            "guest": {
                "email": "guest@example.test",
                "firstname": "Gus",
                "lastname": "Guest",
            },
            "address": {"address1": "2 rue Neuve", "city": "Lyon", "postcode": "69001"},
            "lines": [{"product": shop.product("10.00"), "quantity": 1}],
        },
    )

    customer = answer.json()["customer"]
    data = shop.one("customers", customer, "id,is_guest,id_default_group,email")
    assert data == {
        "id": customer,
        "is_guest": "1",
        "id_default_group": 2,
        "email": "guest@example.test",
    }
    address = shop.json(f"addresses?filter[id_customer]=[{customer}]&display=[city]")
    assert address == {"addresses": [{"city": "Lyon"}]}


def test_vouchers_free_shipping_and_gift_wrapping_show_on_the_order(
    shop: OrderShop,
) -> None:
    shop.send(
        "POST",
        "cart_rules",
        "<cart_rule><date_from>2020-01-01 00:00:00</date_from>"
        "<date_to>2099-12-31 23:59:59</date_to><quantity>5</quantity>"
        "<code>FIVE</code><reduction_amount>5</reduction_amount>"
        "<reduction_tax>1</reduction_tax><active>1</active>"
        '<name><language id="1">Five</language><language id="2">Cinq</language>'
        "</name></cart_rule>",
    )

    placed = _place(
        shop, vouchers=["FIVE"], free_shipping=True, gift=True, wrapping="2.50"
    )

    order = shop.one(
        "orders",
        placed["order"],
        "id,gift,total_wrapping,total_discounts,total_paid,current_state",
    )
    assert order == {
        "id": placed["order"],
        "gift": "1",
        "total_wrapping": "2.500000",
        "total_discounts": "13.400000",
        "total_paid": "33.500000",
        "current_state": 11,
    }
    uses = shop.rows("order_cart_rules", f"filter[id_order]=[{placed['order']}]")
    assert [(u["name"], u["value"], u["free_shipping"]) for u in uses] == [
        ("Five", "5.000000", "0"),
        ("Free shipping", "8.400000", "1"),
    ]


def test_bad_input_and_unknown_order_are_refused(shop: OrderShop) -> None:
    customer = shop.customer()
    shop.address(customer)

    no_lines = shop.admin("orders", {"customer": customer, "lines": []})
    unknown = shop.admin("orders/cancel", {"order": 999})

    assert no_lines.status_code == 400 and "lines" in no_lines.json()["error"]
    assert unknown.status_code == 404


def test_admin_api_works_over_loopback_http(tmp_path: Path) -> None:
    app = create_app(tmp_path / "shop.db", api_key=KEY)
    with (
        BackgroundServer(app) as server,
        httpx.Client(base_url=server.url, auth=(KEY, ""), timeout=10) as client,
    ):
        unknown = client.post("/_sandbox/orders/state", json={"order": 1, "state": 2})
        listing = client.get("/api/orders?output_format=JSON")

    assert unknown.status_code == 404
    assert listing.json() == []


def test_lines_with_two_carriers_make_two_orders_under_one_reference(
    shop: OrderShop,
) -> None:
    customer = shop.customer()
    shop.address(customer)
    mug, tee = shop.product("10.00"), shop.product("20.00")

    placed = shop.admin(
        "orders",
        {
            "customer": customer,
            "lines": [
                {"product": mug, "quantity": 1, "carrier": 1},
                {"product": tee, "quantity": 1, "carrier": 2},
            ],
        },
    ).json()

    orders = [
        shop.one("orders", o, "id,reference,id_carrier,total_paid,current_state")
        for o in placed["orders"]
    ]
    # 12.00 collected in store; 24.00 + 8.40 shipped
    assert [(o["id_carrier"], o["total_paid"]) for o in orders] == [
        (1, "12.000000"),
        (2, "32.400000"),
    ]
    assert {o["reference"] for o in orders} == {placed["reference"]}
    assert {o["current_state"] for o in orders} == {11}
    payments = shop.rows(
        "order_payments", f"filter[order_reference]=[{placed['reference']}]"
    )
    assert [p["amount"] for p in payments] == ["44.400000"]


def test_credit_slip_can_refund_part_of_the_shipping(shop: OrderShop) -> None:
    placed = _place(shop)

    shop.admin("orders/slips", {"order": placed["order"], "shipping": "4.20"})

    slip = shop.rows("order_slip", f"filter[id_order]=[{placed['order']}]")[0]
    assert (slip["total_shipping_tax_incl"], slip["total_shipping_tax_excl"]) == (
        "4.200000",
        "3.500000",
    )
    assert (slip["shipping_cost"], slip["shipping_cost_amount"]) == (1, "4.200000")
    assert "associations" not in slip


def test_order_placed_in_the_past_carries_its_dates(shop: OrderShop) -> None:
    placed = _place(shop, placed_at="2025-01-31T10:00:00")
    order_id = placed["order"]

    order = shop.one("orders", order_id, "id,date_add,date_upd,invoice_date")
    history = shop.rows("order_histories", f"filter[id_order]=[{order_id}]")[0]
    recent = shop.json(
        "orders?display=[id]&date=1&filter[date_add]=>[2026-01-01 00:00:00]"
    )

    assert order == {
        "id": order_id,
        "date_add": "2025-01-31 10:00:00",
        "date_upd": "2025-01-31 10:00:00",
        "invoice_date": "2025-01-31 10:00:00",
    }
    assert history["date_add"] == "2025-01-31 10:00:00"
    assert recent == []


def test_credit_slip_posted_through_the_webservice_leaves_the_order_alone(
    shop: OrderShop,
) -> None:
    placed = _place(shop)
    order_id = placed["order"]
    detail = shop.rows("order_details", f"filter[id_order]=[{order_id}]")[0]["id"]

    answer = shop.send(
        "POST",
        "order_slip",
        f"<order_slip><id_customer>{placed['customer']}</id_customer>"
        f"<id_order>{order_id}</id_order><conversion_rate>1</conversion_rate>"
        "<total_products_tax_excl>10</total_products_tax_excl>"
        "<total_products_tax_incl>12</total_products_tax_incl>"
        "<total_shipping_tax_excl>0</total_shipping_tax_excl>"
        "<total_shipping_tax_incl>0</total_shipping_tax_incl>"
        "<associations><order_slip_details><order_slip_detail>"
        f"<id_order_detail>{detail}</id_order_detail>"
        "<product_quantity>1</product_quantity><amount_tax_excl>10</amount_tax_excl>"
        "<amount_tax_incl>12</amount_tax_incl></order_slip_detail>"
        "</order_slip_details></associations></order_slip>",
    )

    assert answer.status_code == 201, answer.text
    slip = shop.rows("order_slip", f"filter[id_order]=[{order_id}]")[0]
    slip_line = slip["associations"]["order_slip_details"][0]
    assert (slip_line["id"], slip_line["amount_tax_incl"]) == (slip["id"], "12.000000")
    line = shop.one("order_details", detail, "id,product_quantity_refunded")
    assert line["product_quantity_refunded"] == 0


def test_refused_order_request_writes_nothing(shop: OrderShop) -> None:
    answer = shop.admin(
        "orders",
        {
            "guest": {"email": "g@example.test", "firstname": "Gus", "lastname": "G"},
            "address": {"address1": "2 rue Neuve", "city": "Lyon"},
            "lines": [{"product": shop.product("10.00"), "quantity": 1}],
            "vouchers": ["NO-SUCH-CODE"],
        },
    )

    assert answer.status_code == 400 and "NO-SUCH-CODE" in answer.json()["error"]
    assert shop.json("customers?filter[email]=[g@example.test]") == []
    assert shop.json("carts") == []


def test_slip_for_a_line_of_another_order_is_refused(shop: OrderShop) -> None:
    first, second = _place(shop), _place(shop)
    other_line = shop.rows("order_details", f"filter[id_order]=[{second['order']}]")
    wrong = {"order_detail": other_line[0]["id"], "quantity": 1}

    answer = shop.admin("orders/slips", {"order": first["order"], "lines": [wrong]})

    assert answer.status_code == 400 and "not in the order" in answer.json()["error"]
    assert shop.json("order_slip") == []


def test_combination_of_another_product_is_refused(shop: OrderShop) -> None:
    ordered, other = shop.product("10.00"), shop.product("20.00")
    foreign = shop.combination(other)
    guest = {"email": "mix@example.test", "firstname": "Mia", "lastname": "X"}

    answer = shop.admin(
        "orders",
        {
            "guest": guest,
            "address": {"address1": "2 rue Neuve", "city": "Lyon"},
            "lines": [{"product": ordered, "combination": foreign, "quantity": 1}],
        },
    )

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert f"combination {foreign}" in error and f"product {other}" in error
    assert shop.json("customers?filter[email]=[mix@example.test]") == []
    assert shop.json("carts") == []
    assert shop.json("orders") == []


def test_line_added_with_a_foreign_combination_is_refused(shop: OrderShop) -> None:
    placed = _place(shop)
    foreign = shop.combination(shop.product("20.00"))
    before = shop.rows("order_details", f"filter[id_order]=[{placed['order']}]")

    answer = shop.admin(
        "orders/lines",
        {
            "order": placed["order"],
            "add": [{"product": placed["product"], "combination": foreign}],
        },
    )

    assert answer.status_code == 400 and "belongs to product" in answer.json()["error"]
    after = shop.rows("order_details", f"filter[id_order]=[{placed['order']}]")
    assert after == before
