"""Reference data the order side reads: carriers, countries, currencies, stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from .order_shop import OrderShop


@pytest.fixture
def shop(tmp_path: Path) -> OrderShop:
    return OrderShop(tmp_path / "shop.db")


def test_fresh_shop_has_the_four_demo_carriers(shop: OrderShop) -> None:
    carriers = shop.json("carriers?display=[id,name,active,is_free]&sort=[id_ASC]")

    assert carriers == {
        "carriers": [
            {"id": 1, "name": "Click and collect", "active": "1", "is_free": "1"},
            {"id": 2, "name": "My carrier", "active": "1", "is_free": "0"},
            {"id": 3, "name": "My cheap carrier", "active": "0", "is_free": "0"},
            {"id": 4, "name": "My light carrier", "active": "0", "is_free": "0"},
        ]
    }


def test_carrier_tax_rule_group_is_a_virtual_field(shop: OrderShop) -> None:
    answer = shop.get("carriers/2")

    assert 'notFilterable="true"' in answer.text
    assert "/api/tax_rule_groups/1" in answer.text


def test_france_is_country_8_and_the_euro_currency_1(shop: OrderShop) -> None:
    france = shop.one("countries", 8, "id,iso_code,need_zip_code,call_prefix")
    euro = shop.one("currencies", 1, "id,iso_code,conversion_rate")

    assert france == {
        "id": 8,
        "iso_code": "FR",
        "need_zip_code": "1",
        "call_prefix": 33,
    }
    assert euro == {"id": 1, "iso_code": "EUR", "conversion_rate": "1.000000"}


def test_stores_are_listed_with_their_country(shop: OrderShop) -> None:
    stores = shop.rows("stores", "filter[id_country]=[8]")

    assert [store["city"] for store in stores] == ["Lyon", "Nantes"]
