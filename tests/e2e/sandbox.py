"""Both sandbox servers and the engine's stages around them, for e2e tests.

In-process by default (httpx ASGI transports: fast). `serve()` puts both apps
on real loopback HTTP instead, for tests where another process talks to them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from polaris_sync.audit import Audit
from polaris_sync.config import Config
from polaris_sync.polaris.association import Association, save_association
from polaris_sync.polaris.client import PolarisClient
from polaris_sync.prestashop.client import PrestaShopClient
from polaris_sync.progress import Progress
from polaris_sync.run import Connections
from polaris_sync.sandbox.http import BackgroundServer
from polaris_sync.sandbox.polaris import create_app as create_polaris
from polaris_sync.sandbox.prestashop import create_app as create_prestashop
from polaris_sync.stages import catalogue, prices, stock
from polaris_sync.stages.base import StageContext, StageResult
from polaris_sync.state import State

API_KEY = "TESTKEY0123456789ABCDEFGHIJKLMNO"
POLARIS_URL = "http://polaris.test"
SHOP_URL = "http://shop.test/api"
STAGES = {"catalogue": catalogue.run, "stock": stock.run, "prices": prices.run}
ALL_STAGES = ("catalogue", "stock", "prices")

# A test decides, per request, to answer 500 instead of the shop: "before"
# (nothing done), "after" (the write landed, the answer is lost) or None.
Fault = Callable[[httpx.Request], str | None]


class Sandbox:
    """A Polaris simulator, a PrestaShop emulator, and the engine's state."""

    def __init__(
        self,
        root: Path,
        *,
        models: int = 3,
        version: str = "8.1.2",
        mode: str = "full",
    ) -> None:
        self.root = root
        self.version = version
        self.polaris_app = create_polaris(root / "polaris", models=models, seed=7)
        self.simulator = self.polaris_app.state.simulator
        self.shop_app = create_prestashop(
            root / "shop.sqlite3", api_key=API_KEY, version=version
        )
        self.polaris_url = POLARIS_URL
        self.shop_url = SHOP_URL
        self._servers: list[BackgroundServer] = []
        self.config_data: dict[str, Any] = {
            "mode": mode,
            "state_dir": str(root / "state"),
            "prestashop": {"url": SHOP_URL, "max_requests_per_second": 0},
            "intervals": {"catalogue": 0, "stock": 0, "prices": 0},
        }
        self.state = State.open(root / "state")
        self.fault: Fault | None = None
        self.shop_requests: list[httpx.Request] = []
        self.polaris_requests: list[httpx.Request] = []
        access = self.simulator.associate(
            self.simulator.licence, self.simulator.pin, f"{POLARIS_URL}/api/WebConnect"
        )
        self.polaris_key = access["Cle"]

    # -- set-up ---------------------------------------------------------------

    def prepare_shop(self) -> tuple[int, int]:
        """A size attribute group and a brand, and every value mapped to them."""
        group_id = self.create_attribute_group("Taille")
        brand_id = self.create("manufacturers", {"name": "Maison", "active": 1})
        self.state.set_mapping("brand", "*", str(brand_id))
        self.state.set_mapping("size-grid", "*", str(group_id))
        return group_id, brand_id

    def pair(self) -> None:
        """Store the Polaris access and the shop key, as `associate` and `init` do.

        Needed by tests that go through the run cycle rather than the stages.
        """
        save_association(
            self.state,
            Association(
                licence=self.simulator.licence,
                url=f"{POLARIS_URL}/api/WebConnect",
                key=self.polaris_key,
                store_code=1,
                test_mode=False,
                associated_at="2026-12-04T10:00:00+00:00",
            ),
        )
        self.config_data["prestashop"]["key"] = API_KEY

    def create_attribute_group(self, name: str, *, colour: bool = False) -> int:
        names = {1: name, 2: name}
        return self.create(
            "product_options",
            {
                "is_color_group": colour,
                "group_type": "color" if colour else "select",
                "name": names,
                "public_name": names,
            },
        )

    def create(self, resource: str, fields: dict[str, Any]) -> int:
        """An object made by hand in the shop, e.g. in the back office."""

        async def create() -> int:
            async with self.shop() as shop:
                return int((await shop.create(resource, fields))["id"])

        return asyncio.run(create())

    def serve(self) -> None:
        """Serve both apps over loopback HTTP (stop with `close`)."""
        polaris = BackgroundServer(self.polaris_app).start()
        shop = BackgroundServer(self.shop_app).start()
        self._servers = [polaris, shop]
        self.polaris_url = polaris.url
        self.shop_url = f"{shop.url}/api"
        self.config_data["prestashop"]["url"] = self.shop_url

    def close(self) -> None:
        for server in self._servers:
            server.stop()
        self.state.close()

    # -- running stages ---------------------------------------------------------

    def recorded_connections(self) -> Connections:
        """Connections for `run_cycle` that keep every request, as `run` does."""
        return Connections(
            polaris_transport=_Recording(self, self.polaris_app, is_shop=False),
            prestashop_transport=_Recording(self, self.shop_app, is_shop=True),
        )

    @property
    def config(self) -> Config:
        return Config.model_validate(self.config_data)

    def context(
        self, *, dry_run: bool = False, resync_refs: frozenset[str] = frozenset()
    ) -> StageContext:
        served = bool(self._servers)
        polaris = PolarisClient(
            f"{self.polaris_url}/api/WebConnect",
            self.polaris_key,
            transport=None if served else _Recording(self, self.polaris_app, False),
        )
        shop = PrestaShopClient(
            self.shop_url,
            API_KEY,
            max_requests_per_second=0,
            retry_delay=0,
            transport=None if served else _Recording(self, self.shop_app, True),
        )
        shop.writes_forbidden = dry_run
        state = State.open_snapshot(self.root / "state") if dry_run else self.state
        return StageContext(
            config=self.config,
            state=state,
            polaris=polaris,
            prestashop=shop,
            audit=Audit(self.root / "audit", dry_run=dry_run),
            progress=Progress(enabled=False),
            dry_run=dry_run,
            resync_refs=resync_refs,
        )

    def run(
        self,
        stages: Iterable[str] = ALL_STAGES,
        *,
        dry_run: bool = False,
        resync_refs: frozenset[str] = frozenset(),
    ) -> dict[str, StageResult]:
        self.shop_requests.clear()
        self.polaris_requests.clear()
        self.last_context = self.context(dry_run=dry_run, resync_refs=resync_refs)
        return asyncio.run(_run(self.last_context, stages))

    # -- looking at the shop ------------------------------------------------------

    def shop(self) -> PrestaShopClient:
        return PrestaShopClient(
            self.shop_url,
            API_KEY,
            max_requests_per_second=0,
            transport=httpx.ASGITransport(app=self.shop_app),
        )

    def read_shop(self, resource: str, **filters: Any) -> list[dict[str, Any]]:
        async def read() -> list[dict[str, Any]]:
            async with self.shop() as shop:
                return await shop.list(resource, filters=filters, sort="[id_ASC]")

        return asyncio.run(read())

    def edit_shop(self, resource: str, object_id: int, fields: dict[str, Any]) -> None:
        """A change made by hand in the back office."""

        async def edit() -> None:
            async with self.shop() as shop:
                await shop.update(resource, object_id, fields)

        asyncio.run(edit())

    @property
    def update_method(self) -> str:
        """PATCH from PrestaShop 8 on; 1.7.8 only knows full PUTs."""
        return "PUT" if self.version.startswith("1.") else "PATCH"

    def shop_writes(self) -> list[httpx.Request]:
        return [r for r in self.shop_requests if r.method not in ("GET", "HEAD")]

    def shop_admin(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        """The emulator's `/_sandbox/` API (faults, request counts)."""

        async def call() -> Any:
            transport = httpx.ASGITransport(app=self.shop_app)
            root = SHOP_URL.removesuffix("/api")
            async with httpx.AsyncClient(transport=transport, base_url=root) as c:
                response = await c.request(method, f"/_sandbox/{path}", json=body)
                response.raise_for_status()
                return response.json() if response.content else None

        return asyncio.run(call())

    def polaris_admin(self, path: str, body: dict[str, Any]) -> Any:
        async def post() -> Any:
            transport = httpx.ASGITransport(app=self.polaris_app)
            async with httpx.AsyncClient(
                transport=transport, base_url=POLARIS_URL
            ) as c:
                response = await c.post(f"/_sandbox/{path}", json=body)
                response.raise_for_status()
                return response.json()

        return asyncio.run(post())


async def _run(ctx: StageContext, stages: Iterable[str]) -> dict[str, StageResult]:
    results = {}
    try:
        for name in stages:
            results[name] = await STAGES[name](ctx)
    finally:
        await ctx.polaris.aclose()
        await ctx.prestashop.aclose()
    return results


class _Recording(httpx.AsyncBaseTransport):
    """The in-process app, with every request kept and optional faults."""

    def __init__(self, sandbox: Sandbox, app: Any, is_shop: bool) -> None:
        self._sandbox = sandbox
        self._inner = httpx.ASGITransport(app=app)
        self._is_shop = is_shop

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sandbox = self._sandbox
        seen = sandbox.shop_requests if self._is_shop else sandbox.polaris_requests
        seen.append(request)
        when = sandbox.fault(request) if self._is_shop and sandbox.fault else None
        if when == "before":
            return httpx.Response(500, text="<html>Internal Server Error</html>")
        response = await self._inner.handle_async_request(request)
        if when == "after":
            await response.aread()
            return httpx.Response(500, text="<html>Internal Server Error</html>")
        return response
