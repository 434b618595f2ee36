"""The pure catalogue core: Polaris item + mappings + options -> desired product."""

from datetime import datetime
from decimal import Decimal

from polaris_sync.mapping.item import from_polaris, parse_item
from polaris_sync.mapping.product import (
    CatalogueOptions,
    DesiredPrice,
    DesiredProduct,
    Mappings,
    Skipped,
    build_product,
    desired_price,
    distinct_colour,
    mapping_values,
)
from polaris_sync.mapping.values import catalog_name, slug, valid_ean
from polaris_sync.polaris.models import PolarisItem
from polaris_sync.state import MappingRow

OPTIONS = CatalogueOptions(languages=(1, 2))


def raw_item(**overrides):
    item = {
        "NoModele": 1042,
        "Libelle": "Chemise Oxford",
        "Marque": {"Code": "ACME", "Nom": "Acme"},
        "GrilleTailles": {"Code": "G1", "Nom": "S-XL"},
        "Niveau1": {"Code": "NR", "Nom": "Noir"},
        "Rayon": {"Code": "R1", "Nom": "Homme"},
        "Collection": {"Code": "C24", "Nom": "Hiver 24"},
        "PrixTTC": 60,
        "PrixNormalTTC": 60,
        "TauxTVA": 20,
        "DerniereChangement": "2026-12-01T10:00:00",
        "Tailles": [
            {
                "Taille": "M",
                "Refs": ["4006381333931", "CHOX-NR-M"],
                "Magasins": [
                    {"CodeMagasin": 1, "Dispo": 4},
                    {"CodeMagasin": 2, "Dispo": 3},
                ],
            },
            {"Taille": "L", "Refs": ["1234567890123"], "Magasins": []},
        ],
    }
    item.update(overrides)
    return parse_item(item)


def mappings(*extra):
    rows = [
        MappingRow("brand", "ACME", "7"),
        MappingRow("size-grid", "G1", "3"),
        MappingRow("category", "rayon:R1", "12", default_weight=0.3),
        MappingRow("category", "collection:C24", "15,16", default_weight=0.5),
        *extra,
    ]
    return Mappings.from_rows(rows)


def build(item=None, maps=None, options=OPTIONS) -> DesiredProduct:
    product = build_product(item or raw_item(), maps or mappings(), options)
    assert isinstance(product, DesiredProduct), product
    return product


def test_c2_product_fields_from_the_item_and_its_mappings():
    product = build()
    assert product.key == "1042:NR"
    assert product.reference == "1042-NR"
    assert product.name == "Chemise Oxford Noir"
    assert product.slug == "chemise-oxford-noir"
    assert product.manufacturer_id == 7
    assert product.size_group == 3
    assert product.category_ids == (12, 15, 16)
    assert product.colour == "noir"


def test_price_is_tax_excluded_from_the_tax_included_price():
    product = build(raw_item(PrixTTC=59.9, PrixNormalTTC=59.9))
    assert product.price == Decimal("49.916667")
    assert product.tax_rules_group == 1
    assert product.specific_price is None


def test_a_sale_strikes_the_normal_price_and_applies_the_difference():
    product = build(
        raw_item(
            PrixTTC=45,
            PrixNormalTTC=60,
            Promotion={
                "Type": "Solde",
                "PrixTTC": 45,
                "Debut": "2026-12-01",
                "Fin": "2026-12-31",
            },
        )
    )
    assert product.price == Decimal("50.000000")
    promo = product.specific_price
    assert promo is not None
    fields = promo.fields(99)
    assert fields["reduction"] == Decimal("15.000000")
    assert fields["reduction_type"] == "amount" and fields["reduction_tax"] == 1
    assert fields["price"] == -1 and fields["id_product"] == 99
    assert fields["from"] == "2026-12-01 00:00:00"
    assert fields["to"] == "2026-12-31 23:59:59"


def test_a_sale_without_dates_is_unbounded():
    product = build(raw_item(PrixTTC=50, PrixNormalTTC=60))
    assert product.specific_price.fields(1)["to"] == "0000-00-00 00:00:00"


def test_e5_products_on_promotion_join_the_promotion_category():
    options = CatalogueOptions(languages=(1,), promo_category=30)
    assert (
        30
        in build(raw_item(PrixTTC=50, PrixNormalTTC=60), options=options).category_ids
    )
    assert 30 not in build(options=options).category_ids


