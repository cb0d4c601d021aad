"""The report entry behind the finance_report asset over the shared marts (VARIANCES.csv and the report),
and the CLI option that reaches it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from oms_pipeline.cli import app
from oms_pipeline.reporting.finance import VARIANCES_CSV_HEADER


def test_reconcile_with_report_writes_variances_and_the_report(reconciled):
    summary = reconciled.summary
    folder = Path(summary["report"]["html"]).parent
    assert summary["variances"] == summary["report_totals"]["variances"] == len(reconciled.marts.variances)
    assert summary["by_type"] == {k: v for k, v in reconciled.marts.variances.groupby("variance_type").size().items()}
    with reconciled.variances_csv.open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == summary["variances"]
    assert Path(summary["report"]["pdf"]).read_bytes().startswith(b"%PDF-")
    with (folder / "variances.csv").open(newline="") as handle:
        assert tuple(next(csv.reader(handle))) == VARIANCES_CSV_HEADER


def test_cli_reconcile_report_dir_goes_to_the_report_entry(reconciled, tmp_path: Path, monkeypatch):
    # The dbt build behind it is the shared fixture's; here only the option's wiring is checked.
    calls = []

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return {**reconciled.summary, "errors": []}

    monkeypatch.setattr("oms_pipeline.services.reconcile_files.reconcile_with_report", record)
    orders, shipments, invoices = reconciled.inputs
    out, report_dir = tmp_path / "VARIANCES.csv", tmp_path / "report"
    result = CliRunner().invoke(app, ["reconcile", "--orders", str(orders), "--shipments", str(shipments),
                                      "--invoices", str(invoices), "--as-of", reconciled.data.as_of.isoformat(),
                                      "--out", str(out), "--report-dir", str(report_dir)])
    assert result.exit_code == 0, result.output
    [(args, _)] = calls
    assert args == (orders, shipments, invoices, reconciled.data.as_of, out, report_dir)
    printed = json.loads(result.output.strip().splitlines()[-1])
    assert printed["report"] == reconciled.summary["report"]
