"""`make demo`: the whole sync on this machine, against the sandbox servers.

    python -m polaris_sync.demo --models 300

Starts the Polaris simulator (over HTTPS, self-signed) and the PrestaShop
emulator on loopback, sets polaris-sync up the way an integrator would
(configuration, shop key check, association with certificate pinning,
configuration download, wildcard mappings), runs a full sync, runs again
(nothing to write), changes one stock and one price in Polaris, runs again
(only those writes), then stops the servers. Exits 0 when every step behaved.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import tomli_w

from polaris_sync.config import Config, load_config
from polaris_sync.errors import PolarisSyncError
from polaris_sync.onboarding import missing_rights, store_prestashop_key
from polaris_sync.polaris.association import (
    associate,
    client_from_state,
    load_association,
    save_association,
)
from polaris_sync.polaris.client import PolarisClient
from polaris_sync.polaris.models import PolarisItem
from polaris_sync.polaris.pinning import pinned_context
from polaris_sync.prestashop.client import PrestaShopClient
from polaris_sync.run import RunOptions, RunReport, run_cycle
from polaris_sync.sandbox.serve import Sandbox, SandboxOptions, default_catalogue
from polaris_sync.state import State

# What the state links once the first run is done, shown as its result.
LINK_KINDS = ("product", "combination", "image", "stock-row")
# What a stock change and a price change may write in the shop.
PRICE_AND_STOCK_RESOURCES = {"products", "stock_availables", "specific_prices"}


class DemoFailed(Exception):
    """A step did not do what the demo shows it doing."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=300, help="generated models")
    parser.add_argument("--dir", type=Path, help="keep everything in this folder")
    args = parser.parse_args(argv)

    try:
        if args.dir is not None:
            demo(args.dir.resolve(), args.models)
        else:
            with tempfile.TemporaryDirectory(prefix="polaris-sync-demo-") as folder:
                demo(Path(folder), args.models)
    except (DemoFailed, PolarisSyncError) as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    return 0


def demo(folder: Path, models: int) -> None:
    catalogue = default_catalogue()
    options = SandboxOptions(
        directory=folder / "sandbox",
        models=models,
        catalogue=catalogue,
        polaris_tls=True,
    )
    step("starting the sandbox servers on 127.0.0.1")
    with Sandbox(options) as sandbox:
        info = sandbox.info
        say(f"Polaris simulator   {info['polaris_url']}")
        say(f"PrestaShop emulator {info['prestashop_url']}")
        if info["prestashop_url"] is None:
            raise DemoFailed("this checkout has no PrestaShop emulator")
        config = set_up(folder, info)
        first_sync(config)
        second_sync(config)
        change_and_sync(config, info)
    step("sandbox stopped; demo done")


# -- setting up, as an integrator would ----------------------------------------


def set_up(folder: Path, info: dict[str, Any]) -> Config:
    step("writing the configuration and checking the shop key")
    config_file = folder / "polaris-sync.toml"
    config_file.write_text(tomli_w.dumps(demo_settings(info)), encoding="utf-8")
    config = load_config(config_file)
    missing = missing_rights(info["prestashop_url"], info["prestashop_key"])
    if missing:
        raise DemoFailed(f"the emulator's key lacks rights: {', '.join(missing)}")
    say(f"{config_file}: full mode; the key has every right the sync needs")

    step("associating with Polaris (licence + PIN, certificate pinned)")
    granted = asyncio.run(
        associate(info["polaris_url"], info["licence"], info["pin"], timeout=30)
    )
    with State.open(config.state_dir) as state:
        save_association(state, granted)
        store_prestashop_key(state, info["prestashop_key"])
    for pin in granted.pins:
        say(f"pinned {pin.origin}: SHA-256 {pin.sha256[:23]}...")

    step("downloading the Polaris configuration (stores, brands, grids, RFS)")
    sync(config, RunOptions(only=("config",)))
    with State.open(config.state_dir) as state:
        say(f"{len(state.mapping_rows())} values offered for mapping")

    step("mapping with wildcards: every brand, every size grid")
    brand_id, size_group_id = asyncio.run(shop_targets(config, info))
    with State.open(config.state_dir) as state:
        state.set_mapping("brand", "*", str(brand_id))
        state.set_mapping("size-grid", "*", str(size_group_id))
    say(f"brand * -> manufacturer {brand_id}; size-grid * -> group {size_group_id}")
    return config


