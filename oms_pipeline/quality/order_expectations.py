"""Great Expectations suite on the canonical orders.

The suite runs in an ephemeral GX context on a pandas data source: nothing is written to disk and
the context is built once per process. Rules GX cannot state directly (timezone awareness, line
totals against the subtotal) are computed in pandas first as a column GX then checks, so every
rule reports the same way: which expectation, on which column, how many rows, which orders.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pycountry

MONEY_COLUMNS = ("total_price", "subtotal_price", "total_tax", "total_discounts", "total_shipping")
REQUIRED_COLUMNS = ("shop_domain", "order_id", "order_name")
CURRENCY_COLUMNS = ("currency", "presentment_currency")
TIMESTAMP_COLUMNS = ("created_at", "updated_at")
ORDER_COLUMNS = (*REQUIRED_COLUMNS, *MONEY_COLUMNS, *CURRENCY_COLUMNS, *TIMESTAMP_COLUMNS)
LINE_COLUMNS = ("order_id", "line_total")

# One cent: how far the sum of line totals may drift from the subtotal (rounding per line).
LINE_TOTAL_TOLERANCE = 0.01
SAMPLE_SIZE = 5

# Helper columns computed in pandas before GX sees the frame; reported under the source column.
_TZ_SUFFIX = "__is_tz_aware"
_LINE_DIFF = "line_total_minus_subtotal"
ORDER_REF = "__order_ref"
_MINOR = 10_000  # NUMERIC(20, 4): money as an exact integer count of 1/10000 units

ISO_4217_CODES: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.currencies)


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation of the suite."""

    expectation: str  # GX expectation type, e.g. "expect_column_values_to_be_between"
    column: str | None  # the column it guards ("shop_domain,order_id" for a compound key)
    success: bool
    unexpected_count: int
    unexpected_sample: list[str] = field(default_factory=list)  # up to 5 order ids
    detail: str = ""  # the rule in words, and what broke it

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form, for logs and Dagster metadata."""
        return {
            "expectation": self.expectation,
            "column": self.column,
            "success": self.success,
            "unexpected_count": self.unexpected_count,
            "unexpected_sample": list(self.unexpected_sample),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class QualityReport:
    """The outcome of :func:`validate_orders`: success only when every expectation held."""

    success: bool
    row_count: int
    results: list[ExpectationOutcome]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        """The expectations that did not hold."""
        return [r for r in self.results if not r.success]

    def summary(self) -> dict[str, Any]:
        """A compact, JSON-ready summary for Dagster metadata and asset check results."""
        return {
            "success": self.success,
            "row_count": self.row_count,
            "evaluated": len(self.results),
            "failed": len(self.failures),
            "failures": [
                {
                    "expectation": r.expectation,
                    "column": r.column,
                    "unexpected_count": r.unexpected_count,
                    "unexpected_sample": list(r.unexpected_sample),
                    "detail": r.detail,
                }
                for r in self.failures
            ],
        }


@dataclass(frozen=True)
class SuiteRule:
    """One expectation and how it reads in a report."""

    expectation: Any  # a great_expectations.expectations.Expectation
    column: str
    detail: str


def _build_rules() -> list[SuiteRule]:
    import great_expectations.expectations as gxe

    rules = [
        SuiteRule(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["shop_domain", "order_id"]),
            "shop_domain,order_id",
            "order_id is unique per shop_domain",
        )
    ]
    for column in (*REQUIRED_COLUMNS, *CURRENCY_COLUMNS, *TIMESTAMP_COLUMNS, *MONEY_COLUMNS):
        # GX map expectations skip nulls, so "set" is a rule of its own (an unparseable amount is unset).
        rules.append(SuiteRule(gxe.ExpectColumnValuesToNotBeNull(column=column), column, f"{column} is set"))
    for column in MONEY_COLUMNS:
        rules.append(
            SuiteRule(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0), column, f"{column} >= 0")
        )
    for column in CURRENCY_COLUMNS:
        rules.append(
            SuiteRule(
                gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(ISO_4217_CODES)),
                column,
                f"{column} is an ISO 4217 code",
            )
        )
    for column in TIMESTAMP_COLUMNS:
        rules.append(
            SuiteRule(
                gxe.ExpectColumnValuesToBeInSet(column=column + _TZ_SUFFIX, value_set=[True]),
                column,
                f"{column} is timezone-aware",
            )
        )
    rules.append(
        SuiteRule(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="updated_at", column_B="created_at", or_equal=True
            ),
            "updated_at",
            "updated_at >= created_at",
        )
    )
    rules.append(
        SuiteRule(
            gxe.ExpectColumnValuesToBeBetween(
                column=_LINE_DIFF, min_value=-LINE_TOTAL_TOLERANCE, max_value=LINE_TOTAL_TOLERANCE
            ),
            "subtotal_price",
            f"sum(lines.line_total) is within {LINE_TOTAL_TOLERANCE} of subtotal_price",
        )
    )
    return rules


class GxSuite:
    """A GX context, data source, batch definition and suite: built once per suite, reused by every call."""

    def __init__(self, name: str, rules: list[SuiteRule]) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            # No progress bars in run logs, no usage analytics calls from pipeline runs.
            progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False,
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        asset = self.context.data_sources.add_pandas(f"oms_{name}").add_dataframe_asset(name)
        self.batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        self.rules = rules
        suite = gx.ExpectationSuite(name=name)
        for rule in self.rules:
            suite.add_expectation(rule.expectation)
        self.suite = self.context.suites.add(suite)
        # The GX context is not documented as thread-safe; Dagster may run assets in threads.
        self.lock = threading.Lock()

    def passing(self) -> QualityReport:
        """The report for an empty frame: nothing to break any rule."""
        return QualityReport(
            success=True,
            row_count=0,
            results=[ExpectationOutcome(r.expectation.expectation_type, r.column, True, 0, [], r.detail)
                     for r in self.rules],
        )

    def validate(self, frame: pd.DataFrame) -> QualityReport:
        """Run the suite on ``frame`` (which has the ``__order_ref`` column naming each row's order)."""
        with self.lock:
            batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(
                self.suite,
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": [ORDER_REF],
                    "partial_unexpected_count": SAMPLE_SIZE,
                },
            )
        outcomes = [
            _outcome(rule, r)
            for rule, r in zip(self.rules, _in_suite_order(self.rules, result.results), strict=True)
        ]
        return QualityReport(success=all(o.success for o in outcomes), row_count=len(frame), results=outcomes)


