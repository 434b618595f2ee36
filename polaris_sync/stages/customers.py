"""Stage `customers`: send customers and their changes to Polaris (G1, G10).

Only when the merchant turned `customers.export` on; otherwise no personal
data leaves the shop and this stage makes no request at all.

A customer goes to Polaris once they bought (one valid order) unless a
marketplace created them, or at once when they belong to the group named in
`customers.polaris_group`. Candidates each run: customers changed since the
last run, customers whose address changed (an edited address is a new row;
the customer's own `date_upd` does not move), and customers of orders changed
since then (a first purchase). What was last sent is kept as a fingerprint, so
an unchanged customer costs no request to Polaris.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from polaris_sync.errors import ItemRejected
from polaris_sync.sales.customers import CustomerRules, customer_refusal
from polaris_sync.sales.order import Address, Customer, address_from_json
from polaris_sync.sales.sale import SaleSettings, client_of
from polaris_sync.stages.base import StageContext, StageResult
from polaris_sync.stages.order_reads import (
    Entity,
    changed_since,
    read_customers,
    window_start,
)

STAGE = "customers"
CURSOR = "customers.date_upd"
FINGERPRINTS = "customer"


async def run(ctx: StageContext) -> StageResult:
    result = StageResult(STAGE)
    if not ctx.config.customers.export:
        return result

    zone = ZoneInfo(ctx.config.orders.shop_timezone)
    now = datetime.now(zone).replace(tzinfo=None)
    # A first run looks as far back as orders are exported, not at every account.
    since = window_start(
        ctx.state.cursor(CURSOR),
        now=now,
        max_age_days=ctx.config.orders.max_age_days,
    )
    candidates, newest = await _candidates(ctx, since)
    customers = await read_customers(ctx.prestashop, candidates)
    buyers = await _buyers(ctx, list(customers))
    addresses = await _latest_addresses(ctx, list(customers))
    rules = await _rules(ctx)
    settings = SaleSettings(
        store_code=0,
        payment_codes={},
        customer_ref_prefix=ctx.config.customers.ref_prefix,
    )

    for customer in customers.values():
        if ctx.out_of_time():
            result.complete = False
            break
        refusal = customer_refusal(
            customer, rules, has_bought=customer.customer_id in buyers
        )
        if refusal is not None:
            _audit(ctx, "skipped", customer, refusal)
            result.count("skipped", what="customer")
            continue
        client = client_of(customer, addresses.get(customer.customer_id), settings)
        await _send(ctx, result, customer, client)

    if newest and not ctx.dry_run and not result.failed and result.complete:
        ctx.state.set_cursor(CURSOR, newest)
    return result


async def _candidates(ctx: StageContext, since: str) -> tuple[set[int], str]:
    """Ids of customers to look at, and the newest `date_upd` met."""
    candidates: set[int] = set()
    newest = ""
    sources = (
        ("customers", "[id,date_upd]", "id"),
        ("addresses", "[id,id_customer,date_upd]", "id_customer"),
        ("orders", "[id,id_customer,date_upd]", "id_customer"),
    )
    for resource, display, key in sources:
        pages = changed_since(ctx.prestashop, resource, since, display=display)
        async for page in pages:
            candidates.update(int(row[key]) for row in page if int(row.get(key) or 0))
            newest = max([newest] + [str(row["date_upd"]) for row in page])
    return candidates, newest


async def _buyers(ctx: StageContext, customer_ids: list[int]) -> set[int]:
    """The customers among `customer_ids` with at least one valid order."""
    if not customer_ids:
        return set()
    orders = await ctx.prestashop.list(
        "orders",
        filters={"id_customer": customer_ids, "valid": 1},
        display="[id,id_customer]",
    )
    return {int(order["id_customer"]) for order in orders}


async def _latest_addresses(
    ctx: StageContext, customer_ids: list[int]
) -> dict[int, Address]:
    """Each customer's most recent address still in use."""
    if not customer_ids:
        return {}
    rows = await ctx.prestashop.list(
        "addresses",
        filters={"id_customer": customer_ids, "deleted": 0},
        sort="[id_ASC]",
    )
    countries = await _country_codes(ctx, rows)
    latest: dict[int, Entity] = {}
    for row in rows:
        latest[int(row["id_customer"])] = row
    return {
        customer_id: address_from_json(
            row, countries.get(int(row.get("id_country") or 0), "")
        )
        for customer_id, row in latest.items()
    }


async def _country_codes(ctx: StageContext, rows: list[Entity]) -> dict[int, str]:
    country_ids = sorted({int(row.get("id_country") or 0) for row in rows} - {0})
    if not country_ids:
        return {}
    countries = await ctx.prestashop.list(
        "countries", filters={"id": country_ids}, display="[id,iso_code]"
    )
    return {int(row["id"]): str(row.get("iso_code") or "") for row in countries}


async def _rules(ctx: StageContext) -> CustomerRules:
    """The group-based rules: group names are the merchant's, ids the shop's."""
    options = ctx.config.customers
    groups = await ctx.prestashop.list("groups", display="[id,name]")

    def ids_named(names: list[str]) -> list[int]:
        wanted = {name.casefold() for name in names}
        return [
            int(group["id"])
            for group in groups
            if wanted & {text.casefold() for text in _texts(group.get("name"))}
        ]

    return CustomerRules(
        marketplace_domains=options.marketplace_domains,
        marketplace_group_ids=ids_named(options.marketplace_groups),
        polaris_group_ids=ids_named([options.polaris_group]),
    )


async def _send(
    ctx: StageContext, result: StageResult, customer: Customer, client: dict[str, Any]
) -> None:
    key = str(customer.customer_id)
    fingerprint = hashlib.sha256(
        json.dumps(client, sort_keys=True).encode()
    ).hexdigest()[:32]
    previous = ctx.state.fingerprint(FINGERPRINTS, key)
    if previous == fingerprint:
        result.count("unchanged", what="customer")
        return
    if ctx.dry_run:
        _audit(ctx, "planned", customer, "would send the customer to Polaris")
        result.count("planned", what="customer")
        return

    try:
        await ctx.polaris.upsert_customer(client)
    except ItemRejected as rejected:
        reason = f"Polaris refused customer {customer.customer_id}: {rejected}"
        _audit(ctx, "failed", customer, reason)
        result.fail(reason, what="customer")
        return
    ctx.state.set_fingerprint(FINGERPRINTS, key, fingerprint)
    action = "created" if previous is None else "updated"
    _audit(ctx, action, customer, f"customer {customer.customer_id} sent to Polaris")
    result.count(action, what="customer")


def _audit(ctx: StageContext, action: str, customer: Customer, reason: str) -> None:
    ctx.audit.event(
        action,
        stage=STAGE,
        what="customer",
        reason=reason,
        prestashop_id=customer.customer_id,
        polaris_key=f"{ctx.config.customers.ref_prefix}{customer.customer_id}",
    )


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(text) for text in value.values()]
    return [str(value)] if value else []
