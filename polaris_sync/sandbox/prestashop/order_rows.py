"""Reading and writing rows of the emulated shop from the order-side logic.

The webservice engine writes what clients send; these helpers write what the
shop itself computes (order lines, invoices, payments...), always as complete
rows, so that every field reads back with its stored empty value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .model import Entity, Resource
from .store import Store
from .values import to_stored

if TYPE_CHECKING:
    from .engine import Context

# What PHP prints when it dies half-way: status 500, text/html, no version.
SQL_FAILURE = "text/html; charset=utf-8"


def resource(ctx: Context, name: str) -> Resource:
    return ctx.shop.resources[name]


def fetch(ctx: Context, name: str, entity_id: Any) -> Entity | None:
    try:
        number = int(str(entity_id))
    except ValueError:
        return None
    return ctx.store.get(resource(ctx, name), number) if number > 0 else None


def fetch_where(ctx: Context, name: str, where: str, *params: Any) -> list[Entity]:
    return ctx.store.select(resource(ctx, name), where, params, "ORDER BY id")


def insert(ctx: Context, name: str, values: dict[str, Any]) -> int:
    return insert_row(ctx.store, resource(ctx, name), values, ctx.shop.languages)


def insert_row(
    store: Store, target: Resource, values: dict[str, Any], languages: list[int]
) -> int:
    """Insert a complete row: every field not given takes its stored empty value."""
    row: Entity = {}
    for column in target.stored_fields:
        value = values.get(column.name)
        if column.ml:
            texts = value or {}
            row[column.name] = {lang: texts.get(lang, "") for lang in languages}
        else:
            row[column.name] = to_stored(column, _plain(value))
    for name in target.hidden_columns:
        if name in values:
            row[name] = values[name]
    row["_assoc"] = values.get("_assoc", {})
    if values.get("id"):
        row["id"] = values["id"]
    return store.insert(target, row)


def update(ctx: Context, name: str, entity_id: int, values: dict[str, Any]) -> None:
    target = resource(ctx, name)
    row = {
        key: to_stored(target.by_name[key], _plain(value))
        if key in target.by_name
        else value
        for key, value in values.items()
    }
    ctx.store.update(target, entity_id, row)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return int(value)
    return value


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0))
