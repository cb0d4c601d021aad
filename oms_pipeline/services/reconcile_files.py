"""Three-way reconciliation on files: store orders, 3PL shipments and carrier invoices in, variances out.

Contracts:

- ``ORDERS.jsonl``: one Shopify REST order object per line, with ``fulfillments``, ``refunds``,
  ``transactions`` (when known) and ``shipping_lines``;
- ``SHIPMENTS.json``: a ShipStation ``GET /shipments`` response body (``shipments`` array; each
  ``orderKey`` is the store order id);
- ``INVOICES.csv``: header ``invoice_number,invoice_date,tracking_number,service,billed_weight_kg,
  charge_type,amount,currency``;
- ``VARIANCES.csv`` (written): header ``order_id,variance_type,amount,detail``; ``order_id`` is
  empty when the variance belongs to no store order (a charge for an unknown label, a shipment for
  an unknown order key).

The files are loaded into a scratch DuckDB warehouse (migrated like any other), and the same dbt
models the pipeline runs (tag ``reconciliation``) compute the variances, with the ``as_of`` var.
Bad input records are skipped and reported (``errors`` in the summary), never fatal.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from oms_pipeline.domain.ingestion import OrderEvent
from oms_pipeline.domain.orders import Order, OrderParseError
from oms_pipeline.domain.reconciliation import (
    InputError,
    ParsedInputs,
    check_invoice_header,
    parse_invoice_rows,
    parse_shipments,
    parse_store_order,
)
from oms_pipeline.domain.shopify.rest import parse_rest_order
from oms_pipeline.reporting.marts import write_report_from_warehouse
from oms_pipeline.storage.dbt_env import DBT_PROJECT_DIR, dbt_env_for_url, dbt_executable
from oms_pipeline.storage.reconciliation import land_reconciliation_inputs
from oms_pipeline.storage.warehouse import Warehouse

VARIANCES_HEADER = ("order_id", "variance_type", "amount", "detail")
RECONCILIATION_MARTS = ("reconciliation_order_lines", "reconciliation_shipping_cost", "reconciliation_variances")
OFFLINE_SHOP = "offline.myshopify.com"  # REST order objects do not name their shop
DBT_SCHEMA = "analytics"
_BATCH = 2000  # order lines parsed and landed at a time: bounds memory on big files
# orjson reads integers past 64 bits as floats where json keeps them exact: text with 19 digits in a
# row (every digit mapped to "0", then searched) goes to json instead.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def _error(source: str, line: int | str, field: str, message: str) -> dict[str, Any]:
    return {"line": f"{source}:{line}", "field": field, "error": message}


def _from_input_error(error: InputError, line: int | str | None = None) -> dict[str, Any]:
    where = f"{error.ref}" if line is None else f"{line} ({error.ref})"
    return _error(error.source, where, error.field, error.message)


def _loads(text: str, data: bytes) -> Any:
    """``json.loads(text)``, several times faster: ``data`` is ``text`` (or its stripped copy) in UTF-8.

    orjson decodes ``data`` where it gives what json gives; it refuses what json accepts (NaN,
    out-of-range floats, lone surrogates) and rounds huge integers to floats, so such input goes
    through json, and values and error messages are json's.
    """
    if data.translate(_DIGITS_AS_ZERO).find(_LONG_NUMBER) < 0:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic collector over one batch.

    A batch keeps every decoded payload and parsed order alive, so the collector's full passes
    rescan hundreds of thousands of objects for nothing (about half the parse time). Reference
    counting still frees everything; cycles are collected once the collector is back on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _order_batches(path: Path) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    with path.open(encoding="utf-8") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            batch.append((number, raw))
            if len(batch) >= _BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def load_orders(warehouse: Warehouse, path: Path, shop_domain: str = OFFLINE_SHOP,
                run_id: str = "offline-reconcile", *, fresh: bool = False) -> tuple[int, list[dict[str, Any]]]:
    """Land ORDERS.jsonl: canonical orders and lines, and their fulfillments/refunds/transactions/shipping.

    Returns (orders landed, errors). A line that is not JSON, or an order the canonical parser
    refuses, is reported with its line number and skipped whole. ``fresh`` says the warehouse
    holds no store rows yet: the replace-deletes are then only run for orders met in an earlier
    batch of this file (same rows landed, less work).
    """
    errors: list[dict[str, Any]] = []
    landed = 0
    landed_ids: set[str] = set()
    now = datetime.now(UTC)
    for batch in _order_batches(path):
        with _gc_paused():
            landed += _land_order_batch(warehouse, batch, shop_domain, run_id, now, errors,
                                        landed_ids if fresh else None)
    return landed, errors


def _land_order_batch(warehouse: Warehouse, batch: list[tuple[int, str]], shop_domain: str, run_id: str,
                      now: datetime, errors: list[dict[str, Any]], landed_ids: set[str] | None) -> int:
    """Parse and land one batch; returns the orders landed. ``landed_ids`` (fresh warehouse only)
    holds the orders landed by earlier batches, the only ones whose store rows need replacing.
    Its own function so the batch's objects are freed before the next batch is read."""
    latest = _parse_order_batch(batch, shop_domain, errors)
    parsed = ParsedInputs()
    for _order, _event, number, payload in latest.values():
        one = parse_store_order(payload, shop_domain, now)
        parsed.merge(ParsedInputs(rows=one.rows))
        errors.extend(_from_input_error(e, number) for e in one.errors)
    pairs = [(order, event) for order, event, _, _ in latest.values()]
    warehouse.upsert_orders(pairs, run_id)
    replace = landed_ids is None or not landed_ids.isdisjoint(latest)
    land_reconciliation_inputs(warehouse.engine, parsed, replace=replace)
    if landed_ids is not None:
        landed_ids.update(latest)
    return len(pairs)


