"""The config stage: Polaris tables kept, new values offered for mapping (B4, F7)."""

import asyncio

import httpx

from polaris_sync.audit import Audit
from polaris_sync.config import parse_config
from polaris_sync.polaris.client import PolarisClient
from polaris_sync.progress import Progress
from polaris_sync.stages import config as config_stage
from polaris_sync.stages.base import StageContext
from polaris_sync.state import State

TABLES = {
    "Magasins": [{"CodeMagasin": 1, "Nom": "Boutique", "Ville": "Lyon"}],
    "Marques": [{"Code": "ATL", "Nom": "Atelier"}, {"Nom": "Sans code"}],
    "GrillesTailles": [{"Code": "TXT", "Nom": "Textile", "Tailles": ["S", "M"]}],
    "Classifications": [
        {
            "Niveau": "Rayon",
            "Code": "F",
            "Nom": "Femme",
            "Enfants": [
                {
                    "Niveau": "Famille",
                    "Code": "FRO",
                    "Nom": "Robes",
                    "Enfants": [
                        {"Niveau": "SousFamille", "Code": "FROC", "Nom": "Courtes"}
                    ],
                }
            ],
        }
    ],
    "Collections": [{"Code": "ESS", "Nom": "Essentiels"}],
    "ModesReglement": [{"Code": "CB", "Libelle": "Carte bancaire"}],
    "Proprietes": [{"Nom": "Composition"}],
}


def polaris_transport():
    def handler(request):
        table = request.url.path.rsplit("/", 1)[-1]
        if table not in TABLES:  # this server has no Saisons table
            return httpx.Response(404, json={"Message": "Table inconnue"})
        return httpx.Response(200, json={"Items": TABLES[table]})

    return httpx.MockTransport(handler)


def run_stage(tmp_path, state, dry_run=False):
    config = parse_config({"prestashop": {"url": "http://127.0.0.1:9/api"}}, tmp_path)
    audit = Audit(tmp_path / "audit", dry_run=dry_run)

    async def go():
        async with PolarisClient(
            "http://127.0.0.1:9/api/WebConnect", "k", transport=polaris_transport()
        ) as polaris:
            ctx = StageContext(
                config=config,
                state=state,
                polaris=polaris,
                prestashop=None,
                audit=audit,
                progress=Progress(enabled=False),
                dry_run=dry_run,
            )
            return await config_stage.run(ctx)

    with audit:
        return asyncio.run(go()), audit


def test_new_values_get_rows_without_target_F7(tmp_path):
    state = State.in_memory()
    result, audit = run_stage(tmp_path, state)

    rows = {(row.kind, row.source): row for row in state.mapping_rows()}
    assert set(rows) == {
        ("store", "1"),
        ("brand", "ATL"),
        ("brand", "Sans code"),
        ("size-grid", "TXT"),
        ("category", "rayon:F"),
        ("category", "famille:FRO"),
        ("category", "sous-famille:FROC"),
        ("category", "collection:ESS"),
    }
    assert all(row.target is None for row in rows.values())
    assert rows[("store", "1")].label == "Boutique (Lyon)"
    assert result.counts["new mapping values"] == 8
    assert audit.counts[("config", "created")] == 8


def test_tables_are_kept_and_a_missing_table_is_skipped_with_reason_B4(tmp_path):
    state = State.in_memory()
    result, _ = run_stage(tmp_path, state)

    assert state.polaris_table("ModesReglement") == TABLES["ModesReglement"]
    assert state.polaris_table("Saisons") is None
    assert result.counts["tables"] == len(TABLES)
    assert result.counts["skipped"] == 1
    [line] = (tmp_path / "audit").iterdir()
    assert "does not offer the Saisons table" in line.read_text()


def test_a_second_pull_keeps_the_merchant_targets_F7(tmp_path):
    state = State.in_memory()
    run_stage(tmp_path, state)
    state.set_mapping("brand", "ATL", "4")

    result, _ = run_stage(tmp_path, state)

    assert state.mapping("brand", "ATL").target == "4"
    assert result.counts["new mapping values"] == 0
