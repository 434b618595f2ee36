"""The simulated shop's settings: stores, brands, size grids, RFS tree, ...

These tables are what `GET /Config/<Table>` serves and what the generator draws
from. The names are invented for the sandbox; they look like what a French
fashion retailer keeps in Polaris.
"""

from __future__ import annotations

from dataclasses import dataclass

STORES = (
    {"CodeMagasin": 1, "Nom": "Boutique Presqu'île", "Ville": "Lyon"},
    {"CodeMagasin": 2, "Nom": "Boutique Vieille Ville", "Ville": "Annecy"},
    {"CodeMagasin": 3, "Nom": "Dépôt logistique", "Ville": "Villeurbanne"},
)
REFERENCE_STORE = 1

BRANDS = (
    ("ATL", "Atelier Lumière"),
    ("RIV", "Maison Rivage"),
    ("NRD", "Nordé"),
    ("CAP", "Cap Ferrat Studio"),
    ("BAL", "Balthazar & Fils"),
    ("ORC", "L'Orée Céleste"),
)

# Sizes in the order a shop assistant reads them on the label.
SIZE_GRIDS = {
    "TXT": ("Tailles textile", ("XS", "S", "M", "L", "XL", "XXL")),
    "F36": ("Tailles femme 36-46", ("36", "38", "40", "42", "44", "46")),
    "CHA": (
        "Pointures",
        ("38,5", "39", "39,5", "40", "40,5", "41", "41,5", "42", "42,5", "43",
         "43,5", "44", "44,5", "45"),
    ),
    "TU": ("Taille unique", ("TU",)),
}

# (code, name): names as the merchant typed them, slashes and accents included.
COLOURS = (
    ("NOI", "noir"),
    ("BLA", "blanc"),
    ("MAR", "bleu marine"),
    ("MOU", "moutarde"),
    ("NBL", "noir/blanc"),
    ("ECR", "écru"),
    ("KAK", "kaki"),
    ("BOR", "bordeaux"),
    ("GCH", "gris chiné"),
    ("RPO", "rose poudré"),
    ("CAM", "camel"),
    ("VBO", "vert bouteille"),
    ("RME", "rayé marine/écru"),
    ("TER", "terracotta"),
    ("BCI", "bleu ciel"),
    ("ANT", "anthracite"),
)

MATERIALS = (("CUI", "cuir"), ("TOI", "toile enduite"), ("DAI", "daim"))


@dataclass(frozen=True)
class SubFamily:
    """The bottom of the RFS tree (Rayon / Famille / SousFamille)."""

    code: str
    name: str
    nouns: tuple[str, ...]
    size_grid: str
    price_range: tuple[int, int]
    weight_kg: float
    by_material: bool = False


@dataclass(frozen=True)
class Family:
    code: str
    name: str
    sub_families: tuple[SubFamily, ...]


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    families: tuple[Family, ...]


RFS = (
    Department("F", "Femme", (
        Family("FRO", "Robes", (
            SubFamily("FROC", "Robes courtes", ("Robe", "Robe chemise"),
                      "F36", (39, 129), 0.35),
            SubFamily("FROL", "Robes longues", ("Robe longue", "Robe portefeuille"),
                      "F36", (59, 189), 0.45),
        )),
        Family("FHA", "Hauts", (
            SubFamily("FHAT", "T-shirts", ("T-shirt", "Débardeur"),
                      "TXT", (15, 45), 0.18),
            SubFamily("FHAP", "Pulls", ("Pull", "Cardigan", "Gilet"),
                      "TXT", (45, 149), 0.5),
        )),
        Family("FPA", "Pantalons", (
            SubFamily("FPAJ", "Jeans", ("Jean droit", "Jean flare"),
                      "F36", (59, 119), 0.6),
        )),
        Family("FCH", "Chaussures", (
            SubFamily("FCHB", "Bottines", ("Bottine", "Boots"),
                      "CHA", (89, 219), 1.1),
        )),
    )),
    Department("H", "Homme", (
        Family("HHA", "Hauts", (
            SubFamily("HHAC", "Chemises", ("Chemise", "Surchemise"),
                      "TXT", (49, 109), 0.3),
            SubFamily("HHAS", "Sweats", ("Sweat", "Hoodie"),
                      "TXT", (45, 99), 0.55),
        )),
        Family("HCH", "Chaussures", (
            SubFamily("HCHS", "Sneakers", ("Sneaker", "Tennis"),
                      "CHA", (69, 159), 0.9),
        )),
    )),
    Department("A", "Accessoires", (
        Family("ASA", "Sacs", (
            SubFamily("ASAM", "Sacs à main", ("Sac cabas", "Sac besace", "Pochette"),
                      "TU", (49, 259), 0.7, by_material=True),
        )),
        Family("AFO", "Foulards", (
            SubFamily("AFOE", "Écharpes", ("Écharpe", "Foulard", "Étole"),
                      "TU", (19, 69), 0.15),
        )),
    )),
)

