"""Loss terms as pure tensor functions (backend-agnostic ``keras.ops``)."""

from __future__ import annotations

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
