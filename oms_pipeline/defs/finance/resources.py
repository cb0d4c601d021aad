"""Where finance reports go and which schema holds the marts, as a Dagster resource."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource

from oms_pipeline.reporting.marts import DEFAULT_DBT_SCHEMA
from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage.dbt_env import target_for_url


class FinanceReportResource(ConfigurableResource):
    """Report files under ``<reports_dir>/<as_of>/``; the marts are read from ``dbt_schema``."""

    reports_dir: str
    dbt_schema: str = DEFAULT_DBT_SCHEMA
    top_n: int = 20
    trend_days: int = 30

    def directory(self, as_of: str) -> Path:
        """The directory of one day's report."""
        return Path(self.reports_dir) / as_of


def finance_report_resource(settings: OmsSettings) -> FinanceReportResource:
    """The resource from ``OMS_*`` settings: reports under ``<data_dir>/reports/finance``; the dbt schema
    is the one the dbt profile builds into (``OMS_DBT_DUCKDB_SCHEMA`` / ``OMS_DBT_PG_SCHEMA``, default
    ``analytics``), so the report reads what the dbt assets wrote."""
    target = target_for_url(settings.resolved_warehouse_url)
    variable = "OMS_DBT_PG_SCHEMA" if target == "postgres" else "OMS_DBT_DUCKDB_SCHEMA"
    return FinanceReportResource(reports_dir=str((Path(settings.data_dir) / "reports" / "finance").resolve()),
                                 dbt_schema=os.environ.get(variable) or DEFAULT_DBT_SCHEMA)
