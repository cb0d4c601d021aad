"""The note assets on Dagster: parse the candidates' notes into order_note_tags, and the evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from dagster import Definitions, materialize

from oms_pipeline.defs.notes.assets import note_tags_evaluation, order_note_tags
from oms_pipeline.defs.notes.definitions import build_note_definitions
from oms_pipeline.defs.notes.resources import NotesResource
from oms_pipeline.domain.decisions.decide import customer_note
from oms_pipeline.resources import ShopifyResource, WarehouseResource, resources_from_settings
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.services.notes import stored_note_tags
from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage import schema
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.note_orders import load_orders as _load_orders

SHOP = "oms-sandbox.myshopify.com"


def _resources(url: str, models_dir: Path) -> dict:
    return {"warehouse": WarehouseResource(url=url),
            "shopify": ShopifyResource(base_url="http://127.0.0.1:9", token="unused", shop_domain=SHOP),
            "notes": NotesResource(engine="local", models_dir=str(models_dir))}


def _meta(result, key: str) -> dict:
    [mat] = [e.materialization for e in result.get_asset_materialization_events()
             if e.materialization.asset_key.to_user_string() == key]
    return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}


def test_order_note_tags_parses_each_candidate_version_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    orders = _load_orders(url, SandboxStore(seed=11, orders=60, rate_per_min=0.0, malformed_rate=0.0))
    notes = {oid: customer_note(o.note) for oid, o in orders.items()}
    with_note = {oid for oid, note in notes.items() if note}
    assert with_note and len(with_note) < len(notes)

    first = materialize([order_note_tags], resources=_resources(url, tmp_path / "models"), raise_on_error=True)
    meta = _meta(first, "order_note_tags")
    assert meta["engine"] == "local" and meta["engine_version"].startswith("local-tfidf-")
    assert meta["candidates"] == len(notes) == meta["stored"]
    assert meta["parsed"] == len(with_note) and meta["without_note"] == len(notes) - len(with_note)
    assert sum(meta["tags"].values()) > 0 and meta["fallbacks"] == {}
    # Nothing personal in metadata: no note text, gift message or instruction appears in it.
    rendered = json.dumps(meta, default=str)
    assert not [n for n in with_note if notes[n] in rendered]

    wh = Warehouse(url)
    tags = stored_note_tags(wh, SHOP, list(notes))
    assert set(tags) == set(notes)
    assert all(not tags[oid].tags for oid in set(notes) - with_note)
    assert sum(meta["tags"].values()) == sum(len(t.tags) for t in tags.values())
    wh.dispose()

    from oms_pipeline.services.note_model import MODEL_FILE, local_model_version

    assert (tmp_path / "models" / local_model_version() / MODEL_FILE).exists()  # stored for later runs
    second = materialize([order_note_tags], resources=_resources(url, tmp_path / "models"), raise_on_error=True)
    again = _meta(second, "order_note_tags")
    assert again["already_parsed"] == len(notes) and again["stored"] == 0 and again["parsed"] == 0
    wh = Warehouse(url)
    assert wh.count(schema.order_note_tags) == len(notes)
    with wh.engine.connect() as conn:
        runs = set(conn.execute(sa.select(schema.order_note_tags.c.run_id)).scalars())
    assert runs == {first.run_id}
    wh.dispose()


def test_evaluation_asset_reports_per_tag_scores_and_definitions_load(tmp_path: Path) -> None:
    result = materialize([note_tags_evaluation], raise_on_error=True)
    meta = _meta(result, "note_tags_evaluation")
    assert 0.0 < meta["macro_f1"] <= 1.0 and meta["n_test"] > 0
    assert set(meta["per_tag_json"]) >= {"gift", "deliver_by", "hold_until", "cancel_request"}
    assert "| gift |" in meta["per_tag"] and "**macro**" in meta["per_tag"]

    # As the code location merges it: with the warehouse and shop resources of the settings.
    settings = OmsSettings(data_dir=tmp_path, notes_engine="local")
    defs = Definitions.merge(build_note_definitions(settings),
                             Definitions(resources=resources_from_settings(settings)))
    assert {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()} >= {
        "order_note_tags", "note_tags_evaluation"}
    notes = defs.resources["notes"]
    assert notes.engine == "local" and notes.cache_dir == str((tmp_path / "notes_cache").resolve())
