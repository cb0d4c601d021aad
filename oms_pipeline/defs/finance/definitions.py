"""The finance side, as one Definitions object: the daily-partitioned reconciliation dbt models and the
finance report read from them, the job that builds a day of both, its daily schedule and the resource."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    build_schedule_from_partitioned_job,
    define_asset_job,
    in_process_executor,
)

from oms_pipeline.defs.dbt.assets import build_reconciliation_dbt_models
from oms_pipeline.defs.finance.assets import FINANCE_REPORT_ASSET, build_finance_report_asset
from oms_pipeline.defs.finance.resources import finance_report_resource
from oms_pipeline.settings import OmsSettings

FINANCE_REPORT_JOB = "finance_report_job"


def build_finance_definitions(settings: OmsSettings | None = None, start_date: str | None = None) -> Definitions:
    """The daily-partitioned reconciliation dbt models and ``finance_report`` asset, a job that builds
    a day (or a backfill's days) of both, a stopped daily schedule (06:30 UTC, yesterday's partition)
    and the ``finance_reports`` resource.

    Args:
        settings: where reports go (``<data_dir>/reports/finance``) and which warehouse dbt builds in.
        start_date: first partition; default ``OMS_FINANCE_REPORT_START_DATE`` (settings), 2025-01-01.
    """
    settings = settings or OmsSettings()
    start = start_date or settings.finance_report_start_date.isoformat()
    finance_report = build_finance_report_asset(start)
    marts = build_reconciliation_dbt_models(finance_report.partitions_def)
    job = define_asset_job(
        FINANCE_REPORT_JOB,
        selection=AssetSelection.assets(marts, FINANCE_REPORT_ASSET),
        partitions_def=finance_report.partitions_def,
        description="Build a day of the reconciliation marts (inputs known by its end), then render its "
                    "finance report (HTML, PDF, CSV).",
        executor_def=in_process_executor,  # one process: an embedded DuckDB warehouse takes one writer
        tags={"oms/pipeline": "finance"},
    )
    schedule = build_schedule_from_partitioned_job(job, hour_of_day=6, minute_of_hour=30,
                                                   default_status=DefaultScheduleStatus.STOPPED)
    return Definitions(assets=[marts, finance_report], jobs=[job], schedules=[schedule],
                       resources={"finance_reports": finance_report_resource(settings)})
