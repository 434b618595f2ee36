"""Which stores have each size (E7), as a line the product page shows.

For every mapped store, a size is in stock there (green), low (orange: fewer
than the threshold) or out (red). PrestaShop has no place for per-store
stock, so the line goes where every theme already shows a text for the
chosen size: the combination's "label when in stock" (`available_now`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

LEVELS = {"green": "●", "orange": "◐", "red": "○"}
TEXT_MAX = 255


def level(quantity: int, low_threshold: int) -> str:
    if quantity <= 0:
        return "red"
    return "orange" if quantity < low_threshold else "green"


def availability_line(
    stock_by_store: Iterable[tuple[int, int]],
    store_names: Mapping[int, str],
    low_threshold: int,
) -> str:
    """`Paris ● · Lyon ◐ · Nice ○` for the mapped stores, in their order."""
    stock = dict(stock_by_store)
    parts = [
        f"{name} {LEVELS[level(stock.get(code, 0), low_threshold)]}"
        for code, name in store_names.items()
    ]
    line = " · ".join(parts)
    return line if len(line) <= TEXT_MAX else line[: TEXT_MAX - 1] + "…"
