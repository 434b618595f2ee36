"""E10: a product locked by the reference the shop shows keeps its sheet,
while the other colours of its model are still maintained."""

from __future__ import annotations

from e2e.test_catalogue_sync import _product_id, polaris_items, reference_of
from polaris_sync.references import resolve


def test_e10_lock_by_shop_reference_keeps_that_colour_only(sandbox):
    sandbox.run()
    raw, sibling = _two_colours_of_one_model(polaris_items(sandbox))
    locked = resolve(sandbox.state, reference_of(raw))
    assert locked is not None and locked.model == str(raw["NoModele"])
    assert locked.key.startswith(f"{locked.model}:")
    sandbox.state.lock(locked.key)
    ids = {
        ref: _product_id(sandbox, reference_of(item))
        for ref, item in (("locked", raw), ("free", sibling))
    }
    for product_id in ids.values():
        sandbox.edit_shop("products", product_id, {"name": {1: "Mine", 2: "Mine"}})
    sandbox.state.clear_fingerprints()

    sandbox.run(["catalogue"])

    (kept,) = sandbox.read_shop("products", id=ids["locked"])
    (rewritten,) = sandbox.read_shop("products", id=ids["free"])
    assert kept["name"][1] == "Mine"
    assert rewritten["name"][1] != "Mine"


def _two_colours_of_one_model(items):
    by_model = {}
    for item in items:
        by_model.setdefault(item["NoModele"], []).append(item)
    return next(colours[:2] for colours in by_model.values() if len(colours) > 1)
