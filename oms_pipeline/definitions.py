"""The code location: one ``Definitions`` object, wired from the settings."""

from __future__ import annotations

from dagster import Definitions

from oms_pipeline.defs.dbt.definitions import build_dbt_definitions
from oms_pipeline.defs.decisions.definitions import build_decision_definitions
from oms_pipeline.defs.finance.definitions import build_finance_definitions
from oms_pipeline.defs.fraud.definitions import build_fraud_definitions
from oms_pipeline.defs.fulfillment.definitions import build_fulfillment_definitions
from oms_pipeline.defs.ingestion.definitions import build_ingestion_definitions
from oms_pipeline.defs.notes.definitions import build_note_definitions
from oms_pipeline.defs.reconciliation.definitions import build_reconciliation_definitions
from oms_pipeline.resources import resources_from_settings
from oms_pipeline.settings import OmsSettings


def build_definitions(settings: OmsSettings | None = None) -> Definitions:
    """All assets, checks, jobs, sensors and schedules, with resources chosen by ``settings``.

    Refuses to load (``SandboxFallback``, naming the setting) when the store is a real one and a setting
    would fall back to a sandbox value: the sensor and schedules never start on such a deployment.
    """
    settings = settings or OmsSettings()
    settings.require_no_sandbox_fallback()
    return Definitions.merge(
        build_ingestion_definitions(),
        build_decision_definitions(),
        build_fraud_definitions(),
        build_fulfillment_definitions(),
        build_reconciliation_definitions(settings),
        build_note_definitions(settings),
        build_dbt_definitions(settings),
        build_finance_definitions(settings),
        Definitions(resources=resources_from_settings(settings)),
    )


defs = build_definitions()
