"""Loss terms and evaluation quantities of the MNIST models against hand or independent values."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops
from pydantic import ValidationError
from scipy.special import expit
from scipy.stats import multivariate_normal

from autoencoder_pipelines.evaluation import code_usage
from autoencoder_pipelines.models import VAE, AutoencoderConfig, VectorQuantizer
from autoencoder_pipelines.models.config import VQVAEConfig
from autoencoder_pipelines.models.losses import (
    bernoulli_nll,
    contractive_penalty,
    contractive_penalty_estimate,
    gaussian_log_density,
    kl_divergence,
    kl_sparsity,
    l1_activity,
    reconstruction_error,
)
from autoencoder_pipelines.models.vae import test_bounds


def np_(t):
    return ops.convert_to_numpy(t)


def test_kl_of_a_standard_normal_is_zero():
    zeros = np.zeros((3, 2), "float32")
    np.testing.assert_allclose(np_(kl_divergence(zeros, zeros)), 0.0, atol=1e-7)


def test_kl_sparsity_on_a_known_activation():
    # Two units whose batch means are 0.1 and 0.5, target 0.05.
    activations = np.array([[0.2, 0.4], [0.0, 0.6]], "float32")
    rho = 0.05

    def kl(p, q):
        return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))

    np.testing.assert_allclose(float(kl_sparsity(activations, rho)), kl(rho, 0.1) + kl(rho, 0.5), rtol=1e-5)
    # Zero exactly when every unit's mean activation is the target.
    np.testing.assert_allclose(float(kl_sparsity(np.full((4, 3), rho, "float32"), rho)), 0.0, atol=1e-6)


def test_l1_activity_is_the_mean_of_per_sample_sums():
    np.testing.assert_allclose(float(l1_activity(np.array([[1.0, -2.0], [0.5, 0.5]], "float32"))), (3 + 1) / 2)


def test_reconstruction_error_and_bernoulli_nll_by_hand():
    x = np.array([[0.0, 1.0, 0.5, 0.25]], "float32")
    p = np.array([[0.1, 0.8, 0.5, 0.5]], "float32")
    np.testing.assert_allclose(np_(reconstruction_error(x, p, "mse")), [np.mean((x - p) ** 2)], rtol=1e-6)
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p))
    np.testing.assert_allclose(np_(reconstruction_error(x, p, "binary_crossentropy")), [bce.mean()], rtol=1e-4)
    logits = np.log(p / (1 - p))
    np.testing.assert_allclose(np_(bernoulli_nll(x, logits)), [bce.sum()], rtol=1e-5)
    with pytest.raises(ValueError, match="Unknown reconstruction loss 'l2'"):
        reconstruction_error(x, p, "l2")


def test_gaussian_log_density_matches_scipy():
    z, mean, log_var = np.array([0.3, -1.0]), np.array([0.1, 0.5]), np.array([0.2, -0.7])
    expected = multivariate_normal(mean, np.diag(np.exp(log_var))).logpdf(z)
    np.testing.assert_allclose(float(gaussian_log_density(z, mean, log_var)), expected, rtol=1e-6)


def test_contractive_penalty_matches_a_finite_difference_jacobian():
    keras.utils.set_random_seed(1)
    encoder = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(7, activation="relu"), keras.layers.Dense(3, activation="tanh")]
    )
    x = np.random.default_rng(0).normal(size=(4, 5))
    f = lambda v: keras.ops.convert_to_numpy(encoder(v[None].astype("float32")))[0].astype(np.float64)  # noqa: E731
    h = 1e-3
    expected = []
    for sample in x:
        jac = np.stack([(f(sample + h * e) - f(sample - h * e)) / (2 * h) for e in np.eye(5)], axis=1)
        expected.append(np.sum(jac**2))
    np.testing.assert_allclose(np_(contractive_penalty(encoder, x.astype("float32"))), expected, rtol=2e-2)


def test_contractive_penalty_of_a_sigmoid_layer_matches_the_closed_form():
    # Rifai et al.: for h = sigmoid(Wx + b), ||J||^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ji^2.
    keras.utils.set_random_seed(2)
    layer = keras.layers.Dense(4, activation="sigmoid")
    encoder = keras.Sequential([keras.Input((6,)), layer])
    x = np.random.default_rng(1).normal(size=(3, 6)).astype("float32")
    w, b = (v.numpy() for v in layer.weights)
    hidden = expit(x @ w + b)
    expected = np.sum((hidden * (1 - hidden)) ** 2 * np.sum(w**2, axis=0), axis=1)
    np.testing.assert_allclose(np_(contractive_penalty(encoder, x)), expected, rtol=1e-5)


def test_contractive_penalty_estimate_is_unbiased_for_the_exact_norm():
    # One ±1 projection per sample: each draw is noisy, their mean is ||J||_F^2.
    keras.utils.set_random_seed(3)
    encoder = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(4, activation="tanh")]
    )
    x = np.random.default_rng(2).normal(size=(3, 6)).astype("float32")
    exact = np_(contractive_penalty(encoder, x))
    seed = keras.random.SeedGenerator(0)
    draws = np.stack([np_(contractive_penalty_estimate(encoder, x, seed)) for _ in range(400)])  # (400, 3)
    assert draws.shape == (400, 3)
    assert np.all(draws.std(axis=0) > 0.01 * exact)  # random, not the exact norm in disguise
    # 400 draws: the mean is within a few standard errors of the exact norm
    np.testing.assert_allclose(draws.mean(axis=0), exact, rtol=4 * draws.std(axis=0).max() / np.sqrt(400) / exact.min())


def test_vector_quantizer_picks_the_nearest_code():
    quantizer = VectorQuantizer(num_embeddings=3, embedding_dim=2)
    quantizer.build((None, 2))
    codebook = np.array([[0.0, 0.0], [1.0, 1.0], [-2.0, 0.0]], "float32")
    quantizer.embeddings.assign(codebook)
    inputs = np.array([[[0.9, 1.2], [-1.5, 0.1]], [[0.1, -0.2], [5.0, 5.0]]], "float32")  # (2, 2, 2)
    quantized, codes = quantizer(inputs)
    np.testing.assert_array_equal(np_(codes), [[1, 2], [0, 1]])
    np.testing.assert_array_equal(np_(quantized), codebook[[[1, 2], [0, 1]]])


def _ema_quantizer(**kwargs):
    quantizer = VectorQuantizer(num_embeddings=3, embedding_dim=2, codebook_update="ema", decay=0.5, epsilon=1e-12, **kwargs)
    quantizer.build((None, 2))
    codebook = np.array([[0.0, 0.0], [1.0, 1.0], [-2.0, 0.0]], "float32")
    quantizer.embeddings.assign(codebook)
    quantizer.embedding_sum.assign(codebook)  # one vector per code so far: N_k = 1
    return quantizer, codebook


# code 0 wins the first two vectors, code 1 the third, code 2 none
EMA_INPUTS = np.array([[0.2, 0.0], [0.0, 0.2], [1.2, 1.0]], "float32")


def test_ema_codebook_moves_each_code_to_the_moving_average_of_its_vectors():
    quantizer, codebook = _ema_quantizer()
    assert not quantizer.embeddings.trainable
    quantized, codes = quantizer(EMA_INPUTS, training=True)
    np.testing.assert_array_equal(np_(codes), [0, 0, 1])
    np.testing.assert_array_equal(np_(quantized), codebook[[0, 0, 1]])  # the codebook before the update
    # N = 0.5 * 1 + 0.5 * n = (1.5, 1, 0.5); m = 0.5 * m + 0.5 * sum of the assigned vectors
    np.testing.assert_allclose(np_(quantizer.cluster_size), [1.5, 1.0, 0.5])
    expected = np.array([[0.1, 0.1], [1.1, 1.0], [-1.0, 0.0]]) / np.array([[1.5], [1.0], [0.5]])
    np.testing.assert_allclose(np_(quantizer.embeddings), expected, rtol=1e-6)
    np.testing.assert_allclose(expected[2], codebook[2])  # an unused code stays where it was
    quantizer(EMA_INPUTS, training=False)  # inference reads the codebook, never moves it
    np.testing.assert_allclose(np_(quantizer.embeddings), expected, rtol=1e-6)


def test_ema_codebook_restarts_a_dead_code_at_an_encoder_output():
    quantizer, _ = _ema_quantizer(dead_code_threshold=0.75, seed=1)
    quantizer(EMA_INPUTS, training=True)
    embeddings, counts = np_(quantizer.embeddings), np_(quantizer.cluster_size)
    # code 2's count fell to 0.5 < 0.75: it restarts at one of this batch's vectors, with
    # the count of the threshold; the live codes are the moving averages, as without restarts
    assert any(np.array_equal(embeddings[2], row) for row in EMA_INPUTS)
    np.testing.assert_allclose(counts, [1.5, 1.0, 0.75])
    np.testing.assert_allclose(embeddings[:2], [[0.1 / 1.5, 0.1 / 1.5], [1.1, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(np_(quantizer.embedding_sum)[2], 0.75 * embeddings[2], rtol=1e-6)


def test_ema_smoothing_must_be_positive():
    # without it a code unused for long enough has a count of 0 (denormals flushed), and m_k / N_k = 0 / 0
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        VectorQuantizer(num_embeddings=3, embedding_dim=2, codebook_update="ema", epsilon=0.0)


def test_dead_code_restarts_need_the_ema_codebook():
    with pytest.raises(ValueError, match="dead_code_threshold=1.0 needs codebook_update='ema'"):
        VectorQuantizer(num_embeddings=3, embedding_dim=2, dead_code_threshold=1.0)
    with pytest.raises(ValidationError, match="dead_code_threshold=1.0 restarts codes"):
        VQVAEConfig(filters=(4,), embedding_dim=2, num_embeddings=3, dead_code_threshold=1.0)


def test_code_usage_perplexity_on_hand_made_histograms():
    uniform = code_usage(np.array([0, 1, 2, 3]), num_embeddings=8)
    assert uniform["perplexity"] == pytest.approx(4.0) and uniform["codes_used"] == 0.5
    assert code_usage(np.zeros(10, int), 4) == {"perplexity": pytest.approx(1.0), "codes_used": 0.25}
    skewed = code_usage(np.array([0, 0, 0, 1]), 2)["perplexity"]
    assert skewed == pytest.approx(np.exp(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25))))


def test_iwae_bound_is_above_the_elbo_and_both_are_consistent():
    keras.utils.set_random_seed(0)
    model = VAE(dict(input_shape=(12,), hidden_units=(6,), latent_dim=2))
    x = np.random.default_rng(0).random((20, 12)).astype("float32")
    one = test_bounds(model, x, num_samples=1, seed=3)
    many = test_bounds(model, x, num_samples=200, seed=3)
    # ELBO = -(reconstruction + KL); with one sample the IWAE estimate is that sample's ELBO.
    np.testing.assert_allclose(many["elbo"], -(many["reconstruction"] + many["kl"]), rtol=1e-6)
    assert np.all(many["iwae"] >= many["elbo"] - 1e-3)
    assert many["iwae"].mean() > one["iwae"].mean()
    np.testing.assert_allclose(one["kl"], many["kl"], rtol=1e-6)  # closed form, no sampling


def test_kl_sparsity_needs_sigmoid_codes():
    with pytest.raises(ValidationError, match="latent_activation='sigmoid'"):
        AutoencoderConfig(hidden_units=(8,), latent_dim=4, latent_activation="relu", reconstruction_loss="mse", sparsity="kl")


def test_our_time_distributed_dense_computes_keras_one_and_loads_its_weights(tmp_path):
    from autoencoder_pipelines.models.layers import TimeDistributed

    def decoder(wrapper):
        keras.utils.set_random_seed(4)
        inputs = keras.Input((7, 5))
        return keras.Model(inputs, wrapper(keras.layers.Dense(3), name="reconstruction")(inputs))

    keras_own, ours = decoder(keras.layers.TimeDistributed), decoder(TimeDistributed)
    keras_own.save_weights(tmp_path / "time_distributed.weights.h5")  # as a model saved before the change
    ours.load_weights(tmp_path / "time_distributed.weights.h5")
    for a, b in zip(keras_own.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(3).normal(size=(4, 7, 5)).astype("float32")
    np.testing.assert_allclose(np_(ours(x)), np_(keras_own(x)), rtol=1e-6, atol=1e-6)
    with pytest.raises(TypeError, match="wraps a Dense layer"):
        TimeDistributed(keras.layers.LSTM(2))