def demo_settings(info: dict[str, Any]) -> dict[str, Any]:
    return {
        "mode": "full",
        "state_dir": "state",
        # Whole catalogue in one go: the demo has no cron to carry on later.
        "time_budget_seconds": 0,
        "polaris": {"association_url": info["polaris_url"]},
        # Loopback: no hosting to protect from floods.
        "prestashop": {"url": info["prestashop_url"], "max_requests_per_second": 0},
    }


async def shop_targets(config: Config, info: dict[str, Any]) -> tuple[int, int]:
    """An existing manufacturer, and a new attribute group for sizes."""
    async with PrestaShopClient(
        info["prestashop_url"], info["prestashop_key"], max_requests_per_second=0
    ) as shop:
        manufacturers = await shop.list("manufacturers", display="[id]", limit=1)
        if not manufacturers:
            raise DemoFailed("the emulator has no manufacturer to map brands to")
        languages = await shop.languages()
        group = await shop.create(
            "product_options",
            {
                "is_color_group": 0,
                "group_type": "select",
                "name": {language: "Taille" for language in languages},
                "public_name": {language: "Taille" for language in languages},
            },
        )
    return int(manufacturers[0]["id"]), int(group["id"])


# -- the three runs --------------------------------------------------------------


def first_sync(config: Config) -> None:
    step("first run: the full sync")
    report = sync(config, RunOptions())
    with State.open(config.state_dir) as state:
        made = {kind: len(state.links(kind)) for kind in LINK_KINDS}
    say(
        f"{made['product']} products, {made['combination']} combinations, "
        f"{made['image']} photos, {made['stock-row']} stock rows"
    )
    if not made["product"] or report.writes == 0:
        raise DemoFailed("the first run created no product")


def second_sync(config: Config) -> None:
    step("second run: nothing changed in Polaris")
    report = sync(config, RunOptions(force=True))
    if report.writes:
        raise DemoFailed(f"the second run wrote {report.writes} times instead of 0")
    say("zero writes")


def change_and_sync(config: Config, info: dict[str, Any]) -> None:
    step("changing one stock and one price in Polaris")
    item = asyncio.run(first_item_in_stock(config))
    size = item.sizes[0]
    store = size.stores[0]
    admin = info["polaris_admin_url"]
    sku = size.ean13 or size.refs[0]
    new_price = item.price + 10
    with httpx.Client(verify=simulator_tls(config), timeout=30) as simulator:
        simulator.post(
            f"{admin}/stock",
            json={"SKU": sku, "CodeMagasin": store.store_code, "Dispo": 40},
        ).raise_for_status()
        simulator.post(
            f"{admin}/price",
            json={
                "NoModele": item.model_no,
                "Variante": item.colour_key,
                "PrixTTC": float(new_price),
            },
        ).raise_for_status()
    say(f"{sku} store {store.store_code}: stock 40; model {item.key}: {new_price}")

    step("third run: only what changed")
    report = sync(config, RunOptions())
    if report.writes == 0:
        raise DemoFailed("the third run wrote nothing")
    unexpected = [
        target
        for target in report.writes_by_target
        if target.split()[-1] not in PRICE_AND_STOCK_RESOURCES
    ]
    if unexpected:
        raise DemoFailed(f"the third run also wrote {', '.join(unexpected)}")
    writes = ", ".join(
        f"{target} x{count}"
        for target, count in sorted(report.writes_by_target.items())
    )
    say(f"{report.writes} writes: {writes}")


def simulator_tls(config: Config) -> Any:
    """The admin API shares the simulator's certificate: trust the pinned one."""
    with State.open(config.state_dir) as state:
        association = load_association(state)
    pin = association.pin_for_url(association.url) if association else None
    return pinned_context(pin) if pin is not None else True


async def first_item_in_stock(config: Config) -> PolarisItem:
    with State.open(config.state_dir) as state:
        client: PolarisClient = client_from_state(config, state)
    async with client:
        async for page in client.iter_product_pages(None, page_size=50):
            for item in page.items:
                if item.sizes and item.sizes[0].stores:
                    return item
    raise DemoFailed("the simulator has no item with stock rows")


# -- output --------------------------------------------------------------------------

_started = time.monotonic()


def sync(config: Config, options: RunOptions) -> RunReport:
    report = run_cycle(config, options)
    say(report.summary)
    for error in report.errors[:10]:
        say(f"! {error}")
    if report.exit_code != 0:
        raise DemoFailed(f"the run ended with exit code {report.exit_code}")
    return report


def step(text: str) -> None:
    print(f"\n[{time.monotonic() - _started:6.1f} s] {text}", flush=True)


def say(text: str) -> None:
    print(f"           {text}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
