"""How a Polaris value finds its PrestaShop target (F5, F6, F7).

An explicit row with a chosen target wins; otherwise the wildcard row ``*``
("all the others") applies; the target ``ignore`` skips every product using
the value. Brands and size grids are ignored until the merchant maps them, so
a first run imports nothing and says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from polaris_sync.state import IGNORE, WILDCARD, MappingRow

# Kinds whose unmapped values skip the product (F6): without a brand or a size
# grid the shop would get a product nobody chose to sell.
IGNORED_UNTIL_MAPPED = frozenset({"brand", "size-grid"})

KIND_LABELS = {
    "brand": "brand",
    "size-grid": "size grid",
    "category": "category",
    "colour": "colour",
    "store": "store",
    "payment": "payment mode",
}


@dataclass(frozen=True)
class Resolution:
    """What one value resolved to: a row with a target, or why to skip."""

    row: MappingRow | None
    skip_reason: str | None = None

    @property
    def skipped(self) -> bool:
        return self.skip_reason is not None

    def target_ids(self) -> list[int]:
        return self.row.target_ids() if self.row is not None else []


class MappingTable:
    """The mapping rows of one kind, resolved without touching the database."""

    def __init__(self, kind: str, rows: Iterable[MappingRow]) -> None:
        self.kind = kind
        self._rows = {row.source: row for row in rows if row.kind == kind}

    def resolve(self, source: str, label: str = "") -> Resolution:
        explicit = self._rows.get(source)
        wildcard = self._rows.get(WILDCARD)
        row = next(
            (r for r in (explicit, wildcard) if r is not None and r.target),
            None,
        )
        name = KIND_LABELS.get(self.kind, self.kind)
        shown = f"{label} ({source})" if label and label != source else source
        if row is None:
            if self.kind in IGNORED_UNTIL_MAPPED:
                return Resolution(
                    None,
                    f"{name} {shown} is not mapped yet: choose its target "
                    f"with `polaris-sync mappings set {self.kind} {source} ...`",
                )
            return Resolution(None)
        if row.target == IGNORE:
            how = "all other values" if row.source == WILDCARD else "this value"
            return Resolution(row, f"{name} {shown} is mapped to ignore ({how})")
        return Resolution(row)

    def is_known(self, source: str) -> bool:
        return source in self._rows

    def remember(self, row: MappingRow) -> None:
        self._rows[row.source] = row