def test_d1_d3_stock_sums_the_counted_stores_minus_safety_stock():
    assert [c.quantity for c in build().combinations] == [7, 0]
    only_store_2 = CatalogueOptions(languages=(1,), stores=frozenset({2}))
    assert [c.quantity for c in build(options=only_store_2).combinations] == [3, 0]
    safety = CatalogueOptions(languages=(1,), safety_stock=5)
    assert [c.quantity for c in build(options=safety).combinations] == [2, 0]
    too_much = CatalogueOptions(languages=(1,), safety_stock=50)
    assert [c.quantity for c in build(options=too_much).combinations] == [0, 0]


def test_combinations_keep_a_valid_ean_and_the_polaris_sku_as_reference():
    product = build()
    medium, large = product.combinations
    assert medium.ean13 == "4006381333931"
    assert medium.reference == "CHOX-NR-M"
    assert medium.key == "1042:NR:M"
    # An invalid check digit is dropped with a warning, never sent.
    assert large.ean13 == ""
    assert large.reference == "1042-NR-L"
    assert any("1234567890123" in warning for warning in product.warnings)


def test_names_lose_forbidden_characters_and_stay_within_128():
    product = build(raw_item(Libelle="Robe <été> ; motif #1 " + "x" * 200))
    assert not set("<>;=#{}") & set(product.name)
    assert len(product.name) <= 128
    assert product.warnings


def test_slugs_are_ascii_and_never_empty():
    assert slug("Robe Été à Fleurs !", "R1") == "robe-ete-a-fleurs"
    assert slug("«»", "REF-1") == "ref-1"
    assert catalog_name("a=b{c}") == "a b c"


def test_valid_ean_checks_the_gs1_check_digit():
    assert valid_ean("4006381333931")
    assert not valid_ean("4006381333932")
    assert not valid_ean("40063813339310", max_digits=13)
    assert valid_ean("96385074")


def test_f8_weight_falls_back_to_the_heaviest_category_default():
    """Covers F8."""
    assert build().weight == Decimal("0.5")
    assert build(raw_item(PoidsKg=1.2)).weight == Decimal("1.2")


def test_f6_unmapped_brand_skips_with_a_reason():
    result = build_product(
        raw_item(Marque={"Code": "NEW", "Nom": "New"}), mappings(), OPTIONS
    )
    assert isinstance(result, Skipped)
    assert "brand New (NEW) is not mapped yet" in result.reason


def test_f5_a_category_mapped_to_ignore_skips_the_product():
    maps = mappings(MappingRow("category", "collection:C24", "ignore"))
    result = build_product(raw_item(), maps, OPTIONS)
    assert isinstance(result, Skipped) and "ignore" in result.reason


def test_f3_unmapped_categories_fall_back_to_the_default_category():
    item = raw_item(Rayon=None, Collection=None)
    assert build(item).category_ids == (2,)


def test_unknown_vat_rate_is_skipped_with_the_option_to_set():
    result = build_product(raw_item(TauxTVA=5.5), mappings(), OPTIONS)
    assert isinstance(result, Skipped) and "tax_rules_groups" in result.reason


def test_withdrawn_models_are_inactive():
    assert build(raw_item(Supprime=True)).active is False
    assert build().active is True


def test_e1_one_product_per_model_when_asked():
    options = CatalogueOptions(languages=(1,), products_per="model")
    product = build(options=options)
    assert product.key == "1042" and product.reference == "1042"
    assert product.name == "Chemise Oxford"


def test_create_fields_follow_the_pitfall_rules():
    fields = build().create_fields((1, 2), visible=True)
    assert fields["state"] == 1 and fields["visibility"] == "both"
    assert fields["name"] == {1: "Chemise Oxford Noir", 2: "Chemise Oxford Noir"}
    assert set(fields["associations"]) == {"categories"}
    assert fields["id_category_default"] == 12
    for absent in ("position_in_category", "quantity", "manufacturer_name"):
        assert absent not in fields
    assert fields["unit_price"] == 0 and fields["wholesale_price"] == 0


def test_catalogue_fields_follow_the_import_options():
    fields = build().catalogue_fields((1,), {"weight"})
    assert set(fields) == {"active", "weight"}


def test_f7_every_mappable_value_is_reported():
    met = mapping_values(raw_item())
    assert ("brand", "ACME", "Acme") in met
    assert ("size-grid", "G1", "S-XL") in met
    assert ("category", "rayon:R1", "Homme") in met
    assert ("colour", "Noir", "") in met


