"""Nodes of the ``rul_vae`` pipeline: thin wrappers over ``data``, ``models``,
``evaluation``, ``inference`` and ``plotting``. Each node is pure: inputs and typed
parameters in, outputs out; the catalog does the I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoencoder_pipelines import models, plotting
from autoencoder_pipelines.data import cmapss, cmapss_files
from autoencoder_pipelines.data.cmapss import CMAPSSValidationError, ConditionScaler
from autoencoder_pipelines.data.config import CMAPSSConfig
from autoencoder_pipelines.evaluation import nasa_offset, rul_metrics, training_summary
from autoencoder_pipelines.inference import (
    attach_truth,
    engine_features,
    last_cycle,
    latent_columns,
    matching_rul,
    score_engines,
)
from autoencoder_pipelines.models import predict_in_chunks
from autoencoder_pipelines.models.config import RecurrentVAEConfig, RULOffsetConfig
from autoencoder_pipelines.monitoring import (
    DriftReference,
    MahalanobisDetector,
    drift_report,
)
from autoencoder_pipelines.plotting import health_map_figure, rul_per_engine_figure
from autoencoder_pipelines.promotion import item_scores
from autoencoder_pipelines.training import History, TrainingConfig, fit_configured_model
from autoencoder_pipelines.uncertainty import (
    IntervalConfig,
    RULIntervals,
    interval_coverage,
    min_calibration_engines,
)

EVALUATION = "evaluation engines"  # what error messages call them

# --- preprocessing ----------------------------------------------------------------


def add_rul_labels(train: pd.DataFrame, data: CMAPSSConfig) -> pd.DataFrame:
    """Piecewise-linear RUL target, capped at ``max_rul``; the window must fit some engine."""
    longest = int(cmapss.engine_lengths(train).max())
    if data.window > longest:
        raise CMAPSSValidationError(
            f"{cmapss_files.file_name('train', data.subset)}: window={data.window} (params rul_vae.data.window) is "
            f"longer than every training engine (the longest has {longest} cycles)."
        )
    return cmapss.add_rul(train, data.max_rul)


def fit_condition_scaler(train: pd.DataFrame, data: CMAPSSConfig) -> dict:
    """Per-operating-condition standardisation, fitted on the training engines only."""
    return ConditionScaler.fit(train, data.sensor_columns).to_dict()


def scale_by_condition(train: pd.DataFrame, scaler: dict) -> pd.DataFrame:
    """Apply the fitted scaler to the training engines."""
    return ConditionScaler.from_dict(scaler).transform(train, "training engines")


def smooth_sensors(train: pd.DataFrame, data: CMAPSSConfig) -> pd.DataFrame:
    """Exponential smoothing of the sensors, per engine."""
    return cmapss.exponential_smoothing(train, data.sensor_columns, data.smoothing_alpha)


def split_engines(train: pd.DataFrame, data: CMAPSSConfig, intervals: IntervalConfig) -> dict[str, list[int]]:
    """Seeded split of the training engines into fitting and validation engines; the
    validation engines must be enough to calibrate the intervals at their level (checked
    here, before training)."""
    fit_units, val_units = cmapss.split_units(train, data.validation_fraction, data.split_seed)
    needed = min_calibration_engines(intervals.level)
    if len(val_units) < needed:
        raise ValueError(
            f"validation_fraction={data.validation_fraction} (params rul_vae.data) leaves {len(val_units)} validation "
            f"engines; intervals.level={intervals.level} (params rul_vae.intervals) needs at least {needed} to calibrate."
        )
    return {"train_units": fit_units.tolist(), "validation_units": val_units.tolist()}


def make_training_windows(
    train: pd.DataFrame, split: dict[str, list[int]], data: CMAPSSConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sliding windows and their RUL labels, for the fitting and validation engines."""
    out = []
    for key in ("train_units", "validation_units"):
        engines = train[train["unit_nr"].isin(split[key])]
        windows, labels, _ = cmapss.sliding_windows(engines, data.sensor_columns, data.window)
        if len(windows) == 0:
            raise CMAPSSValidationError(
                f"No {key.split('_')[0]} window: every engine of that split is shorter than window={data.window}."
            )
        out += [windows, labels]
    return tuple(out)


