"""Orders in the PrestaShop emulator, after a real catalogue sync: helpers.

The sandbox's catalogue is synced from the simulator by the real catalogue
stage, so order lines are combinations the sync created and linked. Orders are
placed and changed through the emulator's admin API, as a customer and the
back office would.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx

from polaris_sync.stages.orders import export_orders


def prepare_shop(sandbox):
    """The sandbox with its catalogue synced and the order options set."""
    sandbox.run()
    sandbox.config_data["orders"] = {
        "store_code": 2,
        "shipping_reference": "PORT",
        "wrapping_reference": "EMBAL",
        "voucher_reference": "BON",
        "export_corrections": True,
    }
    sandbox.state.set_mapping("payment", "ps_checkpayment", "CHQ")
    sandbox.state.set_mapping("payment", "ps_wirepayment", "VIR")
    sandbox.customer = sandbox.create("customers", {
        "passwd": "Sandbox-pass-1", "lastname": "Martin", "firstname": "Anne",
        "email": "anne@example.test", "id_default_group": 3, "id_lang": 1,
        "active": 1, "associations": {"groups": [{"id": 3}]},
    })
    sandbox.create("addresses", {
        "id_customer": sandbox.customer, "id_country": 8, "alias": "Maison",
        "lastname": "Martin", "firstname": "Anne", "address1": "1 rue Haute",
        "city": "Lyon", "postcode": "69001",
    })
    return sandbox


def sizes(sandbox, count: int) -> list[dict[str, Any]]:
    """Synced combinations in stock: id, product id and Polaris barcode."""
    in_stock = {
        int(row["id_product_attribute"])
        for row in sandbox.read_shop("stock_availables")
        if int(row.get("quantity") or 0) >= 3 and int(row["id_product_attribute"])
    }
    rows = [
        row for row in sandbox.read_shop("combinations")
        if int(row["id"]) in in_stock and row.get("ean13")
    ]
    assert len(rows) >= count
    return rows[:count]


def admin(sandbox, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async def post() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=sandbox.shop_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as c:
            response = await c.post(f"/_sandbox/{path}", json=body)
            assert response.status_code in (200, 201), response.text
            return response.json()

    return asyncio.run(post())


def place(sandbox, lines: list[tuple[dict[str, Any], int]], **options: Any) -> int:
    body = {
        "customer": sandbox.customer,
        "lines": [
            {"product": int(size["id_product"]), "combination": int(size["id"]),
             "quantity": quantity}
            for size, quantity in lines
        ],
        **options,
    }
    return int(admin(sandbox, "orders", body)["order"])


def export(sandbox, stage=export_orders, *args: Any):
    async def run():
        ctx = sandbox.context()
        try:
            return await stage(ctx, *args)
        finally:
            await ctx.polaris.aclose()
            await ctx.prestashop.aclose()

    return asyncio.run(run())


def sale(sandbox, ref_ext: str) -> dict[str, Any]:
    [found] = sandbox.simulator.sales(ref_ext)
    assert found["Controle"]["EcartTTC"] == 0, found["Controle"]
    return found


def order(sandbox, order_id: int) -> dict[str, Any]:
    [found] = sandbox.read_shop("orders", id=order_id)
    return found


def state_name(sandbox, state_id: int) -> str:
    [state] = sandbox.read_shop("order_states", id=state_id)
    name = state["name"]
    return name.get(1) if isinstance(name, dict) else name


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
