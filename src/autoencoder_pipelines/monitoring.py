"""Is the model out of its depth? Out-of-distribution flags and drift reports.

Pure NumPy/SciPy; fitted by the pipelines' nodes at training time and stored with the
model (its served settings), so batch scoring and the served model flag the same items.

- :class:`MahalanobisDetector`: the Mahalanobis distance of an item's features (for an
  engine, its last cycle of scaled, smoothed sensors: the model's own input space) to the
  training items' (mean and Ledoit-Wolf shrunk covariance, fitted on the training data);
  the threshold is the validation items' quantile at the stated false-flag rate.
- :class:`ThresholdDetector`: a score the model computes itself (a patient's
  reconstruction error, from the decoder it trained) against the validation quantile.
- :func:`drift_report`: whether a scored batch holds more out-of-distribution items than
  the model's detector flags on validation items: the one-sided binomial test of the
  number it flags against the rate its threshold is set for; the batch drifts, and
  retraining is recommended, when the p-value is below ``flag_alpha``. An engine counts
  once (its last cycle), so the items are independent. Beside the verdict, what moved:
  each feature against the reference sample stored with the model (:data:`REFERENCE_SIZE`
  training items), matched to the batch's answers (for each item, the training items whose
  label is nearest its predicted RUL or class: a fleet of young engines is compared with
  young training engines), by the two-sample Kolmogorov-Smirnov test (a feature moved when
  its p-value is below ``alpha``, Evidently's default) with the Wasserstein distance normed
  by the reference's standard deviation (an effect size).

  Why the verdict is not the share of moved features (Evidently's dataset rule): the
  features of an engine depend on its age, and the age of an engine in service is only
  known through the model's estimate, which on new engines errs by a dozen cycles where
  on the training engines it does not; on 100 engines the KS test sees that difference, and
  FD001's own engines in service "drifted" (docs/production.md, the replay).

Evidently's ``DataDriftPreset`` computes these statistics too, but its latest release (0.7.23)
does not import beside pandas 3 (it imports ``infer_dtype_from_object``, which pandas 3
removed), so the report is written with SciPy's two functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

REFERENCE_SIZE = 1000  # reference items stored with a model for drift reports


class DetectorConfig(BaseModel):
    """``params:<task>.ood``: the false-flag rate the threshold is set for, on validation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    false_flag_rate: float = Field(default=0.05, gt=0, lt=0.5, description="share of validation items flagged")


class DriftConfig(BaseModel):
    """``params:<task>.drift``: when a feature counts as moved, and when a batch drifts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alpha: float = Field(default=0.05, gt=0, lt=1, description="KS p-value below which a feature counts as moved")
    flag_alpha: float = Field(
        default=0.01, gt=0, lt=1, description="p-value of the flagged-items test below which the batch drifts"
    )


class MahalanobisDetector(BaseModel):
    """Distance of features to the training distribution, in standard deviations."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = "mahalanobis"
    features: list[str] = Field(description="what the features are, in order")
    mean: list[float]
    precision: list[list[float]] = Field(description="inverse of the shrunk covariance")
    threshold: float = Field(gt=0)
    false_flag_rate: float = Field(gt=0, lt=1, description="the target, on validation items")
    validation_flag_rate: float = Field(ge=0, le=1, description="the share of validation items flagged")

    def score(self, features) -> np.ndarray:
        centred = np.asarray(features, np.float64) - np.asarray(self.mean)
        return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", centred, np.asarray(self.precision), centred), 0.0))

    def score_frame(self, features: pd.DataFrame) -> np.ndarray:
        """:meth:`score` of a table holding (at least) the detector's features, by name."""
        return self.score(features[self.features].to_numpy(np.float64))

    def flag(self, scores) -> np.ndarray:
        return np.asarray(scores) > self.threshold


