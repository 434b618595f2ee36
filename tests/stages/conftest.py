"""A shop, Polaris and a state database for stage tests, all in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from polaris_sync.audit import Audit, read_events
from polaris_sync.config import Config
from polaris_sync.polaris.client import PolarisClient
from polaris_sync.prestashop.client import PrestaShopClient
from polaris_sync.progress import Progress
from polaris_sync.stages.base import StageContext
from polaris_sync.state import State

from .order_doubles import FakePolaris, FakeShop

# Never contacted: the doubles answer through httpx.MockTransport.
SHOP_URL = "http://127.0.0.1:9/api"
POLARIS_URL = "http://127.0.0.1:9/api/WebConnect"


@dataclass
class World:
    tmp_path: Any
    shop: FakeShop = field(default_factory=FakeShop)
    polaris: FakePolaris = field(default_factory=FakePolaris)
    state: State = field(default_factory=State.in_memory)
    options: dict[str, Any] = field(default_factory=dict)

    def config(self) -> Config:
        raw = {"prestashop": {"url": SHOP_URL}, **self.options}
        return Config.model_validate(raw)

    async def run(self, stage, *args, dry_run: bool = False, **kwargs):
        shop = PrestaShopClient(
            SHOP_URL, "KEY", max_requests_per_second=0, retry_delay=0,
            transport=self.shop.transport(),
        )
        polaris = PolarisClient(
            POLARIS_URL, "POLARIS-KEY", transport=self.polaris.transport(),
            retry_delays=(),
        )
        shop.writes_forbidden = dry_run
        ctx = StageContext(
            config=self.config(),
            state=self.state,
            polaris=polaris,
            prestashop=shop,
            audit=Audit(self.tmp_path / "audit", dry_run=dry_run),
            progress=Progress(enabled=False),
            dry_run=dry_run,
        )
        try:
            return await stage(ctx, *args, **kwargs)
        finally:
            ctx.audit.close()
            await shop.aclose()
            await polaris.aclose()

    def events(self, action: str | None = None) -> list[dict[str, Any]]:
        return [
            event for event in read_events(self.tmp_path / "audit")
            if action is None or event["action"] == action
        ]


@pytest.fixture
def world(tmp_path) -> World:
    world = World(tmp_path)
    world.state.set_mapping("payment", "ps_checkpayment", "CHQ")
    world.state.set_mapping("payment", "ps_wirepayment", "VIR")
    for combination in (40, 41, 42):
        world.state.set_link("combination", f"M1:noir:{combination}", combination)
    world.shop.add_customer(1, "anne@example.test")
    world.options = {
        "orders": {
            "store_code": 3,
            "shipping_reference": "FRAISPORT",
            "wrapping_reference": "PAQCADEAU",
            "voucher_reference": "BONACHAT",
        }
    }
    return world


@pytest.fixture
def anyio_backend():
    return "asyncio"
