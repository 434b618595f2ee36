"""The catalogue, stock and prices stages against both sandbox servers."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest

from e2e.sandbox import POLARIS_URL, Sandbox
from polaris_sync.errors import TransientError
from polaris_sync.mapping.colours import GENERIC_COLOURS, MULTICOLOUR
from polaris_sync.mapping.item import parse_item
from polaris_sync.mapping.product import (
    CatalogueOptions,
    desired_combinations,
    local_now,
    product_reference,
)
from polaris_sync.stages import products_feed

OPTIONS = CatalogueOptions(languages=(1, 2))


def polaris_items(sandbox: Sandbox) -> list[dict[str, Any]]:
    return sandbox.simulator.product_page("", "", 1000, POLARIS_URL)["Items"]


def reference_of(raw: dict[str, Any]) -> str:
    return product_reference(parse_item(raw), OPTIONS)


def expected_stock(sandbox: Sandbox) -> dict[str, int]:
    """Quantity per combination reference, computed from what Polaris holds."""
    expected = {}
    for raw in polaris_items(sandbox):
        for combination in desired_combinations(parse_item(raw), OPTIONS):
            expected[combination.reference] = combination.quantity
    return expected


def shop_stock(sandbox: Sandbox) -> dict[str, int]:
    references = {
        int(row["id"]): row.get("reference", "")
        for row in sandbox.read_shop("combinations")
    }
    return {
        references[int(row["id_product_attribute"])]: int(row.get("quantity", 0))
        for row in sandbox.read_shop("stock_availables")
        if int(row.get("id_product_attribute", 0))
    }


def first_size(sandbox: Sandbox) -> dict[str, Any]:
    return polaris_items(sandbox)[0]["Tailles"][0]


def test_c2_first_run_creates_every_product_with_its_sizes_stock_and_prices(sandbox):
    items = polaris_items(sandbox)
    results = sandbox.run()

    assert all(not result.errors for result in results.values())
    products = sandbox.read_shop("products")
    assert len(products) == len(items)
    # Pitfall A5/A6: every product saved (state=1), visible, active.
    assert {(p["state"], p["active"], p["visibility"]) for p in products} == {
        (1, "1", "both")
    }
    references = [p["reference"] for p in products]
    assert len(set(references)) == len(references)
    # E3: Polaris properties are features with shared (predefined) values.
    features = {
        p["reference"]: p["associations"].get("product_features", []) for p in products
    }
    for raw in items:
        reference = reference_of(raw)
        assert len(features[reference]) == len(raw.get("Proprietes") or [])
    values = sandbox.read_shop("product_feature_values")
    assert values and {value.get("custom", "0") for value in values} == {"0"}
    # D1/D3: each size carries the sum of the stores' stock.
    assert shop_stock(sandbox) == expected_stock(sandbox)
    # Prices are Polaris' normal prices without VAT.
    by_reference = {p["reference"]: float(p["price"]) for p in products}
    for raw in items:
        reference = reference_of(raw)
        assert abs(by_reference[reference] * 1.2 - raw["PrixNormalTTC"]) < 0.01


def test_sizes_posted_several_at_once_leave_each_product_its_first_as_default(
    sandbox,
):
    """The first size of a product is written alone: the shop makes it the
    default; the others follow several at a time and leave the default there."""
    # Two sizes a product, and requests overlap (each waits 5 ms in the shop):
    # had both sizes gone at once, each would have seen only itself, and no
    # later size would have set the default right again.
    for raw in polaris_items(sandbox):
        sizes = {"NoModele": raw["NoModele"], "Tailles": raw["Tailles"][:2]}
        sandbox.polaris_admin("sizes", {**sizes, "Variante": raw["Niveau1"]["Code"]})
    sandbox.shop_admin("PUT", "faults", {"latency_ms": 5})
    sandbox.run(["catalogue"])

    firsts: dict[int, int] = {}
    for combination in sandbox.read_shop("combinations"):
        product = int(combination["id_product"])
        firsts[product] = min(firsts.get(product, combination["id"]), combination["id"])
    products = sandbox.read_shop("products")
    assert {int(p["id"]) for p in products} == set(firsts)
    assert {int(p["id"]): int(p["cache_default_attribute"]) for p in products} == firsts
    sizes = sum(len(raw["Tailles"]) for raw in polaris_items(sandbox))
    assert len(shop_stock(sandbox)) == sizes


def test_e12_a_second_run_with_nothing_new_writes_nothing(sandbox):
    sandbox.run()
    results = sandbox.run()

    assert sandbox.shop_writes() == []
    assert all(set(result.counts) <= {"unchanged"} for result in results.values())


def test_request_counts_of_a_run_with_nothing_new(sandbox, monkeypatch):
    """One Polaris page, at most five PrestaShop requests, whatever the size."""
    sandbox.run()
    sandbox.run()
    # Runs come minutes apart: the run's clock must not make the catalogue
    # read everything again.
    later = local_now() + timedelta(minutes=5)
    monkeypatch.setattr(products_feed, "local_now", lambda: later)
    results = sandbox.run()

    assert len(sandbox.polaris_requests) == 1
    assert len(sandbox.shop_requests) <= 5
    # The page holds the items changed since the last run, not the catalogue.
    handled = sum(results["catalogue"].counts.values())
    assert 0 < handled < len(polaris_items(sandbox))


def test_d1_one_changed_stock_is_exactly_one_write(sandbox):
    sandbox.run()
    size = first_size(sandbox)
    sandbox.polaris_admin(
        "stock", {"SKU": size["Refs"][0], "CodeMagasin": 1, "Dispo": 42}
    )

    sandbox.run()

    writes = sandbox.shop_writes()
    assert [(w.method, w.url.path.rsplit("/", 1)[0]) for w in writes] == [
        ("PATCH", "/api/stock_availables")
    ]
    assert len(sandbox.shop_requests) <= 3
    assert len(sandbox.polaris_requests) == 1
    assert shop_stock(sandbox) == expected_stock(sandbox)


def test_d1_n_changed_stocks_are_n_writes_and_few_reads(sandbox):
    """N changed figures: N writes, at most N/100 + 2 reads."""
    sandbox.run()
    before = expected_stock(sandbox)
    sandbox.polaris_admin("stock/churn", {"Nombre": 40})
    after = expected_stock(sandbox)
    changed = sum(1 for reference in after if after[reference] != before[reference])
    assert changed > 3

    sandbox.run()

    writes = sandbox.shop_writes()
    assert len(writes) == changed
    assert {(w.method, w.url.path.rsplit("/", 1)[0]) for w in writes} == {
        ("PATCH", "/api/stock_availables")
    }
    reads = len(sandbox.shop_requests) - len(writes)
    assert reads <= changed // 100 + 2
    assert len(sandbox.polaris_requests) == 1
    assert shop_stock(sandbox) == after


def test_first_sync_reads_the_shop_in_batches_not_per_product(sandbox):
    """Reference data once a run; products, stock rows, promotions 100 a read."""
    raw = polaris_items(sandbox)[0]
    sandbox.polaris_admin(
        "promotion",
        {
            "NoModele": raw["NoModele"],
            "Variante": raw["Niveau1"]["Code"],
            "PrixTTC": raw["PrixNormalTTC"] - 10,
        },
    )

    sandbox.run()

    reads = Counter(
        request.url.path for request in sandbox.shop_requests if request.method == "GET"
    )
    created = sum(
        1
        for request in sandbox.shop_writes()
        if (request.method, request.url.path) == ("POST", "/api/products")
    )
    assert created > 5
    # One read each, whatever the number of products.
    per_product = ("products", "stock_availables", "specific_prices")
    assert {kind: reads[f"/api/{kind}"] for kind in per_product} == dict.fromkeys(
        per_product, 1
    )
    # Reference data: once a run (feature values once per feature).
    assert reads["/api/"] == reads["/api/languages"] == 1
    assert reads["/api/product_option_values"] == reads["/api/product_features"] == 1
    # The mapped targets (brands, attribute groups) are checked once, since the
    # mappings changed before this first run.
    targets = ("manufacturers", "product_options")
    assert {kind: reads[f"/api/{kind}"] for kind in targets} == dict.fromkeys(
        targets, 1
    )
    assert set(reads) == {
        f"/api/{kind}"
        for kind in (
            *per_product,
            *targets,
            "",
            "languages",
            "product_option_values",
            "product_features",
            "product_feature_values",
        )
    }


def test_a_price_change_writes_the_price_of_that_model_only(any_version_sandbox):
    sandbox = any_version_sandbox
    sandbox.run()
    model = polaris_items(sandbox)[0]["NoModele"]
    colours = [raw for raw in polaris_items(sandbox) if raw["NoModele"] == model]
    sandbox.polaris_admin("promotion/end", {"NoModele": model})
    sandbox.run()
    sandbox.polaris_admin("price", {"NoModele": model, "PrixTTC": 120.0})

    sandbox.run()

    writes = sandbox.shop_writes()
    assert {(w.method, w.url.path.split("/")[2]) for w in writes} == {
        (sandbox.update_method, "products")
    }
    assert len(writes) == len(colours)
    prices = {
        float(p["price"])
        for p in sandbox.read_shop(
            "products", id=[int(w.url.path.rsplit("/", 1)[1]) for w in writes]
        )
    }
    assert prices == {100.0}


def test_a_promotion_becomes_a_specific_price_and_goes_when_it_ends(
    any_version_sandbox,
):
    sandbox = any_version_sandbox
    sandbox.run()
    raw = polaris_items(sandbox)[0]
    model, variant = raw["NoModele"], parse_item(raw).variant_key
    product_id = _product_id(sandbox, reference_of(raw))
    sandbox.polaris_admin("promotion/end", {"NoModele": model})
    sandbox.run()
    sandbox.polaris_admin(
        "promotion",
        {"NoModele": model, "Variante": variant, "PrixTTC": raw["PrixNormalTTC"] - 10},
    )

    sandbox.run()

    promotions = [
        p
        for p in sandbox.read_shop("specific_prices")
        if int(p["id_product"]) == product_id
    ]
    assert len(promotions) == 1
    assert float(promotions[0]["reduction"]) == 10.0
    assert promotions[0]["reduction_type"] == "amount"

    sandbox.polaris_admin("promotion/end", {"NoModele": model, "Variante": variant})
    sandbox.run()
    assert not [
        p
        for p in sandbox.read_shop("specific_prices")
        if int(p["id_product"]) == product_id
    ]


def _product_id(sandbox: Sandbox, reference: str) -> int:
    (product,) = sandbox.read_shop("products", reference=reference)
    return int(product["id"])


def test_dry_run_writes_nothing_and_plans_the_creations(sandbox):
    results = sandbox.run(dry_run=True)

    assert sandbox.shop_writes() == []
    assert sandbox.read_shop("products") == []
    planned = sandbox.last_context.audit.planned
    actions = Counter(event["action"] for event in planned)
    assert set(actions) <= {"planned", "skipped", "unchanged"}
    assert any("would be created" in event["reason"] for event in planned)
    # Stock and prices of products that do not exist yet: skipped, saying why.
    assert any("not in the shop yet" in event["reason"] for event in planned)
    # Each product with its sizes, as a real run counts them.
    counted = results["catalogue"].counted
    assert counted[("planned", "product")] == len(polaris_items(sandbox))
    sizes = sum(len(raw["Tailles"]) for raw in polaris_items(sandbox))
    assert counted[("planned", "size")] == sizes
    # The real state saw nothing: a real run afterwards does the whole job.
    sandbox.run()
    assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))


def test_a_500_on_one_product_leaves_the_others_synced(sandbox):
    victim = polaris_items(sandbox)[1]
    reference = reference_of(victim)

    def fail_victim(request: httpx.Request) -> str | None:
        if request.method == "POST" and request.url.path == "/api/products":
            if f"<reference>{reference}</reference>".encode() in request.content:
                return "before"
        return None

    sandbox.fault = fail_victim
    results = sandbox.run()

    assert results["catalogue"].counts["failed"] == 1
    assert (
        reference in results["catalogue"].errors[0]
        or str(victim["NoModele"]) in (results["catalogue"].errors[0])
    )
    products = sandbox.read_shop("products")
    assert len(products) == len(polaris_items(sandbox)) - 1

    # The failed item is read again next run and created then.
    sandbox.fault = None
    sandbox.run()
    assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))
    assert shop_stock(sandbox) == expected_stock(sandbox)


def test_a_create_whose_answer_is_lost_is_found_again_not_duplicated(sandbox):
    """The shop wrote the product but answered 500: look up, never POST twice."""

    def lose_answers(request: httpx.Request) -> str | None:
        if request.method == "POST" and request.url.path.endswith(
            ("/api/products", "/api/combinations")
        ):
            return "after"
        return None

    sandbox.fault = lose_answers
    sandbox.run()
    sandbox.fault = None
    sandbox.run()

    references = Counter(p["reference"] for p in sandbox.read_shop("products"))
    assert references and max(references.values()) == 1
    combinations = Counter(
        (c["id_product"], c["reference"]) for c in sandbox.read_shop("combinations")
    )
    assert max(combinations.values()) == 1
    assert shop_stock(sandbox) == expected_stock(sandbox)


def test_withdrawn_models_are_deactivated(sandbox):
    sandbox.run()
    model = polaris_items(sandbox)[0]["NoModele"]
    sandbox.polaris_admin("withdraw", {"NoModele": model})

    sandbox.run()

    products = sandbox.read_shop("products")
    withdrawn = [p for p in products if p["reference"].startswith(f"{model}-")]
    assert withdrawn and {p["active"] for p in withdrawn} == {"0"}
    assert {p["active"] for p in products if p not in withdrawn} == {"1"}


def test_f6_f7_unmapped_brands_import_nothing_and_say_why(tmp_path):
    sandbox = Sandbox(tmp_path, models=2)
    try:
        results = sandbox.run()
        assert sandbox.read_shop("products") == []
        assert results["catalogue"].counts["skipped"] == len(polaris_items(sandbox))
        kinds = {row.kind for row in sandbox.state.mapping_rows() if row.target is None}
        assert {"brand", "size-grid", "category", "colour"} <= kinds
    finally:
        sandbox.close()


def test_c1_basic_mode_creates_nothing_but_keeps_linked_stock(sandbox):
    sandbox.config_data["mode"] = "basic"
    results = sandbox.run()

    assert sandbox.read_shop("products") == []
    assert results["catalogue"].counts == Counter()
    assert results["stock"].counts["skipped"] > 0


def test_f10_basic_mode_looks_unlinked_items_up_in_batches(sandbox):
    """Items the shop does not have: 100 references or barcodes a read, not
    one read per item and size; the prices stage trusts the stock stage's
    search of the same run. The other products read is the run's one check
    for products added to the shop since the last run."""
    sandbox.config_data["mode"] = "basic"
    sandbox.run()
    sandbox.polaris_admin("stock/churn", {"Nombre": 5})

    sandbox.run()

    reads = Counter(
        request.url.path for request in sandbox.shop_requests if request.method == "GET"
    )
    assert reads == {"/api/products": 2, "/api/combinations": 1}
    assert sandbox.shop_writes() == []


def test_f10_basic_mode_adopts_existing_products_and_locks_them(sandbox, tmp_path):
    """Covers F10."""
    sandbox.run()
    # A second installation, basic mode, fresh state: same shop, same Polaris.
    other_state = tmp_path / "other-state"
    sandbox.config_data.update(mode="basic", state_dir=str(other_state))
    from polaris_sync.state import State

    sandbox.state = State.open(other_state)
    size = first_size(sandbox)
    sandbox.polaris_admin(
        "stock", {"SKU": size["Refs"][0], "CodeMagasin": 1, "Dispo": 33}
    )

    sandbox.run()

    assert shop_stock(sandbox) == expected_stock(sandbox)
    assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))
    assert sandbox.state.locked_refs()
    assert not [w for w in sandbox.shop_writes() if w.method == "POST"]


@pytest.mark.parametrize(
    ("version", "write"), [("1.7.8.11", "PUT"), ("8.1.2", "PATCH"), ("9.0.0", "PATCH")]
)
def test_each_version_gets_its_write_method_and_keeps_the_stock_shop(
    tmp_path, version, write
):
    """1.7.8 has no PATCH: full PUT with the row's id_shop (pitfalls A3, C1)."""
    sandbox = Sandbox(tmp_path, models=2, version=version)
    try:
        sandbox.prepare_shop()
        sandbox.run()
        size = first_size(sandbox)
        sandbox.polaris_admin(
            "stock", {"SKU": size["Refs"][0], "CodeMagasin": 1, "Dispo": 9}
        )
        sandbox.run()

        assert [w.method for w in sandbox.shop_writes()] == [write]
        rows = sandbox.read_shop("stock_availables")
        assert {int(row["id_shop"]) for row in rows} == {1}
        assert shop_stock(sandbox) == expected_stock(sandbox)
        assert {p["state"] for p in sandbox.read_shop("products")} == {1}
    finally:
        sandbox.close()