@lru_cache(maxsize=1)
def _suite() -> GxSuite:
    return GxSuite("canonical_orders", _build_rules())


def validate_orders(orders: pd.DataFrame, lines: pd.DataFrame) -> QualityReport:
    """Validate canonical orders (rows of the ``orders`` table) and their lines with Great Expectations.

    Expectations: ``order_id`` unique per ``shop_domain``; ids, name, currencies, timestamps and
    money set;
    the five money columns ``>= 0``; ``currency`` / ``presentment_currency`` ISO 4217 codes;
    ``created_at`` / ``updated_at`` timezone-aware and ``updated_at >= created_at``; and for each
    order ``|sum(lines.line_total) - subtotal_price| <= 0.01`` (an order without lines sums to 0).

    Money may be ``Decimal``, float or numeric strings; timestamps may be tz-aware datetime64 columns
    or Python datetimes (a naive value fails). Empty ``orders`` is a success with zero rows.

    Raises:
        ValueError: a column the suite needs is missing from a non-empty frame.
    """
    suite = _suite()
    if len(orders) == 0:
        return suite.passing()
    _require_columns(orders, ORDER_COLUMNS, "orders")
    if len(lines):
        _require_columns(lines, LINE_COLUMNS, "lines")
    return suite.validate(_validation_frame(orders, lines))


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks column(s) {', '.join(missing)}")


