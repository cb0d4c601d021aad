"""The dbt project on disk, its manifest, and the dbt CLI resource pointed at the warehouse.

dbt reads its connection from ``dbt_project/profiles.yml``, where every value is an ``OMS_DBT_*``
environment variable. :func:`make_dbt_resource` derives those variables from the one warehouse
SQLAlchemy URL, so dbt and the Python assets can never point at different databases.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Literal

from dagster_dbt import DbtCliResource, DbtProject
from sqlalchemy.engine import URL, make_url

DbtTarget = Literal["duckdb", "postgres"]

# The repository root holds dbt_project/ beside the package (editable install / checkout).
DBT_PROJECT_DIR = Path(
    os.environ.get("OMS_DBT_PROJECT_DIR") or Path(__file__).resolve().parents[3] / "dbt_project"
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

# Files whose change makes a parsed manifest stale.
_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv"}


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


def make_dbt_resource(
    warehouse_url: str, target: DbtTarget | None = None, *, schema: str | None = None
) -> DbtCliResource:
    """A :class:`DbtCliResource` for ``dbt_project/`` that runs against ``warehouse_url``.

    ``DbtCliResource`` has no per-resource environment in this dagster-dbt version: it hands dbt a
    copy of ``os.environ``. So the derived ``OMS_DBT_*`` variables are set in ``os.environ`` here;
    every dbt subprocess (and Dagster's in-process profile load) inherits them. Nothing connects to
    the warehouse until a dbt command runs.

    Args:
        warehouse_url: SQLAlchemy URL of the warehouse (see :func:`dbt_env_for_url`).
        target: ``duckdb`` or ``postgres``; default follows the URL.
        schema: the schema dbt builds into; default the profile's ``analytics``.
    """
    env = dbt_env_for_url(warehouse_url, target, schema=schema)
    os.environ.update(env)
    resolved_target = env["OMS_DBT_TARGET"]
    return DbtCliResource(project_dir=dbt_project(resolved_target), target=resolved_target,
                          dbt_executable=dbt_executable())  # type: ignore[arg-type]


def default_dbt_target() -> DbtTarget:
    """The dbt target this deployment uses: ``OMS_DBT_TARGET``, else the one the warehouse URL needs."""
    explicit = os.environ.get("OMS_DBT_TARGET")
    if explicit in ("duckdb", "postgres"):
        return explicit  # type: ignore[return-value]
    from oms_pipeline.settings import OmsSettings

    return target_for_url(OmsSettings().resolved_warehouse_url)


def dbt_project(target: DbtTarget | None = None) -> DbtProject:
    """The :class:`DbtProject` for ``dbt_project/`` (profiles.yml lives in the project dir)."""
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=target)


def _manifest_is_current(project: DbtProject, target: str | None) -> bool:
    manifest_path = project.manifest_path
    if not manifest_path.exists():
        return False
    built = manifest_path.stat().st_mtime
    for path in project.project_dir.rglob("*"):
        relative = path.relative_to(project.project_dir)
        if relative.parts[0] in ("target", "logs", "dbt_packages"):
            continue
        if path.suffix in _PROJECT_FILE_SUFFIXES and path.stat().st_mtime > built:
            return False
    if target is None:
        return True
    try:
        adapter_type = json.loads(manifest_path.read_text())["metadata"].get("adapter_type")
    except (OSError, ValueError, KeyError):
        return False
    # Relation names and kinds in the manifest follow the adapter it was parsed with.
    return adapter_type == target


def ensure_dbt_manifest(target: DbtTarget | None = None) -> Path:
    """Path of ``dbt_project/target/manifest.json``, running ``dbt parse`` first if it is missing.

    It is parsed again when a project file is newer than it or it was parsed for another target.
    ``dbt parse`` renders the profile but never connects, so this works on a fresh clone without a
    database. A file lock keeps concurrent processes (webserver, daemon, runs) from parsing twice.
    """
    project = dbt_project(target)
    dbt_executable()  # the preparer runs `dbt` from PATH
    if not _manifest_is_current(project, target):
        project.preparer.prepare(project)
    return project.manifest_path
