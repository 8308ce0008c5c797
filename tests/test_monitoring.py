"""Out-of-distribution detectors and drift reports (``monitoring``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autoencoder_pipelines import monitoring
from autoencoder_pipelines.monitoring import DetectorConfig, DriftConfig


def _features(rng, n, shift=0.0, columns=("a", "b", "c")):
    mixing = np.array([[1.0, 0.8, 0.0], [0.0, 0.6, 0.3], [0.0, 0.0, 1.0]])
    return pd.DataFrame(rng.normal(0, 1, (n, 3)) @ mixing + shift, columns=list(columns))


def test_the_mahalanobis_threshold_flags_the_stated_share_of_validation_items_and_far_items():
    rng = np.random.default_rng(0)
    detector = monitoring.fit_mahalanobis(
        _features(rng, 5000), _features(rng, 2000), ["a", "b", "c"], DetectorConfig(false_flag_rate=0.05)
    )
    assert detector.validation_flag_rate == pytest.approx(0.05, abs=0.002)
    assert np.mean(detector.flag(detector.score(_features(rng, 4000)))) == pytest.approx(0.05, abs=0.015)
    # a broken correlation: each value ordinary on its own, together far from the training items
    odd = pd.DataFrame({"a": [2.0], "b": [-2.0], "c": [0.0]})
    assert detector.flag(detector.score(odd)).all() and not detector.flag(detector.score(odd * 0)).any()
    rebuilt = monitoring.MahalanobisDetector.model_validate(detector.model_dump())  # what a model stores
    np.testing.assert_allclose(rebuilt.score(odd), detector.score(odd))


def test_an_engine_weighs_one_in_the_threshold_however_many_cut_points_it_has():
    scores = np.r_[np.zeros(98), 10.0, 20.0]
    groups = np.r_[np.zeros(98), 1, 2]  # engine 0: 98 cut points; engines 1 and 2: one each
    threshold, rate = monitoring._threshold(scores, 0.34, groups)
    assert threshold == 10.0 and rate == pytest.approx(1 / 3)


def test_a_batch_drifts_when_its_detector_flags_more_items_than_on_validation():
    """The verdict: the one-sided binomial test of the flagged items against the rate the
    detector flags on validation; what moved (per feature KS) is reported beside it."""
    rng = np.random.default_rng(1)
    reference = monitoring.reference_sample(_features(rng, 5000), DriftConfig())
    assert len(reference.sample["a"]) == monitoring.REFERENCE_SIZE

    def flags(n_flagged, n=100):
        return np.arange(n) < n_flagged

    same = monitoring.drift_report(reference, _features(rng, 100), flags(8), 0.05)
    assert same["verdict"] == "no drift" and not same["retraining_recommended"] and same["drifted_features"] == []
    assert same["flagged"] == 8 and same["flagged_share"] == 0.08 and same["expected_flag_rate"] == 0.05
    assert same["flag_pvalue"] == pytest.approx(0.1280, abs=1e-4)  # P(X >= 8), X ~ Binomial(100, 0.05)
    many = monitoring.drift_report(reference, _features(rng, 100), flags(12), 0.05)
    assert many["verdict"] == "drift" and many["retraining_recommended"] and many["flag_pvalue"] < 0.01
    # features that moved without more items out of distribution: reported, not a drift
    shifted = monitoring.drift_report(reference, _features(rng, 100, shift=1.0), flags(5), 0.05)
    assert shifted["verdict"] == "no drift" and shifted["drifted_share"] == 1.0
    assert shifted["features"]["a"]["ks_pvalue"] < 0.05 and shifted["features"]["a"]["wasserstein_normed"] > 0.5
    one = monitoring.drift_report(reference, _features(rng, 100).assign(c=lambda f: f["c"] + 2.0), flags(0), 0.05)
    assert one["features"]["c"]["drift"] and one["features"]["c"]["ks_pvalue"] < 1e-6 and one["verdict"] == "no drift"
    # the rule is the configured level's: at flag_alpha 0.2, eight flagged of 100 drift
    loose = monitoring.reference_sample(_features(rng, 50), DriftConfig(flag_alpha=0.2))
    assert monitoring.drift_report(loose, _features(rng, 100), flags(8), 0.05)["verdict"] == "drift"


def test_a_reference_stored_with_the_feature_share_rule_still_loads():
    """Models registered before the flagged-items verdict carry ``drift_share``."""
    stored = monitoring.reference_sample(_features(np.random.default_rng(5), 20), DriftConfig()).model_dump()
    stored["config"] = {"alpha": 0.05, "drift_share": 0.5}
    loaded = monitoring.DriftReference.model_validate(stored)
    assert loaded.config == DriftConfig(alpha=0.05)
    with pytest.raises(ValueError, match="drift_share"):
        DriftConfig(alpha=0.05, drift_share=0.5)  # a new configuration with the old rule is refused by name


def test_a_batch_without_a_feature_or_without_rows_is_refused_by_name():
    rng = np.random.default_rng(2)
    reference = monitoring.reference_sample(_features(rng, 50), DriftConfig())
    with pytest.raises(ValueError, match=r"lacks the features \['c'\]"):
        monitoring.drift_report(reference, _features(rng, 10).drop(columns="c"), np.zeros(10, bool), 0.05)
    with pytest.raises(ValueError, match="the batch is empty"):
        monitoring.drift_report(reference, _features(rng, 0), np.zeros(0, bool), 0.05)
    with pytest.raises(ValueError, match="9 flags for a batch of 10 items"):
        monitoring.drift_report(reference, _features(rng, 10), np.zeros(9, bool), 0.05)


def test_a_threshold_detector_flags_scores_above_the_validation_quantile():
    detector = monitoring.fit_threshold("reconstruction_mse", np.arange(100.0), DetectorConfig(false_flag_rate=0.1))
    assert detector.threshold == 89.0 and detector.validation_flag_rate == pytest.approx(0.1)
    np.testing.assert_array_equal(detector.flag([10.0, 89.0, 95.0]), [False, False, True])


def test_a_batch_of_one_kind_is_compared_with_training_items_of_that_kind():
    """Young engines only: unlike the whole training sample (old ones included), like its
    young part; matched to the batch's predicted RUL, no drift."""
    rng = np.random.default_rng(4)
    rul = rng.uniform(0, 125, 5000)
    features = pd.DataFrame({"a": -rul / 40 + rng.normal(0, 0.3, 5000), "b": rng.normal(0, 1, 5000)})
    reference = monitoring.reference_sample(features, DriftConfig(alpha=0.05), labels=rul)
    young = rng.uniform(100, 125, 100)
    batch = pd.DataFrame({"a": -young / 40 + rng.normal(0, 0.3, 100), "b": rng.normal(0, 1, 100)})
    none = np.zeros(100, bool)
    assert monitoring.drift_report(reference, batch, none, 0.05)["drifted_features"] == ["a"]  # against every training item
    matched = monitoring.drift_report(reference, batch, none, 0.05, answers=young)
    assert matched["drifted_features"] == [] and matched["reference"] == "the 10 training items nearest each answer"
    # a fault the answers do not explain still moves: the same young engines, "b" shifted
    moved = monitoring.drift_report(reference, batch.assign(b=batch["b"] + 1.5), none, 0.05, answers=young)
    assert moved["drifted_features"] == ["b"]
    rows = monitoring.matched_rows([0.0, 10.0, 20.0, 30.0], [11.0])
    assert sorted(rows.tolist()) == [0, 1, 2, 3]  # fewer items than MATCHED: every one, nearest first
    assert monitoring.matched_rows(list(range(50)), [20.2]).tolist()[:3] == [20, 21, 19]
