"""An in-process emulated shop for the order-side tests, with a few shortcuts.

The shortcuts go through the webservice (XML writes, like a real client) or the
sandbox admin API; nothing reaches into the database.
"""

from __future__ import annotations

import itertools
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx

from polaris_sync.sandbox.prestashop import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

KEY = "ORDERSIDEORDERSIDEORDERSIDEORDER"
_unique = itertools.count(1)


def _languages(english: str, french: str) -> str:
    return (
        f'<language id="1">{english}</language><language id="2">{french}</language>'
    )


class OrderShop:
    def __init__(self, db_path: Path) -> None:
        self.client = TestClient(
            create_app(db_path, api_key=KEY), base_url="http://127.0.0.1:8080"
        )
        self.client.auth = (KEY, "")

    # --- raw exchanges ---------------------------------------------------

    def get(self, path: str) -> httpx.Response:
        return self.client.get(f"/api/{path}")

    def send(self, method: str, path: str, xml: str) -> httpx.Response:
        body = (
            f'<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">{xml}</prestashop>'
        )
        return self.client.request(
            method,
            f"/api/{path}",
            content=body.encode(),
            headers={"Content-Type": "application/xml"},
        )

    def json(self, path: str) -> Any:
        separator = "&" if "?" in path else "?"
        answer = self.get(f"{path}{separator}output_format=JSON")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def one(self, resource: str, entity_id: int, fields: str) -> dict[str, Any]:
        """Some fields of one entity, as the list form of JSON prints them."""
        data = self.json(f"{resource}/{entity_id}?display=[{fields}]")
        return data[resource][0]

    def rows(self, resource: str, query: str) -> list[dict[str, Any]]:
        data = self.json(f"{resource}?{query}&display=full&sort=[id_ASC]")
        # An empty list is a bare [] in JSON; order_slip lists say order_slips.
        return next(iter(data.values())) if isinstance(data, dict) else []

    def admin(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        return self.client.post(f"/_sandbox/{path}", json=payload)

    def created_id(self, answer: httpx.Response) -> int:
        assert answer.status_code == 201, answer.text
        entity = ET.fromstring(answer.content)[0]
        return int(entity.findtext("id") or 0)

    # --- fixtures built through the webservice ----------------------------------

    def product(
        self, price: str = "10.00", stock: int = 20, weight: str = "0.5"
    ) -> int:
        n = next(_unique)
        product_id = self.created_id(
            self.send(
                "POST",
                "products",
                (
                    "<product><id_category_default>2</id_category_default>"
                    f"<id_tax_rules_group>1</id_tax_rules_group><reference>T-{n}</reference>"
                    f"<price>{price}</price><active>1</active><state>1</state>"
                    "<minimal_quantity>1</minimal_quantity><product_type>standard</product_type>"
                    f"<weight>{weight}</weight>"
                    f"<name>{_languages(f'Mug {n}', f'Tasse {n}')}</name>"
                    f"<link_rewrite>{_languages(f'mug-{n}', f'tasse-{n}')}"
                    "</link_rewrite>"
                    "</product>"
                ),
            )
        )
        self.set_stock(product_id, 0, stock)
        return product_id

    def combination(self, product_id: int) -> int:
        return self.created_id(
            self.send(
                "POST",
                "combinations",
                f"<combination><id_product>{product_id}</id_product>"
                "<minimal_quantity>1</minimal_quantity></combination>",
            )
        )

    def set_stock(self, product_id: int, combination_id: int, quantity: int) -> None:
        row = self.stock_row(product_id, combination_id)
        answer = self.send(
            "PATCH",
            f"stock_availables/{row['id']}",
            (
                f"<stock_available><id>{row['id']}</id><quantity>{quantity}</quantity>"
                "</stock_available>"
            ),
        )
        assert answer.status_code == 200, answer.text

    def stock_row(self, product_id: int, combination_id: int = 0) -> dict[str, Any]:
        rows = self.json(
            f"stock_availables?filter[id_product]=[{product_id}]"
            "&display=[id,id_product_attribute,quantity]"
        )["stock_availables"]
        return next(r for r in rows if r["id_product_attribute"] == combination_id)

    def stock(self, product_id: int, combination_id: int = 0) -> int:
        return int(self.stock_row(product_id, combination_id)["quantity"])

    def customer(self, groups: bool = True) -> int:
        n = next(_unique)
        group_xml = (
            "<id_default_group>3</id_default_group><associations><groups><group>"
            "<id>3</id></group></groups></associations>"
            if groups
            else ""
        )
        return self.created_id(
            self.send(
                "POST",
                "customers",
                (
                    "<customer><passwd>secret-pass-1</passwd><lastname>Martin</lastname>"
                    f"<firstname>Lea</firstname><email>lea-{n}@example.test</email>"
                    f"<id_lang>1</id_lang><active>1</active>{group_xml}</customer>"
                ),
            )
        )

    def address(self, customer_id: int) -> int:
        return self.created_id(
            self.send(
                "POST",
                "addresses",
                (
                    f"<address><id_customer>{customer_id}</id_customer><id_country>8</id_country>"
                    "<alias>Home</alias><lastname>Martin</lastname><firstname>Lea</firstname>"
                    "<address1>1 rue de la Paix</address1><city>Paris</city>"
                    "<postcode>75002</postcode></address>"
                ),
            )
        )

    def cart(
        self,
        customer_id: int,
        address_id: int,
        carrier: int,
        lines: list[tuple[int, int, int]],
    ) -> int:
        rows = "".join(
            f"<cart_row><id_product>{p}</id_product><id_product_attribute>{c}"
            f"</id_product_attribute><id_address_delivery>{address_id}"
            f"</id_address_delivery><quantity>{q}</quantity></cart_row>"
            for p, c, q in lines
        )
        return self.created_id(
            self.send(
                "POST",
                "carts",
                (
                    "<cart><id_currency>1</id_currency><id_lang>1</id_lang>"
                    f"<id_customer>{customer_id}</id_customer>"
                    f"<id_address_delivery>{address_id}</id_address_delivery>"
                    f"<id_address_invoice>{address_id}</id_address_invoice>"
                    f"<id_carrier>{carrier}</id_carrier>"
                    f'<delivery_option>{{"{address_id}":"{carrier},"}}</delivery_option>'
                    f"<associations><cart_rows>{rows}</cart_rows></associations></cart>"
                ),
            )
        )

    def order_xml(
        self,
        cart_id: int,
        customer_id: int,
        address_id: int,
        total_paid: str,
        module: str = "ps_checkpayment",
    ) -> str:
        return (
            f"<order><id_address_delivery>{address_id}</id_address_delivery>"
            f"<id_address_invoice>{address_id}</id_address_invoice>"
            f"<id_cart>{cart_id}</id_cart><id_currency>1</id_currency><id_lang>1</id_lang>"
            f"<id_customer>{customer_id}</id_customer><id_carrier>2</id_carrier>"
            f"<module>{module}</module><payment>Payments by check</payment>"
            f"<total_paid>{total_paid}</total_paid><total_paid_real>0</total_paid_real>"
            "<total_products>0</total_products><total_products_wt>0</total_products_wt>"
            "<conversion_rate>1</conversion_rate></order>"
        )

    def place(
        self,
        total_paid: str,
        lines: list[tuple[int, int, int]],
        carrier: int = 2,
        groups: bool = True,
    ) -> tuple[int, int]:
        """An order through the webservice; returns (order id, cart id)."""
        customer_id = self.customer(groups)
        address_id = self.address(customer_id)
        cart_id = self.cart(customer_id, address_id, carrier, lines)
        answer = self.send(
            "POST",
            "orders",
            self.order_xml(cart_id, customer_id, address_id, total_paid),
        )
        return self.created_id(answer), cart_id
