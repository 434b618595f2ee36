"""Declarations: what a webservice resource is made of.

A resource is one :class:`Resource` value: its URL name, its XML node, its
fields in the exact order the real shop prints them, its associations and the
hooks that carry its side effects. The generic machinery (storage, parsing,
rendering, filters, PUT/PATCH semantics) works from these declarations only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Storage kinds. INT is printed as a JSON integer; BOOL, FLOAT and text are
# printed as JSON strings, as the real shop does.
INT = "int"
BOOL = "bool"
FLOAT = "float"
STR = "str"
DATE = "date"
DATETIME = "datetime"

Entity = dict[str, Any]


@dataclass(frozen=True)
class Field:
    """One element of a resource, as the webservice definition declares it."""

    name: str
    kind: str = STR
    required: bool = False
    # setter = false in PrestaShop: GET shows it, writes answer 400 code 93.
    read_only: bool = False
    # Computed by a getter: marked notFilterable, never a column.
    virtual: bool = False
    ml: bool = False
    # Resource the value points to (xlink:href), omitted when the value is 0.
    ref: str | None = None
    validator: str | None = None
    max_size: int | None = None
    values: tuple[str, ...] = ()
    # Substituted for an empty value before validation and saving.
    default: str | None = None
    # Empty values are stored as NULL (printed '' in XML, null in JSON).
    nullable: bool = False
    # Hidden from the "blank" schema (in addition to read-only fields).
    blank_hidden: bool = False
    # Virtual fields: computed at load time and kept on the object (so PUT
    # resets them and write answers echo them) instead of at render time.
    loaded: bool = False
    # Filtering/sorting needs date=1 (date_add, date_upd).
    date_gated: bool = False
    # Filtering on it is a SQL error in the real shop: 500 with no body
    # (the multilingual name of order_states).
    filter_crashes: bool = False
    # Decimals printed for a FLOAT column (DECIMAL(20,6) unless declared).
    decimals: int = 6
    # The href is printed even for an empty value (orders.current_state in
    # the answer to a POST: `order_states/` with no id).
    href_when_blank: bool = False

    @property
    def stored(self) -> bool:
        return not self.virtual


@dataclass(frozen=True)
class AssocField:
    name: str
    ref: str | None = None
    required: bool = False
    # Print the href even for id 0 (cart_rows, order_rows: `customizations/0`).
    always_href: bool = False


@dataclass(frozen=True)
class Association:
    """An `<associations>` child: `<name nodeType=node api=api>` of items."""

    name: str
    node: str
    api: str
    fields: tuple[AssocField, ...] = (AssocField("id", required=True),)
    # Resource of the item's xlink:href (built from the first field's value).
    item_ref: str | None = None
    # Writes are silently ignored when False (images, stock_availables...).
    writable: bool = True
    # Stored on the entity itself (JSON column) unless a getter derives it.
    getter: Callable[[Any, Entity], list[dict[str, Any]]] | None = None
    setter: Callable[[Any, Entity, list[dict[str, str]]], None] | None = None
    # Rows of another table shown inline (cart_rows, order_rows...): the
    # wrapper says virtualEntity="true" and names no api.
    virtual_entity: bool = False


@dataclass
class Hooks:
    """Side effects of one resource; each receives the request context."""

    before_validate: Callable[[Any, Entity, str], None] | None = None
    before_save: Callable[[Any, Entity, str], None] | None = None
    after_save: Callable[[Any, Entity, str], None] | None = None
    before_delete: Callable[[Any, Entity], None] | None = None
    after_delete: Callable[[Any, Entity], None] | None = None
    # Returns True when the object is only marked deleted and keeps its row
    # (an address an order uses): DELETE answers 200, GET still finds it.
    soft_delete: Callable[[Any, Entity], bool] | None = None
    # Virtual field values: name -> getter(ctx, entity) at render time.
    getters: dict[str, Callable[[Any, Entity], Any]] = field(default_factory=dict)
    # JSON tweaks for one entity (e.g. values PrestaShop prints typed).
    json_types: Callable[[Any, Entity, dict[str, Any]], None] | None = None
    # Computed values printed after the fields of a full view, as
    # (element name, text): the `price[alias][...]` prices of products.
    extra_fields: Callable[[Any, Entity], list[tuple[str, str]]] | None = None


@dataclass
class Resource:
    name: str
    node: str
    class_name: str
    fields: tuple[Field, ...]
    associations: tuple[Association, ...] = ()
    hooks: Hooks = field(default_factory=Hooks)
    # Extra hidden columns: name -> SQL type.
    hidden_columns: dict[str, str] = field(default_factory=dict)
    # Columns to index: a name, or a tuple of names for one index on several.
    indexes: tuple[str | tuple[str, ...], ...] = ()
    # The root listing's description (registry.RESOURCE_INDEX holds them all).
    description: str = ""

    # Node of a list when it is not the URL name: order_slip lists print
    # <order_slips> and build their hrefs from that plural (.../order_slips/7).
    plural: str = ""
    # SQL condition (on alias t) of the rows that belong to the shop; the
    # others are left out of lists and answer 404 code 131 when read.
    in_shop: str = ""

    @property
    def list_node(self) -> str:
        return self.plural or self.name

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}
        self.assoc_by_name = {a.name: a for a in self.associations}
        self.stored_fields = tuple(f for f in self.fields if f.stored)

    @property
    def table(self) -> str:
        return f"ws_{self.name}"


def date_fields() -> tuple[Field, Field]:
    """date_add and date_upd: filterable and sortable only with date=1."""
    return (
        Field("date_add", DATETIME, validator="isDate", date_gated=True),
        Field("date_upd", DATETIME, validator="isDate", date_gated=True),
    )


def id_field() -> Field:
    return Field("id", INT)


def empty_value(value: Any) -> bool:
    """PHP's empty(): '', '0', 0, None, False and 0.0 are empty."""
    return value in (None, "", "0", 0, False) or value == 0.0
