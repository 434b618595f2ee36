"""Catalogue-side conformance: write semantics, validation, associations, stock,
images. Section numbers refer to design/prestashop-webservice.md, pitfall ids to
design/prestashop-pitfalls.md.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from .catalog_shop import (
    CatalogShop,
    association_ids,
    entity,
    error_codes,
    language_texts,
    text,
)
from .order_shop import KEY


@pytest.fixture
def shop(tmp_path: Path) -> CatalogShop:
    return CatalogShop(tmp_path / "shop.db")


def _patch(shop: CatalogShop, resource: str, entity_id: int, inner: str):  # type: ignore[no-untyped-def]
    node = resource[:-1] if resource != "stock_availables" else "stock_available"
    return shop.send(
        "PATCH",
        f"{resource}/{entity_id}",
        f"<{node}><id>{entity_id}</id>{inner}</{node}>",
    )


# --- PUT versus PATCH (sections 0.1, 1.5; pitfalls A1, A2) ---


def test_put_resets_every_field_it_does_not_send(shop: CatalogShop) -> None:
    product = shop.simple_product(extra="<on_sale>1</on_sale><ean13>123</ean13>")
    answer = shop.send(
        "PUT",
        f"products/{product}",
        f"<product><id>{product}</id><price>9</price></product>",
    )
    assert answer.status_code == 200
    stored = shop.one("products", product, "id,on_sale,ean13,active,state,price")
    assert stored == {
        "id": product,
        "on_sale": "0",
        "ean13": "",
        "active": "0",
        "state": 0,
        "price": "9.000000",
    }
    assert set(language_texts(shop.get(f"products/{product}"), "name").values()) == {""}


def test_patch_leaves_unsent_fields_and_echoes_what_was_sent(shop: CatalogShop) -> None:
    product = shop.simple_product(extra="<on_sale>1</on_sale>")
    answer = _patch(shop, "products", product, "<price>11</price>")
    assert text(answer, "price") == "11"
    stored = shop.one("products", product, "on_sale,price,active")
    assert stored == {"on_sale": "1", "price": "11.000000", "active": "1"}


def test_put_without_a_required_field_is_code_41(shop: CatalogShop) -> None:
    product = shop.simple_product()
    answer = shop.send(
        "PUT", f"products/{product}", f"<product><id>{product}</id></product>"
    )
    assert (answer.status_code, error_codes(answer)) == (400, [41])
    assert 'parameter "price" required' in answer.text


@pytest.mark.parametrize("name", ["manufacturer_name", "quantity"])
def test_read_only_product_fields_are_refused_with_code_93(
    shop: CatalogShop, name: str
) -> None:
    product = shop.simple_product()
    answer = _patch(shop, "products", product, f"<{name}>5</{name}>")
    assert (answer.status_code, error_codes(answer)) == (400, [93])


def test_unknown_elements_are_ignored_but_unknown_associations_are_code_86(
    shop: CatalogShop,
) -> None:
    """Pitfall B6."""
    product = shop.simple_product()
    ignored = _patch(shop, "products", product, "<no_such_field>1</no_such_field>")
    refused = _patch(
        shop, "products", product, "<associations><nopes><nope/></nopes></associations>"
    )
    assert ignored.status_code == 200
    assert (refused.status_code, error_codes(refused)) == (400, [86])


def test_a_multilingual_field_sent_with_one_language_blanks_the_others(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    _patch(
        shop, "products", product, '<name><language id="1">Only EN</language></name>'
    )
    names = language_texts(shop.get(f"products/{product}"), "name")
    assert names == {"1": "Only EN", "2": ""}


def test_a_plain_multilingual_value_applies_to_every_language(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    _patch(shop, "products", product, "<description_short>Both</description_short>")
    texts = language_texts(shop.get(f"products/{product}"), "description_short")
    assert texts == {"1": "Both", "2": "Both"}


@pytest.mark.parametrize(
    ("body", "status", "codes"),
    [
        ("<product><id>1</id><price>1</price></product>", 400, [91]),
    ],
)
def test_post_with_an_id_is_code_91(
    shop: CatalogShop, body: str, status: int, codes: list[int]
) -> None:
    answer = shop.send("POST", "products", body)
    assert (answer.status_code, error_codes(answer)) == (status, codes)


def test_id_rules_of_put_and_patch(shop: CatalogShop) -> None:
    product = shop.simple_product()
    no_id = shop.send(
        "PATCH", f"products/{product}", "<product><price>2</price></product>"
    )
    twice = shop.send(
        "PATCH",
        f"products/{product}",
        f"<product><id>{product}</id></product><product><id>{product}</id></product>",
    )
    unknown = shop.send("PATCH", "products/1", "<product><id>999999</id></product>")
    assert error_codes(no_id) == [90]
    assert error_codes(twice) == [89]
    assert (unknown.status_code, error_codes(unknown)) == (404, [92])


def test_the_id_inside_the_body_is_what_gets_updated(shop: CatalogShop) -> None:
    """Section 1.3: the URL id is ignored."""
    first, second = shop.simple_product(), shop.simple_product()
    shop.send(
        "PATCH",
        f"products/{first}",
        f"<product><id>{second}</id><price>3</price></product>",
    )
    assert shop.one("products", second, "price")["price"] == "3.000000"
    assert shop.one("products", first, "price")["price"] == "12.500000"


def test_several_entities_in_one_body_are_saved_one_by_one_without_rollback(
    shop: CatalogShop,
) -> None:
    answer = shop.send(
        "POST",
        "manufacturers",
        "<manufacturer><name>First</name></manufacturer>"
        "<manufacturer><name>Bad;Name</name></manufacturer>",
    )
    assert (answer.status_code, error_codes(answer)) == (400, [85])
    assert len(shop.json("manufacturers?filter[name]=[First]")["manufacturers"]) == 1


# --- validation (section 5; pitfalls F2, F5) ---


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        ("<ean13>12345abc</ean13>", 85, "Property Product-&gt;ean13 is not valid"),
        (
            "<ean13>12345678901234</ean13>",
            85,
            "The length of property Product-&gt;ean13 is currently 14 chars. "
            "It must be between 0 and 13 chars.",
        ),
        (
            "<visibility>foo</visibility>",
            85,
            "has a bad value (allowed values are: both, catalog, search, none).",
        ),
        ("<active>true</active>", 85, "Property Product-&gt;active is not valid"),
        ("<wholesale_price>1,5</wholesale_price>", 85, "wholesale_price is not valid"),
    ],
)
def test_scalar_validation_errors_are_code_85(
    shop: CatalogShop, extra: str, code: int, message: str
) -> None:
    answer = shop.send(
        "POST",
        "products",
        f'<product><price>1</price><name><language id="1">Box</language></name>'
        f"{extra}</product>",
    )
    assert (answer.status_code, error_codes(answer)) == (400, [code])
    assert message in answer.text


def test_catalog_name_characters_are_code_84(shop: CatalogShop) -> None:
    answer = shop.send(
        "POST",
        "products",
        '<product><price>1</price><name><language id="1">a;b</language></name>'
        "</product>",
    )
    assert (answer.status_code, error_codes(answer)) == (400, [84])


def test_whitespace_is_kept_and_breaks_validators(shop: CatalogShop) -> None:
    product = shop.simple_product()
    answer = _patch(shop, "products", product, "<ean13>\n 1234567890123\n</ean13>")
    assert (answer.status_code, error_codes(answer)) == (400, [85])


def test_slugs_are_fixed_on_post_but_refused_on_patch(shop: CatalogShop) -> None:
    """Pitfall F2."""
    product = shop.create(
        "products",
        '<product><price>1</price><name><language id="1">Été Top</language>'
        '<language id="2">Haut</language></name><link_rewrite>'
        '<language id="1">abc.com</language><language id="2"></language>'
        "</link_rewrite></product>",
    )
    slugs = language_texts(shop.get(f"products/{product}"), "link_rewrite")
    refused = _patch(
        shop,
        "products",
        product,
        '<link_rewrite><language id="1">abc.com</language></link_rewrite>',
    )
    assert slugs == {"1": "abccom", "2": "haut"}
    assert (refused.status_code, error_codes(refused)) == (400, [84])


def test_a_product_posted_with_a_plain_name_is_a_php_warning_500(
    shop: CatalogShop,
) -> None:
    """Pitfall F5: nothing is created."""
    answer = shop.send(
        "POST", "products", "<product><price>1</price><name>x</name></product>"
    )
    assert (answer.status_code, error_codes(answer)) == (500, [3])
    assert shop.json("products") == []


def test_category_posted_without_link_rewrite_is_a_500(shop: CatalogShop) -> None:
    answer = shop.send(
        "POST",
        "categories",
        '<category><id_parent>2</id_parent><active>1</active><name><language id="1">'
        "Shoes</language></name></category>",
    )
    assert answer.status_code == 500 and error_codes(answer) == [3]


def test_category_depth_follows_its_parent_and_is_read_only(shop: CatalogShop) -> None:
    created = shop.send(
        "POST",
        "categories",
        '<category><id_parent>2</id_parent><active>1</active><name><language id="1">'
        'Shoes</language></name><link_rewrite><language id="1">shoes</language>'
        "</link_rewrite></category>",
    )
    category = shop.created_id(created)
    refused = _patch(shop, "categories", category, "<level_depth>5</level_depth>")
    assert text(created, "level_depth") == "2"
    assert error_codes(refused) == [93]


# --- combinations, default combination, associations (sections 7.1, 7.2, 7.4) ---


def test_combinations_create_stock_rows_and_the_first_becomes_default(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    first = shop.combination(product, "A")
    shop.combination(product, "B")
    stock = shop.rows("stock_availables", f"filter[id_product]=[{product}]")
    assert [(r["id_product_attribute"], r["out_of_stock"]) for r in stock] == [
        (0, 2),
        (first, 2),
        (first + 1, 2),
    ]
    assert shop.one("products", product, "id_default_combination") == {
        "id_default_combination": first
    }


def _post_combinations_at_once(
    shop: CatalogShop, product: int, count: int
) -> list[int]:
    """POST `count` combinations of `product` together, each answered after 20 ms."""
    shop.client.put("/_sandbox/faults", json={"latency_ms": 20})

    async def post_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=shop.client.app)
        async with httpx.AsyncClient(
            transport=transport, base_url=str(shop.client.base_url), auth=(KEY, "")
        ) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/api/combinations",
                        content=(
                            "<prestashop><combination>"
                            f"<id_product>{product}</id_product>"
                            f"<reference>AT-ONCE-{n}</reference>"
                            "<minimal_quantity>1</minimal_quantity>"
                            "</combination></prestashop>"
                        ).encode(),
                    )
                    for n in range(count)
                )
            )

    answers = asyncio.run(post_all())
    shop.client.put("/_sandbox/faults", json={"latency_ms": 0})
    return sorted(shop.created_id(answer) for answer in answers)


def test_first_combinations_posted_together_race_for_the_cached_default(
    shop: CatalogShop,
) -> None:
    """Each POST's default bookkeeping sees only the rows there when it came."""
    product = shop.simple_product()
    first, second = _post_combinations_at_once(shop, product, 2)
    cached = shop.one("products", product, "cache_default_attribute")
    assert cached == {"cache_default_attribute": second}
    # The virtual field is computed on reading: it names the first.
    assert shop.one("products", product, "id_default_combination") == {
        "id_default_combination": first
    }


