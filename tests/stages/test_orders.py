"""Stage `orders` against a shop and Polaris in memory (G3-G11)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from polaris_sync.stages.orders import export_order, export_orders

pytestmark = pytest.mark.anyio

ONE_TEE = [(1, 20, 40, "12.000000")]


def lines_of(sale):
    return [
        (d["SKU"], d["Qte"], d["MontantTTC"], d["RemiseTTC"]) for d in sale["Details"]
    ]


def balanced(sale):
    lines = sum(
        Decimal(str(d["MontantTTC"])) * d["Qte"] - Decimal(str(d["RemiseTTC"]))
        for d in sale["Details"]
    )
    paid = sum(Decimal(str(r["Montant"])) for r in sale["Reglements"])
    return lines == paid


async def test_g7_paid_order_is_sent_and_marked_exported(world):
    """Covers G7: "Exported to Polaris"."""
    world.shop.add_order(101, [(1, 20, 40, "12.000000"), (1, 20, 40, "12.000000"),
                               (2, 20, 41, "15.000000")], shipping="8.400000")
    result = await world.run(export_orders)

    sale = world.polaris.sales["101"]
    assert lines_of(sale) == [
        ("3760000000040", 2, 12.0, 0.0),
        ("3760000000041", 1, 15.0, 0.0),
        ("FRAISPORT", 1, 8.4, 0.0),
    ]
    assert sale["Reglements"] == [{"Code": "CHQ", "Montant": 47.4}]
    assert sale["CodeMagasin"] == 3 and balanced(sale)
    assert "Client" not in sale

    order = world.shop.tables["orders"][101]
    assert world.shop.state_name(order["current_state"]) == "Exported to Polaris"
    assert order["valid"] == "1"
    state = world.shop.tables["order_states"][order["current_state"]]
    assert (state["logable"], state["paid"], state["shipped"]) == ("1", "1", "0")
    assert (state["send_email"], state["invoice"], state["delivery"]) == ("0", "0", "0")
    assert result.counts["created"] == 1 and not result.errors


async def test_g11_a_second_run_sends_nothing_again(world):
    world.shop.add_order(101, ONE_TEE)
    await world.run(export_orders)
    posts, histories = world.polaris.posts, len(world.shop.histories(101))

    result = await world.run(export_orders)
    result = await world.run(export_orders)
    assert world.polaris.posts == posts == 1
    assert len(world.shop.histories(101)) == histories
    assert result.counts["created"] == 0


async def test_g4_unpaid_order_is_skipped_with_reason_then_sent_once_paid(world):
    world.shop.add_order(102, ONE_TEE, state=10, module="ps_wirepayment")
    await world.run(export_orders)
    assert world.polaris.sales == {}
    [skipped] = world.events("skipped")
    assert skipped["prestashop_id"] == 102 and "valid (paid) state" in skipped["reason"]
    assert world.shop.histories(102) == []

    world.shop.set_state(102, 2)
    await world.run(export_orders)
    assert world.polaris.sales["102"]["Reglements"][0]["Code"] == "VIR"


async def test_g4_order_paid_less_than_its_total_is_skipped(world):
    world.shop.add_order(103, ONE_TEE, paid="10.000000")
    await world.run(export_orders)
    assert world.polaris.sales == {}
    assert "differs from its total" in world.events("skipped")[0]["reason"]


async def test_f9_unmapped_payment_is_an_error_until_its_state_or_mapping_changes(
    world,
):
    """Covers G7: "Polaris export error", retried when the state changes."""
    world.shop.add_order(104, ONE_TEE, module="ps_cashondelivery")
    result = await world.run(export_orders)
    assert world.polaris.sales == {} and result.failed == 1
    order = world.shop.tables["orders"][104]
    assert world.shop.state_name(order["current_state"]) == "Polaris export error"
    assert order["valid"] == "1"
    assert "ps_cashondelivery" in world.events("failed")[0]["reason"]
    # F7: the module now has a mapping row waiting for its Polaris code.
    row = world.state.mapping("payment", "ps_cashondelivery")
    assert row is not None and row.target is None

    # Nothing changed: the order waits, and is not reported again.
    result = await world.run(export_orders)
    assert world.polaris.sales == {} and result.failed == 0

    # Its state changes: it is looked at again, and still cannot go.
    world.shop.set_state(104, 2)
    result = await world.run(export_orders)
    assert world.polaris.sales == {} and result.failed == 1

    # The merchant adds a catch-all row: the next run retries the order.
    world.state.set_mapping("payment", "*", "DIV")
    await world.run(export_orders)
    assert world.polaris.sales["104"]["Reglements"][0]["Code"] == "DIV"
    order = world.shop.tables["orders"][104]
    assert world.shop.state_name(order["current_state"]) == "Exported to Polaris"


async def test_order_in_error_for_its_configuration_is_retried_once_it_changes(world):
    world.options["orders"].pop("shipping_reference")
    world.shop.add_order(106, ONE_TEE, shipping="5.000000")
    result = await world.run(export_orders)
    assert world.polaris.sales == {} and result.failed == 1
    [failed] = world.events("failed")
    assert "shipping_reference" in failed["reason"]
    assert "next run" in failed["reason"]

    # The order itself does not change; the configuration does.
    world.options["orders"]["shipping_reference"] = "FRAISPORT"
    result = await world.run(export_orders)
    assert lines_of(world.polaris.sales["106"])[-1] == ("FRAISPORT", 1, 5.0, 0.0)
    assert result.counts["created"] == 1 and not result.errors
    order = world.shop.tables["orders"][106]
    assert world.shop.state_name(order["current_state"]) == "Exported to Polaris"


async def test_order_whose_product_was_never_synced_is_an_error(world):
    world.shop.add_order(105, [(1, 77, 700, "9.000000")])
    result = await world.run(export_orders)
    assert world.polaris.sales == {} and result.failed == 1
    assert "not linked to Polaris" in world.events("failed")[0]["reason"]


async def test_g9_g2_voucher_and_gift_wrapping_lines(world):
    world.shop.add_order(106, ONE_TEE + [(2, 20, 41, "15.000000")],
                         wrapping="2.000000", discounts="5.000000")
    world.shop.add_voucher(106, 9, "5.000000")
    await world.run(export_orders)
    sale = world.polaris.sales["106"]
    assert lines_of(sale)[-2:] == [
        ("PAQCADEAU", 1, 2.0, 0.0),
        ("BONACHAT", 1, -5.0, 0.0),
    ]
    assert sale["Reglements"][0]["Montant"] == 24.0 and balanced(sale)


async def test_g3_old_orders_and_orders_below_the_minimum_id_are_not_exported(world):
    world.options["orders"]["min_order_id"] = 200
    world.shop.add_order(107, ONE_TEE)
    await world.run(export_orders)
    assert world.polaris.sales == {}
    assert "minimum order id 200" in world.events("skipped")[0]["reason"]


async def test_g6_export_order_sends_one_order_below_the_minimum_id(world):
    """Covers G6."""
    world.options["orders"]["min_order_id"] = 200
    world.shop.add_order(107, ONE_TEE)
    result = await world.run(export_order, 107)
    assert list(world.polaris.sales) == ["107"] and result.counts["created"] == 1

    again = await world.run(export_order, 107)
    assert again.counts["unchanged"] == 1 and world.polaris.posts == 1


async def test_g6_export_order_still_refuses_an_unpaid_order(world):
    world.shop.add_order(108, ONE_TEE, state=8)
    result = await world.run(export_order, 108)
    assert world.polaris.sales == {} and result.counts["skipped"] == 1


async def test_ceiling_holds_every_order_until_confirmed(world):
    world.options["orders"]["ceiling"] = 2
    for order_id in (111, 112, 113):
        world.shop.add_order(order_id, ONE_TEE)
    result = await world.run(export_orders)
    assert world.polaris.sales == {} and result.failed == 1
    assert "export-orders --confirm" in result.errors[0]

    await world.run(export_orders, confirm=True)
    assert sorted(world.polaris.sales) == ["111", "112", "113"]


async def test_dry_run_sends_nothing_and_changes_no_state(world):
    world.shop.add_order(114, ONE_TEE)
    result = await world.run(export_orders, dry_run=True)
    assert world.polaris.posts == 0 and world.shop.histories(114) == []
    assert result.counts["planned"] == 1
    assert not any(method == "POST" for method, _ in world.shop.requests)


async def test_a_dry_run_foresees_an_error_without_putting_the_order_in_error(world):
    """Covers F9, G7: the order keeps its state; nothing failed yet."""
    world.shop.add_order(117, ONE_TEE, module="ps_cashondelivery")
    before = world.shop.tables["orders"][117]["current_state"]

    result = await world.run(export_orders, dry_run=True)

    assert result.failed == 0 and result.errors == []
    assert result.counts["would fail"] == 1
    assert "ps_cashondelivery" in result.would_fail[0]
    assert world.shop.tables["orders"][117]["current_state"] == before
    assert world.shop.histories(117) == []


async def test_g5_g8_refund_then_cancellation_with_corrections_on(world):
    world.options["orders"]["export_corrections"] = True
    world.shop.add_order(115, ONE_TEE + [(2, 20, 41, "15.000000")], shipping="5.000000")
    await world.run(export_orders)

    world.shop.add_slip(115, 7, [(2, 1, "15.000000")], shipping="5.000000")
    await world.run(export_orders)
    refund = world.polaris.sales["115-R7"]
    assert lines_of(refund) == [("3760000000041", -1, 15.0, 0.0),
                                ("FRAISPORT", -1, 5.0, 0.0)]
    assert refund["RefExtOrigine"] == "115" and balanced(refund)

    world.shop.set_state(115, 6)
    await world.run(export_orders)
    cancel = world.polaris.sales["115-A1"]
    assert cancel["RefExtOrigine"] == "115" and balanced(cancel)
    assert cancel["Reglements"] == [{"Code": "CHQ", "Montant": -32.0},
                                    {"Code": "CHQ", "Montant": 20.0}]
    # The cancelled order keeps its state: "Exported" would make it valid again.
    assert world.shop.tables["orders"][115]["current_state"] == 6

    await world.run(export_orders)
    assert sorted(world.polaris.sales) == ["115", "115-A1", "115-R7"]


async def test_g8_modified_order_is_cancelled_and_sent_again(world):
    world.options["orders"]["export_corrections"] = True
    world.shop.add_order(116, ONE_TEE + [(2, 20, 41, "15.000000")])
    await world.run(export_orders)

    # The merchant removes the second line in the back office.
    world.shop.remove_line(116, 2)
    await world.run(export_orders)

    assert world.polaris.sales["116-A1"]["Reglements"][0]["Montant"] == -27.0
    assert lines_of(world.polaris.sales["116-2"]) == [("3760000000040", 1, 12.0, 0.0)]


async def test_g5_corrections_off_sends_nothing_after_the_first_sale(world):
    world.shop.add_order(117, ONE_TEE)
    await world.run(export_orders)
    world.shop.set_state(117, 6)
    await world.run(export_orders)
    assert list(world.polaris.sales) == ["117"]


async def test_g1_sale_carries_the_customer_only_when_customers_are_exported(world):
    world.options["customers"] = {"export": True}
    world.shop.add_customer(2, "x9@marketplace.amazon.fr")
    world.shop.add_order(118, ONE_TEE, customer_id=1)
    world.shop.add_order(119, ONE_TEE, customer_id=2)
    await world.run(export_orders)

    client = world.polaris.sales["118"]["Client"]
    assert client["Mail"] == "anne@example.test" and client["RefsExt"] == ["PS-1"]
    assert client["Adresse"]["CodePays"] == "FR"
    assert "Client" not in world.polaris.sales["119"]
    # The audit never carries the customer's personal data.
    assert "anne@example.test" not in str(world.events())


async def test_polaris_refusing_a_sale_puts_the_order_in_error(world):
    world.polaris.refuse["120"] = "SKU inconnu: 3760000000040"
    world.shop.add_order(120, ONE_TEE)
    result = await world.run(export_orders)
    assert result.failed == 1 and "SKU inconnu" in result.errors[0]
    order = world.shop.tables["orders"][120]
    assert world.shop.state_name(order["current_state"]) == "Polaris export error"


async def test_a_shop_refusing_the_state_change_still_records_the_sale(world):
    handle = world.shop.handle

    def refusing(request):
        if request.method == "POST" and request.url.path.endswith("order_histories"):
            return httpx.Response(400, headers={"PSWS-Version": "8.1.2"})
        return handle(request)

    world.shop.handle = refusing
    world.shop.add_order(121, ONE_TEE)
    result = await world.run(export_orders)
    assert list(world.polaris.sales) == ["121"] and result.failed == 1
    assert "refused the state" in result.errors[0]

    world.shop.handle = handle
    again = await world.run(export_orders)
    assert world.polaris.posts == 1 and again.failed == 0


async def test_g7_a_shipped_order_gets_a_shipped_variant_of_the_export_state(world):
    world.shop.add_order(122, ONE_TEE, state=4)
    await world.run(export_orders)
    order = world.shop.tables["orders"][122]
    name = world.shop.state_name(order["current_state"])
    assert name == "Exported to Polaris (shipped)"
    state = world.shop.tables["order_states"][order["current_state"]]
    assert (state["logable"], state["paid"], state["shipped"]) == ("1", "1", "1")

    world.shop.add_order(123, ONE_TEE, state=4)
    await world.run(export_orders)
    assert world.shop.tables["orders"][123]["current_state"] == order["current_state"]


async def test_orders_of_a_split_cart_paid_together_are_each_exported(world):
    # One payment for the reference sits on the first order only.
    first = world.shop.add_order(124, ONE_TEE, shipping="5.000000")
    second = world.shop.add_order(125, [(2, 20, 41, "15.000000")])
    second["reference"] = first["reference"]
    first["total_paid_real"], second["total_paid_real"] = "32.000000", "0.000000"
    await world.run(export_orders)
    assert world.polaris.sales["124"]["Reglements"][0]["Montant"] == 17.0
    assert world.polaris.sales["125"]["Reglements"][0]["Montant"] == 15.0

    # Paid short as a whole: neither goes.
    third = world.shop.add_order(126, ONE_TEE)
    fourth = world.shop.add_order(127, ONE_TEE)
    fourth["reference"] = third["reference"]
    third["total_paid_real"], fourth["total_paid_real"] = "20.000000", "0.000000"
    await world.run(export_orders)
    assert "126" not in world.polaris.sales and "127" not in world.polaris.sales


async def test_a_change_within_the_second_last_read_is_still_seen(world):
    world.shop.clock = datetime.now(ZoneInfo("Europe/Paris")).replace(
        tzinfo=None, microsecond=0
    ) - timedelta(seconds=30)
    world.options["orders"]["export_corrections"] = True
    world.shop.add_order(128, ONE_TEE)
    await world.run(export_orders)
    await world.run(export_orders)  # sees the state it set itself

    # A refund lands in the very second the export last read: date_upd stays.
    stamp = world.shop.tables["orders"][128]["date_upd"]
    world.shop.add_slip(128, 5, [(1, 1, "12.000000")])
    world.shop.tables["orders"][128]["date_upd"] = stamp
    await world.run(export_orders)
    assert "128-R5" in world.polaris.sales
