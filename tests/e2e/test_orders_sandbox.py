"""Orders to the Polaris simulator over loopback HTTP, end to end (G2-G11).

The Polaris side is the sandbox simulator, which validates every sale (known
SKUs, stores, payment codes, RefExtOrigine) and records what it received. The
shop side is the in-memory order double served over loopback, which can hold
orders the emulator's admin API does not make (a refund before the export,
an order dated years ago). Runs go through the real command line.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner

from polaris_sync.cli import cli
from polaris_sync.journal import EntryStatus, Journal
from polaris_sync.polaris.association import load_association
from polaris_sync.sales.corrections import ExportRecord
from polaris_sync.sales.sale import sale_from_payload
from polaris_sync.sandbox.http import BackgroundServer
from polaris_sync.sandbox.polaris import create_app as create_polaris
from polaris_sync.state import State
from tests.e2e.gates import LostAnswer
from tests.stages.order_doubles import FakeShop, asgi_app


@dataclass
class Sandbox:
    root: Path
    config: Path
    shop: FakeShop
    simulator: Any
    skus: list[str]
    polaris_url: str = ""
    polaris_gate: Any = None

    def cli(self, *args: str) -> Any:
        return CliRunner().invoke(cli, ["--config", str(self.config), *args])

    def sales(self, ref_ext: str | None = None) -> list[dict[str, Any]]:
        return self.simulator.sales(ref_ext)

    def sale(self, ref_ext: str) -> dict[str, Any]:
        [sale] = self.sales(ref_ext)
        return sale

    def order_state(self, order_id: int) -> str:
        order = self.shop.tables["orders"][order_id]
        return self.shop.state_name(order["current_state"])


@pytest.fixture
def sandbox(tmp_path):
    polaris_app = create_polaris(tmp_path / "polaris", models=2, seed=5)
    simulator = polaris_app.state.simulator
    polaris_gate = LostAnswer(polaris_app)
    now = datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None, microsecond=0)
    shop = FakeShop(now=now)
    shop.add_customer(1, "anne@example.test")

    with BackgroundServer(polaris_gate) as polaris, BackgroundServer(
        asgi_app(shop.handle)
    ) as web:
        config = tmp_path / "polaris-sync.toml"
        config.write_text(
            'state_dir = "state"\n'
            "[polaris]\n"
            f'association_url = "{polaris.url}/api/WebConnect"\n'
            "[prestashop]\n"
            f'url = "{web.url}/api"\nkey = "SHOPKEY"\nmax_requests_per_second = 0\n'
            "[orders]\n"
            'shipping_reference = "PORT"\nwrapping_reference = "EMBAL"\n'
            'voucher_reference = "BON"\nexport_corrections = true\n',
            encoding="utf-8",
        )
        box = Sandbox(tmp_path, config, shop, simulator, [], "", polaris_gate)
        answer = box.cli("associate", "--licence", simulator.licence,
                         "--pin", simulator.pin)
        assert answer.exit_code == 0, answer.output
        box.skus = _catalogue_skus(polaris.url, tmp_path / "state")
        box.polaris_url = polaris.url
        with State.open(tmp_path / "state") as state:
            state.set_mapping("payment", "ps_checkpayment", "CHQ")
            state.set_mapping("payment", "ps_wirepayment", "VIR")
            for combination, _ in enumerate(box.skus, start=40):
                state.set_link("combination", f"sku-{combination}", combination)
        yield box


def _polaris_key(state_dir: Path) -> str:
    with State.open(state_dir) as state:
        association = load_association(state)
    assert association is not None
    return association.key


def _catalogue_skus(polaris_url: str, state_dir: Path) -> list[str]:
    """Barcodes of a few sizes the simulator sells."""
    answer = httpx.get(
        f"{polaris_url}/api/WebConnect/Catalog/Produits",
        params={"filtreProduit": '{"DerniereDateChangement": ""}',
                "pager": '{"TI": true, "Nb": 5, "From": ""}'},
        headers={"X-API-Key": _polaris_key(state_dir)},
    )
    sizes = [size for item in answer.json()["Items"] for size in item["Tailles"]]
    return [next(ref for ref in size["Refs"] if ref.isdigit()) for size in sizes[:3]]


def _lines(prices: list[str]) -> list[tuple[int, int, int, str]]:
    """One unit per price; equal neighbouring prices are one line of the same
    size. Sizes are the linked combinations 40, 41..."""
    lines: list[tuple[int, int, int, str]] = []
    for price in prices:
        if lines and lines[-1][3] == price:
            lines.append(lines[-1])
            continue
        slot = len({line[0] for line in lines})
        lines.append((slot + 1, 20, 40 + slot, price))
    return lines


def _use_real_skus(sandbox: Sandbox, order_id: int) -> None:
    for row in sandbox.shop.tables["orders"][order_id]["associations"]["order_rows"]:
        sku = sandbox.skus[row["product_attribute_id"] - 40]
        row["product_ean13"] = sku
        sandbox.shop.tables["order_details"][row["id"]]["product_ean13"] = sku


def place(sandbox: Sandbox, order_id: int, prices: list[str], **options: Any) -> None:
    sandbox.shop.add_order(order_id, _lines(prices), **options)
    _use_real_skus(sandbox, order_id)


def amounts(sale: dict[str, Any]) -> list[tuple[str, int, Decimal, Decimal]]:
    return [
        (d["SKU"], d["Qte"], _decimal(d["MontantTTC"]), _decimal(d["RemiseTTC"]))
        for d in sale["Details"]
    ]


def _decimal(amount: float) -> Decimal:
    return Decimal(str(amount))


def assert_balanced(sale: dict[str, Any]) -> None:
    assert sale["Controle"]["EcartTTC"] == 0, sale["Controle"]


# -- what Polaris receives ----------------------------------------------------------


def test_orders_reach_polaris_line_by_line(sandbox):
    sku = sandbox.skus
    place(sandbox, 501, ["19.900000", "19.900000", "35.500000"], shipping="4.900000")
    place(sandbox, 502, ["49.000000"], module="ps_wirepayment")  # free shipping
    place(sandbox, 503, ["25.000000", "12.000000"], wrapping="2.500000",
          discounts="7.500000")
    sandbox.shop.add_voucher(503, 4, "5.000000")
    sandbox.shop.add_voucher(503, 6, "2.500000")
    place(sandbox, 504, ["30.000000"], state=10)  # awaiting payment
    place(sandbox, 505, ["30.000000"], paid="20.000000")  # paid less than due
    place(sandbox, 506, ["30.000000"], module="ps_cashondelivery")  # unmapped

    result = sandbox.cli("export-orders")
    assert result.exit_code == 1, result.output  # order 506 failed, and says so
    assert "ps_cashondelivery" in result.output

    assert sorted(sale["RefExt"] for sale in sandbox.sales()) == ["501", "502", "503"]
    first = sandbox.sale("501")
    assert amounts(first) == [
        (sku[0], 2, Decimal("19.9"), Decimal("0")),
        (sku[1], 1, Decimal("35.5"), Decimal("0")),
        ("PORT", 1, Decimal("4.9"), Decimal("0")),
    ]
    assert first["Reglements"] == [{"Code": "CHQ", "Montant": 80.2}]
    assert first["CodeMagasin"] == 1 and first["DateVente"].endswith("Z")
    assert [d["SKU"] for d in sandbox.sale("502")["Details"]] == [sku[0]]
    assert sandbox.sale("502")["Reglements"] == [{"Code": "VIR", "Montant": 49.0}]
    assert amounts(sandbox.sale("503"))[2:] == [
        ("EMBAL", 1, Decimal("2.5"), Decimal("0")),
        ("BON", 1, Decimal("-5.0"), Decimal("0")),
        ("BON", 1, Decimal("-2.5"), Decimal("0")),
    ]
    assert sandbox.sale("503")["Reglements"][0]["Montant"] == 32.0
    for sale in sandbox.sales():
        assert_balanced(sale)
        assert "Client" not in sale

    assert sandbox.order_state(501) == "Exported to Polaris"
    assert sandbox.order_state(504) == "Awaiting bank wire payment"
    assert sandbox.order_state(506) == "Polaris export error"

    again = sandbox.cli("run", "--stage", "orders")
    assert again.exit_code == 0, again.output
    assert len(sandbox.sales()) == 3


def test_customers_guards_catch_all_and_unsynced_products(sandbox):
    text = sandbox.config.read_text(encoding="utf-8")
    sandbox.config.write_text(
        text + "[customers]\nexport = true\n", encoding="utf-8"
    )
    with State.open(sandbox.root / "state") as state:
        state.set_mapping("payment", "*", "CB")
    sandbox.shop.add_customer(2, "k7@marketplace.amazon.fr")
    sandbox.shop.add_customer(3, "guest@example.test", groups=(2,), guest=True)
    place(sandbox, 541, ["18.000000"], customer_id=2)  # marketplace customer
    place(sandbox, 542, ["18.000000"], customer_id=3)  # guest checkout
    place(sandbox, 543, ["18.000000"], module="ps_cashondelivery")  # catch-all
    place(sandbox, 544, ["18.000000"], date_add="2020-01-02 10:00:00")  # too old
    sandbox.shop.add_order(545, [(1, 99, 990, "18.000000")])  # never synced
    place(sandbox, 546, ["18.000000"])
    sandbox.shop.add_slip(546, 8, [(1, 1, "18.000000")])  # refunded before export

    result = sandbox.cli("export-orders")
    assert result.exit_code == 1 and "not linked to Polaris" in result.output

    assert sorted(sale["RefExt"] for sale in sandbox.sales()) == ["541", "542", "543"]
    assert "Client" not in sandbox.sale("541")
    guest = sandbox.sale("542")["Client"]
    assert guest["Mail"] == "guest@example.test" and guest["RefsExt"] == ["PS-3"]
    assert guest["Adresse"]["CodePays"] == "FR"
    assert sandbox.sale("543")["Reglements"] == [{"Code": "CB", "Montant": 18.0}]
    assert sandbox.order_state(545) == "Polaris export error"

    reasons = {
        event["prestashop_id"]: event["reason"]
        for event in _audit_events(sandbox) if event["action"] == "skipped"
    }
    assert "more than 90 days ago" in reasons[544]
    assert "nothing left to ship" in reasons[546]
    assert not any("guest@example.test" in str(e) for e in _audit_events(sandbox))


def _audit_events(sandbox: Sandbox) -> list[dict[str, Any]]:
    from polaris_sync.audit import read_events

    return list(read_events(sandbox.root / "state" / "audit"))


def test_refund_cancellation_and_modification_after_export(sandbox):
    place(sandbox, 511, ["20.000000", "15.000000"], shipping="5.000000")
    place(sandbox, 512, ["20.000000", "15.000000"])
    assert sandbox.cli("export-orders").exit_code == 0

    sandbox.shop.add_slip(511, 3, [(2, 1, "15.000000")], shipping="5.000000")
    sandbox.shop.remove_line(512, 2)
    assert sandbox.cli("export-orders").exit_code == 0
    refund = sandbox.sale("511-R3")
    assert refund["RefExtOrigine"] == "511"
    assert [(d["SKU"], d["Qte"]) for d in refund["Details"]] == [
        (sandbox.skus[1], -1), ("PORT", -1)
    ]
    assert refund["Reglements"] == [{"Code": "CHQ", "Montant": -20.0}]
    assert sandbox.sale("512-A1")["Reglements"] == [{"Code": "CHQ", "Montant": -35.0}]
    assert sandbox.sale("512-2")["Reglements"] == [{"Code": "CHQ", "Montant": 20.0}]

    sandbox.shop.set_state(511, 6)
    assert sandbox.cli("export-orders").exit_code == 0
    cancel = sandbox.sale("511-A1")
    assert cancel["RefExtOrigine"] == "511"
    assert sum(p["Montant"] for p in cancel["Reglements"]) == -20.0
    for sale in sandbox.sales():
        assert_balanced(sale)


def test_export_order_sends_one_old_order_below_the_minimum_id(sandbox):
    """Covers G6."""
    text = sandbox.config.read_text(encoding="utf-8")
    sandbox.config.write_text(text + "min_order_id = 1000\n", encoding="utf-8")
    place(sandbox, 521, ["10.000000"])
    assert sandbox.cli("export-orders").exit_code == 0
    assert sandbox.sales() == []

    result = sandbox.cli("export-order", "521")
    assert result.exit_code == 0, result.output
    assert [sale["RefExt"] for sale in sandbox.sales()] == ["521"]
    assert sandbox.cli("export-order", "521").exit_code == 0
    assert len(sandbox.sales()) == 1

    missing = sandbox.cli("export-order", "9999")
    assert missing.exit_code == 2
    assert "order 9999 does not exist in the shop" in missing.output


def test_a4_a_preproduction_copy_keeps_the_pairing_and_its_test_orders_out(
    sandbox, tmp_path
):
    """Covers A4 (with the G3 guard). A copy of the configuration and state,
    beside a copy of the shop, talks
    to Polaris with the same pairing; its minimum order ID keeps the orders
    placed while testing out of Polaris, and the original goes on working."""
    place(sandbox, 601, ["10.000000"])
    assert sandbox.cli("export-orders").exit_code == 0
    copy = tmp_path / "preprod"
    shutil.copytree(tmp_path / "state", copy / "state")
    shop = FakeShop(now=sandbox.shop.clock)
    shop.add_customer(1, "anne@example.test")

    with BackgroundServer(asgi_app(shop.handle)) as web:
        config = re.sub(
            r'\nurl = "[^"]*"',
            f'\nurl = "{web.url}/api"',
            sandbox.config.read_text(encoding="utf-8"),
        )
        (copy / "polaris-sync.toml").write_text(
            config + "min_order_id = 1000\n", encoding="utf-8"
        )
        preprod = Sandbox(
            copy, copy / "polaris-sync.toml", shop, sandbox.simulator, sandbox.skus
        )
        place(preprod, 602, ["12.000000"])
        place(preprod, 1001, ["14.000000"])

        result = preprod.cli("export-orders")

    assert result.exit_code == 0, result.output
    assert sorted(sale["RefExt"] for sale in sandbox.sales()) == ["1001", "601"]
    assert preprod.order_state(602) != "Exported to Polaris"
    assert preprod.order_state(1001) == "Exported to Polaris"

    place(sandbox, 603, ["16.000000"])
    assert sandbox.cli("export-orders").exit_code == 0
    exported = sorted(sale["RefExt"] for sale in sandbox.sales())
    assert exported == ["1001", "601", "603"]


def test_dry_run_prints_the_sales_it_would_send_and_sends_none(sandbox):
    place(sandbox, 551, ["10.000000"])
    result = sandbox.cli("run", "--dry-run", "--stage", "orders")
    assert result.exit_code == 0, result.output
    assert "would send the sale 551 of order 551" in result.output
    assert sandbox.sales() == [] and sandbox.shop.histories(551) == []

    assert sandbox.cli("export-orders").exit_code == 0
    assert [sale["RefExt"] for sale in sandbox.sales()] == ["551"]


def test_a_dry_run_says_which_orders_would_fail_and_why(sandbox):
    """Nothing is sent in a dry run: an order the real run would put in error
    is told as "would fail", never as failed; the exit code is the real
    run's (1). Covers F9, G4, G7."""
    place(sandbox, 556, ["10.000000"], module="ps_cashondelivery")

    result = sandbox.cli("run", "--dry-run", "--stage", "orders")

    assert result.exit_code == 1, result.output
    [plan] = [line for line in result.output.splitlines() if "would fail:" in line]
    assert plan.startswith("  orders: (PrestaShop #556): would fail: order 556: ")
    assert "ps_cashondelivery" in plan
    assert "dry run: orders: 1 order would fail" in result.output
    assert "failed" not in result.output + result.stderr
    assert "error" not in result.stderr
    assert sandbox.shop.histories(556) == []


