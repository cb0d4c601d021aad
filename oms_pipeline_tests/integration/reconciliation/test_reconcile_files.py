"""`oms reconcile` on files: every planted discrepancy is found with its type and amount, clean orders
have none, and VARIANCES.csv keeps its contract. One dbt build for the whole module."""

from __future__ import annotations

import csv
import json
from collections import Counter
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from oms_pipeline.cli import app
from oms_pipeline.sandbox.reconciliation_data import ORDER_PROBLEMS, ORPHAN_PROBLEMS, generate_reconciliation_data

ORDERS = 400


@pytest.fixture(scope="module")
def reconciled(tmp_path_factory):
    """Generated files (plus a few broken records), reconciled once through the CLI."""
    data = generate_reconciliation_data(ORDERS, seed=11)
    directory = tmp_path_factory.mktemp("reconcile")
    orders, shipments, invoices = data.write(directory)
    with orders.open("a") as out:
        out.write("{not json\n")
    with invoices.open("a") as out:
        out.write("INV-X,2025-03-30,1ZX,ground,1.0,pallet_fee,9.00,USD\n")
    out_csv = directory / "VARIANCES.csv"
    result = CliRunner().invoke(app, ["reconcile", "--orders", str(orders), "--shipments", str(shipments),
                                      "--invoices", str(invoices), "--as-of", data.as_of.isoformat(),
                                      "--out", str(out_csv)])
    assert result.exit_code == 0, result.output
    with out_csv.open(newline="") as handle:
        header = next(csv.reader(handle))
        handle.seek(0)
        rows = list(csv.DictReader(handle))
    return data, result, header, rows


def _found(rows):
    return Counter((row["order_id"] or None, row["variance_type"], Decimal(row["amount"])) for row in rows)


def test_every_planted_discrepancy_is_found_with_type_and_amount(reconciled):
    data, _, _, rows = reconciled
    truth = Counter((v.order_id, v.variance_type, v.amount) for v in data.truth)
    assert {kind for _, kind, _ in truth} == set(ORDER_PROBLEMS) | set(ORPHAN_PROBLEMS)
    found = _found(rows)
    assert truth - found == Counter(), "planted but not found"
    assert found - truth == Counter(), "found but not planted"


def test_clean_orders_produce_no_variance(reconciled):
    data, _, _, rows = reconciled
    clean = set(data.clean_order_ids)
    assert len(clean) > ORDERS * 0.8
    assert [row for row in rows if row["order_id"] in clean] == []


def test_variances_file_contract(reconciled):
    _, result, header, rows = reconciled
    assert header == ["order_id", "variance_type", "amount", "detail"]
    orphans = [row for row in rows if row["order_id"] == ""]
    assert {row["variance_type"] for row in orphans} == {"shipment_without_order", "charge_without_shipment"}
    assert all("unknown" in row["detail"] for row in orphans)
    assert all(row["detail"] for row in rows)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["variances"] == len(rows)
    assert summary["orders"] == ORDERS and summary["skipped"] == 2


def test_bad_records_are_reported_with_line_and_field(reconciled):
    _, result, _, _ = reconciled
    errors = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert f"line orders:{ORDERS + 1}: <line>: not valid JSON" in errors[0]
    assert "charge_type: unknown charge type 'pallet_fee'" in errors[1]


def test_a_wrong_invoice_header_is_refused(tmp_path):
    for name, text in (("o.jsonl", ""), ("s.json", '{"shipments": []}'), ("i.csv", "invoice,amount\n")):
        (tmp_path / name).write_text(text)
    result = CliRunner().invoke(app, ["reconcile", "--orders", str(tmp_path / "o.jsonl"), "--shipments",
                                      str(tmp_path / "s.json"), "--invoices", str(tmp_path / "i.csv"),
                                      "--as-of", "2025-04-01", "--out", str(tmp_path / "v.csv")])
    assert result.exit_code == 1
    assert "invoice CSV header lacks invoice_number" in result.stderr
