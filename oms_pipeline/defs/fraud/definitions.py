"""Fraud assets, the promotion check, and the training job with its daily schedule."""

from dagster import AssetSelection, Definitions, ScheduleDefinition, define_asset_job, in_process_executor

from oms_pipeline.defs.fraud.assets import active_fraud_model, fraud_model, fraud_scores, payment_disputes
from oms_pipeline.defs.fraud.checks import fraud_model_meets_bar

TRAIN_FRAUD_MODEL_JOB = "train_fraud_model"

train_fraud_model_job = define_asset_job(
    TRAIN_FRAUD_MODEL_JOB,
    selection=AssetSelection.assets("payment_disputes", "fraud_model", "active_fraud_model"),
    description="Land the store's disputes, train a fraud model on the labels known now, and promote it "
                "if it passes its blocking check.",
    executor_def=in_process_executor,  # one process: an embedded DuckDB warehouse takes one writer
    tags={"oms/pipeline": "fraud"},
)

daily_fraud_training = ScheduleDefinition(
    name="daily_fraud_training",
    job=train_fraud_model_job,
    cron_schedule="40 3 * * *",
    description="Retrain the fraud model every night on the labels that arrived since.",
)


def build_fraud_definitions() -> Definitions:
    """The fraud assets, the promotion check, the training job and its schedule."""
    return Definitions(assets=[payment_disputes, fraud_model, active_fraud_model, fraud_scores],
                       asset_checks=[fraud_model_meets_bar], jobs=[train_fraud_model_job],
                       schedules=[daily_fraud_training])
