"""Order state changes through order_histories, and how exports read them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .order_shop import OrderShop


@pytest.fixture
def shop(tmp_path: Path) -> OrderShop:
    return OrderShop(tmp_path / "shop.db")


def _history(shop: OrderShop, order_id: int, state: int, query: str = "") -> int:
    return shop.created_id(
        shop.send(
            "POST",
            f"order_histories{query}",
            f"<order_history><id_order>{order_id}</id_order>"
            f"<id_order_state>{state}</id_order_state></order_history>",
        )
    )


def _custom_state(shop: OrderShop, logable: int) -> int:
    return shop.created_id(
        shop.send(
            "POST",
            "order_states",
            f"<order_state><send_email>0</send_email><logable>{logable}</logable>"
            "<color>#34209E</color>"
            '<name><language id="1">Exported</language>'
            '<language id="2">Exporté</language></name></order_state>',
        )
    )


def test_state_change_sets_valid_from_the_state_logable_flag(shop: OrderShop) -> None:
    order_id, _ = shop.place("32.40", [(shop.product("10.00"), 0, 2)])
    exported = _custom_state(shop, logable=0)

    _history(shop, order_id, exported)
    after_custom = shop.one("orders", order_id, "id,current_state,valid")
    _history(shop, order_id, 2)
    after_paid = shop.one("orders", order_id, "id,current_state,valid")

    assert after_custom == {"id": order_id, "current_state": exported, "valid": "0"}
    assert after_paid == {"id": order_id, "current_state": 2, "valid": "1"}


def test_shipped_state_gives_the_order_a_delivery_number(shop: OrderShop) -> None:
    order_id, _ = shop.place("32.40", [(shop.product("10.00"), 0, 2)])
    before = shop.one("orders", order_id, "id,delivery_number")

    _history(shop, order_id, 4)

    after = shop.one("orders", order_id, "id,delivery_number,current_state")
    assert before["delivery_number"] == 0
    assert after["delivery_number"] > 0 and after["current_state"] == 4


def test_cancelling_gives_the_stock_back_and_reaccepting_takes_it(
    shop: OrderShop,
) -> None:
    product = shop.product("10.00", stock=10)
    order_id, _ = shop.place("32.40", [(product, 0, 2)])

    _history(shop, order_id, 6)
    after_cancel = shop.stock(product)
    _history(shop, order_id, 2)

    assert after_cancel == 10
    assert shop.stock(product) == 8
    assert shop.one("orders", order_id, "id,valid")["valid"] == "1"


def test_payment_error_order_accepted_later_takes_its_stock(shop: OrderShop) -> None:
    product = shop.product("10.00", stock=10)
    order_id, _ = shop.place("1.00", [(product, 0, 3)])

    _history(shop, order_id, 2)

    assert shop.stock(product) == 7


def test_posting_the_current_state_again_adds_a_history_row(shop: OrderShop) -> None:
    order_id, _ = shop.place("32.40", [(shop.product("10.00"), 0, 2)])

    _history(shop, order_id, 11, "?sendemail=0")

    rows = shop.rows("order_histories", f"filter[id_order]=[{order_id}]")
    assert [r["id_order_state"] for r in rows] == [11, 11]


def test_history_for_an_unknown_order_or_state_is_an_empty_500(
    shop: OrderShop,
) -> None:
    order_id, _ = shop.place("32.40", [(shop.product("10.00"), 0, 2)])

    for order, state in ((999999, 2), (order_id, 999999)):
        answer = shop.send(
            "POST",
            "order_histories",
            f"<order_history><id_order>{order}</id_order>"
            f"<id_order_state>{state}</id_order_state></order_history>",
        )
        assert (answer.status_code, answer.content) == (500, b"")


def test_put_and_delete_of_a_history_row_leave_the_order_alone(
    shop: OrderShop,
) -> None:
    order_id, _ = shop.place("1.00", [(shop.product("10.00"), 0, 1)])
    row = shop.rows("order_histories", f"filter[id_order]=[{order_id}]")[0]["id"]

    put = shop.send(
        "PUT",
        f"order_histories/{row}",
        f"<order_history><id>{row}</id><id_order>{order_id}</id_order>"
        "<id_order_state>2</id_order_state></order_history>",
    )
    deleted = shop.client.delete(f"/api/order_histories/{row}")

    assert (put.status_code, deleted.status_code) == (200, 200)
    assert shop.one("orders", order_id, "id,current_state")["current_state"] == 8


def test_state_change_moves_date_upd_which_date_filters_see(shop: OrderShop) -> None:
    order_id, _ = shop.place("32.40", [(shop.product("10.00"), 0, 2)])
    before = shop.one("orders", order_id, "id,date_upd")["date_upd"]
    time.sleep(1.05)

    _history(shop, order_id, 3)

    changed = shop.json(f"orders?display=[id]&date=1&filter[date_upd]=>[{before}]")
    assert changed == {"orders": [{"id": order_id}]}


def test_date_filter_without_date_1_is_refused(shop: OrderShop) -> None:
    answer = shop.get("orders?filter[date_upd]=>[2000-01-01 00:00:00]")

    assert answer.status_code == 500
    assert "<code><![CDATA[32]]></code>" in answer.text


def test_order_states_cannot_be_filtered_on_their_name(shop: OrderShop) -> None:
    answer = shop.get("order_states?filter[name]=[Shipped]&display=[id,name]")

    assert (answer.status_code, answer.content) == (500, b"")


def test_patching_an_order_state_goes_through_the_state_machine(
    shop: OrderShop,
) -> None:
    order_id, _ = shop.place("32.40", [(shop.product("10.00"), 0, 2)])

    answer = shop.send(
        "PATCH",
        f"orders/{order_id}",
        f"<order><id>{order_id}</id><current_state>6</current_state></order>",
    )

    assert answer.status_code == 200, answer.text
    order = shop.one("orders", order_id, "id,current_state,valid")
    assert (order["current_state"], order["valid"]) == (6, "0")
    rows = shop.rows("order_histories", f"filter[id_order]=[{order_id}]")
    assert [r["id_order_state"] for r in rows] == [11, 6]


def test_tracking_number_of_the_order_carrier_is_the_shipping_number(
    shop: OrderShop,
) -> None:
    order_id, _ = shop.place("32.40", [(shop.product("10.00"), 0, 2)])
    carrier = shop.rows("order_carriers", f"filter[id_order]=[{order_id}]")[0]["id"]

    shop.send(
        "PATCH",
        f"order_carriers/{carrier}?sendemail=1",
        f"<order_carrier><id>{carrier}</id>"
        "<tracking_number>TRACK123</tracking_number></order_carrier>",
    )

    shipping = shop.json(f"orders/{order_id}")["order"]["shipping_number"]
    assert shipping == "TRACK123"