COLLECTIONS = (
    ("ESS", "Essentiels"),
    ("LIN", "Capsule lin"),
    ("MON", "Montagne"),
    ("CER", "Cérémonie"),
)

SEASONS = (
    ("E26", "Printemps-été 2026"),
    ("H26", "Automne-hiver 2026-2027"),
    ("PER", "Permanent"),
)

PAYMENT_MODES = (
    {"Code": "CB", "Libelle": "Carte bancaire"},
    {"Code": "PP", "Libelle": "PayPal"},
    {"Code": "VIR", "Libelle": "Virement"},
    {"Code": "CHQ", "Libelle": "Chèque"},
    {"Code": "BA", "Libelle": "Bon d'achat"},
    {"Code": "AVO", "Libelle": "Avoir"},
)

PROPERTIES = (
    ("Composition", ("100 % coton", "100 % lin", "70 % laine, 30 % polyamide",
                     "cuir de vachette", "55 % lin, 45 % viscose")),
    ("Entretien", ("Lavage à 30 °C", "Lavage à la main", "Nettoyage à sec")),
    ("Origine", ("France", "Portugal", "Italie", "Maroc")),
    ("Coupe", ("Ajustée", "Droite", "Ample", "Oversize")),
)

# Service articles a sale may carry besides products: shipping, gift wrapping,
# vouchers. The merchant configures these references in polaris-sync.
SERVICE_SKUS = {
    "PORT": "Frais de port",
    "EMBAL": "Emballage cadeau",
    "BON": "Bon d'achat",
}


def sub_families() -> list[tuple[Department, Family, SubFamily]]:
    return [
        (department, family, sub_family)
        for department in RFS
        for family in department.families
        for sub_family in family.sub_families
    ]


def config_tables() -> dict[str, list[dict[str, object]]]:
    """Every `Config/<Table>` answer, keyed by table name."""
    return {
        "Magasins": [dict(store) for store in STORES],
        "Marques": [{"Code": code, "Nom": name} for code, name in BRANDS],
        "GrillesTailles": [
            {"Code": code, "Nom": name, "Tailles": list(sizes)}
            for code, (name, sizes) in SIZE_GRIDS.items()
        ],
        "Classifications": [_department_node(department) for department in RFS],
        "Collections": [{"Code": code, "Nom": name} for code, name in COLLECTIONS],
        "Saisons": [{"Code": code, "Nom": name} for code, name in SEASONS],
        "ModesReglement": [dict(mode) for mode in PAYMENT_MODES],
        "Proprietes": [
            {"Nom": name, "Valeurs": list(values)} for name, values in PROPERTIES
        ],
    }


def _department_node(department: Department) -> dict[str, object]:
    return {
        "Niveau": "Rayon",
        "Code": department.code,
        "Nom": department.name,
        "Enfants": [
            {
                "Niveau": "Famille",
                "Code": family.code,
                "Nom": family.name,
                "Enfants": [
                    {"Niveau": "SousFamille", "Code": sub.code, "Nom": sub.name,
                     "Enfants": []}
                    for sub in family.sub_families
                ],
            }
            for family in department.families
        ],
    }
