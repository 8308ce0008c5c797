"""The promotion decision: better by more than the margin, in the metric's direction."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from autoencoder_pipelines.promotion import PromotionConfig, decide, decide_promotion, registration

RMSE = PromotionConfig(metric="rmse", greater_is_better=False, margin=0.5)
ACCURACY = PromotionConfig(metric="accuracy", greater_is_better=True, margin=0.0)


@pytest.mark.parametrize(
    ("config", "challenger", "champion", "promote", "improvement"),
    [
        (RMSE, 13.0, 14.0, True, 1.0),  # lower RMSE by more than the margin
        (RMSE, 13.6, 14.0, False, 0.4),  # better, but not by the margin
        (RMSE, 14.0, 14.0, False, 0.0),
        (RMSE, 15.0, 14.0, False, -1.0),  # worse
        (ACCURACY, 0.99, 0.98, True, 0.01),
        (ACCURACY, 0.98, 0.98, False, 0.0),  # equal is not better
        (ACCURACY, 0.97, 0.98, False, -0.01),
    ],
)
def test_a_challenger_is_promoted_only_when_better_by_more_than_the_margin(config, challenger, champion, promote, improvement):
    decision = decide_promotion({config.metric: challenger}, {config.metric: champion, "version": "7"}, config)
    assert decision["promote"] is promote
    assert decision["improvement"] == pytest.approx(improvement)
    assert decision["champion_version"] == "7" and decision["champion"] == champion
    assert ("beats" if promote else "does not beat") in decision["reason"]


def test_the_first_challenger_becomes_champion():
    decision = decide({"rmse": 20.0}, {"version": None}, RMSE)
    assert decision["promote"] is True and decision["champion_version"] is None and "first" in decision["reason"]


def test_a_challenger_whose_metric_is_not_a_number_is_never_promoted():
    assert decide_promotion({"rmse": math.nan}, None, RMSE)["promote"] is False


def test_a_missing_metric_is_named():
    with pytest.raises(KeyError, match="'rmse' is not in the challenger's metrics \\['mae'\\]"):
        decide_promotion({"mae": 1.0}, None, RMSE)
    with pytest.raises(KeyError, match="not in the champion's metrics"):
        decide_promotion({"rmse": 1.0}, {"version": "1"}, RMSE)


def test_promotion_parameters_are_validated():
    with pytest.raises(ValidationError, match="margin"):
        PromotionConfig(metric="rmse", greater_is_better=False, margin=-1)
    with pytest.raises(ValidationError, match="extra"):
        PromotionConfig(metric="rmse", greater_is_better=False, treshold=1)


def test_registration_carries_the_decision_as_tags():
    decision = decide_promotion({"rmse": 13.0}, {"rmse": 14.0, "version": "2"}, RMSE)
    saved = registration("model", {"data": {}}, decision)
    assert saved["promote"] is True and saved["champion_version"] == "2"
    assert saved["tags"] == {"promoted": "true", "decision": decision["reason"], "rmse": "13", "compared_with_version": "2"}


def test_the_decision_records_both_sides_spread_between_ensemble_members():
    from autoencoder_pipelines.promotion import decide

    config = PromotionConfig(metric="rmse", greater_is_better=False, margin=0.0)
    decision = decide({"rmse": 13.0, "rul_spread_mean": 1.5}, {"version": 2, "rmse": 13.2, "rul_spread_mean": 0.0}, config)
    assert decision["promote"] and decision["spreads"] == {
        "challenger": {"rul_spread_mean": 1.5},
        "champion": {"rul_spread_mean": 0.0},
    }
    assert "spreads" not in decide({"rmse": 13.0}, {"version": None}, config)  # no ensemble, nothing to record
