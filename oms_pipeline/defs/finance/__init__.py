"""Finance: the daily reconciliation report (HTML, PDF, CSV) over the reconciliation marts."""
