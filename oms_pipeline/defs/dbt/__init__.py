"""dbt: the warehouse models (staging views and marts) as Dagster assets."""

from oms_pipeline.defs.dbt.assets import (
    DBT_GROUP,
    DBT_PROJECT,
    SOURCE_ASSET_KEYS,
    WarehouseDbtTranslator,
    build_reconciliation_dbt_models,
    reconciliation_day_partitions,
    warehouse_dbt_models,
)
from oms_pipeline.defs.dbt.resources import (
    DBT_PROJECT_DIR,
    dbt_env_for_url,
    dbt_project,
    ensure_dbt_manifest,
    make_dbt_resource,
    target_for_url,
)

__all__ = [
    "DBT_GROUP",
    "DBT_PROJECT",
    "DBT_PROJECT_DIR",
    "SOURCE_ASSET_KEYS",
    "WarehouseDbtTranslator",
    "build_reconciliation_dbt_models",
    "dbt_env_for_url",
    "dbt_project",
    "ensure_dbt_manifest",
    "make_dbt_resource",
    "reconciliation_day_partitions",
    "target_for_url",
    "warehouse_dbt_models",
]
