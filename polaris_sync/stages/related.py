"""Other colours of a model shown as related products (E6, an option).

With one product per model and colour, each colour's product lists its
siblings in the `accessories` association. The association replaces the
whole list, so it is written only when the set of siblings changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from polaris_sync.mapping.product import fingerprint
from polaris_sync.stages.items import ItemRun
from polaris_sync.stages.shop import PRODUCT, links_under

ACCESSORIES = "accessories"


async def link_colours(items: ItemRun, models: Iterable[int]) -> None:
    """Make every product of `models` list the model's other products."""
    ctx = items.ctx
    for model in sorted(set(models)):
        products = links_under(ctx.state, PRODUCT, f"{model}:")
        for variant, product_id in products.items():
            siblings = sorted(other for v, other in products.items() if v != variant)
            wanted = fingerprint(siblings)
            key = f"{model}:{variant}"
            if ctx.state.fingerprint(ACCESSORIES, key) == wanted:
                continue
            accessories = {"accessories": [{"id": s} for s in siblings]}
            await items.write(
                "updated",
                f"related products: the {len(siblings)} other colours of {model}",
                partial(
                    ctx.prestashop.update,
                    "products",
                    product_id,
                    {"associations": accessories},
                ),
                polaris_key=key,
                prestashop_id=product_id,
            )
            if not ctx.dry_run:
                ctx.state.set_fingerprint(ACCESSORIES, key, wanted)
