"""Figures of the evaluation nodes, returned as matplotlib ``Figure`` objects.

Figures are built with the object API (no ``pyplot`` state, no ``show``); the catalog
saves them as PNG. Matplotlib loads when a figure is drawn, not when a pipeline that
draws one is defined; nodes annotate their figures as ``plotting.Figure``, which this
module resolves on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def __getattr__(name: str) -> Any:
    if name == "Figure":
        from matplotlib.figure import Figure  # noqa: PLC0415

        return Figure
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def health_map_figure(
    train_latent: pd.DataFrame,
    test_latent: pd.DataFrame,
    max_rul: float,
    column: str = "true_rul_capped",
    title: str = "test engines (last window), true RUL",
) -> Figure:
    """The 2-D latent space (health map) of training and test windows, coloured by RUL.

    Where ``test_latent`` has them, each engine's marker grows with the width of its RUL
    interval (``rul_lower``, ``rul_upper``: a big marker is an uncertain answer), and the
    engines flagged out of distribution (``ood``) are ringed in red.

    Args:
        train_latent: columns ``z_1``, ``z_2``, ``RUL`` (one row per training window).
        test_latent: columns ``z_1``, ``z_2`` and ``column`` (last window of each engine).
        max_rul: upper end of the colour scale.
        column: the RUL column of ``test_latent`` that colours it (true or predicted).
        title: what the right panel shows.
    """
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(12, 5.5), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    axes[0].scatter(train_latent["z_1"], train_latent["z_2"], c=train_latent["RUL"], cmap="viridis", vmin=0, vmax=max_rul, s=4)
    axes[0].set_title("Health map: training windows")
    # The training windows, in grey, give the test engines their context.
    axes[1].scatter(train_latent["z_1"], train_latent["z_2"], c="lightgrey", s=3)
    has_intervals = {"rul_lower", "rul_upper"} <= set(test_latent.columns)
    sizes = np.full(len(test_latent), 22.0)
    if has_intervals:
        sizes = 8.0 + 100.0 * (test_latent["rul_upper"] - test_latent["rul_lower"]).to_numpy(np.float64) / max_rul
    points = axes[1].scatter(
        test_latent["z_1"],
        test_latent["z_2"],
        c=test_latent[column],
        cmap="viridis",
        vmin=0,
        vmax=max_rul,
        s=sizes,
        edgecolors="black",
        linewidths=0.4,
    )
    flagged = test_latent["ood"].to_numpy(bool) if "ood" in test_latent.columns else np.zeros(len(test_latent), bool)
    if flagged.any():
        axes[1].scatter(
            test_latent["z_1"][flagged],
            test_latent["z_2"][flagged],
            s=sizes[flagged] * 2.5 + 20,
            facecolors="none",
            edgecolors="red",
            linewidths=1.2,
            label=f"out of distribution ({int(flagged.sum())})",
        )
        axes[1].legend(loc="best", fontsize=8)
    axes[1].set_title(f"Health map: {title}" + (" (marker size: interval width)" if has_intervals else ""))
    for ax in axes:
        ax.set_xlabel("z_1")
    axes[0].set_ylabel("z_2")
    fig.colorbar(points, ax=axes, label="RUL (cycles)")
    return fig


def rul_per_engine_figure(predictions: pd.DataFrame) -> Figure:
    """Predicted and true RUL of every test engine, engines sorted by true RUL; where the
    predictions have them, each estimate's interval (a bar) and the engines flagged out of
    distribution (a red cross)."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    ordered = predictions.sort_values("true_rul_capped").reset_index(drop=True)
    x = np.arange(len(ordered))
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(x, ordered["true_rul_capped"], color="black", lw=2, label="true RUL (capped)")
    ax.scatter(x, ordered["predicted_rul"], color="tab:red", s=14, label="predicted RUL", zorder=3)
    title = "Predicted vs true RUL per test engine"
    if {"rul_lower", "rul_upper"} <= set(ordered.columns):
        ax.vlines(x, ordered["rul_lower"], ordered["rul_upper"], color="tab:blue", alpha=0.35, lw=3, label="interval")
        inside = (ordered["true_rul_capped"] >= ordered["rul_lower"]) & (ordered["true_rul_capped"] <= ordered["rul_upper"])
        title += f": {inside.mean():.0%} of the true RULs inside their interval"
    else:
        ax.vlines(x, ordered["true_rul_capped"], ordered["predicted_rul"], color="tab:red", alpha=0.3)
    if "ood" in ordered.columns and ordered["ood"].any():
        flagged = ordered["ood"].astype(bool).to_numpy()
        ax.scatter(
            x[flagged],
            ordered["predicted_rul"][flagged],
            marker="x",
            color="red",
            s=60,
            zorder=4,
            label=f"out of distribution ({int(flagged.sum())})",
        )
    ax.set_xlabel("test engine (sorted by true RUL)")
    ax.set_ylabel("RUL (cycles)")
    ax.set_title(title)
    ax.legend()
    return fig


