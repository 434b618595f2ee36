"""PrestaShop's demo catalogue, read where it lies, served in Polaris shape."""

import hashlib
import json
import xml.etree.ElementTree as ET

import pytest

from polaris_sync.sandbox.polaris import create_app
from polaris_sync.sandbox.polaris.catalogue import FIRST_MODEL, load_demo_catalogue
from polaris_sync.sandbox.polaris.generator import is_valid_ean13

from .asgi import InProcessClient


@pytest.fixture(scope="module")
def demo_dir(shared_dir):
    folder = shared_dir / "data" / "prestashop-demo-catalogue"
    if not (folder / "data" / "product.xml").is_file():
        pytest.skip(f"the shared demo catalogue is not at {folder}")
    return folder


@pytest.fixture(scope="module")
def demo(demo_dir):
    return load_demo_catalogue(demo_dir)


@pytest.fixture(scope="module")
def french_names(demo_dir):
    """Product key -> French name, read from the shared catalogue itself."""
    root = ET.parse(demo_dir / "langs" / "fr" / "product.xml").getroot()
    return {node.get("id"): node.findtext("name") for node in root}


@pytest.fixture(scope="module")
def by_key(demo, french_names):
    """The items of one demo product, found by its key in the fixtures."""

    def find(key):
        return [item for item in demo.items if item["Libelle"] == french_names[key]]

    return find


def test_every_demo_product_becomes_a_model_with_french_names(demo, french_names):
    models = {item["NoModele"] for item in demo.items}
    assert models == set(range(FIRST_MODEL, FIRST_MODEL + 19))
    assert {item["Libelle"] for item in demo.items} == set(french_names.values())
    assert all(item["Libelle"] for item in demo.items)
    assert any("<p>" in item["Description"] for item in demo.items)


def test_colours_split_items_and_other_attributes_become_sizes(by_key):
    t_shirts = by_key("Hummingbird_printed_t-shirt")
    assert len({item["NomVariante"] for item in t_shirts}) == len(t_shirts) == 2
    for item in t_shirts:
        assert [size["Taille"] for size in item["Tailles"]] == ["S", "M", "L", "XL"]
    # The notebook has no colour: its paper type becomes the size.
    (notebook,) = by_key("Mountain_fox_notebook")
    paper_types = [size["Taille"] for size in notebook["Tailles"]]
    assert len(set(paper_types)) == len(paper_types) == 4


def test_prices_carry_vat_and_the_percentage_discount(by_key):
    t_shirt = by_key("Hummingbird_printed_t-shirt")[0]
    # 23.90 before VAT in the fixtures, 20 % off.
    assert t_shirt["PrixNormalTTC"] == 28.68
    assert t_shirt["PrixTTC"] == 22.94
    (mug,) = by_key("Customizable_mug")
    assert mug["PrixTTC"] == mug["PrixNormalTTC"] == 16.68


def test_stock_is_spread_over_the_stores_and_barcodes_are_valid(demo, by_key):
    for item in demo.items:
        for size in item.get("Tailles", []):
            assert is_valid_ean13(size["Refs"][0])
            assert len(size["Magasins"]) == 3
    t_shirt = by_key("Hummingbird_printed_t-shirt")[0]
    assert sum(place["Dispo"] for place in t_shirt["Tailles"][0]["Magasins"]) == 300


def test_virtual_products_have_no_sizes(french_names, by_key):
    virtual = [item for key in french_names if key.endswith("_-_Vector_graphics")
               for item in by_key(key)]
    assert len(virtual) == 3
    assert all("Tailles" not in item for item in virtual)


def test_demo_photos_are_served_from_the_folder_with_their_sha1(demo_dir, tmp_path):
    app = create_app(tmp_path, catalogue_dir=demo_dir)
    simulator = app.state.simulator
    with InProcessClient(app) as polaris:
        key = polaris.post("/api/WebConnect/Association", json={
            "Licence": simulator.licence, "Pin": simulator.pin}).json()["Cle"]
        page = polaris.get("/api/WebConnect/Catalog/Produits",
                           headers={"X-API-Key": key},
                           params={"pager": json.dumps({"Nb": 100})}).json()
        assert {item["NoModele"] for item in page["Items"]} == set(
            range(FIRST_MODEL, FIRST_MODEL + 19))
        photos = [photo for item in page["Items"] for photo in item["Photos"]]
        assert len(photos) >= 19
        for photo in photos:
            answer = polaris.get(photo["Url"])
            assert answer.status_code == 200
            assert hashlib.sha1(answer.content).hexdigest() == photo["Empreinte"]
            name = photo["Url"].rsplit("/", 1)[1]
            assert answer.content == (demo_dir / "img" / "p" / name).read_bytes()


def test_a_restart_without_the_folder_argument_still_serves_demo_photos(
        demo_dir, tmp_path):
    create_app(tmp_path, catalogue_dir=demo_dir)
    restarted = create_app(tmp_path).state.simulator
    assert restarted.photo("d/Mountain_fox_cushion.jpg") is not None
