"""Basic mode: products the merchant adds to the shop after we looked for them.

An item searched in the shop in vain is not searched again until it changes
in Polaris (runs re-read the newest items and must stay cheap). A product
created by hand afterwards would then wait for a change in Polaris before its
stock is written. So each run asks the shop once for the products added or
updated since the previous check (ids and references only), and for the
barcodes of those whose reference nobody waits for (one more read, only when
such products exist). An item waiting for one of them is searched again: the
stock and prices stages read Polaris again from that item's last change, and
this run links it and writes its stock and price.

The check keeps its place with the shop's own dates (its clock and time zone
are not ours): the newest `date_upd` seen, with the ids seen at that second,
so that the next check, which starts at that second, skips them.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from polaris_sync.mapping.item import CatalogueItem
from polaris_sync.mapping.product import (
    CatalogueOptions,
    desired_combinations,
    product_key,
    product_reference,
)
from polaris_sync.stages.base import StageContext, StageResult
from polaris_sync.stages.products_feed import rewind_cursors
from polaris_sync.stages.shop import PRODUCT, ShopLookups, linked_ids

# Fingerprint kinds. NOT_IN_SHOP: product key -> the item's change date when
# the shop was searched in vain. The two others lead from what the shop may
# show later to the product key waiting for it.
NOT_IN_SHOP = "not-in-shop"
WAITING_REFERENCE = "not-in-shop-reference"
WAITING_BARCODE = "not-in-shop-barcode"
# Product key -> shop product id, from the check until the item is linked.
FOUND_LATE = "found-late"

CURSOR = "shop-products-checked"
# Shop products read a check; a busier shop is caught up over several runs.
PAGE = 500
_NO_DATE = "1970-01-01 00:00:00"
_END_OF_TIME = "9999-12-31 23:59:59"
FOUND = "found late"

_checked: dict[int, weakref.ref[StageContext]] = {}


def waiting(
    ctx: StageContext, item: CatalogueItem, options: CatalogueOptions
) -> None:
    """Remember that the shop lacks `item`, and what would reveal it there."""
    key = product_key(item, options)
    with ctx.state.transaction():
        ctx.state.set_fingerprint(NOT_IN_SHOP, key, item.changed_at or "")
        ctx.state.forget_fingerprint(FOUND_LATE, key)
        reference = product_reference(item, options).casefold()
        if reference:
            ctx.state.set_fingerprint(WAITING_REFERENCE, reference, key)
        for combination in desired_combinations(item, options):
            if combination.ean13:
                ctx.state.set_fingerprint(WAITING_BARCODE, combination.ean13, key)


def searched_in_vain(
    ctx: StageContext, item: CatalogueItem, options: CatalogueOptions
) -> bool:
    key = product_key(item, options)
    return ctx.state.fingerprint(NOT_IN_SHOP, key) == item.changed_at


def found_late(ctx: StageContext, key: str) -> bool:
    """Whether the item was waiting and a check has since seen it in the shop."""
    return ctx.state.fingerprint(FOUND_LATE, key) is not None


def linked(ctx: StageContext, key: str) -> None:
    ctx.state.forget_fingerprint(FOUND_LATE, key)


async def notice_new_products(ctx: StageContext, result: StageResult) -> None:
    """Once a run in basic mode: search again the items new shop products match.

    Call before the stage reads the Polaris feed: a match moves the feed back.
    """
    if ctx.config.mode != "basic" or _already_checked(ctx):
        return
    since, seen = _read_cursor(ctx.state.cursor(CURSOR))
    if since is None:
        await _start(ctx)
        return
    if not _any_of_kind(ctx, NOT_IN_SHOP):
        return
    rows = await ctx.prestashop.list(
        "products",
        filters={"date_upd": f"[{since},{_END_OF_TIME}]"},
        display="[id,reference,date_upd]",
        sort="[date_upd_ASC,id_ASC]",
        limit=f"{_skipped(seen)},{PAGE}",
        date=True,
    )
    new = [row for row in rows if int(row["id"]) not in seen or row_date(row) > since]
    # Our own price writes date the products we linked, too.
    linked = linked_ids(ctx.state, PRODUCT, {int(row["id"]) for row in new})
    found = await _match(ctx, [row for row in new if int(row["id"]) not in linked])
    for key, product_id in found.items():
        _search_again(ctx, key, product_id)
    result.count(FOUND, len(found), what="product")
    if rows:
        ctx.state.set_cursor(CURSOR, _cursor_after(since, seen, rows))


def _skipped(seen: set[int]) -> int:
    """Rows to step over at the start of the read: none, normally.

    Rows seen at the cursor's second are told apart by their ids. Only when a
    whole page shares that second (a bulk update) would the check never get
    past it: then the rows seen, which come first, are stepped over.
    """
    return len(seen) if len(seen) >= PAGE else 0


def _already_checked(ctx: StageContext) -> bool:
    known = _checked.get(id(ctx))
    if known is not None and known() is ctx:
        return True
    _checked.clear()
    _checked[id(ctx)] = weakref.ref(ctx)
    return False


async def _start(ctx: StageContext) -> None:
    """The first check only notes where the shop's dates are now."""
    newest = await ctx.prestashop.list(
        "products",
        display="[id,date_upd]",
        sort="[date_upd_DESC,id_DESC]",
        limit=1,
        date=True,
    )
    cursor = _cursor_after(_NO_DATE, set(), newest) if newest else _NO_DATE
    ctx.state.set_cursor(CURSOR, cursor)


