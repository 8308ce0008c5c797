"""The promotion decision: a paired bootstrap over the evaluation items both models were
scored on; promoted only when the improvement's interval lies above the margin."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from autoencoder_pipelines.promotion import (
    PromotionConfig,
    champion_metrics,
    decide,
    decide_promotion,
    indexed_scores,
    item_scores,
    no_items,
    paired_bootstrap,
)
from autoencoder_pipelines.registration import registration

RMSE = PromotionConfig(metric="rmse", greater_is_better=False, margin=0.0, aggregate="rmse")
ACCURACY = PromotionConfig(metric="accuracy", greater_is_better=True, margin=0.0)


def _errors(rmse: float, n: int, seed: int) -> np.ndarray:
    """Squared errors of ``n`` engines whose RMSE is ``rmse`` (normal errors)."""
    error = np.random.default_rng(seed).normal(0.0, 1.0, n)
    return (error / np.sqrt(np.mean(error**2)) * rmse) ** 2


def test_the_bootstrap_interval_brackets_the_improvement_and_the_metric_is_the_items_aggregate():
    champion = indexed_scores(_errors(14.0, 100, seed=0))
    challenger = indexed_scores(_errors(13.0, 100, seed=1))
    test = paired_bootstrap(challenger, champion, RMSE)
    assert test["challenger"] == pytest.approx(13.0) and test["champion"] == pytest.approx(14.0)
    assert test["improvement"] == pytest.approx(1.0) and test["n_items"] == 100
    lower, upper = test["interval"]
    assert lower < 1.0 < upper
    assert paired_bootstrap(challenger, champion, RMSE) == test  # seeded


def test_a_challenger_no_better_than_seed_noise_is_kept_out_and_a_clearly_better_one_promoted():
    rng = np.random.default_rng(3)
    truth_error = rng.normal(0, 13.0, 100)  # what both models get wrong: the same engines are hard
    champion = indexed_scores((truth_error + rng.normal(0, 3.0, 100)) ** 2)
    noise = indexed_scores((truth_error + rng.normal(0, 3.0, 100)) ** 2)  # another seed: a different draw of the same quality
    better = indexed_scores((0.7 * truth_error + rng.normal(0, 3.0, 100)) ** 2)
    champion_side = {"rmse": 1.0, "version": "4"}
    kept = decide_promotion({"rmse": 1.0}, champion_side, RMSE, noise, champion)
    assert kept["promote"] is False and kept["interval"][0] <= 0.0 <= kept["interval"][1]
    assert "not above the margin 0" in kept["reason"] and "seed noise" in kept["reason"]
    promoted = decide_promotion({"rmse": 1.0}, champion_side, RMSE, better, champion)
    assert promoted["promote"] is True and promoted["interval"][0] > 0 and promoted["champion_version"] == "4"
    assert promoted["n_items"] == 100 and "above the margin" in promoted["reason"]
    # a margin the improvement's lower end does not reach keeps it out too
    margin = PromotionConfig(**{**RMSE.model_dump(), "margin": promoted["interval"][0] + 0.01})
    assert decide_promotion({"rmse": 1.0}, champion_side, margin, better, champion)["promote"] is False


def test_accuracy_improves_upwards_and_items_are_paired_by_id_not_by_order():
    champion = item_scores(["b", "a", "c", "d"] * 25, np.r_[np.zeros(50), np.ones(50)])
    challenger = item_scores(["b", "a", "c", "d"] * 25, np.ones(100))
    with pytest.raises(ValueError, match="name an item twice"):
        paired_bootstrap(challenger, champion, ACCURACY)
    ids = [f"p{i}" for i in range(100)]
    champion = item_scores(ids, np.r_[np.zeros(30), np.ones(70)])
    challenger = item_scores(ids[::-1], np.ones(100))  # the same patients, listed in another order
    test = paired_bootstrap(challenger, champion, ACCURACY)
    assert test["improvement"] == pytest.approx(0.3) and test["interval"][0] > 0.15


def test_only_the_items_both_sides_were_scored_on_count_and_none_in_common_is_refused():
    champion = item_scores(["x", "y", "z"], [1.0, 1.0, 1.0])
    challenger = item_scores(["y", "z", "w"], [0.0, 0.0, 9.0])
    assert paired_bootstrap(challenger, champion, PromotionConfig(metric="mse", greater_is_better=False))["n_items"] == 2
    with pytest.raises(ValueError, match=r"challenger \(1 items\) and the champion \(3 items\) .* no common"):
        paired_bootstrap(item_scores(["q"], [0.0]), champion, RMSE)


def test_the_first_challenger_becomes_champion():
    decision = decide({"rmse": 20.0}, {"version": None}, indexed_scores([1.0]), no_items(), {}, RMSE)
    assert decision["promote"] is True and decision["champion_version"] is None and "first" in decision["reason"]
    assert decision["interval"] is None


def test_a_challenger_whose_metric_is_not_a_number_is_never_promoted():
    assert decide_promotion({"rmse": math.nan}, None, RMSE)["promote"] is False


def test_a_missing_metric_or_missing_item_scores_are_named():
    with pytest.raises(KeyError, match="'rmse' is not in the challenger's metrics \\['mae'\\]"):
        decide_promotion({"mae": 1.0}, None, RMSE)
    with pytest.raises(KeyError, match="not in the champion's metrics"):
        decide_promotion({"rmse": 1.0}, {"version": "1"}, RMSE, no_items(), no_items())
    with pytest.raises(ValueError, match="needs both sides' per-item scores"):
        decide_promotion({"rmse": 1.0}, {"version": "1", "rmse": 2.0}, RMSE)


def test_promotion_parameters_are_validated():
    with pytest.raises(ValidationError, match="margin"):
        PromotionConfig(metric="rmse", greater_is_better=False, margin=-1)
    with pytest.raises(ValidationError, match="extra"):
        PromotionConfig(metric="rmse", greater_is_better=False, treshold=1)
    with pytest.raises(ValidationError, match="aggregate"):
        PromotionConfig(metric="rmse", greater_is_better=False, aggregate="median")
    with pytest.raises(ValidationError, match="confidence"):
        PromotionConfig(metric="rmse", greater_is_better=False, confidence=1.0)


def test_registration_carries_the_decision_and_its_interval_as_tags():
    champion, challenger = indexed_scores(_errors(14.0, 50, 0)), indexed_scores(_errors(10.0, 50, 1))
    decision = decide_promotion({"rmse": 10.0}, {"rmse": 14.0, "version": "2"}, RMSE, challenger, champion)
    saved = registration("model", {"data": {}}, decision)
    assert saved["promote"] is True and saved["champion_version"] == "2"
    lower, upper = decision["interval"]
    assert saved["tags"] == {
        "promoted": "true",
        "decision": decision["reason"],
        "rmse": "10",
        "compared_with_version": "2",
        "improvement_interval": f"[{lower:.6g}, {upper:.6g}]",
        "evaluation_items": "50",
    }


def test_the_decision_records_both_sides_spread_between_ensemble_members():
    items = indexed_scores(_errors(13.0, 20, 0))
    decision = decide(
        {"rmse": 13.0, "rul_spread_mean": 1.5}, {"version": 2, "rmse": 13.2, "rul_spread_mean": 0.0}, items, items, {}, RMSE
    )
    assert decision["spreads"] == {"challenger": {"rul_spread_mean": 1.5}, "champion": {"rul_spread_mean": 0.0}}
    assert "spreads" not in decide(
        {"rmse": 13.0}, {"version": None}, items, no_items(), {}, RMSE
    )  # no ensemble, nothing to record


def test_the_champion_is_evaluated_with_the_challenger_s_functions():
    class Champion:
        version, model = "5", "keras model"
        metadata = {"lineage": {"train": "a@1", "evaluation": "b@2", "quarantined": "none", "partitions": {}}}

    metrics, items = champion_metrics(Champion(), lambda model: ({"mse": 0.5, "model": model}, indexed_scores([0.5])))
    assert metrics == {
        "version": "5",
        "mse": 0.5,
        "model": "keras model",
        "lineage": {"train": "a@1", "evaluation": "b@2", "quarantined": "none"},
    }
    assert items["item"].tolist() == ["test:0"]
    metrics, items = champion_metrics(None, lambda model: pytest.fail("no champion: nothing to evaluate"))
    assert metrics == {"version": None} and items.empty and list(items.columns) == ["item", "score"]
    assert isinstance(items, pd.DataFrame)


def test_the_decision_and_the_version_tags_record_both_sides_lineage():
    lineage = {
        "train": "source/train_FD001.txt@963b5e22825b",
        "evaluation": "source/test_FD001.txt@3cda7109ce17",
        "quarantined": "2026-01-19/failed_FD001.txt@0a1b2c3d4e5f",
        "partitions": {"train": []},
    }
    items = indexed_scores(_errors(13.0, 20, 0))
    champion = {"version": "2", "rmse": 13.0, "lineage": {"train": "x@1", "evaluation": "y@2"}}
    decision = decide({"rmse": 13.0}, champion, items, items, {"lineage": lineage}, RMSE)
    assert decision["lineage"] == {
        "challenger": {k: lineage[k] for k in ("train", "evaluation", "quarantined")},
        "champion": {"train": "x@1", "evaluation": "y@2"},
    }
    tags = registration("model", {"lineage": lineage}, decision)["tags"]
    assert tags["lineage.train"] == lineage["train"] and tags["lineage.quarantined"] == lineage["quarantined"]
