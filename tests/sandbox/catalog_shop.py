"""An in-process emulated shop with shortcuts for the catalogue-side tests."""

from __future__ import annotations

import itertools
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

from polaris_sync.sandbox.prestashop import create_app

from .order_shop import KEY, OrderShop, _languages

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

_unique = itertools.count(1)


def entity(answer: httpx.Response) -> ET.Element:
    """The single entity (or list) element of an XML answer."""
    return ET.fromstring(answer.content)[0]


def text(answer: httpx.Response, name: str) -> str:
    return entity(answer).findtext(name) or ""


def language_texts(answer: httpx.Response, name: str) -> dict[str, str]:
    node = entity(answer).find(name)
    assert node is not None, name
    return {lang.get("id", ""): lang.text or "" for lang in node}


def error_codes(answer: httpx.Response) -> list[int]:
    if answer.headers.get("content-type", "").startswith("application/json"):
        return [e["code"] for e in answer.json()["errors"]]
    root = ET.fromstring(answer.content)
    return [int(code.text or 0) for code in root.iter("code")]


def association_ids(answer: httpx.Response, name: str) -> list[int]:
    node = entity(answer).find(f"associations/{name}")
    assert node is not None, name
    return [int(item.findtext("id") or 0) for item in node]


class CatalogShop(OrderShop):
    def __init__(self, db_path: Path, version: str = "8.1.2") -> None:
        app = create_app(db_path, api_key=KEY, version=version)
        self.client = TestClient(app, base_url="http://127.0.0.1:8080")
        self.client.auth = (KEY, "")

    def simple_product(self, extra: str = "", price: str = "12.50") -> int:
        """A product without combinations, with its own reference."""
        n = next(_unique)
        return self.created_id(
            self.send(
                "POST",
                "products",
                "<product><id_category_default>2</id_category_default>"
                "<id_tax_rules_group>1</id_tax_rules_group>"
                f"<reference>CAT-{n}</reference><price>{price}</price>"
                "<active>1</active><state>1</state>"
                f"<name>{_languages(f'Shirt {n}', f'Chemise {n}')}</name>"
                f"<link_rewrite>{_languages(f'shirt-{n}', f'chemise-{n}')}"
                f"</link_rewrite>{extra}</product>",
            )
        )

    def combination(self, product_id: int, reference: str = "", extra: str = "") -> int:
        return self.created_id(
            self.send(
                "POST",
                "combinations",
                f"<combination><id_product>{product_id}</id_product>"
                f"<reference>{reference}</reference>"
                f"<minimal_quantity>1</minimal_quantity>{extra}</combination>",
            )
        )

    def option_group(self) -> tuple[int, list[int]]:
        """A size group with two values."""
        n = next(_unique)
        group = self.created_id(
            self.send(
                "POST",
                "product_options",
                "<product_option><group_type>select</group_type>"
                f"<name>{_languages(f'Size {n}', f'Taille {n}')}</name>"
                f"<public_name>{_languages('Size', 'Taille')}</public_name>"
                "</product_option>",
            )
        )
        values = [
            self.created_id(
                self.send(
                    "POST",
                    "product_option_values",
                    f"<product_option_value><id_attribute_group>{group}"
                    f"</id_attribute_group><name>{_languages(v, v)}</name>"
                    "</product_option_value>",
                )
            )
            for v in ("S", "M")
        ]
        return group, values