def _validation_frame(orders: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """The columns GX checks: money as exact-to-the-cent floats, timestamps in UTC, helper columns."""
    frame = pd.DataFrame(index=pd.RangeIndex(len(orders)))
    for column in (*REQUIRED_COLUMNS, *CURRENCY_COLUMNS):
        frame[column] = orders[column].to_numpy(dtype=object)
    # Rows without an order id still need a name in the sample.
    order_ids = frame["order_id"]
    frame[ORDER_REF] = [str(v) if not _is_missing(v) else f"<row {i}>" for i, v in enumerate(order_ids)]
    minor = {column: _to_minor_units(orders[column]) for column in MONEY_COLUMNS}
    for column, units in minor.items():
        frame[column] = units / _MINOR
    for column in TIMESTAMP_COLUMNS:
        frame[column + _TZ_SUFFIX] = _tz_awareness(orders[column])
        frame[column] = _as_utc(orders[column])
    frame[_LINE_DIFF] = _line_total_minus_subtotal(orders, lines, minor["subtotal_price"])
    return frame


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _to_minor_units(values: pd.Series) -> np.ndarray:
    """Money as float counts of 1/10000 units (NaN where unset), exact for NUMERIC(20,4) values.

    Rounding ``float(amount) * 10000`` to an integer is exact below ~10^11 currency units; larger
    (or unparseable) values take the slower Decimal path.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype(object)
    try:
        units = np.round(pd.to_numeric(values, errors="raise").to_numpy(dtype=float) * _MINOR)
        if not (np.abs(units[~np.isnan(units)]) >= 1e15).any():
            return units
    except (ValueError, TypeError):
        pass
    out = np.empty(len(values), dtype=float)
    for i, value in enumerate(values.to_numpy(dtype=object)):
        if _is_missing(value):
            out[i] = np.nan
            continue
        try:
            amount = value if isinstance(value, Decimal) else Decimal(str(value))
            out[i] = float((amount * _MINOR).to_integral_value())
        except (InvalidOperation, ValueError, TypeError):
            out[i] = np.nan  # not a number at all: reported as a missing amount
    return out


def _tz_awareness(values: pd.Series) -> list[bool | None]:
    """Per value: True if it carries a UTC offset, False if naive (or not a timestamp), None if unset."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return [None if pd.isna(v) else True for v in values]
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return [None if pd.isna(v) else False for v in values]
    aware: list[bool | None] = []
    for value in values.to_numpy(dtype=object):
        if _is_missing(value):
            aware.append(None)
        elif isinstance(value, datetime):  # pd.Timestamp is a datetime too
            aware.append(value.tzinfo is not None and value.utcoffset() is not None)
        else:
            aware.append(False)
    return aware


def _as_utc(values: pd.Series) -> pd.Series:
    """Timestamps in UTC for the ordering check; naive ones are read as UTC (their own rule fails)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").reset_index(drop=True)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.tz_localize("UTC").reset_index(drop=True)
    converted = []
    for value in values.to_numpy(dtype=object):
        try:
            stamp = pd.Timestamp(value) if not _is_missing(value) else pd.NaT
        except (ValueError, TypeError):
            stamp = pd.NaT  # not a timestamp: the awareness rule names it
        if stamp is not pd.NaT:
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        converted.append(stamp)
    return pd.Series(pd.DatetimeIndex(converted, tz="UTC"))


def _line_total_minus_subtotal(
    orders: pd.DataFrame, lines: pd.DataFrame, subtotal_minor: np.ndarray
) -> np.ndarray:
    """Per order, sum(lines.line_total) - subtotal_price in currency units (exact to 1/10000)."""
    keys = ["shop_domain", "order_id"] if "shop_domain" in lines.columns else ["order_id"]
    if len(lines):
        line_units = pd.DataFrame(
            {key: lines[key].astype(str).to_numpy() for key in keys}
            | {"units": _to_minor_units(lines["line_total"])}
        )
        sums = line_units.groupby(keys, sort=False)["units"].sum(min_count=1)
        index = pd.MultiIndex.from_arrays([orders[key].astype(str).to_numpy() for key in keys])
        if len(keys) == 1:
            index = index.get_level_values(0)
        line_sum = sums.reindex(index).fillna(0.0).to_numpy()
    else:
        line_sum = np.zeros(len(orders))
    # Integer arithmetic in 1/10000 units, then one division: 0.01 compares exactly as 0.01.
    return (line_sum - subtotal_minor) / _MINOR


def _in_suite_order(rules: Sequence[SuiteRule], results: Sequence[Any]) -> list[Any]:
    """GX results, reordered to match the rules (GX does not promise to keep suite order)."""
    remaining = list(results)
    ordered = []
    for rule in rules:
        for i, result in enumerate(remaining):
            if result.expectation_config.id == rule.expectation.id:
                ordered.append(remaining.pop(i))
                break
        else:
            raise RuntimeError(f"Great Expectations returned no result for {rule.detail}")
    return ordered


def _outcome(rule: SuiteRule, result: Any) -> ExpectationOutcome:
    name = result.expectation_config.type
    if result.exception_info and result.exception_info.get("raised_exception"):
        message = result.exception_info.get("exception_message") or "expectation raised an error"
        return ExpectationOutcome(name, rule.column, False, 0, [], f"{rule.detail}: error: {message}")
    details = result.result or {}
    unexpected = int(details.get("unexpected_count") or 0)
    sample: list[str] = []
    for row in details.get("unexpected_index_list") or []:
        ref = row.get(ORDER_REF) if isinstance(row, dict) else None
        if ref is None and isinstance(row, dict):
            ref = row.get("order_id")
        if ref is not None and not _is_missing(ref) and str(ref) not in sample:
            sample.append(str(ref))
        if len(sample) == SAMPLE_SIZE:
            break
    detail = rule.detail
    if not result.success:
        values = details.get("partial_unexpected_list") or []
        shown = ", ".join(_show(v) for v in values[:SAMPLE_SIZE])
        detail = f"{rule.detail}: {unexpected} row(s) break it" + (f" (e.g. {shown})" if shown else "")
    return ExpectationOutcome(name, rule.column, bool(result.success), unexpected, sample, detail)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "/".join(str(v) for k, v in value.items() if k != ORDER_REF)
    if isinstance(value, tuple | list):
        return " < ".join(str(v) for v in value)
    return str(value)
