"""Node-level behaviour of ``rul_vae`` that the end-to-end run does not pin down."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autoencoder_pipelines.data.config import CMAPSSConfig
from autoencoder_pipelines.inference import attach_truth, last_cycle
from autoencoder_pipelines.models import RecurrentVAEConfig, RULOffsetConfig
from autoencoder_pipelines.monitoring import DriftConfig, reference_sample
from autoencoder_pipelines.pipelines.rul_vae import calibration, nodes
from autoencoder_pipelines.training import TrainingConfig
from autoencoder_pipelines.uncertainty import IntervalConfig
from tests.conftest import make_engines

DATA = CMAPSSConfig(
    subset="FD001", window=5, max_rul=30, smoothing_alpha=0.1, validation_fraction=0.25, split_seed=0, mask_value=-99.0
)

TRAINING = TrainingConfig(seed=0, epochs=1, batch_size=2, learning_rate=1e-3, patience=1, backup_dir="unused")


def test_test_windows_are_each_engines_last_window_padded_and_the_truth_follows_the_units():
    test, rul = make_engines(4, 4, 12, seed=3, truncate=True)  # some shorter than the window
    scaler = nodes.fit_condition_scaler(test, DATA)
    windows = nodes.make_test_windows(test, scaler, DATA)
    assert windows.shape == (4, 5, 5)
    lengths = test.groupby("unit_nr").size().to_numpy()
    padded = (windows == -99.0).all(axis=2).sum(axis=1)
    np.testing.assert_array_equal(padded, np.maximum(5 - lengths, 0))
    # scored engines (any order) get the truth of their own unit
    truth = pd.DataFrame({"unit_nr": [1, 2, 3, 4], "RUL": rul.astype(float), "item": [f"test:{u}" for u in range(1, 5)]})
    scored = pd.DataFrame({"unit_nr": [3, 1, 4, 2], "predicted_rul": [0.0, 0.0, 0.0, 0.0]})
    aligned = attach_truth(scored, truth, max_rul=DATA.max_rul)
    np.testing.assert_array_equal(aligned["true_rul"], rul[[2, 0, 3, 1]])
    np.testing.assert_array_equal(aligned["true_rul_capped"], np.minimum(rul[[2, 0, 3, 1]], DATA.max_rul))
    assert aligned["item"].tolist() == ["test:3", "test:1", "test:4", "test:2"]


def test_training_windows_use_only_their_split_and_capped_labels():
    train, _ = make_engines(8, 40, 50, seed=4)  # early windows have RUL > max_rul
    labelled = nodes.add_rul_labels(train, DATA)
    split = nodes.split_engines(labelled, DATA, IntervalConfig(level=0.5))
    x_train, y_train, x_val, y_val = nodes.make_training_windows(labelled, split, DATA)
    lengths = labelled.groupby("unit_nr").size()
    assert len(x_train) == sum(lengths[u] - 4 for u in split["train_units"])
    assert len(x_val) == sum(lengths[u] - 4 for u in split["validation_units"])
    assert y_train.max() == 30 and y_val.min() == 0


def test_metrics_use_the_capped_truth_and_report_the_best_epoch():
    predictions = pd.DataFrame(
        {
            "true_rul": [10.0, 20.0, 130.0],
            "true_rul_capped": [10.0, 20.0, 30.0],
            "predicted_rul": [10.0, 20.0, 40.0],
            "rul_lower": [0.0, 21.0, 20.0],
            "rul_upper": [20.0, 25.0, 30.0],
            "rul_spread": [0.0, 1.0, 2.0],
            "rul_offset": 0.0,
            "ood": [False, True, False],
        }
    )
    metrics = nodes.compute_rul_metrics(predictions, {"val_loss": [5.0, 3.0, 4.0]}, DATA, TRAINING)
    assert metrics["rmse"] == pytest.approx(np.sqrt(100 / 3))
    assert metrics["nasa_score"] == pytest.approx(np.exp(1) - 1)
    assert (metrics["best_epoch"], metrics["epochs_trained"], metrics["best_val_loss"]) == (2, 3, 3.0)
    assert metrics["rul_spread_mean"] == 1.0 and "members" not in metrics
    # the first and third engines' capped truths are inside their intervals; the third's true RUL
    # (130) only with its upper bound at the cap (30) read as open
    assert metrics["interval_coverage"] == pytest.approx(2 / 3) and metrics["interval_coverage_uncapped"] == pytest.approx(2 / 3)
    assert metrics["interval_mean_width"] == pytest.approx((20 + 4 + 10) / 3) and metrics["ood_share"] == pytest.approx(1 / 3)


def test_an_ensemble_reports_each_member_beside_the_ensemble():
    predictions = pd.DataFrame(
        {
            "true_rul": [10.0, 20.0],
            "true_rul_capped": [10.0, 20.0],
            "predicted_rul": [11.0, 20.0],
            "rul_lower": [1.0, 10.0],
            "rul_upper": [21.0, 30.0],
            "ood": [False, False],
            "rul_spread": [1.0, 0.0],
            "rul_offset": -1.5,
            "member_0_rul": [10.0, 20.0],
            "member_1_rul": [12.0, 20.0],
        }
    )
    members = [
        {"member": 0, "seed": 42, "lead": False, "history": {"val_loss": [4.0, 3.5]}},
        {"member": 1, "seed": 7, "lead": True, "history": {"val_loss": [3.0, 3.2]}},
    ]
    metrics = nodes.compute_rul_metrics(predictions, {"val_loss": [3.0, 3.2], "members": members}, DATA, TRAINING)
    assert metrics["rmse"] == pytest.approx(np.sqrt(0.5))
    assert [(m["seed"], m["lead"], m["best_val_loss"]) for m in metrics["members"]] == [(42, False, 3.5), (7, True, 3.0)]
    assert [m["rmse"] for m in metrics["members"]] == pytest.approx([0.0, np.sqrt(2.0)])


def test_windows_at_the_rul_cap_get_the_capped_window_weight():
    y = np.array([30.0, 29.0, 0.0, 30.0], "float32")  # max_rul 30
    assert nodes.window_weights(y, 30.0, 1.0) is None  # weight 1: unweighted, exactly as before
    np.testing.assert_array_equal(nodes.window_weights(y, 30.0, 0.25), [0.25, 1.0, 1.0, 0.25])
    np.testing.assert_array_equal(nodes.window_weights(y, 30.0, 0.0), [0.0, 1.0, 1.0, 0.0])


def test_validation_windows_at_the_cap_can_be_left_out_of_the_monitored_loss(monkeypatch):
    seen = {}
    monkeypatch.setattr(
        "autoencoder_pipelines.training.fit.fit_model",
        lambda *args, **kwargs: (
            seen.update(validation=args[3], weight=kwargs["sample_weight"], model=args[0]()) or (seen["model"], {})
        ),
    )
    x, y = np.zeros((4, 5, 5), "float32"), np.array([30.0, 10.0, 0.0, 30.0], "float32")
    data = DATA.model_copy(update={"validation_capped_weight": 0.0})
    nodes.train_rul_vae(x, y, x, y, RecurrentVAEConfig(lstm_units=2, regressor_units=2), TRAINING, data)
    assert seen["weight"] is None  # training windows unweighted
    np.testing.assert_array_equal(seen["validation"][2], [0.0, 1.0, 1.0, 0.0])
    # the data complete the model's config: input shape, padding value, the RUL bias at the
    # mean label, the labels' range that predictions are clipped to
    config = seen["model"].config
    assert (config.input_shape, config.mask_value, config.rul_bias, config.seed) == ((5, 5), -99.0, 17.5, 0)
    assert config.rul_range == (0.0, DATA.max_rul)


@pytest.mark.parametrize("weight", [0.0, -1.0])
def test_a_non_positive_capped_window_weight_is_rejected_naming_the_field(weight):
    with pytest.raises(ValueError, match="capped_window_weight"):
        CMAPSSConfig(**{**DATA.model_dump(), "capped_window_weight": weight})


def test_a_negative_validation_capped_weight_is_rejected_naming_the_field():
    with pytest.raises(ValueError, match="validation_capped_weight"):
        CMAPSSConfig(**{**DATA.model_dump(), "validation_capped_weight": -0.5})


def test_too_few_validation_engines_for_the_interval_level_stop_the_run_before_training():
    train, _ = make_engines(8, 40, 50, seed=4)  # 8 engines x 0.25: 2 validation engines
    with pytest.raises(ValueError, match=r"leaves 2 validation engines; intervals.level=0.9 .* needs at least 9"):
        nodes.split_engines(nodes.add_rul_labels(train, DATA), DATA, IntervalConfig(level=0.9))


def test_the_offset_is_fitted_on_validation_or_given(monkeypatch):
    class Model:  # the raw estimate is the label + 10: late by 10 cycles everywhere
        config = RecurrentVAEConfig(lstm_units=2, regressor_units=2, rul_range=(0.0, 30.0))

        def raw_rul(self, x):
            return x + 10.0

    y = np.linspace(0.0, 30.0, 31)
    fitted = nodes.fit_rul_offset(Model(), y, y, RULOffsetConfig(fit="nasa_score"))
    assert fitted == pytest.approx(-10.0, abs=0.5)  # late estimates cost more: the offset pulls them back
    assert nodes.fit_rul_offset(Model(), y, y, RULOffsetConfig(fit="none", cycles=2.5)) == 2.5
    with pytest.raises(ValueError, match="cycles=2.5 is given but fit is 'nasa_score'"):
        RULOffsetConfig(fit="nasa_score", cycles=2.5)


def test_the_drift_report_matches_engines_by_their_estimate_without_the_offset():
    """Training windows whose sensors follow their RUL, and a fleet like them: its estimates
    moved 10 cycles earlier by the model's offset are not drift."""
    rng = np.random.default_rng(0)
    sensors = DATA.sensor_columns

    def cycles(rul):  # a sensor reading of engines at these RULs
        return pd.DataFrame({s: rul / 125 + rng.normal(0, 0.05, len(rul)) for s in sensors})

    labels = rng.uniform(0, 125, 1000)
    reference = reference_sample(cycles(labels), DriftConfig(alpha=0.05), labels).model_dump()
    true_rul = rng.uniform(20, 125, 100)
    x_test = np.repeat(cycles(true_rul).to_numpy()[:, np.newaxis, :], DATA.window, axis=1)
    predictions = pd.DataFrame({"predicted_rul": np.clip(true_rul - 10.0, 0, 125), "rul_offset": -10.0, "ood": False})
    report = nodes.report_test_drift(predictions, x_test, reference, _DETECTOR, DATA)
    assert report["drifted_features"] == [] and report["verdict"] == "no drift"
    # matched on the offset estimate, the same fleet looks healthier than its matched windows: every
    # sensor moved; the verdict is the detector's, which flags no engine
    report = nodes.report_test_drift(predictions.assign(rul_offset=0.0), x_test, reference, _DETECTOR, DATA)
    assert report["drifted_features"] == list(DATA.sensor_columns) and report["verdict"] == "no drift"
    flagged = predictions.assign(ood=np.arange(100) < 15)  # 15 of 100 out of distribution, 5% expected
    report = nodes.report_test_drift(flagged, x_test, reference, _DETECTOR, DATA)
    assert report["verdict"] == "drift" and report["flagged"] == 15 and report["expected_flag_rate"] == 0.05


