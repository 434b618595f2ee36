"""The catalogue, stock and prices stages against both sandbox servers."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
import pytest

import e2e.requires_sandboxes  # noqa: F401  (skips when they are missing)
from e2e.sandbox import POLARIS_URL, Sandbox
from polaris_sync.mapping.colours import GENERIC_COLOURS, MULTICOLOUR
from polaris_sync.mapping.item import parse_item
from polaris_sync.mapping.product import CatalogueOptions, desired_combinations

OPTIONS = CatalogueOptions(languages=(1, 2))


def polaris_items(sandbox: Sandbox) -> list[dict[str, Any]]:
    return sandbox.simulator.product_page("", "", 1000, POLARIS_URL)["Items"]


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
    # D1/D3: each size carries the sum of the stores' stock.
    assert shop_stock(sandbox) == expected_stock(sandbox)
    # Prices are Polaris' normal prices without VAT.
    by_reference = {p["reference"]: float(p["price"]) for p in products}
    for raw in items:
        reference = f"{raw['NoModele']}-{raw['Niveau1']['Code']}"
        assert abs(by_reference[reference] * 1.2 - raw["PrixNormalTTC"]) < 0.01


def test_e12_a_second_run_with_nothing_new_writes_nothing(sandbox):
    sandbox.run()
    results = sandbox.run()

    assert sandbox.shop_writes() == []
    assert all(set(result.counts) <= {"unchanged"} for result in results.values())


def test_request_counts_of_a_run_with_nothing_new(sandbox):
    """One Polaris page, at most five PrestaShop requests, whatever the size."""
    sandbox.run()
    sandbox.run()

    assert len(sandbox.polaris_requests) == 1
    assert len(sandbox.shop_requests) <= 5


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
    assert reads == {
        "/api/": 1,
        "/api/languages": 1,
        "/api/product_option_values": 1,
        "/api/products": 1,
        "/api/stock_availables": 1,
        "/api/specific_prices": 1,
    }


def test_a_price_change_writes_the_price_of_that_model_only(sandbox):
    sandbox.run()
    model = polaris_items(sandbox)[0]["NoModele"]
    colours = [raw for raw in polaris_items(sandbox) if raw["NoModele"] == model]
    sandbox.polaris_admin("promotion/end", {"NoModele": model})
    sandbox.run()
    sandbox.polaris_admin("price", {"NoModele": model, "PrixTTC": 120.0})

    sandbox.run()

    writes = sandbox.shop_writes()
    assert {(w.method, w.url.path.split("/")[2]) for w in writes} == {
        ("PATCH", "products")
    }
    assert len(writes) == len(colours)
    prices = {
        float(p["price"])
        for p in sandbox.read_shop(
            "products", id=[int(w.url.path.rsplit("/", 1)[1]) for w in writes]
        )
    }
    assert prices == {100.0}


def test_a_promotion_becomes_a_specific_price_and_goes_when_it_ends(sandbox):
    sandbox.run()
    raw = polaris_items(sandbox)[0]
    model, colour = raw["NoModele"], raw["Niveau1"]["Code"]
    sandbox.polaris_admin("promotion/end", {"NoModele": model})
    sandbox.run()
    sandbox.polaris_admin(
        "promotion",
        {"NoModele": model, "Variante": colour, "PrixTTC": raw["PrixNormalTTC"] - 10},
    )

    sandbox.run()

    promotions = [
        p
        for p in sandbox.read_shop("specific_prices")
        if int(p["id_product"]) == _product_id(sandbox, f"{model}-{colour}")
    ]
    assert len(promotions) == 1
    assert float(promotions[0]["reduction"]) == 10.0
    assert promotions[0]["reduction_type"] == "amount"

    sandbox.polaris_admin("promotion/end", {"NoModele": model, "Variante": colour})
    sandbox.run()
    assert not [
        p
        for p in sandbox.read_shop("specific_prices")
        if int(p["id_product"]) == _product_id(sandbox, f"{model}-{colour}")
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
    assert results["catalogue"].counts["planned"] == len(polaris_items(sandbox))
    # The real state saw nothing: a real run afterwards does the whole job.
    sandbox.run()
    assert len(sandbox.read_shop("products")) == len(polaris_items(sandbox))


def test_a_500_on_one_product_leaves_the_others_synced(sandbox):
    victim = polaris_items(sandbox)[1]
    reference = f"{victim['NoModele']}-{victim['Niveau1']['Code']}"

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


def test_f10_basic_mode_adopts_existing_products_and_locks_them(sandbox, tmp_path):
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


def test_a_hand_edit_in_the_shop_is_left_alone_until_polaris_changes(sandbox):
    sandbox.run()
    raw = polaris_items(sandbox)[0]
    product_id = _product_id(sandbox, f"{raw['NoModele']}-{raw['Niveau1']['Code']}")
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
    product_id = _product_id(sandbox, f"{raw['NoModele']}-{raw['Niveau1']['Code']}")
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
    product_id = _product_id(sandbox, f"{model}-{raw['Niveau1']['Code']}")
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
    product_id = _product_id(sandbox, f"{raw['NoModele']}-{raw['Niveau1']['Code']}")
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
