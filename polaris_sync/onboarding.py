"""`polaris-sync init`: a starting configuration and a check of the shop's key.

The check reads the Webservice's resource list (``GET /api/``), which tells,
for the key asking, which methods each resource allows. Every right the sync
needs and the key lacks is listed, so the integrator fixes the key once in
the back office instead of meeting one refusal per run.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import httpx

from polaris_sync.errors import AuthError, ConfigError, RemoteError, TransientError
from polaris_sync.state import State

# What the stages read and write, resource by resource. An update goes out as
# PATCH on PrestaShop 8+ and PUT before, so either right is enough for "put".
NEEDED_RIGHTS: dict[str, tuple[str, ...]] = {
    "languages": ("get",),
    "manufacturers": ("get",),
    "categories": ("get",),
    "stores": ("get",),
    "products": ("get", "post", "put"),
    "combinations": ("get", "post", "put", "delete"),
    "stock_availables": ("get", "put"),
    "specific_prices": ("get", "post", "put", "delete"),
    "product_options": ("get", "post"),
    "product_option_values": ("get", "post", "delete"),
    "product_features": ("get", "post"),
    "product_feature_values": ("get", "post"),
    "images": ("get", "post", "delete"),
    "orders": ("get",),
    "order_details": ("get",),
    "order_histories": ("get", "post"),
    "order_states": ("get", "post"),
    "order_cart_rules": ("get",),
    "order_slip": ("get",),
    "order_payments": ("get",),
    "customers": ("get",),
    "addresses": ("get",),
    "groups": ("get",),
    "countries": ("get",),
    "cart_rules": ("get",),
}

STARTING_CONFIG = """\
# polaris-sync configuration. Every option, its default and its meaning are in
# config.example.toml; this file holds only what differs from the defaults.

# false pauses everything: no call to Polaris nor PrestaShop.
enabled = true

# "basic": only stock, prices and promotions of products already linked.
# "full": also create and maintain product sheets.
mode = "basic"

# Where the state database (links, mappings, credentials) and the daily audit
# files live, relative to this file.
state_dir = "{state_dir}"

[polaris]
# Where `polaris-sync associate` claims the PIN (the merchant's server).
association_url = "{association_url}"

[prestashop]
# The shop's Webservice. The key is kept in the state database, not here.
url = "{prestashop_url}"
"""


def write_starting_config(
    path: Path,
    *,
    prestashop_url: str,
    association_url: str = "",
    state_dir: str = "polaris-sync-state",
) -> None:
    if path.exists():
        raise ConfigError(
            f"{path} already exists: init never overwrites a configuration"
        )
    text = STARTING_CONFIG.format(
        state_dir=_toml_text(state_dir),
        association_url=_toml_text(association_url),
        prestashop_url=_toml_text(prestashop_url),
    )
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot write: {error.strerror}") from error


def store_prestashop_key(state: State, key: str) -> None:
    state.set_credential("prestashop.key", key)


def missing_rights(
    prestashop_url: str,
    key: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[str]:
    """``resource: method`` for every right the key lacks; empty when all good."""
    listing = asyncio.run(_resource_listing(prestashop_url, key, transport))
    granted = _granted_rights(listing)
    missing = []
    for resource, methods in NEEDED_RIGHTS.items():
        rights = granted.get(resource, set())
        if "patch" in rights:
            rights = rights | {"put"}
        absent = [method for method in methods if method not in rights]
        if absent:
            missing.append(f"{resource}: {', '.join(absent).upper()}")
    return missing


async def _resource_listing(
    url: str, key: str, transport: httpx.AsyncBaseTransport | None
) -> str:
    root = url.rstrip("/") + "/"
    async with httpx.AsyncClient(
        auth=(key, ""), timeout=30, transport=transport
    ) as http:
        try:
            response = await http.get(root)
        except httpx.TransportError as error:
            raise TransientError(f"cannot reach the shop at {root}: {error}") from error
    if response.status_code in (401, 403):
        raise AuthError(
            f"the shop at {root} refused the Webservice key (HTTP "
            f"{response.status_code}): check the key and that it is enabled"
        )
    if response.status_code != 200:
        raise RemoteError(
            f"the shop at {root} answered HTTP {response.status_code}: is this the "
            "Webservice address (it ends in /api) and is the Webservice enabled?"
        )
    return response.text


def _granted_rights(listing: str) -> dict[str, set[str]]:
    try:
        document = ElementTree.fromstring(listing)
    except ElementTree.ParseError as error:
        raise RemoteError(f"the shop's resource list is not XML: {error}") from error
    api = document.find("api")
    if api is None:
        raise RemoteError("the shop's answer has no resource list")
    return {
        resource.tag: {
            method
            for method in ("get", "put", "post", "patch", "delete", "head")
            if resource.get(method) == "true"
        }
        for resource in api
    }


def _toml_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
