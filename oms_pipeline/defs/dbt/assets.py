"""The dbt models as Dagster assets, in one lineage graph with the Python ingestion assets.

Two sets: the warehouse models (staging views and the order marts), rebuilt whole; and the
reconciliation models (tag ``reconciliation`` in ``dbt_project.yml``: the store, 3PL, carrier and gateway
staging, the plans in force, ``models/intermediate/reconciliation`` and ``models/marts/finance``),
daily-partitioned by as-of day, each partition a ``dbt build`` with that day as the ``as_of`` var.
"""

# No `from __future__ import annotations`: Dagster inspects the `context` annotation at runtime.
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    DailyPartitionsDefinition,
    Output,
)
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
from oms_pipeline.defs.reconciliation.resources import ReconciliationResource
from oms_pipeline.resources import WarehouseResource

DBT_GROUP = "warehouse_models"
# The daily-partitioned models: everything tagged `reconciliation` (dbt_project.yml and the source ymls).
RECONCILIATION_MODELS = "tag:reconciliation"
DBT_SOURCE_NAME = "warehouse"
RECONCILIATION_SOURCE_NAME = "reconciliation"
# `dbt build` as the assets run it. dbt unit tests check the SQL, not the day's data: pytest runs them
# (oms_pipeline_tests/integration/dbt). dagster-dbt drops their results, and a failing one would fail the build after
# the other models were built, none of them recorded, so they stay out of the asset runs.
DBT_BUILD = ["build", "--exclude", "test_type:unit"]

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
    "writeback_ledger": AssetKey(["tpl_handoff"]),  # its done handoffs say which orders are the 3PL's
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


def _with_row_counts(events: Iterable[Any], manifest: Mapping[str, Any], warehouse: WarehouseResource
                     ) -> Iterator[Any]:
    """The events of a finished dbt invocation, each model's output with its row count.

    Only once dbt has exited: DuckDB allows one writing process per file, so the counts are read after."""
    def unique_id(event: Any) -> str | None:
        value = event.metadata.get("unique_id") if isinstance(event, Output) else None
        return getattr(value, "value", value)

    built = {unique_id(event) for event in events} - {None}
    relations = {uid: node["relation_name"] for uid, node in manifest["nodes"].items()
                 if uid in built and node.get("relation_name")}
    counts = warehouse.open().row_counts(relations.values())
    for event in events:
        relation = relations.get(unique_id(event))
        if relation in counts:
            event = event.with_metadata({**event.metadata, "dagster/row_count": counts[relation]})
        yield event


@dbt_assets(
    manifest=ensure_dbt_manifest(_TARGET),
    project=DBT_PROJECT,
    name="warehouse_dbt_models",
    exclude=RECONCILIATION_MODELS,
    dagster_dbt_translator=WarehouseDbtTranslator(warehouse_kind=_TARGET),
)
def warehouse_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """Build the dbt models over the warehouse: staging views, then the `orders_daily` mart.

    Runs `dbt build` for the selected models, so each model's tests run right after it (and are
    reported as asset checks); a failing test stops the models downstream of it. dbt unit tests are
    left out (pytest runs them). Reads the `orders` / `order_lines` tables the `orders` asset writes
    and builds into the dbt schema (`analytics` by default), never beside the landing tables. Each
    model reports its row count.
    The reconciliation models are built per as-of day by `reconciliation_dbt_models`.
    """
    invocation = dbt.cli(DBT_BUILD, context=context)
    events = list(invocation.stream())
    yield from _with_row_counts(events, invocation.get_artifact("manifest.json"), warehouse)


def reconciliation_day_partitions(start_date: str) -> DailyPartitionsDefinition:
    """One partition per as-of day (UTC) from ``start_date`` (``YYYY-MM-DD``): the reconciliation
    marts and the finance report share them, so a report's day is its marts' day."""
    return DailyPartitionsDefinition(start_date=start_date)


def build_reconciliation_dbt_models(partitions_def: DailyPartitionsDefinition) -> AssetsDefinition:
    """The reconciliation dbt models (tag ``reconciliation``) as one daily-partitioned asset set."""

    @dbt_assets(
        manifest=ensure_dbt_manifest(_TARGET),
        project=DBT_PROJECT,
        name="reconciliation_dbt_models",
        select=RECONCILIATION_MODELS,
        partitions_def=partitions_def,
        # A backfill is one run that builds its days oldest first: the staging views are shared, so two
        # days must never build at once, and each day's variance snapshot reads the inputs known by then.
        backfill_policy=BackfillPolicy.single_run(),
        dagster_dbt_translator=WarehouseDbtTranslator(warehouse_kind=_TARGET),
    )
    def reconciliation_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource,
                                  warehouse: WarehouseResource,
                                  reconciliation: ReconciliationResource) -> Iterator[Any]:
        """Build the reconciliation models for each as-of day of the run (a partition, or a backfill's
        range, oldest first): staging of the store, 3PL, carrier and gateway inputs known by that day's
        end, then `reconciliation_order_lines`, `reconciliation_shipping_cost` (the state as of the
        latest day built) and `reconciliation_variances` (one snapshot per day: the day's rows are
        replaced, the other days' kept). Each model's tests run right after it (dbt unit tests are left
        out: pytest runs them); a failing day stops the run. Vars: `as_of`, `reconciliation_promise_days`
        (OMS_RECONCILIATION_PROMISE_DAYS).
        """
        days = sorted(context.partition_keys)
        invocation = None
        for day in days:
            dbt_vars = {"as_of": day, "reconciliation_promise_days": reconciliation.promise_days}
            invocation = dbt.cli([*DBT_BUILD, "--vars", json.dumps(dbt_vars)], context=context)
            events = list(invocation.stream())  # raises on a failed build: later days are not built
            context.log.info(f"reconciliation models built as of {day}")
        # One materialization per model covers every day of the run.
        yield from _with_row_counts(events, invocation.get_artifact("manifest.json"), warehouse)

    return reconciliation_dbt_models
