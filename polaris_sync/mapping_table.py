"""The merchant's side of the mappings (F1-F9): set, list, CSV out and in.

How a row is *used* (wildcard, ignore, defaults) lives in
``polaris_sync.mapping``; this module only checks and stores what the merchant
writes, so a spreadsheet round trip can never leave a row the sync cannot read.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from polaris_sync.errors import ConfigError
from polaris_sync.state import (
    IGNORE,
    MAPPING_KINDS,
    MAPPING_RESYNC,
    WILDCARD,
    MappingRow,
    State,
)

CSV_COLUMNS = ("kind", "source", "label", "target", "default_weight")

# Called with the rows about to be stored; raises to store none of them.
Verify = Callable[[list[MappingRow]], None]

# Kinds that shape product sheets: the items a changed target concerns were
# read (and skipped or written) by earlier runs, so the catalogue reads them
# again, at the next run. Payments only concern orders not exported yet.
CATALOGUE_KINDS = ("brand", "size-grid", "colour", "category")

# Kinds whose target is one PrestaShop id; categories take several (F3).
SINGLE_ID_KINDS = ("brand", "size-grid", "store")
# Kinds whose target is a name or code: a generic colour, a Polaris payment code.
TEXT_KINDS = ("colour", "payment")


def check_kind(kind: str) -> str:
    if kind not in MAPPING_KINDS:
        raise ConfigError(
            f"unknown mapping kind {kind!r}: use one of {', '.join(MAPPING_KINDS)}"
        )
    return kind


def check_target(kind: str, source: str, target: str | None) -> str | None:
    """The target in stored form, or a ConfigError saying what is expected."""
    if target is None or not target.strip():
        return None
    target = target.strip()
    if target.lower() == IGNORE:
        return IGNORE
    if kind in TEXT_KINDS:
        return target
    parts = [part.strip() for part in target.split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ConfigError(
            f"{kind} {source!r}: target {target!r} must be a PrestaShop id"
            + (" or ids separated by commas" if kind == "category" else "")
            + f", or {IGNORE}"
        )
    if kind in SINGLE_ID_KINDS and len(parts) > 1:
        raise ConfigError(f"{kind} {source!r}: one PrestaShop id only, got {target!r}")
    return ",".join(parts)


def check_weight(kind: str, source: str, weight: str | float | None) -> float | None:
    if weight is None or (isinstance(weight, str) and not weight.strip()):
        return None
    if kind != "category":
        raise ConfigError(f"{kind} {source!r}: only categories carry a default weight")
    try:
        value = float(weight)
    except ValueError:
        raise ConfigError(
            f"category {source!r}: default weight {weight!r} is not a number"
        ) from None
    if value < 0:
        raise ConfigError(f"category {source!r}: default weight cannot be negative")
    return value


def check_payment_code(state: State, source: str, target: str | None) -> None:
    """A payment target must be a code Polaris knows, once its list is known."""
    if target is None or target == IGNORE:
        return
    modes = state.polaris_table("ModesReglement")
    if modes is None:
        return  # not downloaded yet: `pull-config` fetches the list
    codes = sorted(str(mode.get("Code")) for mode in modes if mode.get("Code"))
    if target not in codes:
        raise ConfigError(
            f"payment {source!r}: {target!r} is not a Polaris payment code "
            f"(Polaris has: {', '.join(codes) or 'none'})"
        )


def set_mapping(
    state: State,
    kind: str,
    source: str,
    target: str | None,
    weight: str | float | None = None,
    verify: Verify | None = None,
) -> MappingRow:
    kind = check_kind(kind)
    source = source.strip()
    if not source:
        raise ConfigError(
            f"{kind}: the Polaris value is empty (use {WILDCARD} for all)"
        )
    stored = check_target(kind, source, target)
    if kind == "payment":
        check_payment_code(state, source, stored)
    default_weight = check_weight(kind, source, weight)
    if verify is not None:
        verify([MappingRow(kind, source, stored, default_weight=default_weight)])
    with state.transaction():
        changed = _changes_items(state, kind, source, stored, default_weight)
        state.set_mapping(kind, source, stored, default_weight=default_weight)
        if changed:
            state.request_resync_once(MAPPING_RESYNC)
    row = state.mapping(kind, source)
    assert row is not None
    return row


def _changes_items(
    state: State, kind: str, source: str, target: str | None, weight: float | None
) -> bool:
    """Whether the new row changes what the catalogue does with some items."""
    if kind not in CATALOGUE_KINDS:
        return False
    before = state.mapping(kind, source)
    if before is None:
        return target is not None
    return (before.target, before.default_weight) != (target, weight)


# What a mapping target names in the shop, by kind.
TARGET_RESOURCES = {
    "brand": "manufacturers",
    "size-grid": "product_options",
    "category": "categories",
    "store": "stores",
}


async def absent_targets(rows: Iterable[MappingRow], shop: Any) -> dict[str, set[int]]:
    """Per kind, the target ids the shop does not have: one batched read each."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        if row.kind in TARGET_RESOURCES:
            wanted.setdefault(row.kind, set()).update(row.target_ids())

    async def absent_of(kind: str, ids: set[int]) -> set[int]:
        found = set()
        async for entity in shop.iter_by_ids(TARGET_RESOURCES[kind], sorted(ids)):
            found.add(int(entity["id"]))
        return ids - found

    # The kinds are read at the same time: each read is a round trip to the shop.
    kinds = list(wanted)
    answers = await asyncio.gather(*(absent_of(kind, wanted[kind]) for kind in kinds))
    return dict(zip(kinds, answers, strict=True))


