"""Running the code location's jobs outside ``dagster dev``: ``oms ingest --once``, the demo, the benches.

Every path runs the same Dagster jobs the sensor and schedules launch, in-process, on the Dagster
instance of ``DAGSTER_HOME``, so runs show in the UI afterwards.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, ExecuteInProcessResult

from oms_pipeline.definitions import build_definitions
from oms_pipeline.defs.dbt.definitions import BUILD_WAREHOUSE_MODELS_JOB
from oms_pipeline.defs.finance.assets import FINANCE_REPORT_ASSET
from oms_pipeline.defs.finance.definitions import FINANCE_REPORT_JOB
from oms_pipeline.defs.finance.resources import finance_report_resource
from oms_pipeline.defs.fraud.definitions import TRAIN_FRAUD_MODEL_JOB
from oms_pipeline.defs.ingestion.jobs import INGEST_ORDERS_JOB
from oms_pipeline.defs.ingestion.sensors import PROCESS_ORDERS_JOB
from oms_pipeline.defs.reconciliation.definitions import LANDING_JOB
from oms_pipeline.reporting.marts import read_finance_marts
from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage.warehouse import Warehouse

# The full event log is in the Dagster UI; the terminal shows warnings and the summary.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_job(settings: OmsSettings, job_name: str, instance: DagsterInstance | None = None,
            run_config: dict[str, Any] | None = None, partition_key: str | None = None) -> ExecuteInProcessResult:
    """Execute one job of the code location in-process on the given (or the default) instance."""
    job = build_definitions(settings).resolve_job_def(job_name)
    return job.execute_in_process(run_config={**QUIET_CONSOLE, **(run_config or {})},
                                  instance=instance or DagsterInstance.get(), raise_on_error=False,
                                  partition_key=partition_key)


def dbt_log_path(settings: OmsSettings) -> Path:
    """Where the CLI's runs of dbt jobs write dbt's own output (the Dagster UI has it per run too)."""
    return settings.data_dir / "logs" / "dbt.log"


def _run_dbt_job(settings: OmsSettings, job_name: str, instance: DagsterInstance | None,
                 partition_key: str | None = None) -> ExecuteInProcessResult:
    """:func:`run_job` for a job that runs dbt: dagster-dbt echoes every dbt log line to stdout (for
    compute logs), which would bury the CLI's summary, so it goes to :func:`dbt_log_path` instead."""
    path = dbt_log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        return run_job(settings, job_name, instance, partition_key=partition_key)


