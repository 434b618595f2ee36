"""Polaris WebConnect payloads as Python objects.

Field names follow Python; aliases carry the WebConnect names. Only catalogue
items are modelled: configuration tables, sales and customers travel as plain
dictionaries built by the modules that own them.

Fields marked optional in the contract default to "absent" so that an item
from a server sending fewer fields still parses; unknown fields are ignored.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Payload(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class Coded(Payload):
    """A value Polaris names and may also code: brand, colour, RFS, season..."""

    code: str | None = Field(default=None, alias="Code")
    name: str = Field(default="", alias="Nom")

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    @property
    def key(self) -> str:
        """What mappings are keyed on: the code when there is one, else the name."""
        return self.code if self.code else self.name


class StoreStock(Payload):
    store_code: int = Field(alias="CodeMagasin")
    available: int = Field(default=0, alias="Dispo")


class Size(Payload):
    label: str = Field(alias="Taille")
    refs: list[str] = Field(default_factory=list, alias="Refs")
    stores: list[StoreStock] = Field(default_factory=list, alias="Magasins")

    @field_validator("refs", mode="before")
    @classmethod
    def _refs_as_text(cls, value: Any) -> Any:
        return [str(ref) for ref in value] if isinstance(value, list) else value

    @property
    def ean13(self) -> str | None:
        """The first reference that is a valid EAN-13, if any."""
        return next((ref for ref in self.refs if is_ean13(ref)), None)

    def stock(self, stores: list[int] | None = None) -> int:
        """Available quantity over ``stores`` (all stores when empty or None).

        Summed first, clamped at 0 last: a store in deficit lowers the total.
        """
        wanted = set(stores or ())
        total = sum(
            row.available
            for row in self.stores
            if not wanted or row.store_code in wanted
        )
        return max(total, 0)


class Photo(Payload):
    url: str = Field(alias="Url")
    order: int = Field(default=0, alias="Ordre")
    fingerprint: str | None = Field(default=None, alias="Empreinte")


class Property(Payload):
    name: str = Field(alias="Nom")
    value: str = Field(default="", alias="Valeur")

    @field_validator("value", mode="before")
    @classmethod
    def _value_as_text(cls, value: Any) -> Any:
        return "" if value is None else str(value)


class Promotion(Payload):
    kind: str = Field(default="Promo", alias="Type")  # "Solde" or "Promo"
    price: Decimal = Field(alias="PrixTTC")
    # Kept as Polaris wrote them (ISO date or date-time): a date alone in `Fin`
    # means the promotion lasts that whole day, which a datetime would lose.
    start: str | None = Field(default=None, alias="Debut")
    end: str | None = Field(default=None, alias="Fin")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso_moment(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        dt.datetime.fromisoformat(text)  # a ValueError rejects the item
        return text


class PolarisItem(Payload):
    """One catalogue item: one model in one colour, with its sizes and stock."""

    model_no: int = Field(alias="NoModele")
    label: str = Field(default="", alias="Libelle")
    variant_name: str = Field(default="", alias="NomVariante")
    brand: Coded | None = Field(default=None, alias="Marque")
    classification: Coded | None = Field(default=None, alias="Classification")
    price: Decimal = Field(alias="PrixTTC")
    normal_price: Decimal | None = Field(default=None, alias="PrixNormalTTC")
    last_change: str = Field(default="", alias="DerniereChangement")
    colour: Coded | None = Field(default=None, alias="Niveau1")
    sizes: list[Size] = Field(default_factory=list, alias="Tailles")

    rayon: Coded | None = Field(default=None, alias="Rayon")
    famille: Coded | None = Field(default=None, alias="Famille")
    sous_famille: Coded | None = Field(default=None, alias="SousFamille")
    collection: Coded | None = Field(default=None, alias="Collection")
    season: Coded | None = Field(default=None, alias="Saison")
    size_grid: Coded | None = Field(default=None, alias="GrilleTailles")
    material: Coded | None = Field(default=None, alias="Matiere")
    description: str = Field(default="", alias="Description")
    short_description: str = Field(default="", alias="DescriptionCourte")
    weight_kg: Decimal | None = Field(default=None, alias="PoidsKg")
    photos: list[Photo] = Field(default_factory=list, alias="Photos")
    properties: list[Property] = Field(default_factory=list, alias="Proprietes")
    promotion: Promotion | None = Field(default=None, alias="Promotion")
    vat_rate: Decimal | None = Field(default=None, alias="TauxTVA")
    published: bool = Field(default=True, alias="Publie")
    withdrawn: bool = Field(default=False, alias="Supprime")

    @field_validator("sizes", "photos", "properties", mode="before")
    @classmethod
    def _null_as_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("description", "short_description", mode="before")
    @classmethod
    def _null_as_blank(cls, value: Any) -> Any:
        return "" if value is None else value

    @property
    def colour_key(self) -> str:
        return self.colour.key if self.colour is not None else ""

    @property
    def key(self) -> str:
        """The item's stable key: model number and colour, e.g. ``1042/NOIR``."""
        return f"{self.model_no}/{self.colour_key}"

    @property
    def on_sale(self) -> bool:
        """Polaris marks a price cut by a normal price above the current one."""
        return self.normal_price is not None and self.normal_price > self.price


class ProductPage(Payload):
    items: list[PolarisItem]
    next_cursor: str | None
    # Items of the page that did not parse: (what identifies them, why).
    rejected: list[tuple[str, str]] = Field(default_factory=list)


def is_ean13(text: str) -> bool:
    if len(text) != 13 or not text.isdigit():
        return False
    digits = [int(char) for char in text]
    weighted = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - weighted % 10) % 10 == digits[12]
