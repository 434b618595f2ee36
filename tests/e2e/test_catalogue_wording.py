"""What the catalogue and prices stages say: counts in the same units in a dry
run and a real one, reasons that match what happened, money with 2 decimals."""

from __future__ import annotations

import re

from e2e.test_catalogue_sync import _audit_reasons


def test_a_dry_run_counts_the_products_sizes_and_photos_a_real_run_creates(
    sandbox,
):
    planned = sandbox.run(["catalogue"], dry_run=True)["catalogue"].counted
    created = sandbox.run(["catalogue"])["catalogue"].counted

    for what in ("product", "size", "photo"):
        assert planned[("planned", what)] == created[("created", what)] > 0


def test_creation_reasons_say_size_or_sizes_and_money_has_two_decimals(sandbox):
    sandbox.run()

    created = _audit_reasons(sandbox, "created")
    counted = [r for r in created if r.startswith("new product ")]
    assert counted
    assert all(re.search(r"with (1 size|(?!1 )\d+ sizes)$", r) for r in counted)
    amounts = [r for r in created if r.startswith("promotion: ")]
    assert amounts
    assert all(
        re.fullmatch(r"promotion: \d+\.\d\d off including VAT", r) for r in amounts
    )


def test_after_a_resync_updates_say_a_resync_was_requested(sandbox):
    sandbox.run()
    before = len(_audit_reasons(sandbox, "updated"))
    sandbox.state.clear_fingerprints()

    sandbox.run(["catalogue"])

    updated = _audit_reasons(sandbox, "updated")[before:]
    assert any("resync requested" in reason for reason in updated)
    assert [r for r in updated if "changed in Polaris" in r] == []
