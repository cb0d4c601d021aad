"""oms-pipeline: order operations for eCommerce teams, on Dagster."""

__version__ = "0.1.0"
