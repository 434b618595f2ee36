"""A seeded generator of fashion models in Polaris shape.

Everything about model number ``n`` is drawn from ``Random(f"{seed}:{n}")``, so
a model can be rebuilt at any time from its number alone: the simulator stores
only what changed since (stock, prices, promotions, withdrawal) and rebuilds
the rest on each read. That keeps 10,000 models small and quick to page.

Barcodes follow one layout, which lets a sale's SKU lead back to its item
without an index: ``20`` + model (6 digits) + variant (2) + size (2) + check
digit. The supplier reference is ``<model>-<variant>-<size>``.
"""

from __future__ import annotations

import html
import random
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from polaris_sync.sandbox.polaris import reference

Item = dict[str, Any]

NAME_LIMIT = 128
# Characters PrestaShop refuses in a product name: merchants type them anyway.
FORBIDDEN_IN_NAMES = "<>;=#{}"

_DESCRIPTORS = (
    "en lin lavé", "col V", "à rayures", "en maille côtelée", "oversize",
    "brodé main", "en jersey bio", "à boutons nacrés", "coupe droite",
    "en velours côtelé", "imprimé fleuri", "à col Claudine", "zippé",
    "en laine mérinos", "délavé", "à franges",
)
_ODD_NAMES = (
    "{noun} <édition limitée>",
    "{noun} #{number} collab",
    "{noun} {{capsule}} été",
    "{noun} taille=ajustée",
    "{noun}; coloris unique",
)


def ean13_check_digit(body: str) -> str:
    """The check digit of a 12-digit EAN body (weights 1, 3, 1, 3, ...)."""
    if len(body) != 12 or not body.isdigit():
        raise ValueError(f"an EAN-13 body has 12 digits, not {body!r}")
    weighted = sum(int(digit) * (3 if position % 2 else 1)
                   for position, digit in enumerate(body))
    return str((10 - weighted % 10) % 10)


def ean13(model: int, variant_index: int, size_index: int) -> str:
    body = f"20{model:06d}{variant_index:02d}{size_index:02d}"
    return body + ean13_check_digit(body)


def is_valid_ean13(code: str) -> bool:
    return (len(code) == 13 and code.isdigit()
            and ean13_check_digit(code[:12]) == code[12])


def parse_ean13(code: str) -> tuple[int, int, int] | None:
    """(model, variant index, size index) of a barcode of ours, else None."""
    if not is_valid_ean13(code) or not code.startswith("20"):
        return None
    return int(code[2:8]), int(code[8:10]), int(code[10:12])


def local_time(moment: datetime) -> str:
    """Polaris dates: ISO-8601 local time without offset, to the second."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def round_price(amount: float) -> float:
    """A shop price: two decimals, the way a till rounds."""
    return float(Decimal(str(amount)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def current_price(item: Item, now: datetime) -> float:
    """`PrixTTC` at ``now``: a dated promotion applies only between its dates."""
    promotion = item.get("Promotion")
    if promotion is None:
        return float(item["PrixTTC"])
    if promotion["Debut"] <= local_time(now) < promotion["Fin"]:
        return float(promotion["PrixTTC"])
    return float(item["PrixNormalTTC"])


def generate_model(seed: int, model: int, epoch: datetime) -> list[Item]:
    """Every item (colour, or colour x material) of model number ``model``.

    ``epoch`` is when the simulated base was created: promotion dates are
    placed around it so that they stay the same for the life of the base.
    """
    rng = random.Random(f"{seed}:{model}")
    department, family, sub_family = rng.choice(reference.sub_families())
    brand_code, brand_name = rng.choice(reference.BRANDS)
    noun = rng.choice(sub_family.nouns)
    name = _model_name(rng, noun, model)
    normal_price = _normal_price(rng, sub_family.price_range)
    promotion = _promotion(rng, normal_price, epoch)
    collection = rng.choice(reference.COLLECTIONS)
    season = rng.choice(reference.SEASONS)
    properties = _properties(rng)
    has_sizes = rng.random() >= 0.01
    published = rng.random() >= 0.02

    common: Item = {
        "NoModele": model,
        "Libelle": name,
        "Marque": {"Code": brand_code, "Nom": brand_name},
        "Classification": {"Code": sub_family.code, "Nom": sub_family.name},
        "Rayon": {"Code": department.code, "Nom": department.name},
        "Famille": {"Code": family.code, "Nom": family.name},
        "SousFamille": {"Code": sub_family.code, "Nom": sub_family.name},
        "Collection": {"Code": collection[0], "Nom": collection[1]},
        "Saison": {"Code": season[0], "Nom": season[1]},
        "GrilleTailles": {
            "Code": sub_family.size_grid,
            "Nom": reference.SIZE_GRIDS[sub_family.size_grid][0],
        },
        "Description": _description(noun, brand_name, properties),
        "DescriptionCourte": f"<p>{html.escape(name)}, {brand_name} :"
                             f" {properties[0]['Valeur']}.</p>",
        "PoidsKg": sub_family.weight_kg,
        "PrixNormalTTC": normal_price,
        "PrixTTC": normal_price,
        "TauxTVA": 20.0,
        "Publie": published,
        "Supprime": False,
        "Proprietes": properties,
    }
    if promotion is not None:
        common.update(promotion)

    items = []
    for variant_index, (colour, material) in enumerate(_variants(rng, sub_family)):
        item = dict(common)
        item["Niveau1"] = {"Code": colour[0], "Nom": colour[1]}
        item["NomVariante"] = colour[1]
        if material is not None:
            item["Matiere"] = {"Code": material[0], "Nom": material[1]}
            item["NomVariante"] = f"{colour[1]} {material[1]}"
        item["Photos"] = [
            {"Chemin": f"g/{model}/{variant_index}/{order}.jpg", "Ordre": order}
            for order in range(1, _photo_count(rng) + 1)
        ]
        if has_sizes:
            sizes = reference.SIZE_GRIDS[sub_family.size_grid][1]
            item["Tailles"] = _sizes(rng, model, variant_index, colour[0], sizes)
        items.append(item)
    return items


def variant_code(item: Item) -> str:
    """The item's key within its model: its colour code."""
    return str(item["Niveau1"]["Code"])


