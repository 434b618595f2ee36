"""The emulator writes every date in the shop's time zone (PS_TIMEZONE), as a
real shop does, whatever the machine's own time zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .order_shop import OrderShop


@pytest.fixture
def shop(tmp_path: Path) -> OrderShop:
    return OrderShop(tmp_path / "shop.db")


def _shop_clock(zone: str) -> str:
    return datetime.now(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def _set_time_zone(shop: OrderShop, zone: str) -> None:
    setting = shop.json("configurations?filter[name]=[PS_TIMEZONE]&display=[id]")
    row = setting["configurations"][0]["id"]
    answer = shop.send(
        "PATCH",
        f"configurations/{row}",
        f"<configuration><id>{row}</id><value>{zone}</value></configuration>",
    )
    assert answer.status_code == 200, answer.text


def _created_between(shop: OrderShop, zone: str) -> tuple[str, str, str]:
    before = _shop_clock(zone)
    product = shop.product("10.00")
    after = _shop_clock(zone)
    return before, shop.one("products", product, "id,date_add")["date_add"], after


def test_a_fresh_shop_keeps_its_dates_in_paris_time(shop: OrderShop) -> None:
    setting = shop.json("configurations?filter[name]=[PS_TIMEZONE]&display=[value]")

    before, written, after = _created_between(shop, "Europe/Paris")

    assert setting["configurations"] == [{"value": "Europe/Paris"}]
    assert before <= written <= after


def test_dates_follow_the_configured_time_zone(shop: OrderShop) -> None:
    _set_time_zone(shop, "America/New_York")

    before, written, after = _created_between(shop, "America/New_York")
    customer = shop.customer()
    customer_dates = shop.one("customers", customer, "id,date_add")

    assert before <= written <= after
    assert before <= customer_dates["date_add"] <= _shop_clock("America/New_York")


def test_a_placed_order_carries_the_shop_clock(shop: OrderShop) -> None:
    customer = shop.customer()
    shop.address(customer)
    line = {"product": shop.product("10.00"), "quantity": 1}

    before = _shop_clock("Europe/Paris")
    placed = shop.admin("orders", {"customer": customer, "lines": [line]}).json()
    after = _shop_clock("Europe/Paris")

    order = shop.one("orders", placed["order"], "id,date_add,date_upd")
    history = shop.rows("order_histories", f"filter[id_order]=[{placed['order']}]")
    assert before <= order["date_add"] <= order["date_upd"] <= after
    assert before <= history[0]["date_add"] <= after


@pytest.mark.parametrize(
    "instant, local",
    [
        ("2026-01-15T17:08:00Z", "2026-01-15 18:08:00"),  # winter, UTC+1
        ("2026-07-15T17:08:00+00:00", "2026-07-15 19:08:00"),  # summer, UTC+2
        ("2026-03-29T00:30:00Z", "2026-03-29 01:30:00"),  # just before the change
        ("2026-03-29T01:30:00Z", "2026-03-29 03:30:00"),  # just after it
    ],
)
def test_an_order_placed_at_an_instant_is_dated_in_shop_time(
    shop: OrderShop, instant: str, local: str
) -> None:
    customer = shop.customer()
    shop.address(customer)
    line = {"product": shop.product("10.00"), "quantity": 1}

    answer = shop.admin(
        "orders", {"customer": customer, "lines": [line], "placed_at": instant}
    )

    assert answer.status_code == 201, answer.text
    order = shop.one("orders", answer.json()["order"], "id,date_add,date_upd")
    assert (order["date_add"], order["date_upd"]) == (local, local)



def test_an_unknown_time_zone_falls_back_to_utc(shop: OrderShop) -> None:
    _set_time_zone(shop, "Mars/Olympus_Mons")

    before, written, after = _created_between(shop, "UTC")

    assert before <= written <= after
