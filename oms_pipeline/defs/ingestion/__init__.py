"""Ingestion: store order changes -> landing -> canonical orders / quarantine."""
