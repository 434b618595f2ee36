"""Weekly clean-up of unused sizes and colours (E8, an option).

Attribute values pile up as collections come and go. Once a week, the values
no combination uses are deleted, only in the attribute groups our mappings
point to (the size-grid targets and the colour group): the merchant's other
groups are never touched.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from polaris_sync.mapping.product import CatalogueOptions
from polaris_sync.stages.base import StageContext
from polaris_sync.stages.items import ItemRun
from polaris_sync.stages.shop import ATTRIBUTE_VALUE

LAST_CLEANUP = "cleanup:last"
EVERY = dt.timedelta(days=7)


def cleanup_due(ctx: StageContext, now: dt.datetime) -> bool:
    last = ctx.state.cursor(LAST_CLEANUP)
    return last is None or now - dt.datetime.fromisoformat(last) >= EVERY


async def remove_unused_values(
    ctx: StageContext, items: ItemRun, options: CatalogueOptions
) -> None:
    now = dt.datetime.now(dt.UTC)
    groups = _our_groups(ctx, options)
    if not groups or not cleanup_due(ctx, now):
        return

    shop = ctx.prestashop
    values = await shop.list(
        "product_option_values",
        filters={"id_attribute_group": sorted(groups)},
        display="[id,id_attribute_group,name]",
    )
    used: set[int] = set()
    async for combination in shop.iter_all("combinations", page_size=250):
        associations = combination.get("associations") or {}
        for value in associations.get("product_option_values") or []:
            used.add(int(value["id"]))

    for value in values:
        value_id = int(value["id"])
        if value_id in used:
            continue
        await items.write(
            "updated",
            f"attribute value {value_id} is used by no product: deleted "
            "(weekly clean-up)",
            partial(shop.delete, "product_option_values", value_id),
            polaris_key=f"attribute-group:{value['id_attribute_group']}",
            prestashop_id=value_id,
            what="attribute value",
        )
        if not ctx.dry_run:
            _forget_links_to(ctx, value_id)
    if not ctx.dry_run:
        ctx.state.set_cursor(LAST_CLEANUP, now.isoformat(timespec="seconds"))


def _our_groups(ctx: StageContext, options: CatalogueOptions) -> set[int]:
    groups = {
        group
        for row in ctx.state.mapping_rows("size-grid")
        for group in row.target_ids()
    }
    if options.colour_group:
        groups.add(options.colour_group)
    return groups


def _forget_links_to(ctx: StageContext, value_id: int) -> None:
    ctx.state.execute(
        "DELETE FROM links WHERE kind = ? AND prestashop_id = ?",
        (ATTRIBUTE_VALUE, value_id),
    )
