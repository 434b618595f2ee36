"""Which fields may be written back, per resource.

GET returns fields that a write refuses (400 code 93) and fields whose setter
has side effects; PUT blanks whatever it does not receive. These lists decide
what a write carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Refused on every write (setter is false), or moved something when written
# back unchanged (the position setter, the 9.x read-only `new`).
_READ_ONLY: dict[str, frozenset[str]] = {
    "products": frozenset(
        {"manufacturer_name", "quantity", "position_in_category", "new"}
    ),
    "manufacturers": frozenset({"link_rewrite"}),
    "categories": frozenset({"level_depth", "nb_products_recursive"}),
    # Deprecated on 1.7.8 and not stock: writing it misleads, never moves stock.
    "combinations": frozenset({"quantity"}),
}

# Sent only when a caller means them; a read-modify-write leaves them out.
# `cache_default_attribute` is not among them: it is a plain column that a PUT
# without it sets to 0, leaving the product with no default combination.
_ONLY_WHEN_INTENDED: dict[str, frozenset[str]] = {
    "products": frozenset({"id_default_image", "id_default_combination", "type"}),
}

# The shop stamps `date_upd` on every write. `date_add` is sent back as read:
# a PUT without it would make the creation date "now".
_NEVER_ROUND_TRIPPED = frozenset({"date_upd"})


def strip_read_only(resource: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields` without the ones the shop refuses to receive."""
    refused = _READ_ONLY.get(resource, frozenset())
    return {name: value for name, value in fields.items() if name not in refused}


def merge_for_put(
    resource: str, current: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """The full object to PUT: what the shop holds, our changes on top.

    Associations read back are dropped (sending one replaces it wholesale and
    some setters delete what they do not list); only the associations in
    `changes` are sent. Empty values are dropped too: the shop stores an absent
    field as empty, while an empty element turns NULLs into zeros.
    """
    dropped = (
        _READ_ONLY.get(resource, frozenset())
        | _ONLY_WHEN_INTENDED.get(resource, frozenset())
        | _NEVER_ROUND_TRIPPED
        | {"associations"}
    )
    document: dict[str, Any] = {
        name: value
        for name, value in current.items()
        if name not in dropped and value not in ("", None)
    }
    if resource == "stock_availables":
        # A legacy advanced-stock flag makes the shop refuse the row (code 133);
        # id_shop and id_shop_group are kept as read, or the stock vanishes.
        document["depends_on_stock"] = "0"
        document.setdefault("id_shop_group", current.get("id_shop_group") or "0")
    document.update(strip_read_only(resource, changes))
    return document
