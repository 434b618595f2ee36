"""The order export killed at every step, on both sandbox servers (G11).

The catalogue is synced into the PrestaShop emulator, orders are placed
through its admin API, then `polaris-sync export-orders` runs in a child
process that is killed (SIGKILL) while one request is held by a server:
before a sale reaches Polaris, after Polaris stored it but before the answer
(and so the journal's record of it) came back, and after the journal's
record while the order's state is being set. The next run must leave each
sale exactly once in the simulator and every order marked as exported.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from e2e.sandbox import API_KEY
from polaris_sync.journal import Journal
from polaris_sync.polaris.association import Association, save_association
from polaris_sync.sandbox.http import BackgroundServer
from tests.e2e.gates import Gate
from tests.e2e.order_shop import admin, order, place, prepare_shop, sizes, state_name

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(sandbox):
    return prepare_shop(sandbox)

KILL_POINTS = {
    "before the sale is sent": ("polaris", "POST", "/Ventes/Vente", "before"),
    "after Polaris stored it, before the journal knows": (
        "polaris", "POST", "/Ventes/Vente", "after"
    ),
    "after the journal's record, while the state is set": (
        "shop", "POST", "/api/order_histories", "before"
    ),
}


def export_orders(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from polaris_sync.cli import main; main()",
         "--config", str(config), "export-orders"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def kill_export_at(gate: Gate, config: Path, *request: str) -> None:
    """Run the export and SIGKILL it while the gate holds the request."""
    gate.arm(*request)
    child = export_orders(config)
    try:
        assert gate.reached.wait(60), child.communicate(timeout=5)[0]
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        gate.release()


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_g11_killed_at_each_step_each_sale_is_in_polaris_once(shop, point):
    side, method, path, when = KILL_POINTS[point]
    first, second = sizes(shop, 2)
    orders = [place(shop, [(first, 1)]), place(shop, [(second, 2)])]
    gates = {"polaris": Gate(shop.polaris_app), "shop": Gate(shop.shop_app)}

    with BackgroundServer(gates["polaris"]) as polaris, BackgroundServer(
        gates["shop"]
    ) as web:
        save_association(shop.state, Association(
            licence=shop.simulator.licence, url=f"{polaris.url}/api/WebConnect",
            key=shop.polaris_key, store_code=1, test_mode=False, associated_at="",
        ))
        config = shop.root / "polaris-sync.toml"
        config.write_text(
            f'state_dir = "{shop.root / "state"}"\n'
            f'[prestashop]\nurl = "{web.url}/api"\nkey = "{API_KEY}"\n'
            "max_requests_per_second = 0\n"
            '[orders]\nshipping_reference = "PORT"\n',
            encoding="utf-8",
        )

        kill_export_at(gates[side], config, method, path, when)

        again = export_orders(config)
        output = again.communicate(timeout=120)[0].decode()
        assert again.returncode == 0, output

    received = sorted(sale["RefExt"] for sale in shop.simulator.sales())
    assert received == sorted(str(order_id) for order_id in orders)
    journal = Journal(shop.state)
    for order_id in orders:
        [row] = shop.read_shop("orders", id=order_id)
        assert state_name(shop, int(row["current_state"])) == "Exported to Polaris"
        assert journal.entry(str(order_id)).status == "sent"
        assert journal.order_export(order_id).status == "exported"


def test_killed_during_a_retry_then_the_order_changed_polaris_is_corrected(shop):
    """Covers G7, G8 and G11: the sale Polaris refused goes at the retry,
    which is killed once the journal recorded it, while the order's state is
    set; the merchant then removes a line. The next run records the sale as
    Polaris got it, cancels it and sends the order as it is now."""
    first, second = sizes(shop, 2)
    order_id = place(shop, [(first, 1), (second, 1)])
    gate = Gate(shop.shop_app)

    with BackgroundServer(shop.polaris_app) as polaris, BackgroundServer(gate) as web:
        save_association(shop.state, Association(
            licence=shop.simulator.licence, url=f"{polaris.url}/api/WebConnect",
            key=shop.polaris_key, store_code=1, test_mode=False, associated_at="",
        ))
        config = shop.root / "polaris-sync.toml"

        def configure(shipping: str) -> None:
            config.write_text(
                f'state_dir = "{shop.root / "state"}"\n'
                f'[prestashop]\nurl = "{web.url}/api"\nkey = "{API_KEY}"\n'
                "max_requests_per_second = 0\n"
                f'[orders]\nshipping_reference = "{shipping}"\n'
                "export_corrections = true\n",
                encoding="utf-8",
            )

        configure("NOPE")
        refused = export_orders(config)
        assert refused.wait(120) == 1, refused.communicate()[0]
        assert shop.simulator.sales() == []

        configure("PORT")
        kill_export_at(gate, config, "POST", "/api/order_histories", "before")
        assert len(shop.simulator.sales(str(order_id))) == 1

        rows = order(shop, order_id)["associations"]["order_rows"]
        admin(shop, "orders/lines", {"order": order_id, "set": [
            {"order_detail": int(rows[1]["id"]), "quantity": 0}
        ]})
        again = export_orders(config)
        output = again.communicate(timeout=120)[0].decode()
        assert again.returncode == 0, output

    received = sorted(sale["RefExt"] for sale in shop.simulator.sales())
    assert received == sorted([str(order_id), f"{order_id}-A1", f"{order_id}-2"])
    quantities: dict[str, int] = {}
    for sale in shop.simulator.sales():
        for detail in sale["Details"]:
            quantities[detail["SKU"]] = quantities.get(detail["SKU"], 0) + detail["Qte"]
    assert quantities[first["ean13"]] == 1 and quantities[second["ean13"]] == 0
    [row] = shop.read_shop("orders", id=order_id)
    assert state_name(shop, int(row["current_state"])) == "Exported to Polaris"
