"""The test suite's own layout rules, read from the source (no test is run or imported):

- tests import helpers only from ``oms_pipeline_tests.support``, never from another test module or a conftest
  (shared fixtures come from conftest files by name, as pytest gives them);
- ``support/`` holds helpers, not tests;
- a module under ``unit/`` imports nothing that does I/O: no sandbox server or other HTTP server, no socket, no
  subprocess, no database engine or warehouse, no Dagster instance or run, no Dagster definitions (building them
  needs the dbt manifest, which importing them makes with ``dbt parse`` when it is missing or stale).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]  # oms_pipeline_tests/
PACKAGE = TESTS.name
SUPPORT = f"{PACKAGE}.support"

# What a unit test may not import (a module, or a name in a module), and why.
NOT_IN_UNIT = {
    "oms_pipeline.sandbox.server.SandboxServer": "serves the sandbox over HTTP",
    f"{SUPPORT}.fake_anthropic.FakeAnthropic": "serves HTTP",
    f"{SUPPORT}.sandbox_http": "talks to the sandbox over HTTP",
    "uvicorn": "serves HTTP",
    "socket": "opens sockets",
    "subprocess": "runs a subprocess",
    "sqlalchemy.create_engine": "connects to a database",
    "duckdb": "opens a database",
    "psycopg2": "connects to a database",
    "oms_pipeline.storage.warehouse.Warehouse": "opens the warehouse",
    "dagster.materialize": "runs Dagster assets",
    "dagster.materialize_to_memory": "runs Dagster assets",
    "dagster.instance_for_test": "makes a Dagster instance",
    "dagster.DagsterInstance": "makes a Dagster instance",
    "oms_pipeline.cli.jobs": "runs the code location's jobs on a Dagster instance",
    "oms_pipeline.cli.benches": "imports the code location's jobs (oms_pipeline.cli.jobs)",
    "oms_pipeline.cli.demo": "imports the code location's jobs (oms_pipeline.cli.jobs)",
    "oms_pipeline.cli.crash_drill": "runs `oms ingest` in subprocesses",
    "oms_pipeline.definitions": "builds the code location (and runs dbt parse when the manifest is stale)",
    "oms_pipeline.defs": "builds Dagster definitions (and runs dbt parse when the manifest is stale)",
}


def _imports(relative: Path, source: str) -> list[tuple[int, str]]:
    """(line, dotted name) for everything the module imports, names in modules as ``module.name``, and every
    attribute reached through an imported module (``sa.create_engine`` -> ``sqlalchemy.create_engine``)."""
    tree = ast.parse(source, filename=str(relative))
    package = ".".join((PACKAGE, *relative.with_suffix("").parts[:-1]))
    found: list[tuple[int, str]] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name))
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                    alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            for alias in node.names:
                found.append((node.lineno, f"{module}.{alias.name}"))
                aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, value = [node.attr], node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in aliases:
                found.append((node.lineno, ".".join([aliases[value.id], *reversed(chain)])))
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layout_problems(relative: Path, source: str) -> list[str]:
    """What the module at ``relative`` (a path under oms_pipeline_tests/) does against the layout rules, one
    line each."""
    where = f"{PACKAGE}/{relative.as_posix()}"
    problems = []
    if relative.parts[0] == "support" and relative.name.startswith("test_"):
        problems.append(f"{where}: support/ holds helpers, not tests: move the module to unit/, integration/ or e2e/")
    flagged: set[int] = set()
    for line, name in _imports(relative, source):
        if _within(name, PACKAGE) and not _within(name, SUPPORT) and name != PACKAGE and line not in flagged:
            flagged.add(line)  # once per import statement: the module it names, not each name too
            problems.append(f"{where}:{line}: imports {name}: tests import helpers from {SUPPORT} only, never "
                            "from a test module or a conftest (move the helper to support/, or make it a fixture)")
        if relative.parts[0] == "unit":
            for forbidden, why in NOT_IN_UNIT.items():
                if _within(name, forbidden):
                    problems.append(f"{where}:{line}: a unit test imports {forbidden}, which {why}: "
                                    "move the test to integration/ or e2e/")
    return sorted(set(problems))


def _python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_trees_are_there():
    assert {p.name for p in TESTS.iterdir() if p.is_dir() and (p / "__init__.py").exists()} >= {
        "unit", "integration", "e2e", "support"}
    # Every folder with Python in it is a package, so module names stay unique across the trees.
    missing = [str(p.parent.relative_to(TESTS)) for p in _python_files() if not (p.parent / "__init__.py").exists()]
    assert missing == []
    # Every test module is in one of the trees.
    loose = [str(p.relative_to(TESTS)) for p in _python_files()
             if p.name.startswith("test_") and p.relative_to(TESTS).parts[0] not in ("unit", "integration", "e2e")]
    assert loose == []


def test_no_test_imports_another_and_unit_tests_do_no_io():
    problems = [problem for path in _python_files()
                for problem in layout_problems(path.relative_to(TESTS), path.read_text(encoding="utf-8"))]
    assert problems == [], "\n" + "\n".join(problems)


@pytest.mark.parametrize(("where", "source", "expected"), [
    ("unit/topic/test_x.py", "from oms_pipeline.sandbox.server import SandboxServer\n", "SandboxServer"),
    ("unit/topic/test_x.py", "import subprocess\n", "subprocess"),
    ("unit/topic/test_x.py", "import sqlalchemy as sa\n\nengine = sa.create_engine('duckdb://')\n",
     "sqlalchemy.create_engine"),
    ("unit/topic/test_x.py", "from oms_pipeline.storage.warehouse import Warehouse\n", "Warehouse"),
    ("unit/topic/test_x.py", "import dagster\n\ndagster.materialize([])\n", "dagster.materialize"),
    ("unit/topic/test_x.py", "from dagster import instance_for_test\n", "dagster.instance_for_test"),
    ("unit/test_x.py", "from oms_pipeline.defs.dbt import dbt_env_for_url\n", "oms_pipeline.defs"),
    ("integration/topic/test_x.py", "from oms_pipeline_tests.integration.topic.test_y import helper\n",
     "imports oms_pipeline_tests.integration.topic.test_y:"),
    ("e2e/test_x.py", "from .test_y import helper\n", "imports oms_pipeline_tests.e2e.test_y:"),
    ("e2e/test_x.py", "from oms_pipeline_tests.conftest import POSTGRES_URL\n", "oms_pipeline_tests.conftest"),
    ("support/test_x.py", "", "support/ holds helpers, not tests"),
])
def test_the_rules_catch_what_they_are_about(where, source, expected):
    # The same checks on a planted module: what each rule is there to refuse, it refuses.
    problems = layout_problems(Path(where), source)
    assert len(problems) >= 1 and all(f"{PACKAGE}/{where}" in p for p in problems)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(("where", "source"), [
    ("unit/topic/test_x.py", "from oms_pipeline_tests.support.orders import make_order\n"),
    ("unit/topic/test_x.py", "import sqlalchemy as sa\n\nsa.select\n"),
    ("integration/topic/test_x.py", "from oms_pipeline.sandbox.server import SandboxServer\nimport subprocess\n"),
    ("e2e/test_x.py", "from dagster import materialize\nfrom oms_pipeline.definitions import build_definitions\n"),
])
def test_the_rules_let_through_what_they_allow(where, source):
    assert layout_problems(Path(where), source) == []
