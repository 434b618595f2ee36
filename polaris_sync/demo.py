"""`make demo`: the whole sync on this machine, against the sandbox servers.

    python -m polaris_sync.demo --models 300

Starts the Polaris simulator (over HTTPS, self-signed) and the PrestaShop
emulator on loopback, then sets polaris-sync up with the `polaris-sync`
command itself, as an integrator would (init with the shop key check,
associate with certificate pinning, pull-config, wildcard mappings), runs a
full sync, runs again (nothing to write), changes one stock and one price in
Polaris, runs again (only those writes), then stops the servers. Each command
is printed with what it printed; the shop's request counts come from the
emulator. Exits 0 when every step behaved.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from polaris_sync.config import Config, load_config
from polaris_sync.errors import PolarisSyncError
from polaris_sync.polaris.association import client_from_state, load_association
from polaris_sync.polaris.client import PolarisClient
from polaris_sync.polaris.models import PolarisItem
from polaris_sync.polaris.pinning import pinned_context
from polaris_sync.prestashop.client import PrestaShopClient
from polaris_sync.sandbox.serve import Sandbox, SandboxOptions, default_catalogue
from polaris_sync.state import State

# What the state links once the first run is done, shown as its result.
LINK_KINDS = ("product", "combination", "image", "stock-row")
# What a stock change and a price change may write in the shop.
PRICE_AND_STOCK_RESOURCES = {"products", "stock_availables", "specific_prices"}
# Requests that change nothing in the shop.
READS = ("GET", "HEAD")


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
        command = Command(folder / "polaris-sync.toml", info)
        config = set_up(command, info)
        first_sync(command, config)
        second_sync(command)
        change_and_sync(command, config, info)
    step("sandbox stopped; demo done")


class Command:
    """Runs the installed `polaris-sync` command, as a user types it."""

    def __init__(self, config_file: Path, info: dict[str, Any]) -> None:
        self.config_file = config_file
        self.program = _program()
        self.shop_admin = info["prestashop_url"].removesuffix("/api") + "/_sandbox"
        self.environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("POLARIS_")},
            "POLARIS_SYNC_PRESTASHOP_KEY": info["prestashop_key"],
        }

    def __call__(self, *arguments: str) -> str:
        """Run it, show what it printed, fail the demo on a non-zero exit."""
        say(f"$ polaris-sync {' '.join(_quoted(part) for part in arguments)}")
        finished = subprocess.run(
            [*self.program, "--config", str(self.config_file), *arguments],
            env=self.environment,
            cwd=self.config_file.parent,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        for line in (finished.stdout + finished.stderr).splitlines():
            say(f"  {line}")
        if finished.returncode != 0:
            raise DemoFailed(
                f"`polaris-sync {arguments[0]}` ended with exit code "
                f"{finished.returncode}"
            )
        return finished.stdout

    def run(self, *arguments: str) -> Counter[str]:
        """`polaris-sync run`; the requests the shop received, as it counts them."""
        httpx.post(f"{self.shop_admin}/requests/reset").raise_for_status()
        self("run", *arguments)
        answer = httpx.get(f"{self.shop_admin}/requests")
        answer.raise_for_status()
        counts: Counter[str] = Counter(answer.json()["counts"])
        writes = sum(n for name, n in counts.items() if name.split()[0] not in READS)
        say(f"the shop received {sum(counts.values())} requests, {writes} writes")
        return counts


def _program() -> list[str]:
    """The console script installed beside this Python, else `python -m`."""
    script = Path(sys.executable).with_name("polaris-sync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "polaris_sync"]


def _quoted(part: str) -> str:
    return f"'{part}'" if part == "*" else part


def shop_writes(counts: Counter[str]) -> Counter[str]:
    return Counter(
        {name: n for name, n in counts.items() if name.split()[0] not in READS}
    )


# -- setting up, as an integrator would ----------------------------------------


def set_up(command: Command, info: dict[str, Any]) -> Config:
    step("writing the configuration and checking the shop key")
    command(
        "init",
        "--prestashop-url", info["prestashop_url"],
        "--polaris-url", info["polaris_url"],
    )  # fmt: skip
    edit_config(command.config_file)
    config = load_config(command.config_file)

    step("associating with Polaris (licence + PIN, certificate pinned)")
    command("associate", "--licence", info["licence"], "--pin", info["pin"])

    step("downloading the Polaris configuration (stores, brands, grids, RFS)")
    command("pull-config")

    step("mapping with wildcards: every brand, every size grid")
    brand_id, size_group_id = asyncio.run(shop_targets(config, info))
    say(f"in the shop: manufacturer {brand_id}; new attribute group {size_group_id}")
    command("mappings", "set", "brand", "*", str(brand_id))
    command("mappings", "set", "size-grid", "*", str(size_group_id))
    return config


# What the demo changes in the configuration `init` wrote, as a user would.
DEMO_SETTINGS = {
    "mode": ('"basic"', '"full"'),
    # Whole catalogue in one go: the demo has no cron to carry on later.
    "time_budget_seconds": (None, "0"),
    # Loopback: no hosting to protect from floods.
    "max_requests_per_second": (None, "0"),
}


def edit_config(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for option, (_, value) in DEMO_SETTINGS.items():
        text, found = re.subn(
            rf"^(# )?{option} = .*$", f"{option} = {value}", text, count=1,
            flags=re.MULTILINE,
        )  # fmt: skip
        if not found:
            raise DemoFailed(f"`init` wrote no {option} option to edit")
        say(f"edited {path.name}: {option} = {value}")
    path.write_text(text, encoding="utf-8")


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


def first_sync(command: Command, config: Config) -> None:
    step("first run: the full sync")
    written = shop_writes(command.run())
    with State.open(config.state_dir) as state:
        made = {kind: len(state.links(kind)) for kind in LINK_KINDS}
    say(
        f"{made['product']} products, {made['combination']} combinations, "
        f"{made['image']} photos, {made['stock-row']} stock rows"
    )
    if not made["product"] or not written:
        raise DemoFailed("the first run created no product")


def second_sync(command: Command) -> None:
    step("second run: nothing changed in Polaris")
    written = shop_writes(command.run("--force"))
    if written:
        raise DemoFailed(f"the second run wrote {sum(written.values())} times, not 0")
    say("zero writes")


def change_and_sync(command: Command, config: Config, info: dict[str, Any]) -> None:
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
    written = shop_writes(command.run())
    if not written:
        raise DemoFailed("the third run wrote nothing")
    unexpected = [
        name for name in written if name.split()[-1] not in PRICE_AND_STOCK_RESOURCES
    ]
    if unexpected:
        raise DemoFailed(f"the third run also wrote {', '.join(unexpected)}")
    writes = ", ".join(f"{name} x{count}" for name, count in sorted(written.items()))
    say(f"{sum(written.values())} writes: {writes}")


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


def step(text: str) -> None:
    print(f"\n[{time.monotonic() - _started:6.1f} s] {text}", flush=True)


def say(text: str) -> None:
    print(f"           {text}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