def test_e4_colours_become_generic_values_of_the_colour_group(tmp_path):
    sandbox = Sandbox(tmp_path, models=3)
    try:
        sandbox.prepare_shop()
        colour_group = sandbox.create_attribute_group("Couleur", colour=True)
        sandbox.config_data["catalogue"] = {"colour_group": colour_group}
        sandbox.run()

        values = sandbox.read_shop(
            "product_option_values", id_attribute_group=colour_group
        )
        names = {value["name"][1] for value in values}
        assert names and names <= set(GENERIC_COLOURS) | {MULTICOLOUR} | {
            raw["Niveau1"]["Nom"] for raw in polaris_items(sandbox)
        }
        assert all(
            value.get("color", "").startswith("#")
            for value in values
            if value["name"][1] in GENERIC_COLOURS
        )
        # Each combination carries a size and a colour.
        combination = sandbox.read_shop("combinations")[0]
        assert len(combination["associations"]["product_option_values"]) == 2
    finally:
        sandbox.close()


def test_a_hand_edit_in_the_shop_is_left_alone_until_polaris_changes(
    any_version_sandbox,
):
    sandbox = any_version_sandbox
    sandbox.run()
    raw = polaris_items(sandbox)[0]
    product_id = _product_id(sandbox, reference_of(raw))
    sandbox.edit_shop("products", product_id, {"name": {1: "Mine", 2: "Mine"}})

    sandbox.run()
    (product,) = sandbox.read_shop("products", id=product_id)
    assert product["name"] == {1: "Mine", 2: "Mine"}

    sandbox.polaris_admin("withdraw", {"NoModele": raw["NoModele"]})
    sandbox.run()
    (product,) = sandbox.read_shop("products", id=product_id)
    assert product["name"][1] != "Mine" and product["active"] == "0"


