"""The admin API changes the simulated base the way a merchant would in Polaris."""

import asyncio
import json
from datetime import datetime, timedelta

import httpx
import pytest

from polaris_sync.sandbox.polaris import create_app
from polaris_sync.sandbox.polaris.generator import local_time

API = "/api/WebConnect"


@pytest.fixture
def polaris(associated_polaris):
    return associated_polaris(models=15, seed=9)


def items(polaris, since=""):
    answer = polaris.get(f"{API}/Catalog/Produits", params={
        "filtreProduit": json.dumps({"DerniereDateChangement": since}),
        "pager": json.dumps({"Nb": 1000})})
    assert answer.status_code == 200, answer.text
    return answer.json()["Items"]


def of_model(polaris, model):
    return [item for item in items(polaris) if item["NoModele"] == model]


def admin(polaris, route, **body):
    answer = polaris.post(f"/_sandbox/{route}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_price_change_applies_to_every_colour_and_bumps_the_items(polaris):
    before = datetime.now().replace(microsecond=0)
    admin(polaris, "price", NoModele=1001, PrixTTC=64.5)
    changed = items(polaris, since=local_time(before))
    assert {item["NoModele"] for item in changed} == {1001}
    assert all(item["PrixTTC"] == item["PrixNormalTTC"] == 64.5 for item in changed)
    assert len(changed) == len(of_model(polaris, 1001))


def test_undated_promotion_starts_and_ends(polaris):
    colour = of_model(polaris, 1002)[0]["Niveau1"]["Code"]
    admin(polaris, "price", NoModele=1002, PrixTTC=50.0)
    admin(polaris, "promotion", NoModele=1002, Variante=colour, PrixTTC=35.0)
    on_sale = {item["Niveau1"]["Code"]: item for item in of_model(polaris, 1002)}
    assert (on_sale[colour]["PrixTTC"], on_sale[colour]["PrixNormalTTC"]) == (35, 50)
    assert "Promotion" not in on_sale[colour]
    assert all(item["PrixTTC"] == 50.0 for code, item in on_sale.items()
               if code != colour)
    admin(polaris, "promotion/end", NoModele=1002)
    assert all(item["PrixTTC"] == 50.0 for item in of_model(polaris, 1002))


def test_dated_promotion_is_announced_and_priced_between_its_dates(polaris):
    now = datetime.now()
    admin(polaris, "price", NoModele=1003, PrixTTC=80.0)
    admin(polaris, "promotion", NoModele=1003, PrixTTC=60.0, Type="Solde",
          Debut=local_time(now - timedelta(hours=1)),
          Fin=local_time(now + timedelta(days=1)))
    running = of_model(polaris, 1003)[0]
    assert running["Promotion"]["Type"] == "Solde"
    assert (running["PrixTTC"], running["PrixNormalTTC"]) == (60.0, 80.0)

    admin(polaris, "promotion", NoModele=1003, PrixTTC=60.0, Type="Promo",
          Debut=local_time(now + timedelta(days=2)),
          Fin=local_time(now + timedelta(days=9)))
    coming = of_model(polaris, 1003)[0]
    assert coming["Promotion"]["Type"] == "Promo"
    assert coming["PrixTTC"] == 80.0


def test_added_models_appear_in_the_next_delta(polaris):
    before = datetime.now().replace(microsecond=0)
    numbers = admin(polaris, "models", Nombre=3)["NoModeles"]
    assert numbers == [1016, 1017, 1018]
    assert {item["NoModele"] for item in items(polaris, local_time(before))} == set(
        numbers)


def test_withdrawn_model_is_flagged_supprime(polaris):
    admin(polaris, "withdraw", NoModele=1004)
    assert all(item["Supprime"] for item in of_model(polaris, 1004))
    admin(polaris, "withdraw", NoModele=1004, Supprime=False)
    assert not any(item["Supprime"] for item in of_model(polaris, 1004))


def test_bulk_stock_changes_and_churn_are_seen_in_the_next_delta(polaris):
    sizes = [size for item in items(polaris) for size in item.get("Tailles", [])]
    before = datetime.now().replace(microsecond=0)
    admin(polaris, "stock", Changements=[
        {"SKU": sizes[0]["Refs"][0], "CodeMagasin": 1, "Dispo": 41},
        {"SKU": sizes[-1]["Refs"][1], "CodeMagasin": 3, "Dispo": 43}])
    changes = admin(polaris, "stock/churn", Nombre=5)["Changements"]
    assert 0 < len(changes) <= 5

    expected = {(sizes[0]["Refs"][0], 1): 41, (sizes[-1]["Refs"][0], 3): 43}
    expected |= {(change["SKU"], change["CodeMagasin"]): change["Dispo"]
                 for change in changes}
    delta = {(size["Refs"][0], place["CodeMagasin"]): place["Dispo"]
             for item in items(polaris, local_time(before))
             for size in item.get("Tailles", []) for place in size["Magasins"]}
    assert expected.items() <= delta.items()


def test_unpublished_items_say_so(polaris):
    admin(polaris, "publish", NoModele=1005, Publie=False)
    assert not any(item["Publie"] for item in of_model(polaris, 1005))


def test_unknown_store_is_400(polaris):
    ean = next(size["Refs"][0] for item in items(polaris)
               for size in item.get("Tailles", []))
    answer = polaris.post("/_sandbox/stock",
                          json={"SKU": ean, "CodeMagasin": 7, "Dispo": 1})
    assert answer.status_code == 400


def test_unknown_model_or_sku_is_404(polaris):
    assert polaris.post("/_sandbox/price", json={"NoModele": 42,
                                                 "PrixTTC": 1}).status_code == 404
    assert polaris.post("/_sandbox/stock", json={"SKU": "nope", "CodeMagasin": 1,
                                                 "Dispo": 1}).status_code == 404
    assert polaris.post("/_sandbox/stock", json={}).status_code == 400


def test_state_shows_licence_pin_and_accesses(polaris):
    state = polaris.get("/_sandbox/state").json()
    assert state["Licence"] == "pl-p8-111-2222"
    assert state["PinUtilise"] is True
    assert len(state["Acces"]) == 1 and state["Acces"][0]["Revoquee"] is False


def test_fault_injection_next_errors_then_share_of_errors_then_clear(polaris):
    photo = next(photo["Url"] for item in items(polaris) for photo in item["Photos"])
    admin(polaris, "faults", errors_next=2)
    statuses = [polaris.get(f"{API}/Config/Magasins").status_code for _ in range(3)]
    assert statuses == [500, 500, 200]

    admin(polaris, "faults", error_rate=1.0)
    failed = polaris.get(f"{API}/Config/Magasins")
    assert failed.status_code == 500 and failed.json()["Message"]
    assert polaris.get(photo).status_code == 500
    # The admin API itself is never faulted.
    admin(polaris, "faults")
    assert polaris.get(f"{API}/Config/Magasins").status_code == 200
    assert polaris.get(photo).status_code == 200


def test_fault_injection_latency_and_hanging_requests(polaris):
    admin(polaris, "faults", timeout_rate=1.0, timeout_seconds=0.2)
    hung = polaris.get(f"{API}/Config/Magasins")
    assert hung.status_code == 504
    admin(polaris, "faults", latency_ms=50)
    started = datetime.now()
    assert polaris.get(f"{API}/Config/Magasins").status_code == 200
    assert datetime.now() - started >= timedelta(milliseconds=50)


def test_unknown_fault_name_is_400(polaris):
    assert polaris.post("/_sandbox/faults", json={"meteor": 1}).status_code == 400


def test_admin_refuses_clients_that_are_not_on_loopback(tmp_path):
    app = create_app(tmp_path)

    async def status_from(address):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as c:
            return (await c.get("/_sandbox/state")).status_code

    assert asyncio.run(status_from("192.0.2.10")) == 403
    assert asyncio.run(status_from("127.0.0.1")) == 200
    assert asyncio.run(status_from("::1")) == 200


def test_sizes_can_be_replaced_removed_and_made_to_share_a_reference(polaris):
    item = of_model(polaris, 1003)[0]
    colour, sizes = item["Niveau1"]["Code"], item["Tailles"]
    admin(polaris, "stock", SKU=sizes[0]["Refs"][0],
          CodeMagasin=sizes[0]["Magasins"][0]["CodeMagasin"], Dispo=40)
    before = datetime.now().replace(microsecond=0)
    kept = sizes[:-1]
    kept[0]["Refs"] = [kept[0]["Refs"][0], "SUP-4711"]
    kept[0]["Magasins"][0]["Dispo"] = 7
    admin(polaris, "sizes", NoModele=1003, Variante=colour, Tailles=kept)

    [changed] = items(polaris, since=local_time(before))
    assert changed["NoModele"] == 1003 and changed["Tailles"] == kept
    # Stock set by barcode afterwards still lands on the size.
    admin(polaris, "stock", SKU=kept[0]["Refs"][0],
          CodeMagasin=kept[0]["Magasins"][0]["CodeMagasin"], Dispo=2)
    [again] = [i for i in of_model(polaris, 1003) if i["Niveau1"]["Code"] == colour]
    assert again["Tailles"][0]["Magasins"][0]["Dispo"] == 2
    assert [s["Taille"] for s in again["Tailles"]] == [s["Taille"] for s in kept]


@pytest.mark.parametrize("sizes", [
    "XL", [{"Taille": "XL"}], [{"Taille": "XL", "Refs": []}], ["XL"],
    [{"Taille": "XL", "Refs": ["1"], "Magasins": [{"CodeMagasin": 7, "Dispo": 1}]}],
])
def test_malformed_sizes_are_400(polaris, sizes):
    answer = polaris.post("/_sandbox/sizes",
                          json={"NoModele": 1003, "Tailles": sizes})
    assert answer.status_code == 400, answer.text
