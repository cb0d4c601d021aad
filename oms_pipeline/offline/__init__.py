"""Offline entry points on plain files (CSV, JSON Lines): evaluation outside the pipeline, benchmarks."""
