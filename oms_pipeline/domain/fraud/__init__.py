"""Fraud scoring: order-time features, late labels, the trained model and its reasons.

Pure domain code: no Dagster, no I/O beyond saving and loading a model directory.
"""

from oms_pipeline.domain.fraud.features import FEATURE_NAMES, FeatureBuilder
from oms_pipeline.domain.fraud.labels import labels_as_of
from oms_pipeline.domain.fraud.model import FraudModel, train_fraud_model

__all__ = ["FEATURE_NAMES", "FeatureBuilder", "FraudModel", "labels_as_of", "train_fraud_model"]