async def _match(ctx: StageContext, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Product keys waiting for these shop products: by reference, then barcode."""
    found: dict[str, int] = {}
    by_barcode: list[int] = []
    for row in rows:
        key = _waiting_key(ctx, WAITING_REFERENCE, str(row.get("reference", "")))
        if key is not None:
            found.setdefault(key, int(row["id"]))
        else:
            by_barcode.append(int(row["id"]))
    if not by_barcode or not _any_of_kind(ctx, WAITING_BARCODE):
        return found
    combinations = ShopLookups(ctx).rows_where(
        "combinations", "id_product", by_barcode, "[id,id_product,ean13]"
    )
    async for batch in combinations:
        for combination in batch:
            key = _waiting_key(ctx, WAITING_BARCODE, str(combination.get("ean13", "")))
            if key is not None:
                found.setdefault(key, int(combination["id_product"]))
    return found


def _waiting_key(ctx: StageContext, kind: str, value: str) -> str | None:
    """The product key still waiting for this reference or barcode, if any."""
    if not value:
        return None
    key = ctx.state.fingerprint(kind, value.casefold())
    if key is None:
        return None
    if ctx.state.fingerprint(NOT_IN_SHOP, key) is None:
        return None
    return key


def _any_of_kind(ctx: StageContext, kind: str) -> bool:
    """Whether any fingerprint of `kind` is recorded: anything waiting at all."""
    row = ctx.state.execute(
        "SELECT 1 FROM fingerprints WHERE kind = ? LIMIT 1", (kind,)
    ).fetchone()
    return row is not None


def _search_again(ctx: StageContext, key: str, product_id: int) -> None:
    changed_at = ctx.state.fingerprint(NOT_IN_SHOP, key) or ""
    with ctx.state.transaction():
        ctx.state.forget_fingerprint(NOT_IN_SHOP, key)
        ctx.state.set_fingerprint(FOUND_LATE, key, str(product_id))
        rewind_cursors(ctx, ("stock", "prices"), changed_at)


def row_date(row: dict[str, Any]) -> str:
    return str(row.get("date_upd") or _NO_DATE)


def _read_cursor(value: str | None) -> tuple[str | None, set[int]]:
    if value is None:
        return None, set()
    since, _, ids = value.partition("|")
    return since, {int(i) for i in ids.split(",") if i}


def _cursor_after(since: str, seen: set[int], rows: Iterable[dict[str, Any]]) -> str:
    """The newest date among `rows`, with every id seen at that second."""
    rows = list(rows)
    newest = max(row_date(row) for row in rows)
    at_newest = {int(row["id"]) for row in rows if row_date(row) == newest}
    if newest == since:
        at_newest |= seen
    return f"{newest}|{','.join(str(i) for i in sorted(at_newest))}"
