"""Stage `customers`: who goes to Polaris, and when again (G1, G10)."""

import pytest

from polaris_sync.stages.customers import run as export_customers

pytestmark = pytest.mark.anyio

ONE_TEE = [(1, 20, 40, "12.000000")]


@pytest.fixture
def exporting(world):
    world.options["customers"] = {"export": True}
    return world


async def test_g1_with_the_option_off_nothing_is_read_nor_sent(world):
    world.shop.add_order(201, ONE_TEE)
    result = await world.run(export_customers)
    assert world.shop.requests == [] and world.polaris.customers == {}
    assert not result.counts


async def test_g10_a_customer_who_bought_is_sent_once(exporting):
    exporting.shop.add_order(201, ONE_TEE)
    result = await exporting.run(export_customers)

    sent = exporting.polaris.customers["PS-1"]
    assert (sent["Nom"], sent["Prenom"], sent["Mail"]) == (
        "Martin", "Anne", "anne@example.test"
    )
    assert sent["Adresse"]["Ville"] == "Paris" and sent["Adresse"]["CodePays"] == "FR"
    assert result.counts["created"] == 1

    again = await exporting.run(export_customers)
    assert again.counts["created"] == 0 and again.counts["updated"] == 0


async def test_g10_later_changes_of_an_exported_customer_follow(exporting):
    exporting.shop.add_order(201, ONE_TEE)
    await exporting.run(export_customers)

    customer = exporting.shop.tables["customers"][1]
    customer["email"] = "anne.m@example.test"
    customer["date_upd"] = exporting.shop.tick()
    result = await exporting.run(export_customers)
    assert exporting.polaris.customers["PS-1"]["Mail"] == "anne.m@example.test"
    assert result.counts["updated"] == 1

    exporting.shop.move_customer(1, "Lyon")
    await exporting.run(export_customers)
    assert exporting.polaris.customers["PS-1"]["Adresse"]["Ville"] == "Lyon"


async def test_g10_a_customer_polaris_refused_is_sent_at_a_later_run(exporting):
    """Nothing of the customer changed in the shop: the refusal alone keeps
    them due, run after run, until Polaris takes them."""
    exporting.shop.add_order(201, ONE_TEE)
    exporting.polaris.refuse["PS-1"] = "Mail refusé"
    refused = await exporting.run(export_customers)
    assert refused.failed == 1 and "Mail refusé" in refused.errors[0]
    assert (await exporting.run(export_customers)).failed == 1

    del exporting.polaris.refuse["PS-1"]
    result = await exporting.run(export_customers)
    assert result.counts["created"] == 1
    assert exporting.polaris.customers["PS-1"]["Mail"] == "anne@example.test"
    assert (await exporting.run(export_customers)).counts["created"] == 0


async def test_g10_a_customer_who_never_bought_waits_unless_in_the_polaris_group(
    exporting,
):
    exporting.shop.add_customer(2, "paul@example.test")
    exporting.shop.add_customer(3, "lea@example.test", groups=(3, 5))
    result = await exporting.run(export_customers)

    assert list(exporting.polaris.customers) == ["PS-3"]
    skipped = {event["prestashop_id"]: event for event in exporting.events("skipped")}
    assert sorted(skipped) == [1, 2] and result.counts["skipped"] == 2
    assert "not bought" in skipped[2]["reason"]


async def test_g10_marketplace_customers_are_never_sent(exporting):
    exporting.shop.add_customer(4, "k3x@marketplace.amazon.fr")
    exporting.shop.add_order(202, ONE_TEE, customer_id=4)
    await exporting.run(export_customers)
    assert exporting.polaris.customers == {}
    [skipped] = [e for e in exporting.events("skipped") if e["prestashop_id"] == 4]
    assert "marketplace" in skipped["reason"]


async def test_dry_run_sends_no_customer(exporting):
    exporting.shop.add_order(201, ONE_TEE)
    result = await exporting.run(export_customers, dry_run=True)
    assert exporting.polaris.customers == {} and result.counts["planned"] == 1