def test_e11_resync_product_rewrites_one_sheet_now_and_nothing_else(sandbox):
    sandbox.run()
    raw = polaris_items(sandbox)[0]
    product_id = _product_id(sandbox, reference_of(raw))
    sandbox.edit_shop("products", product_id, {"name": {1: "Mine", 2: "Mine"}})

    results = sandbox.run(["catalogue"], resync_refs=frozenset({str(raw["NoModele"])}))

    (product,) = sandbox.read_shop("products", id=product_id)
    assert product["name"][1] != "Mine"
    touched = {w.url.path.split("/")[2] for w in sandbox.shop_writes()}
    assert touched <= {"products", "combinations"}
    assert results["catalogue"].counts["updated"] >= 1


def test_e10_a_locked_product_keeps_its_sheet_but_follows_price_and_stock(sandbox):
    sandbox.run()
    raw = polaris_items(sandbox)[0]
    model = raw["NoModele"]
    sandbox.state.lock(str(model))
    product_id = _product_id(sandbox, reference_of(raw))
    sandbox.edit_shop("products", product_id, {"name": {1: "Mine", 2: "Mine"}})
    sandbox.polaris_admin("withdraw", {"NoModele": model})
    sandbox.polaris_admin("price", {"NoModele": model, "PrixTTC": 60.0})

    results = sandbox.run()

    (product,) = sandbox.read_shop("products", id=product_id)
    assert product["name"][1] == "Mine" and product["active"] == "1"
    assert float(product["price"]) == 50.0
    assert any("locked" in error for error in _audit_reasons(sandbox, "skipped"))
    assert results["prices"].counts["updated"] >= 1


