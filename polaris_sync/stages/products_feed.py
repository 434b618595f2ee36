"""The Polaris catalogue delta, read once per run for every stage that needs it.

The catalogue, stock and prices stages all work from the items that changed
in Polaris. Each keeps its own "changed since" cursor; the run reads from the
oldest cursor among the stages that are due, once, and every stage handles
the items (re-handling an item costs nothing: fingerprints say it is
unchanged). A stage moves its cursor only after its work is safe, and never
past an item that failed, so that item is read again next run.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from decimal import Decimal

from polaris_sync.config import Config
from polaris_sync.mapping.item import CatalogueItem, from_polaris
from polaris_sync.mapping.product import CatalogueOptions, Mappings
from polaris_sync.stages.base import StageContext, StageResult

FEED_STAGES = ("catalogue", "stock", "prices")


@dataclass
class Feed:
    items: list[CatalogueItem] = field(default_factory=list)
    # Items Polaris sent that could not be read: (what identifies them, why).
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    since: str | None = None
    pages: int = 0

    @property
    def newest(self) -> str | None:
        return max(
            (item.changed_at for item in self.items if item.changed_at), default=None
        )


_feeds: dict[int, tuple[weakref.ref[StageContext], Feed]] = {}


def cursor_name(stage: str) -> str:
    return f"feed-since:{stage}"


async def read_feed(ctx: StageContext) -> Feed:
    """The delta for this run, fetched on the first call and shared after."""
    cached = _feeds.get(id(ctx))
    if cached is not None and cached[0]() is ctx:
        return cached[1]

    feed = Feed(since=_oldest_cursor(ctx))
    async for page in ctx.polaris.iter_product_pages(
        feed.since, page_size=ctx.config.polaris.page_size
    ):
        feed.pages += 1
        feed.items.extend(from_polaris(item) for item in page.items)
        feed.unreadable.extend(page.rejected)
    _feeds.clear()  # one run at a time: drop the previous run's items
    _feeds[id(ctx)] = (weakref.ref(ctx), feed)
    return feed


def advance_cursor(
    ctx: StageContext, stage: str, feed: Feed, failed: list[CatalogueItem]
) -> None:
    """Move the stage's cursor to the newest item seen, or the oldest failure."""
    if ctx.dry_run:
        return
    target = min((item.changed_at for item in failed), default=None) or feed.newest
    if target is not None:
        ctx.state.set_cursor(cursor_name(stage), target)


def due_feed_stages(ctx: StageContext) -> list[str]:
    """The feed stages this run will execute, judged like the run does (B3)."""
    intervals = ctx.config.intervals
    due = []
    for stage in FEED_STAGES:
        if stage == "catalogue" and ctx.config.mode != "full":
            continue
        last = ctx.state.last_stage_success(stage)
        minutes = getattr(intervals, stage)
        if last is None or time.time() - last >= minutes * 60:
            due.append(stage)
    return due


def _oldest_cursor(ctx: StageContext) -> str | None:
    stages = due_feed_stages(ctx) or list(FEED_STAGES)
    cursors = [ctx.state.cursor(cursor_name(stage)) for stage in stages]
    if any(cursor is None for cursor in cursors):
        return None
    return min(c for c in cursors if c is not None)


def catalogue_options(
    config: Config, languages: tuple[int, ...] = ()
) -> CatalogueOptions:
    section = config.catalogue
    return CatalogueOptions(
        languages=languages,
        products_per=section.products_per,
        default_category=section.default_category,
        promo_category=section.promo_category or None,
        tax_rules_groups={
            Decimal(rate): group for rate, group in section.tax_rules_groups.items()
        },
        default_tax_rate=Decimal(str(section.default_tax_rate)),
        colour_group=section.colour_group or None,
        stores=frozenset(config.stock.stores),
        safety_stock=config.stock.safety_stock,
        max_ean_digits=section.max_ean_digits,
        synced_fields=frozenset(section.update_fields),
    )


def current_mappings(ctx: StageContext) -> Mappings:
    return Mappings.from_rows(ctx.state.mapping_rows())


def report_unreadable(
    ctx: StageContext, stage: str, feed: Feed, result: StageResult
) -> None:
    for key, why in feed.unreadable:
        ctx.audit.event(
            "skipped",
            stage=stage,
            reason=f"Polaris sent an item that cannot be read: {why}",
            polaris_key=key,
        )
        result.count("skipped")
