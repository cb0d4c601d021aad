"""The finance report asset, its job and daily schedule, and its resource, as one Definitions object."""

from __future__ import annotations

import os

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    build_schedule_from_partitioned_job,
    define_asset_job,
    in_process_executor,
)

from oms_pipeline.defs.finance.assets import FINANCE_REPORT_ASSET, build_finance_report_asset
from oms_pipeline.defs.finance.resources import finance_report_resource
from oms_pipeline.settings import OmsSettings

FINANCE_REPORT_JOB = "finance_report_job"
# The first as-of day with a partition; override with OMS_FINANCE_REPORT_START_DATE (YYYY-MM-DD).
DEFAULT_START_DATE = "2025-01-01"


def build_finance_definitions(settings: OmsSettings | None = None, start_date: str | None = None) -> Definitions:
    """The daily-partitioned ``finance_report`` asset, a job over it, a stopped daily schedule (06:30 UTC,
    yesterday's partition) and the ``finance_reports`` resource.

    Args:
        settings: where reports go (``<data_dir>/reports/finance``) and which warehouse dbt builds in.
        start_date: first partition; default ``OMS_FINANCE_REPORT_START_DATE``, else 2025-01-01.
    """
    settings = settings or OmsSettings()
    start = start_date or os.environ.get("OMS_FINANCE_REPORT_START_DATE") or DEFAULT_START_DATE
    finance_report = build_finance_report_asset(start)
    job = define_asset_job(
        FINANCE_REPORT_JOB,
        selection=AssetSelection.assets(FINANCE_REPORT_ASSET),
        partitions_def=finance_report.partitions_def,
        description="Render the finance report (HTML, PDF, CSV) of one day from the reconciliation marts.",
        executor_def=in_process_executor,  # one process: an embedded DuckDB warehouse takes one writer
        tags={"oms/pipeline": "finance"},
    )
    schedule = build_schedule_from_partitioned_job(job, hour_of_day=6, minute_of_hour=30,
                                                   default_status=DefaultScheduleStatus.STOPPED)
    return Definitions(assets=[finance_report], jobs=[job], schedules=[schedule],
                       resources={"finance_reports": finance_report_resource(settings)})
