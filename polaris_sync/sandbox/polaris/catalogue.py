"""Turn PrestaShop's demo catalogue (its installer's XML fixtures) into Polaris items.

The folder is read where it lies; nothing of it is copied. One PrestaShop
product becomes one Polaris model (numbered from ``FIRST_MODEL``), one item per
colour, its other attribute (size, dimension, paper) becoming the sizes.
Prices in the fixtures exclude VAT: the items carry them with 20 % VAT, as a
till shows them. Photos stay in ``img/p`` and are served from there.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from polaris_sync.sandbox.polaris import reference
from polaris_sync.sandbox.polaris.generator import Item, ean13, round_price

FIRST_MODEL = 100
VAT_RATE = 20.0
_COLOUR_GROUP = "Color"
_NO_COLOUR = ("UNI", "uni")


@dataclass(frozen=True)
class DemoPhoto:
    path: Path
    sha1: str


@dataclass
class DemoCatalogue:
    items: list[Item]
    # Photo name (as in an item's ``Chemin``) -> file in the catalogue folder.
    photos: dict[str, DemoPhoto]


def load_demo_catalogue(folder: Path) -> DemoCatalogue:
    data, french = folder / "data", folder / "langs" / "fr"
    if not (data / "product.xml").is_file():
        raise FileNotFoundError(f"no PrestaShop demo catalogue in {folder}")

    texts = _by_id(french / "product.xml")
    attribute_names = {key: _text(node, "name") for key, node in
                       _by_id(french / "attribute.xml").items()}
    attribute_groups = {node.get("id", ""): node.get("id_attribute_group", "")
                        for node in _entities(data / "attribute.xml")}
    attribute_order = list(attribute_groups)
    brands = {node.get("id", ""): _text(node, "name")
              for node in _entities(data / "manufacturer.xml")}
    categories = {key: _text(node, "name") for key, node in
                  _by_id(french / "category.xml").items()}
    combinations = _combinations(data, attribute_groups)
    discounts = _percentage_discounts(data / "specific_price.xml")
    photos = _photos(folder, data / "image.xml")
    product_stock = _product_stock(data / "stock_available.xml")

    items = []
    for position, product in enumerate(_entities(data / "product.xml")):
        key = product.get("id", "")
        model = FIRST_MODEL + position
        common = _common_fields(
            product, texts[key], brands, categories, discounts.get(key)
        )
        common["NoModele"] = model
        common["Photos"] = [
            {"Chemin": name, "Ordre": order}
            for order, name in enumerate(photos.names.get(key, []), start=1)
        ]
        variants = _variants(
            product, combinations.get(key, []), attribute_names, attribute_order,
            product_stock.get(position + 1, 0),
        )
        for variant_index, (colour, sizes) in enumerate(variants):
            items.append(_item(common, model, variant_index, colour, sizes))
    return DemoCatalogue(items=items, photos=photos.files)


@dataclass
class _Combination:
    attributes: dict[str, str]
    quantity: int


@dataclass
class _Photos:
    names: dict[str, list[str]]
    files: dict[str, DemoPhoto]


def _entities(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    entities = root.find("entities")
    return list(entities if entities is not None else root)


def _by_id(path: Path) -> dict[str, ET.Element]:
    return {node.get("id", ""): node for node in _entities(path)}


def _text(node: ET.Element, tag: str) -> str:
    return (node.findtext(tag) or "").strip()


def _combinations(
    data: Path, attribute_groups: dict[str, str]
) -> dict[str, list[_Combination]]:
    attributes: dict[str, dict[str, str]] = defaultdict(dict)
    for link in _entities(data / "product_attribute_combination.xml"):
        attribute = link.get("id_attribute", "")
        group = attribute_groups.get(attribute, "")
        attributes[link.get("id_product_attribute", "")][group] = attribute

    by_product: dict[str, list[_Combination]] = defaultdict(list)
    for combination in _entities(data / "product_attribute.xml"):
        by_product[combination.get("id_product", "")].append(_Combination(
            attributes=attributes[combination.get("id", "")],
            quantity=int(combination.get("quantity") or 0),
        ))
    return by_product


def _percentage_discounts(path: Path) -> dict[str, float]:
    return {
        node.get("id_product", ""): float(node.get("reduction") or 0)
        for node in _entities(path)
        if node.get("reduction_type") == "percentage"
    }


def _photos(folder: Path, path: Path) -> _Photos:
    names: dict[str, list[str]] = defaultdict(list)
    files = {}
    for image in _entities(path):
        file = folder / "img" / "p" / f"{image.get('id')}.jpg"
        if not file.is_file():
            continue
        name = f"d/{file.name}"
        files[name] = DemoPhoto(file, hashlib.sha1(file.read_bytes()).hexdigest())
        if image.get("cover") == "1":
            names[image.get("id_product", "")].insert(0, name)
        else:
            names[image.get("id_product", "")].append(name)
    return _Photos(names=names, files=files)


def _product_stock(path: Path) -> dict[int, int]:
    # Product-level rows use PrestaShop's numeric ids: the product's position.
    return {
        int(node.get("id_product") or 0): int(node.get("quantity") or 0)
        for node in _entities(path)
        if node.get("id_product_attribute") == "0"
    }


def _common_fields(
    product: ET.Element,
    text: ET.Element,
    brands: dict[str, str],
    categories: dict[str, str],
    discount: float | None,
) -> Item:
    price = round_price(float(product.get("price") or 0) * (1 + VAT_RATE / 100))
    brand_key = product.get("id_manufacturer", "")
    category_key = product.get("id_category_default", "")
    common: Item = {
        "Libelle": _text(text, "name"),
        "Classification": {"Code": category_key,
                           "Nom": categories.get(category_key, category_key)},
        "Description": _text(text, "description"),
        "DescriptionCourte": _text(text, "description_short"),
        "PoidsKg": float(product.get("weight") or 0),
        "PrixNormalTTC": price,
        "PrixTTC": round_price(price * (1 - discount)) if discount else price,
        "TauxTVA": VAT_RATE,
        "Publie": product.get("active") == "1",
        "Supprime": False,
        "Proprietes": [],
    }
    if brand_key:
        common["Marque"] = {"Code": brand_key, "Nom": brands.get(brand_key, "")}
    return common


def _variants(
    product: ET.Element,
    combinations: list[_Combination],
    attribute_names: dict[str, str],
    attribute_order: list[str],
    product_quantity: int,
) -> list[tuple[tuple[str, str], list[tuple[str, int]] | None]]:
    """(colour, [(size, quantity)]) per colour; sizes None when not stocked."""
    if product.get("product_type") == "virtual":
        return [(_NO_COLOUR, None)]
    if not combinations:
        return [(_NO_COLOUR, [("TU", product_quantity)])]

    sizes_by_colour: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for combination in combinations:
        colour = combination.attributes.get(_COLOUR_GROUP, "")
        others = [value for group, value in combination.attributes.items()
                  if group != _COLOUR_GROUP]
        size = others[0] if others else "TU"
        sizes_by_colour[colour].append((size, combination.quantity))

    variants: list[tuple[tuple[str, str], list[tuple[str, int]] | None]] = []
    for colour, sizes in sizes_by_colour.items():
        sizes.sort(key=lambda size: attribute_order.index(size[0])
                   if size[0] in attribute_order else len(attribute_order))
        named = [(attribute_names.get(size, size), quantity)
                 for size, quantity in sizes]
        code = (colour[:3].upper(), attribute_names.get(colour, colour)) if colour \
            else _NO_COLOUR
        variants.append((code, named))
    return variants


def _item(
    common: Item,
    model: int,
    variant_index: int,
    colour: tuple[str, str],
    sizes: list[tuple[str, int]] | None,
) -> Item:
    item = dict(common)
    item["Niveau1"] = {"Code": colour[0], "Nom": colour[1]}
    item["NomVariante"] = colour[1]
    if sizes is not None:
        item["Tailles"] = [
            {
                "Taille": size,
                "Refs": [ean13(model, variant_index, size_index),
                         f"{model:06d}-{colour[0]}-{size}"],
                "Magasins": _spread(quantity),
            }
            for size_index, (size, quantity) in enumerate(sizes)
        ]
    return item


def _spread(quantity: int) -> list[Item]:
    """Share a web-shop quantity between the stores: half, a third, the rest."""
    first, second = quantity // 2, quantity // 3
    shares = (first, second, quantity - first - second)
    return [{"CodeMagasin": store["CodeMagasin"], "Dispo": share}
            for store, share in zip(reference.STORES, shares, strict=True)]
