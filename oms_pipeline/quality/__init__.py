"""Data quality: Great Expectations suites on the warehouse tables."""

from oms_pipeline.quality.order_expectations import (
    ExpectationOutcome,
    QualityReport,
    validate_orders,
)

__all__ = ["ExpectationOutcome", "QualityReport", "validate_orders"]
