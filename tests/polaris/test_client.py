"""The WebConnect client against a fake transport: paging, errors, secrets."""

import json
from decimal import Decimal

import httpx
import pytest

from polaris_sync.errors import (
    AssociationError,
    ItemRejected,
    RemoteError,
    TransientError,
)
from polaris_sync.polaris.client import PolarisClient, SaleAlreadyExists

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1:9/api/WebConnect"
KEY = "key-that-must-stay-secret"


def item(model_no, colour="NOIR", **extra):
    return {
        "NoModele": model_no,
        "Libelle": f"Model {model_no}",
        "PrixTTC": 49.9,
        "PrixNormalTTC": 59.9,
        "Niveau1": {"Code": colour, "Nom": colour.title()},
        "Tailles": [
            {
                "Taille": "M",
                "Refs": ["3600000000016", "REF-M"],
                "Magasins": [
                    {"CodeMagasin": 1, "Dispo": 2},
                    {"CodeMagasin": 2, "Dispo": 5},
                ],
            }
        ],
        **extra,
    }


def client_for(handler, **options) -> PolarisClient:
    return PolarisClient(
        BASE,
        KEY,
        transport=httpx.MockTransport(handler),
        retry_delays=(0, 0),
        **options,
    )


async def test_pages_follow_the_cursor_and_send_the_filter_E12():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-API-Key"] == KEY
        assert request.url.path == "/api/WebConnect/Catalog/Produits"
        pager = json.loads(request.url.params["pager"])
        seen.append((json.loads(request.url.params["filtreProduit"]), pager))
        if pager["From"] == "":
            return httpx.Response(
                200, json={"Items": [item(1), item(2)], "PagerNext": {"From": "c2"}}
            )
        return httpx.Response(200, json={"Items": [item(3)]})

    async with client_for(handler) as client:
        pages = [
            page
            async for page in client.iter_product_pages(
                "2026-12-01T08:00:00", page_size=2
            )
        ]

    assert [[i.model_no for i in page.items] for page in pages] == [[1, 2], [3]]
    assert [page.next_cursor for page in pages] == ["c2", None]
    assert seen[0] == (
        {"DerniereDateChangement": "2026-12-01T08:00:00"},
        {"TI": True, "Nb": 2, "From": ""},
    )
    assert seen[1][1]["From"] == "c2"


async def test_items_parse_into_typed_fields_D3():
    def handler(request):
        return httpx.Response(200, json={"Items": [item(7)]})

    async with client_for(handler) as client:
        [page] = [page async for page in client.iter_product_pages(None)]

    [parsed] = page.items
    assert parsed.key == "7/NOIR"
    assert parsed.price == Decimal("49.9") and parsed.on_sale
    [size] = parsed.sizes
    assert size.ean13 == "3600000000016"
    assert size.stock() == 7
    assert size.stock([2]) == 5


async def test_an_item_that_does_not_parse_is_set_aside_with_the_reason():
    broken = {"NoModele": 9, "Niveau1": {"Code": "BLEU"}}  # no price

    def handler(request):
        return httpx.Response(200, json={"Items": [item(8), broken]})

    async with client_for(handler) as client:
        [page] = [page async for page in client.iter_product_pages(None)]

    assert [i.model_no for i in page.items] == [8]
    [(key, reason)] = page.rejected
    assert key == "9/BLEU" and "PrixTTC" in reason


async def test_refused_key_says_associate_again_A2():
    def handler(request):
        return httpx.Response(401, json={"Message": "Cle inconnue"})

    async with client_for(handler) as client:
        with pytest.raises(AssociationError, match="associate again") as error:
            await client.get_config("Magasins")
    assert KEY not in str(error.value)


async def test_test_access_on_production_base_is_an_association_error_A2():
    def handler(request):
        return httpx.Response(
            403, json={"Message": "Acces de test, base en production"}
        )

    async with client_for(handler) as client:
        with pytest.raises(AssociationError, match="Acces de test"):
            await client.get_config("Magasins")


