"""In-memory doubles of a shop's order side and of Polaris' sales, over HTTP.

They speak the real protocols through httpx.MockTransport, so the stage runs
with the real PrestaShop and Polaris clients: Webservice filters (`[a|b]`,
`[x,y]` ranges, `>[n]`, `date=1` required for dates), sorting, `limit`,
JSON lists, XML writes; order state changes setting `valid` from the target
state's `logable` flag and moving `date_upd`; Polaris' 409 on a known RefExt.
The end-to-end tests run the same scenarios against the sandbox servers.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx

BASE_STATES = {
    # id: (name, logable, paid, shipped), as a fresh 8.1 shop has them.
    2: ("Payment accepted", 1, 1, 0),
    4: ("Shipped", 1, 1, 1),
    6: ("Canceled", 0, 0, 0),
    8: ("Payment error", 0, 0, 0),
    10: ("Awaiting bank wire payment", 0, 0, 0),
    11: ("Remote payment accepted", 1, 1, 0),
}


class FakeShop:
    def __init__(self, now: datetime = datetime(2026, 12, 4, 17, 0, 0)) -> None:
        self.clock = now
        self.tables: dict[str, dict[int, dict[str, Any]]] = {
            name: {} for name in (
                "orders", "order_details", "order_cart_rules", "order_slip",
                "order_states", "order_histories", "customers", "addresses",
                "countries", "languages", "groups",
            )
        }
        self.requests: list[tuple[str, str]] = []
        for state_id, (name, logable, paid, shipped) in BASE_STATES.items():
            self.tables["order_states"][state_id] = {
                "id": state_id, "name": [{"id": 1, "value": name}],
                "logable": str(logable), "paid": str(paid), "shipped": str(shipped),
                "deleted": "0",
            }
        self.tables["languages"][1] = {"id": 1, "iso_code": "en", "active": "1"}
        self.tables["countries"][8] = {"id": 8, "iso_code": "FR"}
        for group_id, name in ((3, "Customer"), (5, "Clients Polaris")):
            self.tables["groups"][group_id] = {
                "id": group_id, "name": [{"id": 1, "value": name}]
            }

    # -- building the shop's content --------------------------------------------

    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return self.clock.strftime("%Y-%m-%d %H:%M:%S")

    def add_customer(
        self, customer_id: int, email: str, groups=(3,), guest: bool = False
    ) -> None:
        self.tables["customers"][customer_id] = {
            "id": customer_id, "email": email, "lastname": "Martin",
            "firstname": "Anne", "id_default_group": groups[0],
            "is_guest": "1" if guest else "0",
            "date_upd": self.tick(),
            "associations": {"groups": [{"id": g} for g in groups]},
        }
        self.tables["addresses"][customer_id] = {
            "id": customer_id, "id_customer": customer_id, "id_country": 8,
            "lastname": "Martin", "firstname": "Anne", "address1": "1 rue Haute",
            "postcode": "75002", "city": "Paris", "phone": "0102030405",
            "deleted": "0", "date_upd": self.tick(),
        }

    def move_customer(self, customer_id: int, city: str) -> None:
        """The customer edits their address: the old row is kept, deleted."""
        old = self.tables["addresses"][customer_id]
        old["deleted"] = "1"
        new_id = max(self.tables["addresses"]) + 1
        self.tables["addresses"][new_id] = {
            **old, "id": new_id, "city": city, "deleted": "0", "date_upd": self.tick()
        }

    def add_order(
        self,
        order_id: int,
        lines: list[tuple[int, int, int, str]],
        *,
        shipping: str = "0",
        wrapping: str = "0",
        discounts: str = "0",
        paid: str | None = None,
        module: str = "ps_checkpayment",
        state: int = 11,
        customer_id: int = 1,
        date_add: str | None = None,
    ) -> dict[str, Any]:
        """An order of (detail id, product id, combination id, unit price) lines
        of one unit each unless the line appears several times."""
        rows: dict[int, dict[str, Any]] = {}
        for detail_id, product_id, combination_id, price in lines:
            row = rows.setdefault(detail_id, {
                "id": detail_id, "id_order": order_id, "product_id": product_id,
                "product_attribute_id": combination_id, "product_quantity": 0,
                "product_name": f"Item {combination_id}",
                "product_reference": f"REF-{combination_id}",
                "product_ean13": f"37600000{combination_id:05d}",
                "unit_price_tax_incl": price,
            })
            row["product_quantity"] += 1
        for row in rows.values():
            total = float(row["unit_price_tax_incl"]) * row["product_quantity"]
            row["total_price_tax_incl"] = f"{total:.6f}"
            self.tables["order_details"][row["id"]] = row
        products = sum(float(row["total_price_tax_incl"]) for row in rows.values())
        total = products + float(shipping) + float(wrapping) - float(discounts)
        stamp = self.tick()
        order = {
            "id": order_id, "reference": f"REF{order_id:06d}",
            "id_customer": customer_id,
            "id_address_invoice": customer_id, "current_state": state,
            "valid": str(self._state(state)["logable"]), "module": module,
            "payment": module, "date_add": date_add or stamp, "date_upd": stamp,
            "total_paid": f"{total:.6f}", "total_paid_tax_incl": f"{total:.6f}",
            "total_paid_real": paid if paid is not None else f"{total:.6f}",
            "total_products_wt": f"{products:.6f}",
            "total_shipping": shipping, "total_shipping_tax_incl": shipping,
            "total_wrapping_tax_incl": wrapping,
            "total_discounts_tax_incl": discounts,
            "gift": "1" if wrapping != "0" else "0",
            "associations": {"order_rows": [
                {key: row[key] for key in (
                    "id", "product_id", "product_attribute_id", "product_quantity",
                    "product_name", "product_reference", "product_ean13",
                    "unit_price_tax_incl")}
                for row in rows.values()
            ]},
        }
        self.tables["orders"][order_id] = order
        return order

    def add_voucher(self, order_id: int, rule_id: int, value: str) -> None:
        row_id = len(self.tables["order_cart_rules"]) + 1
        self.tables["order_cart_rules"][row_id] = {
            "id": row_id, "id_order": order_id, "id_cart_rule": rule_id,
            "name": f"Voucher {rule_id}", "value": value, "deleted": "0",
        }

    def add_slip(
        self, order_id: int, slip_id: int, lines: list[tuple[int, int, str]],
        shipping: str = "0",
    ) -> None:
        self.tables["order_slip"][slip_id] = {
            "id": slip_id, "id_order": order_id, "date_add": self.tick(),
            "total_shipping_tax_incl": shipping,
            "associations": {"order_slip_details": [
                {"id": slip_id, "id_order_detail": detail, "product_quantity": qty,
                 "amount_tax_incl": amount}
                for detail, qty, amount in lines
            ]},
        }
        self.touch(order_id)

    def remove_line(self, order_id: int, detail_id: int) -> None:
        """The merchant removes a line in the back office; totals follow."""
        order = self.tables["orders"][order_id]
        rows = order["associations"]["order_rows"]
        order["associations"]["order_rows"] = [r for r in rows if r["id"] != detail_id]
        removed = self.tables["order_details"].pop(detail_id)
        total = float(order["total_paid"]) - float(removed["total_price_tax_incl"])
        for field in ("total_paid", "total_paid_tax_incl", "total_paid_real"):
            order[field] = f"{total:.6f}"
        self.touch(order_id)

    def set_state(self, order_id: int, state_id: int) -> None:
        order = self.tables["orders"][order_id]
        order["current_state"] = state_id
        order["valid"] = str(self._state(state_id)["logable"])
        self.touch(order_id)

    def touch(self, order_id: int) -> None:
        self.tables["orders"][order_id]["date_upd"] = self.tick()

    def histories(self, order_id: int) -> list[int]:
        return [
            row["id_order_state"] for row in self.tables["order_histories"].values()
            if row["id_order"] == order_id
        ]

    def state_name(self, state_id: int) -> str:
        return self._state(state_id)["name"][0]["value"]

    def _state(self, state_id: int) -> dict[str, Any]:
        return self.tables["order_states"][state_id]

    # -- the Webservice -------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/api/", 1)[1].strip("/").split("/")
        resource = parts[0]
        self.requests.append((request.method, resource))
        headers = {"PSWS-Version": "8.1.2"}
        if request.method == "GET" and resource == "":
            return httpx.Response(200, text=_ROOT, headers=headers)
        if request.method == "GET":
            params = dict(parse_qsl(request.url.query.decode()))
            if any("date_" in key for key in params if key.startswith("filter")) and (
                params.get("date") != "1"
            ):
                return httpx.Response(500, headers=headers)
            rows = self._select(resource, params)
            key = "order_slips" if resource == "order_slip" else resource
            body: Any = {key: rows} if rows else []
            return httpx.Response(200, json=body, headers=headers)
        if request.method == "POST":
            return self._create(resource, ET.fromstring(request.content), headers)
        return httpx.Response(405, headers=headers)

    def _select(self, resource: str, params: dict[str, str]) -> list[dict[str, Any]]:
        rows = list(self.tables[resource].values())
        for key, value in params.items():
            if key.startswith("filter["):
                field = key[len("filter["):-1]
                rows = [row for row in rows if _matches(row.get(field), value)]
        if "sort" in params:
            for part in reversed(params["sort"].strip("[]").split(",")):
                field, _, direction = part.rpartition("_")
                rows.sort(key=lambda row, f=field: _sortable(row.get(f)),
                          reverse=direction.upper() == "DESC")
        if "limit" in params:
            offset, _, count = params["limit"].partition(",")
            rows = rows[int(offset): int(offset) + int(count)]
        display = params.get("display", "")
        if display.startswith("[") and display != "full":
            fields = display.strip("[]").split(",")
            rows = [{f: row[f] for f in fields if f in row} for row in rows]
        return json.loads(json.dumps(rows))

    def _create(self, resource: str, root: ET.Element, headers) -> httpx.Response:
        element = root[0]
        fields: dict[str, Any] = {}
        for child in element:
            languages = list(child)
            fields[child.tag] = (
                [{"id": int(lang.get("id", 1)), "value": lang.text or ""}
                 for lang in languages]
                if languages else (child.text or "")
            )
        table = self.tables[resource]
        new_id = max(table, default=0) + 1
        fields["id"] = new_id
        if resource == "order_histories":
            order_id, state_id = int(fields["id_order"]), int(fields["id_order_state"])
            fields["id_order"], fields["id_order_state"] = order_id, state_id
            self.set_state(order_id, state_id)
        table[new_id] = fields
        reply = ET.Element("prestashop")
        node = ET.SubElement(reply, element.tag)
        ET.SubElement(node, "id").text = str(new_id)
        return httpx.Response(201, content=ET.tostring(reply), headers=headers)


_ROOT = (
    '<?xml version="1.0" encoding="UTF-8"?><prestashop><api shopName="fake">'
    '<orders get="true" patch="true"/><order_histories post="true"/>'
    "</api></prestashop>"
)


def _sortable(value: Any) -> Any:
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _matches(value: Any, wanted: str) -> bool:
    text = "" if value is None else str(value)
    if wanted.startswith(">["):
        return _sortable(text) > _sortable(wanted[2:-1])
    inner = wanted.strip("[]")
    if "|" in inner:
        return text in inner.split("|")
    if "," in inner:
        low, high = sorted(inner.split(","), key=_sortable)
        return _sortable(low) <= _sortable(text) <= _sortable(high)
    return text == inner


class FakePolaris:
    """Polaris' sales and customers endpoints: 409 for a RefExt it already has."""

    def __init__(self) -> None:
        self.sales: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.posts = 0
        self.refuse: dict[str, str] = {}

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rsplit("/WebConnect/", 1)[-1]
        if request.method == "POST" and path == "Ventes/Vente":
            self.posts += 1
            sale = json.loads(request.content)
            if sale["RefExt"] in self.refuse:
                message = self.refuse[sale["RefExt"]]
                return httpx.Response(400, json={"Message": message})
            if sale["RefExt"] in self.sales:
                return httpx.Response(409, json={"Message": "Vente existante"})
            self.sales[sale["RefExt"]] = sale
            return httpx.Response(201, json={"RefExt": sale["RefExt"]})
        if request.method == "GET" and path == "Ventes/Ventes":
            wanted = json.loads(request.url.params["filtreVente"])["RefExt"]
            items = [self.sales[wanted]] if wanted in self.sales else []
            return httpx.Response(200, json={"Items": items})
        if request.method == "POST" and path == "Clients/Client":
            customer = json.loads(request.content)
            if customer["RefsExt"][0] in self.refuse:
                message = self.refuse[customer["RefsExt"][0]]
                return httpx.Response(400, json={"Message": message})
            self.customers[customer["RefsExt"][0]] = customer
            return httpx.Response(200, json=customer)
        return httpx.Response(404, json={"Message": "inconnu"})


def asgi_app(handle: Any) -> Any:
    """An ASGI app answering with `handle(httpx.Request) -> httpx.Response`,
    to serve a double over real loopback HTTP."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        query = scope["query_string"].decode()
        request = httpx.Request(
            scope["method"],
            f"http://127.0.0.1{scope['path']}" + (f"?{query}" if query else ""),
            headers=[(key.decode(), value.decode()) for key, value in scope["headers"]],
            content=body,
        )
        response = handle(request)
        await send({
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [
                (key.encode(), value.encode())
                for key, value in response.headers.items()
                if key.lower() != "content-length"
            ] + [(b"content-length", str(len(response.content)).encode())],
        })
        await send({"type": "http.response.body", "body": response.content})

    return app
