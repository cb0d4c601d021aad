"""Use cases over the warehouse, one module per use case: load, call the domain, persist, send through
the gateway. Dagster assets and CLI commands call these; the rules live in ``oms_pipeline.domain``."""