def test_the_material_tells_two_items_of_one_colour_apart():
    leather = build(
        raw_item(Matiere={"Code": "CUI", "Nom": "cuir"}, NomVariante="noir cuir")
    )
    suede = build(
        raw_item(Matiere={"Code": "DAI", "Nom": "daim"}, NomVariante="noir daim")
    )
    assert (leather.key, suede.key) == ("1042:NR-CUI", "1042:NR-DAI")
    assert (leather.reference, suede.reference) == ("1042-NR-CUI", "1042-NR-DAI")
    assert leather.name == "Chemise Oxford noir cuir"
    assert leather.combinations[0].key != suede.combinations[0].key


def test_references_the_shop_would_refuse_are_shortened_with_a_warning():
    sizes = [{"Taille": "M", "Refs": ["REF[1];" + "X" * 80], "Magasins": []}]
    product = build(raw_item(Tailles=sizes))
    (combination,) = product.combinations
    assert combination.reference == ("REF1" + "X" * 80)[:64]
    assert any("sent as" in warning for warning in product.warnings)


def test_d1_d3_a_store_in_deficit_lowers_the_web_stock_before_clamping():
    """Stores are summed first and only the total is clamped at 0: a store that
    sold more than it had (-4) takes those units off the others."""
    sizes = [
        {
            "Taille": "M",
            "Refs": [],
            "Magasins": [
                {"CodeMagasin": 1, "Dispo": -4},
                {"CodeMagasin": 2, "Dispo": 5},
                {"CodeMagasin": 3, "Dispo": 50},
            ],
        },
        {"Taille": "L", "Refs": [], "Magasins": [{"CodeMagasin": 1, "Dispo": -9}]},
    ]
    product = build(raw_item(Tailles=sizes))
    assert [c.quantity for c in product.combinations] == [51, 0]
    safety = CatalogueOptions(languages=(1,), safety_stock=2)
    with_safety = build(raw_item(Tailles=sizes), options=safety)
    assert [c.quantity for c in with_safety.combinations] == [49, 0]


def test_a_price_of_zero_or_below_is_never_published():
    for price in (0, -5):
        for item in (
            raw_item(PrixTTC=price, PrixNormalTTC=price),
            raw_item(PrixTTC=price, PrixNormalTTC=60),
            raw_item(
                PrixTTC=60,
                PrixNormalTTC=60,
                Promotion={"Type": "Promo", "PrixTTC": price},
            ),
        ):
            for skipped in (
                build_product(item, mappings(), OPTIONS),
                desired_price(item, OPTIONS),
            ):
                assert isinstance(skipped, Skipped), skipped
                assert "not above zero" in skipped.reason
                assert "not published" in skipped.reason


def test_a_missing_price_is_not_published_as_free():
    item = raw_item()
    no_price = parse_item(
        {"NoModele": item.model, "Libelle": "x", "Tailles": [{"Taille": "M"}]}
    )
    assert isinstance(desired_price(no_price, OPTIONS), Skipped)


def test_a_date_only_promotion_end_read_by_the_client_lasts_the_whole_day():
    """The WebConnect model keeps `Fin` as Polaris wrote it: a date alone ends
    the promotion at the end of that day, a date-time at that moment."""
    raw = {
        "NoModele": 1042,
        "Libelle": "Chemise Oxford",
        "Marque": {"Code": "ACME", "Nom": "Acme"},
        "GrilleTailles": {"Code": "G1", "Nom": "S-XL"},
        "PrixTTC": 45,
        "PrixNormalTTC": 60,
        "Tailles": [{"Taille": "M", "Refs": ["CHOX-M"]}],
    }
    ends = {}
    for fin in ("2026-12-31", "2026-12-31T18:00:00"):
        promotion = {"Type": "Solde", "PrixTTC": 45, "Debut": "2026-12-01", "Fin": fin}
        item = PolarisItem.model_validate({**raw, "Promotion": promotion})
        product = build(from_polaris(item), mappings())
        ends[fin] = product.specific_price.fields(1)["to"]
        assert product.specific_price.fields(1)["from"] == "2026-12-01 00:00:00"
    assert ends == {
        "2026-12-31": "2026-12-31 23:59:59",
        "2026-12-31T18:00:00": "2026-12-31 18:00:00",
    }


