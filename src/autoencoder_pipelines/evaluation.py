"""Metrics of the evaluation nodes (pure NumPy)."""

from __future__ import annotations

import numpy as np


def rmse(y_true, y_pred) -> float:
    """Root mean squared error."""
    d = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64)
    return float(np.sqrt(np.mean(d**2)))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot."""
    y_true = np.asarray(y_true, np.float64)
    y_pred = np.asarray(y_pred, np.float64)
    ss_tot = np.sum((y_true - y_true.mean()) ** 2)
    if ss_tot == 0:
        raise ValueError("R² is undefined when every true value is the same.")
    return float(1.0 - np.sum((y_true - y_pred) ** 2) / ss_tot)


def nasa_score(y_true, y_pred) -> float:
    """PHM08 scoring function (Saxena et al. 2008), summed over engines.

    With ``d = predicted - true``: ``exp(-d/13) - 1`` for early predictions (d < 0) and
    ``exp(d/10) - 1`` for late ones, which are penalised harder.
    """
    d = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64)
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0)))


def nasa_offset(y_true, member_predictions, low: float, high: float, step: float = 0.1, limit: float = 25.0) -> float:
    """The offset ``d`` that minimises the mean NASA score of ``mean_i clip(p_i + d, low, high)``.

    The NASA score punishes a late estimate harder than an early one, so the estimate that
    minimises it lies below the mean: with errors of spread 13 cycles, about 3.4 cycles
    below. Fitted on validation windows, never on the test engines. Each member is
    offset and clipped before the mean, as ``models.Ensemble.predict`` does.

    Args:
        y_true: the windows' RUL labels, ``(n,)``.
        member_predictions: raw estimates, ``(members, n)`` (one row for a single model).
        low, high: the labels' range, which every estimate is clipped to.
        step, limit: ``d`` is searched on the multiples of ``step`` in ``[-limit, limit]``;
            the smallest ``|d|`` wins ties.

    Raises:
        ValueError: when the best offset is at the search limit (estimates biased by more
            than ``limit`` cycles: something is wrong with the model or the labels).
    """
    y_true = np.asarray(y_true, np.float64)
    predictions = np.atleast_2d(np.asarray(member_predictions, np.float64))
    if len(y_true) == 0 or predictions.shape[1] != len(y_true):
        raise ValueError(
            f"nasa_offset: {predictions.shape[1]} estimates per member for {len(y_true)} labels; expected one per "
            "label, and at least one."
        )
    n = int(round(limit / step))
    offsets = np.arange(-n, n + 1) * step
    order = np.argsort(np.abs(offsets), kind="stable")  # ties: the smallest |d|, then the negative one
    scores = np.array(
        [nasa_score(y_true, np.clip(predictions + offsets[i], low, high).mean(axis=0)) / len(y_true) for i in order]
    )
    best = float(offsets[order[int(np.argmin(scores))]])
    if abs(best) >= n * step:
        raise ValueError(
            f"nasa_offset: the best offset is the search limit ({best:+.1f} cycles): the estimates are biased by "
            f"more than {limit} cycles on these windows."
        )
    return round(best, 10)


def rul_metrics(y_true, y_pred) -> dict[str, float]:
    """RMSE, R² and NASA score of RUL predictions against the (capped) truth, and the count."""
    return {
        "rmse": rmse(y_true, y_pred),
        "r2": r2(y_true, y_pred),
        "nasa_score": nasa_score(y_true, y_pred),
        "n_engines": len(y_true),
    }


def per_image_mse(target, output) -> np.ndarray:
    """Mean squared error of each image, ``(n,)``, over all its pixels."""
    target = np.asarray(target, np.float64).reshape(len(target), -1)
    output = np.asarray(output, np.float64).reshape(len(output), -1)
    return np.mean((output - target) ** 2, axis=1)


def reconstruction_metrics(target, output, prefix: str = "") -> dict[str, float]:
    """``mse`` (over all pixels of all images) and ``psnr`` in dB for pixels in [0, 1].

    PSNR is ``10 log10(1 / MSE)`` of the whole set, the convention of image denoising
    tables (averaging per-image PSNRs would weight the easy images more).
    """
    mse = float(np.mean(per_image_mse(target, output)))
    return {f"{prefix}mse": mse, f"{prefix}psnr": float(10.0 * np.log10(1.0 / mse)) if mse > 0 else float("inf")}


def training_summary(history: dict[str, list[float]], monitor: str = "val_loss") -> dict[str, float]:
    """Epochs trained, the epoch training kept (1-based: the lowest ``monitor``, the training's
    ``monitor`` setting) and its validation loss (and ``monitor``), from a fit history."""
    best = int(np.argmin(history[monitor]))
    summary = {"epochs_trained": len(history[monitor]), "best_epoch": best + 1, "best_val_loss": float(history["val_loss"][best])}
    if monitor != "val_loss":
        summary[f"best_{monitor}"] = float(history[monitor][best])
    return summary


def classification_metrics(probabilities, y_true) -> dict:
    """Accuracy, macro-F1, the per-class report and the confusion matrix of ``argmax(probabilities)``."""
    from sklearn.metrics import (  # noqa: PLC0415 - scikit-learn loads in a second; only classifiers need it
        accuracy_score,
        classification_report,
        confusion_matrix,
        f1_score,
    )

    predicted = np.asarray(probabilities).argmax(axis=1)
    return {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "macro_f1": float(f1_score(y_true, predicted, average="macro")),
        "per_class": classification_report(y_true, predicted, output_dict=True, zero_division=0),
        "confusion_matrix": confusion_matrix(y_true, predicted, labels=range(np.shape(probabilities)[1])).tolist(),
    }


def code_usage(codes: np.ndarray, num_embeddings: int) -> dict[str, float]:
    """Perplexity ``exp(H(p))`` of the code histogram and the fraction of codes used.

    Perplexity is the effective number of codes: K when all are used equally, 1 when
    one code takes everything.
    """
    counts = np.bincount(np.asarray(codes).ravel(), minlength=num_embeddings).astype(np.float64)
    p = counts / counts.sum()
    nonzero = p[p > 0]
    return {"perplexity": float(np.exp(-np.sum(nonzero * np.log(nonzero)))), "codes_used": float(np.mean(counts > 0))}
