"""One Polaris catalogue item (a model in one colour), read from its JSON.

Only the fields the catalogue needs are kept, each with a safe empty value
when Polaris leaves it out. The WebConnect client's own model may carry more;
`from_polaris` accepts either it or the raw JSON mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class Coded:
    """A Polaris `{"Code": ..., "Nom": ...}` pair."""

    code: str = ""
    name: str = ""

    @property
    def key(self) -> str:
        """What mapping rows are keyed by: the code, else the name."""
        return self.code or self.name

    def __bool__(self) -> bool:
        return bool(self.code or self.name)


@dataclass(frozen=True)
class Size:
    label: str
    refs: tuple[str, ...] = ()
    stock_by_store: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Photo:
    url: str
    order: int
    fingerprint: str


@dataclass(frozen=True)
class Promotion:
    kind: str
    price_incl_tax: Decimal | None
    starts: str
    ends: str


@dataclass(frozen=True)
class CatalogueItem:
    model: int
    label: str
    variant: str
    brand: Coded
    colour: Coded
    material: Coded
    size_grid: Coded
    classification: Coded
    rayon: Coded
    famille: Coded
    sous_famille: Coded
    collection: Coded
    season: Coded
    price_incl_tax: Decimal
    normal_price_incl_tax: Decimal
    tax_rate: Decimal | None
    changed_at: str
    sizes: tuple[Size, ...]
    description: str = ""
    short_description: str = ""
    weight_kg: Decimal | None = None
    photos: tuple[Photo, ...] = ()
    # Model properties (E3): (name, value), e.g. ("Origine", "Portugal").
    properties: tuple[tuple[str, str], ...] = ()
    promotion: Promotion | None = None
    published: bool = True
    withdrawn: bool = False

    @property
    def ref(self) -> str:
        """The model reference a merchant types in `lock` and `resync-product`."""
        return str(self.model)

    @property
    def variant_key(self) -> str:
        """What tells the items of one model apart: colour, then material.

        Written like Polaris writes variants: `NOI`, or `NOI-CUI` when a second
        discriminating attribute (the material) is used.
        """
        parts = [self.colour.key, self.material.key]
        return "-".join(part for part in parts if part)

    @property
    def variant_label(self) -> str:
        """The variant in words: `camel cuir`, else the colour's name."""
        return self.variant or " ".join(
            part for part in (self.colour.name, self.material.name) if part
        )


def from_polaris(item: Any) -> CatalogueItem:
    """A `CatalogueItem` from the WebConnect JSON or a model that dumps to it."""
    if hasattr(item, "model_dump"):
        item = item.model_dump(by_alias=True, exclude_none=True)
    return parse_item(item)


def parse_item(raw: Mapping[str, Any]) -> CatalogueItem:
    price = _decimal(raw.get("PrixTTC")) or Decimal(0)
    normal = _decimal(raw.get("PrixNormalTTC")) or price
    return CatalogueItem(
        model=int(raw["NoModele"]),
        label=_text(raw.get("Libelle")),
        variant=_text(raw.get("NomVariante")),
        brand=_coded(raw.get("Marque")),
        colour=_coded(raw.get("Niveau1")),
        material=_coded(raw.get("Matiere")),
        size_grid=_coded(raw.get("GrilleTailles")),
        classification=_coded(raw.get("Classification")),
        rayon=_coded(raw.get("Rayon")),
        famille=_coded(raw.get("Famille")),
        sous_famille=_coded(raw.get("SousFamille")),
        collection=_coded(raw.get("Collection")),
        season=_coded(raw.get("Saison")),
        price_incl_tax=price,
        normal_price_incl_tax=normal,
        tax_rate=_decimal(raw.get("TauxTVA")),
        changed_at=_text(raw.get("DerniereChangement")),
        sizes=tuple(_size(size) for size in raw.get("Tailles") or ()),
        description=_text(raw.get("Description")),
        short_description=_text(raw.get("DescriptionCourte")),
        weight_kg=_decimal(raw.get("PoidsKg")),
        photos=_photos(raw.get("Photos") or ()),
        properties=tuple(
            (_text(prop.get("Nom")), _text(prop.get("Valeur")))
            for prop in raw.get("Proprietes") or ()
            if _text(prop.get("Nom")) and _text(prop.get("Valeur"))
        ),
        promotion=_promotion(raw.get("Promotion")),
        published=raw.get("Publie") is not False,
        withdrawn=raw.get("Supprime") is True,
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _coded(value: Any) -> Coded:
    if not isinstance(value, Mapping):
        return Coded()
    return Coded(code=_text(value.get("Code")), name=_text(value.get("Nom")))


def _size(raw: Mapping[str, Any]) -> Size:
    stock: dict[int, int] = {}
    for store in raw.get("Magasins") or ():
        code = int(store["CodeMagasin"])
        stock[code] = stock.get(code, 0) + int(store.get("Dispo") or 0)
    refs = tuple(_text(ref) for ref in raw.get("Refs") or () if _text(ref))
    return Size(label=_text(raw.get("Taille")), refs=refs, stock_by_store=stock)


def _photos(raw: Sequence[Mapping[str, Any]]) -> tuple[Photo, ...]:
    photos = [
        Photo(
            url=_text(photo.get("Url")),
            order=int(photo.get("Ordre") or 0),
            fingerprint=_text(photo.get("Empreinte")) or _text(photo.get("Url")),
        )
        for photo in raw
        if _text(photo.get("Url"))
    ]
    return tuple(sorted(photos, key=lambda photo: photo.order))


def _promotion(raw: Any) -> Promotion | None:
    if not isinstance(raw, Mapping):
        return None
    return Promotion(
        kind=_text(raw.get("Type")),
        price_incl_tax=_decimal(raw.get("PrixTTC")),
        starts=_text(raw.get("Debut")),
        ends=_text(raw.get("Fin")),
    )
