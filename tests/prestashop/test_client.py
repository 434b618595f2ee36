"""The Webservice client against scripted answers (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

import httpx
import pytest

from polaris_sync.errors import (
    AuthError,
    ItemRejected,
    ServerUnreachable,
    TransientError,
)
from polaris_sync.prestashop.client import PrestaShopClient, exact

Handler = Callable[[httpx.Request], httpx.Response]

ROOT_8 = (
    '<?xml version="1.0"?><prestashop><api shopName="t">'
    '<products get="true" put="true" post="true" patch="true" delete="true"/>'
    '<stock_availables get="true" put="true" patch="true"/>'
    "</api></prestashop>"
)


def xml_answer(body: str, status: int = 200, version: str = "8.1.2") -> httpx.Response:
    return httpx.Response(
        status,
        text=f'<?xml version="1.0"?><prestashop>{body}</prestashop>',
        headers={"PSWS-Version": version, "Content-Type": "text/xml"},
    )


def json_answer(document: object, version: str = "8.1.2") -> httpx.Response:
    return httpx.Response(
        200, text=json.dumps(document), headers={"PSWS-Version": version}
    )


def make_client(handler: Handler, **options: object) -> PrestaShopClient:
    options.setdefault("max_requests_per_second", 0)
    options.setdefault("retry_delay", 0)
    return PrestaShopClient(
        "http://shop.test/", "K" * 32, transport=httpx.MockTransport(handler), **options
    )


def run(coroutine):
    return asyncio.run(coroutine)


def test_reads_ask_for_json_with_single_encoded_filters():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_answer({"products": [{"id": 1, "name": [{"id": 1, "value": "A"}]}]})

    async def go():
        async with make_client(handler) as client:
            return await client.list(
                "products", filters={"id": [1, 2]}, sort="[id_ASC]"
            )

    rows = run(go())
    assert rows == [{"id": 1, "name": {1: "A"}}]
    request = seen[0]
    assert request.url.path == "/api/products"
    assert request.url.params["filter[id]"] == "[1|2]"
    assert request.url.params["output_format"] == "JSON"
    assert request.url.params["display"] == "full"
    assert "%255B" not in str(request.url)
    assert request.headers["Authorization"].startswith("Basic ")


def test_empty_list_as_bare_array_and_missing_object():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/9"):
            return httpx.Response(404, headers={"PSWS-Version": "8.1.2"})
        return json_answer([])

    async def go():
        async with make_client(handler) as client:
            return await client.list("products"), await client.get("products", 9)

    assert run(go()) == ([], None)


def test_iter_all_pages_in_id_order_and_stops_on_a_short_page():
    limits: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        limits.append(request.url.params["limit"])
        offset, count = map(int, request.url.params["limit"].split(","))
        ids = [i for i in range(offset, offset + count) if i < 5]
        assert request.url.params["sort"] == "[id_ASC]"
        return json_answer({"combinations": [{"id": i} for i in ids]})

    async def go():
        async with make_client(handler) as client:
            return [
                row["id"] async for row in client.iter_all("combinations", page_size=2)
            ]

    assert run(go()) == [0, 1, 2, 3, 4]
    assert limits == ["0,2", "2,2", "4,2"]


def test_iter_by_ids_batches_the_id_filter():
    filters: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        value = request.url.params["filter[id]"]
        filters.append(value)
        return json_answer(
            {"products": [{"id": int(i)} for i in value[1:-1].split("|")]}
        )

    async def go():
        async with make_client(handler) as client:
            return [
                row["id"] async for row in client.iter_by_ids("products", range(250))
            ]

    assert run(go()) == list(range(250))
    assert len(filters) == 3


def test_find_one_ignores_rows_that_do_not_match_the_filter():
    """Pitfall G1: an unrecognised filter returns the whole table."""

    def handler(request: httpx.Request) -> httpx.Response:
        return json_answer({"products": [{"id": 1, "reference": "OTHER"}]})

    async def go():
        async with make_client(handler) as client:
            return await client.find_one("products", {"reference": exact("A,B|C")})

    assert run(go()) is None


def test_exact_refuses_brackets():
    with pytest.raises(ValueError):
        exact("Measure [mm]")


def test_patch_on_8x_sends_only_the_changed_fields():
    bodies: list[tuple[str, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/":
            return xml_answer(ROOT_8[len('<?xml version="1.0"?><prestashop>') : -13])
        bodies.append((request.method, request.content))
        return xml_answer(
            "<stock_available><id>60</id><quantity>5</quantity></stock_available>"
        )

    async def go():
        async with make_client(handler) as client:
            await client.update("stock_availables", 60, {"quantity": 5})
            return client

    client = run(go())
    assert client.version == "8.1.2" and client.supports_patch
    method, body = bodies[0]
    assert method == "PATCH"
    entity = ET.fromstring(body).find("stock_available")
    assert [child.tag for child in entity] == ["id", "quantity"]


STOCK_ROW_XML = (
    "<stock_available><id><![CDATA[61]]></id><id_product><![CDATA[20]]></id_product>"
    "<id_product_attribute><![CDATA[41]]></id_product_attribute>"
    "<id_shop><![CDATA[1]]></id_shop><id_shop_group><![CDATA[0]]></id_shop_group>"
    "<quantity><![CDATA[0]]></quantity><depends_on_stock><![CDATA[1]]></depends_on_stock>"
    "<out_of_stock><![CDATA[2]]></out_of_stock><location><![CDATA[]]></location>"
    "</stock_available>"
)

PRODUCT_XML = (
    "<product><id>7</id><manufacturer_name>Maker</manufacturer_name>"
    "<quantity>0</quantity><position_in_category>3</position_in_category>"
    "<price>10.000000</price><state>1</state><low_stock_threshold></low_stock_threshold>"
    "<date_add>2026-01-01 00:00:00</date_add>"
    '<name><language id="1">Tee</language><language id="2">Tee FR</language></name>'
    "<associations><combinations><combination><id>1</id></combination></combinations>"
    "<categories><category><id>2</id></category></categories></associations>"
    "</product>"
)


def _root_178(request: httpx.Request) -> httpx.Response | None:
    if request.url.path == "/api/":
        return xml_answer(
            '<api><products get="true" put="true"/></api>', version="1.7.8.11"
        )
    return None


def test_178_stock_update_is_a_full_put_keeping_the_shop_of_the_row():
    """Pitfalls C1/C5 on a shop without PATCH."""
    writes: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if (answer := _root_178(request)) is not None:
            return answer
        if request.method == "GET":
            return xml_answer(STOCK_ROW_XML, version="1.7.8.11")
        writes.append(request)
        return xml_answer(STOCK_ROW_XML, version="1.7.8.11")

    async def go():
        async with make_client(handler) as client:
            await client.update("stock_availables", 61, {"quantity": 7})
            return client

    client = run(go())
    assert not client.supports_patch
    assert writes[0].method == "PUT"
    row = ET.fromstring(writes[0].content).find("stock_available")
    fields = {child.tag: child.text for child in row}
    assert fields["quantity"] == "7"
    assert fields["id_shop"] == "1" and fields["id_shop_group"] == "0"
    assert fields["depends_on_stock"] == "0"
    assert fields["id_product"] == "20" and fields["id_product_attribute"] == "41"


def test_178_product_put_strips_read_only_fields_and_associations():
    """Pitfalls A1/A5/B2: no manufacturer_name, no <combinations>, state kept."""
    writes: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if (answer := _root_178(request)) is not None:
            return answer
        if request.method == "PUT":
            writes.append(request)
        return xml_answer(PRODUCT_XML, version="1.7.8.11")

    async def go():
        async with make_client(handler) as client:
            await client.update("products", 7, {"price": 12.5})

    run(go())
    product = ET.fromstring(writes[0].content).find("product")
    tags = [child.tag for child in product]
    for refused in (
        "manufacturer_name",
        "quantity",
        "position_in_category",
    ):
        assert refused not in tags
    # A PUT without the creation date would reset it to now.
    assert product.findtext("date_add") == "2026-01-01 00:00:00"
    assert "associations" not in tags
    assert "low_stock_threshold" not in tags
    assert product.findtext("price") == "12.5"
    assert product.findtext("state") == "1"
    assert {lang.text for lang in product.find("name")} == {"Tee", "Tee FR"}


def test_answer_for_another_element_is_not_taken_as_success():
    """Pitfall H9: a write that lands on /api/ answers the resource list."""

    def handler(request: httpx.Request) -> httpx.Response:
        return xml_answer('<api shopName="x"><products/></api>')

    async def go():
        async with make_client(handler) as client:
            await client.create("products", {"price": 1})

    with pytest.raises(TransientError):
        run(go())


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            400,
            "<errors><error><code>85</code><message>bad ean</message></error></errors>",
            ItemRejected,
        ),
        (
            401,
            "<errors><error><code>20</code><message>key</message></error></errors>",
            AuthError,
        ),
        (
            405,
            "<errors><error><code>25</code><message>no</message></error></errors>",
            AuthError,
        ),
        (500, "", TransientError),
    ],
)
def test_http_failures_become_the_error_tree(status, body, error):
    def handler(request: httpx.Request) -> httpx.Response:
        if not body:
            return httpx.Response(status)
        return xml_answer(body, status=status)

    async def go():
        async with make_client(handler) as client:
            await client.create("combinations", {"id_product": 1})

    with pytest.raises(error) as raised:
        run(go())
    if error is ItemRejected:
        assert raised.value.codes == (85,)
        assert "bad ean" in str(raised.value)


def test_unreachable_shop_is_its_own_error():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def go():
        async with make_client(handler) as client:
            await client.list("products")

    with pytest.raises(ServerUnreachable):
        run(go())


def test_a_create_that_failed_with_500_is_looked_up_before_retrying():
    """A POST may commit and still answer 500: never create the object twice."""
    posts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            return httpx.Response(500)
        return json_answer({"combinations": [{"id": 41, "reference": "R-1"}]})

    async def go():
        async with make_client(handler) as client:
            return await client.create(
                "combinations",
                {"id_product": 1, "reference": "R-1"},
                lookup={"reference": "R-1"},
            )

    assert run(go())["id"] == 41
    assert len(posts) == 1


def test_a_create_that_did_not_land_is_retried_once():
    posts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            if len(posts) == 1:
                raise httpx.ReadTimeout("slow", request=request)
            return xml_answer("<combination><id>42</id></combination>", status=201)
        return json_answer([])

    async def go():
        async with make_client(handler) as client:
            return await client.create(
                "combinations", {"id_product": 1}, lookup={"reference": "R-2"}
            )

    assert run(go())["id"] == "42"
    assert len(posts) == 2


def test_concurrency_is_bounded_and_requests_are_counted():
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return json_answer({"products": []})

    async def go():
        client = PrestaShopClient(
            "http://shop.test/api",
            "K" * 32,
            max_concurrency=3,
            max_requests_per_second=0,
            transport=httpx.MockTransport(handler),
        )
        async with client:
            await asyncio.gather(*(client.list("products") for _ in range(10)))
            return client

    client = run(go())
    assert peak == 3
    assert client.requests[("GET", "products")] == 10


def test_pacing_spaces_the_starts_of_requests_even_when_concurrent():
    """max_requests_per_second = 20: one start every 50 ms, however concurrent."""
    starts: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        starts.append(time.monotonic())
        return json_answer({"products": []})

    async def go():
        async with make_client(
            handler, max_concurrency=4, max_requests_per_second=20
        ) as client:
            await asyncio.gather(*(client.list("products") for _ in range(6)))

    run(go())
    assert len(starts) == 6
    # Five intervals of 50 ms between the first start and the last; the first
    # request may lose up to 50 ms more than the others on its way out.
    assert starts[-1] - starts[0] >= 0.2


def test_writes_can_be_forbidden_for_a_dry_run():
    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover
        raise AssertionError("no request expected")

    async def go():
        async with make_client(handler) as client:
            client.writes_forbidden = True
            await client.create("products", {"price": 1})

    with pytest.raises(RuntimeError):
        run(go())


def test_image_upload_uses_the_image_field_and_returns_the_id():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return xml_answer(
            "<image><id><![CDATA[24]]></id><id_product>21</id_product></image>"
            '<content encode="base64">AAAA</content>'
        )

    async def go():
        async with make_client(handler) as client:
            return await client.upload_image(21, b"\x89PNG", "a.png", "image/png")

    assert run(go()) == 24
    assert seen[0].url.path == "/api/images/products/21"
    assert b'name="image"; filename="a.png"' in seen[0].content


def test_an_image_upload_that_landed_but_failed_is_found_not_sent_again():
    posts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            return httpx.Response(500)
        return xml_answer(
            '<image id="21"><declination id="24"/><declination id="31"/></image>'
        )

    async def go():
        async with make_client(handler) as client:
            return await client.upload_image(
                21, b"\x89PNG", "a.png", "image/png", known_images={24}
            )

    assert run(go()) == 31
    assert len(posts) == 1


def test_an_image_upload_that_did_not_land_is_sent_once_more():
    posts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            if len(posts) == 1:
                return httpx.Response(500)
            return xml_answer("<image><id>32</id></image>")
        return httpx.Response(404, headers={"PSWS-Version": "8.1.2"})

    async def go():
        async with make_client(handler) as client:
            return await client.upload_image(
                21, b"\x89PNG", "a.png", "image/png", known_images=set()
            )

    assert run(go()) == 32
    assert len(posts) == 2


def test_json_after_a_php_notice_holding_brackets_is_read():
    """Pitfall L2: noise before the document, brackets in the noise."""
    notice = "<b>Warning</b>: Undefined array key [id_shop] in {module} on line 3\n"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            text=notice + json.dumps({"products": [{"id": 7}]}),
            headers={"Content-Type": "application/javascript"},
        )

    async def go():
        async with make_client(handler) as client:
            return await client.list("products")

    assert run(go()) == [{"id": 7}]


@pytest.mark.parametrize(
    "failure",
    [
        lambda request: httpx.ReadTimeout("slow", request=request),
        lambda request: httpx.ReadError("connection reset", request=request),
        lambda request: httpx.Response(503),
    ],
    ids=["timeout", "reset", "5xx"],
)
def test_a_read_that_failed_twice_is_tried_again(failure):
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) <= 2:
            answer = failure(request)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return json_answer({"products": [{"id": 7}]})

    async def go():
        async with make_client(handler) as client:
            return await client.list("products")

    assert run(go()) == [{"id": 7}]
    assert len(attempts) == 3


def test_a_read_gives_up_after_three_attempts():
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        return httpx.Response(500)

    async def go():
        async with make_client(handler) as client:
            await client.get("products", 3)

    with pytest.raises(TransientError):
        run(go())
    assert len(attempts) == 3


def test_a_refused_read_is_not_tried_again():
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        return xml_answer(
            "<errors><error><code>20</code><message>key</message></error></errors>",
            status=401,
        )

    async def go():
        async with make_client(handler) as client:
            await client.list("products")

    with pytest.raises(AuthError):
        run(go())
    assert len(attempts) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_a_write_that_timed_out_is_not_resent_blindly(method):
    """Writes keep their own check-before-retry: no lookup, no second send."""
    writes: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, text=ROOT_8, headers={"PSWS-Version": "8.1.2"})
        writes.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    async def go():
        async with make_client(handler) as client:
            if method == "POST":
                await client.create("products", {"price": 1})
            elif method == "PATCH":
                await client.update("products", 5, {"price": 1})
            else:
                await client.delete("products", 5)

    with pytest.raises(TransientError):
        run(go())
    # An update is a full write of the same fields: it is repeated once.
    assert len(writes) == (2 if method == "PATCH" else 1)
