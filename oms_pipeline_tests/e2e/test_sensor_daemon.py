"""The sensor under Dagster's own sensor daemon: a repeated window is launched once (run_key)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from dagster import DagsterRunStatus, RunsFilter, instance_for_test
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.sensor import execute_sensor_iteration
from dagster._time import get_current_datetime

from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore

pytestmark = pytest.mark.e2e


def test_daemon_launches_each_window_once(tmp_path, duckdb_url, monkeypatch):
    store = SandboxStore(seed=9, orders=12, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, seed=1) as sandbox:
        # The code location runs in a subprocess of the daemon: it reads the same settings.
        for key, value in {"OMS_SHOPIFY_URL": sandbox.url, "OMS_SHOP_DOMAIN": sandbox.shop_domain,
                           "OMS_WAREHOUSE_URL": duckdb_url, "OMS_DATA_DIR": str(tmp_path),
                           "OMS_SENSOR_AUTOSTART": "1"}.items():
            monkeypatch.setenv(key, value)
        # The default test instance queues runs (no launcher needed): we count what the daemon submits.
        with instance_for_test() as instance, create_test_daemon_workspace_context(
            ModuleTarget(module_name="oms_pipeline.definitions", attribute=None, working_directory=None,
                         location_name="oms_pipeline"),
            instance,
        ) as workspace:
            log = logging.getLogger("sensor-test")
            start = get_current_datetime()

            def tick(at):
                with freeze_time(at):
                    list(execute_sensor_iteration(workspace, log, None, None))
                return instance.get_runs(RunsFilter(tags={"oms/shop": sandbox.shop_domain}))

            runs = tick(start)
            assert len(runs) == 1 and runs[0].status == DagsterRunStatus.QUEUED
            (state,) = [s for s in instance.all_instigator_state() if s.name == "store_order_changes"]
            cursor = state.instigator_data.cursor
            assert runs[0].tags["dagster/run_key"] == f"{sandbox.shop_domain}|orders|{cursor}"

            # Nothing changed: the next tick requests nothing.
            assert len(tick(start + timedelta(seconds=61))) == 1

            # A tick that repeats the same window (its cursor lost, e.g. a crash before it was saved)
            # asks for the same run_key: the daemon does not launch it again.
            instance.update_instigator_state(state.with_data(state.instigator_data._replace(cursor=None)))
            assert len(tick(start + timedelta(seconds=122))) == 1

            # A store change gives a new window, a new run key and one more run.
            store.advance(2)
            runs = tick(start + timedelta(seconds=183))
            assert len(runs) == 2 and len({r.tags["dagster/run_key"] for r in runs}) == 2
