"""Sales and customers sent to the simulator: recorded once, checked seriously."""

import copy
import json

import pytest

API = "/api/WebConnect"


@pytest.fixture
def polaris(associated_polaris):
    return associated_polaris(models=20, seed=2)


@pytest.fixture
def stocked_size(polaris):
    page = polaris.get(f"{API}/Catalog/Produits",
                       params={"pager": json.dumps({"Nb": 1000})}).json()
    return next(size for item in page["Items"] for size in item.get("Tailles", [])
                if size["Magasins"][0]["Dispo"] > 0)


def a_sale(ean, ref_ext="WEB-000123"):
    return {
        "RefExt": ref_ext,
        "TypeVenteInternet": "Site",
        "Client": {
            "Nom": "Lefèvre", "Prenom": "Amélie", "Mail": "amelie@example.org",
            "Mobile": {"Numero": "+33612345678"}, "RefsExt": ["PS-42"],
            "Adresse": {"Adresse1": "3 rue de l'Église", "CodePostal": "69002",
                        "Ville": "Lyon", "CodePays": "FR"},
        },
        "CodeMagasin": 1,
        "DateVente": "2026-12-04T10:15:00Z",
        "Details": [
            {"SKU": ean, "Qte": 2, "MontantTTC": 39.9, "RemiseTTC": 8.0},
            {"SKU": "PORT", "Qte": 1, "MontantTTC": 4.9},
        ],
        "Reglements": [{"Code": "CB", "Montant": 76.7}],
    }


def test_a_sale_is_recorded_once_then_409(polaris, stocked_size):
    sale = a_sale(stocked_size["Refs"][0])
    first = polaris.post(f"{API}/Ventes/Vente", json=sale)
    assert first.status_code == 201, first.text
    assert first.json()["RefExt"] == "WEB-000123"
    again = polaris.post(f"{API}/Ventes/Vente", json=sale)
    assert again.status_code == 409
    assert again.json()["Message"]
    assert len(polaris.get("/_sandbox/sales").json()["Items"]) == 1


def test_ventes_filter_by_ref_ext_tells_whether_a_sale_exists(polaris, stocked_size):
    def find(ref_ext):
        answer = polaris.get(f"{API}/Ventes/Ventes",
                             params={"filtreVente": json.dumps({"RefExt": ref_ext})})
        assert answer.status_code == 200
        return answer.json()["Items"]

    assert find("WEB-000123") == []
    polaris.post(f"{API}/Ventes/Vente", json=a_sale(stocked_size["Refs"][0]))
    found = find("WEB-000123")
    assert [sale["RefExt"] for sale in found] == ["WEB-000123"]
    assert found[0]["TotalTTC"] == 76.7


def test_a_sale_takes_its_quantities_off_the_store_stock(polaris, stocked_size):
    ean = stocked_size["Refs"][0]
    before = stocked_size["Magasins"][0]["Dispo"]
    polaris.post(f"{API}/Ventes/Vente", json=a_sale(ean))
    page = polaris.get(f"{API}/Catalog/Produits",
                       params={"pager": json.dumps({"Nb": 1000})}).json()
    size = next(size for item in page["Items"] for size in item.get("Tailles", [])
                if size["Refs"][0] == ean)
    assert size["Magasins"][0]["Dispo"] == before - 2


def test_a_supplier_reference_is_a_valid_sku(polaris, stocked_size):
    sale = a_sale(stocked_size["Refs"][1])
    assert polaris.post(f"{API}/Ventes/Vente", json=sale).status_code == 201


def test_lines_and_payments_may_disagree_but_the_difference_is_recorded(
        polaris, stocked_size):
    sale = a_sale(stocked_size["Refs"][0])
    sale["Reglements"] = [{"Code": "CB", "Montant": 70.0}]
    assert polaris.post(f"{API}/Ventes/Vente", json=sale).status_code == 201
    recorded = polaris.get("/_sandbox/sales").json()["Items"][0]
    assert recorded["Controle"] == {"TotalLignesTTC": 76.7,
                                    "TotalReglementsTTC": 70.0, "EcartTTC": 6.7}


