"""Reading orders, and what a sale needs of them, from the Webservice.

Orders are found two ways, both needed: by `date_upd` (new and changed
orders; `date=1` is mandatory for date filters) and by id above the highest
one seen (an order written with an old or skewed timestamp is still found).
The date window starts a few hours before the last `date_upd` seen: order
dates are the shop's local time, which repeats an hour each autumn, and clocks
drift. Orders seen twice are told apart by id and `date_upd`.

Related objects are read in batches, one request per resource per page of
orders: details, vouchers used, credit slips, and, when customers are
exported, customers, invoice addresses and their countries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from polaris_sync.sales.order import (
    Address,
    Customer,
    ShopOrder,
    address_from_json,
    customer_from_json,
    order_from_json,
)

PAGE_SIZE = 50
# How far before the last `date_upd` seen each run looks again.
OVERLAP = timedelta(hours=3)
SHOP_TIME = "%Y-%m-%d %H:%M:%S"
FAR_FUTURE = "2999-12-31 23:59:59"

Entity = dict[str, Any]


async def changed_since(
    prestashop: Any,
    resource: str,
    since: str,
    *,
    display: str = "full",
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[list[Entity]]:
    """Pages of `resource` objects whose `date_upd` is at or after `since`.

    Pages by keyset (the last `date_upd` read starts the next page) so that an
    object updated while paging moves later instead of shifting the pages.
    """
    seen: set[tuple[int, str]] = set()
    start, limit = since, page_size
    while True:
        page = await prestashop.list(
            resource,
            filters={"date_upd": f"[{start},{FAR_FUTURE}]"},
            display=display,
            sort="[date_upd_ASC,id_ASC]",
            limit=f"0,{limit}",
            date=True,
        )
        fresh = [row for row in page if (int(row["id"]), row["date_upd"]) not in seen]
        seen.update((int(row["id"]), row["date_upd"]) for row in fresh)
        if fresh:
            yield fresh
        if len(page) < limit:
            return
        last = page[-1]["date_upd"]
        # A full page of one single second: read a longer page of that second.
        limit = limit * 2 if last == start else page_size
        start = last


async def orders_above_id(
    prestashop: Any, last_id: int, page_size: int = PAGE_SIZE
) -> AsyncIterator[list[Entity]]:
    """Pages of orders whose id is above `last_id`, in id order."""
    while True:
        page = await prestashop.list(
            "orders",
            filters={"id": f">[{last_id}]"},
            sort="[id_ASC]",
            limit=f"0,{page_size}",
        )
        if page:
            yield page
        if len(page) < page_size:
            return
        last_id = int(page[-1]["id"])


async def orders_by_id(prestashop: Any, order_ids: Iterable[int]) -> list[Entity]:
    return [entry async for entry in prestashop.iter_by_ids("orders", order_ids)]


async def complete_orders(
    prestashop: Any, entries: list[Entity], *, with_customers: bool
) -> list[ShopOrder]:
    """`ShopOrder`s of order entries, with everything a sale is built from."""
    if not entries:
        return []
    order_ids = [int(entry["id"]) for entry in entries]
    details = await _by_order("order_details", prestashop, order_ids)
    vouchers = await _by_order("order_cart_rules", prestashop, order_ids)
    slips = await _by_order("order_slip", prestashop, order_ids)
    customers: Mapping[int, Customer] = {}
    addresses: Mapping[int, Address] = {}
    if with_customers:
        customers = await read_customers(
            prestashop, {int(entry["id_customer"]) for entry in entries}
        )
        addresses = await read_addresses(
            prestashop, {int(entry.get("id_address_invoice") or 0) for entry in entries}
        )

    return [
        order_from_json(
            entry,
            details=details.get(int(entry["id"]), []),
            vouchers=vouchers.get(int(entry["id"]), []),
            slips=slips.get(int(entry["id"]), []),
            customer=customers.get(int(entry["id_customer"])),
            invoice_address=addresses.get(int(entry.get("id_address_invoice") or 0)),
        )
        for entry in entries
    ]


async def _by_order(
    resource: str, prestashop: Any, order_ids: list[int]
) -> dict[int, list[Entity]]:
    rows = await prestashop.list(
        resource, filters={"id_order": order_ids}, sort="[id_ASC]"
    )
    grouped: dict[int, list[Entity]] = {}
    for row in rows:
        grouped.setdefault(int(row["id_order"]), []).append(row)
    return grouped


async def read_customers(
    prestashop: Any, customer_ids: Iterable[int]
) -> dict[int, Customer]:
    wanted = [customer_id for customer_id in customer_ids if customer_id]
    return {
        int(entry["id"]): customer_from_json(entry)
        async for entry in prestashop.iter_by_ids("customers", wanted)
    }


async def read_addresses(
    prestashop: Any, address_ids: Iterable[int]
) -> dict[int, Address]:
    """Addresses by id, with the ISO code of their country.

    Orders keep pointing at the address used when they were placed, even
    after the customer edits it (PrestaShop then marks it deleted and makes a
    new one), so addresses are read by the ids the orders hold.
    """
    wanted = [address_id for address_id in address_ids if address_id]
    entries = [entry async for entry in prestashop.iter_by_ids("addresses", wanted)]
    country_ids = {int(entry.get("id_country") or 0) for entry in entries}
    countries = {
        int(country["id"]): str(country.get("iso_code") or "")
        for country in await prestashop.list(
            "countries",
            filters={"id": sorted(country_ids - {0})},
            display="[id,iso_code]",
        )
    } if country_ids - {0} else {}
    return {
        int(entry["id"]): address_from_json(
            entry, countries.get(int(entry.get("id_country") or 0), "")
        )
        for entry in entries
    }


def window_start(last_seen: str | None, *, now: datetime, max_age_days: int) -> str:
    """Where this run's `date_upd` window starts (shop local time)."""
    if last_seen is None:
        start = now - timedelta(days=max_age_days or 3650)
    else:
        start = datetime.strptime(last_seen, SHOP_TIME) - OVERLAP
    return start.strftime(SHOP_TIME)