def _model_name(rng: random.Random, noun: str, model: int) -> str:
    roll = rng.random()
    if roll < 0.04:
        return rng.choice(_ODD_NAMES).format(noun=noun, number=model % 100)
    name = f"{noun} {rng.choice(_DESCRIPTORS)}"
    if roll < 0.07:
        # Names right at PrestaShop's limit, to catch a client that appends
        # the colour without measuring.
        while len(name) < NAME_LIMIT:
            name += " " + rng.choice(_DESCRIPTORS)
        name = name[:NAME_LIMIT]
        return name[:-1] + "." if name.endswith(" ") else name
    return name


def _normal_price(rng: random.Random, price_range: tuple[int, int]) -> float:
    euros = rng.randint(*price_range)
    return round_price(euros + rng.choice((0.0, 0.9, 0.99, 0.5)))


def _promotion(
    rng: random.Random, normal_price: float, epoch: datetime
) -> Item | None:
    roll = rng.random()
    reduced = round_price(normal_price * rng.choice((0.5, 0.7, 0.8)))
    if roll < 0.08:
        # A running markdown Polaris does not date: only the prices tell.
        return {"PrixTTC": reduced}
    if roll < 0.12:
        start, end = epoch - timedelta(days=2), epoch + timedelta(days=12)
        kind = "Solde"
    elif roll < 0.15:
        start, end = epoch + timedelta(days=5), epoch + timedelta(days=20)
        kind = "Promo"
    else:
        return None
    return {"Promotion": {"Type": kind, "PrixTTC": reduced,
                          "Debut": local_time(start), "Fin": local_time(end)}}


def _properties(rng: random.Random) -> list[Item]:
    chosen = rng.sample(reference.PROPERTIES, k=rng.randint(2, 3))
    return [{"Nom": name, "Valeur": rng.choice(values)} for name, values in chosen]


def _description(noun: str, brand: str, properties: list[Item]) -> str:
    facts = "".join(
        f"<li>{html.escape(prop['Nom'])} : {html.escape(prop['Valeur'])}</li>"
        for prop in properties
    )
    return (f"<p>{html.escape(noun)} signé <strong>{html.escape(brand)}</strong>,"
            f" pensé pour durer.</p><ul>{facts}</ul>")


def _variants(
    rng: random.Random, sub_family: reference.SubFamily
) -> list[tuple[tuple[str, str], tuple[str, str] | None]]:
    colours = rng.sample(reference.COLOURS, k=rng.choice((1, 2, 2, 3, 3, 4)))
    if not sub_family.by_material:
        return [(colour, None) for colour in colours]
    # An item stays one model in one colour; the material comes with the
    # colour (black leather, camel suede), so it can split products too.
    return [(colour, rng.choice(reference.MATERIALS)) for colour in colours]


def _photo_count(rng: random.Random) -> int:
    return rng.choice((0, 1, 1, 2, 2, 2, 3, 3))


def _sizes(
    rng: random.Random,
    model: int,
    variant_index: int,
    colour_code: str,
    sizes: tuple[str, ...],
) -> list[Item]:
    return [
        {
            "Taille": size,
            "Refs": [ean13(model, variant_index, size_index),
                     f"{model:06d}-{colour_code}-{size}"],
            "Magasins": [
                {"CodeMagasin": store["CodeMagasin"], "Dispo": _stock(rng)}
                for store in reference.STORES
            ],
        }
        for size_index, size in enumerate(sizes)
    ]


def _stock(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.005:
        # Tills sell what was never received: Polaris shows negative stock.
        return -1
    if roll < 0.4:
        return 0
    if roll < 0.75:
        return rng.randint(1, 3)
    return rng.randint(4, 12)
