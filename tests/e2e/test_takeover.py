"""Taking over a shop whose combination references do not tell sizes apart."""

from __future__ import annotations

from typing import Any

from e2e.sandbox import Sandbox
from e2e.test_catalogue_sync import OPTIONS, polaris_items
from polaris_sync.mapping.item import parse_item
from polaris_sync.mapping.product import DesiredCombination, desired_combinations
from polaris_sync.stages.shop import COMBINATION, links_under
from polaris_sync.state import State


def sizes_of(sandbox: Sandbox, item: dict[str, Any]) -> tuple[DesiredCombination, ...]:
    """The item's sizes with the stock Polaris holds now."""
    now = next(
        raw
        for raw in polaris_items(sandbox)
        if (raw["NoModele"], raw["Niveau1"]) == (item["NoModele"], item["Niveau1"])
    )
    return desired_combinations(parse_item(now), OPTIONS)


def test_f10_d1_adopted_sizes_are_matched_by_ean_before_reference(
    sandbox, tmp_path
):
    """Basic mode takes over a product whose combinations carry mixed-up
    references: each size is linked by its EAN, no combination to two sizes,
    and each size shows its own stock. Covers F10, D1."""
    sandbox.run()
    raw: dict[str, Any] = next(
        r for r in polaris_items(sandbox) if len(r.get("Tailles") or []) >= 3
    )
    model = raw["NoModele"]
    sizes = sizes_of(sandbox, raw)
    eans = {size.ean13 for size in sizes}
    rows = sandbox.read_shop("combinations")
    ours = {row["ean13"]: row for row in rows if row["ean13"] in eans}
    assert len(ours) == len(sizes) >= 3
    # Each combination carries the reference of the next size, so a match on
    # reference alone would take one size for another.
    for size, following in zip(sizes, sizes[1:] + sizes[:1], strict=True):
        sandbox.edit_shop(
            "combinations", ours[size.ean13]["id"], {"reference": following.reference}
        )
    # A second installation in basic mode, fresh state: same shop, same Polaris.
    sandbox.config_data.update(mode="basic", state_dir=str(tmp_path / "other"))
    sandbox.state = State.open(tmp_path / "other")
    for index, size in enumerate(sizes):
        sandbox.polaris_admin(
            "stock", {"SKU": size.ean13, "CodeMagasin": 1, "Dispo": 11 + index}
        )

    sandbox.run()

    links = links_under(sandbox.state, COMBINATION, f"{model}:")
    linked = {size.ean13: links.get(size.key.split(":", 1)[1]) for size in sizes}
    assert linked == {ean: int(row["id"]) for ean, row in ours.items()}
    stock = {
        int(row["id_product_attribute"]): int(row["quantity"])
        for row in sandbox.read_shop("stock_availables")
    }
    for size in sizes_of(sandbox, raw):
        assert stock[int(ours[size.ean13]["id"])] == size.quantity, size.size
