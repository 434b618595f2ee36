"""The config stage: download Polaris' settings and offer them for mapping (B4, F7).

Each table is kept whole in the state. Values the merchant maps (stores,
brands, size grids, classifications, collections, seasons) get a mapping row
with no target the first time they are met, so the merchant only has to fill
in targets (F6: brands and size grids stay ignored until then).

A table this Polaris server does not offer is noted and skipped: older servers
lack some of them, and the catalogue stage meets the same values anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from polaris_sync.errors import ItemRejected
from polaris_sync.stages.base import StageContext, StageResult

STAGE = "config"

Row = dict[str, Any]
MappingValue = tuple[str, str, str]  # kind, source, label


def _coded(kind: str, prefix: str = "") -> Callable[[Row], Iterator[MappingValue]]:
    """Rows keyed like catalogue items are: the code, else the name."""

    def values(row: Row) -> Iterator[MappingValue]:
        name = str(row.get("Nom") or row.get("Libelle") or "").strip()
        code = str(row.get("Code") or "").strip()
        if code or name:
            yield kind, prefix + (code or name), name

    return values


def _stores(row: Row) -> Iterator[MappingValue]:
    if row.get("CodeMagasin") is None:
        return
    place = f" ({row['Ville']})" if row.get("Ville") else ""
    yield "store", str(row["CodeMagasin"]), f"{row.get('Nom') or ''}{place}"


# RFS levels of the classification tree, keyed as the catalogue keys the
# item's Rayon, Famille and SousFamille.
RFS_PREFIXES = {
    "Rayon": "rayon:",
    "Famille": "famille:",
    "SousFamille": "sous-famille:",
}


def _classification_tree(row: Row) -> Iterator[MappingValue]:
    prefix = RFS_PREFIXES.get(str(row.get("Niveau") or ""), "classification:")
    yield from _coded("category", prefix)(row)
    for child in row.get("Enfants") or ():
        if isinstance(child, dict):
            yield from _classification_tree(child)


def _no_mapping(row: Row) -> Iterator[MappingValue]:
    return iter(())


# Table -> the mapping values its rows carry. Category sources are prefixed by
# the level they come from, as the catalogue mapping keys them.
TABLES: dict[str, Callable[[Row], Iterator[MappingValue]]] = {
    "Magasins": _stores,
    "Marques": _coded("brand"),
    "GrillesTailles": _coded("size-grid"),
    "Classifications": _classification_tree,
    "Collections": _coded("category", "collection:"),
    "Saisons": _coded("category", "saison:"),
    "ModesReglement": _no_mapping,
    "Proprietes": _no_mapping,
}


async def run(ctx: StageContext) -> StageResult:
    result = StageResult(STAGE)
    ctx.progress.start(STAGE, len(TABLES))
    for table, mapping_values in TABLES.items():
        try:
            rows = await ctx.polaris.get_config(table)
        except ItemRejected as error:
            _table_unavailable(ctx, result, table, error)
            continue
        with ctx.state.transaction():
            ctx.state.set_polaris_table(table, rows)
            for row in rows:
                for kind, source, label in mapping_values(row):
                    _note(ctx, result, kind, source, label)
        result.count("tables", what="")
        ctx.progress.advance()
    return result


def _note(
    ctx: StageContext, result: StageResult, kind: str, source: str, label: str
) -> None:
    if not ctx.state.note_mapping_value(kind, source, label):
        return
    result.count("new mapping values", what="")
    ctx.audit.event(
        "created",
        stage=STAGE,
        reason=(
            f"new {kind} value in Polaris: choose its target with "
            f"`polaris-sync mappings set {kind} {source} <target>`"
        ),
        polaris_key=source,
        what="mapping value",
        mapping_kind=kind,
        label=label,
    )


def _table_unavailable(
    ctx: StageContext, result: StageResult, table: str, error: ItemRejected
) -> None:
    result.count("skipped", what="table")
    ctx.audit.event(
        "skipped",
        stage=STAGE,
        reason=f"Polaris does not offer the {table} table: {error}",
        polaris_key=table,
    )