async def test_reads_are_retried_on_server_errors_then_give_up():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(503, text="busy")
        return httpx.Response(200, json={"Items": [{"CodeMagasin": 1, "Nom": "Paris"}]})

    async with client_for(handler) as client:
        assert await client.get_config("Magasins") == [
            {"CodeMagasin": 1, "Nom": "Paris"}
        ]
    assert len(calls) == 3

    async with client_for(lambda request: httpx.Response(429)) as client:
        with pytest.raises(TransientError, match="HTTP 429"):
            await client.get_config("Magasins")

    async with client_for(lambda request: httpx.Response(500)) as client:
        with pytest.raises(TransientError, match="HTTP 500"):
            await client.get_config("Magasins")


async def test_unreachable_server_is_transient():
    def handler(request):
        raise httpx.ConnectError("connection refused")

    async with client_for(handler) as client:
        with pytest.raises(TransientError, match="cannot reach Polaris"):
            await client.get_config("Magasins")


async def test_sales_are_sent_once_and_a_duplicate_is_recognised_G11():
    calls = []

    def handler(request):
        calls.append(request)
        if request.method == "POST":
            return httpx.Response(409, json={"Message": "RefExt deja utilisee"})
        return httpx.Response(
            200, json={"Items": [{"RefExt": "WEB-12", "Montant": 10}]}
        )

    async with client_for(handler) as client:
        with pytest.raises(SaleAlreadyExists) as error:
            await client.send_sale({"RefExt": "WEB-12"})
        assert error.value.status == 409
        assert await client.find_sale("WEB-12") == {"RefExt": "WEB-12", "Montant": 10}
        assert await client.find_sale("WEB-13") is None

    assert [c.method for c in calls] == ["POST", "GET", "GET"]
    assert json.loads(calls[2].url.params["filtreVente"]) == {"RefExt": "WEB-13"}


async def test_a_failed_sale_post_is_not_retried():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(502)

    async with client_for(handler) as client:
        with pytest.raises(TransientError):
            await client.send_sale({"RefExt": "WEB-1"})
    assert len(calls) == 1


async def test_rejected_payload_carries_the_polaris_message():
    def handler(request):
        return httpx.Response(400, json={"Message": "SKU inconnu"})

    async with client_for(handler) as client:
        with pytest.raises(ItemRejected, match="SKU inconnu"):
            await client.upsert_customer({"RefsExt": ["C1"]})


async def test_answer_without_items_is_a_remote_error():
    async with client_for(lambda r: httpx.Response(200, json={})) as client:
        with pytest.raises(RemoteError, match="without an Items list"):
            await client.get_config("Marques")


async def test_photo_key_goes_to_polaris_only_E9():
    requests = []

    def handler(request):
        requests.append(request)
        return httpx.Response(200, content=b"jpeg-bytes")

    async with client_for(handler) as client:
        assert await client.fetch_photo("Photos/1.jpg") == b"jpeg-bytes"
    assert requests[0].url.path == "/api/WebConnect/Photos/1.jpg"
    assert requests[0].headers["X-API-Key"] == KEY


async def test_no_write_leaves_a_client_whose_writes_are_off():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json={"Items": []})

    async with client_for(handler) as client:
        client.writes_forbidden = True
        with pytest.raises(RuntimeError, match="writes are off"):
            await client.send_sale({"RefExt": "WEB-1"})
        assert await client.find_sale("WEB-1") is None
    assert [c.method for c in calls] == ["GET"]


async def test_a_cursor_that_does_not_move_stops_paging():
    def handler(request):
        return httpx.Response(
            200, json={"Items": [item(1)], "PagerNext": {"From": "c"}}
        )

    async with client_for(handler) as client:
        pages = client.iter_product_pages(None, cursor="c")
        with pytest.raises(RemoteError, match="twice"):
            async for _ in pages:
                pass
