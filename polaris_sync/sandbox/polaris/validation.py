"""What Polaris refuses in a customer or a sale, checked before anything is stored.

Each check raises :class:`Rejected` with the message the 400 answer carries,
naming the field the way Polaris names it (``Details[2].Qte``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from polaris_sync.sandbox.polaris import reference

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SALE_TYPES = ("Site",)
REF_EXT_LIMIT = 50


class Rejected(ValueError):
    """A payload Polaris would answer with 400 ``{"Message": ...}``."""


def check_customer(customer: Any, where: str = "Client") -> None:
    if not isinstance(customer, dict):
        raise Rejected(f"{where} doit être un objet")
    if not _text(customer.get("Nom")) and not _text(customer.get("Mail")):
        raise Rejected(f"{where}.Nom ou {where}.Mail est obligatoire")
    for field in ("Nom", "Prenom", "Mail"):
        _optional_text(customer, field, where)
    if "Mail" in customer and customer["Mail"] and "@" not in customer["Mail"]:
        raise Rejected(f"{where}.Mail n'est pas une adresse e-mail")
    for field in ("Telephone", "Mobile"):
        phone = customer.get(field)
        if phone is not None and not (
            isinstance(phone, dict) and isinstance(phone.get("Numero", ""), str)
        ):
            raise Rejected(f"{where}.{field} doit être {{\"Numero\": \"...\"}}")
    refs = customer.get("RefsExt")
    if not isinstance(refs, list) or not refs or not all(
        isinstance(ref, str) and ref.strip() for ref in refs
    ):
        raise Rejected(f"{where}.RefsExt doit être une liste non vide de textes")
    _check_address(customer.get("Adresse"), f"{where}.Adresse")


def check_sale(
    sale: Any, sku_exists: Callable[[str], bool], sale_exists: Callable[[str], bool]
) -> None:
    if not isinstance(sale, dict):
        raise Rejected("la vente doit être un objet JSON")
    ref_ext = sale.get("RefExt")
    if not isinstance(ref_ext, str) or not ref_ext.strip() or len(
            ref_ext) > REF_EXT_LIMIT:
        raise Rejected(f"RefExt est obligatoire ({REF_EXT_LIMIT} caractères au plus)")
    if sale.get("TypeVenteInternet") not in _SALE_TYPES:
        raise Rejected(f"TypeVenteInternet doit valoir l'un de {list(_SALE_TYPES)}")
    if sale.get("Client") is not None:
        check_customer(sale["Client"])
    stores = {store["CodeMagasin"] for store in reference.STORES}
    if not _is_int(sale.get("CodeMagasin")) or sale["CodeMagasin"] not in stores:
        raise Rejected(f"CodeMagasin inconnu : {sale.get('CodeMagasin')!r}")
    _check_utc_date(sale.get("DateVente"))
    _optional_text(sale, "Memo", "Vente")

    origin = sale.get("RefExtOrigine")
    if origin is not None and (not isinstance(origin, str) or not sale_exists(origin)):
        raise Rejected(f"RefExtOrigine ne désigne aucune vente : {origin!r}")
    _check_details(sale.get("Details"), sku_exists)
    _check_payments(sale.get("Reglements"))


def sale_totals(sale: dict[str, Any]) -> tuple[float, float]:
    """(sum of the lines, sum of the payments), incl. VAT, rounded to cents."""
    lines = sum(
        detail["Qte"] * detail["MontantTTC"] - detail.get("RemiseTTC", 0)
        for detail in sale["Details"]
    )
    payments = sum(payment["Montant"] for payment in sale["Reglements"])
    return round(lines, 2), round(payments, 2)


def _check_details(details: Any, sku_exists: Callable[[str], bool]) -> None:
    if not isinstance(details, list) or not details:
        raise Rejected("Details doit contenir au moins une ligne")
    for index, detail in enumerate(details):
        where = f"Details[{index}]"
        if not isinstance(detail, dict):
            raise Rejected(f"{where} doit être un objet")
        sku = detail.get("SKU")
        if not isinstance(sku, str) or not sku.strip():
            raise Rejected(f"{where}.SKU est obligatoire")
        if not sku_exists(sku):
            raise Rejected(f"{where}.SKU : article inconnu {sku!r}")
        if not _is_int(detail.get("Qte")) or detail["Qte"] == 0:
            raise Rejected(f"{where}.Qte doit être un entier non nul")
        _check_amount(detail.get("MontantTTC"), f"{where}.MontantTTC")
        if "RemiseTTC" in detail:
            _check_amount(detail["RemiseTTC"], f"{where}.RemiseTTC")
        _optional_text(detail, "TypeRemise", where)


def _check_payments(payments: Any) -> None:
    if not isinstance(payments, list):
        raise Rejected("Reglements doit être une liste")
    codes = {mode["Code"] for mode in reference.PAYMENT_MODES}
    for index, payment in enumerate(payments):
        where = f"Reglements[{index}]"
        if not isinstance(payment, dict) or payment.get("Code") not in codes:
            raise Rejected(f"{where}.Code : mode de règlement inconnu"
                           f" (connus : {sorted(codes)})")
        _check_amount(payment.get("Montant"), f"{where}.Montant")


def _check_address(address: Any, where: str) -> None:
    if address is None:
        return
    if not isinstance(address, dict):
        raise Rejected(f"{where} doit être un objet")
    for field in ("Nom", "RaisonSociale", "Adresse1", "Adresse2", "Adresse3",
                  "CodePostal", "Ville", "Memo"):
        _optional_text(address, field, where)
    country = address.get("CodePays")
    if country is not None and not (isinstance(country, str)
                                    and _COUNTRY.match(country)):
        raise Rejected(f"{where}.CodePays doit être un code ISO à deux lettres")


def _check_utc_date(value: Any) -> None:
    if not isinstance(value, str):
        raise Rejected("DateVente est obligatoire (ISO-8601, UTC)")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise Rejected(f"DateVente illisible : {value!r}") from error
    offset = moment.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise Rejected(f"DateVente doit être en UTC : {value!r}")


def _check_amount(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected(f"{where} doit être un nombre")
    if not math.isfinite(value) or abs(round(value, 2) - value) > 1e-9:
        raise Rejected(f"{where} doit avoir au plus deux décimales : {value!r}")


def _optional_text(container: dict[str, Any], field: str, where: str) -> None:
    value = container.get(field)
    if value is not None and not isinstance(value, str):
        raise Rejected(f"{where}.{field} doit être du texte")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
