"""Loss terms as pure tensor functions (backend-agnostic ``keras.ops``)."""

from __future__ import annotations

import math

import keras
from keras import ops


def kl_divergence(z_mean, z_log_var):
    """KL(N(mu, sigma^2) || N(0, I)) per sample, summed over latent dimensions.

    Closed form for diagonal Gaussians:
    ``-1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)``; zero iff mu = 0, sigma = 1.

    Returns:
        Tensor of shape ``(batch,)``.
    """
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def masked_mse(y_true, y_pred, mask=None):
    """Mean squared error per sample over time steps and features, skipping masked steps.

    Args:
        y_true, y_pred: ``(batch, time, features)``.
        mask: optional ``(batch, time)``, 1 for real steps, 0 for padding.

    Returns:
        Tensor of shape ``(batch,)``.
    """
    squared = ops.mean(ops.square(y_true - y_pred), axis=-1)  # (batch, time)
    if mask is None:
        return ops.mean(squared, axis=-1)
    mask = ops.cast(mask, squared.dtype)
    return ops.sum(squared * mask, axis=-1) / ops.maximum(ops.sum(mask, axis=-1), 1.0)


def reconstruction_error(y_true, y_pred, kind: str):
    """Per-sample reconstruction loss averaged over all pixels.

    Args:
        y_true, y_pred: ``(batch, ...)`` in [0, 1].
        kind: ``"mse"`` or ``"binary_crossentropy"`` (cross-entropy of continuous targets).

    Returns:
        Tensor of shape ``(batch,)``.
    """
    # In float32 whatever the compute dtype: under mixed precision Keras casts a model's
    # inputs (the targets here) to bfloat16 / float16.
    y_true = ops.reshape(ops.cast(y_true, "float32"), (ops.shape(y_true)[0], -1))
    y_pred = ops.reshape(ops.cast(y_pred, "float32"), (ops.shape(y_pred)[0], -1))
    if kind == "mse":
        return ops.mean(ops.square(y_true - y_pred), axis=-1)
    if kind == "binary_crossentropy":
        return ops.mean(ops.binary_crossentropy(y_true, y_pred), axis=-1)
    raise ValueError(f"Unknown reconstruction loss {kind!r}; expected 'mse' or 'binary_crossentropy'.")


def bernoulli_nll(x, logits):
    """``-log p(x | logits)`` per sample, summed over pixels, for targets in [0, 1].

    ``-sum_i [x_i log sigmoid(l_i) + (1 - x_i) log(1 - sigmoid(l_i))]``, computed from
    the logits for stability (the "continuous MNIST" convention: grey values are used
    as they are, not binarised).

    Returns:
        Tensor of shape ``(batch,)``.
    """
    x = ops.reshape(ops.cast(x, "float32"), (ops.shape(x)[0], -1))  # float32, as in reconstruction_error
    logits = ops.reshape(ops.cast(logits, "float32"), (ops.shape(logits)[0], -1))
    return ops.sum(ops.binary_crossentropy(x, logits, from_logits=True), axis=-1)


def gaussian_log_density(z, mean, log_var):
    """``log N(z; mean, diag(exp(log_var)))`` summed over the last axis."""
    return -0.5 * ops.sum(math.log(2.0 * math.pi) + log_var + ops.square(z - mean) * ops.exp(-log_var), axis=-1)


def kl_sparsity(activations, target: float):
    """Sparsity penalty of Ng's sparse autoencoder notes:
    ``sum_j KL(rho || rho_hat_j)``, where ``rho_hat_j`` is unit ``j``'s mean activation
    over the batch and ``KL(p || q) = p log(p/q) + (1-p) log((1-p)/(1-q))``.

    Args:
        activations: ``(batch, units)`` in (0, 1), e.g. sigmoid codes.
        target: rho, the desired mean activation.

    Returns:
        A scalar; zero iff every unit's mean activation equals ``target``.
    """
    eps = 1e-7
    rho_hat = ops.clip(ops.mean(activations, axis=0), eps, 1.0 - eps)
    return ops.sum(target * ops.log(target / rho_hat) + (1 - target) * ops.log((1 - target) / (1 - rho_hat)))


def l1_activity(activations):
    """Mean absolute activation per sample, summed over units, averaged over the batch."""
    return ops.mean(ops.sum(ops.abs(activations), axis=-1))


