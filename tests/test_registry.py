"""The MLflow registry wrapper: champion lookup, registration, guarded promotion."""

from __future__ import annotations

import keras
import mlflow
import numpy as np
import pytest

from autoencoder_pipelines.registry import (
    PromotionConflict,
    champion_version,
    load_champion,
    register_version,
)


@pytest.fixture
def registry(tmp_path):
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("registry")  # registrations outside a kedro run log into a run of their own, here
    yield mlflow.MlflowClient()
    mlflow.set_tracking_uri(previous)


def _model(bias: float) -> keras.Model:
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(1, bias_initializer=keras.initializers.Constant(bias))(inputs))


def test_registration_promotes_only_against_the_expected_champion(registry, tmp_path):
    lock = str(tmp_path / "registry.lock")
    assert load_champion("m", client=registry) is None  # no model yet: no champion, no error

    first = register_version(
        _model(1.0),
        "m",
        metadata={"scaler": {"a": [1.0]}},
        tags={"promoted": "true"},
        promote=True,
        expected_champion=None,
        lock_path=lock,
    )
    assert first == "1" and champion_version("m", client=registry) == "1"

    # A worse challenger: a new version, the alias stays.
    assert (
        register_version(
            _model(2.0), "m", metadata={}, tags={"promoted": "false"}, promote=False, expected_champion="1", lock_path=lock
        )
        == "2"
    )
    assert champion_version("m", client=registry) == "1"

    # A challenger compared with a champion that is no longer the champion: nothing written.
    with pytest.raises(PromotionConflict, match="compared with champion version None, but the champion is now version 1"):
        register_version(_model(3.0), "m", metadata={}, tags={}, promote=True, expected_champion=None, lock_path=lock)
    assert sorted(str(v.version) for v in registry.search_model_versions("name='m'")) == ["1", "2"]

    # The champion loads with its metadata and tags, and predicts as the model it was.
    champion = load_champion("m", client=registry)
    assert champion.version == "1" and champion.metadata == {"scaler": {"a": [1.0]}}
    assert champion.tags["promoted"] == "true"
    np.testing.assert_allclose(
        champion.model.predict(np.zeros((2, 3)), verbose=0), _model(1.0).predict(np.zeros((2, 3)), verbose=0)
    )
