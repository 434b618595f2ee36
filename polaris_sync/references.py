"""The product a merchant names on the command line (`lock`, `resync-product`, `log`).

A merchant may name a product three ways: by its Polaris model number
(``1033``: every colour of the model), by the key the log shows
(``1033:NOI``: one colour) or by the reference the shop displays
(``1033-NOI``). Each resolves, through the catalogue's links, to what the
catalogue checks; a name matching no synced product is refused rather than
stored to no effect.
"""

from __future__ import annotations

from dataclasses import dataclass

from polaris_sync.errors import ConfigError
from polaris_sync.mapping import values
from polaris_sync.state import State

# Where the catalogue keeps its product links (see polaris_sync.stages.shop).
PRODUCT_LINKS = "product"

# The words `--help` and error messages use for REF.
REF_FORMS = (
    "a Polaris model number (1033: all its colours), a model:colour key as the "
    "log shows it (1033:NOI) or the product reference shown in the shop "
    "(1033-NOI)"
)


@dataclass(frozen=True)
class ProductRef:
    typed: str
    # The Polaris model number the product belongs to.
    model: str
    # The catalogue's key: the model, or model:colour; what locks are kept as.
    key: str


def resolve(state: State, typed: str) -> ProductRef | None:
    """The synced product (or model) ``typed`` names, or None."""
    typed = typed.strip()
    for key in state.links(PRODUCT_LINKS):
        model = key.split(":", 1)[0]
        if typed == key:
            return ProductRef(typed, model, key)
        if typed == model:
            return ProductRef(typed, model, model)
        if typed == shop_reference(key):
            return ProductRef(typed, model, key)
    return None


def resolve_or_refuse(state: State, typed: str, command: str) -> ProductRef:
    found = resolve(state, typed)
    if found is None:
        raise ConfigError(
            f"{command}: no synced product is known as {typed!r}; give "
            f"{REF_FORMS}"
        )
    return found


def shop_reference(key: str) -> str:
    """The reference the catalogue writes for a product key (mapping.product)."""
    return values.reference(key.replace(":", "-", 1))