def contractive_penalty(encoder, x):
    """Squared Frobenius norm of the encoder's Jacobian, ``||d f(x) / d x||_F^2``, per sample.

    Computed by automatic differentiation of the encoder as it is (any depth, any
    activation), not by the closed form that holds only for a single sigmoid layer
    (Rifai et al. 2011). Keras ops have no Jacobian, so this is the one backend-specific
    function of the library: TensorFlow's ``batch_jacobian`` and JAX's ``vmap(jacrev)``
    each give the ``(batch, latent, *input)`` Jacobian in one vectorised pass, and the
    training step differentiates through it.

    Returns:
        Tensor of shape ``(batch,)``.

    Raises:
        NotImplementedError: on a Keras backend other than TensorFlow and JAX.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # noqa: PLC0415 - only on the TensorFlow backend

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            code = encoder(x, training=True)
        jacobian = tape.batch_jacobian(code, x)  # (batch, latent, *input)
        return tf.reduce_sum(tf.reshape(tf.square(jacobian), (tf.shape(x)[0], -1)), axis=-1)
    if backend == "jax":
        import jax  # noqa: PLC0415 - only on the JAX backend

        def code_of_one(sample):  # (*input) -> (latent,)
            return encoder(sample[None], training=True)[0]

        jacobian = jax.vmap(jax.jacrev(code_of_one))(ops.convert_to_tensor(x))  # (batch, latent, *input)
        return ops.sum(ops.reshape(ops.square(jacobian), (ops.shape(x)[0], -1)), axis=-1)
    raise NotImplementedError(
        f"contractive_penalty needs a Jacobian, implemented for the tensorflow and jax Keras backends; "
        f"the backend is {backend!r}."
    )


def contractive_penalty_estimate(encoder, x, seed):
    """An unbiased estimate of ``||d f(x) / d x||_F^2`` per sample, from one random projection.

    With ``u`` a random vector of the code's size whose entries are independent ``±1``
    (Rademacher; Hutchinson 1990), ``E[u u^T] = I``, so ``E ||J^T u||^2 = trace(J J^T) =
    ||J||_F^2``. ``J^T u`` is one vector-Jacobian product: one backward pass of the encoder
    per batch, against one per code unit for the exact Jacobian (:func:`contractive_penalty`),
    so the penalty costs about as much as the reconstruction's own backward pass. Each sample
    draws its own ``u``, so the batch mean averages ``batch`` independent estimates.

    Args:
        encoder: the encoder ``f``.
        x: a batch of inputs.
        seed: a ``keras.random.SeedGenerator`` (the model's, reset per epoch in training) or an int.

    Returns:
        Tensor of shape ``(batch,)``.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # noqa: PLC0415 - only on the TensorFlow backend

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            code = encoder(x, training=True)
            signs = _rademacher(ops.shape(code), code.dtype, seed)
            projected = tf.reduce_sum(code * signs)
        vjp = tape.gradient(projected, x)  # (batch, *input): J^T u of every sample
    elif backend == "jax":
        import jax  # noqa: PLC0415 - only on the JAX backend

        code, pullback = jax.vjp(lambda inputs: encoder(inputs, training=True), ops.convert_to_tensor(x))
        (vjp,) = pullback(_rademacher(ops.shape(code), code.dtype, seed))
    else:
        raise NotImplementedError(
            f"contractive_penalty_estimate needs a vector-Jacobian product, implemented for the tensorflow and jax "
            f"Keras backends; the backend is {backend!r}."
        )
    return ops.sum(ops.reshape(ops.square(vjp), (ops.shape(x)[0], -1)), axis=-1)


def _rademacher(shape, dtype, seed):
    """Independent ``±1`` entries, each sign with probability 1/2."""
    return ops.cast(keras.random.randint(shape, 0, 2, seed=seed), dtype) * 2.0 - 1.0


def vq_losses(z_e, z_q):
    """Codebook and commitment losses of the VQ-VAE (van den Oord et al. 2017).

    ``codebook = ||sg[z_e] - z_q||^2`` moves the chosen codes towards the encoder
    outputs; ``commitment = ||z_e - sg[z_q]||^2`` keeps the encoder close to its codes
    (weighted by beta by the caller). Means over all elements.
    """
    codebook = ops.mean(ops.square(ops.stop_gradient(z_e) - z_q))
    commitment = ops.mean(ops.square(z_e - ops.stop_gradient(z_q)))
    return codebook, commitment
