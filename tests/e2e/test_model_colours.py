"""E1 with one product per model: each colour's sizes stay distinct (E4)."""

from __future__ import annotations

from collections import Counter, defaultdict

from e2e.test_catalogue_sync import polaris_items


def test_e1_e4_two_colours_with_one_generic_colour_give_distinct_sizes(sandbox):
    colour_group = sandbox.create_attribute_group("Couleur", colour=True)
    sandbox.config_data["catalogue"] = {
        "products_per": "model",
        "colour_group": colour_group,
    }
    by_model = defaultdict(list)
    for raw in polaris_items(sandbox):
        by_model[raw["NoModele"]].append(raw)
    model, colours = next((m, c) for m, c in by_model.items() if len(c) >= 2)
    # The merchant's equivalences make every colour of the model "bleu".
    for raw in colours:
        sandbox.state.set_mapping("colour", raw["Niveau1"]["Nom"], "bleu")

    results = sandbox.run()
    sandbox.run()

    assert not results["catalogue"].errors
    (product,) = sandbox.read_shop("products", reference=str(model))
    rows = sandbox.read_shop("combinations", id_product=product["id"])
    sizes = sum(len(raw.get("Tailles") or []) for raw in colours)
    assert len(rows) == sizes
    attributes = Counter(
        frozenset(int(v["id"]) for v in row["associations"]["product_option_values"])
        for row in rows
    )
    assert max(attributes.values()) == 1, "two sizes the shop cannot tell apart"
    used = set().union(*attributes)
    values = sandbox.read_shop("product_option_values", id_attribute_group=colour_group)
    names = {value["name"][1] for value in values if int(value["id"]) in used}
    assert "bleu" in names and len(names) == len(colours)
    assert [w for w in sandbox.shop_writes() if w.method != "GET"] == []
