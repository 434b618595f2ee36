"""One Polaris delta read per run, shared by the catalogue, stock and prices."""

from __future__ import annotations

import asyncio
import time

from polaris_sync.audit import Audit
from polaris_sync.config import Config
from polaris_sync.mapping.item import parse_item
from polaris_sync.polaris.models import PolarisItem, ProductPage
from polaris_sync.progress import Progress
from polaris_sync.stages.base import StageContext
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