def test_status_lists_the_orders_waiting_in_error(sandbox):
    place(sandbox, 561, ["10.000000"], module="ps_cashondelivery")
    sandbox.cli("export-orders")
    status = sandbox.cli("status")
    assert status.exit_code == 0, status.output
    assert "order 561 not exported" in status.output
    assert "ps_cashondelivery" in status.output


def test_another_sale_under_the_same_reference_is_an_error_not_a_success(sandbox):
    # A copy of the shop paired with the same Polaris sent its own order 571.
    other = {
        "RefExt": "571", "TypeVenteInternet": "Site", "CodeMagasin": 1,
        "DateVente": "2026-01-02T10:00:00Z",
        "Details": [{"SKU": sandbox.skus[0], "Qte": 1, "MontantTTC": 99.0}],
        "Reglements": [{"Code": "CB", "Montant": 99.0}],
    }
    answer = httpx.post(
        f"{sandbox.polaris_url}/api/WebConnect/Ventes/Vente", json=other,
        headers={"X-API-Key": _polaris_key(sandbox.root / "state")},
    )
    assert answer.status_code < 300, answer.text
    place(sandbox, 571, ["10.000000"])

    result = sandbox.cli("export-orders")
    assert result.exit_code == 1
    assert "another sale under the reference 571" in result.output
    assert sandbox.order_state(571) == "Polaris export error"
    assert sandbox.sale("571")["Reglements"][0]["Montant"] == 99.0


