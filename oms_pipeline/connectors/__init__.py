"""Adapters to external systems: one module per system, one HTTP policy for all."""
