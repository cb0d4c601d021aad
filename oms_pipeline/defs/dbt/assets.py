"""The dbt models as Dagster assets, in one lineage graph with the Python ingestion assets."""

# No `from __future__ import annotations`: Dagster inspects the `context` annotation at runtime.
from collections.abc import Iterator, Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Output
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from oms_pipeline.defs.dbt.resources import (
    DbtTarget,
    dbt_project,
    default_dbt_target,
    ensure_dbt_manifest,
)
from oms_pipeline.resources import WarehouseResource

DBT_GROUP = "warehouse_models"
DBT_SOURCE_NAME = "warehouse"
RECONCILIATION_SOURCE_NAME = "reconciliation"

# dbt source table -> the Dagster asset that writes it. `orders` is a multi-asset that writes the
# order lines in the same transaction, so both tables hang off the one `orders` asset.
SOURCE_ASSET_KEYS: dict[str, AssetKey] = {
    "orders": AssetKey(["orders"]),
    "order_lines": AssetKey(["orders"]),
    "quarantined_orders": AssetKey(["quarantined_orders"]),
}
# Reconciliation inputs the order flow writes; the store/3PL/carrier landing tables keep
# ["reconciliation", <table>] keys until assets land them.
RECONCILIATION_SOURCE_ASSET_KEYS: dict[str, AssetKey] = {
    "planned_shipments": AssetKey(["fulfillment_plans"]),
    "order_decisions": AssetKey(["order_triage"]),
}


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Maps the dbt project onto oms-pipeline's asset graph.

    Sources in ``warehouse`` become the Python assets that write them (see
    :data:`SOURCE_ASSET_KEYS`; other tables keep their own name as key); models go in the
    ``warehouse_models`` group with kinds ``dbt`` and the warehouse they run on.
    """

    def __init__(self, warehouse_kind: DbtTarget = "duckdb") -> None:
        # Two dbt sources (orders, order_lines) deliberately share the `orders` asset key.
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))
        self.warehouse_kind = warehouse_kind

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if (
            dbt_resource_props["resource_type"] == "source"
            and dbt_resource_props["source_name"] == DBT_SOURCE_NAME
        ):
            name = dbt_resource_props["name"]
            return SOURCE_ASSET_KEYS.get(name, AssetKey([name]))
        if (
            dbt_resource_props["resource_type"] == "source"
            and dbt_resource_props["source_name"] == RECONCILIATION_SOURCE_NAME
            and dbt_resource_props["name"] in RECONCILIATION_SOURCE_ASSET_KEYS
        ):
            return RECONCILIATION_SOURCE_ASSET_KEYS[dbt_resource_props["name"]]
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None  # the Python asset that owns the table decides its group
        return DBT_GROUP

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if unique_id.startswith("source."):
            return spec
        # The manifest names the adapter it was parsed with; the kind should name where it runs.
        return spec.replace_attributes(kinds={"dbt", self.warehouse_kind})


_TARGET = default_dbt_target()
DBT_PROJECT = dbt_project(_TARGET)


@dbt_assets(
    manifest=ensure_dbt_manifest(_TARGET),
    project=DBT_PROJECT,
    name="warehouse_dbt_models",
    dagster_dbt_translator=WarehouseDbtTranslator(warehouse_kind=_TARGET),
)
def warehouse_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """Build the dbt models over the warehouse: staging views, then the `orders_daily` mart.

    Runs `dbt build` for the selected models, so each model's tests run right after it (and are
    reported as asset checks); a failing test stops the models downstream of it. Reads the
    `orders` / `order_lines` tables the `orders` asset writes and builds into the dbt schema
    (`analytics` by default), never beside the landing tables. Each model reports its row count.
    """
    invocation = dbt.cli(["build"], context=context)
    # Hold the events until dbt has exited: DuckDB allows one writing process per file, so the
    # row counts can only be read afterwards.
    events = list(invocation.stream())
    nodes = invocation.get_artifact("manifest.json")["nodes"]
    relations = {uid: node["relation_name"] for uid, node in nodes.items() if node.get("relation_name")}
    counts = warehouse.open().row_counts(relations.values())
    for event in events:
        unique_id = event.metadata.get("unique_id") if isinstance(event, Output) else None
        relation = relations.get(getattr(unique_id, "value", unique_id))
        if relation in counts:
            event = event.with_metadata({**event.metadata, "dagster/row_count": counts[relation]})
        yield event
