"""Behaviour of the dense autoencoders that the peer got wrong: the denoising target,
the sparsity penalty reaching the loss, and the contractive penalty shrinking the Jacobian."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from autoencoder_pipelines.models import Autoencoder, ContractiveAutoencoder
from autoencoder_pipelines.models.losses import (
    contractive_penalty,
    reconstruction_error,
)
from tests.conftest import make_digits

IMAGES, _ = make_digits(400, seed=3)
X = (IMAGES.reshape(400, -1) / 255.0).astype("float32")
BASE = dict(input_shape=(784,), hidden_units=(32,), latent_dim=8, reconstruction_loss="binary_crossentropy", seed=0)


def _fit(model_class, config, epochs=8):
    keras.utils.set_random_seed(0)
    model = model_class(config)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(X, X, batch_size=50, epochs=epochs, verbose=0, shuffle=False)
    return model


def test_the_denoising_loss_compares_the_output_with_the_clean_target():
    model = Autoencoder({**BASE, "latent_activation": "linear"})
    noisy = np.clip(X + 0.3 * np.random.default_rng(0).normal(size=X.shape), 0, 1).astype("float32")
    # An untrained decoder outputs about 0.5 everywhere, where the cross-entropy is log 2 whatever
    # the target; a reconstruction close to the clean images tells the two targets apart.
    outputs = {**model(noisy), "reconstruction": ops.convert_to_tensor(np.clip(X, 0.05, 0.95))}
    expected = ops.mean(reconstruction_error(X, outputs["reconstruction"], "binary_crossentropy"))
    np.testing.assert_allclose(float(model.compute_loss(noisy, X, outputs)), float(expected), rtol=1e-6)
    assert float(model.compute_loss(noisy, noisy, outputs)) > 1.5 * float(expected)


def test_the_sparsity_penalty_reaches_the_loss_and_makes_codes_sparser():
    sigmoid = {**BASE, "latent_activation": "sigmoid"}
    plain = _fit(Autoencoder, sigmoid)
    sparse = _fit(Autoencoder, {**sigmoid, "sparsity": "kl", "sparsity_weight": 1.0, "sparsity_target": 0.05})
    outputs = sparse(X)
    assert float(sparse.compute_loss(X, X, outputs)) > float(
        ops.mean(reconstruction_error(X, outputs["reconstruction"], "binary_crossentropy"))
    )
    plain_activation, sparse_activation = (float(np.mean(m.encode(X))) for m in (plain, sparse))
    assert sparse_activation < 0.5 * plain_activation
    assert sparse_activation < 0.15


def test_the_l1_penalty_also_makes_relu_codes_sparser():
    relu = {**BASE, "latent_activation": "relu"}
    plain = _fit(Autoencoder, relu)
    sparse = _fit(Autoencoder, {**relu, "sparsity": "l1", "sparsity_weight": 0.05})
    assert float(np.mean(sparse.encode(X))) < 0.5 * float(np.mean(plain.encode(X)))


@pytest.mark.parametrize("jacobian", ["exact", "projection"])
def test_the_contractive_penalty_lowers_the_jacobian_norm(jacobian, tmp_path):
    config = {**BASE, "latent_activation": "linear", "jacobian": jacobian}
    plain = _fit(ContractiveAutoencoder, {**config, "contractive_weight": 0.0})
    contractive = _fit(ContractiveAutoencoder, {**config, "contractive_weight": 0.05})
    norm = lambda m: float(np.mean(ops.convert_to_numpy(contractive_penalty(m.encoder, X))))  # noqa: E731
    assert norm(contractive) < 0.5 * norm(plain)  # the exact norm, whichever penalty trained
    contractive.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.config.jacobian == jacobian
    np.testing.assert_array_equal(loaded.encode(X), contractive.encode(X))


# A convolutional VAE classifier small enough to build in a test, with no augmentation.
TINY_VAE_CLASSIFIER = dict(
    input_shape=(28, 28, 1),
    filters=(4, 8),
    dense_units=8,
    latent_dim=2,
    classifier_units=8,
    reconstruction_weight=1.0,
    kl_weight=1.0,
    classification_weight=1.0,
    seed=0,
)


def test_vae_classifier_shifts_images_in_training_only_and_reconstructs_the_shifted_one():
    from autoencoder_pipelines.models import VAEClassifier

    images = X.reshape(-1, 28, 28, 1)[:8]
    model = VAEClassifier({**TINY_VAE_CLASSIFIER, "translation": 0.2})
    np.testing.assert_array_equal(ops.convert_to_numpy(model(images)["input"]), images)
    shifted = ops.convert_to_numpy(model(images, training=True)["input"])
    assert not np.allclose(shifted, images)
    assert shifted.sum() == pytest.approx(images.sum(), rel=0.35)  # moved, mostly not cut off


def test_vae_classifier_rotates_images_in_training_only_about_the_centre():
    from autoencoder_pipelines.models import VAEClassifier

    images = X.reshape(-1, 28, 28, 1)[:8]
    model = VAEClassifier({**TINY_VAE_CLASSIFIER, "rotation": 0.1})
    np.testing.assert_array_equal(ops.convert_to_numpy(model(images)["input"]), images)
    rotated = ops.convert_to_numpy(model(images, training=True)["input"])
    assert not np.allclose(rotated, images)

    def centre_and_axis(batch):
        """Distance of each image's centre of mass from the image centre, and the angle of its bar."""
        rows, cols = np.mgrid[0:28, 0:28] - 13.5
        mass = batch[..., 0] / batch[..., 0].sum(axis=(1, 2), keepdims=True)
        r, c = (mass * rows).sum((1, 2)), (mass * cols).sum((1, 2))
        rr, cc, rc = (mass * rows**2).sum((1, 2)), (mass * cols**2).sum((1, 2)), (mass * rows * cols).sum((1, 2))
        return np.hypot(r, c), 0.5 * np.arctan2(2 * rc, rr - cc)

    (distance, axis), (rotated_distance, rotated_axis) = centre_and_axis(images), centre_and_axis(rotated)
    # About the image centre: the centre of mass stays put (a shift would move it) ...
    np.testing.assert_allclose(rotated_distance, distance, atol=0.5)
    # ... and the bar turns, by at most a tenth of a full turn (36 degrees).
    turn = np.abs((rotated_axis - axis + np.pi / 2) % np.pi - np.pi / 2)
    assert turn.max() <= 0.1 * 2 * np.pi + 0.05
    assert np.median(turn) > 0.02
    # Without the option the model has no rotation layer: the layers (and a saved model's
    # contents) are those of a model from before the option existed.
    assert VAEClassifier(TINY_VAE_CLASSIFIER).rotate is None