def test_d2_sold_out_products_are_hidden_and_come_back(sandbox):
    sandbox.config_data["stock"] = {"out_of_stock": "hide"}
    sandbox.run()
    raw = polaris_items(sandbox)[0]
    product_id = _product_id(sandbox, reference_of(raw))
    for size in raw["Tailles"]:
        for store in size["Magasins"]:
            sandbox.polaris_admin(
                "stock",
                {
                    "SKU": size["Refs"][0],
                    "CodeMagasin": store["CodeMagasin"],
                    "Dispo": 0,
                },
            )

    sandbox.run()
    (product,) = sandbox.read_shop("products", id=product_id)
    assert product["visibility"] == "none" and product["active"] == "1"

    size = raw["Tailles"][0]
    sandbox.polaris_admin(
        "stock", {"SKU": size["Refs"][0], "CodeMagasin": 1, "Dispo": 2}
    )
    sandbox.run()
    (product,) = sandbox.read_shop("products", id=product_id)
    assert product["visibility"] == "both"


def _audit_reasons(sandbox: Sandbox, action: str) -> list[str]:
    reasons = []
    for path in sorted((sandbox.root / "audit").glob("audit-*.jsonl")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event["action"] == action:
                reasons.append(event["reason"])
    return reasons


def test_new_models_seen_first_by_stock_get_their_stock_once_created(sandbox):
    """Stock and prices pass over items not in the shop yet; they come back
    to them once the catalogue (on its own, slower interval) creates them."""
    sandbox.run()
    sandbox.polaris_admin("models", {"Nombre": 1})
    sandbox.run(["stock", "prices"])
    sandbox.run(["catalogue"])

    sandbox.run(["stock", "prices"])

    assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))
    assert shop_stock(sandbox) == expected_stock(sandbox)
    on_sale = [
        raw for raw in polaris_items(sandbox) if raw["PrixTTC"] < raw["PrixNormalTTC"]
    ]
    assert len(sandbox.read_shop("specific_prices")) == len(on_sale)