def _set_shipping_reference(sandbox: Sandbox, reference: str) -> None:
    text = sandbox.config.read_text(encoding="utf-8")
    line = f'shipping_reference = "{reference}"'
    sandbox.config.write_text(
        re.sub(r'shipping_reference = "[^"]*"', line, text), encoding="utf-8"
    )


def _journal(sandbox: Sandbox, order_id: int) -> tuple[str, list[tuple[str, str]]]:
    """The order's export status and its journal entries, as stored."""
    with State.open(sandbox.root / "state") as state:
        [(status,)] = state.execute(
            "SELECT status FROM order_exports WHERE order_id = ?", (order_id,)
        ).fetchall()
        entries = state.execute(
            "SELECT ref_ext, status FROM sale_journal WHERE order_id = ?"
            " ORDER BY recorded_at",
            (order_id,),
        ).fetchall()
    return status, [(str(ref), str(entry)) for ref, entry in entries]


def test_a_sale_polaris_refused_goes_once_the_configuration_is_fixed(sandbox):
    """Covers G7 and G11: Polaris refused the sale, so it is not in Polaris;
    once the shipping reference is fixed the next run sends it, the order
    leaves the error state, and nothing is sent twice."""
    _set_shipping_reference(sandbox, "NOPE")
    place(sandbox, 581, ["10.000000"], shipping="4.900000")

    refused = sandbox.cli("run", "--stage", "orders")
    assert refused.exit_code == 1, refused.output
    assert "Polaris refused the sale 581" in refused.output
    assert "article inconnu 'NOPE'" in refused.output
    assert sandbox.sales() == []
    assert sandbox.order_state(581) == "Polaris export error"
    assert "order 581 not exported" in sandbox.cli("status").output
    assert _journal(sandbox, 581) == ("error", [("581", "rejected")])

    _set_shipping_reference(sandbox, "PORT")
    fixed = sandbox.cli("run", "--stage", "orders")
    assert fixed.exit_code == 0, fixed.output
    assert [d["SKU"] for d in sandbox.sale("581")["Details"]][-1] == "PORT"
    assert sandbox.order_state(581) == "Exported to Polaris"
    assert "order 581 not exported" not in sandbox.cli("status").output
    assert _journal(sandbox, 581) == ("exported", [("581", "sent")])

    assert sandbox.cli("run", "--stage", "orders").exit_code == 0
    assert sandbox.cli("export-order", "581").exit_code == 0
    assert len(sandbox.sales("581")) == 1