def _parse_order_batch(batch: list[tuple[int, str]], shop_domain: str,
                       errors: list[dict[str, Any]]) -> dict[str, tuple[Order, OrderEvent, int, Any]]:
    """The newest version of each order in the batch (files may hold several versions of one)."""
    latest: dict[str, tuple[Order, OrderEvent, int, Any]] = {}
    for number, raw in batch:
        line = raw.strip()
        data = line.encode()
        try:
            payload = _loads(raw, data)
        except json.JSONDecodeError as exc:
            errors.append(_error("orders", number, "<line>", f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(payload, dict):
            errors.append(_error("orders", number, "<line>", "not a JSON object"))
            continue
        try:
            order = parse_rest_order(payload, shop_domain)
        except OrderParseError as exc:
            field, _, message = exc.reason.partition(":")
            errors.append(_error("orders", number, field.strip(), message.strip() or exc.reason))
            continue
        # The line itself identifies the version: hashing it spares a re-encode of every payload.
        stamp = payload.get("updated_at")
        event = OrderEvent(source_api="rest", payload_json=line, order_id=order.id,
                           updated_at=stamp if isinstance(stamp, str) else None,
                           payload_sha256=hashlib.sha256(data).hexdigest())
        seen = latest.get(order.id)
        if seen is None or order.updated_at >= seen[0].updated_at:
            latest[order.id] = (order, event, number, payload)
    return latest


def load_shipments(warehouse: Warehouse, path: Path, shop_domain: str = OFFLINE_SHOP, *,
                   fresh: bool = False) -> tuple[int, list[dict]]:
    """Land SHIPMENTS.json (a ShipStation ``GET /shipments`` body). Returns (shipments landed, errors).

    ``fresh`` (no 3PL rows landed yet) skips the replace-deletes, which could find nothing.
    """
    with _gc_paused():
        try:
            text = path.read_text(encoding="utf-8")
            body = _loads(text, text.encode())
        except json.JSONDecodeError as exc:
            return 0, [_error("shipments", exc.lineno, "<file>", f"not valid JSON ({exc.msg})")]
        del text
        parsed = parse_shipments(body, shop_domain, datetime.now(UTC))
        del body
        land_reconciliation_inputs(warehouse.engine, parsed, replace=not fresh)
    return len(parsed.rows.get("tpl_shipments", [])), [_from_input_error(e) for e in parsed.errors]


def load_invoices(warehouse: Warehouse, path: Path) -> tuple[int, list[dict]]:
    """Land INVOICES.csv. Returns (charge lines landed, errors); a wrong header raises ``ValueError``."""
    with _gc_paused(), path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        check_invoice_header(reader.fieldnames)
        parsed = parse_invoice_rows(reader, datetime.now(UTC), source_file=path.name)
        land_reconciliation_inputs(warehouse.engine, parsed)
    # Error refs count data rows; the file line is one more (the header).
    return len(parsed.rows.get("carrier_invoice_lines", [])), [_from_input_error(e) for e in parsed.errors]

# Every order of the files is the 3PL's to ship (the live pipeline asks its handoff ledger instead), and
# everything in the files is known (a daily partition sees only the inputs dated by its day).
FILE_SCOPE: dict[str, Any] = {"reconciliation_tpl_scope": "all_orders", "reconciliation_known_by_as_of": False}


def run_reconciliation_models(warehouse_url: str, as_of: date, work_dir: Path,
                              promise_days: int | None = None) -> None:
    """``dbt build`` the reconciliation marts (and what they read) on a DuckDB warehouse file.

    dbt writes its artifacts under ``work_dir``, so the project's own ``target/`` is left alone.
    Raises ``RuntimeError`` with dbt's output when a model or test fails.
    """
    env = {**os.environ, **dbt_env_for_url(warehouse_url, "duckdb", schema=DBT_SCHEMA)}
    dbt_vars: dict[str, Any] = {"as_of": as_of.isoformat(), **FILE_SCOPE}
    if promise_days is not None:
        dbt_vars["reconciliation_promise_days"] = promise_days
    command = [dbt_executable(), "build", "--select",
               *(f"+{name}" for name in RECONCILIATION_MARTS), "--exclude", "test_type:unit",
               "--vars", json.dumps(dbt_vars),
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"), "--quiet"]
    done = subprocess.run(command, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = f"{done.stdout[-4000:]}{done.stderr[-2000:]}"
        raise RuntimeError(f"dbt build of the reconciliation models failed:\n{output}")


def _amount_text(amount: Any) -> str:
    value = Decimal(str(amount))
    cents = value.quantize(Decimal("0.01"))
    return str(cents) if cents == value else str(value.normalize())


def write_variances(warehouse: Warehouse, out_csv: Path) -> dict[str, int]:
    """Write VARIANCES.csv from the mart; returns the count per variance type."""
    query = sa.text(f"select order_id, variance_type, amount, detail from {DBT_SCHEMA}.reconciliation_variances "
                    "order by variance_type, order_id nulls first, variance_key")
    counts: dict[str, int] = {}
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with warehouse.engine.connect() as conn, out_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(VARIANCES_HEADER)
        for order_id, variance_type, amount, detail in conn.execute(query):
            writer.writerow([order_id or "", variance_type, _amount_text(amount), detail])
            counts[variance_type] = counts.get(variance_type, 0) + 1
    return counts


def _keep_one_connection(warehouse: Warehouse) -> None:
    """Land through one kept DuckDB connection instead of one per transaction.

    This process is the file's only user until dbt runs, and the default engine opens (and, closing,
    checkpoints) the file for every transaction: two per batch of orders. ``warehouse.dispose()``
    closes the kept connection before dbt opens the file.
    """
    warehouse.engine = sa.create_engine(warehouse.url, poolclass=sa.pool.StaticPool)


def reconcile_files(orders_jsonl: Path, shipments_json: Path, invoices_csv: Path, as_of: date, out_csv: Path,
                    *, work_dir: Path | None = None, promise_days: int | None = None) -> dict[str, Any]:
    """Reconcile the three files as of ``as_of`` and write VARIANCES.csv; returns a summary.

    Args:
        orders_jsonl, shipments_json, invoices_csv: the inputs (see the module docstring).
        as_of: the day "past its promise" is judged on.
        out_csv: where VARIANCES.csv goes.
        work_dir: keep the scratch warehouse and dbt artifacts here (default: a temporary directory).
        promise_days: override the models' promise (days after created_at; default 5).

    The summary holds counts, ``variances`` (total), ``by_type``, timings and ``errors`` (skipped
    records, each ``{"line", "field", "error"}``).
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="oms-reconcile-") as scratch:
        base = Path(work_dir) if work_dir else Path(scratch)
        base.mkdir(parents=True, exist_ok=True)
        url = f"duckdb:///{base / 'reconcile.duckdb'}"
        warehouse = Warehouse(url)
        _keep_one_connection(warehouse)
        warehouse.migrate()
        orders, order_errors = load_orders(warehouse, Path(orders_jsonl), fresh=True)
        shipments, shipment_errors = load_shipments(warehouse, Path(shipments_json), fresh=True)
        charges, invoice_errors = load_invoices(warehouse, Path(invoices_csv))
        warehouse.dispose()  # DuckDB: dbt's process must be the only one holding the file
        loaded = time.perf_counter()
        run_reconciliation_models(url, as_of, base, promise_days)
        modelled = time.perf_counter()
        by_type = write_variances(warehouse, Path(out_csv))
        warehouse.dispose()
    finished = time.perf_counter()
    return {
        "orders": orders, "shipments": shipments, "invoice_lines": charges,
        "variances": sum(by_type.values()), "by_type": dict(sorted(by_type.items())),
        "load_seconds": round(loaded - started, 3), "dbt_seconds": round(modelled - loaded, 3),
        "seconds": round(finished - started, 3), "out": str(out_csv),
        "errors": order_errors + shipment_errors + invoice_errors,
    }


def reconcile_with_report(orders_jsonl: Path, shipments_json: Path, invoices_csv: Path, as_of: date,
                          out_csv: Path, report_dir: Path, *, work_dir: Path | None = None,
                          promise_days: int | None = None) -> dict[str, Any]:
    """:func:`reconcile_files`, then the finance report of the same marts.

    The scratch warehouse (``reconcile.duckdb``) lives in ``work_dir`` when given, else in a
    temporary directory kept until the report is written. The summary gains ``report`` (paths of
    the HTML, PDF and CSV) and ``report_totals``.
    """
    with tempfile.TemporaryDirectory(prefix="oms-reconcile-report-") as scratch:
        base = Path(work_dir) if work_dir else Path(scratch)
        summary = reconcile_files(orders_jsonl, shipments_json, invoices_csv, as_of, out_csv,
                                  work_dir=base, promise_days=promise_days)
        report, files = write_report_from_warehouse(f"duckdb:///{base / 'reconcile.duckdb'}", as_of,
                                                    Path(report_dir), DBT_SCHEMA)
    return {**summary, "report": {"html": str(files.html), "pdf": str(files.pdf), "csv": str(files.csv)},
            "report_totals": report.totals}
