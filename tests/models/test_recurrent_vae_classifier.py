"""The recurrent VAE classifier of af_rvae: its loss is the weighted sum of its three terms."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from autoencoder_pipelines.models import RecurrentVAEClassifier

CONFIG = dict(
    input_shape=(8, 1),
    lstm_units=3,
    latent_dim=2,
    classifier_units=4,
    n_classes=6,
    reconstruction_weight=2.0,
    kl_weight=0.5,
    classification_weight=3.0,
    seed=0,
)


def test_the_loss_is_the_weighted_sum_of_reconstruction_kl_and_cross_entropy():
    model = RecurrentVAEClassifier(CONFIG)
    x = np.random.default_rng(0).random((5, 8, 1)).astype("float32")
    y = np.array([0, 1, 2, 3, 5])
    out = {k: ops.convert_to_numpy(v) for k, v in model(x, training=False).items()}
    mse = np.mean((out["reconstruction"] - x) ** 2)
    mu, log_var = out["z_mean"], out["z_log_var"]
    kl = np.mean(-0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var), axis=1))
    logits = out["class_logits"] - out["class_logits"].max(axis=1, keepdims=True)
    ce = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(5), y])
    loss = float(model.compute_loss(x, y, model(x, training=False)))
    assert loss == pytest.approx(2.0 * mse + 0.5 * kl + 3.0 * ce, rel=1e-5)


def test_a_series_must_be_time_by_features():
    with pytest.raises(ValueError, match=r"\(time steps, features\) series, got input_shape=\(146,\)"):
        RecurrentVAEClassifier({**CONFIG, "input_shape": (146,)})


def test_the_bidirectional_lstms_are_built_outside_kerass_object_sharing():
    # What made the rebuilds below fail now and then: each LSTM that Bidirectional clones was
    # recorded by id() in the scope load_model enters, and a later LSTM at a reused address
    # came back as the earlier clone. Nothing of ours is recorded there any more.
    from keras.src.backend.common import global_state
    from keras.src.saving.serialization_lib import ObjectSharingScope

    with ObjectSharingScope():
        RecurrentVAEClassifier(CONFIG)
        assert global_state.get_global_attribute("shared_objects/id_to_config_map") == {}
        assert global_state.get_global_attribute("shared_objects/id_to_obj_map") == {}


def test_the_model_rebuilds_correctly_however_often_keras_loading_builds_it():
    # keras.saving.load_model builds the model inside Keras's object-sharing scope, which
    # matches serialised objects by id(). Keras's own cloning of an LSTM then
    # picked up another layer whenever an LSTM landed at a freed LSTM's address, and
    # loading failed ("different `go_backwards` value") in about one build in twenty.
    # Many builds in one scope make that address reuse all but certain.
    from keras.src.saving.serialization_lib import (
        ObjectSharingScope,  # what load_model enters
    )

    with ObjectSharingScope():
        models = [RecurrentVAEClassifier(CONFIG) for _ in range(60)]
    for model in models:
        encoder, decoder = model.encoder.get_layer("bilstm"), model.decoder.get_layer("bilstm")
        assert [encoder.forward_layer.go_backwards, encoder.backward_layer.go_backwards] == [False, True]
        assert [decoder.forward_layer.go_backwards, decoder.backward_layer.go_backwards] == [False, True]
        assert decoder.forward_layer.return_sequences and decoder.backward_layer.return_sequences
        assert not encoder.forward_layer.return_sequences and not encoder.backward_layer.return_sequences