class ThresholdDetector(BaseModel):
    """A score the model gives each item (e.g. its reconstruction error) against a threshold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(description="what the score is")
    threshold: float
    false_flag_rate: float = Field(gt=0, lt=1)
    validation_flag_rate: float = Field(ge=0, le=1)

    def flag(self, scores) -> np.ndarray:
        return np.asarray(scores) > self.threshold


def _threshold(validation_scores, false_flag_rate: float, groups=None) -> tuple[float, float]:
    """The validation scores' (engine-weighted) quantile at ``1 - false_flag_rate``, and the
    share of validation items (weighted alike) above it."""
    scores = np.asarray(validation_scores, np.float64)
    if groups is None:
        weights = np.ones(len(scores))
    else:
        _, index, counts = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
        weights = 1.0 / counts[index]
    order = np.argsort(scores, kind="stable")
    cumulative = np.cumsum(weights[order]) / weights.sum()
    threshold = float(scores[order][min(np.searchsorted(cumulative, 1.0 - false_flag_rate), len(scores) - 1)])
    return threshold, float(weights[scores > threshold].sum() / weights.sum())


def fit_mahalanobis(
    train_features, validation_features, feature_names, config: DetectorConfig, validation_groups=None
) -> MahalanobisDetector:
    """Mean and Ledoit-Wolf covariance of the training features; the threshold from the
    validation features (each group, e.g. an engine, weighing one)."""
    from sklearn.covariance import LedoitWolf  # noqa: PLC0415 - slow to import

    covariance = LedoitWolf().fit(np.asarray(train_features, np.float64))
    partial = MahalanobisDetector(
        features=list(feature_names),
        mean=covariance.location_.tolist(),
        precision=covariance.precision_.tolist(),
        threshold=1.0,
        false_flag_rate=config.false_flag_rate,
        validation_flag_rate=0.0,
    )
    threshold, rate = _threshold(partial.score(validation_features), config.false_flag_rate, validation_groups)
    return partial.model_copy(update={"threshold": threshold, "validation_flag_rate": rate})


def fit_threshold(kind: str, validation_scores, config: DetectorConfig) -> ThresholdDetector:
    """A :class:`ThresholdDetector` whose threshold flags ``false_flag_rate`` of the validation items."""
    threshold, rate = _threshold(validation_scores, config.false_flag_rate)
    return ThresholdDetector(kind=kind, threshold=threshold, false_flag_rate=config.false_flag_rate, validation_flag_rate=rate)


# --- drift ---------------------------------------------------------------------------------


class DriftReference(BaseModel):
    """What a model carries for drift reports: a sample of its training items' features, the
    label of each (an engine window's RUL, a patient's class), and the rule that judges a
    batch against it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config: DriftConfig
    sample: dict[str, list[float]] = Field(description="per feature, the same training items' values")
    labels: list[float] | None = Field(default=None, description="each sample item's label, to match a batch's answers")

    @model_validator(mode="before")
    @classmethod
    def _without_the_feature_share_rule(cls, data: Any) -> Any:
        """A model registered before the verdict became the flagged-items test carries the
        share of moved features its batches drifted at (``drift_share``): the rule is now
        the code's, so a stored share is set aside, and ``flag_alpha`` takes its default."""
        if isinstance(data, dict) and isinstance(data.get("config"), dict) and "drift_share" in data["config"]:
            data = {**data, "config": {k: v for k, v in data["config"].items() if k != "drift_share"}}
        return data


MATCHED = 10  # reference items matched to each item of a batch


def sample_rows(n: int, seed: int = 0, size: int = REFERENCE_SIZE) -> np.ndarray:
    """The rows of ``n`` items a reference sample keeps: up to ``size``, drawn without
    replacement (seeded), in their order."""
    return np.sort(np.random.default_rng(seed).choice(n, size=min(size, n), replace=False))


def reference_sample(
    features: pd.DataFrame, config: DriftConfig, labels=None, seed: int = 0, size: int = REFERENCE_SIZE
) -> DriftReference:
    """Up to ``size`` rows of ``features`` (and their ``labels``) drawn without replacement
    (seeded: the rows :func:`sample_rows` gives)."""
    rows = sample_rows(len(features), seed, size)
    return reference_of(features.iloc[rows], config, None if labels is None else np.asarray(labels)[rows])


def reference_of(features: pd.DataFrame, config: DriftConfig, labels=None) -> DriftReference:
    """The drift reference of exactly these items (values rounded to 6 decimals)."""
    sample = {column: np.round(features[column].to_numpy(np.float64), 6).tolist() for column in features}
    kept = None if labels is None else np.round(np.asarray(labels, np.float64), 6).tolist()
    return DriftReference(config=config, sample=sample, labels=kept)


