"""The finance report asset: one daily partition per as-of day, read from the reconciliation marts."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
import base64
from datetime import date
from typing import Any

import sqlalchemy as sa
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from oms_pipeline.defs.dbt.assets import reconciliation_day_partitions
from oms_pipeline.defs.finance.resources import FinanceReportResource
from oms_pipeline.reporting.finance import summary_markdown, write_finance_report
from oms_pipeline.reporting.marts import FINANCE_MARTS, finance_report_from_marts, read_finance_marts
from oms_pipeline.resources import WarehouseResource

FINANCE_GROUP = "finance"
FINANCE_REPORT_ASSET = "finance_report"
MART_ASSET_KEYS = tuple(AssetKey([name]) for name in FINANCE_MARTS)


def build_finance_report_asset(start_date: str) -> AssetsDefinition:
    """The ``finance_report`` asset, daily-partitioned from ``start_date`` like the reconciliation marts."""

    @asset(name=FINANCE_REPORT_ASSET, group_name=FINANCE_GROUP, deps=list(MART_ASSET_KEYS),
           partitions_def=reconciliation_day_partitions(start_date), kinds={"pandas", "pdf", "html"},
           backfill_policy=BackfillPolicy.single_run())  # like the marts: a backfill is one run, day by day
    def finance_report(context: AssetExecutionContext, warehouse: WarehouseResource,
                       finance_reports: FinanceReportResource) -> MaterializeResult:
        """The finance report of each day of the run (a partition, or a backfill's range): totals
        (orders, revenue, shipping charged, carrier billed, planned cost, shipping margin), variances
        resolved since the previous snapshot, variance counts and amounts by type, daily trend plots,
        the top open variances; written as HTML (self-contained), PDF and a variances CSV under
        ``<data_dir>/reports/finance/<day>/``. Reads the day's variance snapshot of the
        reconciliation marts (built by the same partition of the reconciliation dbt models)."""
        for day in sorted(context.partition_keys):
            metadata = _report_day(context, date.fromisoformat(day), warehouse, finance_reports)
        metadata["days"] = len(context.partition_keys)
        return MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None})

    return finance_report


def _report_day(context: AssetExecutionContext, as_of: date, warehouse: WarehouseResource,
                finance_reports: FinanceReportResource) -> dict[str, Any]:
    """Write one day's report; its metadata."""
    wh = warehouse.open()
    try:
        marts = read_finance_marts(wh.engine, finance_reports.dbt_schema, as_of)
    except sa.exc.DBAPIError as exc:  # the marts were never built (or not in this schema)
        raise Failure(description=f"cannot read the reconciliation marts in schema "
                                  f"{finance_reports.dbt_schema!r}: {str(exc).splitlines()[0]}") from exc
    finally:
        wh.dispose()
    report = finance_report_from_marts(marts, as_of, top_n=finance_reports.top_n,
                                       trend_days=finance_reports.trend_days)
    files = write_finance_report(report, finance_reports.directory(as_of.isoformat()))
    if marts.marts_as_of is None or marts.marts_as_of < as_of:
        context.log.warning(f"no variance snapshot of {as_of}: reporting the one of {marts.marts_as_of} "
                            "(build this day's partition of the reconciliation models first)")
    metadata: dict[str, Any] = {
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
    return metadata