def make_test_windows(engines: pd.DataFrame, scaler: dict, data: CMAPSSConfig) -> np.ndarray:
    """The model's input for each evaluation engine, as every scoring of engines makes it
    (``inference.engine_features``: scaled, smoothed, its last window left-padded with
    ``mask_value``), in the order of the sorted units."""
    return engine_features(engines, scaler, data, EVALUATION)[0]


# --- training ---------------------------------------------------------------------


def train_rul_vae(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    architecture: RecurrentVAEConfig,
    training: TrainingConfig,
    data: CMAPSSConfig,
) -> tuple[models.RecurrentVAE, History]:
    """Fit the recurrent variational encoder; returns the best model and its history.

    The data decide what the parameters leave open: the padding value to mask, the
    RUL output's initial bias (the mean training RUL), the labels' range that predictions
    are kept within (0 to the cap) and, when the capped windows are weighted, the
    per-window loss weights. The offset predictions add is fitted after, by
    :func:`fit_rul_offset`.
    """
    config = architecture.model_copy(
        update={"mask_value": data.mask_value, "rul_bias": float(np.mean(y_train)), "rul_range": (0.0, float(data.max_rul))}
    )
    return fit_configured_model(
        "recurrent_vae",
        config,
        x_train,
        y_train,
        x_val,
        y_val,
        training,
        sample_weight=window_weights(y_train, data.max_rul, data.capped_window_weight),
        validation_weight=window_weights(y_val, data.max_rul, data.validation_capped_weight),
    )


def fit_rul_offset(
    model: models.RecurrentVAE | models.Ensemble, x_val: np.ndarray, y_val: np.ndarray, offset: RULOffsetConfig
) -> float:
    """The cycles the model adds to every estimate: with ``fit: nasa_score`` the offset that
    minimises the NASA score of the validation windows (``evaluation.nasa_offset``, over
    each member's raw estimate; the test engines are not read), else ``cycles``."""
    if offset.fit == "none":
        return float(offset.cycles)
    members = getattr(model, "members", [model])
    return nasa_offset(y_val, [member.raw_rul(x_val) for member in members], *model.config.rul_range)


def with_rul_offset(model: models.RecurrentVAE | models.Ensemble, offset: float):
    """The trained model, predicting with ``offset`` from now on: it is set in the config of
    the model (every member of an ensemble), whose weights are untouched; the model is
    not copied, as copying it would copy every weight for one number."""
    for member in getattr(model, "members", [model]):
        member.config = member.config.model_copy(update={"rul_offset": offset})
    return model


def window_weights(y: np.ndarray, max_rul: float, capped_weight: float) -> np.ndarray | None:
    """Loss weight of each window: ``capped_weight`` where the RUL is at the cap ``max_rul``, else 1.

    None when every window weighs 1, so that the default trains exactly as unweighted.
    """
    if capped_weight == 1.0:
        return None
    return np.where(np.ravel(y) >= max_rul, capped_weight, 1.0).astype(np.float32)


# --- evaluation -------------------------------------------------------------------


def predict_test_rul(
    model: models.RecurrentVAE | models.Ensemble,
    engines: pd.DataFrame,
    truth: pd.DataFrame,
    x_test: np.ndarray,
    scaler: dict,
    data: CMAPSSConfig,
    interval_calibration: dict,
    ood_detector: dict,
) -> pd.DataFrame:
    """Every evaluation engine scored as the served model and ``rul_inference`` score
    engines (``inference.score_engines``: its estimate, interval, spread between members,
    out-of-distribution flag and health-map position), with its truth (``item``,
    ``true_rul``, ``true_rul_capped``), the model's offset and, for an ensemble, each
    member's own estimate (``member_<i>_rul``, from the same windows ``x_test``)."""
    scored = score_engines(
        model,
        engines,
        scaler,
        data,
        EVALUATION,
        RULIntervals.model_validate(interval_calibration),
        MahalanobisDetector.model_validate(ood_detector),
    )
    predictions = attach_truth(scored, truth, data.max_rul).assign(rul_offset=float(model.config.rul_offset))
    for i, member in enumerate(getattr(model, "members", [])):
        predictions[f"member_{i}_rul"] = predict_in_chunks(member, x_test)["rul"].astype(np.float64)
    return predictions


