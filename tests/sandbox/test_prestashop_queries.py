"""Query parameters and output shapes: filter, sort, limit, display, JSON.
Section numbers refer to design/prestashop-webservice.md, pitfall ids to
design/prestashop-pitfalls.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .catalog_shop import CatalogShop, error_codes

PRICES = ("10", "15", "20", "25")


@pytest.fixture
def shop(tmp_path: Path) -> CatalogShop:
    return CatalogShop(tmp_path / "shop.db")


@pytest.fixture
def products(shop: CatalogShop) -> list[int]:
    """Four products: references CAT-n, prices 10, 15, 20, 25."""
    return [shop.simple_product(price=p) for p in PRICES]


def _ids(shop: CatalogShop, query: str) -> list[int]:
    data = shop.json(f"products?display=[id]&sort=[id_ASC]&{query}")
    return [row["id"] for row in data["products"]] if data else []


def _reference(shop: CatalogShop, product: int) -> str:
    return str(shop.one("products", product, "reference")["reference"])


# --- filters (section 3.2; pitfalls G1, G3, G4) ---


def test_pipe_lists_match_any_value(shop: CatalogShop, products: list[int]) -> None:
    a, b = _reference(shop, products[0]), _reference(shop, products[2])
    assert _ids(shop, f"filter[reference]=[{a}|{b}]") == [products[0], products[2]]


def test_a_list_opening_with_a_pipe_matches_nothing(
    shop: CatalogShop, products: list[int]
) -> None:
    assert _ids(shop, f"filter[reference]=[|{_reference(shop, products[0])}]") == []


def test_ranges_are_inclusive_and_sort_their_bounds(
    shop: CatalogShop, products: list[int]
) -> None:
    assert _ids(shop, "filter[price]=[20,15]") == products[1:3]


def test_like_filters_leave_wildcards_unescaped(
    shop: CatalogShop, products: list[int]
) -> None:
    assert _ids(shop, "filter[reference]=[CAT_]%25") == products
    assert _ids(shop, "filter[reference]=%25[AT-]%25") == products


def test_comparison_and_negation_filters(
    shop: CatalogShop, products: list[int]
) -> None:
    assert _ids(shop, "filter[price]=>[15]") == products[2:]
    assert _ids(shop, "filter[price]=<[15]") == products[:1]
    assert _ids(shop, f"filter[id]=![{products[0]}|{products[1]}]") == products[2:]


def test_text_filters_ignore_case(shop: CatalogShop, products: list[int]) -> None:
    lowered = _reference(shop, products[1]).lower()
    assert _ids(shop, f"filter[reference]=[{lowered}]") == [products[1]]


def test_multilingual_filters_match_any_requested_language(
    shop: CatalogShop, products: list[int]
) -> None:
    french = f"filter[name]=[Chemise]%25&filter[id]=[{products[0]}]"
    assert _ids(shop, french) == [products[0]]
    assert _ids(shop, f"{french}&language=1") == []


def test_double_encoded_brackets_are_ignored_and_return_everything(
    shop: CatalogShop, products: list[int]
) -> None:
    """Pitfall G1."""
    assert _ids(shop, "filter%255Breference%255D=[nothing]") == products


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("filter[nope]=[1]", [32, 3, 3, 3, 3]),
        ("filter[reference]=", [33, 3, 3, 3, 3]),
        ("filter[quantity]=[1]", [34, 3, 3, 3, 3]),
        ("filter[date_add]=>[2000-01-01]", [32, 3, 3, 3, 3]),
        ("sort=id", [37, 3, 3, 3, 3]),
        ("sort=[nope_ASC]", [38, 3, 3, 3, 3]),
        ("sort=[date_upd_DESC]", [38, 3, 3, 3, 3]),
        ("limit=1,2,3", [39, 3, 3, 3, 3]),
        ("display=[nope]", [35, 3, 3, 3, 3]),
        ("display=id", [36, 3, 3, 3, 3]),
    ],
)
def test_malformed_parameters_are_500_with_php_warnings(
    shop: CatalogShop, query: str, codes: list[int]
) -> None:
    answer = shop.get(f"products?{query}")
    assert (answer.status_code, error_codes(answer)) == (500, codes)


def test_date_filters_and_sorts_work_with_date_1(
    shop: CatalogShop, products: list[int]
) -> None:
    """Pitfall G3; a date-only upper bound is midnight (pitfall G4)."""
    everything = "filter[date_add]=[2000-01-01,2999-12-31]&date=1"
    assert _ids(shop, everything) == products
    assert _ids(shop, "filter[date_upd]=<[2000-01-01]&date=1") == []
    newest_first = shop.json(
        "products?display=[id]&sort=[date_add_DESC,id_DESC]&date=1"
    )
    assert [p["id"] for p in newest_first["products"]] == products[::-1]


def test_sorting_on_a_virtual_field(shop: CatalogShop, products: list[int]) -> None:
    assert shop.get("products?sort=[quantity_ASC]").status_code == 200
    broken = shop.get("products?sort=[manufacturer_name_ASC]")
    assert broken.status_code == 500 and broken.content == b""


# --- sort and limit (sections 3.3, 3.4) ---


def test_sort_descending_and_limit_with_offset(
    shop: CatalogShop, products: list[int]
) -> None:
    page = shop.json("products?display=[id]&sort=[price_DESC]&limit=1,2")
    assert [p["id"] for p in page["products"]] == [products[2], products[1]]


def test_a_non_numeric_limit_is_an_empty_list(
    shop: CatalogShop, products: list[int]
) -> None:
    assert shop.json("products?limit=abc") == []


# --- display and JSON shapes (sections 2.2, 2.3, 3.1; pitfalls H4, H6) ---


def test_lists_without_display_carry_ids_and_links_only(
    shop: CatalogShop, products: list[int]
) -> None:
    listed = shop.json("products?sort=[id_ASC]")
    assert listed == {"products": [{"id": p} for p in products]}
    xml = shop.get(f"products?filter[id]=[{products[0]}]").text
    assert f'<product id="{products[0]}" xlink:href=' in xml


def test_display_prints_fields_in_definition_order(
    shop: CatalogShop, products: list[int]
) -> None:
    row = shop.json(f"products?display=[name,price,id]&filter[id]=[{products[0]}]")
    assert list(row["products"][0]) == ["id", "price", "name"]


def test_an_empty_json_list_is_a_bare_array(shop: CatalogShop) -> None:
    assert shop.get("products?output_format=JSON").text == "[]"


def test_one_requested_language_collapses_to_plain_strings(
    shop: CatalogShop, products: list[int]
) -> None:
    one = shop.json(f"products/{products[0]}?display=[id,name]&language=1")
    both = shop.json(f"products/{products[0]}?display=[id,name]")
    assert isinstance(one["products"][0]["name"], str)
    assert [item["id"] for item in both["products"][0]["name"]] == [1, 2]


def test_json_single_object_omits_empty_values_and_types_ints(
    shop: CatalogShop, products: list[int]
) -> None:
    product = shop.json(f"products/{products[0]}")["product"]
    assert "ean13" not in product and "on_sale" not in product
    assert product["id_category_default"] == 2
    assert product["price"] == "10.000000"
    assert product["active"] == "1"
    # Empty associations are left out too.
    assert "categories" not in product["associations"]


def test_json_association_items_are_flat_lists(
    shop: CatalogShop, products: list[int]
) -> None:
    product = shop.json(f"products/{products[0]}")["product"]
    rows = product["associations"]["stock_availables"]
    assert rows == [{"id": rows[0]["id"], "id_product_attribute": 0}]


def test_output_format_must_be_uppercase_json(
    shop: CatalogShop, products: list[int]
) -> None:
    answer = shop.get(f"products/{products[0]}?output_format=json")
    assert answer.headers["content-type"] == "text/xml;charset=utf-8"
    header = shop.client.get(
        f"/api/products/{products[0]}", headers={"Output-Format": "JSON"}
    )
    assert header.headers["content-type"] == "application/json"


def test_bad_language_parameter_is_a_400(shop: CatalogShop) -> None:
    assert error_codes(shop.get("products?language=9")) == [81]
    assert error_codes(shop.get("products?language=abc")) == [79, 81]


def test_display_can_pick_association_fields(
    shop: CatalogShop, products: list[int]
) -> None:
    display = "display=[id,stock_availables[id_product_attribute]]"
    query = f"filter[id]=[{products[0]}]&{display}"
    row = shop.json(f"products?{query}")["products"][0]
    assert row == {
        "id": products[0],
        "associations": {"stock_availables": [{"id_product_attribute": 0}]},
    }
