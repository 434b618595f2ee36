"""The replayer itself: it must accept the real shop's answers and catch changes.

A fake shop (httpx.MockTransport) answers each step with what the real shop
recorded; the replayer must pass all of it. Then single values are altered and
the replayer must notice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import shared_path

from polaris_sync.sandbox.prestashop.replay import (
    Bindings,
    Comparer,
    Replayer,
    compare_json,
    compare_xml,
    load_steps,
    report,
)

EXCHANGES = shared_path() / "data" / "prestashop-8.1.2-exchanges"
KEY = "K" * 32
MAGIC = {
    "png": b"\x89PNG\r\n\x1a\n",
    "jpeg": b"\xff\xd8\xff\xe0",
    "gif": b"GIF89a",
    "webp": b"RIFF\x00\x00\x00\x00WEBP",
}

needs_exchanges = pytest.mark.skipif(
    not EXCHANGES.is_dir(), reason=f"recorded exchanges absent: {EXCHANGES}"
)


def _recorded_shop(
    steps: list[dict[str, Any]], alter: Callable[[int, str], str] = lambda n, b: b
) -> httpx.MockTransport:
    """Answers the n-th request with the n-th recorded answer."""
    answers = iter(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        step = next(answers)
        recorded = step["response"]
        headers = dict(recorded["headers"])
        if "binary" in recorded:
            content = MAGIC.get(recorded["binary"]["magic"], b"??")
        else:
            content = alter(step["step"], recorded["body"]).encode()
        return httpx.Response(recorded["status"], headers=headers, content=content)

    return httpx.MockTransport(handler)


def _replay(steps: list[dict[str, Any]], transport: httpx.MockTransport) -> list[str]:
    with httpx.Client(transport=transport) as client:
        results = Replayer(client, "http://shop.test/api", KEY).run(steps)
    passed, failed, lines = report(results)
    return lines


@needs_exchanges
@pytest.mark.parametrize(
    "scenario", sorted(EXCHANGES.glob("*.jsonl")), ids=lambda p: Path(p).stem
)
def test_replayer_passes_the_real_shops_own_answers(scenario: Path) -> None:
    steps = load_steps(scenario)
    assert _replay(steps, _recorded_shop(steps)) == []


@needs_exchanges
def test_replayer_catches_a_changed_price() -> None:
    steps = load_steps(EXCHANGES / "05-sync-flow.jsonl")

    def alter(step: int, body: str) -> str:
        return body.replace("19.900000", "19.800000") if step == 14 else body

    lines = _replay(steps, _recorded_shop(steps, alter))
    assert any("step 14" in line for line in lines)
    assert any("19.800000" in line for line in lines)


@needs_exchanges
def test_replayer_catches_an_id_that_breaks_a_binding() -> None:
    steps = load_steps(EXCHANGES / "05-sync-flow.jsonl")
    product_id = steps[9]["bind"]["s10.id"][0]

    def alter(step: int, body: str) -> str:
        if step != 14:
            return body
        return body.replace(f"<id><![CDATA[{product_id}]]></id>", "<id>999</id>", 1)

    lines = _replay(steps, _recorded_shop(steps, alter))
    assert any("step 14" in line for line in lines)


def test_bound_ids_are_compared_through_the_bindings() -> None:
    bindings = Bindings(recorded={"s1.id": ("20", "products")}, actual={"s1.id": "7"})
    comparer = Comparer(bindings)
    recorded = (
        "<prestashop><product><id>20</id><id_category_default>2</id_category_default>"
        "<date_add>2026-12-04 16:52:37</date_add></product></prestashop>"
    )
    ours = recorded.replace("<id>20</id>", "<id>7</id>").replace("16:52:37", "01:02:03")
    assert compare_xml(comparer, recorded, ours) == []
    assert compare_xml(comparer, recorded, ours.replace("<id>7</id>", "<id>8</id>"))
    moved = ours.replace(">2</id_category_default>", ">3</id_category_default>")
    assert compare_xml(comparer, recorded, moved)


def test_unbound_created_ids_are_wildcards_but_literal_ids_are_not() -> None:
    comparer = Comparer(Bindings())
    recorded = {"product": {"id": 20, "id_tax_rules_group": 1, "price": "1.000000"}}
    assert (
        compare_json(
            comparer,
            recorded,
            {
                **recorded,
                "product": {"id": 31, "id_tax_rules_group": 1, "price": "1.000000"},
            },
        )
        == []
    )
    assert compare_json(
        comparer,
        recorded,
        {"product": {"id": 31, "id_tax_rules_group": 2, "price": "1.000000"}},
    )
    assert compare_json(
        comparer,
        recorded,
        {"product": {"id": "31", "id_tax_rules_group": 1, "price": "1.000000"}},
    )


def test_json_keys_must_match_exactly() -> None:
    comparer = Comparer(Bindings())
    recorded = json.loads('{"product": {"id": 1, "price": "1.000000"}}')
    assert compare_json(comparer, recorded, {"product": {"id": 1}})
