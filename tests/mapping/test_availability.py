"""Per-store availability of a size (E7)."""

from polaris_sync.mapping.availability import availability_line, level


def test_levels_follow_the_threshold():
    assert [level(q, 3) for q in (0, 1, 2, 3, 9)] == [
        "red",
        "orange",
        "orange",
        "green",
        "green",
    ]


def test_the_line_names_every_mapped_store_in_order():
    stores = {2: "Lyon", 1: "Paris", 5: "Nice"}
    line = availability_line([(1, 5), (2, 1), (3, 40)], stores, low_threshold=2)
    assert line == "Lyon ◐ · Paris ● · Nice ○"


def test_the_line_fits_the_shop_field():
    stores = {code: f"Boutique numéro {code}" for code in range(40)}
    assert len(availability_line([], stores, 2)) == 255