async def missing_targets(rows: Iterable[MappingRow], shop: Any) -> list[str]:
    """``kind source -> id`` for every target id the shop does not have."""
    rows = list(rows)
    absent = await absent_targets(rows, shop)
    return [
        f"{row.kind} {row.source} -> {target}: no such "
        f"{TARGET_RESOURCES[row.kind].replace('_', ' ')} in the shop"
        for row in rows
        if row.kind in TARGET_RESOURCES
        for target in row.target_ids()
        if target in absent[row.kind]
    ]


def export_csv(rows: Iterable[MappingRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        weight = "" if row.default_weight is None else f"{row.default_weight:g}"
        writer.writerow([row.kind, row.source, row.label, row.target or "", weight])
    return out.getvalue()


def import_csv(state: State, path: Path, verify: Verify | None = None) -> int:
    """Apply every row of the file, or none when one is wrong. Returns the count."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
    reader = csv.DictReader(io.StringIO(text), delimiter=_delimiter(text))
    missing = {"kind", "source", "target"} - set(reader.fieldnames or ())
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(sorted(missing))}")

    checked = []
    for line, record in enumerate(reader, start=2):
        try:
            kind = check_kind((record.get("kind") or "").strip())
            source = (record.get("source") or "").strip()
            if not source:
                raise ConfigError("the source column is empty")
            target = check_target(kind, source, record.get("target"))
            if kind == "payment":
                check_payment_code(state, source, target)
            weight = check_weight(kind, source, record.get("default_weight"))
        except ConfigError as error:
            raise ConfigError(f"{path}, line {line}: {error}") from None
        label = (record.get("label") or "").strip() or None
        checked.append((kind, source, target, label, weight))
    if verify is not None:
        verify([MappingRow(*row[:3]) for row in checked])

    with state.transaction():
        changed = False
        for kind, source, target, label, weight in checked:
            changed |= _changes_items(state, kind, source, target, weight)
            state.set_mapping(kind, source, target, label=label, default_weight=weight)
        if changed:
            state.request_resync_once(MAPPING_RESYNC)
    return len(checked)


def _delimiter(text: str) -> str:
    """Spreadsheets set to French write ';' between columns."""
    header = text.splitlines()[0] if text else ""
    return ";" if header.count(";") > header.count(",") else ","