def test_sizes_sharing_a_polaris_reference_get_one_reference_each():
    """A supplier reference on every size would give every combination the same
    reference: the product's `<reference>-<size>` is used instead."""
    sizes = [
        {"Taille": label, "Refs": [ean, "SUP-4711"], "Magasins": []}
        for label, ean in (("S", "4006381333931"), ("M", "1234567890128"))
    ]
    sizes.append({"Taille": "L", "Refs": ["CHOX-L"], "Magasins": []})
    product = build(raw_item(Tailles=sizes))
    assert [c.reference for c in product.combinations] == [
        "1042-NR-S",
        "1042-NR-M",
        "CHOX-L",
    ]
    assert [c.ean13 for c in product.combinations][:2] == [
        "4006381333931",
        "1234567890128",
    ]


def store(code, available):
    return {"CodeMagasin": code, "Dispo": available}


def test_a_size_listed_twice_is_one_combination_with_both_stocks():
    """Two entries under one label are two barcodes of one size: their stock
    adds up; the same barcode listed again keeps the lower figure, never both.
    Either way a warning says so."""
    first = {"Taille": "S", "Refs": ["CHOX-S"], "Magasins": [store(1, 4)]}
    second = {"Taille": "S", "Refs": ["CHOX-S2"], "Magasins": [store(1, 6)]}
    product = build(raw_item(Tailles=[first, second]))
    (size,) = product.combinations
    assert (size.size, size.quantity, size.reference) == ("S", 10, "CHOX-S")
    assert any("listed twice" in warning for warning in product.warnings)

    again = {**first, "Magasins": [store(1, 9)]}
    repeated = build(raw_item(Tailles=[first, again]))
    assert [c.quantity for c in repeated.combinations] == [4]
    assert any("listed twice" in warning for warning in repeated.warnings)


def promoted(starts="", ends=""):
    promotion = {"Type": "Solde", "PrixTTC": 45, "Debut": starts, "Fin": ends}
    return raw_item(PrixTTC=45, PrixNormalTTC=60, Promotion=promotion)


def test_e5_only_a_running_promotion_puts_the_product_in_its_category():
    today = datetime(2026, 12, 15, 12, 0)
    options = CatalogueOptions(languages=(1,), promo_category=30, now=today)
    running = build(promoted("2026-12-01", "2026-12-15"), options=options)
    assert 30 in running.category_ids
    assert running.target_price.in_promotion(today)
    coming = build(promoted("2026-12-16", "2026-12-31"), options=options)
    assert 30 not in coming.category_ids
    assert coming.specific_price is not None  # the shop starts it on its date
    assert not coming.target_price.in_promotion(today)
    assert coming.target_price.in_promotion(datetime(2026, 12, 16))


def test_e5_an_expired_promotion_is_neither_a_specific_price_nor_a_category():
    options = CatalogueOptions(
        languages=(1,), promo_category=30, now=datetime(2026, 12, 15, 0, 0, 1)
    )
    ended = promoted("2026-12-01", "2026-12-14")
    product = build(ended, options=options)
    assert product.specific_price is None and 30 not in product.category_ids
    assert product.price == Decimal("50.000000")  # the normal price, untouched
    price = desired_price(ended, options)
    assert isinstance(price, DesiredPrice) and price.specific_price is None


def test_e1_e4_colours_sharing_a_generic_colour_keep_their_own_in_a_model():
    """One product per model: a colour whose generic colour another colour of
    the model already shows keeps its Polaris name, so sizes stay distinct."""
    options = CatalogueOptions(languages=(1,), products_per="model", colour_group=9)
    navy = build(raw_item(Niveau1={"Code": "MAR", "Nom": "Marine"}), options=options)
    sky = build(raw_item(Niveau1={"Code": "BCI", "Nom": "Bleu ciel"}), options=options)
    assert navy.colour == sky.colour == "bleu"

    assert distinct_colour(navy, raw_item(), set()).colour == "bleu"
    sky_item = raw_item(Niveau1={"Code": "BCI", "Nom": "Bleu ciel"})
    renamed = distinct_colour(sky, sky_item, {"bleu"})
    assert renamed.colour == "Bleu ciel"
    assert any("Bleu ciel" in warning for warning in renamed.warnings)

    leather = raw_item(
        Niveau1={"Code": "BCI", "Nom": "Bleu ciel"},
        Matiere={"Code": "CUI", "Nom": "cuir"},
    )
    taken = {"bleu", "bleu ciel"}
    assert distinct_colour(build(leather, options=options), leather, taken).colour == (
        "Bleu ciel cuir"
    )
