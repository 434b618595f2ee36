"""Protocol conformance of the emulator: auth, methods, envelopes, versions.

Section numbers refer to the webservice reference (design/prestashop-webservice.md),
pitfall ids to design/prestashop-pitfalls.md.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from polaris_sync.sandbox.http import BackgroundServer
from polaris_sync.sandbox.prestashop import create_app

from .catalog_shop import CatalogShop, entity, error_codes
from .order_shop import KEY


@pytest.fixture
def shop(tmp_path: Path) -> CatalogShop:
    return CatalogShop(tmp_path / "shop.db")


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    with BackgroundServer(create_app(tmp_path / "live.db", api_key=KEY)) as running:
        yield running


# --- authentication (section 1.2) ---


def test_no_key_is_a_plain_text_401_over_real_http(server: BackgroundServer) -> None:
    answer = httpx.get(f"{server.url}/api/products")
    assert answer.status_code == 401
    assert answer.text == "401 Unauthorized"
    assert answer.headers["www-authenticate"].startswith("Basic realm=")
    assert "psws-version" not in answer.headers


def test_ws_key_query_parameter_authenticates_over_real_http(
    server: BackgroundServer,
) -> None:
    answer = httpx.get(f"{server.url}/api/languages?ws_key={KEY}")
    assert answer.status_code == 200
    assert answer.headers["psws-version"] == "8.1.2"


def test_basic_auth_wins_over_ws_key(shop: CatalogShop) -> None:
    answer = shop.client.get(f"/api/languages?ws_key={KEY}", auth=("ABC", ""))
    assert answer.status_code == 401
    assert error_codes(answer) == [18]
    assert answer.headers["psws-version"] == "0"


def test_unknown_key_of_the_right_length_gets_codes_20_and_21(
    shop: CatalogShop,
) -> None:
    answer = shop.client.get("/api/languages", auth=("X" * 32, ""))
    assert (answer.status_code, error_codes(answer)) == (401, [20, 21])


def test_empty_ws_key_is_code_17(shop: CatalogShop) -> None:
    answer = shop.client.get("/api/languages?ws_key=", auth=None)
    assert error_codes(answer) == [17]


def test_key_errors_follow_output_format(shop: CatalogShop) -> None:
    answer = shop.client.get("/api/languages?output_format=JSON", auth=("ABC", ""))
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "errors": [{"code": 18, "message": "Invalid authentication key format"}]
    }


# --- methods and routing (sections 1.1, 1.3) ---


def test_unknown_method_is_405_code_23(shop: CatalogShop) -> None:
    answer = shop.client.request("FOO", "/api/languages/1")
    assert (answer.status_code, error_codes(answer)) == (405, [23])


def test_stock_availables_refuse_post_and_delete_with_code_101(
    shop: CatalogShop,
) -> None:
    posted = shop.send("POST", "stock_availables", "<stock_available/>")
    deleted = shop.client.delete("/api/stock_availables/1")
    assert (posted.status_code, error_codes(posted)) == (405, [101])
    assert (deleted.status_code, error_codes(deleted)) == (405, [101])


def test_unknown_resource_is_400_code_27_with_a_suggestion(shop: CatalogShop) -> None:
    answer = shop.get("prodcts")
    assert (answer.status_code, error_codes(answer)) == (400, [27])
    assert 'Did you mean: "products"' in answer.text


def test_writes_to_the_root_change_nothing_and_fail(shop: CatalogShop) -> None:
    """Pitfall H9: a lost resource segment must not look like a success."""
    posted = shop.send("POST", "", "<product><price>1</price></product>")
    put = shop.send("PUT", "", "<product><price>1</price></product>")
    assert posted.status_code == 500 and posted.content == b""
    assert (put.status_code, error_codes(put)) == (400, [90])


def test_root_listing_in_json_is_an_empty_500(shop: CatalogShop) -> None:
    answer = shop.get("?output_format=JSON")
    assert answer.status_code == 500 and answer.content == b""


def test_root_listing_grants_patch_on_8x_only(tmp_path: Path) -> None:
    listing_8 = CatalogShop(tmp_path / "a.db").get("").text
    listing_17 = CatalogShop(tmp_path / "b.db", version="1.7.8.11").get("").text
    assert 'patch="true"' in listing_8
    assert "patch=" not in listing_17


def test_patch_on_1_7_is_405_code_23(tmp_path: Path) -> None:
    shop = CatalogShop(tmp_path / "a.db", version="1.7.8.11")
    answer = shop.send("PATCH", "products/1", "<product><id>1</id></product>")
    assert (answer.status_code, error_codes(answer)) == (405, [23])
    assert answer.headers["psws-version"] == "1.7.8.11"


def test_9x_accepts_a_14_digit_gtin_that_8x_refuses(tmp_path: Path) -> None:
    """Pitfall F3."""
    shop_8 = CatalogShop(tmp_path / "a.db")
    shop_9 = CatalogShop(tmp_path / "b.db", version="9.0.1")
    gtin = "<ean13>12345678901234</ean13>"
    refused = shop_8.send(
        "POST",
        "products",
        f"<product><price>1</price>{gtin}"
        "<name><language id='1'>A</language></name></product>",
    )
    assert (refused.status_code, error_codes(refused)) == (400, [85])
    product = shop_9.simple_product(extra=gtin)
    assert shop_9.one("products", product, "id,ean13")["ean13"] == "12345678901234"


def test_ps_method_rewrites_a_post(shop: CatalogShop) -> None:
    product = shop.simple_product()
    answer = shop.client.post(f"/api/products/{product}?ps_method=DELETE")
    assert answer.status_code == 200
    assert shop.get(f"products/{product}").status_code == 404


def test_head_answers_like_get_without_a_body_over_real_http(
    server: BackgroundServer,
) -> None:
    answer = httpx.head(f"{server.url}/api/languages/1", auth=(KEY, ""))
    missing = httpx.head(f"{server.url}/api/languages/99", auth=(KEY, ""))
    assert (answer.status_code, answer.content) == (200, b"")
    assert answer.headers["content-type"] == "text/xml;charset=utf-8"
    assert missing.status_code == 404


# --- bodies (section 1.4, pitfalls H1, H2, H8) ---


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"product": {"price": "1"}}',
        b"xml=%3Cprestashop%3E%3Cproduct%3E%3C%2Fproduct%3E%3C%2Fprestashop%3E",
    ],
    ids=["empty", "json", "form-encoded"],
)
def test_bodies_that_are_not_raw_xml_are_500_code_127(
    shop: CatalogShop, body: bytes
) -> None:
    answer = shop.client.post("/api/products", content=body)
    assert answer.status_code == 500
    assert error_codes(answer)[-1] == 127
    assert f"XML length : {len(body.removeprefix(b'xml='))}" in answer.text


def test_raw_xml_after_an_xml_prefix_is_accepted(shop: CatalogShop) -> None:
    body = (
        "xml=<prestashop><manufacturer><name>Prefixed</name><active>1</active>"
        "</manufacturer></prestashop>"
    )
    answer = shop.client.post("/api/manufacturers", content=body.encode())
    assert answer.status_code == 201


# --- headers (section 2.1) ---


def test_local_content_sha1_of_an_unchanged_answer_gives_304(shop: CatalogShop) -> None:
    first = shop.get("languages?display=full")
    again = shop.client.get(
        "/api/languages?display=full",
        headers={"Local-Content-Sha1": first.headers["content-sha1"]},
    )
    assert again.status_code == 304 and again.content == b""


def test_empty_404_carries_no_content_type(shop: CatalogShop) -> None:
    answer = shop.get("products/999999")
    assert answer.status_code == 404 and answer.content == b""
    assert "content-type" not in answer.headers
    assert answer.headers["psws-version"] == "8.1.2"


# --- schemas (section 2.4) ---


def test_blank_schema_hides_read_only_fields(shop: CatalogShop) -> None:
    blank = entity(shop.get("products?schema=blank"))
    synopsis = entity(shop.get("products?schema=synopsis"))
    assert blank.find("manufacturer_name") is None
    quantity = synopsis.find("quantity")
    assert quantity is not None and quantity.get("readOnly") == "true"
    price = synopsis.find("price")
    assert price is not None and price.get("required") == "true"


def test_unknown_schema_is_500_code_28_with_php_warnings(shop: CatalogShop) -> None:
    answer = shop.get("products?schema=full")
    assert answer.status_code == 500
    assert error_codes(answer) == [28, 3, 3, 3, 3]


# --- sandbox admin API ---


def test_request_counts_per_method_and_resource(shop: CatalogShop) -> None:
    shop.get("languages")
    shop.get("languages/1")
    shop.send(
        "POST", "manufacturers", "<manufacturer><name>Counted</name></manufacturer>"
    )
    counts = shop.client.get("/_sandbox/requests").json()
    assert counts["counts"] == {"GET languages": 2, "POST manufacturers": 1}
    assert counts["total"] == 3
    shop.client.post("/_sandbox/requests/reset")
    assert shop.client.get("/_sandbox/requests").json()["total"] == 0


def test_error_fault_answers_500_html_before_the_write(shop: CatalogShop) -> None:
    shop.client.put("/_sandbox/faults", json={"error_rate": 1.0, "seed": 1})
    answer = shop.send(
        "POST", "manufacturers", "<manufacturer><name>Lost</name></manufacturer>"
    )
    shop.client.delete("/_sandbox/faults")
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("text/html")
    assert shop.json("manufacturers?filter[name]=[Lost]") == []


def test_error_after_write_fault_answers_500_once_the_write_landed(
    shop: CatalogShop,
) -> None:
    shop.client.put(
        "/_sandbox/faults", json={"error_rate": 1.0, "error_after_write": True}
    )
    answer = shop.send(
        "POST", "manufacturers", "<manufacturer><name>Landed</name></manufacturer>"
    )
    read = shop.get("languages")
    shop.client.delete("/_sandbox/faults")
    assert answer.status_code == 500
    assert read.status_code == 500
    assert len(shop.json("manufacturers?filter[name]=[Landed]")["manufacturers"]) == 1


def test_latency_and_timeout_faults_over_real_http(server: BackgroundServer) -> None:
    admin = f"{server.url}/_sandbox/faults"
    httpx.put(admin, json={"latency_ms": 150})
    started = time.monotonic()
    slow = httpx.get(f"{server.url}/api/languages", auth=(KEY, ""))
    elapsed = time.monotonic() - started
    httpx.put(admin, json={"timeout_rate": 1.0})
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{server.url}/api/languages", auth=(KEY, ""), timeout=0.5)
    httpx.delete(admin)
    assert slow.status_code == 200 and elapsed >= 0.15
    assert httpx.get(f"{server.url}/api/languages", auth=(KEY, "")).status_code == 200


def test_timeout_after_write_fault_hangs_once_the_write_landed(
    server: BackgroundServer,
) -> None:
    admin = f"{server.url}/_sandbox/faults"
    httpx.put(admin, json={"timeout_rate": 1.0, "timeout_after_write": True})
    body = "<prestashop><manufacturer><name>Late</name></manufacturer></prestashop>"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{server.url}/api/manufacturers", content=body, auth=(KEY, ""), timeout=0.5
        )
    with pytest.raises(httpx.ReadTimeout):  # reads hang before the work
        httpx.get(f"{server.url}/api/languages", auth=(KEY, ""), timeout=0.5)
    httpx.delete(admin)
    found = httpx.get(
        f"{server.url}/api/manufacturers",
        params={"filter[name]": "[Late]", "output_format": "JSON"},
        auth=(KEY, ""),
    )
    assert len(found.json()["manufacturers"]) == 1


@pytest.mark.parametrize(
    "settings",
    [{"latency_ms": "slow"}, {"error_rate": 1.5}, {"latency": 10}],
    ids=["not-a-number", "rate-above-one", "unknown-key"],
)
def test_bad_fault_settings_are_refused(shop: CatalogShop, settings: dict) -> None:
    answer = shop.client.put("/_sandbox/faults", json=settings)
    assert answer.status_code == 400
    assert shop.client.get("/_sandbox/faults").json()["error_rate"] == 0.0


def test_notice_fault_prefixes_answers_with_php_noise(shop: CatalogShop) -> None:
    """Pitfall L2."""
    shop.client.put("/_sandbox/faults", json={"notice_rate": 1.0})
    noisy = shop.get("languages/1")
    missing = shop.get("languages/99")
    shop.client.delete("/_sandbox/faults")
    assert noisy.headers["content-type"] == "application/javascript"
    assert noisy.text.startswith("<br />\n<b>Notice</b>")
    assert '<?xml version="1.0"' in noisy.text
    assert missing.status_code == 404 and missing.content == b""


def test_an_unknown_shop_is_redirected_to_the_front_office(shop: CatalogShop) -> None:
    """Section 3.5: a single-shop 8.1.2 answers 302 for id_shop it lacks."""
    unknown = shop.client.get("/api/products?id_shop=7", follow_redirects=False)
    known = shop.get("products?id_shop=1")
    every = shop.get("products?id_shop=all")
    assert unknown.status_code == 302
    assert unknown.headers["location"] == "/?url=products&id_shop=7"
    assert unknown.content == b""
    assert (known.status_code, every.status_code) == (200, 200)


def test_a_disabled_webservice_answers_503_code_22(shop: CatalogShop) -> None:
    setting = shop.json("configurations?filter[name]=[PS_WEBSERVICE]&display=[id]")
    row = setting["configurations"][0]["id"]
    shop.send(
        "PATCH",
        f"configurations/{row}",
        f"<configuration><id>{row}</id><value>0</value></configuration>",
    )
    answer = shop.get("languages")
    assert (answer.status_code, error_codes(answer)) == (503, [22])


def test_unsorted_lists_can_be_shuffled_to_catch_order_assumptions(
    shop: CatalogShop,
) -> None:
    products = [shop.simple_product() for _ in range(12)]
    shop.client.put("/_sandbox/faults", json={"shuffle_unsorted": True, "seed": 3})
    unsorted = [p["id"] for p in shop.json("products")["products"]]
    ordered = [p["id"] for p in shop.json("products?sort=[id_ASC]")["products"]]
    shop.client.delete("/_sandbox/faults")
    assert sorted(unsorted) == products and unsorted != products
    assert ordered == products
    assert [p["id"] for p in shop.json("products")["products"]] == products


def test_the_admin_api_answers_loopback_peers_only(tmp_path: Path) -> None:
    app = create_app(tmp_path / "far.db", api_key=KEY)
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 5000))
    near = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))

    async def status(chosen: httpx.ASGITransport) -> int:
        async with httpx.AsyncClient(transport=chosen, base_url="http://t") as client:
            return (await client.get("/_sandbox/requests")).status_code

    assert asyncio.run(status(transport)) == 403
    assert asyncio.run(status(near)) == 200


def test_1_7_products_have_no_product_type(tmp_path: Path) -> None:
    old = CatalogShop(tmp_path / "old.db", version="1.7.8.11")
    blank = entity(old.get("products?schema=blank"))
    combination = entity(old.get("combinations?schema=blank"))
    assert blank.find("product_type") is None
    assert combination.find("location") is not None
    assert combination.find("available_now") is None


def test_a_key_without_patch_rights_sees_it_in_the_listing_and_gets_405_code_25(
    shop: CatalogShop,
) -> None:
    """Pitfall A3: keys created before an upgrade to 8.0 lack PATCH."""
    product = shop.simple_product()
    everything_but_patch = ["GET", "HEAD", "POST", "PUT", "DELETE"]
    granted = shop.client.put(
        "/_sandbox/permissions", json={"*": everything_but_patch, "languages": ["GET"]}
    )
    listing = entity(shop.get(""))
    patched = shop.send(
        "PATCH", f"products/{product}", f"<product><id>{product}</id></product>"
    )
    shop.client.delete("/_sandbox/permissions")
    products = listing.find("products")
    languages = listing.find("languages")
    assert granted.status_code == 200
    assert products is not None and products.get("patch") == "false"
    assert products.get("put") == "true"
    assert languages is not None and languages.get("post") == "false"
    assert (patched.status_code, error_codes(patched)) == (405, [25])


def test_a_resource_the_key_may_not_touch_is_401_code_26(shop: CatalogShop) -> None:
    shop.client.put("/_sandbox/permissions", json={"languages": ["GET"]})
    refused = shop.get("products")
    allowed = shop.get("languages")
    listing = entity(shop.get(""))
    shop.client.delete("/_sandbox/permissions")
    assert (refused.status_code, error_codes(refused)) == (401, [26])
    assert allowed.status_code == 200
    assert [child.tag for child in listing] == ["languages"]
    assert shop.get("products").status_code == 200


def test_permissions_with_unknown_methods_are_refused(shop: CatalogShop) -> None:
    answer = shop.client.put("/_sandbox/permissions", json={"products": ["FETCH"]})
    assert answer.status_code == 400
    assert shop.client.get("/_sandbox/permissions").json() == {
        "*": ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]
    }


def test_paths_outside_the_api_are_not_found(shop: CatalogShop) -> None:
    assert shop.client.get("/index.php").status_code == 404
    assert shop.client.get("/apix/products").status_code == 404
    assert shop.client.get("/api").status_code == 200
