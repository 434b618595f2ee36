"""A run killed at any step of an export, then run again: each sale once (G11).

The kill is a BaseException nothing in the product catches, raised at the
step; the state database rolls back what was not committed, as after a real
kill. The end-to-end suite repeats this with a killed process.
"""

import pytest

from polaris_sync.journal import Journal
from polaris_sync.stages.orders import export_orders

pytestmark = pytest.mark.anyio

ONE_TEE = [(1, 20, 40, "12.000000")]


class Killed(BaseException):
    pass


def kill_polaris(world, *, after_storing: bool):
    handle = world.polaris.handle

    def dying(request):
        if request.method == "POST" and request.url.path.endswith("Ventes/Vente"):
            world.polaris.handle = handle
            if after_storing:
                handle(request)
            raise Killed()
        return handle(request)

    world.polaris.handle = dying


async def run_killed_then_again(world):
    with pytest.raises(Killed):
        await world.run(export_orders)
    await world.run(export_orders)
    await world.run(export_orders)


def assert_exported_once(world, order_id=301):
    assert list(world.polaris.sales) == [str(order_id)]
    order = world.shop.tables["orders"][order_id]
    assert world.shop.state_name(order["current_state"]) == "Exported to Polaris"
    assert Journal(world.state).order_export(order_id).status == "exported"


async def test_g11_killed_before_the_send(world):
    world.shop.add_order(301, ONE_TEE)
    kill_polaris(world, after_storing=False)
    await run_killed_then_again(world)
    assert_exported_once(world)
    assert world.polaris.posts == 1


async def test_g11_killed_after_the_send_before_its_outcome_is_committed(world):
    world.shop.add_order(301, ONE_TEE)
    kill_polaris(world, after_storing=True)
    await run_killed_then_again(world)
    assert_exported_once(world)
    assert world.polaris.posts == 1


async def test_g11_killed_after_the_outcome_before_the_order_is_marked(
    world, monkeypatch
):
    world.shop.add_order(301, ONE_TEE)
    original = Journal.set_order_export

    def dying(self, *args, **kwargs):
        monkeypatch.setattr(Journal, "set_order_export", original)
        raise Killed()

    monkeypatch.setattr(Journal, "set_order_export", dying)
    await run_killed_then_again(world)
    assert_exported_once(world)
    assert world.polaris.posts == 1


async def test_g11_killed_between_a_cancellation_and_the_new_version(world):
    world.options["orders"]["export_corrections"] = True
    world.shop.add_order(302, ONE_TEE + [(2, 20, 41, "15.000000")])
    await world.run(export_orders)

    # The merchant removes the second line in the back office.
    world.shop.remove_line(302, 2)

    handle = world.polaris.handle
    sent = []

    def dying_on_second(request):
        if request.method == "POST" and request.url.path.endswith("Ventes/Vente"):
            sent.append(request)
            if len(sent) == 2:
                world.polaris.handle = handle
                raise Killed()
        return handle(request)

    world.polaris.handle = dying_on_second
    with pytest.raises(Killed):
        await world.run(export_orders)
    assert sorted(world.polaris.sales) == ["302", "302-A1"]

    await world.run(export_orders)
    await world.run(export_orders)
    assert sorted(world.polaris.sales) == ["302", "302-2", "302-A1"]
