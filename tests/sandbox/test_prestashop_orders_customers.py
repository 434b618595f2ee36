"""Customers and their groups, as a real PrestaShop 8.1.2 serves them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from .order_shop import OrderShop


@pytest.fixture
def shop(tmp_path: Path) -> OrderShop:
    return OrderShop(tmp_path / "shop.db")


def _post_customer(shop: OrderShop, inner: str) -> httpx.Response:
    return shop.send("POST", "customers", f"<customer>{inner}</customer>")


def _codes(text: str) -> list[str]:
    return [part.split("]]>")[0] for part in text.split("<code><![CDATA[")[1:]]


def test_customer_posted_without_groups_has_default_group_0(shop: OrderShop) -> None:
    customer = shop.customer(groups=False)

    data = shop.json(f"customers/{customer}")["customer"]

    assert shop.one("customers", customer, "id,id_default_group") == {
        "id": customer,
        "id_default_group": 0,
    }
    assert "associations" not in data


def test_password_is_required_and_printed_hashed(shop: OrderShop) -> None:
    customer = shop.customer()

    missing = _post_customer(
        shop,
        "<lastname>Doe</lastname><firstname>Jo</firstname>"
        "<email>jo@example.test</email>",
    )
    stored = shop.json(f"customers/{customer}")["customer"]["passwd"]

    assert missing.status_code == 400 and _codes(missing.text) == ["41"]
    assert stored.startswith("$2y$10$") and "secret-pass-1" not in stored


def test_put_without_password_is_refused_with_code_41(shop: OrderShop) -> None:
    customer = shop.customer()

    answer = shop.send(
        "PUT",
        f"customers/{customer}",
        f"<customer><id>{customer}</id><lastname>Doe</lastname>"
        "<firstname>Jo</firstname><email>jo@example.test</email></customer>",
    )

    assert answer.status_code == 400
    assert 'parameter "passwd" required' in answer.text


def test_duplicate_email_is_a_500_with_codes_140_and_46(shop: OrderShop) -> None:
    body = (
        "<passwd>pass-word-1</passwd><lastname>Doe</lastname><firstname>Jo</firstname>"
        "<email>same@example.test</email>"
    )
    first = _post_customer(shop, body)

    second = _post_customer(shop, body)

    assert first.status_code == 201
    assert second.status_code == 500 and _codes(second.text) == ["140", "46"]


def test_name_with_a_digit_fails_validation_code_85(shop: OrderShop) -> None:
    answer = _post_customer(
        shop,
        "<passwd>pass-word-1</passwd><lastname>Doe 2</lastname>"
        "<firstname>Jo</firstname><email>digit@example.test</email>",
    )

    assert answer.status_code == 400 and _codes(answer.text) == ["85"]
    assert "Customer-&gt;lastname is not valid" in answer.text


def test_group_links_are_kept_sorted(shop: OrderShop) -> None:
    customer = shop.customer(groups=False)

    shop.send(
        "PATCH",
        f"customers/{customer}",
        f"<customer><id>{customer}</id><id_default_group>3</id_default_group>"
        "<associations><groups><group><id>3</id></group><group><id>1</id></group>"
        "</groups></associations></customer>",
    )

    groups = shop.json(f"customers/{customer}")["customer"]["associations"]["groups"]
    assert groups == [{"id": 1}, {"id": 3}]


def test_fresh_shop_has_the_three_default_groups(shop: OrderShop) -> None:
    groups = shop.json("groups?display=[id,reduction,show_prices]&sort=[id_ASC]")

    assert groups == {
        "groups": [
            {"id": 1, "reduction": "0.00", "show_prices": "1"},
            {"id": 2, "reduction": "0.00", "show_prices": "1"},
            {"id": 3, "reduction": "0.00", "show_prices": "1"},
        ]
    }


def test_deleting_an_unused_address_removes_it(shop: OrderShop) -> None:
    address = shop.address(shop.customer())

    deleted = shop.client.delete(f"/api/addresses/{address}")

    assert deleted.status_code == 200
    assert shop.get(f"addresses/{address}").status_code == 404


def test_deleting_an_address_an_order_uses_only_marks_it_deleted(
    shop: OrderShop,
) -> None:
    order_id, _ = shop.place("32.40", [(shop.product("10.00"), 0, 2)])
    address = shop.one("orders", order_id, "id,id_address_delivery")[
        "id_address_delivery"
    ]

    deleted = shop.client.delete(f"/api/addresses/{address}")

    assert deleted.status_code == 200
    assert shop.one("addresses", address, "id,deleted")["deleted"] == "1"


def test_front_office_edit_of_a_used_address_makes_a_new_one(
    shop: OrderShop,
) -> None:
    order_id, _ = shop.place("32.40", [(shop.product("10.00"), 0, 2)])
    old = shop.one("orders", order_id, "id,id_address_delivery")["id_address_delivery"]

    edited = shop.admin("addresses/edit", {"address": old, "city": "Lille"}).json()

    assert edited["replaced"] == old and edited["address"] != old
    assert shop.one("addresses", old, "id,city,deleted") == {
        "id": old,
        "city": "Paris",
        "deleted": "1",
    }
    new = shop.one("addresses", edited["address"], "id,city,deleted,id_customer")
    assert (new["city"], new["deleted"]) == ("Lille", "0")
    assert shop.one("orders", order_id, "id,id_address_delivery") == {
        "id": order_id,
        "id_address_delivery": old,
    }


def test_front_office_edit_of_an_unused_address_changes_it_in_place(
    shop: OrderShop,
) -> None:
    address = shop.address(shop.customer())

    edited = shop.admin("addresses/edit", {"address": address, "city": "Lille"})

    assert edited.json() == {"address": address, "replaced": None}
    assert shop.one("addresses", address, "id,city")["city"] == "Lille"


def test_json_answer_to_a_post_prints_the_object_as_php_held_it(
    shop: OrderShop,
) -> None:
    answer = shop.client.post(
        "/api/customers?output_format=JSON",
        content=(
            "<prestashop><customer><passwd>pass-word-1</passwd><lastname>Doe</lastname>"
            "<firstname>Jo</firstname><email>echo@example.test</email>"
            "<id_lang>1</id_lang></customer></prestashop>"
        ),
    )

    customer = answer.json()["customer"]
    # The new id and the integers sent stay strings; what the shop set is typed.
    assert (customer["id"], customer["id_lang"], customer["id_shop"]) == ("1", "1", 1)
