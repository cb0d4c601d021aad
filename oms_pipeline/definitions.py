"""The code location: one ``Definitions`` object, wired from the settings."""

from __future__ import annotations

from dagster import Definitions

from oms_pipeline.defs.dbt.definitions import build_dbt_definitions
from oms_pipeline.defs.decisions.definitions import build_decision_definitions
from oms_pipeline.defs.ingestion.definitions import build_ingestion_definitions
from oms_pipeline.resources import resources_from_settings
from oms_pipeline.settings import OmsSettings


def build_definitions(settings: OmsSettings | None = None) -> Definitions:
    """All assets, checks, jobs, sensors and schedules, with resources chosen by ``settings``."""
    settings = settings or OmsSettings()
    return Definitions.merge(
        build_ingestion_definitions(),
        build_decision_definitions(),
        build_dbt_definitions(settings),
        Definitions(resources=resources_from_settings(settings)),
    )


defs = build_definitions()
