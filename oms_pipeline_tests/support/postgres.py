"""The PostgreSQL server the tests use (``OMS_TEST_POSTGRES_URL``), and whether it answers."""

from __future__ import annotations

import os

import sqlalchemy as sa

POSTGRES_URL = os.environ.get("OMS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with sa.create_engine(POSTGRES_URL).connect() as conn:
            conn.exec_driver_sql("select 1")
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