def _metadata(result: ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        found[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return found


def _check_outcomes(result: ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


class _Steps:
    """What each asset of a run reported. A step that did not run reads as ``missing`` (the caller says
    what that is); a step that ran must carry every key asked of it, so a renamed key fails loudly
    instead of printing 0."""

    def __init__(self, result: ExecuteInProcessResult):
        self.meta = _metadata(result)

    def ran(self, asset: str) -> bool:
        """Whether the asset materialized in the run."""
        return asset in self.meta

    def of(self, asset: str, key: str, missing: Any = None) -> Any:
        """The figure ``key`` of ``asset``, or ``missing`` when the asset did not run."""
        step = self.meta.get(asset)
        return missing if step is None else step[key]

    def optional(self, asset: str, key: str) -> Any:
        """A figure the asset reports only when it has one (a plan's cost when something was planned)."""
        return self.meta.get(asset, {}).get(key)


def run_ingestion(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """One poll of the store through the ``ingest_orders`` job; a summary of what happened."""
    started = time.perf_counter()
    result = run_job(settings, INGEST_ORDERS_JOB, instance)
    return {
        "command": "ingest",
        "run_id": result.run_id,
        "success": result.success,
        "shop_domain": settings.shop_domain,
        **_ingestion_figures(result, _Steps(result)),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _ingestion_figures(result: ExecuteInProcessResult, steps: _Steps) -> dict[str, Any]:
    """What a run's ingestion assets and their check reported."""
    raw, orders, quarantine = "raw_order_events", "orders", "quarantined_orders"
    return {
        "events_fetched": steps.of(raw, "events_fetched", 0),
        "events_landed": steps.of(raw, "events_landed", 0),
        "events_already_landed": steps.of(raw, "events_already_landed", 0),
        "orders_written": steps.of(orders, "orders_written", 0),
        "stale_versions_ignored": steps.of(orders, "stale_versions_ignored", 0),
        "quarantined": steps.of(quarantine, "quarantined_this_run", 0),
        "quarantine_reasons": steps.of(quarantine, "reasons_this_run", {}),
        "checks": _check_outcomes(result),
        "high_water_mark": steps.of(raw, "high_water_mark"),
        "requests": steps.of(raw, "requests", 0),
        "retries": steps.of(raw, "retries", 0),
        "throttled_answers": steps.of(raw, "throttled_answers", 0),
        "warehouse_orders": steps.of(orders, "dagster/row_count"),
    }


def run_order_flow(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """One pass of the whole order flow (``process_orders``): poll, validate, decide, write back."""
    started = time.perf_counter()
    result = run_job(settings, PROCESS_ORDERS_JOB, instance)
    steps = _Steps(result)
    triage, writeback, handoff = "order_triage", "store_writeback", "tpl_handoff"
    plans, slips = "fulfillment_plans", "packing_slips"

    def both(key: str) -> int:  # the store's writeback and the 3PL handoff report the same figures
        return steps.of(writeback, key, 0) + steps.of(handoff, key, 0)

    return {
        "run_id": result.run_id,
        "success": result.success,
        **_ingestion_figures(result, steps),
        "decided": steps.of(triage, "decided", 0),
        "unchanged_versions": steps.of(triage, "unchanged_versions", 0),
        "outcomes": steps.of(triage, "outcomes", {}),
        "states": steps.of(triage, "states", {}),
        "reasons": steps.of(triage, "reasons", {}),
        "holds_placed": steps.of(triage, "holds_placed", {}),
        "fraud": {k: steps.of("fraud_scores", k) for k in ("model_version", "scored", "review")},
        "notes": {k: steps.of("order_note_tags", k)
                  for k in ("engine", "engine_version", "parsed", "reused", "without_note")},
        "handoff": {"to_3pl": steps.of(plans, "handoffs_to_3pl", 0), "handed_off": steps.of(handoff, "handed_off", 0),
                    "packing_slips": steps.of(slips, "slips", 0), "bulk_pdf": steps.of(slips, "bulk_pdf")},
        "plan": {k: steps.of(plans, k) for k in ("orders_planned", "solver_status", "rate_shopped")}
        | {k: steps.optional(plans, k) for k in ("total_cost", "greedy_cost", "cost_saved", "split_rate",
                                                 "on_time_share", "solver_gap")},
        "writes": steps.of(writeback, "outcomes", {}),
        "writes_by_workflow": steps.of(writeback, "by_workflow", {}),
        "written": both("written"),
        "earlier_writes_finished": both("earlier_writes_finished"),
        "writes_left_open": both("left_open"),
        "may_have_been_posted": both("may_have_been_posted"),
        "blocked_by_gate": both("blocked_by_gate"),
        "writeback_ran": steps.ran(writeback),
        "failure": _failure(result),
        "seconds": round(time.perf_counter() - started, 2),
    }


def run_fraud_training(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Land disputes, train a fraud model, check it and promote it (``train_fraud_model``); a summary."""
    started = time.perf_counter()
    result = run_job(settings, TRAIN_FRAUD_MODEL_JOB, instance)
    steps = _Steps(result)
    return {
        "run_id": result.run_id,
        "success": result.success,
        "disputes": steps.of("payment_disputes", "disputes", 0),
        "model_version": steps.of("fraud_model", "model_version"),
        "metrics": {k: steps.optional("fraud_model", k)  # a metric the model could not compute is absent
                    for k in ("roc_auc", "pr_auc", "reference_pr_auc", "precision_at_capacity",
                              "recall_at_capacity", "brier")}
        | {"review_capacity": steps.of("fraud_model", "review_capacity")},
        "rows": steps.of("fraud_model", "rows", {}),
        "checks": _check_outcomes(result),
        "promoted": steps.ran("active_fraud_model"),
        "failure": _failure(result),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _failure(result: ExecuteInProcessResult) -> str | None:
    return next((e.event_specific_data.error.message.strip() for e in result.all_events
                 if e.is_step_failure and e.event_specific_data and e.event_specific_data.error), None)


def run_warehouse_models(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Build the dbt models (staging and marts) with their tests; a summary."""
    result = _run_dbt_job(settings, BUILD_WAREHOUSE_MODELS_JOB, instance)
    meta = _metadata(result)
    checks = _check_outcomes(result)
    return {
        "success": result.success,
        "models": sorted(meta),
        "tests": len(checks),
        "tests_passed": sum(checks.values()),
        "rows": {k: v.get("dagster/row_count") for k, v in meta.items() if v.get("dagster/row_count") is not None},
    }


def run_reconciliation_landing(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Land what the store settled, what the 3PL shipped and what the carrier billed; a summary."""
    result = run_job(settings, LANDING_JOB, instance)
    steps = _Steps(result)
    return {"success": result.success, "failure": _failure(result),
            **{name: {"read": steps.of(name, "read"), "errors": steps.of(name, "errors")} for name in steps.meta}}


def run_finance_day(settings: OmsSettings, day: date, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Build one as-of day of the reconciliation marts and its finance report; a summary with the day's
    variances by type and the report's files."""
    result = _run_dbt_job(settings, FINANCE_REPORT_JOB, instance, partition_key=day.isoformat())
    steps = _Steps(result)
    checks = _check_outcomes(result)
    summary: dict[str, Any] = {"success": result.success, "failure": _failure(result), "as_of": day.isoformat(),
                               "tests": len(checks), "tests_passed": sum(checks.values()),
                               "report_html": steps.of(FINANCE_REPORT_ASSET, "report_html"),
                               "report_pdf": steps.of(FINANCE_REPORT_ASSET, "report_pdf"),
                               "totals": steps.of(FINANCE_REPORT_ASSET, "totals", {}), "by_type": {}}
    if result.success:
        wh = Warehouse(settings.resolved_warehouse_url)
        try:
            marts = read_finance_marts(wh.engine, finance_report_resource(settings).dbt_schema, day)
        finally:
            wh.dispose()
        summary["by_type"] = dict(Counter(marts.variances["variance_type"]))
        summary["variances"] = marts.variances
    return summary


