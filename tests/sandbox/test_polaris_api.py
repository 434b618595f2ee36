"""The simulator's WebConnect routes behave as the contract says (in-process)."""

import hashlib
import io
import json

import pytest
from PIL import Image

from polaris_sync.sandbox.polaris import create_app

from .asgi import InProcessClient

API = "/api/WebConnect"


@pytest.fixture
def polaris(tmp_path):
    app = create_app(tmp_path, models=40, seed=5)
    with InProcessClient(app) as client:
        yield client


def associate(polaris):
    simulator = polaris.app.state.simulator
    answer = polaris.post(f"{API}/Association",
                          json={"Licence": simulator.licence, "Pin": simulator.pin})
    assert answer.status_code == 200, answer.text
    return answer.json()["Cle"]


@pytest.fixture
def key(polaris):
    return associate(polaris)


def products(polaris, key, since="", cursor="", size=100):
    return polaris.get(f"{API}/Catalog/Produits", headers={"X-API-Key": key},
                       params={"filtreProduit": json.dumps(
                                   {"DerniereDateChangement": since}),
                               "pager": json.dumps(
                                   {"TI": True, "Nb": size, "From": cursor})})


def all_products(polaris, key, since="", size=100):
    items, cursor, pages = [], "", 0
    while True:
        answer = products(polaris, key, since, cursor, size)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["Items"]
        pages += 1
        if "PagerNext" not in page:
            return items, pages
        cursor = page["PagerNext"]["From"]


