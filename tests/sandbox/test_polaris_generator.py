"""The seeded generator: realistic, valid and reproducible fashion models."""

import io
from datetime import datetime, timedelta

import pytest
from PIL import Image

from polaris_sync.sandbox.polaris import reference
from polaris_sync.sandbox.polaris.generator import (
    FORBIDDEN_IN_NAMES,
    NAME_LIMIT,
    current_price,
    ean13_check_digit,
    generate_model,
    is_valid_ean13,
    local_time,
    parse_ean13,
)
from polaris_sync.sandbox.polaris.photos import draw_photo, fingerprint

EPOCH = datetime(2026, 11, 20, 9, 30)
MODELS = range(1001, 1601)


@pytest.fixture(scope="module")
def items():
    return [item for model in MODELS for item in generate_model(7, model, EPOCH)]


def test_ean13_check_digit_matches_published_barcodes():
    # Barcodes printed on retail goods (check digit computed by their makers).
    assert ean13_check_digit("400638133393") == "1"
    assert ean13_check_digit("501234567890") == "0"
    assert is_valid_ean13("4006381333931")
    assert not is_valid_ean13("4006381333932")
    assert not is_valid_ean13("400638133393")


def test_every_generated_barcode_is_a_valid_unique_ean13_that_leads_back(items):
    barcodes = []
    for item in items:
        for size in item.get("Tailles", []):
            ean = size["Refs"][0]
            assert is_valid_ean13(ean), ean
            assert parse_ean13(ean)[0] == item["NoModele"]
            barcodes.append(ean)
    assert len(barcodes) == len(set(barcodes)) > 1000


def test_same_seed_same_models_other_seed_other_models():
    first = [generate_model(3, model, EPOCH) for model in range(1001, 1051)]
    again = [generate_model(3, model, EPOCH) for model in range(1001, 1051)]
    other = [generate_model(4, model, EPOCH) for model in range(1001, 1051)]
    assert first == again
    assert first != other


def test_names_stay_within_the_limit_and_some_reach_it(items):
    lengths = [len(item["Libelle"]) for item in items]
    assert max(lengths) == NAME_LIMIT
    assert all(0 < length <= NAME_LIMIT for length in lengths)


def test_some_names_carry_characters_prestashop_forbids(items):
    odd = {item["Libelle"] for item in items
           if any(char in item["Libelle"] for char in FORBIDDEN_IN_NAMES)}
    assert len(odd) >= 5
    assert any("<" in name or "#" in name for name in odd)


def test_fashion_realism_colours_grids_stores(items):
    colours = {item["Niveau1"]["Nom"] for item in items}
    assert {"bleu marine", "moutarde", "noir/blanc"} <= colours
    grids = {item["GrilleTailles"]["Code"]: [size["Taille"] for size in item["Tailles"]]
             for item in items if "Tailles" in item}
    assert grids["TXT"] == ["XS", "S", "M", "L", "XL", "XXL"]
    assert grids["F36"] == ["36", "38", "40", "42", "44", "46"]
    assert grids["CHA"][0] == "38,5" and grids["CHA"][-1] == "45"
    stores = {place["CodeMagasin"] for item in items
              for size in item.get("Tailles", []) for place in size["Magasins"]}
    assert stores == {store["CodeMagasin"] for store in reference.STORES}
    assert any("Matiere" in item for item in items)
    assert any("Tailles" not in item for item in items)


def test_models_have_several_colours_sharing_the_model_fields():
    by_model = {model: generate_model(1, model, EPOCH) for model in MODELS}
    several = [items for items in by_model.values() if len(items) > 1]
    assert several
    for items in several:
        assert len({item["Libelle"] for item in items}) == 1
        assert len({item["NomVariante"] for item in items}) == len(items)


def test_running_undated_and_dated_promotions_all_occur(items):
    undated = [item for item in items if "Promotion" not in item
               and item["PrixTTC"] < item["PrixNormalTTC"]]
    dated = [item for item in items if "Promotion" in item]
    assert undated and dated
    assert {item["Promotion"]["Type"] for item in dated} == {"Solde", "Promo"}


def test_a_dated_promotion_prices_only_between_its_dates():
    item = {"PrixTTC": 80.0, "PrixNormalTTC": 80.0,
            "Promotion": {"Type": "Solde", "PrixTTC": 56.0,
                          "Debut": local_time(EPOCH),
                          "Fin": local_time(EPOCH + timedelta(days=3))}}
    assert current_price(item, EPOCH - timedelta(seconds=1)) == 80.0
    assert current_price(item, EPOCH) == 56.0
    assert current_price(item, EPOCH + timedelta(days=3)) == 80.0


def test_photos_and_prices_are_well_formed(items):
    for item in items:
        assert item["PrixTTC"] == round(item["PrixTTC"], 2) > 0
        assert [photo["Ordre"] for photo in item["Photos"]] == list(
            range(1, len(item["Photos"]) + 1))


def test_one_item_is_one_model_in_one_colour(items):
    keys = [(item["NoModele"], item["Niveau1"]["Code"]) for item in items]
    assert len(keys) == len(set(keys))
    with_material = [item for item in items if "Matiere" in item]
    assert {item["Matiere"]["Nom"] for item in with_material} >= {"cuir", "daim"}


def test_photos_are_deterministic_per_seed_and_distinct_per_photo():
    first = draw_photo(1, 1001, 0, 1, "MAR")
    assert draw_photo(1, 1001, 0, 1, "MAR") == first
    assert fingerprint(draw_photo(2, 1001, 0, 1, "MAR")) != fingerprint(first)
    assert fingerprint(draw_photo(1, 1001, 0, 2, "MAR")) != fingerprint(first)
    image = Image.open(io.BytesIO(first))
    assert image.format == "JPEG" and image.size == (120, 150)
    # The garment is drawn in the item's colour (navy), on a light background.
    red, green, blue = image.convert("RGB").getpixel((60, 100))
    assert blue > red and blue > green and blue < 120
