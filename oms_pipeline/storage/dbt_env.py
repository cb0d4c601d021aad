"""Where the dbt project is and how dbt reaches the warehouse: the ``OMS_DBT_*`` variables that
``dbt_project/profiles.yml`` reads, derived from the one warehouse SQLAlchemy URL.

Kept apart from ``defs/dbt`` (whose package parses the dbt manifest when imported), so the file-contract
``oms reconcile`` runs dbt with the same variables without loading the Dagster code location.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import URL, make_url

DbtTarget = Literal["duckdb", "postgres"]

# The repository root holds dbt_project/ beside the package (editable install / checkout).
DBT_PROJECT_DIR = Path(
    os.environ.get("OMS_DBT_PROJECT_DIR") or Path(__file__).resolve().parents[2] / "dbt_project"
).resolve()


def dbt_executable() -> str:
    """The dbt installed beside this Python (a virtualenv's ``bin/``), else ``dbt`` on PATH.

    `.venv/bin/oms` run without activating the virtualenv must still find its own dbt; dagster-dbt's
    manifest preparer only looks on PATH, so that directory is put on PATH too.
    """
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists() and shutil.which("dbt") != str(beside):
        os.environ["PATH"] = f"{beside.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return str(beside) if beside.exists() else "dbt"


# Where each warehouse keeps the landing tables when the URL does not say otherwise.
DEFAULT_SOURCE_SCHEMA: dict[str, str] = {"duckdb": "main", "postgres": "public"}

# Every variable make_dbt_resource owns; the profile falls back to its own default for the rest.
DBT_ENV_VARS = (
    "OMS_DBT_TARGET",
    "OMS_DBT_SOURCE_SCHEMA",
    "OMS_DBT_DUCKDB_PATH",
    "OMS_DBT_DUCKDB_SCHEMA",
    "OMS_DBT_PG_HOST",
    "OMS_DBT_PG_PORT",
    "OMS_DBT_PG_USER",
    "OMS_DBT_PG_PASSWORD",
    "OMS_DBT_PG_DBNAME",
    "OMS_DBT_PG_SCHEMA",
)

def target_for_url(warehouse_url: str | URL) -> DbtTarget:
    """The dbt target (``duckdb`` or ``postgres``) that serves a SQLAlchemy warehouse URL."""
    backend = make_url(warehouse_url).get_backend_name()
    if backend == "duckdb":
        return "duckdb"
    if backend in ("postgresql", "postgres"):
        return "postgres"
    raise ValueError(f"dbt has no target for warehouse backend {backend!r} (use duckdb or postgresql)")


def _search_path_schema(url: URL) -> str | None:
    """The first schema of a ``?options=-csearch_path=...`` PostgreSQL URL option, if any."""
    options = url.query.get("options")
    if not options:
        return None
    for option in (options,) if isinstance(options, str) else options:
        for token in option.split():
            token = token.removeprefix("-c")
            if token.startswith("search_path="):
                first = token.split("=", 1)[1].split(",")[0].strip().strip('"')
                return first or None
    return None


def dbt_env_for_url(
    warehouse_url: str | URL, target: DbtTarget | None = None, *, schema: str | None = None
) -> dict[str, str]:
    """The ``OMS_DBT_*`` variables that point ``profiles.yml`` at ``warehouse_url``.

    Args:
        warehouse_url: SQLAlchemy URL of the warehouse (``duckdb:////abs/file.duckdb`` or
            ``postgresql+psycopg2://user:pw@host:5432/db``). A ``search_path`` option in a
            PostgreSQL URL names the schema of the landing tables.
        target: dbt target; default follows the URL. Must agree with the URL's backend.
        schema: the schema dbt builds its models in; default: leave the profile's (``analytics``).
    """
    url = make_url(warehouse_url)
    url_target = target_for_url(url)
    if target is not None and target != url_target:
        raise ValueError(f"dbt target {target!r} does not match the warehouse URL backend ({url_target})")
    env: dict[str, str] = {"OMS_DBT_TARGET": url_target}
    if url_target == "duckdb":
        database = url.database or ""
        if database in ("", ":memory:"):
            # dbt runs in a subprocess: it can only share a database that lives in a file.
            raise ValueError("dbt needs a DuckDB file; an in-memory DuckDB warehouse is not shared")
        # dbt's working directory is the project dir: hand it an absolute path.
        env["OMS_DBT_DUCKDB_PATH"] = str(Path(database).expanduser().resolve())
        env["OMS_DBT_SOURCE_SCHEMA"] = DEFAULT_SOURCE_SCHEMA["duckdb"]
        if schema:
            env["OMS_DBT_DUCKDB_SCHEMA"] = schema
    else:
        env["OMS_DBT_PG_HOST"] = url.host or "127.0.0.1"
        env["OMS_DBT_PG_PORT"] = str(url.port or 5432)
        env["OMS_DBT_PG_USER"] = url.username or "postgres"
        env["OMS_DBT_PG_PASSWORD"] = url.password or ""
        env["OMS_DBT_PG_DBNAME"] = url.database or "postgres"
        env["OMS_DBT_SOURCE_SCHEMA"] = _search_path_schema(url) or DEFAULT_SOURCE_SCHEMA["postgres"]
        if schema:
            env["OMS_DBT_PG_SCHEMA"] = schema
    return env
