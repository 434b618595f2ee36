"""Mapping resolution (F5, F6) and colour equivalences (E4)."""

import pytest

from polaris_sync.mapping.colours import MULTICOLOUR, generic_colour
from polaris_sync.mapping.rules import MappingTable
from polaris_sync.state import MappingRow


def table(kind, *rows):
    return MappingTable(
        kind, [MappingRow(kind, source, target) for source, target in rows]
    )


def test_f5_explicit_row_wins_over_the_wildcard():
    brands = table("brand", ("NIKE", "4"), ("*", "9"))
    assert brands.resolve("NIKE").target_ids() == [4]
    assert brands.resolve("OTHER").target_ids() == [9]


def test_f5_an_explicit_row_without_target_falls_back_to_the_wildcard():
    brands = table("brand", ("NEW", None), ("*", "9"))
    assert brands.resolve("NEW").target_ids() == [9]


def test_f5_ignore_skips_with_a_reason_naming_the_value():
    brands = table("brand", ("CHEAP", "ignore"), ("*", "3"))
    resolution = brands.resolve("CHEAP", "Cheap Co")
    assert resolution.skipped
    assert "Cheap Co (CHEAP)" in resolution.skip_reason
    assert "ignore" in resolution.skip_reason


def test_f5_wildcard_ignore_skips_all_the_others():
    grids = table("size-grid", ("G1", "5"), ("*", "ignore"))
    assert not grids.resolve("G1").skipped
    assert "all other values" in grids.resolve("G2").skip_reason


@pytest.mark.parametrize("kind", ["brand", "size-grid"])
def test_f6_brands_and_size_grids_are_ignored_until_mapped(kind):
    resolution = table(kind).resolve("X1", "Label")
    assert resolution.skipped
    assert "not mapped yet" in resolution.skip_reason
    assert f"mappings set {kind} X1" in resolution.skip_reason


def test_f6_an_unmapped_category_is_not_a_reason_to_skip():
    resolution = table("category").resolve("rayon:R1")
    assert not resolution.skipped and resolution.target_ids() == []


@pytest.mark.parametrize(
    ("raw", "generic"),
    [
        ("Noir", "noir"),
        ("BLEU NUIT", "bleu"),
        ("moutarde", "jaune"),
        ("Paille", "jaune"),
        ("or", "jaune"),
        ("Doré", "jaune"),
        ("Kaki", "vert"),
        ("bordeaux", "rouge"),
        ("Écru", "blanc"),
        ("gris chiné", "gris"),
        ("noir&blanc", MULTICOLOUR),
        ("noir/blanc", MULTICOLOUR),
        ("Bleu / Marine", "bleu"),
        ("zzz", None),
    ],
)
def test_e4_built_in_colour_equivalences(raw, generic):
    assert generic_colour(raw) == generic


def test_e4_merchant_equivalences_win_over_built_in_ones():
    merchant = {"Écume": "blanc", "Or": "rose"}
    assert generic_colour("ecume", merchant) == "blanc"
    assert generic_colour("OR", merchant) == "rose"
    assert generic_colour("écume&noir", merchant) == MULTICOLOUR