def test_a_cancellation_refers_to_its_original(polaris, stocked_size):
    sale = a_sale(stocked_size["Refs"][0])
    cancellation = copy.deepcopy(sale) | {"RefExt": "WEB-000123-A1",
                                          "RefExtOrigine": "WEB-000123"}
    for detail in cancellation["Details"]:
        detail["Qte"] = -detail["Qte"]
    cancellation["Reglements"][0]["Montant"] = -76.7
    orphan = polaris.post(f"{API}/Ventes/Vente", json=cancellation)
    assert orphan.status_code == 400 and "RefExtOrigine" in orphan.json()["Message"]
    assert polaris.post(f"{API}/Ventes/Vente", json=sale).status_code == 201
    assert polaris.post(f"{API}/Ventes/Vente", json=cancellation).status_code == 201


def _without(field):
    def change(sale):
        del sale[field]
    return change


def _set(path, value):
    def change(sale):
        target = sale
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return change


@pytest.mark.parametrize("change, field", [
    (_without("RefExt"), "RefExt"),
    (_set(["RefExt"], "X" * 51), "RefExt"),
    (_set(["TypeVenteInternet"], "Boutique"), "TypeVenteInternet"),
    (_set(["Client"], "Amélie"), "Client"),
    (_set(["Client", "RefsExt"], []), "RefsExt"),
    (_set(["Client", "Mail"], "pas-une-adresse"), "Mail"),
    (_set(["Client", "Adresse", "CodePays"], "France"), "CodePays"),
    (_set(["CodeMagasin"], 9), "CodeMagasin"),
    (_set(["CodeMagasin"], "1"), "CodeMagasin"),
    (_set(["DateVente"], "04/12/2026"), "DateVente"),
    (_set(["DateVente"], "2026-12-04T10:15:00+01:00"), "UTC"),
    (_set(["Details"], []), "Details"),
    (_set(["Details", 0, "SKU"], "9999999999999"), "SKU"),
    (_set(["Details", 0, "Qte"], 1.5), "Qte"),
    (_set(["Details", 0, "Qte"], 0), "Qte"),
    (_set(["Details", 0, "MontantTTC"], "39,90"), "MontantTTC"),
    (_set(["Details", 0, "MontantTTC"], 39.905), "MontantTTC"),
    (_set(["Reglements", 0, "Code"], "BITCOIN"), "Code"),
    (_set(["Reglements", 0, "Montant"], None), "Montant"),
])
def test_a_rejected_sale_is_400_with_a_message_naming_the_field(
        polaris, stocked_size, change, field):
    sale = a_sale(stocked_size["Refs"][0])
    change(sale)
    answer = polaris.post(f"{API}/Ventes/Vente", json=sale)
    assert answer.status_code == 400
    assert field in answer.json()["Message"]
    assert polaris.get("/_sandbox/sales").json()["Items"] == []


def test_a_body_that_is_not_json_is_400(polaris):
    answer = polaris.post(f"{API}/Ventes/Vente", content=b"<vente/>")
    assert answer.status_code == 400 and answer.json()["Message"]


def test_sales_need_the_import_permission_403(polaris, stocked_size):
    polaris.post("/_sandbox/permissions", json={"ImportVentes": False})
    answer = polaris.post(f"{API}/Ventes/Vente", json=a_sale(stocked_size["Refs"][0]))
    assert answer.status_code == 403 and "ImportVentes" in answer.json()["Message"]


# Customers ------------------------------------------------------------------


