"""The list parameters: `display`, `filter[...]`, `sort` and `limit`.

The filter grammar is PrestaShop's, quirks included: `[a|b]` lists (not when
the first pipe opens the value), `[x,y]` inclusive ranges with sorted bounds,
unescaped `%`/`_` in LIKE patterns, `>[v]`, `<[v]`, `![a|b]`, and date fields
gated behind `date=1`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import EmptyAnswer, ParameterError, sql_failure
from .model import INT, Field, Resource, id_field
from .values import php_int

_BRACKETED = re.compile(r"^(.*)\[(.*)\](.*)$", re.S)
_RANGE = re.compile(r"^([\d.:\- ]+),([\d.:\- ]+)$")


@dataclass
class Display:
    """Which fields (and associations) a GET prints."""

    full: bool = False
    minimum: bool = False
    fields: list[str] = field(default_factory=list)
    # association name -> sub-fields ([] = all)
    associations: dict[str, list[str]] = field(default_factory=dict)
    given: bool = False


def parse_display(resource: Resource, raw: str | None) -> Display:
    if raw is None:
        return Display()
    if raw == "full":
        return Display(full=True, given=True)
    if raw == "minimum":
        return Display(minimum=True, given=True)
    if not (raw.startswith("[") and raw.endswith("]")):
        raise ParameterError(
            36,
            'The "display" syntax is incorrect. For example: display=[field1,field2]',
        )
    display = Display(given=True)
    for name, sub in _split_display(raw[1:-1]):
        if name in resource.assoc_by_name:
            display.associations[name] = sub
        elif name == "id" or name in resource.by_name:
            display.fields.append(name)
        else:
            available = ", ".join(["id", *resource.by_name])
            raise ParameterError(
                35,
                f'Unable to display this field "{name}". However, these are '
                f"available: {available}",
            )
    return display


def _split_display(inner: str) -> list[tuple[str, list[str]]]:
    parts: list[tuple[str, list[str]]] = []
    for match in re.finditer(r"(\w+)(?:\[([^\]]*)\])?", inner):
        sub = [s for s in (match.group(2) or "").split(",") if s]
        parts.append((match.group(1), sub))
    return parts


# --- filters ----------------------------------------------------------------


def filterable_field(resource: Resource, name: str) -> Field:
    return id_field() if name == "id" else resource.by_name[name]


def build_filters(
    resource: Resource,
    params: list[tuple[str, str]],
    date_enabled: bool,
    languages: list[int],
) -> tuple[str, list[Any]]:
    """SQL WHERE clause for every `filter[name]=value` of the query."""
    clauses: list[str] = []
    values: list[Any] = []
    for key, value in params:
        match = re.fullmatch(r"filter\[(\w+)\]", key)
        if not match:
            continue
        field_ = _checked_filter_field(resource, match.group(1), date_enabled)
        if value == "":
            raise ParameterError(
                33, f'The value of the filter "{field_.name}" is empty'
            )
        clause, args = _condition(field_, value, languages)
        clauses.append(clause)
        values.extend(args)
    return (" AND ".join(clauses) or "1"), values


def _checked_filter_field(resource: Resource, name: str, date_enabled: bool) -> Field:
    known = name == "id" or name in resource.by_name
    field_ = filterable_field(resource, name) if known else None
    if field_ is None or (field_.date_gated and not date_enabled):
        names = [n for n in ["id", *resource.by_name] if n not in _gated(resource)]
        listing = ", ".join(f'"{n}"' for n in names)
        raise ParameterError(
            32,
            f'This filter does not exist. Did you mean: "{_closest(name, names)}"? '
            f"The full list is: {listing}",
        )
    if field_.filter_crashes:
        raise sql_failure()
    if field_.virtual:
        raise ParameterError(
            34,
            f'The field "{name}" is dynamic. It is not possible to filter GET '
            "query with this field.",
        )
    return field_


def _gated(resource: Resource) -> set[str]:
    return {f.name for f in resource.fields if f.date_gated}


def _closest(name: str, names: list[str]) -> str:
    import difflib

    found = difflib.get_close_matches(name, names, n=1, cutoff=0.0)
    return found[0] if found else names[0]


def _condition(
    field_: Field, value: str, languages: list[int]
) -> tuple[str, list[Any]]:
    match = _BRACKETED.match(value)
    if match is None:
        return _compare(field_, "=", value, languages)
    prefix, inner, suffix = match.groups()
    if "|" in inner and not inner.startswith("|"):
        options = inner.split("|")
        operator, joiner = ("!=", " AND ") if prefix == "!" else ("=", " OR ")
        return _joined(field_, operator, options, joiner, languages)
    ranged = _RANGE.match(inner)
    if ranged:
        low, high = sorted(
            (ranged.group(1), ranged.group(2)), key=lambda v: _sort_key(field_, v)
        )
        return _column_condition(field_, "BETWEEN ? AND ?", [low, high], languages)
    if prefix == "%" or suffix == "%":
        pattern = f"{'%' if prefix == '%' else ''}{inner}{'%' if suffix == '%' else ''}"
        return _column_condition(field_, "LIKE ?", [pattern], languages)
    operator = {">": ">", "<": "<", "!": "!="}.get(prefix, "=")
    return _compare(field_, operator, inner, languages)


def _sort_key(field_: Field, value: str) -> Any:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def _joined(
    field_: Field, operator: str, options: list[str], joiner: str, languages: list[int]
) -> tuple[str, list[Any]]:
    parts: list[str] = []
    args: list[Any] = []
    for option in options:
        clause, values = _compare(field_, operator, option, languages)
        parts.append(clause)
        args.extend(values)
    return "(" + joiner.join(parts) + ")", args


def _compare(
    field_: Field, operator: str, value: str, languages: list[int]
) -> tuple[str, list[Any]]:
    collate = "" if field_.kind == INT else " COLLATE NOCASE"
    return _column_condition(field_, f"{operator} ?{collate}", [value], languages)


def _column_condition(
    field_: Field, condition: str, args: list[Any], languages: list[int]
) -> tuple[str, list[Any]]:
    if field_.ml:
        marks = ", ".join("?" for _ in languages)
        sql = (
            f'EXISTS (SELECT 1 FROM json_each(t."{field_.name}") j '
            f"WHERE j.key IN ({marks}) AND j.value {condition})"
        )
        return sql, [*(str(lang) for lang in languages), *args]
    return f't."{field_.name}" {condition}', args


# --- sort and limit ---------------------------------------------------------


def build_order(
    resource: Resource, raw: str | None, date_enabled: bool, default_language: int
) -> str:
    if raw is None:
        return "ORDER BY t.id"
    inner = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    terms: list[str] = []
    for part in inner.split(","):
        name, _, direction = part.rpartition("_")
        if not name or direction.upper() not in ("ASC", "DESC"):
            raise ParameterError(
                37,
                'The "sort" value has to be formed as this example: "field_ASC" or '
                "'[field_1_DESC,field_2_ASC,field_3_ASC,...]' "
                '("field" has to be an available field)',
            )
        term = _sort_term(resource, name, date_enabled, default_language)
        if term:
            terms.append(f"{term} {direction.upper()}")
    terms.append("t.id ASC")
    return "ORDER BY " + ", ".join(terms)


def _sort_term(
    resource: Resource, name: str, date_enabled: bool, default_language: int
) -> str:
    field_ = (
        filterable_field(resource, name)
        if (name == "id" or name in resource.by_name)
        else None
    )
    if field_ is None or (field_.date_gated and not date_enabled):
        available = ", ".join(
            n for n in ["id", *resource.by_name] if n not in _gated(resource)
        )
        raise ParameterError(
            38,
            "Unable to filter by this field. However, these are available: "
            f"{available}",
        )
    if field_.virtual:
        # The real shop sorts on a column of that name when one exists in the
        # SQL (quantity) and fails in SQL otherwise.
        if field_.loaded:
            return ""
        raise EmptyAnswer(500, "text/html; charset=utf-8")
    if field_.ml:
        return f'json_extract(t."{name}", \'$."{default_language}"\') COLLATE NOCASE'
    return f't."{name}"'


def build_limit(raw: str | None) -> str:
    if raw is None:
        return ""
    parts = raw.split(",")
    if len(parts) > 2:
        raise ParameterError(
            39, 'The "limit" value has to be formed as this example: "5,25" or "10"'
        )
    if len(parts) == 1:
        return f"LIMIT {max(php_int(parts[0]), 0)}"
    offset, count = (max(php_int(p), 0) for p in parts)
    return f"LIMIT {count} OFFSET {offset}"