def test_a_product_deleted_in_the_shop_is_created_again_with_its_sizes(sandbox):
    sandbox.run()
    raw = polaris_items(sandbox)[0]
    product_id = _product_id(sandbox, reference_of(raw))

    async def delete() -> None:
        async with sandbox.shop() as shop:
            await shop.delete("products", product_id)

    asyncio.run(delete())
    sandbox.polaris_admin("price", {"NoModele": raw["NoModele"], "PrixTTC": 99.0})
    sandbox.run()  # the price write finds the product gone: link forgotten
    sandbox.polaris_admin("price", {"NoModele": raw["NoModele"], "PrixTTC": 98.0})

    results = sandbox.run()

    assert not results["catalogue"].errors
    assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))
    assert shop_stock(sandbox) == expected_stock(sandbox)


def test_f10_full_mode_never_takes_over_a_product_the_merchant_made(sandbox):
    """Covers F10: a product found by reference is linked and locked."""
    raw = polaris_items(sandbox)[0]
    names = {1: "Made by hand", 2: "Fait main"}
    existing = sandbox.create(
        "products",
        {"reference": reference_of(raw), "price": 1, "state": 1, "name": names},
    )

    sandbox.run()

    (product,) = sandbox.read_shop("products", reference=reference_of(raw))
    assert int(product["id"]) == existing
    assert product["name"] == names
    assert sandbox.state.locked_refs() == [reference_of(raw)]
    assert abs(float(product["price"]) * 1.2 - raw["PrixNormalTTC"]) < 0.01
    assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))


