"""Reconciliation inputs landed by the pipeline: store settlements, 3PL shipments, carrier invoices."""
