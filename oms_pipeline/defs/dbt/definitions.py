"""The dbt models, the job that builds them and its schedule, as one Definitions object."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
)

from oms_pipeline.defs.dbt.assets import warehouse_dbt_models
from oms_pipeline.defs.dbt.resources import make_dbt_resource
from oms_pipeline.settings import OmsSettings

BUILD_WAREHOUSE_MODELS_JOB = "build_warehouse_models"

build_warehouse_models_job = define_asset_job(
    BUILD_WAREHOUSE_MODELS_JOB,
    selection=AssetSelection.assets(warehouse_dbt_models),
    description="dbt build: staging views and marts over the warehouse, each model followed by its tests.",
    executor_def=in_process_executor,  # dbt is the one writer of the DuckDB file while it runs
    tags={"oms/pipeline": "warehouse_models"},
)

build_warehouse_models_schedule = ScheduleDefinition(
    job=build_warehouse_models_job,
    cron_schedule="*/15 * * * *",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Rebuild the warehouse models every 15 minutes.",
)


def build_dbt_definitions(settings: OmsSettings) -> Definitions:
    """dbt assets, job and schedule, with the dbt resource (and its target) following the warehouse URL."""
    return Definitions(
        assets=[warehouse_dbt_models],
        jobs=[build_warehouse_models_job],
        schedules=[build_warehouse_models_schedule],
        resources={"dbt": make_dbt_resource(settings.resolved_warehouse_url)},
    )