def image_rows_figure(rows: dict[str, np.ndarray], n: int = 10) -> Figure:
    """A grid of images: one row per entry of ``rows`` (e.g. noisy / denoised / clean),
    the first ``n`` images of each side by side."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(1.2 * n, 1.3 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(np.asarray(images[c]).reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    return fig


def latent_scatter_figure(
    z: np.ndarray,
    labels: np.ndarray,
    title: str,
    xlabel: str = "z_1",
    ylabel: str = "z_2",
    n_classes: int = 10,
    label_name: str = "digit",
) -> Figure:
    """2-D codes coloured by class (digit by default)."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(7, 6), layout="constrained")
    ax = fig.subplots()
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=n_classes - 0.5, s=2)
    fig.colorbar(points, ax=ax, ticks=range(n_classes), label=label_name)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


def latent_grid_figure(images: np.ndarray, grid_values: np.ndarray) -> Figure:
    """Digits decoded from a regular grid of the 2-D latent plane.

    Args:
        images: ``(len(grid_values)**2, 28, 28[, 1])``, row-major, ``z_2`` decreasing down
            the rows so the picture reads like the scatter plot.
        grid_values: the coordinates along each axis.
    """
    from matplotlib.figure import Figure  # noqa: PLC0415

    n = len(grid_values)
    canvas = np.asarray(images).reshape(n, n, 28, 28).transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    fig = Figure(figsize=(8, 8), layout="constrained")
    ax = fig.subplots()
    lo, hi = float(grid_values[0]), float(grid_values[-1])
    ax.imshow(canvas, cmap="gray", extent=(lo, hi, lo, hi))
    ax.set_xlabel("z_1")
    ax.set_ylabel("z_2")
    ax.set_title("Digits decoded from the latent plane")
    return fig


def code_map_figure(images: np.ndarray, codes: np.ndarray, reconstructions: np.ndarray, n: int = 8) -> Figure:
    """VQ-VAE: each image, its map of codebook indices, and its reconstruction."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(1.6 * n, 5), layout="constrained")
    axes = fig.subplots(3, n, squeeze=False)
    for c in range(n):
        axes[0, c].imshow(np.asarray(images[c]).reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[1, c].imshow(codes[c], cmap="tab20", interpolation="nearest")
        axes[2, c].imshow(np.asarray(reconstructions[c]).reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        for r in range(3):
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
    for r, label in enumerate(("input", "codes", "reconstruction")):
        axes[r, 0].set_ylabel(label)
    return fig


def confusion_matrix_figure(matrix: np.ndarray, label_name: str, title: str = "Confusion matrix (test set)") -> Figure:
    """Counts of true (rows) vs predicted (columns) classes; ``label_name`` names them
    on the axes ("digit", "class")."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(np.log1p(matrix), cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color="white" if count > matrix.max() / 2 else "black")
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_yticks(range(matrix.shape[0]))
    ax.set_xlabel(f"predicted {label_name}")
    ax.set_ylabel(f"true {label_name}")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="log(1 + count)")
    return fig


def code_activity_figure(codes: np.ndarray, threshold: float) -> Figure:
    """Sparse autoencoder: mean activation of each code unit, and a histogram of all values."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(12, 4), layout="constrained")
    units, values = fig.subplots(1, 2)
    units.bar(np.arange(codes.shape[1]), codes.mean(axis=0), color="tab:blue")
    units.set_xlabel("code unit")
    units.set_ylabel("mean activation (test set)")
    units.set_title(f"Mean code activation {codes.mean():.3f}")
    values.hist(codes.ravel(), bins=50, color="tab:blue", log=True)
    values.axvline(threshold, color="tab:red", ls="--", label=f"active above {threshold}")
    values.set_xlabel("activation")
    values.set_ylabel("count (log)")
    values.legend()
    return fig


def series_reconstruction_figure(series: np.ndarray, reconstructions: np.ndarray, labels: np.ndarray, block_days: int) -> Figure:
    """A few patients' smoothed AF-burden series and their reconstructions."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    n = len(series)
    fig = Figure(figsize=(4 * n, 3.2), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    years = np.arange(series.shape[1]) * block_days / 365.0
    for ax, x, r, label in zip(axes, series, reconstructions, labels):
        ax.plot(years, np.ravel(x), color="black", lw=1.5, label="series")
        ax.plot(years, np.ravel(r), color="tab:red", lw=1.2, ls="--", label="reconstruction")
        ax.set_title(f"class {int(label)}")
        ax.set_xlabel("years")
    axes[0].set_ylabel("AF burden (smoothed)")
    axes[0].legend()
    return fig


def reliability_figure(tables: dict[str, dict[str, list[float]]], errors: dict[str, float]) -> Figure:
    """Reliability diagram: per confidence bin, the accuracy against the mean confidence,
    one line per set of probabilities (``uncertainty.reliability_table``), with each one's
    expected calibration error in the legend; the diagonal is perfect calibration."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(6, 5.5), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    for name, table in tables.items():
        ax.plot(table["confidence"], table["accuracy"], marker="o", label=f"{name} (ECE {errors[name]:.4f})")
    ax.set_xlabel("confidence (top class probability)")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability diagram (test patients)")
    ax.legend(loc="upper left")
    return fig


def message_figure(title: str, message: str) -> Figure:
    """A figure that states why there is nothing to plot (e.g. no champion model yet)."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return fig
