"""Run the feed stages once in this process, against servers given on the line.

Used by the test that kills a run with SIGKILL: the run must be a separate
process for the kill to be real.

    python stage_runner.py ROOT POLARIS_URL POLARIS_KEY SHOP_URL SHOP_KEY
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from polaris_sync.audit import Audit
from polaris_sync.config import Config
from polaris_sync.polaris.client import PolarisClient
from polaris_sync.prestashop.client import PrestaShopClient
from polaris_sync.progress import Progress
from polaris_sync.stages import catalogue, prices, stock
from polaris_sync.stages.base import StageContext
from polaris_sync.state import State


async def main(
    root: Path, polaris_url: str, polaris_key: str, shop_url: str, shop_key: str
) -> None:
    config = Config.model_validate(
        {
            "mode": "full",
            "state_dir": str(root / "state"),
            "prestashop": {"url": shop_url, "max_requests_per_second": 0},
        }
    )
    with State.open(root / "state") as state, Audit(root / "audit") as audit:
        async with (
            PolarisClient(polaris_url, polaris_key) as polaris,
            PrestaShopClient(shop_url, shop_key, max_requests_per_second=0) as shop,
        ):
            ctx = StageContext(
                config, state, polaris, shop, audit, Progress(enabled=False)
            )
            for stage in (catalogue, stock, prices):
                await stage.run(ctx)


if __name__ == "__main__":
    root, polaris_url, polaris_key, shop_url, shop_key = sys.argv[1:6]
    asyncio.run(main(Path(root), polaris_url, polaris_key, shop_url, shop_key))
