"""The finance_report asset materialized in-process over the shared marts, and its definitions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dagster import AssetKey, DailyPartitionsDefinition, Definitions, materialize

from oms_pipeline.defs.dbt.definitions import build_dbt_definitions
from oms_pipeline.defs.dbt.resources import DBT_ENV_VARS
from oms_pipeline.defs.finance.assets import MART_ASSET_KEYS, build_finance_report_asset
from oms_pipeline.defs.finance.definitions import FINANCE_REPORT_JOB, build_finance_definitions
from oms_pipeline.defs.finance.resources import FinanceReportResource
from oms_pipeline.defs.reconciliation.definitions import build_reconciliation_definitions
from oms_pipeline.resources import WarehouseResource, resources_from_settings
from oms_pipeline.settings import OmsSettings


def test_finance_report_asset_writes_the_day_and_links_it(reconciled, tmp_path: Path):
    day = reconciled.data.as_of.isoformat()
    asset = build_finance_report_asset("2025-03-01")
    result = materialize(
        [asset], partition_key=day,
        resources={"warehouse": WarehouseResource(url=reconciled.warehouse_url),
                   "finance_reports": FinanceReportResource(reports_dir=str(tmp_path / "reports"))})
    assert result.success
    [event] = result.asset_materializations_for_node("finance_report")
    metadata = event.metadata
    folder = tmp_path / "reports" / day
    assert metadata["report_html"].value == str(folder / "finance_report.html")
    assert metadata["report_pdf"].value == str(folder / "finance_report.pdf")
    assert (folder / "finance_report.pdf").read_bytes().startswith(b"%PDF-")
    assert metadata["variances"].value == len(reconciled.marts.variances)
    assert metadata["orders"].value == len(reconciled.marts.shipping_cost)
    assert "| duplicate_charge |" in metadata["summary"].value
    assert metadata["variance_trend_plot"].value.startswith("![variance_trend](data:image/png;base64,")


@pytest.fixture
def dbt_env_restored(restore_dbt_env):
    """Start with no OMS_DBT_* set (the defaults are under test); restored afterwards."""
    for name in DBT_ENV_VARS:
        os.environ.pop(name, None)


def test_finance_definitions_are_daily_partitioned_on_the_mart_keys(tmp_path: Path, dbt_env_restored):
    settings = OmsSettings(data_dir=tmp_path)
    finance = build_finance_definitions(settings, start_date="2025-02-01")
    # Merged as the code location merges them: the mart keys are the dbt models' assets.
    defs = Definitions.merge(finance, build_dbt_definitions(settings), build_reconciliation_definitions(settings),
                             Definitions(resources=resources_from_settings(settings)))
    graph = defs.resolve_asset_graph()
    node = graph.get(AssetKey("finance_report"))
    assert set(node.parent_keys) == set(MART_ASSET_KEYS)
    assert all(graph.get(key).is_materializable for key in MART_ASSET_KEYS)
    assert node.group_name == "finance"
    partitions = node.partitions_def
    assert isinstance(partitions, DailyPartitionsDefinition)
    assert partitions.get_first_partition_key() == "2025-02-01"
    assert defs.resolve_job_def(FINANCE_REPORT_JOB).partitions_def == partitions
    resource = finance.resources["finance_reports"]
    assert resource.reports_dir == str((tmp_path / "reports" / "finance").resolve())
    assert resource.dbt_schema == "analytics"