# what report_test_drift reads of the detector: the rate it flags on validation (its scores are in the predictions)
_DETECTOR = {
    "features": list(DATA.sensor_columns),
    "mean": [0.0] * len(DATA.sensor_columns),
    "precision": np.eye(len(DATA.sensor_columns)).tolist(),
    "threshold": 3.0,
    "false_flag_rate": 0.05,
    "validation_flag_rate": 0.05,
}


class _ShrinkingEstimator:
    """Reads an engine's RUL from its last cycle's sensors and pulls it halfway towards the
    middle of the range, as a regression's estimates lean; predict adds its offset."""

    config = RecurrentVAEConfig(input_shape=(DATA.window, 14), lstm_units=4, regressor_units=4, rul_offset=-3.0)

    def predict_on_batch(self, x):
        health = np.asarray(x)[:, -1, :].mean(axis=1) * DATA.max_rul
        middle = DATA.max_rul / 2
        return {"rul": middle + 0.5 * (health - middle) + self.config.rul_offset}


def test_the_drift_reference_is_labelled_with_the_models_estimates_so_a_healthy_fleet_is_no_drift():
    """Matched by its (shrunk) estimates to windows of that true RUL, a fleet of healthy
    engines met more worn windows and looked drifted; matched to windows the model
    estimates alike, it is what it is: like the training engines."""
    rng = np.random.default_rng(0)
    sensors = DATA.sensor_columns

    def cycles(rul):  # sensor readings of engines at these (capped) RULs
        return pd.DataFrame({s: np.minimum(rul, DATA.max_rul) / DATA.max_rul + rng.normal(0, 0.05, len(rul)) for s in sensors})

    lives = rng.integers(40, 80, 30)
    rul = np.concatenate([life - np.arange(1, life + 1) for life in lives]).astype(float)
    train = cycles(rul).assign(unit_nr=np.repeat(np.arange(1, 31), lives), RUL=np.minimum(rul, DATA.max_rul))
    split = {"train_units": list(range(1, 25)), "validation_units": list(range(25, 31))}
    model, drift = _ShrinkingEstimator(), DriftConfig(alpha=0.05)

    reference = calibration.sample_drift_reference(model, train, split, DATA, drift)
    labels = np.asarray(reference["labels"])
    assert len(labels) == min(1000, len(train[train["unit_nr"] <= 24]) - 24 * (DATA.window - 1))
    assert labels.min() >= 0.25 * DATA.max_rul - 1 and labels.max() <= 0.75 * DATA.max_rul + 1  # estimates: shrunk

    healthy = rng.uniform(0.7, 1.0, 100) * DATA.max_rul
    x_test = np.repeat(cycles(healthy).to_numpy(np.float32)[:, np.newaxis, :], DATA.window, axis=1)
    predictions = pd.DataFrame(
        {"predicted_rul": model.predict_on_batch(x_test)["rul"], "rul_offset": model.config.rul_offset, "ood": False}
    )
    assert nodes.report_test_drift(predictions, x_test, reference, _DETECTOR, DATA)["drifted_features"] == []
    # the same windows labelled with their true RUL: the healthy fleet's sensors look moved
    windows, true_labels, _ = calibration._cut_points(train, split["train_units"], DATA)
    by_truth = reference_sample(last_cycle(windows, sensors), drift, true_labels, seed=DATA.split_seed)
    assert nodes.report_test_drift(predictions, x_test, by_truth.model_dump(), _DETECTOR, DATA)["drifted_share"] >= 0.5