def test_e6_other_colours_become_related_products(sandbox):
    """Covers E6."""
    sandbox.config_data["catalogue"] = {"related_colours": True}
    sandbox.run()

    products = sandbox.read_shop("products")
    by_model: dict[str, set[int]] = {}
    for product in products:
        by_model.setdefault(product["reference"].split("-")[0], set()).add(
            int(product["id"])
        )
    for product in products:
        siblings = by_model[product["reference"].split("-")[0]] - {int(product["id"])}
        related = product["associations"].get("accessories", [])
        assert {int(item["id"]) for item in related} == siblings

    sandbox.run()
    assert sandbox.shop_writes() == []


def test_a_shop_failing_every_item_stops_the_stage_instead_of_trying_all(tmp_path):
    sandbox = Sandbox(tmp_path, models=6)
    try:
        sandbox.prepare_shop()
        sandbox.fault = lambda request: "before" if request.method == "POST" else None

        with pytest.raises(TransientError, match="in a row"):
            sandbox.run(["catalogue"])

        posts = [r for r in sandbox.shop_requests if r.method == "POST"]
        assert len(posts) < len(polaris_items(sandbox))
        assert sandbox.state.cursor("feed-since:catalogue") is None
    finally:
        sandbox.close()


def test_e8_weekly_cleanup_deletes_unused_values_of_our_groups_only(tmp_path):
    """Covers E8."""
    sandbox = Sandbox(tmp_path, models=2)
    try:
        size_group, _ = sandbox.prepare_shop()
        other_group = sandbox.create_attribute_group("Merchant's own")
        names = {1: "XXXXL", 2: "XXXXL"}
        unused = sandbox.create(
            "product_option_values", {"id_attribute_group": size_group, "name": names}
        )
        theirs = sandbox.create(
            "product_option_values", {"id_attribute_group": other_group, "name": names}
        )
        sandbox.config_data["catalogue"] = {"weekly_cleanup": True}

        sandbox.run()

        remaining = {int(v["id"]) for v in sandbox.read_shop("product_option_values")}
        assert unused not in remaining and theirs in remaining
        used = {
            int(value["id"])
            for combination in sandbox.read_shop("combinations")
            for value in combination["associations"]["product_option_values"]
        }
        assert used <= remaining

        again = sandbox.create(
            "product_option_values", {"id_attribute_group": size_group, "name": names}
        )
        sandbox.run()
        remaining = {int(v["id"]) for v in sandbox.read_shop("product_option_values")}
        assert again in remaining  # not a week yet
    finally:
        sandbox.close()


