"""Finding every new and changed order, across pages and clock changes."""

from datetime import datetime

import pytest

from polaris_sync.prestashop.client import PrestaShopClient
from polaris_sync.stages.order_reads import changed_since, orders_above_id, window_start

from .conftest import SHOP_URL
from .order_doubles import FakeShop

pytestmark = pytest.mark.anyio

ONE_TEE = [(1, 20, 40, "12.000000")]


async def read_all(shop, since, page_size):
    client = PrestaShopClient(SHOP_URL, "KEY", max_requests_per_second=0,
                              transport=shop.transport())
    async with client:
        return [
            int(entry["id"])
            async for page in changed_since(client, "orders", since,
                                            page_size=page_size)
            for entry in page
        ]


async def test_pages_of_one_single_second_are_read_whole():
    shop = FakeShop()
    for order_id in range(1, 8):
        shop.add_order(order_id, ONE_TEE)
        shop.tables["orders"][order_id]["date_upd"] = "2026-12-04 17:00:00"
    assert sorted(await read_all(shop, "2026-12-04 16:00:00", page_size=3)) == list(
        range(1, 8)
    )


async def test_each_changed_order_is_read_once_in_date_order():
    shop = FakeShop()
    for order_id in range(1, 12):
        shop.add_order(order_id, ONE_TEE)
    shop.touch(2)
    ids = await read_all(shop, "2026-12-04 17:00:00", page_size=4)
    assert ids == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 2]


async def test_orders_above_the_last_id_whatever_their_dates():
    shop = FakeShop()
    for order_id in (5, 6, 7):
        shop.add_order(order_id, ONE_TEE, date_add="2001-01-01 00:00:00")
        shop.tables["orders"][order_id]["date_upd"] = "2001-01-01 00:00:00"
    client = PrestaShopClient(SHOP_URL, "KEY", max_requests_per_second=0,
                              transport=shop.transport())
    async with client:
        pages = [page async for page in orders_above_id(client, 5, page_size=1)]
    assert [[int(entry["id"]) for entry in page] for page in pages] == [[6], [7]]


def test_the_window_reaches_back_over_a_repeated_autumn_hour():
    # 02:30 happens twice on the last Sunday of October in Paris: an order
    # changed at the second 02:10 sorts before the last one seen at 02:50.
    start = window_start("2026-10-25 02:50:00", now=datetime(2026, 10, 25, 3),
                         max_age_days=90)
    assert start <= "2026-10-25 01:50:00"


def test_a_first_run_looks_back_as_far_as_orders_are_exported():
    now = datetime(2026, 12, 4, 12, 0, 0)
    assert window_start(None, now=now, max_age_days=90) == "2026-09-05 12:00:00"
