"""F2, F3: an item whose mapped target is missing in the shop is skipped, saying
which id is missing, and nothing is written into that missing target."""

from __future__ import annotations

from e2e.test_catalogue_sync import _audit_reasons


def test_items_mapped_to_a_missing_attribute_group_are_skipped(sandbox):
    sandbox.state.set_mapping("size-grid", "*", "77")

    plan = sandbox.run(["catalogue"], dry_run=True)["catalogue"]
    assert plan.counts["planned"] == 0 and plan.counts["skipped"] > 0
    results = sandbox.run(["catalogue"])

    catalogue = results["catalogue"]
    assert catalogue.counts["skipped"] > 0 and not catalogue.counts["created"]
    assert sandbox.read_shop("products") == []
    assert sandbox.shop_writes() == []
    reasons = _audit_reasons(sandbox, "skipped")
    assert reasons and all("attribute group 77" in reason for reason in reasons)
    assert all("mappings check" in reason for reason in reasons)


def test_items_mapped_to_missing_categories_or_brand_are_skipped(sandbox):
    sandbox.state.set_mapping("brand", "*", "99")
    results = sandbox.run(["catalogue"])

    assert not results["catalogue"].counts["created"]
    assert sandbox.read_shop("products") == []
    reasons = _audit_reasons(sandbox, "skipped")
    assert reasons and all("manufacturer 99" in reason for reason in reasons)

    brand = sandbox.read_shop("manufacturers")[0]["id"]
    sandbox.state.set_mapping("brand", "*", str(brand))
    sandbox.state.set_mapping("category", "*", "2,12,15")
    sandbox.run(["catalogue"])

    assert sandbox.read_shop("products") == []
    assert any(
        "categories 12, 15" in reason for reason in _audit_reasons(sandbox, "skipped")
    )
