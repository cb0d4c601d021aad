"""Where carrier invoice files arrive, and the delivery promise the reconciliation marts hold orders to."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource

from oms_pipeline.settings import OmsSettings, setting_default


class ReconciliationResource(ConfigurableResource):
    """The carrier invoice inbox (landed files move to its ``landed/``, unreadable ones to ``rejected/``)."""

    carrier_invoice_dir: str
    promise_days: int = setting_default("reconciliation_promise_days")  # days by which an order should have shipped

    @property
    def inbox(self) -> Path:
        """The inbox directory."""
        return Path(self.carrier_invoice_dir)


def carrier_invoice_dir(settings: OmsSettings) -> Path:
    """``OMS_CARRIER_INVOICE_DIR``, else ``<data_dir>/carrier_invoices/inbox``."""
    return (settings.carrier_invoice_dir or settings.data_dir / "carrier_invoices" / "inbox").resolve()


def reconciliation_resource(settings: OmsSettings) -> ReconciliationResource:
    """The resource from ``OMS_*`` settings."""
    return ReconciliationResource(carrier_invoice_dir=str(carrier_invoice_dir(settings)),
                                  promise_days=settings.reconciliation_promise_days)
