"""MLP variational autoencoder with a Bernoulli likelihood (Kingma & Welling, ICLR 2014),
and its test-time bounds: the ELBO and the importance-weighted estimate of log p(x)
(Burda, Grosse & Salakhutdinov, ICLR 2016).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from autoencoder_pipelines.models.architectures import (
    build_dense_decoder,
    build_dense_encoder,
)
from autoencoder_pipelines.models.base import ConfiguredModel
from autoencoder_pipelines.models.config import VAEConfig
from autoencoder_pipelines.models.layers import Sampling
from autoencoder_pipelines.models.losses import (
    bernoulli_nll,
    gaussian_log_density,
    kl_divergence,
)


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class VAE(ConfiguredModel):
    """Gaussian encoder q(z|x), standard normal prior, Bernoulli decoder p(x|z).

    ``call`` returns ``z_mean``, ``z_log_var``, ``z`` (sampled in training, the mean
    otherwise), ``logits`` and ``reconstruction`` (``sigmoid(logits)``), images shaped
    like the input.

    Loss: ``-ELBO = E_q[-log p(x|z)] + kl_weight * KL(q(z|x) || p(z))`` in nats per
    image, the reconstruction term estimated with one sample.
    """

    config_class = VAEConfig

    def __init__(self, config: VAEConfig | dict, **kwargs):
        super().__init__(config, **kwargs)
        c = self.config
        self.encoder = build_dense_encoder(
            c.input_shape, c.hidden_units, "relu", {"z_mean": (c.latent_dim, None), "z_log_var": (c.latent_dim, None)}
        )
        self.sampling = Sampling(seed=c.seed, name="sampling")
        self.decoder = build_dense_decoder(c.latent_dim, tuple(reversed(c.hidden_units)), "relu", c.input_shape, None)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.sampling.build([(None, c.latent_dim)] * 2)
        self.built = True

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        logits = self.decoder(z, training=training)
        return {"z_mean": z_mean, "z_log_var": z_log_var, "z": z, "logits": logits, "reconstruction": ops.sigmoid(logits)}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        target = x if y is None else y
        reconstruction = ops.mean(bernoulli_nll(target, y_pred["logits"]))
        kl = ops.mean(kl_divergence(y_pred["z_mean"], y_pred["z_log_var"]))
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return reconstruction + self.config.kl_weight * kl

    def encode(self, x, batch_size: int = 1024) -> np.ndarray:
        """Latent means ``(N, latent_dim)``."""
        return self.encoder.predict(x, batch_size=batch_size, verbose=0)[0]

    def decode(self, z, batch_size: int = 1024) -> np.ndarray:
        """Mean images ``sigmoid(logits)`` for latent codes ``(N, latent_dim)``."""
        logits = self.decoder.predict(np.asarray(z, dtype="float32"), batch_size=batch_size, verbose=0)
        return 1.0 / (1.0 + np.exp(-logits))


def test_bounds(model: VAE, x: np.ndarray, num_samples: int, batch_size: int = 100, seed: int = 0) -> dict[str, np.ndarray]:
    """Per-image bounds on ``log p(x)`` from ``num_samples`` draws of ``q(z|x)``.

    With ``log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x)``, ``z_k ~ q(z|x)``:

    - ``elbo``: ``mean_k log p(x|z_k) - KL(q || p)`` (KL in closed form);
    - ``iwae``: ``log (1/K) sum_k w_k``, the importance-weighted bound, tighter than the
      ELBO and converging to ``log p(x)`` as ``K`` grows;
    - ``reconstruction`` (``-mean_k log p(x|z_k)``) and ``kl``, the ELBO's two terms.

    Returns:
        ``{"elbo", "iwae", "reconstruction", "kl"}``, each of shape ``(N,)``, in nats.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {"elbo": [], "iwae": [], "reconstruction": [], "kl": []}
    for start in range(0, len(x), batch_size):
        xb = ops.convert_to_tensor(x[start : start + batch_size], dtype="float32")
        n = ops.shape(xb)[0]
        z_mean, z_log_var = model.encoder(xb, training=False)
        eps = rng.standard_normal((num_samples, n, model.config.latent_dim)).astype("float32")
        z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * eps  # (K, B, L)
        logits = model.decoder(ops.reshape(z, (num_samples * n, -1)), training=False)
        x_rep = ops.repeat(xb[None], num_samples, axis=0)
        log_px_z = -ops.reshape(bernoulli_nll(ops.reshape(x_rep, (num_samples * n, -1)), logits), (num_samples, n))
        log_pz = gaussian_log_density(z, ops.zeros_like(z), ops.zeros_like(z))
        log_qz = gaussian_log_density(z, z_mean[None], z_log_var[None])
        log_w = log_px_z + log_pz - log_qz  # (K, B)
        kl = kl_divergence(z_mean, z_log_var)
        reconstruction = -ops.mean(log_px_z, axis=0)
        out["iwae"].append(ops.convert_to_numpy(ops.logsumexp(log_w, axis=0) - math.log(num_samples)))
        out["elbo"].append(ops.convert_to_numpy(-reconstruction - kl))
        out["reconstruction"].append(ops.convert_to_numpy(reconstruction))
        out["kl"].append(ops.convert_to_numpy(kl))
    return {k: np.concatenate(v).astype(np.float64) for k, v in out.items()}


test_bounds.__test__ = False  # not a pytest test, despite the name
