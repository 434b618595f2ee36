"""`polaris-sync init`: a starting configuration and a check of the shop's key.

The check reads the Webservice's resource list (``GET /api/``), which tells,
for the key asking, which methods each resource allows. Every right the sync
needs and the key lacks is listed, so the integrator fixes the key once in
the back office instead of meeting one refusal per run.
"""

from __future__ import annotations

import asyncio
import re
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

# The documented example in the source tree; `init` starts from it.
EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "config.example.toml"

HEADER = """\
# Written by `polaris-sync init`. Options left commented keep the default
# shown; remove the "# " in front of one to change it.

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
    chosen = {
        ("", "mode"): '"basic"',
        ("", "state_dir"): _toml_text(state_dir),
        ("polaris", "association_url"): _toml_text(association_url),
        ("prestashop", "url"): _toml_text(prestashop_url),
    }
    try:
        example = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    except OSError:
        example = ""  # installed without the sources: the chosen values only
    text = HEADER + (starting_config(example, chosen) if example else _bare(chosen))
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot write: {error.strerror}") from error


def starting_config(example: str, chosen: dict[tuple[str, str], str]) -> str:
    """The example with every option commented out but the ``chosen`` ones.

    ``chosen`` maps (section, option) to a TOML value; "" is the top level.
    """
    lines: list[str] = []
    section = ""
    open_brackets = 0  # inside a commented value that spans lines
    for line in example.splitlines():
        if open_brackets:
            lines.append("# " + line)
            open_brackets += line.count("[") - line.count("]")
            continue
        if line.startswith("["):
            section = line.strip("[] ")
            lines.append(line)
            continue
        option = re.match(r"(\w+) = (.*)", line)
        if option is None:
            lines.append(line)
        elif (section, option.group(1)) in chosen:
            lines.append(f"{option.group(1)} = {chosen[(section, option.group(1))]}")
        else:
            lines.append("# " + line)
            open_brackets = option.group(2).count("[") - option.group(2).count("]")
    return "\n".join(lines) + "\n"


def _bare(chosen: dict[tuple[str, str], str]) -> str:
    sections: dict[str, list[str]] = {}
    for (section, option), value in chosen.items():
        sections.setdefault(section, []).append(f"{option} = {value}")
    return "\n".join(
        (f"[{section}]\n" if section else "") + "\n".join(options) + "\n"
        for section, options in sections.items()
    )


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
    """A TOML basic string holding ``value``."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