def test_customer_upsert_is_keyed_by_refs_ext(polaris):
    customer = {"Nom": "Martin", "Prenom": "Zoé", "Mail": "zoe@example.org",
                "RefsExt": ["PS-7"]}
    created = polaris.post(f"{API}/Clients/Client", json=customer)
    assert created.status_code == 201 and created.json()["Cree"] is True
    customer["Mail"] = "zoe.martin@example.org"
    updated = polaris.post(f"{API}/Clients/Client", json=customer)
    assert updated.status_code == 200
    assert updated.json() == {"NoClient": created.json()["NoClient"], "Cree": False}
    stored = polaris.get("/_sandbox/customers").json()["Items"]
    assert [c["Mail"] for c in stored] == ["zoe.martin@example.org"]


def test_customer_update_needs_the_modify_permission(polaris):
    customer = {"Nom": "Martin", "RefsExt": ["PS-8"]}
    polaris.post(f"{API}/Clients/Client", json=customer)
    polaris.post("/_sandbox/permissions", json={"ModifClients": False})
    refused = polaris.post(f"{API}/Clients/Client", json=customer)
    assert refused.status_code == 403
    fresh = polaris.post(f"{API}/Clients/Client", json={"Nom": "Roux",
                                                        "RefsExt": ["PS-9"]})
    assert fresh.status_code == 201


def test_a_customer_without_name_nor_email_is_400(polaris):
    answer = polaris.post(f"{API}/Clients/Client", json={"RefsExt": ["PS-1"]})
    assert answer.status_code == 400 and answer.json()["Message"]


def test_customer_export_pages_and_can_skip_those_without_email(polaris):
    for number in range(5):
        mail = f"c{number}@example.org" if number % 2 == 0 else None
        polaris.post(f"{API}/Clients/Client",
                     json={"Nom": f"Client {number}", "Mail": mail,
                           "RefsExt": [f"PS-{number}"]})

    def listing(only_email, size):
        items, cursor = [], ""
        while True:
            answer = polaris.get(f"{API}/Clients/Clients", params={
                "filtreClient": json.dumps({"ExEmail": only_email}),
                "pager": json.dumps({"TI": True, "Nb": size, "From": cursor})})
            assert answer.status_code == 200
            items += answer.json()["Items"]
            if "PagerNext" not in answer.json():
                return items
            cursor = answer.json()["PagerNext"]["From"]

    assert len(listing(False, 2)) == 5
    assert [c["Nom"] for c in listing(True, 2)] == ["Client 0", "Client 2",
                                                     "Client 4"]
    bad_cursor = polaris.get(f"{API}/Clients/Clients", params={
        "pager": json.dumps({"Nb": 2, "From": "page-two"})})
    assert bad_cursor.status_code == 400
    polaris.post("/_sandbox/permissions", json={"ExportClients": False})
    assert polaris.get(f"{API}/Clients/Clients").status_code == 403


def test_an_anonymous_sale_is_accepted(polaris, stocked_size):
    sale = a_sale(stocked_size["Refs"][0])
    del sale["Client"]
    assert polaris.post(f"{API}/Ventes/Vente", json=sale).status_code == 201
    assert polaris.get("/_sandbox/customers").json()["Items"] == []


def test_a_sale_creates_its_customer(polaris, stocked_size):
    polaris.post(f"{API}/Ventes/Vente", json=a_sale(stocked_size["Refs"][0]))
    customers = polaris.get("/_sandbox/customers").json()["Items"]
    assert [(c["Nom"], c["RefsExt"]) for c in customers] == [("Lefèvre", ["PS-42"])]


def test_a_sale_whose_customer_refs_name_two_customers_is_still_recorded(
        polaris, stocked_size):
    for ref in ("PS-1", "PS-2"):
        polaris.post(f"{API}/Clients/Client", json={"Nom": ref, "RefsExt": [ref]})
    sale = a_sale(stocked_size["Refs"][0])
    sale["Client"]["RefsExt"] = ["PS-1", "PS-2"]
    assert polaris.post(f"{API}/Ventes/Vente", json=sale).status_code == 201
    assert polaris.post(f"{API}/Ventes/Vente", json=sale).status_code == 409
