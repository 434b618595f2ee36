"""What differs between the PrestaShop versions the emulator can play.

The resource declarations describe 8.1; ``adapt`` derives 1.7.8 and 9.x from
them (PATCH itself is gated in the app and the root listing).
"""

from __future__ import annotations

import dataclasses
import re

from .model import INT, Field, Resource

# The versions whose behaviour the declarations and ``adapt`` reproduce.
EMULATED = ("1.7.8.x", "8.x", "9.x")
_EMULATED_PATTERN = re.compile(r"1\.7\.8(\.(\d+|x))?|[89](\.(\d+|x)){1,3}")

# Resources whose multilingual meta_keywords field 9.0 removed.
_META_KEYWORDS = ("products", "categories", "manufacturers")


def adapt(resources: dict[str, Resource], version: str) -> dict[str, Resource]:
    if version.startswith("1."):
        return {name: _as_17(r) for name, r in resources.items()}
    if version.split(".")[0].isdigit() and int(version.split(".")[0]) >= 9:
        return {name: _as_9(r) for name, r in resources.items()}
    return resources


def is_emulated(version: str) -> bool:
    return _EMULATED_PATTERN.fullmatch(version) is not None


def _with_fields(resource: Resource, fields: list[Field]) -> Resource:
    return dataclasses.replace(resource, fields=tuple(fields))


def _as_17(resource: Resource) -> Resource:
    if resource.name == "products":
        return _with_fields(
            resource, [f for f in resource.fields if f.name != "product_type"]
        )
    if resource.name == "combinations":
        fields: list[Field] = []
        for f in resource.fields:
            if f.name in ("available_now", "available_later"):
                continue
            fields.append(f)
            # 1.7.8 still carries the deprecated location and quantity.
            if f.name == "id_product":
                fields.append(Field("location", max_size=64, validator="isGenericName"))
            if f.name == "mpn":
                fields.append(Field("quantity", INT, validator="isInt"))
        return _with_fields(resource, fields)
    return resource


def _as_9(resource: Resource) -> Resource:
    fields = list(resource.fields)
    if resource.name in _META_KEYWORDS:
        fields = [f for f in fields if f.name != "meta_keywords"]
    if resource.name in ("products", "combinations"):
        # ean13 holds any GTIN (up to 14 digits) from 9.0 on.
        fields = [
            dataclasses.replace(f, validator="isGtin", max_size=14)
            if f.name == "ean13"
            else f
            for f in fields
        ]
    if resource.name == "products":
        fields = [
            dataclasses.replace(f, read_only=True) if f.name == "new" else f
            for f in fields
        ]
    return _with_fields(resource, fields)