@pytest.mark.parametrize("seed", [3, 7])
def test_random_server_errors_after_writes_never_duplicate_anything(tmp_path, seed):
    """The emulator fails 15% of requests, writes after they landed; runs go
    on until the shop is healthy again, then everything is there once."""
    sandbox = Sandbox(tmp_path, models=4)
    try:
        sandbox.prepare_shop()
        sandbox.shop_admin(
            "PUT",
            "faults",
            {"error_rate": 0.15, "error_after_write": True, "seed": seed},
        )
        for _ in range(6):
            try:
                sandbox.run()
            except TransientError:
                pass  # ten failures in a row: the stage stopped, next run goes on
        sandbox.shop_admin("DELETE", "faults")
        sandbox.run()

        references = Counter(p["reference"] for p in sandbox.read_shop("products"))
        assert len(references) == len(polaris_items(sandbox))
        assert max(references.values()) == 1
        combinations = Counter(
            (c["id_product"], c["reference"]) for c in sandbox.read_shop("combinations")
        )
        assert max(combinations.values()) == 1
        promotions = Counter(
            p["id_product"] for p in sandbox.read_shop("specific_prices")
        )
        assert not promotions or max(promotions.values()) == 1
        assert shop_stock(sandbox) == expected_stock(sandbox)
        sandbox.run()
        assert sandbox.shop_writes() == []
    finally:
        sandbox.close()


def test_basic_mode_searches_the_shop_once_for_items_it_does_not_have(sandbox):
    sandbox.config_data["mode"] = "basic"
    sandbox.run(["stock", "prices"])
    sandbox.run(["stock", "prices"])

    assert len(sandbox.polaris_requests) == 1
    assert len(sandbox.shop_requests) <= 5


def test_e1_one_product_per_model_with_each_colour_priced_on_its_sizes(tmp_path):
    sandbox = Sandbox(tmp_path, models=3)
    try:
        sandbox.prepare_shop()
        colour_group = sandbox.create_attribute_group("Couleur", colour=True)
        sandbox.config_data["catalogue"] = {
            "products_per": "model",
            "colour_group": colour_group,
        }
        sandbox.run()

        items = [raw for raw in polaris_items(sandbox) if not raw.get("Supprime")]
        products = sandbox.read_shop("products")
        assert sorted(p["reference"] for p in products) == sorted(
            {str(raw["NoModele"]) for raw in items}
        )
        assert {float(p["price"]) for p in products} == {0.0}
        impacts = {
            c["reference"]: float(c["price"]) for c in sandbox.read_shop("combinations")
        }
        for raw in items:
            for size in raw["Tailles"]:
                sku = next(ref for ref in size["Refs"] if not ref.isdigit())
                assert abs(impacts[sku] * 1.2 - raw["PrixNormalTTC"]) < 0.01
        assert shop_stock(sandbox) == expected_stock(sandbox)

        # A promotion on one colour: a specific price on each of its sizes.
        raw = items[0]
        variant = parse_item(raw).variant_key
        sandbox.polaris_admin("promotion/end", {"NoModele": raw["NoModele"]})
        sandbox.run()
        sandbox.polaris_admin(
            "promotion",
            {
                "NoModele": raw["NoModele"],
                "Variante": variant,
                "PrixTTC": raw["PrixNormalTTC"] - 10,
            },
        )
        sandbox.run()
        promotions = [
            p
            for p in sandbox.read_shop("specific_prices")
            if int(p["id_product"]) == _product_id(sandbox, str(raw["NoModele"]))
        ]
        assert len(promotions) == len(raw["Tailles"])
        assert all(int(p["id_product_attribute"]) for p in promotions)
        sandbox.run()
        assert sandbox.shop_writes() == []
    finally:
        sandbox.close()


def test_php_notices_before_the_answers_do_not_disturb_the_sync(sandbox):
    """Pitfall L2: a shop printing PHP notices ahead of its XML and JSON."""
    sandbox.shop_admin("PUT", "faults", {"notice_rate": 0.5, "seed": 5})
    results = sandbox.run()
    sandbox.shop_admin("DELETE", "faults")

    assert all(not result.errors for result in results.values())
    assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))
    assert shop_stock(sandbox) == expected_stock(sandbox)


