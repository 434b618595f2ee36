"""Building the Polaris sale of a shop order, to the cent (G2, G9)."""

from dataclasses import replace
from decimal import Decimal

import pytest

from polaris_sync.sales.order import Address, Customer, VoucherUse, order_from_json
from polaris_sync.sales.sale import (
    SaleRefused,
    SaleSettings,
    build_sale,
    client_of,
    sale_from_payload,
    utc_iso,
)

SKUS = {40: "3760000000011", 41: "3760000000028"}
SETTINGS = SaleSettings(
    store_code=7,
    payment_codes={"ps_checkpayment": "CHQ", "*": "DIV"},
    shipping_reference="FRAISPORT",
    wrapping_reference="PAQCADEAU",
    voucher_reference="BONACHAT",
)


def sku_for(line):
    return SKUS.get(line.combination_id)


@pytest.fixture
def order(recordings):
    return order_from_json(recordings.json("25-order-create", 22)["orders"][0])


def payload_lines(sale):
    return [
        (d["SKU"], d["Qte"], d["MontantTTC"], d["RemiseTTC"])
        for d in sale.to_payload()["Details"]
    ]


def test_g2_sale_has_product_lines_shipping_line_and_payment(order):
    sale = build_sale(order, SETTINGS, sku_for)
    payload = sale.to_payload()

    assert payload["RefExt"] == "6"
    assert payload["CodeMagasin"] == 7 and payload["TypeVenteInternet"] == "Site"
    assert payload_lines(sale) == [
        ("3760000000011", 2, 12.0, 0.0),
        ("3760000000028", 1, 15.0, 0.0),
        ("FRAISPORT", 1, 8.4, 0.0),
    ]
    assert payload["Reglements"] == [{"Code": "CHQ", "Montant": 47.4}]
    assert sale.total == sale.paid == Decimal("47.40")
    assert "TSZZRHYWI" in payload["Memo"]
    assert "Client" not in payload


def test_sale_date_is_utc_across_daylight_saving(order):
    assert build_sale(order, SETTINGS, sku_for).date == "2026-12-04T16:01:21Z"
    assert utc_iso("2026-07-01 12:00:00", "Europe/Paris") == "2026-07-01T10:00:00Z"


def test_free_shipping_sends_no_shipping_line(order):
    free = replace(
        order,
        total_shipping_tax_incl=Decimal("0.00"),
        total_paid_tax_incl=Decimal("39.00"),
    )
    sale = build_sale(free, SETTINGS, sku_for)
    assert [line.sku for line in sale.lines] == list(SKUS.values())
    assert sale.paid == Decimal("39.00")


def test_g2_gift_wrapping_is_a_line_with_its_reference(order):
    wrapped = replace(
        order,
        gift=True,
        total_wrapping_tax_incl=Decimal("2.50"),
        total_paid_tax_incl=Decimal("49.90"),
    )
    sale = build_sale(wrapped, SETTINGS, sku_for)
    assert ("PAQCADEAU", 1, 2.5, 0.0) in payload_lines(sale)
    assert sale.total == sale.paid == Decimal("49.90")


def test_g9_each_voucher_becomes_a_negative_line(order):
    vouchers = (VoucherUse(1, "Five off", Decimal("5.00")),
                VoucherUse(2, "Welcome", Decimal("1.40")))
    discounted = replace(
        order,
        vouchers=vouchers,
        total_discounts_tax_incl=Decimal("6.40"),
        total_paid_tax_incl=Decimal("41.00"),
    )
    sale = build_sale(discounted, SETTINGS, sku_for)
    assert payload_lines(sale)[-2:] == [
        ("BONACHAT", 1, -5.0, 0.0),
        ("BONACHAT", 1, -1.4, 0.0),
    ]
    assert sale.total == sale.paid == Decimal("41.00")


def test_g9_vouchers_that_were_not_deducted_give_one_line_of_the_real_discount(
    order,
):
    # Scenario 28: a voucher attached after the order changes no total.
    vouchers = (VoucherUse(2, "Ten percent", Decimal("6.00")),
                VoucherUse(1, "Five off", Decimal("5.00")))
    discounted = replace(
        order,
        vouchers=vouchers,
        total_discounts_tax_incl=Decimal("6.00"),
        total_paid_tax_incl=Decimal("41.40"),
    )
    sale = build_sale(discounted, SETTINGS, sku_for)
    assert payload_lines(sale)[-1] == ("BONACHAT", 1, -6.0, 0.0)
    assert sale.total == sale.paid == Decimal("41.40")


def test_catalogue_reduction_is_the_line_discount(recordings):
    entry = recordings.json("25-order-create", 22)["orders"][0]
    detail = {
        "id": 8, "id_order": 6, "product_id": 20, "product_attribute_id": 40,
        "product_quantity": 2, "unit_price_tax_incl": "12.000000",
        "total_price_tax_incl": "24.000000",
        "reduction_amount_tax_incl": "3.000000",
    }
    discounted = order_from_json(entry, details=[detail])
    sale = build_sale(discounted, SETTINGS, sku_for)
    assert payload_lines(sale)[0] == ("3760000000011", 2, 15.0, 6.0)
    assert sale.total == Decimal("47.40")


def test_order_whose_product_was_never_synced_is_refused(order):
    with pytest.raises(SaleRefused) as refused:
        build_sale(order, SETTINGS, lambda line: None)
    assert refused.value.refusal.code == "product_not_linked"
    assert "XCH-25 Tee (Size: S)" in refused.value.refusal.reason


def test_lines_that_do_not_add_up_to_the_total_are_refused(order):
    with pytest.raises(SaleRefused) as refused:
        build_sale(replace(order, total_paid_tax_incl=Decimal("47.41")), SETTINGS,
                   sku_for)
    assert refused.value.refusal.code == "amounts_differ"


def test_shipping_without_a_configured_reference_is_refused(order):
    with pytest.raises(SaleRefused) as refused:
        build_sale(order, replace(SETTINGS, shipping_reference=""), sku_for)
    assert refused.value.refusal.code == "reference_missing"


def test_g1_client_block_carries_the_shop_customer_reference():
    customer = Customer(11, "ines@example.test", "Xch", "Ines")
    address = Address(lastname="Xch", firstname="Addr", address1="1 rue de la Paix",
                      postcode="75002", city="Paris", country_iso="FR")
    client = client_of(customer, address, SETTINGS)
    assert client["RefsExt"] == ["PS-11"] and client["Mail"] == "ines@example.test"
    assert client["Adresse"]["CodePays"] == "FR"
    assert client["Adresse"]["CodePostal"] == "75002"

    unknown_country = client_of(customer, Address(city="Paris"), SETTINGS)
    assert "CodePays" not in unknown_country["Adresse"]


def test_payload_round_trips_through_the_journal_form(order):
    sale = build_sale(order, SETTINGS, sku_for)
    assert sale_from_payload(sale.to_payload()) == sale