def test_later_combinations_posted_together_keep_the_first_as_default(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    first = shop.combination(product, "FIRST")
    later = _post_combinations_at_once(shop, product, 4)
    cached = shop.one("products", product, "cache_default_attribute")
    assert cached == {"cache_default_attribute": first}
    stock = shop.rows("stock_availables", f"filter[id_product]=[{product}]")
    assert [(r["id_product_attribute"], r["quantity"]) for r in stock] == [
        (0, 0),
        *((combination, 0) for combination in [first, *later]),
    ]


def test_a_second_default_on_is_an_empty_500(shop: CatalogShop) -> None:
    product = shop.simple_product()
    shop.combination(product, "A", "<default_on>1</default_on>")
    answer = shop.send(
        "POST",
        "combinations",
        f"<combination><id_product>{product}</id_product><minimal_quantity>1"
        "</minimal_quantity><default_on>1</default_on></combination>",
    )
    assert answer.status_code == 500 and answer.content == b""


def test_patching_id_default_combination_moves_the_default(shop: CatalogShop) -> None:
    product = shop.simple_product()
    shop.combination(product, "A")
    second = shop.combination(product, "B")
    _patch(
        shop,
        "products",
        product,
        f"<id_default_combination>{second}</id_default_combination>",
    )
    flags = shop.rows("combinations", f"filter[id_product]=[{product}]")
    assert [c.get("default_on") for c in flags] == [None, "1"]
    assert shop.one("products", product, "id_default_combination") == {
        "id_default_combination": second
    }


def test_sending_combinations_on_a_product_deletes_the_unlisted_ones(
    shop: CatalogShop,
) -> None:
    """Pitfall B2: the combination and its stock row go."""
    product = shop.simple_product()
    keep = shop.combination(product, "A")
    gone = shop.combination(product, "B")
    _patch(
        shop,
        "products",
        product,
        f"<associations><combinations><combination><id>{keep}</id></combination>"
        "</combinations></associations>",
    )
    assert shop.get(f"combinations/{gone}").status_code == 404
    rows = shop.rows("stock_availables", f"filter[id_product]=[{product}]")
    assert gone not in [r["id_product_attribute"] for r in rows]


def test_an_empty_combination_id_leaves_a_phantom_outside_the_shop(
    shop: CatalogShop,
) -> None:
    """Pitfall B1."""
    product = shop.simple_product()
    before = shop.json("combinations")
    _patch(
        shop,
        "products",
        product,
        "<associations><combinations><combination><id/></combination>"
        "</combinations></associations>",
    )
    assert shop.json("combinations") == before
    phantom_id = 1 if before == [] else max(c["id"] for c in before["combinations"]) + 1
    answer = shop.get(f"combinations/{phantom_id}")
    assert (answer.status_code, error_codes(answer)) == (404, [131])


def test_option_values_association_deletes_the_unlisted_values(
    shop: CatalogShop,
) -> None:
    """Pitfall B3; an empty list deletes nothing."""
    group, (small, medium) = shop.option_group()
    node = f"<product_option><id>{group}</id>"
    nothing = shop.send(
        "PATCH",
        f"product_options/{group}",
        f"{node}<associations><product_option_values/></associations></product_option>",
    )
    assert nothing.status_code == 200
    assert shop.get(f"product_option_values/{medium}").status_code == 200
    shop.send(
        "PATCH",
        f"product_options/{group}",
        f"{node}<associations><product_option_values><product_option_value><id>{small}"
        "</id></product_option_value></product_option_values></associations>"
        "</product_option>",
    )
    assert shop.get(f"product_option_values/{medium}").status_code == 404
    assert shop.get(f"product_option_values/{small}").status_code == 200


def test_combination_attributes_setter_drops_image_links(shop: CatalogShop) -> None:
    product = shop.simple_product()
    _group, (small, _medium) = shop.option_group()
    values = (
        "<product_option_values><product_option_value><id>"
        + str(small)
        + "</id></product_option_value></product_option_values>"
    )
    combination = shop.combination(
        product,
        "A",
        f"<associations>{values}<images><image><id>7</id></image></images>"
        "</associations>",
    )
    linked = association_ids(shop.get(f"combinations/{combination}"), "images")
    _patch(shop, "combinations", combination, f"<associations>{values}</associations>")
    assert linked == [7]
    assert association_ids(shop.get(f"combinations/{combination}"), "images") == []


def test_product_option_values_of_a_product_come_from_its_combinations(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    _group, (small, medium) = shop.option_group()
    for value in (medium, small):
        shop.combination(
            product,
            "",
            "<associations><product_option_values><product_option_value>"
            f"<id>{value}</id></product_option_value></product_option_values>"
            "</associations>",
        )
    answer = shop.get(f"products/{product}")
    assert association_ids(answer, "product_option_values") == [medium, small]


# --- stock (section 7.3; pitfalls C1, C5) ---


def test_the_product_stock_row_is_the_sum_of_its_combinations(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    first = shop.combination(product, "A")
    second = shop.combination(product, "B")
    shop.set_stock(product, first, 5)
    shop.set_stock(product, second, -2)
    assert shop.stock(product) == 3
    assert shop.one("products", product, "quantity") == {"quantity": 0}


def test_a_stock_put_without_id_shop_moves_the_row_out_of_the_shop(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    row = shop.stock_row(product)["id"]
    answer = shop.send(
        "PUT",
        f"stock_availables/{row}",
        f"<stock_available><id>{row}</id><id_product>{product}</id_product>"
        "<id_product_attribute>0</id_product_attribute><quantity>4</quantity>"
        "<depends_on_stock>0</depends_on_stock><out_of_stock>2</out_of_stock>"
        "</stock_available>",
    )
    gone = shop.get(f"stock_availables/{row}")
    assert answer.status_code == 200
    assert (gone.status_code, error_codes(gone)) == (404, [131])


def test_depends_on_stock_refuses_the_update(shop: CatalogShop) -> None:
    product = shop.simple_product()
    row = shop.stock_row(product)["id"]
    answer = _patch(
        shop, "stock_availables", row, "<depends_on_stock>1</depends_on_stock>"
    )
    assert (answer.status_code, error_codes(answer)) == (500, [133, 46])


def test_deleting_a_product_removes_its_combinations_and_stock(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    combination = shop.combination(product, "A")
    assert shop.client.delete(f"/api/products/{product}").status_code == 200
    assert shop.get(f"combinations/{combination}").status_code == 404
    assert shop.json(f"stock_availables?filter[id_product]=[{product}]") == []


def test_delete_of_unknown_ids_is_code_87(shop: CatalogShop) -> None:
    product = shop.simple_product()
    answer = shop.client.delete(f"/api/products?id=[{product},999999]")
    assert (answer.status_code, error_codes(answer)) == (404, [87])
    assert "999999" in answer.text
    assert shop.get(f"products/{product}").status_code == 200


# --- specific prices (section 7.9) ---


def _specific_price(product: int, reduction: str = "0.2") -> str:
    return (
        "<specific_price><id_shop>0</id_shop><id_cart>0</id_cart>"
        f"<id_product>{product}</id_product><id_product_attribute>0"
        "</id_product_attribute><id_currency>0</id_currency><id_country>0</id_country>"
        "<id_group>0</id_group><id_customer>0</id_customer><price>-1</price>"
        f"<from_quantity>1</from_quantity><reduction>{reduction}</reduction>"
        "<reduction_tax>1</reduction_tax><reduction_type>percentage</reduction_type>"
        "<from>0000-00-00 00:00:00</from><to>0000-00-00 00:00:00</to></specific_price>"
    )


def test_a_duplicate_specific_price_is_an_empty_500(shop: CatalogShop) -> None:
    product = shop.simple_product()
    first = shop.send("POST", "specific_prices", _specific_price(product))
    again = shop.send("POST", "specific_prices", _specific_price(product, "0.3"))
    assert first.status_code == 201
    assert again.status_code == 500 and again.content == b""
    assert "psws-version" not in again.headers


def test_specific_price_put_needs_every_key_but_patch_does_not(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    price = shop.create("specific_prices", _specific_price(product))
    put = shop.send(
        "PUT",
        f"specific_prices/{price}",
        f"<specific_price><id>{price}</id><price>5</price></specific_price>",
    )
    patched = shop.send(
        "PATCH",
        f"specific_prices/{price}",
        f"<specific_price><id>{price}</id><price>5</price></specific_price>",
    )
    assert (put.status_code, error_codes(put)) == (400, [41])
    assert patched.status_code == 200


# --- images (section 7.10) ---


def _picture(fmt: str, size: tuple[int, int] = (8, 6)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, fmt)
    return out.getvalue()


def _upload(shop: CatalogShop, path: str, data: bytes, name: str = "image"):  # type: ignore[no-untyped-def]
    return shop.client.post(f"/api/images/products/{path}", files={name: ("p", data)})


def test_the_first_upload_is_the_cover_and_webp_is_accepted(shop: CatalogShop) -> None:
    product = shop.simple_product()
    first = _upload(shop, str(product), _picture("PNG"))
    second = _upload(shop, str(product), _picture("WEBP"))
    assert (first.status_code, text(first, "cover")) == (200, "1")
    assert (second.status_code, text(second, "cover")) == (200, "")
    image = int(text(first, "id"))
    assert shop.one("products", product, "id_default_image") == {
        "id_default_image": image
    }
    assert shop.client.get(f"/api/images/products/{product}/{image}").content[:4] == (
        b"\x89PNG"
    )


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (b"just text", "image", 76),
        (b"\xff\xd8" + b"0" * 2_000_001, "image", 72),
        (_picture("JPEG"), "picture", 76),
    ],
    ids=["not-an-image", "too-large", "no-image-part"],
)
def test_refused_uploads(shop: CatalogShop, data: bytes, field: str, code: int) -> None:
    product = shop.simple_product()
    answer = _upload(shop, str(product), data, field)
    assert (answer.status_code, error_codes(answer)) == (400, [code])


def test_replacing_an_image_needs_ps_method_put_and_answers_jpeg(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    image = text(_upload(shop, str(product), _picture("PNG")), "id")
    plain = _upload(shop, f"{product}/{image}", _picture("PNG"))
    replaced = shop.client.post(
        f"/api/images/products/{product}/{image}?ps_method=PUT",
        files={"image": ("p", _picture("GIF"))},
    )
    assert error_codes(plain) == [65]
    assert replaced.headers["content-type"] == "image/jpeg"
    assert replaced.content[:2] == b"\xff\xd8"


def test_patching_id_default_image_moves_the_cover_and_delete_removes(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product()
    first = text(_upload(shop, str(product), _picture("PNG")), "id")
    second = text(_upload(shop, str(product), _picture("PNG")), "id")
    _patch(shop, "products", product, f"<id_default_image>{second}</id_default_image>")
    cover = shop.one("products", product, "id_default_image")["id_default_image"]
    deleted = shop.client.delete(f"/api/images/products/{product}/{first}")
    listing = shop.get(f"images/products/{product}")
    assert cover == int(second)
    assert deleted.status_code == 200
    assert [d.get("id") for d in entity(listing)] == [second]


def test_a_product_without_images_is_an_empty_404(shop: CatalogShop) -> None:
    product = shop.simple_product()
    answer = shop.get(f"images/products/{product}")
    assert answer.status_code == 404 and answer.content == b""
    unknown = _upload(shop, "999999", _picture("PNG"))
    assert error_codes(unknown) == [76]


def test_categories_list_their_products_and_count_the_whole_subtree(
    shop: CatalogShop,
) -> None:
    placed = "<associations><categories><category><id>2</id></category><category>"
    placed += "<id>3</id></category></categories></associations>"
    product = shop.simple_product(extra=placed)
    shop.simple_product()
    assert association_ids(shop.get("categories/3"), "products") == [product]
    assert shop.one("categories", 1, "nb_products_recursive") == {
        "nb_products_recursive": 1
    }


def test_price_aliases_compute_the_price_a_customer_pays(shop: CatalogShop) -> None:
    """Section 7.9: tax, combination impact and specific prices."""
    product = shop.simple_product(price="10")
    shop.send("POST", "specific_prices", _specific_price(product, "0.2"))
    query = (
        "price[ttc][use_tax]=1&price[ht][use_tax]=0&price[full][use_reduction]=0"
        "&price[off][only_reduction]=1"
    )
    prices = entity(shop.get(f"products/{product}?{query}"))
    listed = shop.get(f"products/{product}?display=[id,price]&{query}")
    assert [prices.findtext(alias) for alias in ("ttc", "ht", "full", "off")] == [
        "9.600000",
        "8.000000",
        "12.000000",
        "2.400000",
    ]
    assert entity(listed).find("ttc") is None


def test_price_aliases_need_the_combination_of_a_product_that_has_some(
    shop: CatalogShop,
) -> None:
    product = shop.simple_product(price="10")
    combination = shop.combination(product, "A", "<price>1.5</price>")
    plain = entity(shop.get(f"products/{product}?price[p][use_tax]=1"))
    chosen = entity(
        shop.get(f"products/{product}?price[p][product_attribute]={combination}")
    )
    assert plain.findtext("p") == "0.000000"
    assert chosen.findtext("p") == "13.800000"


def test_an_empty_element_stores_zero_where_absence_stores_null(
    shop: CatalogShop,
) -> None:
    """Section 7.2: a GET-then-PUT round trip turns a NULL threshold into 0."""
    product = shop.simple_product()
    combination = shop.combination(product, "A")
    before = shop.one("combinations", combination, "low_stock_threshold")
    shop.send(
        "PUT",
        f"combinations/{combination}",
        f"<combination><id>{combination}</id><id_product>{product}</id_product>"
        "<minimal_quantity>1</minimal_quantity>"
        "<low_stock_threshold></low_stock_threshold></combination>",
    )
    after = shop.one("combinations", combination, "low_stock_threshold")
    assert before == {"low_stock_threshold": None}
    assert after == {"low_stock_threshold": 0}


@pytest.mark.parametrize(("position", "code"), [("-1", 134), ("5", 135)])
def test_position_in_category_outside_the_category_is_a_500(
    shop: CatalogShop, position: str, code: int
) -> None:
    product = shop.simple_product()
    shop.simple_product()
    answer = _patch(
        shop,
        "products",
        product,
        f"<position_in_category>{position}</position_in_category>",
    )
    inside = _patch(
        shop, "products", product, "<position_in_category>1</position_in_category>"
    )
    assert (answer.status_code, error_codes(answer)) == (500, [code])
    assert inside.status_code == 200


def test_the_type_setter_toggles_the_virtual_flag(shop: CatalogShop) -> None:
    product = shop.simple_product()
    _patch(shop, "products", product, "<type>virtual</type>")
    assert shop.one("products", product, "type,is_virtual") == {
        "type": "virtual",
        "is_virtual": "1",
    }


def test_deleting_a_product_deletes_its_custom_feature_values_for_everyone(
    shop: CatalogShop,
) -> None:
    """Pitfall B5."""
    feature = shop.create(
        "product_features",
        '<product_feature><name><language id="1">Care</language></name>'
        "</product_feature>",
    )
    custom = shop.create(
        "product_feature_values",
        f"<product_feature_value><id_feature>{feature}</id_feature><custom>1"
        '</custom><value><language id="1">Hand wash</language></value>'
        "</product_feature_value>",
    )
    link = (
        "<associations><product_features><product_feature>"
        f"<id>{feature}</id><id_feature_value>{custom}</id_feature_value>"
        "</product_feature></product_features></associations>"
    )
    first, second = shop.simple_product(extra=link), shop.simple_product(extra=link)
    shop.client.delete(f"/api/products/{first}")
    assert shop.get(f"product_feature_values/{custom}").status_code == 404
    assert association_ids(shop.get(f"products/{second}"), "product_features") == []


def test_manufacturer_slug_is_derived_and_read_only(shop: CatalogShop) -> None:
    created = shop.send(
        "POST", "manufacturers", "<manufacturer><name>Été Nord</name></manufacturer>"
    )
    brand = shop.created_id(created)
    refused = _patch(shop, "manufacturers", brand, "<link_rewrite>x</link_rewrite>")
    assert text(created, "link_rewrite") == "ete-nord"
    assert (refused.status_code, error_codes(refused)) == (400, [93])


def test_bin_reads_the_cover_image(shop: CatalogShop) -> None:
    product = shop.simple_product()
    _upload(shop, str(product), _picture("PNG"))
    _upload(shop, str(product), _picture("JPEG"))
    cover = shop.client.get(f"/api/images/products/{product}/bin")
    assert (cover.status_code, cover.content[:4]) == (200, b"\x89PNG")