def test_e7_each_size_shows_which_mapped_stores_have_it(sandbox):
    """Covers F4: store rows pick the stores shown; a store mapped to `ignore`
    is left out."""
    sandbox.state.set_mapping("store", "1", "1", label="Paris (Paris 2e)")
    sandbox.state.set_mapping("store", "2", "ignore", label="Entrepôt")
    sandbox.state.set_mapping("store", "3", "3", label="Lyon")
    sandbox.config_data["catalogue"] = {
        "store_availability": True,
        "store_low_stock": 3,
    }
    sandbox.run()

    def line_of(sku: str) -> str:
        (combination,) = [
            c for c in sandbox.read_shop("combinations") if c["reference"] == sku
        ]
        return combination["available_now"][1]

    raw = polaris_items(sandbox)[0]
    size = raw["Tailles"][0]
    sku = next(ref for ref in size["Refs"] if not ref.isdigit())
    stock = {place["CodeMagasin"]: place["Dispo"] for place in size["Magasins"]}
    symbol = {0: "○", 1: "◐", 2: "◐"}
    expected = " · ".join(
        f"{name} {symbol.get(stock.get(code, 0), '●')}"
        for code, name in ((1, "Paris"), (3, "Lyon"))
    )
    assert line_of(sku) == expected

    sandbox.polaris_admin(
        "stock", {"SKU": size["Refs"][0], "CodeMagasin": 3, "Dispo": 1}
    )
    sandbox.run()
    assert line_of(sku).endswith("Lyon ◐")
    sandbox.run()
    assert sandbox.shop_writes() == []


def test_f6_brands_mapped_after_a_first_run_are_imported_by_the_next(tmp_path):
    sandbox = Sandbox(tmp_path, models=2)
    try:
        sandbox.run()
        assert sandbox.read_shop("products") == []
        sandbox.prepare_shop()  # the merchant maps brands and size grids

        sandbox.run()

        assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))
        assert shop_stock(sandbox) == expected_stock(sandbox)
        sandbox.run()
        assert sandbox.shop_writes() == []
        assert len(sandbox.polaris_requests) == 1
    finally:
        sandbox.close()


def test_c3_only_the_fields_in_update_fields_follow_polaris(sandbox):
    """Covers C3: a field left out of `catalogue.update_fields` is written when
    the product is created, then left as the shop has it; a listed one takes
    the Polaris value again whenever the item changes in Polaris."""
    sandbox.config_data["catalogue"] = {"update_fields": ["description"]}
    sandbox.run()
    raw = next(raw for raw in polaris_items(sandbox) if raw["PoidsKg"])
    product_id = _product_id(sandbox, reference_of(raw))
    (created,) = sandbox.read_shop("products", id=product_id)
    assert created["name"][1].startswith(raw["Libelle"])
    assert float(created["weight"]) == raw["PoidsKg"]
    edits = {"name": {1: "Mine", 2: "Mine"}, "weight": "9.000000"}
    sandbox.edit_shop("products", product_id, edits)

    sandbox.polaris_admin("withdraw", {"NoModele": raw["NoModele"]})
    sandbox.run()
    (kept,) = sandbox.read_shop("products", id=product_id)
    assert kept["active"] == "0"
    assert kept["name"] == edits["name"] and float(kept["weight"]) == 9

    sandbox.config_data["catalogue"] = {"update_fields": ["name"]}
    sandbox.polaris_admin("withdraw", {"NoModele": raw["NoModele"], "Supprime": False})
    sandbox.run()
    (synced,) = sandbox.read_shop("products", id=product_id)
    assert synced["active"] == "1"
    assert synced["name"] == created["name"] and float(synced["weight"]) == 9


def test_e2_each_attribute_fills_its_mapped_group_and_an_unmapped_one_is_left_out(
    tmp_path,
):
    """Covers E2, F1: sizes go to the size grid's group, which starts empty and
    gets one value per size label; the colour, mapped to no group, is left out
    of the combinations. Mapped later, it gets values of its own group."""
    sandbox = Sandbox(tmp_path, models=2)
    try:
        size_group, _ = sandbox.prepare_shop()
        existing = sandbox.read_shop("product_option_values")
        before = {int(value["id"]) for value in existing}
        sandbox.run()

        values = [
            value
            for value in sandbox.read_shop("product_option_values")
            if int(value["id"]) not in before
        ]
        assert {int(value["id_attribute_group"]) for value in values} == {size_group}
        labels = {
            size["Taille"] for raw in polaris_items(sandbox) for size in raw["Tailles"]
        }
        assert sorted(value["name"][1] for value in values) == sorted(labels)
        for combination in sandbox.read_shop("combinations"):
            assert len(combination["associations"]["product_option_values"]) == 1

        colour_group = sandbox.create_attribute_group("Couleur", colour=True)
        sandbox.config_data["catalogue"] = {"colour_group": colour_group}
        sandbox.run()
        colours = sandbox.read_shop(
            "product_option_values", id_attribute_group=colour_group
        )
        assert colours
        for combination in sandbox.read_shop("combinations"):
            assert len(combination["associations"]["product_option_values"]) == 2
    finally:
        sandbox.close()
