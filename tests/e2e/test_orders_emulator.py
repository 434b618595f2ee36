"""Orders placed in the PrestaShop emulator reach the Polaris simulator (G1-G11).

The catalogue is first synced from the simulator into the emulator by the
real catalogue stage, so order lines are combinations the sync created and
linked. Orders are placed and changed through the emulator's admin API, as a
customer and the back office would; the orders stage then exports them, and
the sales the simulator received are checked line by line, to the cent.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from polaris_sync.errors import TransientError
from polaris_sync.stages import customers as customers_stage
from polaris_sync.stages.orders import export_order
from tests.e2e.gates import LostAnswer
from tests.e2e.order_shop import (
    admin,
    export,
    money,
    order,
    place,
    prepare_shop,
    sale,
    sizes,
    state_name,
)


@pytest.fixture
def shop(sandbox):
    return prepare_shop(sandbox)


def test_paid_order_goes_line_by_line_and_is_marked_exported(shop):
    first, second = sizes(shop, 2)
    order_id = place(shop, [(first, 2), (second, 1)])
    placed = order(shop, order_id)

    result = export(shop)
    assert result.counts["created"] == 1, result.errors

    received = sale(shop, str(order_id))
    rows = {int(row["product_attribute_id"]): row
            for row in placed["associations"]["order_rows"]}
    paid_unit = {
        size["ean13"]: money(rows[int(size["id"])]["unit_price_tax_incl"])
        for size in (first, second)
    }
    expected = [
        (first["ean13"], 2, 2 * paid_unit[first["ean13"]]),
        (second["ean13"], 1, paid_unit[second["ean13"]]),
    ]
    shipping = money(placed["total_shipping_tax_incl"])
    if shipping:
        expected.append(("PORT", 1, shipping))
    # A line is Qte x MontantTTC (price before promotion) less RemiseTTC.
    assert [
        (d["SKU"], d["Qte"], money(d["Qte"] * d["MontantTTC"] - d["RemiseTTC"]))
        for d in received["Details"]
    ] == expected
    for detail in received["Details"][:2]:
        assert money(detail["MontantTTC"]) >= paid_unit[detail["SKU"]]
    assert received["Reglements"] == [
        {"Code": "CHQ", "Montant": float(money(placed["total_paid_tax_incl"]))}
    ]

    after = order(shop, order_id)
    assert state_name(shop, int(after["current_state"])) == "Exported to Polaris"
    assert int(after["valid"]) == 1
    assert export(shop).counts["created"] == 0
    assert len(shop.simulator.sales()) == 1


def test_unpaid_order_waits_then_goes_once_paid(shop):
    [size] = sizes(shop, 1)
    order_id = place(shop, [(size, 1)], amount_paid="1.00")
    assert export(shop).counts["skipped"] == 1
    assert shop.simulator.sales() == []

    admin(shop, "orders/payments", {"order": order_id, "amount": str(
        money(order(shop, order_id)["total_paid_tax_incl"]) - Decimal("1.00")
    ), "method": "Payments by check"})
    admin(shop, "orders/state", {"order": order_id, "state": 2})
    export(shop)
    assert sale(shop, str(order_id))["Reglements"][0]["Code"] == "CHQ"


def test_voucher_free_shipping_and_gift_wrapping(shop):
    [size] = sizes(shop, 1)
    voucher = shop.create("cart_rules", {
        "name": {1: "Cinq euros", 2: "Cinq euros"}, "code": "CINQ",
        "date_from": "2020-01-01 00:00:00", "date_to": "2099-01-01 00:00:00",
        "reduction_amount": 5, "reduction_tax": 1, "quantity": 10,
        "quantity_per_user": 10, "active": 1,
    })
    order_id = place(shop, [(size, 2)], vouchers=[voucher], free_shipping=True,
                     gift=True, wrapping="2.00")
    placed = order(shop, order_id)
    export(shop)

    received = sale(shop, str(order_id))
    skus = [d["SKU"] for d in received["Details"]]
    assert skus[0] == size["ean13"] and "EMBAL" in skus and "BON" in skus
    vouchers = sum(
        money(d["MontantTTC"]) for d in received["Details"] if d["SKU"] == "BON"
    )
    assert vouchers == -money(placed["total_discounts_tax_incl"])
    assert received["Reglements"][0]["Montant"] == float(
        money(placed["total_paid_tax_incl"])
    )


def test_unmapped_payment_fails_then_goes_with_a_catch_all(shop):
    [size] = sizes(shop, 1)
    order_id = place(shop, [(size, 1)], payment_module="ps_cashondelivery", state=2)
    result = export(shop)
    assert result.failed == 1 and "ps_cashondelivery" in result.errors[0]
    error_state = int(order(shop, order_id)["current_state"])
    assert state_name(shop, error_state) == "Polaris export error"
    assert int(order(shop, order_id)["valid"]) == 1

    shop.state.set_mapping("payment", "*", "CB")
    assert export(shop).failed == 0  # waits for a change of state
    admin(shop, "orders/state", {"order": order_id, "state": 3})
    export(shop)
    assert sale(shop, str(order_id))["Reglements"][0]["Code"] == "CB"


def test_refund_cancellation_and_modification_after_export(shop):
    first, second = sizes(shop, 2)
    refunded = place(shop, [(first, 1), (second, 1)])
    modified = place(shop, [(first, 1), (second, 1)])
    export(shop)

    rows = order(shop, refunded)["associations"]["order_rows"]
    slip = admin(shop, "orders/slips", {
        "order": refunded, "lines": [{"order_detail": int(rows[1]["id"]),
                                      "quantity": 1}], "shipping": True,
    })["order_slip"]
    detail = order(shop, modified)["associations"]["order_rows"][1]
    admin(shop, "orders/lines", {"order": modified, "set": [
        {"order_detail": int(detail["id"]), "quantity": 0}
    ]})
    result = export(shop)
    assert not result.errors, result.errors

    refund = sale(shop, f"{refunded}-R{slip}")
    assert refund["RefExtOrigine"] == str(refunded)
    assert [(d["SKU"], d["Qte"]) for d in refund["Details"]][0] == (second["ean13"], -1)
    assert sale(shop, f"{modified}-A1")["RefExtOrigine"] == str(modified)
    new_version = sale(shop, f"{modified}-2")
    assert [d["SKU"] for d in new_version["Details"]][:1] == [first["ean13"]]
    assert new_version["Reglements"][0]["Montant"] == float(
        money(order(shop, modified)["total_paid_tax_incl"])
    )

    admin(shop, "orders/cancel", {"order": refunded})
    export(shop)
    cancel = sale(shop, f"{refunded}-A1")
    original = sale(shop, str(refunded))
    assert sum(p["Montant"] for p in cancel["Reglements"]) == pytest.approx(
        -(original["Reglements"][0]["Montant"] + refund["Reglements"][0]["Montant"])
    )


def test_guest_and_marketplace_customers_with_customer_export_on(shop):
    shop.config_data["customers"] = {"export": True}
    [size] = sizes(shop, 1)
    guest = place(shop, [(size, 1)], customer=None, guest={
        "email": "invite@example.test", "firstname": "Paul", "lastname": "Durand",
    }, address={"address1": "2 place Bellecour", "city": "Lyon",
                "postcode": "69002", "id_country": 8})
    amazon = place(shop, [(size, 1)], customer=None, guest={
        "email": "x81@marketplace.amazon.fr", "firstname": "A", "lastname": "Client",
    }, address={"address1": "1 rue", "city": "Paris", "postcode": "75001",
                "id_country": 8})
    export(shop)

    client = sale(shop, str(guest))["Client"]
    assert client["Mail"] == "invite@example.test"
    assert (client["Adresse"]["Ville"], client["Adresse"]["CodePays"]) == ("Lyon", "FR")
    assert "Client" not in sale(shop, str(amazon))

    result = export(shop, customers_stage.run)
    sent = {c["Mail"] for c in shop.simulator.customers(False, "")}
    assert "invite@example.test" in sent and "x81@marketplace.amazon.fr" not in sent
    assert result.counts["skipped"] >= 1


def test_export_order_lifts_the_minimum_id_and_sends_nothing_twice(shop):
    [size] = sizes(shop, 1)
    order_id = place(shop, [(size, 1)])
    shop.config_data["orders"]["min_order_id"] = order_id + 1
    export(shop)
    assert shop.simulator.sales() == []

    assert export(shop, export_order, order_id).counts["created"] == 1
    assert export(shop, export_order, order_id).counts["unchanged"] == 1
    assert len(shop.simulator.sales()) == 1


def test_order_of_a_product_never_synced_is_an_error(shop):
    product = shop.create("products", {
        "name": {1: "Hors Polaris", 2: "Hors Polaris"}, "price": 10, "active": 1,
        "state": 1, "id_category_default": 2, "visibility": "both",
        "link_rewrite": {1: "hors-polaris", 2: "hors-polaris"},
    })
    rows = shop.read_shop("stock_availables", id_product=product)
    shop.edit_shop("stock_availables", int(rows[0]["id"]), {"quantity": 5})
    order_id = place(shop, [({"id_product": product, "id": 0}, 1)])
    result = export(shop)
    assert result.failed == 1 and "not linked to Polaris" in result.errors[0]
    assert shop.simulator.sales() == []
    assert order_id


def test_paid_order_and_its_refund_on_every_supported_version(any_version_sandbox):
    shop = prepare_shop(any_version_sandbox)
    first, second = sizes(shop, 2)
    order_id = place(shop, [(first, 1), (second, 1)])
    export(shop)
    rows = order(shop, order_id)["associations"]["order_rows"]
    slip = admin(shop, "orders/slips", {
        "order": order_id, "lines": [{"order_detail": int(rows[0]["id"]),
                                      "quantity": 1}],
    })["order_slip"]
    result = export(shop)
    assert not result.errors, result.errors

    assert sale(shop, str(order_id))["Reglements"][0]["Montant"] == float(
        money(order(shop, order_id)["total_paid_tax_incl"])
    )
    assert sale(shop, f"{order_id}-R{slip}")["Details"][0]["Qte"] == -1
    state = int(order(shop, order_id)["current_state"])
    assert state_name(shop, state) == "Exported to Polaris"


def test_a_sale_polaris_refused_goes_once_the_shipping_reference_is_fixed(shop):
    """Covers G2, G7, G11: the sale, then a modification's new version, are
    refused for an unknown shipping reference; each goes once fixed, only
    once, and the order leaves the error state."""
    first, second = sizes(shop, 2)
    shop.config_data["orders"]["shipping_reference"] = "NOPE"
    order_id = place(shop, [(first, 1), (second, 1)])
    assert money(order(shop, order_id)["total_shipping_tax_incl"]) > 0

    refused = export(shop)
    assert refused.failed == 1 and "article inconnu 'NOPE'" in refused.errors[0]
    assert shop.simulator.sales() == []
    shop.config_data["orders"]["shipping_reference"] = "PORT"
    assert export(shop).counts["created"] == 1
    assert [d["SKU"] for d in sale(shop, str(order_id))["Details"]][-1] == "PORT"
    exported = int(order(shop, order_id)["current_state"])
    assert state_name(shop, exported) == "Exported to Polaris"

    shop.config_data["orders"]["shipping_reference"] = "NOPE"
    detail = order(shop, order_id)["associations"]["order_rows"][1]
    admin(shop, "orders/lines", {"order": order_id, "set": [
        {"order_detail": int(detail["id"]), "quantity": 0}
    ]})
    assert export(shop).failed == 1
    assert shop.simulator.sales(f"{order_id}-2") == []
    shop.config_data["orders"]["shipping_reference"] = "PORT"
    assert not export(shop).errors
    new_version = sale(shop, f"{order_id}-2")
    assert new_version["Reglements"][0]["Montant"] == float(
        money(order(shop, order_id)["total_paid_tax_incl"])
    )
    assert len(shop.simulator.sales(f"{order_id}-A1")) == 1
    assert len(shop.simulator.sales()) == 3
    exported = int(order(shop, order_id)["current_state"])
    assert state_name(shop, exported) == "Exported to Polaris"


@pytest.mark.parametrize("line_removed", [False, True])
def test_a_first_sale_whose_answer_was_lost_is_not_sent_twice(shop, line_removed):
    """Covers G8 and G11: Polaris stored the sale, its answer was lost. The
    order unchanged, the next run marks it exported and sends nothing; a line
    removed in the back office in between, Polaris' sale is recorded as sent,
    cancelled, and the order sent as it is now."""
    first, second = sizes(shop, 2)
    order_id = place(shop, [(first, 1), (second, 1)])
    gate = LostAnswer(shop.polaris_app)
    shop.polaris_app = gate
    gate.arm("POST", "/Ventes/Vente")
    with pytest.raises(TransientError):
        export(shop)
    assert len(shop.simulator.sales(str(order_id))) == 1

    if not line_removed:
        assert not export(shop).errors
        assert [sale["RefExt"] for sale in shop.simulator.sales()] == [str(order_id)]
        state = int(order(shop, order_id)["current_state"])
        assert state_name(shop, state) == "Exported to Polaris"
        return
    detail = order(shop, order_id)["associations"]["order_rows"][1]
    admin(shop, "orders/lines", {"order": order_id, "set": [
        {"order_detail": int(detail["id"]), "quantity": 0}
    ]})
    result = export(shop)
    assert not result.errors, result.errors

    quantities: dict[str, int] = {}
    for received in shop.simulator.sales():
        for line in received["Details"]:
            quantities[line["SKU"]] = quantities.get(line["SKU"], 0) + line["Qte"]
    assert quantities[first["ean13"]] == 1 and quantities[second["ean13"]] == 0
    assert len(shop.simulator.sales(f"{order_id}-2")) == 1
    state = int(order(shop, order_id)["current_state"])
    assert state_name(shop, state) == "Exported to Polaris"
