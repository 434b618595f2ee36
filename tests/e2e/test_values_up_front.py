"""Sizes, colours and features new products need are created before them."""

from __future__ import annotations

from collections import Counter

import httpx

from e2e.sandbox import Sandbox

VALUE_KINDS = ("product_option_values", "product_features", "product_feature_values")


def posts(sandbox: Sandbox) -> list[str]:
    return [
        request.url.path.removeprefix("/api/")
        for request in sandbox.shop_writes()
        if request.method == "POST"
    ]


def test_new_values_are_all_created_before_the_first_product(sandbox):
    sandbox.run(["catalogue"])

    kinds = posts(sandbox)
    first_product = kinds.index("products")
    assert Counter(kinds[:first_product]).keys() == set(VALUE_KINDS)
    assert not set(kinds[first_product:]) & set(VALUE_KINDS)
    # Each value once, and every size of every product uses them.
    names = Counter(
        (value["id_attribute_group"], value["name"][1])
        for value in sandbox.read_shop("product_option_values")
    )
    assert max(names.values()) == 1
    assert len(sandbox.read_shop("combinations")) > len(names)


def test_a_value_the_shop_fails_to_create_fails_only_the_items_using_it(sandbox):
    def fail_one_size(request: httpx.Request) -> str | None:
        if (request.method, request.url.path) == ("POST", "/api/product_option_values"):
            if b'<language id="1">M</language>' in request.content:
                return "before"
        return None

    sandbox.fault = fail_one_size
    results = sandbox.run(["catalogue"])

    catalogue = results["catalogue"]
    assert catalogue.counts["failed"] >= 1
    assert all("PrestaShop failed" in error for error in catalogue.errors)
    assert catalogue.counts["created"] > catalogue.counts["failed"]

    # Tried once up front; the items needing it fail without asking again.
    attempts = [
        request
        for request in sandbox.shop_writes()
        if request.url.path == "/api/product_option_values"
        and fail_one_size(request)
    ]
    assert len(attempts) == 1

    sandbox.fault = None
    results = sandbox.run(["catalogue"])
    assert not results["catalogue"].errors
    assert "M" in {
        value["name"][1] for value in sandbox.read_shop("product_option_values")
    }
