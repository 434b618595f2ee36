"""PrestaShop 1.7.8 has no PATCH: a full PUT must give back what it read."""

from __future__ import annotations

from e2e.sandbox import Sandbox
from e2e.test_catalogue_sync import polaris_items

CREATED = "2020-03-01 09:30:00"


def test_a_178_price_put_keeps_the_default_combination_and_creation_date(tmp_path):
    """C1 price update on 1.7.8: the shop blanks what a PUT leaves out, so the
    default combination and the creation date are sent back as read."""
    sandbox = Sandbox(tmp_path, models=2, version="1.7.8.11")
    try:
        sandbox.prepare_shop()
        sandbox.run()
        before = {p["reference"]: p for p in sandbox.read_shop("products")}
        for product in before.values():
            sandbox.edit_shop("products", product["id"], {"date_add": CREATED})
        raw = polaris_items(sandbox)[0]
        sandbox.polaris_admin(
            "price",
            {
                "NoModele": raw["NoModele"],
                "Variante": raw["Niveau1"]["Code"],
                "PrixTTC": float(raw["PrixTTC"]) + 10,
            },
        )

        sandbox.run()

        writes = [w for w in sandbox.shop_writes() if w.method == "PUT"]
        assert writes, "the price change was not written"
        after = {p["reference"]: p for p in sandbox.read_shop("products")}
        changed = [ref for ref in after if after[ref]["price"] != before[ref]["price"]]
        assert len(changed) == 1
        for reference, product in after.items():
            assert int(product["cache_default_attribute"]) > 0
            assert product["cache_default_attribute"] == (
                before[reference]["cache_default_attribute"]
            )
            assert product["date_add"] == CREATED
    finally:
        sandbox.close()