def matched_rows(reference_labels, answers) -> np.ndarray:
    """For each answer (a batch item's predicted RUL or class), the :data:`MATCHED` reference
    items whose label is nearest (ties: the earlier item): a reference with the batch's mix
    of answers, so that a fleet of young engines, or of one diagnosis, is compared with
    training items like them rather than with all of them."""
    labels = np.asarray(reference_labels, np.float64)
    answers = np.asarray(answers, np.float64)
    distance = np.abs(answers[:, None] - labels[None, :])
    nearest = np.argsort(distance, axis=1, kind="stable")[:, : min(MATCHED, len(labels))]
    return nearest.ravel()


def drift_report(reference: DriftReference, current: pd.DataFrame, flagged, flag_rate: float, answers=None) -> dict[str, Any]:
    """Whether ``current`` (a scored batch) drifted from what the model was trained on, and
    which of its features moved.

    Args:
        reference: the model's drift reference (a sample of its training items).
        current: the batch's features, one row per item (an engine's last cycle, a patient).
        flagged: whether the model's out-of-distribution detector flags each item.
        flag_rate: the share of items its threshold flags on validation data (the detector's
            ``false_flag_rate``): what a batch like the training data shows.
        answers: each item's predicted RUL or class; with the reference's labels, each
            feature is compared with the reference items matched to the answers
            (:func:`matched_rows`): do the inputs look like the training inputs of the same
            answer?

    Returns:
        ``verdict`` (``drift`` or ``no drift``) and ``retraining_recommended`` from the
        one-sided binomial test of the flagged items (``flagged``, ``flagged_share``,
        ``expected_flag_rate``, ``flag_pvalue``); what moved: the share and list of moved
        features (``drifted_share``, ``drifted_features``) and per feature the means and
        standard deviations of both sides, the KS statistic and p-value, the normed
        Wasserstein distance and whether it moved; the sizes and the rule.

    Raises:
        ValueError: an empty batch, a batch without a feature of the reference, or flags
            that are not one per item.
    """
    from scipy.stats import binomtest, ks_2samp, wasserstein_distance  # noqa: PLC0415 - slow to import

    config = reference.config
    if len(current) == 0:
        raise ValueError("drift_report: the batch is empty.")
    missing = [c for c in reference.sample if c not in current.columns]
    if missing:
        raise ValueError(f"drift_report: the batch lacks the features {missing} of the reference.")
    flagged = np.asarray(flagged, bool)
    if flagged.shape != (len(current),):
        raise ValueError(f"drift_report: {flagged.shape[0] if flagged.ndim else 0} flags for a batch of {len(current)} items.")
    matched = reference.labels is not None and answers is not None
    rows = matched_rows(reference.labels, answers) if matched else slice(None)
    features = {}
    for column, values in reference.sample.items():
        ref = np.asarray(values, np.float64)[rows]
        cur = current[column].to_numpy(np.float64)
        ks = ks_2samp(ref, cur)
        features[column] = {
            "reference_mean": float(ref.mean()),
            "current_mean": float(cur.mean()),
            "reference_std": float(ref.std()),
            "current_std": float(cur.std()),
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "wasserstein_normed": float(wasserstein_distance(ref, cur) / max(float(np.std(ref)), 1e-3)),
            "drift": bool(ks.pvalue < config.alpha),
        }
    moved = [c for c, f in features.items() if f["drift"]]
    n_flagged = int(flagged.sum())
    pvalue = float(binomtest(n_flagged, len(flagged), flag_rate, alternative="greater").pvalue)
    drift = pvalue < config.flag_alpha
    return {
        "verdict": "drift" if drift else "no drift",
        "retraining_recommended": drift,
        "flagged": n_flagged,
        "flagged_share": n_flagged / len(flagged),
        "expected_flag_rate": float(flag_rate),
        "flag_pvalue": pvalue,
        "drifted_share": len(moved) / len(features),
        "drifted_features": moved,
        "n_current": len(current),
        "n_reference": len(next(iter(reference.sample.values()))),
        "reference": f"the {MATCHED} training items nearest each answer" if matched else "every training item of the sample",
        "method": "one-sided binomial test of the items the out-of-distribution detector flags against its "
        "validation rate (the verdict); two-sample Kolmogorov-Smirnov test per feature (what moved)",
        "alpha": config.alpha,
        "flag_alpha": config.flag_alpha,
        "features": features,
    }
