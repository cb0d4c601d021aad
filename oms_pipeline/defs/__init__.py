"""Dagster definitions: one folder per concern, merged by ``oms_pipeline.definitions``."""
