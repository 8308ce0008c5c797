"""Champion/challenger promotion: is a newly trained model better than the one in service?

Pure functions over metric dicts and per-item scores. The one promotion stage every
``<task>_retrain`` pipeline reuses (``pipelines.promotion``) calls them in its nodes, and
the registry (``autoencoder_pipelines.registry``) acts on the decision. Metrics may be
nested (the ``contractive_ae`` metrics hold one dict per model): a metric name with dots
is a path (``contractive.mse``).

The decision is a **paired bootstrap** over the evaluation items both models were scored
on (engines, patients, images): each item's score (its squared error, its correctness,
its reconstruction error ...) for the challenger and the champion, the items resampled
with replacement ``bootstrap_samples`` times (seeded), the metric's improvement computed
on each resample. The challenger is promoted only when the lower end of the improvement's
``confidence`` interval lies above the ``margin``: an improvement that seed noise could
give (the interval contains zero) does not replace the champion, and a real one does at
margin 0 (Efron & Tibshirani 1993, the percentile interval; paired, because both models
answer the same items).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

ITEM_COLUMNS = ("item", "score")  # a model's per-item scores: what the paired test resamples


class PromotionConfig(BaseModel):
    """How a challenger is judged against the champion (``params:<task>.promotion``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(min_length=1, description="headline metric: a key of the metrics JSON, or a dotted path into it")
    greater_is_better: bool = Field(description="true for accuracy, false for RMSE")
    margin: float = Field(default=0.0, ge=0, description="the improvement's lower bound must exceed this")
    aggregate: Literal["mean", "rmse"] = Field(
        default="mean", description="how the per-item scores make the metric: their mean, or the root of their mean (RMSE)"
    )
    bootstrap_samples: int = Field(default=2000, ge=100, description="resamples of the evaluation items")
    confidence: float = Field(default=0.95, gt=0.5, lt=1, description="two-sided level of the improvement's interval")
    seed: int = Field(default=0, ge=0, description="seed of the resampling")


def item_scores(items, scores) -> pd.DataFrame:
    """A model's per-item scores (``item``: an id both sides share, ``score``: a number),
    the table the paired test resamples."""
    return pd.DataFrame({"item": np.asarray(items).astype(str), "score": np.asarray(scores, np.float64)})


def indexed_scores(scores, prefix: str = "test") -> pd.DataFrame:
    """Per-item scores of a test set in its fixed order: item ``test:0``, ``test:1`` ..."""
    scores = np.asarray(scores, np.float64)
    return item_scores([f"{prefix}:{i}" for i in range(len(scores))], scores)


def no_items() -> pd.DataFrame:
    """The per-item scores of no model (no champion yet)."""
    return item_scores([], [])


def _aggregate(scores: np.ndarray, how: str) -> np.ndarray:
    """The metric from per-item scores along the last axis."""
    mean = scores.mean(axis=-1)
    return np.sqrt(mean) if how == "rmse" else mean


def paired_bootstrap(challenger: pd.DataFrame, champion: pd.DataFrame, config: PromotionConfig) -> dict[str, Any]:
    """The challenger's improvement over the champion on the items both were scored on,
    with its percentile interval (positive: the challenger is better).

    Raises:
        ValueError: the two sides share no item, or an item appears twice on one side.
    """
    for side, frame in (("challenger", challenger), ("champion", champion)):
        if frame["item"].duplicated().any():
            raise ValueError(
                f"Promotion: the {side}'s item scores name an item twice ({frame['item'][frame['item'].duplicated()].iloc[0]!r})."
            )
    both = challenger.merge(champion, on="item", suffixes=("_challenger", "_champion"))
    if both.empty:
        raise ValueError(
            f"Promotion: the challenger ({len(challenger)} items) and the champion ({len(champion)} items) were scored "
            "on no common evaluation item; they cannot be compared."
        )
    ours, theirs = both["score_challenger"].to_numpy(np.float64), both["score_champion"].to_numpy(np.float64)
    sign = 1.0 if config.greater_is_better else -1.0

    def improvement(index=slice(None)):
        return sign * (_aggregate(ours[index], config.aggregate) - _aggregate(theirs[index], config.aggregate))

    rng = np.random.default_rng(config.seed)
    n, draws = len(both), []
    for start in range(0, config.bootstrap_samples, 256):  # resamples in blocks: memory stays small
        draws.append(improvement(rng.integers(0, n, size=(min(256, config.bootstrap_samples - start), n))))
    tail = (1.0 - config.confidence) / 2.0
    lower, upper = np.quantile(np.concatenate(draws), [tail, 1.0 - tail])
    return {
        "n_items": n,
        "challenger": float(_aggregate(ours, config.aggregate)),
        "champion": float(_aggregate(theirs, config.aggregate)),
        "improvement": float(improvement()),
        "interval": [float(lower), float(upper)],
        "confidence": config.confidence,
        "bootstrap_samples": config.bootstrap_samples,
        "seed": config.seed,
    }


def decide_promotion(
    challenger: dict[str, Any],
    champion: dict[str, Any] | None,
    config: PromotionConfig,
    challenger_items: pd.DataFrame | None = None,
    champion_items: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Compare challenger and champion on the same evaluation items (the paired bootstrap).

    Args:
        challenger: the challenger's metrics.
        champion: the champion's metrics and its ``version``, or None (no champion yet).
        config: metric, direction, margin and the bootstrap's settings.
        challenger_items, champion_items: each side's per-item scores (:func:`item_scores`);
            needed when there is a champion.

    Returns:
        The decision: ``promote``, a one-line ``reason``, the metric of both on the shared
        items, the ``improvement`` (positive = challenger better) with its ``interval``,
        the item count and the ``champion_version`` compared with.

    Raises:
        KeyError: the metric is not among the challenger's (or the champion's) metrics.
        ValueError: a champion without per-item scores, or none shared with the challenger.
    """
    metric = config.metric
    value = float(metric_value(challenger, metric, "challenger"))
    decision = {
        "metric": metric,
        "greater_is_better": config.greater_is_better,
        "margin": config.margin,
        "challenger": value,
        "champion": None,
        "improvement": None,
        "interval": None,
        "n_items": None,
        "champion_version": None,
    }
    if not math.isfinite(value):
        return {**decision, "promote": False, "reason": f"challenger {metric} is {value}, not a number"}
    if champion is None:
        return {**decision, "promote": True, "reason": "no champion yet: the challenger becomes the first"}
    metric_value(champion, metric, "champion")  # named if missing
    if challenger_items is None or champion_items is None:
        raise ValueError("Promotion: comparing with a champion needs both sides' per-item scores.")
    test = paired_bootstrap(challenger_items, champion_items, config)
    lower, upper = test["interval"]
    promote = lower > config.margin
    return {
        **decision,
        "challenger": test["challenger"],
        "champion": test["champion"],
        "improvement": test["improvement"],
        "interval": test["interval"],
        "n_items": test["n_items"],
        "test": {k: test[k] for k in ("confidence", "bootstrap_samples", "seed")},
        "champion_version": champion.get("version"),
        "promote": promote,
        "reason": (
            f"challenger {metric} {test['challenger']:.4g} vs champion v{champion.get('version')} {test['champion']:.4g} "
            f"on the same {test['n_items']} items: improvement {test['improvement']:+.4g}, "
            f"{config.confidence:.0%} interval [{lower:+.4g}, {upper:+.4g}]: its lower end is "
            f"{'above' if promote else 'not above'} the margin {config.margin:g}"
            + ("" if promote else ", so seed noise could give this difference")
        ),
    }


def metric_value(metrics: dict[str, Any], metric: str, whose: str) -> Any:
    """``metrics[metric]``, following dots into nested dicts (``contractive.mse``).

    Raises:
        KeyError: naming the metric and the keys that are there.
    """
    value: Any = metrics
    for part in metric.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"Promotion metric {metric!r} is not in the {whose}'s metrics {sorted(flatten_numbers(metrics))}.")
        value = value[part]
    return value


def champion_metrics(
    champion, evaluate: Callable[[Any], tuple[dict[str, Any], pd.DataFrame]]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The champion's metrics on this run's test data, with its ``version``, and its
    per-item scores.

    ``evaluate`` takes the champion's model and returns the task's test metrics and
    per-item scores, the same functions its evaluation of the challenger uses; its
    ``lineage`` (what it was trained and evaluated on) comes from its registered metadata.
    Without a champion (the first retraining): ``{"version": None}`` and no items.
    """
    if champion is None:
        return {"version": None}, no_items()
    metrics, items = evaluate(champion.model)
    return {"version": champion.version, **metrics, "lineage": lineage_summary(champion.metadata.get("lineage"))}, items


def decide(
    challenger_metrics: dict[str, Any],
    champion_metrics: dict[str, Any],
    challenger_items: pd.DataFrame,
    champion_items: pd.DataFrame,
    model_metadata: dict[str, Any],
    promotion: PromotionConfig,
) -> dict[str, Any]:
    """The promotion node: ``champion_metrics`` carries ``version: None`` when there is no
    champion yet (the retraining pipelines' ``evaluate_champion`` nodes). The decision
    records the lineage of both sides (the challenger's from ``model_metadata``)."""
    champion = None if champion_metrics.get("version") is None else champion_metrics
    decision = decide_promotion(challenger_metrics, champion, promotion, challenger_items, champion_items)
    decision["lineage"] = {
        "challenger": lineage_summary(model_metadata.get("lineage")),
        "champion": None if champion is None else champion.get("lineage"),
    }
    # How far each side's ensemble members disagree (0 for a single model), recorded
    # beside the decision.
    spreads = {
        side: {k: v for k, v in (metrics or {}).items() if k.endswith("_spread_mean")}
        for side, metrics in (("challenger", challenger_metrics), ("champion", champion))
    }
    if any(spreads.values()):
        decision["spreads"] = spreads
    return decision


def lineage_summary(lineage: dict[str, Any] | None) -> dict[str, str] | None:
    """The one-line lists of a lineage (``train``, ``evaluation``, ``quarantined``), or None
    for a model registered without one."""
    if not lineage:
        return None
    return {key: lineage[key] for key in ("train", "evaluation", "quarantined") if isinstance(lineage.get(key), str)}


def flatten_numbers(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The numbers of a (nested) metrics dict, keys joined by dots: what a registered
    version carries. Lists (confusion matrices) are left out."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(flatten_numbers(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[f"{prefix}{key}"] = float(value)
    return flat
