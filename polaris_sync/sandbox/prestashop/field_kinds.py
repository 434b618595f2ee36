"""Short constructors for field declarations, shared by the order-side modules."""

from __future__ import annotations

from typing import Any

from .model import BOOL, DATETIME, FLOAT, INT, STR, Field


def int_field(name: str, **options: Any) -> Field:
    return Field(name, INT, **options)


def bool_field(name: str, **options: Any) -> Field:
    return Field(name, BOOL, validator="isBool", **options)


def text_field(name: str, **options: Any) -> Field:
    return Field(name, STR, **options)


def ml_field(name: str, **options: Any) -> Field:
    return Field(name, STR, ml=True, **options)


def money_field(name: str, **options: Any) -> Field:
    return Field(name, FLOAT, validator="isPrice", **options)


def float_field(name: str, **options: Any) -> Field:
    return Field(name, FLOAT, validator="isFloat", **options)


def datetime_field(name: str, **options: Any) -> Field:
    return Field(name, DATETIME, validator="isDate", **options)


def date_add_field() -> Field:
    return datetime_field("date_add", date_gated=True)


def date_upd_field() -> Field:
    return datetime_field("date_upd", date_gated=True)
