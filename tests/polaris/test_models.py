"""Payload models of the WebConnect client."""

from polaris_sync.polaris.models import Size


def test_d3_size_stock_sums_the_stores_before_clamping_at_zero():
    size = Size.model_validate(
        {
            "Taille": "M",
            "Magasins": [
                {"CodeMagasin": 1, "Dispo": -4},
                {"CodeMagasin": 2, "Dispo": 5},
                {"CodeMagasin": 3, "Dispo": 50},
            ],
        }
    )
    assert size.stock() == 51
    assert size.stock([1, 2]) == 1
    assert size.stock([1]) == 0
    assert size.stock([3]) == 50
