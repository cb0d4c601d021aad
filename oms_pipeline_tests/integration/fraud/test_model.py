"""The trained fraud model persisted to a directory and loaded back scores the same."""

from __future__ import annotations

from oms_pipeline.domain.fraud.model import (
    FraudModel,
    fresh_copy,
)


def test_save_load_round_trip(model, history, tmp_path) -> None:
    model.save(tmp_path / "m")
    loaded = FraudModel.load(tmp_path / "m")
    assert (loaded.version, loaded.threshold, loaded.feature_names) == (model.version, model.threshold,
                                                                       model.feature_names)
    assert loaded.metrics == model.metrics and loaded.training_window == model.training_window
    orders = history.orders[-200:]
    assert fresh_copy(loaded).score(orders) == fresh_copy(model).score(orders)
