"""What a retraining registers: the challenger, its metadata, and the promotion decision
and lineage as the registered version's tags (pure; the registry dataset writes them)."""

from __future__ import annotations

from typing import Any

from autoencoder_pipelines.promotion import flatten_numbers


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
            **(
                {
                    "improvement_interval": "[{:.6g}, {:.6g}]".format(*decision["interval"]),
                    "evaluation_items": str(decision["n_items"]),
                }
                if decision.get("interval") is not None
                else {}
            ),
            **lineage_tags(metadata.get("lineage")),
        },
        "promote": decision["promote"],
        "champion_version": decision["champion_version"],
    }


TAG_LIMIT = 5000  # characters of a registered version's tag value (MLflow's limit)


def lineage_tags(lineage: dict[str, Any] | None) -> dict[str, str]:
    """``lineage.train``, ``lineage.evaluation``, ``lineage.quarantined``: what a version was
    trained and evaluated on, one ``partition@sha256`` list each (cut to MLflow's limit, the
    full lists staying in the version's metadata)."""
    tags = {}
    for key in ("train", "evaluation", "quarantined"):
        value = (lineage or {}).get(key)
        if isinstance(value, str):
            tags[f"lineage.{key}"] = value if len(value) <= TAG_LIMIT else value[: TAG_LIMIT - 20] + " ... (cut)"
    return tags


def register_challenger(
    model, model_metadata: dict[str, Any], metrics: dict[str, Any], decision: dict[str, Any]
) -> dict[str, Any]:
    """The registration node: the challenger, what inference needs (``model_metadata``,
    from the task), its metrics and the decision, as the registry dataset saves them."""
    return registration(model, {**model_metadata, "metrics": flatten_numbers(metrics)}, decision)
