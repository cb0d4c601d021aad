"""The finance report asset: one daily partition per as-of day, read from the reconciliation marts."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
import base64
from datetime import date

import sqlalchemy as sa
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DailyPartitionsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from oms_pipeline.defs.finance.resources import FinanceReportResource
from oms_pipeline.reporting.finance import summary_markdown, write_finance_report
from oms_pipeline.reporting.marts import FINANCE_MARTS, finance_report_from_marts, read_finance_marts
from oms_pipeline.resources import WarehouseResource

FINANCE_GROUP = "finance"
FINANCE_REPORT_ASSET = "finance_report"
MART_ASSET_KEYS = tuple(AssetKey([name]) for name in FINANCE_MARTS)


def finance_partitions(start_date: str) -> DailyPartitionsDefinition:
    """One partition per as-of day from ``start_date`` (``YYYY-MM-DD``) to yesterday."""
    return DailyPartitionsDefinition(start_date=start_date)


def build_finance_report_asset(start_date: str) -> AssetsDefinition:
    """The ``finance_report`` asset, daily-partitioned from ``start_date``."""

    @asset(name=FINANCE_REPORT_ASSET, group_name=FINANCE_GROUP, deps=list(MART_ASSET_KEYS),
           partitions_def=finance_partitions(start_date), kinds={"pandas", "pdf", "html"})
    def finance_report(context: AssetExecutionContext, warehouse: WarehouseResource,
                       finance_reports: FinanceReportResource) -> MaterializeResult:
        """The finance report for the partition's day: totals (orders, revenue, shipping charged,
        carrier billed, planned cost, shipping margin), variance counts and amounts by type, daily
        trend plots, the top open variances; written as HTML (self-contained), PDF and a variances CSV
        under ``<data_dir>/reports/finance/<day>/``. Read from the reconciliation marts as dbt last
        built them: variances first seen and orders created after the day are left out."""
        as_of = date.fromisoformat(context.partition_key)
        wh = warehouse.open()
        try:
            marts = read_finance_marts(wh.engine, finance_reports.dbt_schema)
        except sa.exc.DBAPIError as exc:  # the marts were never built (or not in this schema)
            raise Failure(description=f"cannot read the reconciliation marts in schema "
                                      f"{finance_reports.dbt_schema!r}: {str(exc).splitlines()[0]}") from exc
        finally:
            wh.dispose()
        report = finance_report_from_marts(marts, as_of, top_n=finance_reports.top_n,
                                           trend_days=finance_reports.trend_days)
        files = write_finance_report(report, finance_reports.directory(as_of.isoformat()))
        if marts.marts_as_of is not None and marts.marts_as_of < as_of:
            context.log.warning(f"the marts were built as of {marts.marts_as_of}, before {as_of}: "
                                "orders past their promise since then are not flagged yet")
        metadata = {
            "as_of": as_of.isoformat(),
            "marts_as_of": marts.marts_as_of.isoformat() if marts.marts_as_of else None,
            "report_html": MetadataValue.path(str(files.html)),
            "report_pdf": MetadataValue.path(str(files.pdf)),
            "variances_csv": MetadataValue.path(str(files.csv)),
            "summary": MetadataValue.md(summary_markdown(report)),
            "totals": MetadataValue.json(report.totals),
            "currencies": ", ".join(report.currencies),
            **{key: value for key, value in report.totals.items()},
        }
        for name, path in files.plots.items():
            # Inline, so the plot shows in the UI wherever the Dagster webserver runs.
            encoded = base64.b64encode(path.read_bytes()).decode()
            metadata[f"{name}_plot"] = MetadataValue.md(f"![{name}](data:image/png;base64,{encoded})")
        return MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None})

    return finance_report