def report_test_drift(
    predictions: pd.DataFrame, x_test: np.ndarray, drift_reference: dict, ood_detector: dict, data: CMAPSSConfig
) -> dict:
    """The evaluation engines against the model's training engines, as any scored batch
    (``monitoring.drift_report``): the engines its detector flags (``ood``) against the rate
    it flags on validation; each sensor's last cycle matched to the predicted RUL without
    the model's offset (``inference.matching_rul``)."""
    answers = matching_rul(predictions["predicted_rul"], predictions["rul_offset"].iloc[0])
    return drift_report(
        DriftReference.model_validate(drift_reference),
        last_cycle(x_test, data.sensor_columns),
        predictions["ood"].to_numpy(bool),
        MahalanobisDetector.model_validate(ood_detector).false_flag_rate,
        answers,
    )


def encode_training_windows(model: models.RecurrentVAE, x_train: np.ndarray, y_train: np.ndarray) -> pd.DataFrame:
    """Health-map position (latent mean) of every training window, with its RUL."""
    return pd.DataFrame({**latent_columns(model.encode(x_train)), cmapss.RUL_COLUMN: y_train})


def compute_rul_metrics(predictions: pd.DataFrame, history: History, data: CMAPSSConfig, training: TrainingConfig) -> dict:
    """RMSE, R² and the NASA score over the test engines (truth capped at ``max_rul``), how
    far the answers can be trusted (:func:`trust_metrics`), the mean spread between
    ensemble members, and for an ensemble each member's own figures (``members``), so
    single runs and their ensemble stand side by side. The epoch figures are the (lead)
    model's, at the epoch ``training.monitor`` kept."""
    max_rul = data.max_rul
    metrics = {
        **rul_metrics(predictions["true_rul_capped"], predictions["predicted_rul"]),
        **trust_metrics(predictions, max_rul),
        "rul_spread_mean": float(predictions["rul_spread"].mean()),
        "rul_offset": float(predictions["rul_offset"].iloc[0]),
        **training_summary(history, training.monitor),
    }
    if "members" in history:
        metrics["members"] = [
            {
                "member": m["member"],
                "seed": m["seed"],
                "lead": m["lead"],
                "best_val_loss": float(min(m["history"]["val_loss"])),
                **rul_metrics(predictions["true_rul_capped"], predictions[f"member_{m['member']}_rul"]),
            }
            for m in history["members"]
        ]
    return metrics


def score_test_engines(predictions: pd.DataFrame) -> pd.DataFrame:
    """Each evaluation engine's squared error against its capped truth (its item: ``test:<unit>``
    or ``arrival:<unit>``): what the promotion's paired test resamples (their mean's root is
    the RMSE)."""
    error = predictions["predicted_rul"].to_numpy(np.float64) - predictions["true_rul_capped"].to_numpy(np.float64)
    return item_scores(predictions["item"], error**2)


def trust_metrics(predictions: pd.DataFrame, max_rul: float) -> dict[str, float]:
    """``interval_coverage``: the share of engines whose capped true RUL is inside
    ``[rul_lower, rul_upper]``; ``interval_coverage_uncapped``: the same for the true RUL,
    an upper bound at ``max_rul`` read as open ("at least"); ``interval_mean_width``;
    ``ood_share``: the share flagged out of distribution."""
    lower, upper = predictions["rul_lower"], predictions["rul_upper"]
    return {
        "interval_coverage": interval_coverage(predictions["true_rul_capped"], lower, upper),
        "interval_coverage_uncapped": interval_coverage(predictions["true_rul"], lower, upper, high=max_rul),
        "interval_mean_width": float(np.mean(upper - lower)),
        "ood_share": float(np.mean(predictions["ood"])),
    }


def plot_health_map(train_latent: pd.DataFrame, predictions: pd.DataFrame, data: CMAPSSConfig) -> plotting.Figure:
    """The 2-D health map of training windows and test engines, coloured by true RUL, each
    engine's marker sized by its interval's width, engines out of distribution ringed."""
    return health_map_figure(train_latent, predictions, data.max_rul)


def plot_rul_predictions(predictions: pd.DataFrame) -> plotting.Figure:
    """Predicted vs true RUL of each test engine."""
    return rul_per_engine_figure(predictions)
