"""Champion/challenger promotion: is a newly trained model better than the one in service?

Pure functions over metric dicts; the retraining pipelines call them in a node and the
registry (``autoencoder_pipelines.registry``) acts on the decision.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PromotionConfig(BaseModel):
    """How a challenger is judged against the champion (``params:<pipeline>_retrain.promotion``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(min_length=1, description="headline metric, a key of the metrics JSON")
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
    if metric not in challenger:
        raise KeyError(f"Promotion metric {metric!r} is not in the challenger's metrics {sorted(challenger)}.")
    value = float(challenger[metric])
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
    if metric not in champion:
        raise KeyError(f"Promotion metric {metric!r} is not in the champion's metrics {sorted(champion)}.")
    reference = float(champion[metric])
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


def decide(challenger_metrics: dict[str, Any], champion_metrics: dict[str, Any], promotion: PromotionConfig) -> dict[str, Any]:
    """The promotion node: ``champion_metrics`` carries ``version: None`` when there is no
    champion yet (the retraining pipelines' ``evaluate_champion`` nodes)."""
    champion = None if champion_metrics.get("version") is None else champion_metrics
    return decide_promotion(challenger_metrics, champion, promotion)


def registration(model, metadata: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    """What the registry dataset saves: the model, its metadata, the decision as version
    tags, and whether (and against which champion) to promote."""
    return {
        "model": model,
        "metadata": metadata,
        "tags": {
            "promoted": str(decision["promote"]).lower(),
            "decision": decision["reason"],
            decision["metric"]: f"{decision['challenger']:.6g}",
            "compared_with_version": str(decision["champion_version"]),
        },
        "promote": decision["promote"],
        "champion_version": decision["champion_version"],
    }


def numeric_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The top-level numbers of a metrics dict (what a registered version carries)."""
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
