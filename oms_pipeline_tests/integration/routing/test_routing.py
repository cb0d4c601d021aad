"""`oms route` over its file contract (INSTANCE.json in, PLAN.json out, a bad input named), and `oms bench route`
(the benches module it loads imports the code location's jobs)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from oms_pipeline.cli import app
from oms_pipeline.domain.routing import Plan
from oms_pipeline.sandbox.routing_instances import generate_instance
from oms_pipeline_tests.support.routing import check_feasible


def test_cli_route_round_trip_and_bad_input(tmp_path):
    inst = generate_instance(8, 3, 2, seed=3)
    path = tmp_path / "INSTANCE.json"
    path.write_text(inst.model_dump_json())
    out = tmp_path / "PLAN.json"
    result = CliRunner().invoke(app, ["route", "--instance", str(path), "--out", str(out), "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    plan = Plan.model_validate_json(out.read_text())
    check_feasible(inst, plan)
    bad = json.loads(inst.model_dump_json())
    bad["orders"][3]["lines"][0]["qty"] = 0
    path.write_text(json.dumps(bad))
    result = CliRunner().invoke(app, ["route", "--instance", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "orders[3].lines[0].qty" in result.output


def test_cli_bench_route_prints_json_last(tmp_path):
    result = CliRunner().invoke(app, ["bench", "route", "--orders", "30", "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert {"bench", "orders", "locations", "services", "seconds", "total_cost", "greedy_cost", "lower_bound",
            "gap_to_bound", "split_rate", "peak_rss_mb"} <= set(figures)
