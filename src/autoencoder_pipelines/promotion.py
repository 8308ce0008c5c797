"""Champion/challenger promotion: is a newly trained model better than the one in service?

Pure functions over metric dicts. The one promotion stage every ``<task>_retrain``
pipeline reuses (``pipelines.promotion``) calls them in its nodes, and the registry
(``autoencoder_pipelines.registry``) acts on the decision. Metrics may be nested (the
``contractive_ae`` metrics hold one dict per model): a metric name with dots is a path
(``contractive.mse``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PromotionConfig(BaseModel):
    """How a challenger is judged against the champion (``params:<pipeline>_retrain.promotion``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(min_length=1, description="headline metric: a key of the metrics JSON, or a dotted path into it")
    greater_is_better: bool = Field(description="true for accuracy, false for RMSE")
    margin: float = Field(default=0.0, ge=0, description="the challenger must be better by more than this")


def decide_promotion(
    challenger: dict[str, Any], champion: dict[str, Any] | None, config: PromotionConfig
) -> dict[str, Any]:
    """Compare the headline metric of challenger and champion on the same held-out data.

    Args:
        challenger: the challenger's metrics.
        champion: the champion's metrics and its ``version``, or None (no champion yet).
        config: metric, direction and margin.

    Returns:
        The decision: ``promote``, a one-line ``reason``, both values, the improvement
        (positive = challenger better) and the ``champion_version`` compared with.

    Raises:
        KeyError: the metric is not among the challenger's (or the champion's) metrics.
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
        "champion_version": None,
    }
    if not math.isfinite(value):
        return {**decision, "promote": False, "reason": f"challenger {metric} is {value}, not a number"}
    if champion is None:
        return {**decision, "promote": True, "reason": "no champion yet: the challenger becomes the first"}
    reference = float(metric_value(champion, metric, "champion"))
    improvement = value - reference if config.greater_is_better else reference - value
    promote = improvement > config.margin
    verb = "beats" if promote else "does not beat"
    return {
        **decision,
        "champion": reference,
        "improvement": improvement,
        "champion_version": champion.get("version"),
        "promote": promote,
        "reason": (
            f"challenger {metric} {value:.4g} {verb} champion v{champion.get('version')} {reference:.4g} "
            f"by more than {config.margin:g} (improvement {improvement:+.4g})"
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


def champion_metrics(champion, evaluate: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The champion's metrics on this run's test data, with its ``version``.

    ``evaluate`` takes the champion's model and returns the task's test metrics, the
    same function its evaluation of the challenger uses. Without a champion (the first
    retraining): ``{"version": None}``.
    """
    if champion is None:
        return {"version": None}
    return {"version": champion.version, **evaluate(champion.model)}


def decide(challenger_metrics: dict[str, Any], champion_metrics: dict[str, Any], promotion: PromotionConfig) -> dict[str, Any]:
    """The promotion node: ``champion_metrics`` carries ``version: None`` when there is no
    champion yet (the retraining pipelines' ``evaluate_champion`` nodes)."""
    champion = None if champion_metrics.get("version") is None else champion_metrics
    decision = decide_promotion(challenger_metrics, champion, promotion)
    # How far each side's ensemble members disagree (0 for a single model), recorded
    # beside the decision: a small improvement within a wide spread is seed noise.
    spreads = {
        side: {k: v for k, v in (metrics or {}).items() if k.endswith("_spread_mean")}
        for side, metrics in (("challenger", challenger_metrics), ("champion", champion))
    }
    if any(spreads.values()):
        decision["spreads"] = spreads
    return decision


def registration(model, metadata: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    """What the registry dataset saves: the model, its metadata, the decision as version
    tags, and whether (and against which champion) to promote; a served model's example
    request (``metadata["input_example"]``: a ``split`` table or nested lists) goes beside
    the metadata."""
    metadata = dict(metadata)
    example = metadata.pop("input_example", None)
    return {
        "model": model,
        "metadata": metadata,
        "input_example": example,
        "tags": {
            "promoted": str(decision["promote"]).lower(),
            "decision": decision["reason"],
            decision["metric"]: f"{decision['challenger']:.6g}",
            "compared_with_version": str(decision["champion_version"]),
        },
        "promote": decision["promote"],
        "champion_version": decision["champion_version"],
    }


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


def register_challenger(model, model_metadata: dict[str, Any], metrics: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    """The registration node: the challenger, what inference needs (``model_metadata``,
    from the task), its metrics and the decision, as the registry dataset saves them."""
    return registration(model, {**model_metadata, "metrics": flatten_numbers(metrics)}, decision)