def admin(polaris, route, **body):
    answer = polaris.post(f"/_sandbox/{route}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


# Association --------------------------------------------------------------


def test_association_returns_url_key_reference_store_and_mode(polaris):
    simulator = polaris.app.state.simulator
    answer = polaris.post(f"{API}/Association",
                          json={"Licence": "pl-p8-111-2222", "Pin": simulator.pin})
    assert answer.status_code == 200
    body = answer.json()
    assert body["Url"] == "http://testserver/api/WebConnect"
    assert len(body["Cle"]) >= 32
    assert body["MagasinReference"] == 1
    assert body["ModeTest"] is False


def test_association_pin_is_single_use_409(polaris):
    associate(polaris)
    simulator = polaris.app.state.simulator
    again = polaris.post(f"{API}/Association",
                         json={"Licence": simulator.licence, "Pin": simulator.pin})
    assert again.status_code == 409
    assert again.json()["Message"]


def test_association_unknown_licence_404_wrong_pin_403(polaris):
    simulator = polaris.app.state.simulator
    wrong_pin = "000000" if simulator.pin != "000000" else "111111"
    unknown = polaris.post(f"{API}/Association",
                           json={"Licence": "pl-p8-999-9999", "Pin": simulator.pin})
    refused = polaris.post(f"{API}/Association",
                           json={"Licence": simulator.licence, "Pin": wrong_pin})
    assert (unknown.status_code, refused.status_code) == (404, 403)
    assert "Message" in unknown.json() and "Message" in refused.json()
    # A failed try does not burn the PIN.
    associate(polaris)


def test_a_new_pin_allows_a_new_association_and_the_old_key_still_works(polaris, key):
    pin = admin(polaris, "pin")["Pin"]
    assert pin == polaris.app.state.simulator.pin
    second = associate(polaris)
    assert second != key
    assert products(polaris, key).status_code == 200


# Authentication and modes ---------------------------------------------------


def test_missing_or_unknown_key_401(polaris, key):
    assert polaris.get(f"{API}/Config/Magasins").status_code == 401
    unknown = polaris.get(f"{API}/Config/Magasins", headers={"X-API-Key": "nope"})
    assert unknown.status_code == 401
    assert unknown.json()["Message"]


def test_revoked_key_401(polaris, key):
    assert products(polaris, key).status_code == 200
    assert admin(polaris, "revoke", Cle=key) == {"Revoquees": 1}
    assert products(polaris, key).status_code == 401


def test_production_access_403_while_base_isolated_and_test_access_the_other_way(
        polaris, key):
    admin(polaris, "mode", ModeTest=True)
    refused = products(polaris, key)
    assert refused.status_code == 403 and refused.json()["Message"]

    admin(polaris, "pin", ModeTest=True)
    test_key = associate(polaris)
    assert products(polaris, test_key).status_code == 200
    admin(polaris, "mode", ModeTest=False)
    assert products(polaris, test_key).status_code == 403
    assert products(polaris, key).status_code == 200


# Catalogue: paging and deltas -----------------------------------------------


def test_paging_visits_every_item_once_and_last_page_has_no_pager_next(polaris, key):
    everything, pages = all_products(polaris, key, size=1000)
    assert pages == 1
    paged, pages = all_products(polaris, key, size=7)
    assert pages == -(-len(everything) // 7)
    keys = [(item["NoModele"], item["NomVariante"]) for item in paged]
    assert len(keys) == len(set(keys)) == len(everything)


def test_items_have_the_contract_fields(polaris, key):
    items, _ = all_products(polaris, key)
    for item in items:
        for field in ("NoModele", "Libelle", "NomVariante", "PrixTTC",
                      "PrixNormalTTC", "DerniereChangement"):
            assert field in item
        assert item["Marque"]["Nom"] and item["Classification"]["Nom"]
        assert item["NomVariante"].startswith(item["Niveau1"]["Nom"])
        for size in item.get("Tailles", []):
            assert size["Taille"] and size["Refs"]
            assert {place["CodeMagasin"] for place in size["Magasins"]} == {1, 2, 3}
            assert all(isinstance(place["Dispo"], int) for place in size["Magasins"])


def test_delta_means_changed_at_or_after_and_stock_changes_bump_it(polaris, key):
    items, _ = all_products(polaris, key)
    newest = max(item["DerniereChangement"] for item in items)
    at_newest, _ = all_products(polaris, key, since=newest)
    assert at_newest and all(item["DerniereChangement"] == newest
                             for item in at_newest)

    target = next(item for item in items if item.get("Tailles"))
    ean = target["Tailles"][0]["Refs"][0]
    admin(polaris, "stock", SKU=ean, CodeMagasin=2, Dispo=17)
    changed, _ = all_products(polaris, key, since=newest[:19])
    bumped = [item for item in changed if item["NoModele"] == target["NoModele"]
              and item["NomVariante"] == target["NomVariante"]]
    assert len(bumped) == 1
    assert bumped[0]["DerniereChangement"] > newest
    stock = {place["CodeMagasin"]: place["Dispo"]
             for place in bumped[0]["Tailles"][0]["Magasins"]}
    assert stock[2] == 17


def test_an_item_changed_while_paging_is_seen_again_at_the_end(polaris, key):
    first = products(polaris, key, size=5).json()
    seen = next(item for item in first["Items"] if item.get("Tailles"))
    ean = seen["Tailles"][-1]["Refs"][0]
    admin(polaris, "stock", SKU=ean, CodeMagasin=1, Dispo=3)
    rest, cursor = [], first["PagerNext"]["From"]
    while cursor:
        page = products(polaris, key, cursor=cursor, size=5).json()
        rest += page["Items"]
        cursor = page.get("PagerNext", {}).get("From", "")
    assert (rest[-1]["NoModele"], rest[-1]["NomVariante"]) == (
        seen["NoModele"], seen["NomVariante"])


def test_bad_query_parameters_400_with_message(polaris, key):
    headers = {"X-API-Key": key}
    for params in ({"pager": "{not json"},
                   {"pager": json.dumps({"Nb": 0})},
                   {"pager": json.dumps({"Nb": 5000})},
                   {"pager": json.dumps({"Nb": 10, "From": "garbage!"})},
                   {"filtreProduit": json.dumps({"DerniereDateChangement": "hier"})}):
        answer = polaris.get(f"{API}/Catalog/Produits", headers=headers, params=params)
        assert answer.status_code == 400, params
        assert answer.json()["Message"]


# Config tables and photos -----------------------------------------------------


def test_config_tables(polaris, key):
    def table(name):
        answer = polaris.get(f"{API}/Config/{name}", headers={"X-API-Key": key})
        assert answer.status_code == 200
        return answer.json()["Items"]

    assert [store["CodeMagasin"] for store in table("Magasins")] == [1, 2, 3]
    assert all(store["Nom"] and store["Ville"] for store in table("Magasins"))
    grids = {grid["Code"]: grid["Tailles"] for grid in table("GrillesTailles")}
    assert grids["TXT"] == ["XS", "S", "M", "L", "XL", "XXL"]
    tree = table("Classifications")
    assert tree[0]["Niveau"] == "Rayon"
    assert tree[0]["Enfants"][0]["Enfants"][0]["Niveau"] == "SousFamille"
    assert {mode["Code"] for mode in table("ModesReglement")} >= {"CB", "PP"}
    for name in ("Marques", "Collections", "Saisons", "Proprietes"):
        assert table(name)
    assert polaris.get(f"{API}/Config/Nope",
                       headers={"X-API-Key": key}).status_code == 404


def test_photos_are_served_and_match_their_fingerprint(polaris, key):
    items, _ = all_products(polaris, key)
    photos = [photo for item in items for photo in item["Photos"]]
    assert photos
    for photo in photos[:10]:
        answer = polaris.get(photo["Url"])
        assert answer.status_code == 200
        assert hashlib.sha1(answer.content).hexdigest() == photo["Empreinte"]
        assert Image.open(io.BytesIO(answer.content)).format == "JPEG"
    assert len({photo["Empreinte"] for photo in photos}) == len(photos)
    assert polaris.get("/photos/g/1/0/9.jpg").status_code == 404
    assert polaris.get("/photos/g/99999/0/1.jpg").status_code == 404


def test_the_database_holding_keys_is_private(polaris, key, tmp_path):
    files = list(tmp_path.glob("polaris.sqlite3*"))
    assert len(files) >= 2
    for file in files:
        assert file.stat().st_mode & 0o077 == 0, file


def test_state_survives_a_restart_with_the_same_key_and_items(tmp_path):
    with InProcessClient(create_app(tmp_path, models=10)) as first:
        key = associate(first)
        before, _ = all_products(first, key)
    with InProcessClient(create_app(tmp_path, models=500)) as second:
        after, _ = all_products(second, key)
    assert after == before


def test_unknown_paths_and_methods_answer_with_a_message(polaris, key):
    missing = polaris.get(f"{API}/Catalog/Inconnu", headers={"X-API-Key": key})
    assert missing.status_code == 404 and "Catalog/Inconnu" in missing.json()["Message"]
    wrong_method = polaris.delete(f"{API}/Ventes/Vente", headers={"X-API-Key": key})
    assert wrong_method.status_code == 405 and wrong_method.json()["Message"]
