"""The pure catalogue core: Polaris item + mappings + options -> desired product."""

from decimal import Decimal

from polaris_sync.mapping.item import parse_item
from polaris_sync.mapping.product import (
    CatalogueOptions,
    DesiredProduct,
    Mappings,
    Skipped,
    build_product,
    mapping_values,
)
from polaris_sync.mapping.values import catalog_name, slug, valid_ean
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