def test_export_order_sends_a_sale_polaris_refused_before(sandbox):
    """Covers G6 and G7: `export-order` retries an order in error at once."""
    _set_shipping_reference(sandbox, "NOPE")
    place(sandbox, 582, ["10.000000"], shipping="4.900000")
    assert sandbox.cli("export-orders").exit_code == 1

    _set_shipping_reference(sandbox, "PORT")
    result = sandbox.cli("export-order", "582")
    assert result.exit_code == 0, result.output
    assert "already in Polaris" not in result.output
    assert len(sandbox.sales("582")) == 1
    assert sandbox.order_state(582) == "Exported to Polaris"


def test_a_refused_refund_goes_once_fixed_and_the_sale_is_not_sent_again(sandbox):
    """Covers G8 and G11: the sale is in Polaris, its refund was refused; the
    retry sends the refund only."""
    place(sandbox, 583, ["20.000000", "15.000000"], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 0
    _set_shipping_reference(sandbox, "NOPE")
    sandbox.shop.add_slip(583, 4, [(2, 1, "15.000000")], shipping="5.000000")

    refused = sandbox.cli("export-orders")
    assert refused.exit_code == 1, refused.output
    assert "Polaris refused the refund 583-R4" in refused.output
    assert sandbox.sales("583-R4") == []
    assert sandbox.order_state(583) == "Polaris export error"

    _set_shipping_reference(sandbox, "PORT")
    fixed = sandbox.cli("export-orders")
    assert fixed.exit_code == 0, fixed.output
    refund = sandbox.sale("583-R4")
    assert [(d["SKU"], d["Qte"]) for d in refund["Details"]][-1] == ("PORT", -1)
    assert len(sandbox.sales("583")) == 1
    assert sandbox.order_state(583) == "Exported to Polaris"
    assert _journal(sandbox, 583) == (
        "exported", [("583", "sent"), ("583-R4", "sent")]
    )


def test_a_modification_whose_new_sale_was_refused_sends_it_once_fixed(sandbox):
    """Covers G8 and G11: the cancellation went, the new version was refused;
    the retry sends the new version without cancelling twice."""
    place(sandbox, 584, ["20.000000", "15.000000"], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 0
    _set_shipping_reference(sandbox, "NOPE")
    sandbox.shop.remove_line(584, 2)

    refused = sandbox.cli("export-orders")
    assert refused.exit_code == 1, refused.output
    assert "Polaris refused the sale 584-2" in refused.output
    assert len(sandbox.sales("584-A1")) == 1
    assert sandbox.sales("584-2") == []

    _set_shipping_reference(sandbox, "PORT")
    fixed = sandbox.cli("export-orders")
    assert fixed.exit_code == 0, fixed.output
    assert sandbox.sale("584-2")["Reglements"] == [{"Code": "CHQ", "Montant": 25.0}]
    assert len(sandbox.sales("584-A1")) == 1
    assert sandbox.sales("584-A2") == []
    assert sandbox.order_state(584) == "Exported to Polaris"
    for sale in sandbox.sales():
        assert_balanced(sale)


def _as_earlier_versions_left_it(sandbox: Sandbox, order_id: int) -> None:
    """The order marked exported with the sale Polaris refused in its record,
    as versions before this fix left it."""
    with State.open(sandbox.root / "state") as state:
        journal = Journal(state)
        [entry] = journal.entries(order_id)
        export = journal.order_export(order_id)
        assert entry.status is EntryStatus.REJECTED and export is not None
        record = ExportRecord(order_id, 1, "", (sale_from_payload(entry.payload),))
        journal.set_order_export(
            order_id, status="exported", record=record, seen=export.seen,
            current_state=export.current_state,
        )


@pytest.mark.parametrize(
    "retry", [["run", "--stage", "orders"], ["export-order", "586"]]
)
def test_an_order_marked_exported_though_polaris_refused_its_sale_is_sent(
    sandbox, retry
):
    """Covers G7 and G11 for a state database kept from before: the order is
    put back in error and its sale goes once the configuration is fixed."""
    _set_shipping_reference(sandbox, "NOPE")
    place(sandbox, 586, ["10.000000"], shipping="4.900000")
    assert sandbox.cli("export-orders").exit_code == 1
    _as_earlier_versions_left_it(sandbox, 586)

    _set_shipping_reference(sandbox, "PORT")
    result = sandbox.cli(*retry)
    assert result.exit_code == 0, result.output
    assert len(sandbox.sales("586")) == 1
    assert sandbox.order_state(586) == "Exported to Polaris"
    assert _journal(sandbox, 586) == ("exported", [("586", "sent")])
    assert "order 586 not exported" not in sandbox.cli("status").output


@pytest.mark.parametrize("retry", [["export-orders"], ["export-order", "587"]])
def test_an_order_in_error_with_nothing_left_to_send_leaves_the_error_state(
    sandbox, retry
):
    """Covers G5, G6 and G7: the refund was refused, then the merchant turned
    the corrections off; Polaris has all it is to have of the order."""
    place(sandbox, 587, ["20.000000", "15.000000"], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 0
    _set_shipping_reference(sandbox, "NOPE")
    sandbox.shop.add_slip(587, 5, [(2, 1, "15.000000")], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 1
    assert sandbox.order_state(587) == "Polaris export error"

    text = sandbox.config.read_text(encoding="utf-8")
    sandbox.config.write_text(
        text.replace("export_corrections = true", "export_corrections = false"),
        encoding="utf-8",
    )
    result = sandbox.cli(*retry)
    assert result.exit_code == 0, result.output
    assert sandbox.sales("587-R5") == []
    assert sandbox.order_state(587) == "Exported to Polaris"
    assert "order 587 not exported" not in sandbox.cli("status").output


def _net_in_polaris(sandbox: Sandbox, order_id: int) -> tuple[dict[str, int], float]:
    """What Polaris holds of the order once every sale of it is added up:
    quantity per article, and the amount paid."""
    quantities: dict[str, int] = {}
    paid = 0.0
    for sale in sandbox.sales():
        if sale["RefExt"].split("-")[0] != str(order_id):
            continue
        assert_balanced(sale)
        for detail in sale["Details"]:
            quantities[detail["SKU"]] = quantities.get(detail["SKU"], 0) + detail["Qte"]
        paid += sum(payment["Montant"] for payment in sale["Reglements"])
    return {sku: qty for sku, qty in quantities.items() if qty}, round(paid, 2)


@pytest.mark.parametrize(
    "lost", ["cancellation", "new version", "new version after a refusal"]
)
def test_a_sale_whose_answer_was_lost_then_the_order_changed_is_corrected(
    sandbox, lost
):
    """Covers G8 and G11: Polaris stored a sale of the modification but its
    answer was lost (a timeout after the write); the merchant then changed
    the order again. Polaris holds the sale as sent, not as the order is now:
    it is recorded so, a version sent otherwise is cancelled and the order
    sent as it is now; nothing is taken for another shop's sale."""
    place(sandbox, 590, ["20.000000", "15.000000", "10.000000"], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 0
    sandbox.shop.remove_line(590, 3)
    if lost == "new version after a refusal":
        _set_shipping_reference(sandbox, "NOPE")
        assert sandbox.cli("export-orders").exit_code == 1
        assert sandbox.sales("590-2") == []
        _set_shipping_reference(sandbox, "PORT")

    # Writes: the cancellation (unless it went already), then the new version.
    passes = 1 if lost == "new version" else 0
    sandbox.polaris_gate.arm("POST", "/Ventes/Vente", passes=passes)
    answer = sandbox.cli("export-orders")
    assert answer.exit_code == 3, answer.output
    assert len(sandbox.sales("590-A1")) == 1
    sandbox.shop.remove_line(590, 2)
    sandbox.shop.set_state(590, 2)

    fixed = sandbox.cli("export-orders")
    assert fixed.exit_code == 0, fixed.output
    assert _net_in_polaris(sandbox, 590) == ({sandbox.skus[0]: 1, "PORT": 1}, 25.0)
    for ref in ("590", "590-A1", "590-2"):
        assert len(sandbox.sales(ref)) == 1
    assert sandbox.sales("590-A3") == []
    assert sandbox.order_state(590) == "Exported to Polaris"
    assert sandbox.cli("export-orders").exit_code == 0
    assert _net_in_polaris(sandbox, 590) == ({sandbox.skus[0]: 1, "PORT": 1}, 25.0)


def _set_orders_option(sandbox: Sandbox, line: str) -> None:
    text = sandbox.config.read_text(encoding="utf-8")
    sandbox.config.write_text(
        text.replace("[orders]\n", f"[orders]\n{line}\n"), encoding="utf-8"
    )


def _new_version_refused(sandbox: Sandbox, order_id: int) -> None:
    """Exported, then a line removed: the cancellation goes, the new version is
    refused (unknown shipping reference), then the reference is fixed."""
    place(sandbox, order_id, ["20.000000", "15.000000", "10.000000"],
          shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 0
    _set_shipping_reference(sandbox, "NOPE")
    sandbox.shop.remove_line(order_id, 3)
    assert sandbox.cli("export-orders").exit_code == 1
    assert len(sandbox.sales(f"{order_id}-A1")) == 1
    assert sandbox.sales(f"{order_id}-2") == []
    _set_shipping_reference(sandbox, "PORT")


def test_a_refused_new_version_then_cancelled_order_leaves_polaris_at_zero(sandbox):
    """Covers G8 and G11: the order is cancelled before the retry; the
    cancellation Polaris has is enough, the refused version never goes."""
    _new_version_refused(sandbox, 592)
    sandbox.shop.set_state(592, 6)
    result = sandbox.cli("export-orders")
    assert result.exit_code == 0, result.output
    assert _net_in_polaris(sandbox, 592) == ({}, 0.0)
    assert sandbox.sales("592-2") == [] and sandbox.sales("592-A2") == []
    assert _journal(sandbox, 592)[0] == "cancelled"
    assert "order 592 not exported" not in sandbox.cli("status").output


def test_a_refused_new_version_then_modified_again_goes_as_the_order_is(sandbox):
    """Covers G8 and G11: modified again before the retry, the order goes as
    it is then, under the version Polaris never got."""
    _new_version_refused(sandbox, 593)
    sandbox.shop.remove_line(593, 2)
    sandbox.shop.set_state(593, 2)
    result = sandbox.cli("export-orders")
    assert result.exit_code == 0, result.output
    assert _net_in_polaris(sandbox, 593) == ({sandbox.skus[0]: 1, "PORT": 1}, 25.0)
    assert len(sandbox.sales("593-2")) == 1 and sandbox.sales("593-A2") == []
    assert sandbox.order_state(593) == "Exported to Polaris"


def test_a_refused_refund_then_cancelled_order_leaves_polaris_at_zero(sandbox):
    """Covers G8 and G11: the cancellation negates what Polaris got; the
    refund it never got is not sent after it."""
    place(sandbox, 594, ["20.000000", "15.000000"], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 0
    _set_shipping_reference(sandbox, "NOPE")
    sandbox.shop.add_slip(594, 6, [(2, 1, "15.000000")], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 1
    _set_shipping_reference(sandbox, "PORT")
    sandbox.shop.set_state(594, 6)
    result = sandbox.cli("export-orders")
    assert result.exit_code == 0, result.output
    assert _net_in_polaris(sandbox, 594) == ({}, 0.0)
    assert sandbox.sales("594-R6") == []
    assert sandbox.cli("export-orders").exit_code == 0
    assert _net_in_polaris(sandbox, 594) == ({}, 0.0)


def test_export_order_and_a_dry_run_while_a_new_version_waits(sandbox):
    """Covers G6, G7 and G11: `export-order` while still refused changes
    nothing; a dry run after the fix sends nothing; the real run sends the
    version once."""
    _new_version_refused(sandbox, 595)
    _set_shipping_reference(sandbox, "NOPE")
    assert sandbox.cli("export-order", "595").exit_code == 1
    _set_shipping_reference(sandbox, "PORT")
    dry = sandbox.cli("run", "--dry-run", "--stage", "orders")
    assert dry.exit_code == 0, dry.output
    assert sandbox.sales("595-2") == []
    assert _journal(sandbox, 595)[0] == "error"

    assert sandbox.cli("export-order", "595").exit_code == 0
    assert sandbox.cli("export-orders").exit_code == 0
    assert sandbox.cli("export-order", "595").exit_code == 0
    assert len(sandbox.sales("595-2")) == 1 and len(sandbox.sales("595-A1")) == 1
    assert sandbox.sales("595-A2") == []
    assert _net_in_polaris(sandbox, 595) == (
        {sandbox.skus[0]: 1, sandbox.skus[1]: 1, "PORT": 1}, 40.0
    )
    assert sandbox.order_state(595) == "Exported to Polaris"


def test_orders_in_error_with_the_minimum_id_and_the_ceiling(sandbox):
    """Covers G6, G7 and G10: a new version still due goes whatever the
    minimum id; a refused first sale below it stays out; those above count
    against the ceiling, and go once confirmed."""
    _new_version_refused(sandbox, 596)
    _set_shipping_reference(sandbox, "NOPE")
    for order_id in (597, 598, 599):
        place(sandbox, order_id, ["10.000000"], shipping="4.900000")
    assert sandbox.cli("export-orders").exit_code == 1
    _set_shipping_reference(sandbox, "PORT")
    _set_orders_option(sandbox, "min_order_id = 598\nceiling = 1")

    held = sandbox.cli("export-orders")
    assert held.exit_code == 1 and "more than the ceiling" in held.output
    assert sandbox.sales("598") == [] and sandbox.sales("596-2") == []
    confirmed = sandbox.cli("export-orders", "--confirm")
    assert confirmed.exit_code == 0, confirmed.output
    for ref in ("596-2", "598", "599"):
        assert len(sandbox.sales(ref)) == 1
    assert sandbox.sales("597") == []
    assert sandbox.cli("export-orders").exit_code == 0
    assert sandbox.cli("export-order", "597").exit_code == 0
    assert len(sandbox.sales("597")) == 1
    assert len(sandbox.sales()) == 6


@pytest.mark.parametrize("then", ["cancelled", "modified"])
def test_a_refund_whose_answer_was_lost_is_cancelled_with_the_sale(sandbox, then):
    """Covers G8 and G11: Polaris stored the refund, its answer was lost; the
    order is then cancelled, or changed, before the next run. The cancellation
    negates the refund Polaris has along with the sale."""
    place(sandbox, 600, ["20.000000", "15.000000", "10.000000"], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 0
    sandbox.shop.add_slip(600, 7, [(2, 1, "15.000000")])
    sandbox.polaris_gate.arm("POST", "/Ventes/Vente")
    assert sandbox.cli("export-orders").exit_code == 3
    assert len(sandbox.sales("600-R7")) == 1
    if then == "cancelled":
        sandbox.shop.set_state(600, 6)
    else:
        sandbox.shop.remove_line(600, 3)

    result = sandbox.cli("export-orders")
    assert result.exit_code == 0, result.output
    assert len(sandbox.sales("600-R7")) == 1
    quantities, _ = _net_in_polaris(sandbox, 600)
    if then == "cancelled":
        assert _net_in_polaris(sandbox, 600) == ({}, 0.0)
    else:
        assert quantities == {sandbox.skus[0]: 1, "PORT": 1}


def test_a_cancellation_whose_answer_was_lost_then_the_order_paid_again(sandbox):
    """Covers G8 and G11: Polaris stored the cancellation, its answer was
    lost; the merchant puts the order back to paid before the next run. Polaris
    holds nothing of it then: the order is sent again as a new version."""
    place(sandbox, 601, ["20.000000", "15.000000"], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 0
    sandbox.shop.set_state(601, 6)
    sandbox.polaris_gate.arm("POST", "/Ventes/Vente")
    assert sandbox.cli("export-orders").exit_code == 3
    assert len(sandbox.sales("601-A1")) == 1
    sandbox.shop.set_state(601, 2)

    result = sandbox.cli("export-orders")
    assert result.exit_code == 0, result.output
    assert _net_in_polaris(sandbox, 601) == (
        {sandbox.skus[0]: 1, sandbox.skus[1]: 1, "PORT": 1}, 40.0
    )
    assert len(sandbox.sales("601-A1")) == 1 and len(sandbox.sales("601-2")) == 1


def test_a_new_version_whose_answer_was_lost_then_the_order_cancelled(sandbox):
    """Covers G8 and G11: Polaris stored the modification's new version, its
    answer was lost; the order is cancelled before the next run. The new
    version Polaris has is cancelled too."""
    place(sandbox, 602, ["20.000000", "15.000000", "10.000000"], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 0
    sandbox.shop.remove_line(602, 3)
    sandbox.polaris_gate.arm("POST", "/Ventes/Vente", passes=1)
    assert sandbox.cli("export-orders").exit_code == 3
    assert len(sandbox.sales("602-2")) == 1
    sandbox.shop.set_state(602, 6)

    result = sandbox.cli("export-orders")
    assert result.exit_code == 0, result.output
    assert _net_in_polaris(sandbox, 602) == ({}, 0.0)
    assert len(sandbox.sales("602-A2")) == 1


def test_an_order_in_error_the_merchant_moved_keeps_their_state(sandbox):
    """Covers G5 and G7: the refund was refused, the merchant then shipped
    the order and turned the corrections off: nothing is left to send, and
    the order keeps the merchant's state."""
    place(sandbox, 603, ["20.000000", "15.000000"], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 0
    _set_shipping_reference(sandbox, "NOPE")
    sandbox.shop.add_slip(603, 8, [(2, 1, "15.000000")], shipping="5.000000")
    assert sandbox.cli("export-orders").exit_code == 1
    sandbox.shop.set_state(603, 4)
    text = sandbox.config.read_text(encoding="utf-8")
    sandbox.config.write_text(
        text.replace("export_corrections = true", "export_corrections = false"),
        encoding="utf-8",
    )
    result = sandbox.cli("export-orders")
    assert result.exit_code == 0, result.output
    assert sandbox.order_state(603) == "Shipped"
    assert _journal(sandbox, 603)[0] == "exported"
