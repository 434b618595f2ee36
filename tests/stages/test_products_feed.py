"""One Polaris delta read per run, shared by the catalogue, stock and prices."""

from __future__ import annotations

import asyncio
import time

from polaris_sync.audit import Audit
from polaris_sync.config import Config
from polaris_sync.mapping.item import parse_item
from polaris_sync.polaris.models import PolarisItem, ProductPage
from polaris_sync.progress import Progress
from polaris_sync.stages.base import StageContext, StageResult
from polaris_sync.stages.items import ItemRun
from polaris_sync.stages.products_feed import advance_cursor, cursor_name, read_feed
from polaris_sync.state import State


def raw(model: int, changed: str) -> dict:
    return {"NoModele": model, "PrixTTC": 10, "DerniereChangement": changed}


class FakePolaris:
    def __init__(self, items: list[dict]) -> None:
        self.items = items
        self.reads: list[str | None] = []

    async def iter_product_pages(self, since, cursor="", page_size=500):
        self.reads.append(since)
        kept = [
            i for i in self.items if since is None or i["DerniereChangement"] >= since
        ]
        yield ProductPage(
            items=[PolarisItem.model_validate(i) for i in kept], next_cursor=None
        )


def context(polaris: FakePolaris, state: State, **config) -> StageContext:
    return StageContext(
        config=Config.model_validate(
            {"mode": "full", "prestashop": {"url": "http://127.0.0.1:1/api"}, **config}
        ),
        state=state,
        polaris=polaris,
        prestashop=None,
        audit=Audit(None),
        progress=Progress(enabled=False),
    )


ITEMS = [raw(1, "2026-12-01T10:00:00"), raw(2, "2026-12-02T10:00:00")]


def test_the_due_stages_share_one_read_from_their_oldest_cursor():
    state = State.in_memory()
    state.set_cursor(cursor_name("catalogue"), "2026-12-01T00:00:00")
    state.set_cursor(cursor_name("stock"), "2026-12-02T00:00:00")
    state.set_cursor(cursor_name("prices"), "2026-12-02T00:00:00")
    polaris = FakePolaris(ITEMS)
    ctx = context(polaris, state)

    async def go():
        return [
            await read_feed(ctx, stage) for stage in ("catalogue", "stock", "prices")
        ]

    feeds = asyncio.run(go())
    assert polaris.reads == ["2026-12-01T00:00:00"]
    assert feeds[0] is feeds[1] is feeds[2]
    assert [item.model for item in feeds[0].items] == [1, 2]


def test_a_stage_with_an_older_cursor_than_the_read_reads_again():
    state = State.in_memory()
    for stage in ("stock", "prices"):
        state.set_cursor(cursor_name(stage), "2026-12-02T00:00:00")
    state.set_cursor(cursor_name("catalogue"), "2026-11-01T00:00:00")
    # The catalogue ran a minute ago: not due, so not part of the shared read.
    run_id = state.start_run()
    state.record_stage(
        run_id, "catalogue", started_at=time.time(), complete=True, counts={}, errors=[]
    )
    polaris = FakePolaris(ITEMS)
    ctx = context(polaris, state)

    async def go():
        stock = await read_feed(ctx, "stock")
        catalogue = await read_feed(ctx, "catalogue")
        return stock, catalogue

    stock, catalogue = asyncio.run(go())
    assert polaris.reads == ["2026-12-02T00:00:00", "2026-11-01T00:00:00"]
    assert len(stock.items) == 1 and len(catalogue.items) == 2


def test_a_first_run_reads_everything():
    polaris = FakePolaris(ITEMS)
    asyncio.run(read_feed(context(polaris, State.in_memory()), "stock"))
    assert polaris.reads == [None]


def test_the_cursor_stops_at_the_oldest_failed_item():
    state = State.in_memory()
    ctx = context(FakePolaris(ITEMS), state)
    feed = asyncio.run(read_feed(ctx, "stock"))

    advance_cursor(ctx, "stock", feed, failed=[parse_item(ITEMS[0])])
    assert state.cursor(cursor_name("stock")) == "2026-12-01T10:00:00"
    advance_cursor(ctx, "stock", feed, failed=[])
    assert state.cursor(cursor_name("stock")) == "2026-12-02T10:00:00"


def test_a_dry_run_moves_no_cursor():
    state = State.in_memory()
    ctx = context(FakePolaris(ITEMS), state)
    ctx.dry_run = True
    feed = asyncio.run(read_feed(ctx, "stock"))
    advance_cursor(ctx, "stock", feed, failed=[])
    assert state.cursor(cursor_name("stock")) is None


def test_the_feed_keeps_the_latest_copy_of_an_item_read_twice():
    state = State.in_memory()
    newer = {**raw(1, "2026-12-03T10:00:00"), "PrixTTC": 12}
    polaris = FakePolaris([*ITEMS, newer])
    ctx = context(polaris, state)

    feed = asyncio.run(read_feed(ctx, "catalogue"))

    assert len(feed.items) == 2
    # Every pass reads the items again, in the order of their latest copy.
    for _ in range(2):
        items = list(feed.items)
        assert [(i.model, i.changed_at) for i in items] == [
            (2, "2026-12-02T10:00:00"),
            (1, "2026-12-03T10:00:00"),
        ]
    assert items[1].price_incl_tax == 12
    assert feed.newest == "2026-12-03T10:00:00"


def test_passes_take_the_newest_first_and_each_group_largest_first():
    """Workers finishing a pass should not wait on one item with many sizes."""
    sizes = [2, 9, 1, 5, 3, 8, 4]
    polaris = FakePolaris(
        [
            {
                **raw(model, f"2026-12-0{model}T10:00:00"),
                "Tailles": [{"Taille": str(size)} for size in range(count)],
            }
            for model, count in enumerate(sizes, start=1)
        ]
    )
    feed = asyncio.run(read_feed(context(polaris, State.in_memory()), "stock"))

    newest_first = [item.model for item in feed.items.newest_first()]
    assert newest_first == [7, 6, 5, 4, 3, 2, 1]
    ordered = feed.items.newest_first().largest_first_by_groups(3)
    # Groups of 3 from the end, the first one short: [7], [6, 5, 4], [3, 2, 1].
    assert [(item.model, len(item.sizes)) for item in ordered] == [
        (7, 4),
        (6, 8),
        (4, 5),
        (5, 3),
        (2, 9),
        (1, 2),
        (3, 1),
    ]


def test_items_are_handled_a_few_at_a_time_not_all_taken_at_once():
    """Memory: the workers pull items as they go, never the whole feed."""
    ctx = context(FakePolaris([]), State.in_memory())
    run = ItemRun(ctx, StageResult("stock"))
    pulled = 0
    most_in_hand = 0
    in_hand = 0

    def items():
        nonlocal pulled
        for model in range(50):
            pulled += 1
            yield parse_item(raw(model, "2026-12-01T10:00:00"))

    async def handle(item):
        nonlocal most_in_hand, in_hand
        in_hand += 1
        most_in_hand = max(most_in_hand, in_hand, pulled - item.model)
        await asyncio.sleep(0)
        in_hand -= 1

    asyncio.run(run.for_each(items(), handle))

    assert pulled == 50
    assert most_in_hand <= ctx.config.prestashop.max_concurrency
