"""Generic colours for the shop's colour filter (E4).

Polaris colours are whatever the shop typed (`Bleu nuit`, `MOUTARDE`,
`noir&blanc`). A colour attribute group gets one of twelve generic colours
instead, or `multicolore` when the value names several. The merchant adds
equivalences through `colour` mapping rows (source: the raw colour, target:
the generic colour), which win over the built-in ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

GENERIC_COLOURS = (
    "noir",
    "blanc",
    "beige",
    "gris",
    "bleu",
    "rouge",
    "orange",
    "marron",
    "vert",
    "jaune",
    "violet",
    "rose",
)
MULTICOLOUR = "multicolore"

# Swatches for the shop's colour filter.
COLOUR_HEX = {
    "noir": "#000000",
    "blanc": "#FFFFFF",
    "beige": "#D8C3A5",
    "gris": "#8C8C8C",
    "bleu": "#1F4E9E",
    "rouge": "#C62828",
    "orange": "#EF7D1A",
    "marron": "#6D4C33",
    "vert": "#2E7D32",
    "jaune": "#F2C200",
    "violet": "#6A1B9A",
    "rose": "#E88FB3",
    MULTICOLOUR: "#B0B0B0",
}

# Words met in fashion colour names, by generic colour. Kept accent-free and
# lower case; compound names are matched word by word.
_WORDS: dict[str, tuple[str, ...]] = {
    "noir": ("noir", "noire", "black", "ebene", "jais"),
    "blanc": ("blanc", "blanche", "white", "ecru", "ivoire", "neige", "craie"),
    "beige": ("beige", "sable", "camel", "nude", "lin", "taupe", "creme", "naturel"),
    "gris": (
        "gris",
        "grise",
        "grey",
        "gray",
        "anthracite",
        "argent",
        "silver",
        "acier",
        "souris",
        "chine",
    ),
    "bleu": (
        "bleu",
        "bleue",
        "blue",
        "marine",
        "navy",
        "indigo",
        "azur",
        "ciel",
        "turquoise",
        "petrole",
        "denim",
        "jean",
        "cobalt",
        "roi",
    ),
    "rouge": (
        "rouge",
        "red",
        "bordeaux",
        "carmin",
        "cerise",
        "framboise",
        "grenat",
        "vermillon",
        "brique",
        "rubis",
    ),
    "orange": ("orange", "corail", "abricot", "mandarine", "rouille", "cuivre"),
    "marron": (
        "marron",
        "brown",
        "chocolat",
        "cognac",
        "caramel",
        "noisette",
        "chataigne",
        "tabac",
        "brun",
        "moka",
        "cafe",
        "havane",
    ),
    "vert": (
        "vert",
        "verte",
        "green",
        "kaki",
        "olive",
        "emeraude",
        "menthe",
        "sauge",
        "anis",
        "bouteille",
        "militaire",
        "sapin",
    ),
    "jaune": (
        "jaune",
        "yellow",
        "moutarde",
        "paille",
        "or",
        "dore",
        "doree",
        "citron",
        "ocre",
        "miel",
        "safran",
        "gold",
    ),
    "violet": (
        "violet",
        "violette",
        "purple",
        "mauve",
        "lilas",
        "prune",
        "aubergine",
        "parme",
        "lavande",
    ),
    "rose": (
        "rose",
        "pink",
        "fuchsia",
        "poudre",
        "saumon",
        "pivoine",
        "magenta",
        "blush",
    ),
}

_BY_WORD = {word: colour for colour, words in _WORDS.items() for word in words}

# Separators that join several colours in one value: noir&blanc, noir/blanc.
_SEVERAL = re.compile(r"\s*(?:&|/|\+|,|\bet\b)\s*")


def plain(text: str) -> str:
    """Lower case, accents removed, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(without_accents.lower().split())


def generic_colour(raw: str, merchant: Mapping[str, str] | None = None) -> str | None:
    """The generic colour of `raw`, or None when nothing is known about it.

    `merchant` maps raw colours (compared accent- and case-free) to generic
    colours and wins over the built-in table.
    """
    merchant_plain = {
        plain(source): target for source, target in (merchant or {}).items()
    }
    value = plain(raw)
    if not value:
        return None
    if value in merchant_plain:
        return merchant_plain[value]

    parts = [part for part in _SEVERAL.split(value) if part]
    if len(parts) > 1:
        colours = {_single(part, merchant_plain) for part in parts}
        colours.discard(None)
        if len(colours) > 1:
            return MULTICOLOUR
        return colours.pop() if colours else None
    return _single(value, merchant_plain)


def _single(value: str, merchant: Mapping[str, str]) -> str | None:
    if value in merchant:
        return merchant[value]
    if value in _BY_WORD:
        return _BY_WORD[value]
    # "bleu nuit", "vert d'eau", "gris chine clair": the first word that names
    # a colour decides.
    for word in re.split(r"[\s'’-]+", value):
        if word in merchant:
            return merchant[word]
        if word in _BY_WORD:
            return _BY_WORD[word]
    return None
