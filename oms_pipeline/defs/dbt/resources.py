"""The dbt project on disk, its manifest, and the dbt CLI resource pointed at the warehouse.

dbt reads its connection from ``dbt_project/profiles.yml``, where every value is an ``OMS_DBT_*``
environment variable. :func:`make_dbt_resource` derives those variables from the one warehouse
SQLAlchemy URL, so dbt and the Python assets can never point at different databases.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from oms_pipeline.storage.dbt_env import (
    DBT_ENV_VARS,
    DBT_PROJECT_DIR,
    DEFAULT_SOURCE_SCHEMA,
    DbtTarget,
    dbt_env_for_url,
    dbt_executable,
    target_for_url,
)

__all__ = ["DBT_ENV_VARS", "DBT_PROJECT_DIR", "DEFAULT_SOURCE_SCHEMA", "DbtTarget", "dbt_env_for_url",
           "dbt_executable", "target_for_url"]

# Files whose change makes a parsed manifest stale.
_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv"}


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
