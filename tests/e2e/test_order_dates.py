"""Order dates from the emulator to Polaris: the shop writes its wall clock
(PS_TIMEZONE, Europe/Paris), the orders stage reads it with `shop_timezone`,
and the sale reaches Polaris dated with the instant the order was placed (G4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.e2e.order_shop import export, order, place, prepare_shop, sale, sizes


@pytest.fixture
def shop(sandbox):
    prepared = prepare_shop(sandbox)
    # Orders placed at fixed dates of the past stay exportable.
    prepared.config_data["orders"]["max_age_days"] = 0
    return prepared


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_order_placed_now_reaches_polaris_at_the_same_instant_G4(shop):
    [size] = sizes(shop, 1)

    before = _utc_now()
    order_id = place(shop, [(size, 1)])
    after = _utc_now()

    assert export(shop).counts["created"] == 1
    assert before <= sale(shop, str(order_id))["DateVente"] <= after


@pytest.mark.parametrize(
    "placed_at, shop_clock",
    [
        ("2026-01-15T17:08:00Z", "2026-01-15 18:08:00"),  # winter time, UTC+1
        ("2026-07-15T17:08:00Z", "2026-07-15 19:08:00"),  # summer time, UTC+2
    ],
)
def test_an_order_placed_at_a_known_instant_keeps_it_in_polaris_G4(
    shop, placed_at, shop_clock
):
    [size] = sizes(shop, 1)
    order_id = place(shop, [(size, 1)], placed_at=placed_at)

    assert order(shop, order_id)["date_add"] == shop_clock
    assert export(shop).counts["created"] == 1
    assert sale(shop, str(order_id))["DateVente"] == placed_at
