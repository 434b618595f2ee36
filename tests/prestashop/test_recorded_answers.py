"""The client reading answers a real PrestaShop 8.1.2 gave (shared corpus).

Each test serves one recorded answer, whatever the request, and checks what
the client makes of it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from polaris_sync.errors import AuthError, ItemRejected, TransientError
from polaris_sync.prestashop.client import PrestaShopClient

CORPUS = "data/prestashop-8.1.2-exchanges"


@pytest.fixture
def recorded(shared_dir: Path):
    def load(scenario: str, step: int) -> dict[str, Any]:
        path = shared_dir / CORPUS / f"{scenario}.jsonl"
        if not path.exists():
            # The corpus lies beside the repository (CI has it); a clone
            # without it cannot run these, and says so.
            pytest.skip(f"recorded exchanges not found at {path}")
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["step"] == step:
                return record["response"]
        raise KeyError((scenario, step))

    return load


def answering(response: dict[str, Any]) -> PrestaShopClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            response["status"],
            text=response.get("body") or "",
            headers=response.get("headers") or {},
        )

    return PrestaShopClient(
        "http://shop.test/api",
        "K" * 32,
        max_requests_per_second=0,
        retry_delay=0,
        transport=httpx.MockTransport(handler),
    )


def call(client: PrestaShopClient, method: str, *args: Any, **kwargs: Any) -> Any:
    async def go() -> Any:
        async with client:
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(go())


def test_a_full_json_list_with_languages_as_mappings(recorded):
    rows = call(answering(recorded("15-display-format", 4)), "list", "products")
    assert [row["reference"] for row in rows] == ["XCH-15-P1", "XCH-15-P2"]
    assert rows[0]["name"] == {1: "XCH-15 Desk", 2: "XCH-15 Bureau"}
    assert rows[0]["associations"]["categories"] == [{"id": 2}]


@pytest.mark.parametrize("step", [13, 14])
def test_an_empty_list_answered_as_a_bare_array(recorded, step):
    assert (
        call(answering(recorded("15-display-format", step)), "list", "products") == []
    )


def test_a_single_object_with_empty_fields_left_out(recorded):
    product = call(answering(recorded("15-display-format", 11)), "get", "products", 40)
    assert product["id"] == 40 and product["state"] == 1
    assert "ean13" not in product


def test_a_single_object_under_the_plural_key_when_display_is_given(recorded):
    product = call(answering(recorded("06-images", 21)), "get", "products", 21)
    assert product == {"id": 21, "id_default_image": 25}


def test_a_missing_object_is_none(recorded):
    assert call(answering(recorded("06-images", 2)), "get", "products", 5) is None


def test_a_validation_refusal_carries_its_code_and_readable_message(recorded):
    with pytest.raises(ItemRejected) as refused:
        call(
            answering(recorded("10-validation", 3)), "create", "products", {"price": 1}
        )
    assert refused.value.status == 400 and refused.value.codes == (85,)
    assert "Product->ean13" in str(refused.value)


def test_a_bad_filter_500_names_the_business_error_not_the_php_warnings(recorded):
    with pytest.raises(TransientError) as failed:
        call(answering(recorded("16-date-filters", 3)), "list", "products")
    assert "This filter does not exist" in str(failed.value)
    assert "codes [32, 3" in str(failed.value)


def test_duplicate_specific_price_empty_500_is_transient(recorded):
    with pytest.raises(TransientError):
        call(answering(recorded("05-sync-flow", 23)), "create", "specific_prices", {})


@pytest.mark.parametrize(("scenario", "step"), [("01-auth", 2), ("01-auth", 10)])
def test_refused_keys_are_auth_errors(recorded, scenario, step):
    with pytest.raises(AuthError):
        call(answering(recorded(scenario, step)), "list", "languages")


def test_a_recorded_creation_answer_is_the_created_object(recorded):
    combination = call(
        answering(recorded("05-sync-flow", 11)),
        "create",
        "combinations",
        {"id_product": 1},
    )
    assert combination["id"] == "40" and combination["reference"] == "XCH-05-P1-RS"
    assert combination["associations"]["product_option_values"] == [
        {"id": "26"},
        {"id": "28"},
    ]


def test_a_recorded_image_upload_answer_gives_the_image_id(recorded):
    image_id = call(
        answering(recorded("06-images", 3)),
        "upload_image",
        21,
        b"\x89PNG",
        "a.png",
        "image/png",
    )
    assert image_id == 24


def test_the_recorded_resource_list_gives_version_and_patch_rights(recorded):
    client = answering(recorded("02-root-and-methods", 1))
    assert call(client, "detect") == "8.1.2"
    assert client.supports_patch
