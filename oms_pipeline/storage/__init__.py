"""Warehouse adapters: SQLAlchemy on one URL (DuckDB embedded, PostgreSQL in production)."""
